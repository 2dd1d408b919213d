"""
Tests for L{ocppcs.emulator.charging}: the driver's local actions, idTag
authorization (online and offline), StartTransaction / StopTransaction,
faults, reservations and the meter, on a station driven by
L{tests.emulator.harness}.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred

from ocppcs.callerrors import CallTimeout
from ocppcs.emulator.charging import LocalActionError
from ocppcs.isotime import iso_time
from tests.emulator.harness import T0, Rig, make_rig, restart_rig


def fired(d: Deferred[Any]) -> Any:
    """The result a Deferred already has."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    return results[0]


def set_keys(rig: Rig, **keys: str) -> None:
    """Change configuration keys as ChangeConfiguration would."""
    for key, value in keys.items():
        assert rig.station.keys.change(key, value) == "Accepted", key


def install_list(rig: Rig, **tags: str) -> None:
    """Install a local authorization list: idTag=status."""
    entries = [{"idTag": t, "idTagInfo": {"status": s}} for t, s in tags.items()]
    assert rig.station.auth.send_local_list(1, "Full", entries) == "Accepted"


def charge(rig: Rig, connector_id: int = 1, tag: str = "TAG1") -> None:
    """Plug in and present C{tag}; the transaction is started."""
    rig.station.plug_in(connector_id)
    assert fired(rig.station.present_id_tag(connector_id, tag))["status"] == "Accepted"
    rig.clock.advance(0)


def start_reply(status: str) -> dict[str, Any]:
    """A StartTransaction reply: transactionId 7, idTag C{status}."""
    return {"transactionId": 7, "idTagInfo": {"status": status}}


