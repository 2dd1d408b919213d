"""
Tests for the sessions of L{ocppcs.emulator.charging}: the driver's local
actions, idTag authorization, StartTransaction / StopTransaction, faults and
reservations, on a station driven by L{tests.emulator.harness}.
"""

from __future__ import annotations

import pytest

from ocppcs.emulator.charging import LocalActionError
from ocppcs.isotime import iso_time
from tests.emulator.driving import charge, fired, set_keys, start_reply
from tests.emulator.harness import T0, make_rig


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
