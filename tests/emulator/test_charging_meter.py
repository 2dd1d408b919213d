"""
Tests for the meter of L{ocppcs.emulator.charging}: MeterValues, the energy
register, a full vehicle, StopTransaction's transactionData and the register
across a restart, on a station driven by L{tests.emulator.harness}.
"""

from __future__ import annotations

import pytest

from ocppcs.isotime import iso_time
from tests.emulator.driving import charge, registers, set_keys
from tests.emulator.harness import T0, make_rig, restart_rig


def test_meter_values_every_interval() -> None:
    """
    A transaction's MeterValues go every MeterValueSampleInterval with the
    transactionId and the measurands of MeterValuesSampledData (DC: with SoC).
    """
    rig = make_rig("CP1")
    charge(rig)
    rig.clock.advance(59)
    assert rig.central.sent("MeterValues") == []
    rig.clock.advance(1)
    (sent,) = rig.central.sent("MeterValues")
    assert sent["transactionId"] == 101 and sent["connectorId"] == 1
    values = sent["meterValue"][0]["sampledValue"]
    assert [v["measurand"] for v in values] == [
        "Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC"
    ]  # fmt: skip
    assert {v["context"] for v in values} == {"Sample.Periodic"}
    assert sent["meterValue"][0]["timestamp"] == iso_time(T0 + 60)
    set_keys(rig, MeterValueSampleInterval="20", MeterValuesSampledData="Power.Offered")
    rig.station.schedule_sampling()
    rig.clock.pump([20, 20])
    later = rig.central.sent("MeterValues")[1:]
    assert len(later) == 2
    assert [v["measurand"] for v in later[0]["meterValue"][0]["sampledValue"]] == ["Power.Offered"]


def test_energy_matches_power_and_time() -> None:
    """
    The register only grows, by about power x time (22 kW AC for ten minutes
    is 3667 Wh); an AC vehicle reports no SoC.
    """
    rig = make_rig("CP4")
    charge(rig)
    rig.clock.pump([60] * 10)
    seen = registers(rig)
    assert len(seen) == 10
    assert seen == sorted(seen) and seen[0] > 0
    assert seen[-1] == pytest.approx(22_000 * 600 / 3600, rel=0.01)
    measurands = {
        v["measurand"]
        for p in rig.central.sent("MeterValues")
        for v in p["meterValue"][0]["sampledValue"]
    }
    assert "SoC" not in measurands and "Power.Active.Import" in measurands


def test_vehicle_full_suspends() -> None:
    """When the battery is full the connector is SuspendedEV and draws no power."""
    rig = make_rig("CP1")
    charge(rig)
    vehicle = rig.station.connectors[1].vehicle
    assert vehicle is not None
    vehicle.soc_percent = 99.99
    rig.clock.pump([60, 60])
    assert rig.statuses(1)[-2:] == ["Charging", "SuspendedEV"]
    last = rig.central.sent("MeterValues")[-1]["meterValue"][0]["sampledValue"]
    power = next(v for v in last if v["measurand"] == "Power.Active.Import")
    soc = next(v for v in last if v["measurand"] == "SoC")
    assert power["value"] == "0" and soc["value"] == "100"


def test_stop_transaction_data() -> None:
    """
    StopTransaction carries transactionData: the Transaction.Begin register
    at the start and the Transaction.End reading (StopTxnSampledData) whose
    register is meterStop and never below the last MeterValues.
    """
    rig = make_rig("CP4")
    set_keys(rig, StopTxnSampledData="Energy.Active.Import.Register,Power.Active.Import")
    charge(rig)
    rig.clock.pump([60, 60, 11])  # 800.56 Wh: meterStop rounds as the readings do
    rig.station.present_id_tag(1, "TAG1")
    stop = rig.central.sent("StopTransaction")[0]
    begin, end = stop["transactionData"]
    assert begin["timestamp"] == iso_time(T0)
    assert begin["sampledValue"][0]["context"] == "Transaction.Begin"
    assert begin["sampledValue"][0]["value"] == "0"
    assert end["timestamp"] == iso_time(T0 + 131)
    assert [v["measurand"] for v in end["sampledValue"]] == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
    ]
    assert {v["context"] for v in end["sampledValue"]} == {"Transaction.End"}
    assert int(end["sampledValue"][0]["value"]) == stop["meterStop"]
    assert stop["meterStop"] >= registers(rig)[-1]


def test_register_survives_restart() -> None:
    """
    After a restart the register goes on from the last reading (periodic or
    triggered): the transaction cut by the restart ends (PowerLoss) there,
    adding nothing, and the next one starts there.
    """
    rig = make_rig("CP1")
    charge(rig)
    rig.clock.pump([60] * 3 + [30])
    rig.command("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    *_, sampled, last = registers(rig)
    assert last > sampled  # the triggered reading, 30 s after the last sample
    rig.clock.advance(20)  # some energy not reported yet, lost with the power
    rig = restart_rig(rig)
    stop = rig.central.sent("StopTransaction")[0]
    assert stop["reason"] == "PowerLoss" and stop["meterStop"] == last
    assert round(rig.station.connectors[1].register_wh) == last
    charge(rig, tag="TAG2")
    assert rig.central.sent("StartTransaction")[0]["meterStart"] == last
    rig.clock.advance(60)
    assert registers(rig)[-1] > last
