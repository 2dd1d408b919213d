# -*- test-case-name: tests.emulator.test_smartcharging -*-
"""Tests for L{ocppcs.emulator.smartcharging}."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocppcs.emulator.smartcharging import ChargingProfiles, format_time, parse_time
from ocppcs.emulator.spec import ConnectorSpec

# Monday 2026-01-05, 10:00 UTC.
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
AC3 = ConnectorSpec(1)
AC1 = ConnectorSpec(2, max_power_w=7360.0, phases=1)
DC = ConnectorSpec(
    3, current_type="DC", interface="CCS2", max_power_w=50_000.0, phases=0, voltage_v=400.0
)
SPECS = {1: AC3, 2: AC1, 3: DC}


def profile(
    profile_id: int,
    purpose: str = "TxDefaultProfile",
    stack: int = 0,
    periods: tuple[tuple[int, float], ...] = ((0, 16.0),),
    kind: str = "Absolute",
    start: datetime | None = T0,
    unit: str = "A",
    **extra: Any,
) -> dict[str, Any]:
    """A C{csChargingProfiles} dict; C{extra} joins it, but C{duration} joins the schedule."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": lim} for s, lim in periods],
    }
    if start is not None:
        schedule["startSchedule"] = format_time(start)
    if "duration" in extra:
        schedule["duration"] = extra.pop("duration")
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }


def store(**kwargs: Any) -> ChargingProfiles:
    """A store for a station with connectors 1 (AC 3-phase), 2 (AC 1-phase) and 3 (DC)."""
    return ChargingProfiles([1, 2, 3], **kwargs)


def periods(schedule: dict[str, Any] | None) -> list[tuple[int, float]]:
    """The C{(startPeriod, limit)} pairs of a composite schedule."""
    assert schedule is not None
    return [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]]


def ids(profiles: ChargingProfiles) -> list[int]:
    """The installed profiles' ids, in display order."""
    return [e["csChargingProfiles"]["chargingProfileId"] for e in profiles.profiles()]


def test_times_parse_to_utc_and_format_with_z() -> None:
    """Offsets, Z and naive text all become aware UTC; formatting gives milliseconds and Z."""
    assert parse_time("2026-01-05T12:00:00+02:00") == T0
    assert parse_time("2026-01-05T10:00:00Z") == T0
    assert parse_time("2026-01-05T10:00:00") == T0
    assert format_time(T0 + timedelta(milliseconds=250)) == "2026-01-05T10:00:00.250Z"


def test_unknown_connector_rejected() -> None:
    """A connector the station does not have cannot take a profile."""
    assert store().set(4, profile(1), None) == "Rejected"


def test_charge_point_max_only_on_connector_zero() -> None:
    """ChargePointMaxProfile is refused on a connector and accepted on 0."""
    profiles = store()
    assert profiles.set(1, profile(1, "ChargePointMaxProfile"), None) == "Rejected"
    assert profiles.set(0, profile(1, "ChargePointMaxProfile"), None) == "Accepted"


def test_tx_profile_needs_running_transaction_on_a_connector() -> None:
    """TxProfile is refused on connector 0, without a transaction, and for another transaction."""
    profiles = store()
    assert profiles.set(0, profile(1, "TxProfile"), 7) == "Rejected"
    assert profiles.set(1, profile(1, "TxProfile"), None) == "Rejected"
    assert profiles.set(1, profile(1, "TxProfile", transactionId=8), 7) == "Rejected"
    assert profiles.set(1, profile(1, "TxProfile", transactionId=7), 7) == "Accepted"
    assert profiles.set(1, profile(2, "TxProfile", stack=1), 7) == "Accepted"


def test_stack_level_above_maximum_rejected() -> None:
    """A stackLevel above ChargeProfileMaxStackLevel is refused; the maximum itself is fine."""
    profiles = store(max_stack_level=3)
    assert profiles.set(1, profile(1, stack=4), None) == "Rejected"
    assert profiles.set(1, profile(1, stack=3), None) == "Accepted"


