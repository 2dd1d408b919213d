"""
Tests for L{ocppcs.emulator.commands}: TriggerMessage, GetDiagnostics and
UpdateFirmware, and that every command's reply goes out before the messages
that follow from it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ocppcs.emulator.maintenance import PROGRESS_STEP
from ocppcs.isotime import iso_time
from tests.emulator.harness import (
    T0,
    Rig,
    attach_link,
    command_in_order,
    make_rig,
    start_charging,
)

# --- TriggerMessage -------------------------------------------------------------------------


def _trigger(rig: Rig, message: str, connector_id: int | None = None) -> list[str]:
    """Trigger C{message}; the reply status followed by the actions sent after the reply."""
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector_id is not None:
        payload["connectorId"] = connector_id
    rig.central.clear()
    reply, order = command_in_order(rig, "TriggerMessage", payload)
    assert order[0] == "TriggerMessage.conf"
    return [reply["status"], *order[1:]]


@pytest.mark.parametrize(
    ("message", "sent"),
    [
        ("BootNotification", "BootNotification"),
        ("Heartbeat", "Heartbeat"),
        ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
    ],
)
def test_trigger_station_message(message: str, sent: str) -> None:
    """The requested station-wide message is sent once, after the Accepted reply."""
    rig = make_rig("CP2")
    assert _trigger(rig, message)[:2] == ["Accepted", sent]
    assert rig.central.actions().count(sent) == 1


@pytest.mark.parametrize("message", ["DiagnosticsStatusNotification", "FirmwareStatusNotification"])
def test_trigger_idle_status_notifications(message: str) -> None:
    """With nothing under way, a triggered Diagnostics/FirmwareStatusNotification says Idle."""
    rig = make_rig("CP1")
    _trigger(rig, message)
    assert rig.central.sent(message) == [{"status": "Idle"}]


@pytest.mark.parametrize("message", ["Heartbeat", "DiagnosticsStatusNotification"])
def test_trigger_ignores_irrelevant_connector(message: str) -> None:
    """A connectorId that means nothing for the requested message is ignored (OCPP 1.6 5.17)."""
    rig = make_rig("CP1")
    assert _trigger(rig, message, 7) == ["Accepted", message]


def test_trigger_status_notification() -> None:
    """StatusNotification for one connector, for 0 (the station), or for all of them."""
    rig = make_rig("CP2")
    assert _trigger(rig, "StatusNotification", 2) == ["Accepted", "StatusNotification"]
    assert rig.statuses(2) == ["Available"]
    assert _trigger(rig, "StatusNotification", 0) == ["Accepted", "StatusNotification"]
    assert [p["connectorId"] for p in rig.central.sent("StatusNotification")] == [0]
    assert _trigger(rig, "StatusNotification") == ["Accepted"] + ["StatusNotification"] * 3
    assert [p["connectorId"] for p in rig.central.sent("StatusNotification")] == [0, 1, 2]


def test_trigger_meter_values() -> None:
    """MeterValues for one connector or each, context Trigger; a transaction's carry its id."""
    rig = make_rig("CP2")
    transaction_id = start_charging(rig, 1)
    assert _trigger(rig, "MeterValues", 1) == ["Accepted", "MeterValues"]
    [meter] = rig.central.sent("MeterValues")
    assert (meter["connectorId"], meter["transactionId"]) == (1, transaction_id)
    assert {v["context"] for v in meter["meterValue"][0]["sampledValue"]} == {"Trigger"}
    assert _trigger(rig, "MeterValues") == ["Accepted", "MeterValues", "MeterValues"]
    assert [p["connectorId"] for p in rig.central.sent("MeterValues")] == [1, 2]


@pytest.mark.parametrize(
    ("message", "connector_id"), [("StatusNotification", 3), ("MeterValues", 9)]
)
def test_trigger_bad_connector(message: str, connector_id: int) -> None:
    """A connector the station lacks is Rejected and nothing is sent."""
    rig = make_rig("CP2")
    assert _trigger(rig, message, connector_id) == ["Rejected"]


# --- GetDiagnostics -------------------------------------------------------------------------


def test_get_diagnostics() -> None:
    """
    GetDiagnostics answers a file name, then DiagnosticsStatusNotification
    Uploading and, a little later, Uploaded; a trigger meanwhile says
    Uploading, and Idle once it is done.
    """
    rig = make_rig("CP1")
    rig.central.clear()
    reply, order = command_in_order(rig, "GetDiagnostics", {"location": "ftp://logs.example.com/"})
    assert reply["fileName"].startswith("diagnostics-")
    assert order == ["GetDiagnostics.conf", "DiagnosticsStatusNotification"]
    assert rig.station.snapshot()["diagnosticsStatus"] == "Uploading"
    _trigger(rig, "DiagnosticsStatusNotification")
    rig.clock.advance(PROGRESS_STEP)
    statuses = [p["status"] for p in rig.central.sent("DiagnosticsStatusNotification")]
    assert statuses == ["Uploading", "Uploaded"]
    _trigger(rig, "DiagnosticsStatusNotification")
    assert rig.central.sent("DiagnosticsStatusNotification") == [{"status": "Idle"}]


