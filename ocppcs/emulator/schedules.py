# -*- test-case-name: tests.emulator.test_smartcharging -*-
"""
The arithmetic of OCPP 1.6 charging profiles: their times, validity,
recurrences, the period in force at an instant, the next instant a limit
changes, unit conversion, the checks a profile must pass before it is
installed, and the split of the station's limit across its connectors. Used
by L{ocppcs.emulator.smartcharging}, which re-exports L{share_station_limit}.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from ocppcs.emulator.spec import ConnectorSpec

CP_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSES = (CP_MAX, TX_DEFAULT, TX)
SAME_PERIOD = ("limit", "numberPhases")
RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(weeks=1)}
# Longer than the longest recurrence, so a window this long shows every change
# a recurring profile can bring.
LOOKAHEAD = timedelta(days=8)
FAR = datetime(9999, 1, 1, tzinfo=UTC)


def parse_time(text: str) -> datetime:
    """
    Read an ISO 8601 time as OCPP sends it.

    @param text: e.g. C{"2026-01-05T10:00:00Z"} or C{"2026-01-05T12:00:00+02:00"};
        a time without an offset is taken as UTC.
    @return: the time, aware, in UTC.
    @raise ValueError: C{text} is not an ISO 8601 time.
    """
    return as_utc(datetime.fromisoformat(text))


def format_time(dt: datetime) -> str:
    """
    Write a time as OCPP text.

    @param dt: the time; a naive one is taken as UTC.
    @return: UTC with milliseconds and a C{Z}, e.g. C{"2026-01-05T10:00:00.000Z"}.
    """
    dt = as_utc(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{dt.microsecond // 1000:03d}Z"


def as_utc(dt: datetime) -> datetime:
    """C{dt} in UTC; a naive C{dt} is taken as UTC."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def profile_time(profile: dict[str, Any], key: str) -> datetime | None:
    """The time at C{key} of C{profile}, or C{None} when absent."""
    text = profile.get(key)
    return None if text is None else parse_time(text)


def is_valid_at(profile: dict[str, Any], t: datetime) -> bool:
    """Whether C{t} is within C{profile}'s C{validFrom}/C{validTo}."""
    valid_from, valid_to = profile_time(profile, "validFrom"), profile_time(profile, "validTo")
    return (valid_from is None or valid_from <= t) and (valid_to is None or t < valid_to)


def is_recurring(profile: dict[str, Any]) -> bool:
    """Whether C{profile} repeats: Recurring, with a start and a known C{recurrencyKind}."""
    return (
        profile["chargingProfileKind"] == "Recurring"
        and profile["chargingSchedule"].get("startSchedule") is not None
        and profile.get("recurrencyKind") in RECURRENCE
    )


def is_anchored(profile: dict[str, Any]) -> bool:
    """Whether C{profile} runs at set times: Recurring, or Absolute with a C{startSchedule}."""
    return is_recurring(profile) or (
        profile["chargingProfileKind"] == "Absolute"
        and profile["chargingSchedule"].get("startSchedule") is not None
    )


def occurrences(
    profile: dict[str, Any], t_from: datetime, t_to: datetime, origin: datetime
) -> Iterator[tuple[datetime, datetime | None]]:
    """
    The runs of C{profile}'s schedule that may overlap C{[t_from, t_to]}.

    @param origin: where a Relative schedule starts (transaction start or now).
    @return: C{(start, end)} pairs, C{end} C{None} for an endless run.
    """
    schedule = profile["chargingSchedule"]
    duration = schedule.get("duration")
    start = profile_time(schedule, "startSchedule")
    step = RECURRENCE.get(profile.get("recurrencyKind", ""))
    if is_recurring(profile) and start is not None and step is not None:
        n = max(0, math.floor((t_from - start) / step))
        while start + n * step <= t_to:
            begin = start + n * step
            end = begin + step
            if duration is not None:
                end = min(end, begin + timedelta(seconds=duration))
            yield begin, end
            n += 1
        return
    if profile["chargingProfileKind"] != "Absolute" or start is None:
        start = origin
    yield start, None if duration is None else start + timedelta(seconds=duration)


