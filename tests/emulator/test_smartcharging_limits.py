# -*- test-case-name: tests.emulator.test_smartcharging_limits -*-
"""
Tests for the limits the station applies from L{ocppcs.emulator.smartcharging}:
a connector's own limit, the station's, how the station's is shared, and when
either next changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocppcs.emulator.smartcharging import ChargingProfiles, format_time, share_station_limit
from tests.emulator.test_smartcharging import AC1, AC3, DC, SPECS, T0, profile, store

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def night(
    profile_id: int = 1,
    limit: float = 8.0,
    start: datetime = datetime(2026, 1, 1, 22, 0, tzinfo=UTC),
    **extra: Any,
) -> dict[str, Any]:
    """A daily 22:00-06:00 TxDefaultProfile of C{limit} A, recurring from C{start}."""
    return profile(
        profile_id,
        kind="Recurring",
        recurrencyKind="Daily",
        start=start,
        periods=((0, limit),),
        duration=8 * 3600,
        **extra,
    )


def limits(
    profiles: ChargingProfiles, t: datetime, starts: Mapping[int, datetime | None]
) -> tuple[list[float | None], float | None]:
    """Every connector's own limit and the station's at C{t}."""
    own = [profiles.connector_limit_watts(c, t, starts.get(c), SPECS[c]) for c in SPECS]
    return own, profiles.station_limit_watts(t, AC3)


def assert_next_change(
    profiles: ChargingProfiles,
    now: datetime,
    expected: datetime | None,
    starts: Mapping[int, datetime | None] | None = None,
) -> None:
    """
    C{next_change} from C{now} is C{expected}, the limits stay as at C{now}
    until just before it and differ at it.
    """
    starts = starts or {}
    found = profiles.next_change(now, starts)
    assert found == expected
    if found is not None:
        before = limits(profiles, now, starts)
        assert limits(profiles, found - timedelta(microseconds=1), starts) == before
        assert limits(profiles, found, starts) != before


# --- connector_limit_watts ------------------------------------------------------------------


def test_connector_limit_leaves_out_station_cap() -> None:
    """The connector's own limit ignores the ChargePointMaxProfile; None when nothing applies."""
    profiles = store()
    assert profiles.connector_limit_watts(1, T0, None, AC3) is None
    profiles.set(0, profile(1, "ChargePointMaxProfile", unit="W", periods=((0, 5000),)), None)
    assert profiles.connector_limit_watts(1, T0, None, AC3) is None
    profiles.set(1, profile(2, periods=((0, 16),)), None)
    assert profiles.connector_limit_watts(1, T0, None, AC3) == 11040.0
    assert profiles.limit_watts(1, T0, None, AC3) == 5000.0
    assert profiles.connector_limit_watts(9, T0, None, AC3) is None
    assert profiles.limit_watts(9, T0, None, AC3) is None


def test_connector_limit_tx_profile_only_in_transaction() -> None:
    """A TxProfile rules only while a transaction runs; else the TxDefaultProfile of 0 does."""
    profiles = store()
    profiles.set(0, profile(1, periods=((0, 10),)), None)
    profiles.set(2, profile(2, "TxProfile", periods=((0, 6),)), 7)
    assert profiles.connector_limit_watts(2, T0, T0, AC1) == 6 * 230.0
    assert profiles.connector_limit_watts(2, T0, None, AC1) == 10 * 230.0


def test_connector_limit_relative_counts_from_transaction_start() -> None:
    """A Relative schedule counts from the transaction start, or from now without one."""
    profiles = store()
    profiles.set(3, profile(1, kind="Relative", start=None, periods=((0, 50), (900, 100))), None)
    assert profiles.connector_limit_watts(3, T0, T0 - 20 * MINUTE, DC) == 40000.0
    assert profiles.connector_limit_watts(3, T0, T0 - 10 * MINUTE, DC) == 20000.0
    assert profiles.connector_limit_watts(3, T0, None, DC) == 20000.0


def test_connector_limit_recurring_and_validity() -> None:
    """A recurring profile holds in its window only, and only between validFrom and validTo."""
    profiles = store()
    until = format_time(datetime(2026, 1, 7, 0, 0, tzinfo=UTC))
    profiles.set(1, night(validTo=until), None)
    assert profiles.connector_limit_watts(1, datetime(2026, 1, 5, 23, 0), None, AC3) == 5520.0
    assert profiles.connector_limit_watts(1, datetime(2026, 1, 5, 12, 0), None, AC3) is None
    assert profiles.connector_limit_watts(1, datetime(2026, 1, 7, 1, 0), None, AC3) is None


