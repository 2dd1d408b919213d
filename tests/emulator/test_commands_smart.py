"""
Tests for L{ocppcs.emulator.commands}: SetChargingProfile,
ClearChargingProfile and GetCompositeSchedule, and the limits they put on
the power the station reports.
"""

from __future__ import annotations

from typing import Any

import pytest

from ocppcs.isotime import iso_time
from tests.emulator.harness import T0, Rig, make_rig, start_charging


def _profile(
    purpose: str = "TxDefaultProfile",
    limit: float = 20000,
    profile_id: int = 1,
    stack_level: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """A Relative profile of one period, in W."""
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
        **extra,
    }


def _set(rig: Rig, connector_id: int, profile: dict[str, Any]) -> str:
    payload = {"connectorId": connector_id, "csChargingProfiles": profile}
    return str(rig.command("SetChargingProfile", payload)["status"])


def _power(rig: Rig, connector_id: int = 1) -> float:
    """Power.Active.Import of the connector's last MeterValues."""
    meter = [p for p in rig.central.sent("MeterValues") if p["connectorId"] == connector_id][-1]
    [value] = [
        v for v in meter["meterValue"][0]["sampledValue"] if v["measurand"] == "Power.Active.Import"
    ]
    return float(value["value"])


def _sample(rig: Rig) -> None:
    """Run one MeterValueSampleInterval (60 s)."""
    rig.clock.advance(60)


# --- SetChargingProfile ---------------------------------------------------------------------


@pytest.mark.parametrize("connector_id", [1, 0])
def test_tx_default_profile_lowers_power(connector_id: int) -> None:
    """A TxDefaultProfile (on the connector or on 0) lowers the next Power.Active.Import."""
    rig = make_rig("CP1")
    start_charging(rig)
    _sample(rig)
    assert _power(rig) == 50000.0
    assert _set(rig, connector_id, _profile(limit=20000)) == "Accepted"
    _sample(rig)
    assert _power(rig) == 20000.0
    assert rig.station.connector_view(rig.station.connectors[1])["limitW"] == 20000.0


def test_tx_default_profile_applies_to_next_transaction() -> None:
    """A TxDefaultProfile set while idle limits the transaction that starts later."""
    rig = make_rig("CP1")
    assert _set(rig, 1, _profile(limit=11000)) == "Accepted"
    start_charging(rig)
    _sample(rig)
    assert _power(rig) == 11000.0


def test_tx_profile_for_running_transaction() -> None:
    """
    A TxProfile is Accepted for the running transaction (and wins over the
    TxDefaultProfile), Rejected for another transactionId, and ends with
    the transaction.
    """
    rig = make_rig("CP1")
    _set(rig, 1, _profile(limit=30000))
    transaction_id = start_charging(rig)
    other = _profile("TxProfile", 15000, profile_id=2, transactionId=transaction_id + 1)
    assert _set(rig, 1, other) == "Rejected"
    mine = _profile("TxProfile", 15000, profile_id=2, transactionId=transaction_id)
    assert _set(rig, 1, mine) == "Accepted"
    _sample(rig)
    assert _power(rig) == 15000.0
    rig.command("RemoteStopTransaction", {"transactionId": transaction_id})
    ids = [e["csChargingProfiles"]["chargingProfileId"] for e in rig.station.profiles.profiles()]
    assert ids == [1]


def test_tx_profile_without_transaction_rejected() -> None:
    """A TxProfile for a connector without a transaction is Rejected."""
    rig = make_rig("CP1")
    assert _set(rig, 1, _profile("TxProfile")) == "Rejected"
    assert rig.station.profiles.profiles() == []


@pytest.mark.parametrize(
    ("connector_id", "profile"),
    [
        (2, _profile()),
        (1, _profile("ChargePointMaxProfile")),
        (1, _profile(stack_level=99)),
        (
            1,
            {
                **_profile(),
                "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": []},
            },
        ),
    ],
)
def test_set_charging_profile_rejected(connector_id: int, profile: dict[str, Any]) -> None:
    """An unknown connector, a misplaced purpose or a malformed profile is Rejected."""
    rig = make_rig("CP1")
    assert _set(rig, connector_id, profile) == "Rejected"