def registers(rig: Rig) -> list[int]:
    """The Energy.Active.Import.Register of every MeterValues sent, in order."""
    return [
        int(v["value"])
        for p in rig.central.sent("MeterValues")
        for mv in p["meterValue"]
        for v in mv["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]


# --- sessions ---------------------------------------------------------------------------


def test_plug_authorize_start() -> None:
    """
    Plugging in makes the connector Preparing; an idTag is then authorized
    by Authorize and StartTransaction follows, and the connector is Charging.
    """
    rig = make_rig("CP1")
    rig.central.clear()
    view = rig.station.plug_in(1)
    assert view["status"] == "Preparing" and view["plugged"]
    result = fired(rig.station.present_id_tag(1, "TAG1"))
    assert result["status"] == "Accepted"
    assert result["connector"]["transaction"]["transactionId"] == 101
    actions = ["StatusNotification", "Authorize", "StartTransaction", "StatusNotification"]
    assert rig.central.actions() == actions
    assert rig.central.sent("Authorize") == [{"idTag": "TAG1"}]
    start = rig.central.sent("StartTransaction")[0]
    assert start == {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": iso_time(T0)}
    assert rig.statuses(1) == ["Preparing", "Charging"]


def test_same_tag_stops_then_finishing() -> None:
    """
    Presenting the tag that started the transaction stops it (reason Local,
    with the idTag); the connector is Finishing until FinishingTimeout, then
    Available. Another tag may not stop it.
    """
    rig = make_rig("CP1")
    charge(rig)
    rig.clock.advance(30)
    with pytest.raises(LocalActionError):
        rig.station.present_id_tag(1, "OTHER")
    assert fired(rig.station.present_id_tag(1, "TAG1"))["status"] == "Accepted"
    stop = rig.central.sent("StopTransaction")[0]
    assert stop["reason"] == "Local" and stop["idTag"] == "TAG1"
    assert stop["transactionId"] == 101
    assert stop["timestamp"] == iso_time(T0 + 30)
    assert rig.statuses(1)[-1] == "Finishing"
    rig.clock.advance(4.9)
    assert rig.statuses(1)[-1] == "Finishing"
    rig.clock.advance(0.1)
    assert rig.statuses(1) == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    assert rig.station.connectors[1].vehicle is None


def test_unplug_while_charging() -> None:
    """Unplugging stops the transaction (EVDisconnected, no idTag): Available at once."""
    rig = make_rig("CP1")
    charge(rig)
    rig.clock.advance(10)
    rig.station.unplug(1)
    stop = rig.central.sent("StopTransaction")[0]
    assert stop["reason"] == "EVDisconnected" and "idTag" not in stop
    assert rig.statuses(1)[-2:] == ["Charging", "Available"]
    with pytest.raises(LocalActionError):
        rig.station.unplug(1)


def test_unplug_without_stopping() -> None:
    """
    With StopTransactionOnEVSideDisconnect false the transaction goes on
    without the vehicle (SuspendedEV, no energy) until it is plugged back.
    """
    rig = make_rig("CP1")
    set_keys(rig, StopTransactionOnEVSideDisconnect="false")
    charge(rig)
    rig.station.unplug(1)
    assert rig.central.sent("StopTransaction") == []
    assert rig.statuses(1)[-1] == "SuspendedEV"
    register = rig.station.connectors[1].register_wh
    rig.clock.advance(120)
    assert rig.station.connectors[1].register_wh == register
    rig.station.plug_in(1)
    assert rig.statuses(1)[-1] == "Charging"


def test_tag_before_plug_times_out() -> None:
    """
    A tag authorized before a vehicle is plugged in makes the connector
    Preparing; without a vehicle within ConnectionTimeOut it is Available
    again, and plugging in later starts nothing.
    """
    rig = make_rig("CP1")
    assert fired(rig.station.present_id_tag(1, "TAG1"))["status"] == "Accepted"
    assert rig.statuses(1)[-1] == "Preparing"
    rig.clock.advance(59)
    assert rig.statuses(1)[-1] == "Preparing"
    rig.clock.advance(1)
    assert rig.statuses(1)[-1] == "Available"
    rig.station.plug_in(1)
    assert rig.central.sent("StartTransaction") == []


def test_tag_then_plug_starts() -> None:
    """A vehicle plugged in within ConnectionTimeOut starts the waiting tag's transaction."""
    rig = make_rig("CP1")
    rig.station.present_id_tag(1, "TAG1")
    rig.clock.advance(30)
    rig.station.plug_in(1)
    assert [p["idTag"] for p in rig.central.sent("StartTransaction")] == ["TAG1"]
    rig.clock.advance(60)
    assert rig.statuses(1) == ["Available", "Preparing", "Charging"]


def test_authorize_invalid() -> None:
    """An idTag the central system calls Invalid starts nothing; it is cached."""
    rig = make_rig("CP1")
    rig.central.answers["Authorize"] = lambda p: {"idTagInfo": {"status": "Invalid"}}
    rig.station.plug_in(1)
    assert fired(rig.station.present_id_tag(1, "BAD"))["status"] == "Invalid"
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].transaction is None
    assert rig.statuses(1)[-1] == "Preparing"
    assert rig.station.auth.lookup_cache("BAD", rig.station.now_dt()) == {"status": "Invalid"}


@pytest.mark.parametrize("stop_on_invalid", ["true", "false"])
def test_start_rejected(stop_on_invalid: str) -> None:
    """
    A StartTransaction answered with an idTag not Accepted is stopped
    (DeAuthorized), unless StopTransactionOnInvalidId is false.
    """
    rig = make_rig("CP1")
    set_keys(rig, StopTransactionOnInvalidId=stop_on_invalid)
    rig.central.answers["StartTransaction"] = lambda p: start_reply("Blocked")
    charge(rig)
    stops = [(p["reason"], p["transactionId"]) for p in rig.central.sent("StopTransaction")]
    assert stops == ([("DeAuthorized", 7)] if stop_on_invalid == "true" else [])
    assert (rig.station.connectors[1].transaction is None) == (stop_on_invalid == "true")


def test_fault_while_charging() -> None:
    """
    A fault stops the transaction (reason Other) and is reported as Faulted
    with its errorCode and info; it refuses tags and vehicles; once cleared
    the connector is Available again.
    """
    rig = make_rig("CP1")
    charge(rig)
    with pytest.raises(LocalActionError):
        rig.station.set_fault(1, "NoError", None)
    rig.station.set_fault(1, "GroundFailure", "leak")
    assert rig.central.sent("StopTransaction")[0]["reason"] == "Other"
    faulted = rig.central.sent("StatusNotification")[-1]
    assert faulted["status"] == "Faulted"
    assert faulted["errorCode"] == "GroundFailure" and faulted["info"] == "leak"
    with pytest.raises(LocalActionError):
        rig.station.present_id_tag(1, "TAG1")
    rig.clock.advance(5)  # the vehicle leaves; a faulted connector takes no other
    with pytest.raises(LocalActionError):
        rig.station.plug_in(1)
    rig.station.clear_fault(1)
    assert rig.central.sent("StatusNotification")[-1]["errorCode"] == "NoError"
    assert rig.statuses(1)[-2:] == ["Faulted", "Available"]
    with pytest.raises(LocalActionError):
        rig.station.clear_fault(1)


def test_reservation() -> None:
    """
    A reserved connector is Reserved; only the reserved tag may use it, its
    StartTransaction carries the reservationId; an unused one expires.
    """
    rig = make_rig("CP2")
    expiry = iso_time(T0 + 600)
    for cid, rid in ((1, 11), (2, 12)):
        payload = {"connectorId": cid, "expiryDate": expiry, "idTag": "R", "reservationId": rid}
        assert rig.command("ReserveNow", payload)["status"] == "Accepted"
    assert rig.statuses(1)[-1] == "Reserved"
    with pytest.raises(LocalActionError):
        rig.station.present_id_tag(1, "OTHER")
    charge(rig, 1, "R")
    assert rig.central.sent("StartTransaction")[0]["reservationId"] == 11
    rig.clock.advance(600)
    assert rig.statuses(2) == ["Available", "Reserved", "Available"]


# --- the meter --------------------------------------------------------------------------


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


# --- authorization ----------------------------------------------------------------------


def test_offline_local_list() -> None:
    """
    Offline, an Accepted tag of the local list is authorized when
    LocalAuthorizeOffline is true (and the transaction starts, queued);
    not when it is false, nor a Blocked tag, even with AllowOfflineTxForUnknownId.
    """
    rig = make_rig("CP1")
    install_list(rig, GOOD="Accepted", BAD="Blocked")
    set_keys(rig, AllowOfflineTxForUnknownId="true")
    rig.disconnect()
    assert fired(rig.station.authorize("BAD"))["status"] == "Blocked"
    set_keys(rig, AllowOfflineTxForUnknownId="false", LocalAuthorizeOffline="false")
    assert fired(rig.station.authorize("GOOD"))["status"] == "Invalid"
    set_keys(rig, LocalAuthorizeOffline="true")
    rig.central.clear()
    charge(rig, tag="GOOD")
    assert rig.central.calls == []
    assert rig.station.connectors[1].status == "Charging"
    assert [m.action for m in rig.station.outbox.kept()] == ["StartTransaction"]


def test_offline_cache() -> None:
    """Offline, a tag the central system accepted before is authorized from the cache."""
    rig = make_rig("CP1")
    assert fired(rig.station.authorize("T"))["status"] == "Accepted"
    rig.disconnect()
    assert fired(rig.station.authorize("T"))["status"] == "Accepted"
    assert fired(rig.station.authorize("U"))["status"] == "Invalid"
    set_keys(rig, AuthorizationCacheEnabled="false")
    assert fired(rig.station.authorize("T"))["status"] == "Invalid"


def test_offline_unknown_id() -> None:
    """Offline, an unknown tag is Accepted only with AllowOfflineTxForUnknownId."""
    rig = make_rig("CP1")
    rig.disconnect()
    assert fired(rig.station.authorize("X"))["status"] == "Invalid"
    set_keys(rig, AllowOfflineTxForUnknownId="true")
    assert fired(rig.station.authorize("X"))["status"] == "Accepted"


def test_authorize_timeout_falls_back() -> None:
    """An Authorize that times out is decided by the offline rules."""
    rig = make_rig("CP1")
    set_keys(rig, AllowOfflineTxForUnknownId="true")
    rig.central.hold.add("Authorize")
    d = rig.station.authorize("X")
    assert not d.called
    rig.central.pending[0][2].errback(CallTimeout("EM-A0000001", "Authorize", 30))
    assert fired(d) == {"status": "Accepted"}


def test_local_pre_authorize() -> None:
    """With LocalPreAuthorize an accepted cached tag needs no Authorize; others do."""
    rig = make_rig("CP1")
    set_keys(rig, LocalPreAuthorize="true")
    install_list(rig, LISTED="Accepted", BLOCKED="Blocked")
    rig.central.clear()
    assert fired(rig.station.authorize("LISTED"))["status"] == "Accepted"
    assert rig.central.calls == []
    rig.station.authorize("BLOCKED")
    assert rig.central.sent("Authorize") == [{"idTag": "BLOCKED"}]