# --- station_limit_watts --------------------------------------------------------------------


def test_station_limit_in_watts_with_the_given_spec() -> None:
    """The ChargePointMaxProfile in W, A turned into W with the spec given; None without one."""
    profiles = store()
    assert profiles.station_limit_watts(T0, AC3) is None
    profiles.set(1, profile(1, periods=((0, 10),)), None)
    assert profiles.station_limit_watts(T0, AC3) is None
    profiles.set(0, profile(2, "ChargePointMaxProfile", periods=((0, 100), (600, 50))), None)
    assert profiles.station_limit_watts(T0, AC3) == 69000.0
    assert profiles.station_limit_watts(T0, DC) == 40000.0
    assert profiles.station_limit_watts(T0 + 10 * MINUTE, DC) == 20000.0


def test_station_limit_relative_recurring_and_validity() -> None:
    """
    A Relative station profile holds its first period while valid; a
    recurring one holds in its window; validFrom/validTo bound both.
    """
    profiles = store()
    relative = profile(
        1,
        "ChargePointMaxProfile",
        stack=1,
        kind="Relative",
        start=None,
        unit="W",
        periods=((0, 30000), (600, 10000)),
        validFrom=format_time(T0),
        validTo=format_time(T0 + HOUR),
    )
    profiles.set(0, relative, None)
    profiles.set(0, night(2, limit=20, chargingProfilePurpose="ChargePointMaxProfile"), None)
    assert profiles.station_limit_watts(T0 - MINUTE, AC3) is None
    assert profiles.station_limit_watts(T0 + 30 * MINUTE, AC3) == 30000.0
    assert profiles.station_limit_watts(T0 + 2 * HOUR, AC3) is None
    assert profiles.station_limit_watts(datetime(2026, 1, 5, 23, 0), AC3) == 13800.0


# --- share_station_limit --------------------------------------------------------------------


def test_station_cap_shared_by_two_connectors() -> None:
    """
    A 50 kW station limit on two 50 kW DC connectors gives each 25 kW, not
    50 kW each: the shares sum to the station limit.
    """
    profiles = ChargingProfiles([1, 2])
    cap = profile(1, "ChargePointMaxProfile", unit="W", periods=((0, 50000),))
    assert profiles.set(0, cap, None) == "Accepted"
    wanted = {c: profiles.connector_limit_watts(c, T0, T0, DC) or DC.max_power_w for c in (1, 2)}
    shares = share_station_limit(profiles.station_limit_watts(T0, DC), wanted)
    assert shares == {1: 25000.0, 2: 25000.0}
    assert profiles.limit_watts(1, T0, T0, DC) == 50000.0


def test_share_gives_unused_power_to_others() -> None:
    """Who wants less than an equal share gets what it wants; the others share the rest."""
    assert share_station_limit(50000.0, {1: 50000.0, 2: 10000.0}) == {1: 40000.0, 2: 10000.0}
    shares = share_station_limit(30000.0, {1: 22000.0, 2: 3000.0, 3: 22000.0, 4: 0.0})
    assert shares == {1: 13500.0, 2: 3000.0, 3: 13500.0, 4: 0.0}
    assert sum(v or 0.0 for v in shares.values()) == 30000.0


def test_share_under_the_limit_and_without_one() -> None:
    """Under the station limit all get what they want; without a limit all get None."""
    assert share_station_limit(50000.0, {1: 11000.0, 2: 7000.0}) == {1: 11000.0, 2: 7000.0}
    assert share_station_limit(None, {1: 11000.0, 2: 7000.0}) == {1: None, 2: None}
    assert share_station_limit(0.0, {1: 11000.0, 2: -5.0}) == {1: 0.0, 2: 0.0}
    assert share_station_limit(10000.0, {}) == {}


# --- next_change ----------------------------------------------------------------------------


def test_next_change_none_without_profiles_or_changes() -> None:
    """Nothing installed, or periods of equal limit, bring no change."""
    profiles = store()
    assert_next_change(profiles, T0, None)
    profiles.set(1, profile(1, periods=((0, 16), (600, 16))), None)
    assert_next_change(profiles, T0, None)