def test_unit_not_allowed_rejected() -> None:
    """A chargingRateUnit outside the allowed units is refused."""
    profiles = store(allowed_units=("A",))
    assert profiles.set(1, profile(1, unit="W"), None) == "Rejected"
    assert profiles.set(1, profile(1, unit="A"), None) == "Accepted"


def test_too_many_periods_rejected() -> None:
    """More than ChargingScheduleMaxPeriods periods are refused."""
    profiles = store(max_periods=2)
    assert profiles.set(1, profile(1, periods=((0, 6), (60, 7), (120, 8))), None) == "Rejected"
    assert profiles.set(1, profile(1, periods=((0, 6), (60, 7))), None) == "Accepted"


@pytest.mark.parametrize(
    "bad", [((10, 6.0),), ((0, 6.0), (60, 7.0), (60, 8.0)), ((0, 6.0), (60, 7.0), (30, 8.0))]
)
def test_periods_must_start_at_zero_and_increase(bad: tuple[tuple[int, float], ...]) -> None:
    """Periods not starting at 0, or not strictly increasing, are refused."""
    assert store().set(1, profile(1, periods=bad), None) == "Rejected"


def test_max_profiles_rejected_unless_replacing() -> None:
    """A profile beyond MaxChargingProfilesInstalled is refused, but a replacement still fits."""
    profiles = store(max_profiles=2)
    assert profiles.set(1, profile(1, stack=0), None) == "Accepted"
    assert profiles.set(1, profile(2, stack=1), None) == "Accepted"
    assert profiles.set(1, profile(3, stack=2), None) == "Rejected"
    assert profiles.set(2, profile(2, stack=1), None) == "Accepted"
    assert ids(profiles) == [1, 2]


def test_same_id_replaces_wherever_it_was() -> None:
    """A profile with an installed chargingProfileId replaces it, even on another connector."""
    profiles = store()
    profiles.set(1, profile(5, stack=1), None)
    profiles.set(2, profile(5, stack=2, periods=((0, 10),)), None)
    assert [
        (e["connectorId"], e["csChargingProfiles"]["stackLevel"]) for e in profiles.profiles()
    ] == [(2, 2)]


def test_same_connector_purpose_stack_replaces() -> None:
    """A new id with the same connector, purpose and stackLevel replaces the old profile."""
    profiles = store()
    profiles.set(1, profile(1, stack=1), None)
    profiles.set(2, profile(2, stack=1), None)
    profiles.set(1, profile(3, stack=1), None)
    profiles.set(1, profile(4, stack=2), None)
    assert ids(profiles) == [3, 4, 2]


def test_clear_by_id_ignores_other_criteria() -> None:
    """Clearing by id removes that profile even when the other criteria do not match it."""
    profiles = store()
    profiles.set(1, profile(1), None)
    profiles.set(2, profile(2), None)
    assert profiles.clear(1, 2, "ChargePointMaxProfile", 5) == "Accepted"
    assert ids(profiles) == [2]


def test_clear_by_criteria() -> None:
    """Without an id, every profile matching connector, purpose and stack level goes."""
    profiles = store()
    profiles.set(0, profile(1, "ChargePointMaxProfile"), None)
    profiles.set(1, profile(2, stack=1), None)
    profiles.set(1, profile(3, stack=2), None)
    profiles.set(2, profile(4, stack=2), None)
    assert profiles.clear(None, None, None, 2) == "Accepted"
    assert ids(profiles) == [1, 2]
    assert profiles.clear(None, 1, None, None) == "Accepted"
    assert ids(profiles) == [1]
    assert profiles.clear(None, None, "ChargePointMaxProfile", None) == "Accepted"
    assert ids(profiles) == []


def test_clear_nothing_matching_is_unknown() -> None:
    """Clearing an absent id, or criteria nothing matches, answers Unknown and keeps everything."""
    profiles = store()
    profiles.set(1, profile(1, stack=1), None)
    assert profiles.clear(9, None, None, None) == "Unknown"
    assert profiles.clear(None, 2, None, None) == "Unknown"
    assert profiles.clear(None, 1, "TxProfile", None) == "Unknown"
    assert ids(profiles) == [1]