def period_at(profile: dict[str, Any], t: datetime, origin: datetime) -> dict[str, Any] | None:
    """The C{chargingSchedulePeriod} of C{profile} in force at C{t}, if any."""
    if not is_valid_at(profile, t):
        return None
    for begin, end in occurrences(profile, t, t, origin):
        if begin <= t and (end is None or t < end):
            offset = (t - begin).total_seconds()
            periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
            return [p for p in periods if p["startPeriod"] <= offset][-1]
    return None


def breakpoints(
    profile: dict[str, Any], t_from: datetime, t_to: datetime, origin: datetime
) -> set[datetime]:
    """The instants in C{(t_from, t_to)} at which C{profile}'s limit may change."""
    points = {profile_time(profile, "validFrom"), profile_time(profile, "validTo")}
    periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
    for begin, end in occurrences(profile, t_from, t_to, origin):
        points.add(end)
        points.update(begin + timedelta(seconds=p["startPeriod"]) for p in periods)
    return {p for p in points if p is not None and t_from < p < t_to}


def phases_of(period: dict[str, Any], spec: ConnectorSpec) -> int:
    """The AC phases a period charges on: its C{numberPhases} (3 if absent), capped by C{spec}."""
    return max(1, min(period.get("numberPhases", 3), spec.phases))


def watts_per(unit: str, phases: int, spec: ConnectorSpec) -> float:
    """W per one C{unit} on C{spec}: 1 for W, V for DC A, V x phases for AC A."""
    if unit == "W":
        return 1.0
    return spec.voltage_v * (1 if spec.current_type == "DC" else phases)


def first_period(
    profiles: Iterable[dict[str, Any]], t: datetime, origin: datetime
) -> tuple[str, dict[str, Any]] | None:
    """
    The period in force at C{t} of the first of C{profiles} with one then.

    @return: C{(chargingRateUnit, period)}, or C{None} when none of them applies at C{t}.
    """
    for profile in profiles:
        period = period_at(profile, t, origin)
        if period is not None:
            return profile["chargingSchedule"]["chargingRateUnit"], period
    return None


def period_key(found: tuple[str, dict[str, Any]] | None) -> Hashable:
    """What decides the W of a L{first_period} result on any connector; equal keys, equal W."""
    if found is None:
        return None
    unit, period = found
    return unit, period["limit"], period.get("numberPhases", 3)


def in_watts(
    found: tuple[str, dict[str, Any]] | None, spec: ConnectorSpec
) -> tuple[float, int] | None:
    """A L{first_period} result on C{spec} as C{(watts, phases)}; C{None} stays C{None}."""
    if found is None:
        return None
    unit, period = found
    phases = phases_of(period, spec)
    return period["limit"] * watts_per(unit, phases, spec), phases


def first_valid(
    profiles: list[dict[str, Any]], t: datetime, origin: datetime, spec: ConnectorSpec
) -> tuple[float, int] | None:
    """
    The limit at C{t} of the first of C{profiles} with a period then.

    @return: C{(watts, phases)}, or C{None} when none of them applies at C{t}.
    """
    return in_watts(first_period(profiles, t, origin), spec)


def fixed_points(
    profile: dict[str, Any], after: datetime, origin: datetime | None
) -> set[datetime]:
    """
    The instants after C{after} at which C{profile}'s limit may change, but
    for the repeats of a recurring profile after its first (see L{breakpoints}).

    @param origin: where a Relative schedule starts; C{None} when it starts
        at whatever instant it is looked at, so only its validity changes.
    """
    if is_recurring(profile) or (origin is None and not is_anchored(profile)):
        points = {profile_time(profile, "validFrom"), profile_time(profile, "validTo")}
        if is_recurring(profile):
            points.add(profile_time(profile["chargingSchedule"], "startSchedule"))
        return {p for p in points if p is not None and after < p}
    return breakpoints(profile, after, FAR, origin or after)