def test_next_change_absolute_periods_and_end() -> None:
    """An Absolute schedule changes at each period start and at its end, strictly after now."""
    profiles = store()
    later = profile(1, start=T0 + HOUR, periods=((0, 10), (600, 12)), duration=1200)
    profiles.set(1, later, None)
    assert_next_change(profiles, T0, T0 + HOUR)
    assert_next_change(profiles, T0 + HOUR, T0 + HOUR + 10 * MINUTE)
    assert_next_change(profiles, T0 + HOUR + 10 * MINUTE, T0 + HOUR + 20 * MINUTE)
    assert_next_change(profiles, T0 + HOUR + 20 * MINUTE, None)


def test_next_change_skips_what_a_higher_stack_hides() -> None:
    """A change in a lower stack level under a higher one's schedule is no change."""
    profiles = store()
    profiles.set(1, profile(1, stack=0, periods=((0, 10), (600, 12))), None)
    profiles.set(1, profile(2, stack=1, periods=((0, 16),), duration=1800), None)
    assert_next_change(profiles, T0, T0 + 30 * MINUTE)


def test_next_change_valid_from_and_valid_to() -> None:
    """validFrom and validTo are changes, even for a Relative profile without a transaction."""
    profiles = store()
    relative = profile(
        1,
        kind="Relative",
        start=None,
        periods=((0, 6), (60, 8)),
        validFrom=format_time(T0 + 10 * MINUTE),
        validTo=format_time(T0 + 20 * MINUTE),
    )
    profiles.set(2, relative, None)
    assert_next_change(profiles, T0, T0 + 10 * MINUTE)
    assert_next_change(profiles, T0 + 10 * MINUTE, T0 + 20 * MINUTE)
    assert_next_change(profiles, T0 + 20 * MINUTE, None)


def test_next_change_relative_follows_each_transaction_start() -> None:
    """
    A Relative TxDefaultProfile on 0 changes 15 min into each connector's
    transaction; a connector without one stays in the first period.
    """
    profiles = store()
    profiles.set(0, profile(1, kind="Relative", start=None, periods=((0, 6), (900, 10))), None)
    starts = {1: T0 - 10 * MINUTE, 2: T0 - 12 * MINUTE, 3: None}
    assert_next_change(profiles, T0, T0 + 3 * MINUTE, starts)
    assert_next_change(profiles, T0 + 3 * MINUTE, T0 + 5 * MINUTE, starts)
    assert_next_change(profiles, T0 + 5 * MINUTE, None, starts)
    assert_next_change(profiles, T0, None, {})


def test_next_change_tx_profile_only_with_transaction() -> None:
    """A TxProfile's period counts only on a connector with a transaction."""
    profiles = store()
    profiles.set(1, profile(1, "TxProfile", periods=((0, 6), (600, 10))), 7)
    assert_next_change(profiles, T0, T0 + 10 * MINUTE, {1: T0})
    assert_next_change(profiles, T0, None, {1: None})


def test_next_change_earliest_of_connectors_and_station() -> None:
    """The earliest change of any connector or the station wins."""
    profiles = store()
    profiles.set(1, profile(1, periods=((0, 10), (600, 12))), None)
    profiles.set(3, profile(2, periods=((0, 50), (300, 60))), None)
    assert_next_change(profiles, T0, T0 + 5 * MINUTE)
    cap = profile(3, "ChargePointMaxProfile", unit="W", periods=((0, 9e4), (120, 8e4)))
    profiles.set(0, cap, None)
    assert_next_change(profiles, T0, T0 + 2 * MINUTE)