def test_zero_limit_suspends_evse() -> None:
    """A limit of 0 W makes the charging connector SuspendedEVSE; clearing it resumes charging."""
    rig = make_rig("CP1")
    start_charging(rig)
    rig.central.clear()
    _set(rig, 1, _profile(limit=0))
    assert rig.statuses(1) == ["SuspendedEVSE"]
    _sample(rig)
    assert _power(rig) == 0.0
    assert rig.command("ClearChargingProfile", {"id": 1}) == {"status": "Accepted"}
    assert rig.statuses(1) == ["SuspendedEVSE", "Charging"]


def test_charge_point_max_profile_caps() -> None:
    """A ChargePointMaxProfile on connector 0 caps a higher TxDefaultProfile."""
    rig = make_rig("CP1")
    _set(rig, 1, _profile(limit=40000))
    _set(rig, 0, _profile("ChargePointMaxProfile", 25000, profile_id=2))
    start_charging(rig)
    _sample(rig)
    assert _power(rig) == 25000.0


def test_profiles_survive_restart() -> None:
    """Installed profiles are saved and in force after a restart."""
    rig = make_rig("CP1")
    _set(rig, 1, _profile(limit=12000))
    again = make_rig("CP1", store=rig.store)
    start_charging(again)
    _sample(again)
    assert _power(again) == 12000.0


# --- ClearChargingProfile -------------------------------------------------------------------


def test_clear_charging_profile_restores_power() -> None:
    """Clearing the profile by id is Accepted and the power goes back to the connector's maximum."""
    rig = make_rig("CP1")
    start_charging(rig)
    _set(rig, 1, _profile(limit=20000, profile_id=5))
    _sample(rig)
    assert rig.command("ClearChargingProfile", {"id": 5}) == {"status": "Accepted"}
    _sample(rig)
    assert _power(rig) == 50000.0


def test_clear_charging_profile_by_criteria() -> None:
    """Without an id, profiles matching connector, purpose and stack level are removed."""
    rig = make_rig("CP2")
    _set(rig, 1, _profile(profile_id=1, stack_level=1))
    _set(rig, 2, _profile(profile_id=2, stack_level=1))
    _set(rig, 0, _profile("ChargePointMaxProfile", profile_id=3))
    payload = {"connectorId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}
    assert rig.command("ClearChargingProfile", payload) == {"status": "Accepted"}
    ids = [e["csChargingProfiles"]["chargingProfileId"] for e in rig.station.profiles.profiles()]
    assert ids == [3, 1]
    assert rig.command("ClearChargingProfile", {}) == {"status": "Accepted"}
    assert rig.station.profiles.profiles() == []


def test_clear_charging_profile_unknown() -> None:
    """Nothing to clear answers Unknown."""
    rig = make_rig("CP1")
    assert rig.command("ClearChargingProfile", {"id": 77}) == {"status": "Unknown"}


# --- GetCompositeSchedule -------------------------------------------------------------------


def test_composite_schedule_without_profiles() -> None:
    """Without profiles the composite schedule is the connector's maximum from now on."""
    rig = make_rig("CP1")
    reply = rig.command("GetCompositeSchedule", {"connectorId": 1, "duration": 3600})
    assert reply["status"] == "Accepted"
    assert reply["connectorId"] == 1
    schedule = reply["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["duration"] == 3600
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 50000.0}]
    assert reply["scheduleStart"] == schedule["startSchedule"] == iso_time(T0)


def test_composite_schedule_with_absolute_profile() -> None:
    """An Absolute profile's periods appear in the composite schedule, in the unit asked for."""
    rig = make_rig("CP1")
    profile = _profile(limit=10000)
    profile["chargingProfileKind"] = "Absolute"
    profile["chargingSchedule"]["startSchedule"] = iso_time(T0)
    profile["chargingSchedule"]["chargingSchedulePeriod"].append(
        {"startPeriod": 1800, "limit": 30000}
    )
    _set(rig, 1, profile)
    reply = rig.command(
        "GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}
    )
    schedule = reply["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 25.0},
        {"startPeriod": 1800, "limit": 75.0},
    ]


def test_composite_schedule_unknown_connector() -> None:
    """An unknown connector is Rejected."""
    rig = make_rig("CP1")
    reply = rig.command("GetCompositeSchedule", {"connectorId": 4, "duration": 60})
    assert reply == {"status": "Rejected"}
