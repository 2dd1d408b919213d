"""
Tests for L{ocppcs.emulator.commands}: Reset, ChangeAvailability,
UnlockConnector, DataTransfer and unknown actions, each with its real effect
and its reply sent before what follows from it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ocppcs.emulator.charging import LocalActionError
from ocppcs.emulator.commands import RESET_WAIT
from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.frames import Call
from tests.emulator.harness import T0, attach_link, command_in_order, make_rig, start_charging

# --- Reset ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_reset_stops_transaction_then_reboots(kind: str) -> None:
    """
    Reset is Accepted first; then the running transaction stops with reason
    SoftReset / HardReset and, once its StopTransaction is answered, the
    station reconnects through its link.
    """
    rig = make_rig("CP1")
    link = attach_link(rig)
    transaction_id = start_charging(rig)
    rig.central.clear()
    reply, order = command_in_order(rig, "Reset", {"type": kind})
    assert reply == {"status": "Accepted"}
    assert order[:2] == ["Reset.conf", "StopTransaction"]
    [stop] = rig.central.sent("StopTransaction")
    assert stop["transactionId"] == transaction_id
    assert stop["reason"] == f"{kind}Reset"
    assert link.reconnects == 1


def test_reset_reboot_boots_again() -> None:
    """After a Reset the station connects again and sends a new BootNotification."""
    rig = make_rig("CP1")
    attach_link(rig, reboot=True)
    rig.central.clear()
    rig.command("Reset", {"type": "Soft"})
    assert rig.central.actions()[0] == "BootNotification"
    assert rig.station.online


def test_reset_waits_for_stop_transaction_answer() -> None:
    """The reboot waits until the StopTransaction of the reset is answered."""
    rig = make_rig("CP1")
    link = attach_link(rig)
    start_charging(rig)
    rig.central.hold.add("StopTransaction")
    rig.command("Reset", {"type": "Hard"})
    rig.clock.advance(RESET_WAIT / 2)
    assert link.reconnects == 0
    [(action, _, d)] = rig.central.pending
    assert action == "StopTransaction"
    d.callback({"idTagInfo": {"status": "Accepted"}})
    rig.clock.advance(1)
    assert link.reconnects == 1


def test_reset_waits_no_longer_than_reset_wait() -> None:
    """An unanswered StopTransaction holds the reboot back for RESET_WAIT seconds at most."""
    rig = make_rig("CP1")
    link = attach_link(rig)
    start_charging(rig)
    rig.central.hold.add("StopTransaction")
    rig.command("Reset", {"type": "Soft"})
    while link.reconnects == 0 and rig.clock.seconds() < T0 + 2 * RESET_WAIT:
        rig.clock.advance(0.05)
    assert link.reconnects == 1
    assert rig.clock.seconds() - T0 == pytest.approx(RESET_WAIT, abs=0.2)


def test_reset_idle_station_reboots_without_messages() -> None:
    """An idle station answers Reset and reboots without sending anything."""
    rig = make_rig("CP2")
    link = attach_link(rig)
    rig.central.clear()
    reply, order = command_in_order(rig, "Reset", {"type": "Hard"})
    assert reply == {"status": "Accepted"}
    assert order == ["Reset.conf"]
    assert link.reconnects == 1


# --- ChangeAvailability ---------------------------------------------------------------------


def test_change_availability_connector() -> None:
    """
    Inoperative makes the connector Unavailable (StatusNotification after the
    reply) and refuses a remote start there; Operative makes it Available.
    """
    rig = make_rig("CP2")
    reply, order = command_in_order(
        rig, "ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}
    )
    assert reply == {"status": "Accepted"}
    assert order[-2:] == ["ChangeAvailability.conf", "StatusNotification"]
    assert rig.statuses(2)[-1] == "Unavailable"
    assert rig.statuses(1) == ["Available"]
    start = rig.command("RemoteStartTransaction", {"idTag": "T", "connectorId": 2})
    assert start == {"status": "Rejected"}
    with pytest.raises(LocalActionError):
        rig.station.plug_in(2)
    reply = rig.command("ChangeAvailability", {"connectorId": 2, "type": "Operative"})
    assert reply == {"status": "Accepted"}
    assert rig.statuses(2)[-1] == "Available"


def test_change_availability_station() -> None:
    """Connector 0 changes the station and every connector; each reports its status."""
    rig = make_rig("CP2")
    rig.central.clear()
    reply = rig.command("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert reply == {"status": "Accepted"}
    assert [rig.statuses(i) for i in (0, 1, 2)] == [["Unavailable"]] * 3
    rig.central.clear()
    rig.command("ChangeAvailability", {"connectorId": 0, "type": "Operative"})
    assert [rig.statuses(i) for i in (0, 1, 2)] == [["Available"]] * 3


def test_change_availability_same_state_accepted() -> None:
    """Asking for the availability a connector already has is Accepted and reports nothing."""
    rig = make_rig("CP1")
    rig.central.clear()
    reply = rig.command("ChangeAvailability", {"connectorId": 1, "type": "Operative"})
    assert reply == {"status": "Accepted"}
    assert rig.statuses(1) == []


def test_change_availability_scheduled_while_charging() -> None:
    """
    While a transaction runs the change is Scheduled: the connector keeps
    charging and becomes Unavailable when the transaction ends.
    """
    rig = make_rig("CP1")
    transaction_id = start_charging(rig)
    rig.central.clear()
    reply = rig.command("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert reply == {"status": "Scheduled"}
    assert rig.statuses(1) == []
    assert rig.station.connectors[1].status == "Charging"
    rig.command("RemoteStopTransaction", {"transactionId": transaction_id})
    assert rig.central.actions() == ["StopTransaction", "StatusNotification"]
    assert rig.statuses(1) == ["Unavailable"]


def test_change_availability_scheduled_then_cancelled() -> None:
    """Operative again before the transaction ends cancels the scheduled change."""
    rig = make_rig("CP1")
    transaction_id = start_charging(rig)
    rig.command("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    reply = rig.command("ChangeAvailability", {"connectorId": 1, "type": "Operative"})
    assert reply == {"status": "Accepted"}
    rig.command("RemoteStopTransaction", {"transactionId": transaction_id})
    assert rig.station.connectors[1].status == "Finishing"


def test_change_availability_station_scheduled_while_charging() -> None:
    """
    Connector 0 Inoperative while one connector charges is Scheduled: the idle
    connector becomes Unavailable at once, the charging one when it ends.
    """
    rig = make_rig("CP2")
    transaction_id = start_charging(rig, 1)
    rig.central.clear()
    reply = rig.command("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert reply == {"status": "Scheduled"}
    assert rig.statuses(2) == ["Unavailable"]
    assert rig.statuses(1) == []
    rig.command("RemoteStopTransaction", {"transactionId": transaction_id})
    assert rig.statuses(1) == ["Unavailable"]


def test_change_availability_station_scheduled_keeps_station_available() -> None:
    """A Scheduled change of connector 0 leaves connector 0 Available until the transaction ends."""
    rig = make_rig("CP2")
    start_charging(rig, 1)
    rig.central.clear()
    assert rig.command("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}) == {
        "status": "Scheduled"
    }
    assert rig.statuses(0) == []
    rig.command(
        "RemoteStopTransaction",
        {"transactionId": rig.station.connectors[1].transaction.transaction_id},
    )
    assert rig.statuses(0) == ["Unavailable"]
    assert rig.central.actions().index("StopTransaction") < len(rig.central.actions()) - 1


def test_change_availability_unknown_connector() -> None:
    """An unknown connector is Rejected and nothing changes."""
    rig = make_rig("CP1")
    rig.central.clear()
    reply = rig.command("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    assert reply == {"status": "Rejected"}
    assert rig.central.calls == []


def test_change_availability_survives_restart() -> None:
    """The availability is saved: a restarted station boots with the connector Unavailable."""
    rig = make_rig("CP2")
    rig.command("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    again = make_rig("CP2", store=rig.store)
    assert again.statuses(1) == ["Unavailable"]
    assert again.statuses(2) == ["Available"]


# --- UnlockConnector ------------------------------------------------------------------------


def test_unlock_stops_transaction() -> None:
    """
    UnlockConnector answers Unlocked, then stops the transaction with reason
    UnlockCommand; the cable is free so the connector is Available.
    """
    rig = make_rig("CP1")
    transaction_id = start_charging(rig)
    rig.central.clear()
    reply, order = command_in_order(rig, "UnlockConnector", {"connectorId": 1})
    assert reply == {"status": "Unlocked"}
    assert order == ["UnlockConnector.conf", "StopTransaction", "StatusNotification"]
    [stop] = rig.central.sent("StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, "UnlockCommand")
    assert rig.statuses(1) == ["Available"]
    assert not rig.station.connectors[1].plugged


def test_unlock_without_transaction_releases_vehicle() -> None:
    """Unlocking a connector with a vehicle but no transaction frees it."""
    rig = make_rig("CP1")
    rig.station.plug_in(1)
    rig.central.clear()
    reply = rig.command("UnlockConnector", {"connectorId": 1})
    assert reply == {"status": "Unlocked"}
    assert rig.statuses(1) == ["Available"]
    assert rig.central.sent("StopTransaction") == []


def test_unlock_unknown_connector() -> None:
    """An unknown connector answers NotSupported."""
    rig = make_rig("CP1")
    assert rig.command("UnlockConnector", {"connectorId": 3}) == {"status": "NotSupported"}


# --- DataTransfer and unknown actions -------------------------------------------------------


def test_data_transfer_own_vendor_echoes() -> None:
    """A DataTransfer for the station's vendor without messageId is Accepted and echoes data."""
    rig = make_rig("CP1")
    reply = rig.command("DataTransfer", {"vendorId": "Emulator", "data": "ping"})
    assert reply == {"status": "Accepted", "data": "ping"}
    assert rig.command("DataTransfer", {"vendorId": "Emulator"}) == {"status": "Accepted"}


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"vendorId": "Someone", "data": "x"}, "UnknownVendorId"),
        ({"vendorId": "Emulator", "messageId": "Foo", "data": "x"}, "UnknownMessageId"),
    ],
)
def test_data_transfer_unknown(payload: dict[str, Any], status: str) -> None:
    """Another vendor is UnknownVendorId; a message id of the station's vendor UnknownMessageId."""
    rig = make_rig("CP1")
    assert rig.command("DataTransfer", payload) == {"status": status}


def test_unknown_action_not_implemented() -> None:
    """An action the station has no answer for fails with a NotImplemented CALLERROR."""
    rig = make_rig("CP1")
    d = rig.station.receive_call(rig.central, Call("id", "Frobnicate", {}))  # type: ignore[arg-type]
    failure = []
    d.addErrback(failure.append)
    [f] = failure
    assert f.check(OcppError)
    assert f.value.code == ErrorCode.NotImplemented