def test_next_change_relative_station_profile_only_at_validity() -> None:
    """A Relative ChargePointMaxProfile keeps its first period: only validTo changes it."""
    profiles = store()
    relative = profile(
        1, "ChargePointMaxProfile", kind="Relative", start=None, periods=((0, 20), (60, 10))
    )
    profiles.set(0, relative, None)
    assert_next_change(profiles, T0, None, {1: T0})
    profiles.set(0, {**relative, "validTo": format_time(T0 + HOUR)}, None)
    assert_next_change(profiles, T0, T0 + HOUR, {1: T0})


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 1, 5, 20, 0, tzinfo=UTC), datetime(2026, 1, 5, 22, 0, tzinfo=UTC)),
        (datetime(2026, 1, 5, 22, 0, tzinfo=UTC), datetime(2026, 1, 6, 6, 0, tzinfo=UTC)),
        (datetime(2026, 1, 6, 3, 0, tzinfo=UTC), datetime(2026, 1, 6, 6, 0, tzinfo=UTC)),
        (datetime(2026, 1, 6, 6, 0, tzinfo=UTC), datetime(2026, 1, 6, 22, 0, tzinfo=UTC)),
    ],
)
def test_next_change_recurring_daily(now: datetime, expected: datetime) -> None:
    """A daily 22:00-06:00 schedule changes at 22:00 and at 06:00, across midnight."""
    profiles = store()
    profiles.set(1, night(), None)
    assert_next_change(profiles, now, expected)


def test_next_change_recurring_weekly_and_future_start() -> None:
    """
    A weekly schedule changes next week; a recurring schedule first starting
    in 30 days changes then, beyond the lookahead.
    """
    profiles = store()
    weekly = profile(
        1,
        kind="Recurring",
        recurrencyKind="Weekly",
        start=T0 - 2 * HOUR,
        periods=((0, 6),),
        duration=3600,
    )
    profiles.set(1, weekly, None)
    assert_next_change(profiles, T0, T0 + 7 * DAY - 2 * HOUR)
    profiles.set(2, night(2, start=T0 + 30 * DAY), None)
    assert_next_change(profiles, T0 + HOUR, T0 + 7 * DAY - 2 * HOUR)
    profiles.clear(1, None, None, None)
    assert_next_change(profiles, T0 + HOUR, T0 + 30 * DAY)


@pytest.mark.parametrize("days", [3, 20])
def test_next_change_recurring_after_a_silent_expiry(days: int) -> None:
    """
    When a higher profile of the same limit expires during the night window,
    the next change is the window's end that follows, near or beyond the lookahead.
    """
    profiles = store()
    profiles.set(1, night(1, limit=8), None)
    expiry = datetime(2026, 1, 5, 23, 0, tzinfo=UTC) + days * DAY
    profiles.set(1, profile(2, stack=1, periods=((0, 8),), validTo=format_time(expiry)), None)
    assert_next_change(profiles, T0, datetime(2026, 1, 6, 6, 0, tzinfo=UTC) + days * DAY)


def test_next_change_takes_naive_times_as_utc() -> None:
    """Naive times are UTC, and the answer is aware."""
    profiles = store()
    profiles.set(1, profile(1, periods=((0, 10), (600, 12))), None)
    naive = T0.replace(tzinfo=None)
    assert profiles.next_change(naive, {1: naive}) == T0 + 10 * MINUTE


@pytest.mark.parametrize(
    ("higher", "expiry", "expected"),
    [
        (8, datetime(2026, 1, 7, 23, 0, tzinfo=UTC), datetime(2026, 1, 8, 10, 0, tzinfo=UTC)),
        (8, datetime(2026, 1, 13, 9, 0, tzinfo=UTC), datetime(2026, 1, 13, 10, 0, tzinfo=UTC)),
        (16, datetime(2026, 1, 13, 10, 0, tzinfo=UTC), datetime(2026, 1, 13, 22, 0, tzinfo=UTC)),
        (8, datetime(2026, 2, 10, 9, 0, tzinfo=UTC), datetime(2026, 2, 10, 10, 0, tzinfo=UTC)),
    ],
)
def test_next_change_day_and_night_after_silent_expiry(
    higher: float, expiry: datetime, expected: datetime
) -> None:
    """
    Under a daily 10:00-22:00 16 A / 22:00-10:00 8 A schedule, a higher
    profile expiring when it matches brings no change; the next switch does,
    whether it falls inside the first eight days, at their end, or after them.
    """
    profiles = store()
    day_and_night = profile(
        1,
        kind="Recurring",
        recurrencyKind="Daily",
        start=datetime(2026, 1, 1, 10, 0, tzinfo=UTC),
        periods=((0, 16), (12 * 3600, 8)),
    )
    profiles.set(1, day_and_night, None)
    profiles.set(1, profile(2, stack=1, periods=((0, higher),), validTo=format_time(expiry)), None)
    assert_next_change(profiles, T0, expected)