def test_transaction_end_removes_tx_profiles_of_that_connector() -> None:
    """When a transaction ends its connector's TxProfiles go; other profiles stay."""
    profiles = store()
    profiles.set(1, profile(1, "TxProfile"), 7)
    profiles.set(2, profile(2, "TxProfile"), 8)
    profiles.set(1, profile(3), None)
    profiles.transaction_ended(1)
    assert ids(profiles) == [3, 2]


def test_composite_unknown_connector_or_unit_is_none() -> None:
    """An unknown connector or a unit the station does not allow gives no schedule."""
    profiles = store(allowed_units=("A",))
    assert profiles.composite(9, 60, "A", T0, None, SPECS) is None
    assert profiles.composite(1, 60, "W", T0, None, SPECS) is None


def test_composite_without_profiles_is_connector_max() -> None:
    """With nothing installed the schedule is one period at the connector's maximum."""
    schedule = store().composite(1, 3600, None, T0, None, SPECS)
    assert schedule == {
        "duration": 3600,
        "startSchedule": "2026-01-05T10:00:00.000Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 31.9, "numberPhases": 3}],
    }


def test_higher_stack_wins_then_falls_back() -> None:
    """The higher stack level rules while its schedule lasts; after its duration, the lower."""
    profiles = store()
    profiles.set(1, profile(1, stack=0, periods=((0, 16),)), None)
    profiles.set(1, profile(2, stack=1, periods=((0, 10), (600, 12)), duration=1200), None)
    schedule = profiles.composite(1, 3600, "A", T0, None, SPECS)
    assert periods(schedule) == [(0, 10), (600, 12), (1200, 16)]


def test_tx_profile_beats_tx_default() -> None:
    """A valid TxProfile rules over a TxDefaultProfile of a higher stack level."""
    profiles = store()
    profiles.set(1, profile(1, stack=5, periods=((0, 16),)), None)
    profiles.set(1, profile(2, "TxProfile", stack=0, periods=((0, 8),), duration=600), 7)
    assert periods(profiles.composite(1, 1200, "A", T0, T0, SPECS)) == [(0, 8), (600, 16)]
    assert periods(profiles.composite(1, 1200, "A", T0, None, SPECS)) == [(0, 16)]


def test_charge_point_max_caps() -> None:
    """ChargePointMaxProfile on 0 caps the connector's limit, also where nothing else applies."""
    profiles = store()
    cap = profile(1, "ChargePointMaxProfile", periods=((0, 20), (1800, 12)))
    profiles.set(0, cap, None)
    profiles.set(1, profile(2, periods=((0, 16),), duration=3600), None)
    schedule = profiles.composite(1, 7200, "A", T0, None, SPECS)
    assert periods(schedule) == [(0, 16), (1800, 12)]
    assert periods(profiles.composite(0, 600, "A", T0, None, SPECS)) == [(0, 20)]


def test_connector_zero_tx_default_applies_to_connector_two() -> None:
    """A TxDefaultProfile on 0 applies to connector 2 until a connector-specific one is valid."""
    profiles = store()
    profiles.set(0, profile(1, stack=3, periods=((0, 20),)), None)
    profiles.set(2, profile(2, stack=0, periods=((0, 10),), start=T0 + timedelta(minutes=30)), None)
    assert periods(profiles.composite(2, 3600, "A", T0, None, SPECS)) == [(0, 20), (1800, 10)]
    assert periods(profiles.composite(1, 3600, "A", T0, None, SPECS)) == [(0, 20)]


def test_relative_starts_at_transaction_start() -> None:
    """A Relative schedule counts from the transaction start, or from now without one."""
    profiles = store()
    relative = profile(1, kind="Relative", start=None, periods=((0, 6), (900, 10)))
    profiles.set(1, relative, None)
    started = T0 - timedelta(minutes=10)
    assert periods(profiles.composite(1, 3600, "A", T0, started, SPECS)) == [(0, 6), (300, 10)]
    assert periods(profiles.composite(1, 3600, "A", T0, None, SPECS)) == [(0, 6), (900, 10)]


def test_future_absolute_leaves_gap_at_max() -> None:
    """Before an Absolute schedule starts the connector may charge at its maximum."""
    profiles = store()
    profiles.set(1, profile(1, start=T0 + timedelta(hours=1), periods=((0, 10),)), None)
    assert periods(profiles.composite(1, 7200, "A", T0, None, SPECS)) == [(0, 31.9), (3600, 10)]


