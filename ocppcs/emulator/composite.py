# -*- test-case-name: tests.emulator.test_smartcharging -*-
"""
Building the composite schedule an emulated station answers to
GetCompositeSchedule (OCPP 1.6 5.7, 7.13): the limit in force is read at
the start and at every instant a profile may change it, turned into the
requested unit, and neighbouring periods with the same limit and phases are
merged. Which profiles count and how they combine is
L{ocppcs.emulator.smartcharging.ChargingProfiles}'s business; it calls
L{composite_schedule}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from ocppcs.emulator.schedules import SAME_PERIOD, breakpoints, format_time, watts_per
from ocppcs.emulator.spec import ConnectorSpec


def composite_schedule(
    profiles: Iterable[dict[str, Any]],
    limit_at: Callable[[datetime], tuple[float, int] | None],
    now: datetime,
    duration: int,
    origin: datetime,
    unit: str,
    spec: ConnectorSpec,
    max_w: float,
) -> dict[str, Any]:
    """
    The composite C{chargingSchedule} from C{now} for C{duration} s.

    @param profiles: the profiles whose changes may change the limit.
    @param limit_at: the composite limit at an instant as C{(watts, phases)};
        C{None} when no profile applies.
    @param now: when the schedule starts, aware, in UTC.
    @param duration: its length in seconds (the request's C{duration}).
    @param origin: where a Relative schedule starts (transaction start or C{now}).
    @param unit: the C{chargingRateUnit}, C{"A"} or C{"W"}.
    @param spec: the connector's physical spec (for W to A, and its phases).
    @param max_w: the limit, in W, while no profile applies.
    @return: the C{chargingSchedule} dict.
    """
    end = now + timedelta(seconds=max(duration, 0))
    points = {now}
    for profile in profiles:
        points |= breakpoints(profile, now, end, origin)
    by_start: dict[int, dict[str, Any]] = {}
    for point in sorted(points):
        offset = round((point - now).total_seconds())
        if point != now and offset >= duration:
            continue
        watts, phases = limit_at(point) or (max_w, max(spec.phases, 1))
        period: dict[str, Any] = {
            "startPeriod": offset,
            "limit": round(watts / watts_per(unit, phases, spec), 1),
        }
        if spec.current_type == "AC":
            period["numberPhases"] = phases
        by_start[offset] = period
    periods: list[dict[str, Any]] = []
    for period in by_start.values():
        if not periods or [periods[-1].get(k) for k in SAME_PERIOD] != [
            period.get(k) for k in SAME_PERIOD
        ]:
            periods.append(period)
    return {
        "duration": duration,
        "startSchedule": format_time(now),
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": periods,
    }