def first_change(
    now: datetime,
    state: Callable[[datetime], Hashable],
    fixed: Iterable[datetime],
    repeats: Callable[[datetime, datetime], Iterable[datetime]],
) -> datetime | None:
    """
    The first instant after C{now} at which C{state} differs from C{state(now)}.

    C{state} may change only at C{fixed} instants and at C{repeats}, which
    recur with a period of at most a week: when a L{LOOKAHEAD} window with
    no fixed instant in it brings no change, none comes before the next
    fixed one, so the search jumps there.

    @param state: the limits in force at an instant, comparable with C{==}.
    @param fixed: the instants at which C{state} may change, but for repeats.
    @param repeats: C{(lo, hi)} -> the repeating instants in C{(lo, hi)}.
    @return: that instant, or C{None} when C{state} never changes.
    """
    base = state(now)
    points = sorted({p for p in fixed if p > now})
    lo = now
    while True:  # state(t) == base for now <= t <= lo
        hi = lo + LOOKAHEAD
        inside = [p for p in points if lo < p <= hi]
        for p in sorted({*inside, *repeats(lo, hi), hi}):
            if lo < p <= hi and state(p) != base:
                return p
        later = [p for p in points if p > hi]
        if inside:
            lo = hi
        elif not later:
            return None
        elif state(later[0]) != base:
            return later[0]
        else:
            lo = later[0]


def check_profile(
    profile: dict[str, Any], max_stack_level: int, units: Sequence[str], n: int
) -> bool:
    """Whether C{profile} is well-formed within the station's limits (not where it goes)."""
    try:
        schedule = profile["chargingSchedule"]
        periods = schedule["chargingSchedulePeriod"]
        starts = [p["startPeriod"] for p in periods]
        valid_from, valid_to = profile_time(profile, "validFrom"), profile_time(profile, "validTo")
        profile_time(schedule, "startSchedule")
        recurring = profile["chargingProfileKind"] == "Recurring"
        return (
            profile["chargingProfilePurpose"] in PURPOSES
            and 0 <= profile["stackLevel"] <= max_stack_level
            and profile["chargingProfileKind"] in ("Absolute", "Relative", "Recurring")
            and (not recurring or profile.get("recurrencyKind") in RECURRENCE)
            and (not recurring or "startSchedule" in schedule)
            and (valid_from is None or valid_to is None or valid_from < valid_to)
            and schedule["chargingRateUnit"] in units
            and 0 < len(periods) <= n
            and starts[0] == 0
            and all(a < b for a, b in pairwise(starts))
            and all(p["limit"] >= 0 for p in periods)
        )
    except (KeyError, TypeError, ValueError):
        return False


def share_station_limit(
    station_w: float | None, wanted: Mapping[int, float]
) -> dict[int, float | None]:
    """
    Split the station's limit across its connectors by the power each wants.

    Served from the one wanting least, each connector gets what it wants or
    an equal share of what is left, whichever is less, so what one does not
    use goes to the others. The shares sum to at most C{station_w}.

    @param station_w: the station's limit in W (C{station_limit_watts} of
        L{ocppcs.emulator.smartcharging.ChargingProfiles}); C{None} for none.
    @param wanted: by connector id, the W each would draw without the station
        limit (below 0 is taken as 0).
    @return: by connector id of C{wanted}, the W it may draw; all C{None} without
        a station limit.
    """
    if station_w is None:
        return dict.fromkeys(wanted)
    left = max(station_w, 0.0)
    shares: dict[int, float | None] = {}
    order = sorted(wanted, key=lambda c: max(wanted[c], 0.0))
    for i, c in enumerate(order):
        share = min(max(wanted[c], 0.0), left / (len(order) - i))
        shares[c] = share
        left = max(left - share, 0.0)
    return {c: shares[c] for c in wanted}