def test_recurring_daily_wraps_midnight() -> None:
    """A daily 22:00-06:00 schedule from days ago applies tonight across midnight."""
    profiles = store()
    night = profile(
        1,
        kind="Recurring",
        recurrencyKind="Daily",
        start=datetime(2026, 1, 1, 22, 0, tzinfo=UTC),
        periods=((0, 8),),
        duration=8 * 3600,
    )
    profiles.set(1, night, None)
    now = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    schedule = profiles.composite(1, 14 * 3600, "A", now, None, SPECS)
    assert periods(schedule) == [(0, 31.9), (7200, 8), (36000, 31.9)]
    assert profiles.set(1, {**night, "recurrencyKind": None}, None) == "Rejected"


def test_valid_from_and_valid_to() -> None:
    """A profile applies only from validFrom up to validTo."""
    profiles = store()
    valid = profile(
        1,
        periods=((0, 10),),
        validFrom=format_time(T0 + timedelta(minutes=10)),
        validTo=format_time(T0 + timedelta(minutes=20)),
    )
    profiles.set(1, valid, None)
    assert periods(profiles.composite(1, 3600, "A", T0, None, SPECS)) == [
        (0, 31.9),
        (600, 10),
        (1200, 31.9),
    ]


def test_conversion_ac_three_phase_and_one_phase() -> None:
    """A in W is A x V x phases: the period's numberPhases (default 3) capped by the connector's."""
    profiles = store()
    schedule = profile(1, periods=((0, 16), (600, 16)))
    schedule["chargingSchedule"]["chargingSchedulePeriod"][1]["numberPhases"] = 1
    profiles.set(0, schedule, None)
    assert periods(profiles.composite(1, 1200, "W", T0, None, SPECS)) == [(0, 11040), (600, 3680)]
    assert periods(profiles.composite(2, 1200, "W", T0, None, SPECS)) == [(0, 3680)]
    profiles.set(0, profile(1, unit="W", periods=((0, 11040),)), None)
    composite = profiles.composite(1, 60, "A", T0, None, SPECS)
    assert composite is not None
    assert composite["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
    ]


def test_conversion_dc() -> None:
    """On DC, W is A x V; the default unit is W and numberPhases is left out."""
    profiles = store()
    profiles.set(3, profile(1, periods=((0, 100),)), None)
    composite = profiles.composite(3, 60, None, T0, None, SPECS)
    assert composite is not None
    assert composite["chargingRateUnit"] == "W"
    assert composite["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 40000.0}]


def test_limit_watts() -> None:
    """The limit at an instant in W, or None when no profile applies then."""
    profiles = store()
    profiles.set(1, profile(1, periods=((0, 10),), start=T0 + timedelta(hours=1)), None)
    assert profiles.limit_watts(1, T0, None, AC3) is None
    assert profiles.limit_watts(1, T0 + timedelta(hours=2), None, AC3) == 6900.0
    profiles.set(0, profile(2, "ChargePointMaxProfile", unit="W", periods=((0, 5000),)), None)
    assert profiles.limit_watts(1, T0, None, AC3) == 5000.0


def test_to_json_round_trip() -> None:
    """A store rebuilt from to_json holds the same profiles and composes the same schedule."""
    profiles = store()
    profiles.set(0, profile(1, "ChargePointMaxProfile", periods=((0, 20),)), None)
    profiles.set(1, profile(2, "TxProfile", periods=((0, 8),)), 7)
    profiles.set(2, profile(3, stack=2, kind="Relative", start=None), None)
    rebuilt = ChargingProfiles([1, 2, 3], installed=profiles.to_json())
    assert rebuilt.profiles() == profiles.profiles()
    assert rebuilt.profiles(1) == [
        {"connectorId": 1, "csChargingProfiles": profile(2, "TxProfile", periods=((0, 8),))}
    ]
    for c in (0, 1, 2):
        assert rebuilt.composite(c, 600, "A", T0, T0, SPECS) == profiles.composite(
            c, 600, "A", T0, T0, SPECS
        )
