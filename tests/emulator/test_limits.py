"""
The power an emulated station draws under its charging profiles: a station
limit shared by the connectors that charge, limits that change at the exact
instant their schedule says, and a PowerLoss stop dated when the last run was
last seen.
"""

from __future__ import annotations

from typing import Any

from ocppcs.isotime import iso_time
from tests.emulator.harness import make_rig, start_charging


def _power(payload: dict[str, Any]) -> float:
    values = payload["meterValue"][0]["sampledValue"]
    return sum(float(v["value"]) for v in values if v["measurand"] == "Power.Active.Import")


def _profile(purpose: str, periods: list[tuple[int, float]], **extra: Any) -> dict[str, Any]:
    return {
        "chargingProfileId": hash(purpose) % 1000,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": w} for s, w in periods],
        },
        **extra,
    }


def test_station_limit_is_shared_by_the_connectors() -> None:
    """A 50 kW ChargePointMaxProfile on two 120 kW DC connectors: together they draw 50 kW."""
    rig = make_rig("CP2")
    start_charging(rig, 1)
    start_charging(rig, 2, "TAG-2")
    reply = rig.command(
        "SetChargingProfile",
        {"connectorId": 0, "csChargingProfiles": _profile("ChargePointMaxProfile", [(0, 50000)])},
    )
    assert reply == {"status": "Accepted"}
    limits = [c.limit_w for c in rig.station.connectors.values()]
    assert limits == [25000.0, 25000.0]
    rig.central.clear()
    rig.clock.advance(rig.station.keys.get_int("MeterValueSampleInterval", 60))
    powers = [_power(p) for p in rig.central.sent("MeterValues")]
    assert len(powers) == 2 and abs(sum(powers) - 50000) < 1


def test_share_goes_to_the_other_when_one_stops() -> None:
    """When one connector's transaction ends, the other may take the whole station limit."""
    rig = make_rig("CP2")
    tx1 = start_charging(rig, 1)
    start_charging(rig, 2, "TAG-2")
    rig.command(
        "SetChargingProfile",
        {"connectorId": 0, "csChargingProfiles": _profile("ChargePointMaxProfile", [(0, 50000)])},
    )
    rig.command("RemoteStopTransaction", {"transactionId": tx1})
    assert rig.station.connectors[2].limit_w == 50000.0


def test_limit_applies_at_the_instant_the_schedule_says() -> None:
    """
    A period of 0 W starting 5 s into the transaction suspends charging at
    +5 s (SuspendedEVSE then), not at the next sample, and the energy counts
    only those 5 s at full power.
    """
    rig = make_rig("CP1")  # one 50 kW DC connector
    rig.command(
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": _profile("TxDefaultProfile", [(0, 36000), (5, 0)]),
        },
    )
    start_charging(rig, 1)
    c = rig.station.connectors[1]
    assert c.limit_w == 36000.0
    rig.clock.advance(4.9)
    assert c.status == "Charging"
    rig.clock.advance(0.1)
    assert c.status == "SuspendedEVSE"
    assert rig.statuses(1)[-1] == "SuspendedEVSE"
    rig.clock.advance(55)
    assert abs(c.register_wh - 36000 * 5 / 3600) < 0.5  # 50 Wh


def test_power_loss_stop_is_dated_when_last_seen() -> None:
    """A transaction cut by a restart five hours later ends when the last run last saved."""
    rig = make_rig("CP1")
    start_charging(rig, 1)
    interval = rig.station.keys.get_int("MeterValueSampleInterval", 60)
    rig.clock.advance(interval)  # a sample saves the state
    last_saved = rig.clock.seconds()
    rig.station.shutdown()  # the power goes off: nothing runs for five hours
    rig.station.disconnected()
    rig.clock.advance(5 * 3600)
    again = make_rig(config=rig.station.config, store=rig.store, clock=rig.clock)
    stop = again.central.sent("StopTransaction")[0]
    assert stop["reason"] == "PowerLoss"
    assert stop["timestamp"] == iso_time(last_saved)
    assert stop["transactionData"][-1]["timestamp"] == iso_time(last_saved)