# --- UpdateFirmware -------------------------------------------------------------------------

FIRMWARE = "https://fw.example.com/images/cp-2.0.1.bin"


def _firmware_statuses(rig: Rig) -> list[str]:
    return [p["status"] for p in rig.central.sent("FirmwareStatusNotification")]


def _steps(rig: Rig, n: int) -> None:
    """Let C{n} progress steps pass, one by one (a Clock runs one link of a chain per advance)."""
    for _ in range(n):
        rig.clock.advance(PROGRESS_STEP)


def test_update_firmware_steps_then_reboot() -> None:
    """
    UpdateFirmware answers at once, then reports Downloading, Downloaded,
    Installing and Installed over time, reboots, and the next
    BootNotification carries the new firmwareVersion.
    """
    rig = make_rig("CP1")
    link = attach_link(rig, reboot=True)
    rig.central.clear()
    payload = {"location": FIRMWARE, "retrieveDate": iso_time(T0)}
    reply, order = command_in_order(rig, "UpdateFirmware", payload)
    assert reply == {}
    assert order == ["UpdateFirmware.conf", "FirmwareStatusNotification"]
    assert _firmware_statuses(rig) == ["Downloading"]
    rig.clock.advance(PROGRESS_STEP)
    assert _firmware_statuses(rig) == ["Downloading", "Downloaded"]
    _steps(rig, 2)
    assert _firmware_statuses(rig) == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert link.reconnects == 0
    rig.clock.advance(PROGRESS_STEP)
    assert link.reconnects == 1
    [boot] = rig.central.sent("BootNotification")
    assert boot["firmwareVersion"] == "cp-2.0.1"


def test_update_firmware_waits_for_retrieve_date() -> None:
    """A retrieveDate in the future: nothing happens until then."""
    rig = make_rig("CP1")
    rig.central.clear()
    rig.command("UpdateFirmware", {"location": FIRMWARE, "retrieveDate": iso_time(T0 + 3600)})
    rig.clock.advance(3599)
    assert _firmware_statuses(rig) == []
    rig.clock.advance(1)
    assert _firmware_statuses(rig) == ["Downloading"]


def test_update_firmware_trigger_while_busy_and_after() -> None:
    """A triggered FirmwareStatusNotification reports the step under way, and Idle once done."""
    rig = make_rig("CP1")
    attach_link(rig)
    rig.command("UpdateFirmware", {"location": FIRMWARE, "retrieveDate": iso_time(T0)})
    rig.clock.advance(PROGRESS_STEP)
    _trigger(rig, "FirmwareStatusNotification")
    assert _firmware_statuses(rig) == ["Downloaded"]
    _steps(rig, 4)
    _trigger(rig, "FirmwareStatusNotification")
    assert _firmware_statuses(rig) == ["Idle"]


def test_update_firmware_stops_transaction_for_reboot() -> None:
    """A running transaction stops with reason Reboot (no Reset was asked for) before the reboot."""
    rig = make_rig("CP1")
    link = attach_link(rig)
    start_charging(rig)
    rig.command("UpdateFirmware", {"location": FIRMWARE, "retrieveDate": iso_time(T0)})
    _steps(rig, 4)
    [stop] = rig.central.sent("StopTransaction")
    assert stop["reason"] == "Reboot"
    assert link.reconnects == 1


def test_firmware_version_survives_restart() -> None:
    """The installed firmwareVersion is saved: a restarted station boots with it."""
    rig = make_rig("CP1")
    attach_link(rig)
    rig.command("UpdateFirmware", {"location": FIRMWARE, "retrieveDate": iso_time(T0)})
    _steps(rig, 4)
    again = make_rig("CP1", store=rig.store)
    [boot] = again.central.sent("BootNotification")
    assert boot["firmwareVersion"] == "cp-2.0.1"


# --- the reply goes first -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("Reset", {"type": "Soft"}),
        ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
        ("UnlockConnector", {"connectorId": 1}),
        ("RemoteStartTransaction", {"idTag": "TAG-2", "connectorId": 2}),
        ("RemoteStopTransaction", {"transactionId": 101}),
        (
            "ReserveNow",
            {"connectorId": 2, "expiryDate": iso_time(T0 + 60), "idTag": "R", "reservationId": 1},
        ),
        ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
        ("GetDiagnostics", {"location": "ftp://logs.example.com/"}),
        ("UpdateFirmware", {"location": FIRMWARE, "retrieveDate": iso_time(T0)}),
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "0"}),
    ],
)
def test_reply_before_follow_ups(action: str, payload: dict[str, Any]) -> None:
    """Nothing the command causes is sent before its reply; something is sent after it."""
    rig = make_rig("CP2")
    attach_link(rig, reboot=True)
    start_charging(rig, 1)
    rig.central.clear()
    _, order = command_in_order(rig, action, payload)
    assert order[0] == f"{action}.conf"
    if action != "ChangeConfiguration":
        assert len(order) > 1
