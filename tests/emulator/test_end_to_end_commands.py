"""
Each of the 19 OCPP 1.6 commands sent through C{POST
/api/v1/ChargePoint/{identity}/{Operation}} to an emulated station of the
same process, over real WebSockets: the reply is valid (official response
schema and C{openapi.yaml}), and the command's effect is visible at the
central system (statuses, transactions, reservations, boot data) or, where
only the station knows it (configuration, local list, cache, profiles), in
the station's later replies or state.

Each test gets its own central system and stations (some commands reboot
the station); all use EM-A0000004, the station with four AC connectors.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_twisted

from ocppcs.emulator import maintenance
from ocppcs.v16.actions import CENTRAL_ACTIONS
from tests.emulator.test_end_to_end import (
    TAG,
    closed,
    command,
    cs_station,
    cs_status,
    in_an_hour,
    remote_start,
    start,
    station,
    until,
)
from tests.web.conftest import WebCentral, stop_web_central

CP = "EM-A0000004"
PROFILE = {
    "chargingProfileId": 5,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "startSchedule": "2020-01-01T00:00:00Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}],
    },
}


@pytest_twisted.async_yield_fixture
async def cs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WebCentral]:
    """
    A central system running the example stations; firmware and
    diagnostics steps take 0.1 s instead of 2 s.
    """
    monkeypatch.setattr(maintenance, "PROGRESS_STEP", 0.1)
    web = await start(tmp_path_factory)
    yield web
    await stop_web_central(web)


def test_every_command_is_covered() -> None:
    """There is a test here for each of the 19 commands."""
    tested = {name[len("test_") :] for name in dir(sys.modules[__name__])}
    assert CENTRAL_ACTIONS <= tested


async def status_of(web: WebCentral, kind: str) -> str | None:
    """The central system's C{firmwareStatus} or C{diagnosticsStatus} of the station."""
    found = (await cs_station(web, CP))[kind]
    return found["status"] if found else None


@pytest_twisted.ensureDeferred
async def test_CancelReservation(cs: WebCentral) -> None:
    """A reservation cancelled: Available again, Cancelled in the list; again: Rejected."""
    reserve = {"connectorId": 1, "expiryDate": in_an_hour(), "idTag": TAG, "reservationId": 11}
    assert (await command(cs, CP, "ReserveNow", reserve))["status"] == "Accepted"
    await cs_status(cs, CP, 1, "Reserved")
    cancel = {"reservationId": 11}
    assert (await command(cs, CP, "CancelReservation", cancel)) == {"status": "Accepted"}
    await cs_status(cs, CP, 1, "Available")
    [listed] = (await cs.api.get("/CentralSystem/ReservationList")).json["ReservationList"]
    assert (listed["id"], listed["status"]) == (11, "Cancelled")
    assert (await command(cs, CP, "CancelReservation", cancel)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_ChangeAvailability(cs: WebCentral) -> None:
    """
    Inoperative: Unavailable at the central system, Operative: Available;
    during a transaction: Scheduled, applied when it ends; no such
    connector: Rejected.
    """
    inoperative = {"connectorId": 2, "type": "Inoperative"}
    assert (await command(cs, CP, "ChangeAvailability", inoperative)) == {"status": "Accepted"}
    await cs_status(cs, CP, 2, "Unavailable")
    operative = {"connectorId": 2, "type": "Operative"}
    assert (await command(cs, CP, "ChangeAvailability", operative)) == {"status": "Accepted"}
    await cs_status(cs, CP, 2, "Available")

    transaction_id = await remote_start(cs, CP, 1)
    inoperative = {"connectorId": 1, "type": "Inoperative"}
    assert (await command(cs, CP, "ChangeAvailability", inoperative)) == {"status": "Scheduled"}
    await cs_status(cs, CP, 1, "Charging")
    await command(cs, CP, "RemoteStopTransaction", {"transactionId": transaction_id})
    await cs_status(cs, CP, 1, "Unavailable")

    unknown = {"connectorId": 9, "type": "Inoperative"}
    assert (await command(cs, CP, "ChangeAvailability", unknown)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_ChangeConfiguration(cs: WebCentral) -> None:
    """
    A writable key changes (GetConfiguration shows it, the heartbeat uses
    it); read-only: Rejected; connection keys: RebootRequired; unknown:
    NotSupported.
    """
    change = {"key": "HeartbeatInterval", "value": "30"}
    assert (await command(cs, CP, "ChangeConfiguration", change)) == {"status": "Accepted"}
    got = await command(cs, CP, "GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert got["configurationKey"] == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "30"}
    ]
    assert station(cs, CP).heartbeat_interval == 30.0
    for key, value, status in [
        ("NumberOfConnectors", "9", "Rejected"),
        ("HeartbeatInterval", "soon", "Rejected"),
        ("WebSocketPingInterval", "20", "RebootRequired"),
        ("NoSuchKey", "1", "NotSupported"),
    ]:
        reply = await command(cs, CP, "ChangeConfiguration", {"key": key, "value": value})
        assert reply == {"status": status}, key


@pytest_twisted.ensureDeferred
async def test_ClearCache(cs: WebCentral) -> None:
    """The idTag the central system authorized is cached; ClearCache forgets it."""
    emulated = station(cs, CP)
    assert (await emulated.authorize("CACHED"))["status"] == "Accepted"
    assert emulated.auth.lookup_cache("CACHED", datetime.now(UTC)) is not None
    assert (await command(cs, CP, "ClearCache")) == {"status": "Accepted"}
    assert emulated.auth.lookup_cache("CACHED", datetime.now(UTC)) is None


@pytest_twisted.ensureDeferred
async def test_ClearChargingProfile(cs: WebCentral) -> None:
    """An installed profile is cleared (the limit goes); clearing it again: Unknown."""
    payload = {"connectorId": 1, "csChargingProfiles": PROFILE}
    assert (await command(cs, CP, "SetChargingProfile", payload)) == {"status": "Accepted"}
    assert station(cs, CP).profiles.profiles(1)
    assert (await command(cs, CP, "ClearChargingProfile", {"id": 5})) == {"status": "Accepted"}
    assert not station(cs, CP).profiles.profiles(1)
    assert (await command(cs, CP, "ClearChargingProfile", {"id": 5})) == {"status": "Unknown"}


@pytest_twisted.ensureDeferred
async def test_DataTransfer(cs: WebCentral) -> None:
    """The station's own vendor: Accepted, data echoed; other vendor or a messageId: unknown."""
    vendor = station(cs, CP).config.boot["chargePointVendor"]
    reply = await command(cs, CP, "DataTransfer", {"vendorId": vendor, "data": "ping"})
    assert reply == {"status": "Accepted", "data": "ping"}
    reply = await command(cs, CP, "DataTransfer", {"vendorId": "com.example.other"})
    assert reply == {"status": "UnknownVendorId"}
    reply = await command(cs, CP, "DataTransfer", {"vendorId": vendor, "messageId": "x"})
    assert reply == {"status": "UnknownMessageId"}


@pytest_twisted.ensureDeferred
async def test_GetCompositeSchedule(cs: WebCentral) -> None:
    """The composite schedule carries the limit of the installed default profile."""
    payload = {"connectorId": 1, "csChargingProfiles": PROFILE}
    assert (await command(cs, CP, "SetChargingProfile", payload)) == {"status": "Accepted"}
    ask = {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"}
    reply = await command(cs, CP, "GetCompositeSchedule", ask)
    assert (reply["status"], reply["connectorId"]) == ("Accepted", 1)
    schedule = reply["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 7000.0
    unknown = {"connectorId": 9, "duration": 600}
    assert (await command(cs, CP, "GetCompositeSchedule", unknown)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_GetConfiguration(cs: WebCentral) -> None:
    """The keys asked for (values as configured) and the unknown ones; or every key."""
    ask = {"key": ["MeterValueSampleInterval", "NumberOfConnectors", "Nope"]}
    reply = await command(cs, CP, "GetConfiguration", ask)
    assert reply == {
        "configurationKey": [
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "1"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "4"},
        ],
        "unknownKey": ["Nope"],
    }
    every = await command(cs, CP, "GetConfiguration")
    keys = {k["key"] for k in every["configurationKey"]}
    assert {"HeartbeatInterval", "SupportedFeatureProfiles", "ChargePointVendor"} <= keys


@pytest_twisted.ensureDeferred
async def test_GetDiagnostics(cs: WebCentral) -> None:
    """A file name; the central system then sees the upload go Uploading -> Uploaded."""
    reply = await command(cs, CP, "GetDiagnostics", {"location": "ftp://example.com/diag/"})
    assert reply["fileName"].startswith(f"diagnostics-{CP}-")

    async def uploaded() -> bool:
        return await status_of(cs, "diagnosticsStatus") == "Uploaded"

    await until(uploaded, "DiagnosticsStatusNotification Uploaded")
    assert station(cs, CP).diagnostics_status == "Uploaded"


@pytest_twisted.ensureDeferred
async def test_GetLocalListVersion(cs: WebCentral) -> None:
    """0 for no list; the version of the list SendLocalList installed."""
    assert (await command(cs, CP, "GetLocalListVersion")) == {"listVersion": 0}
    full = {"listVersion": 12, "updateType": "Full", "localAuthorizationList": []}
    assert (await command(cs, CP, "SendLocalList", full)) == {"status": "Accepted"}
    assert (await command(cs, CP, "GetLocalListVersion")) == {"listVersion": 12}


@pytest_twisted.ensureDeferred
async def test_RemoteStartTransaction(cs: WebCentral) -> None:
    """Accepted: the tag's transaction opens at the central system; no such connector: Rejected."""
    transaction_id = await remote_start(cs, CP, 3)
    await cs_status(cs, CP, 3, "Charging")
    listed = (await cs.api.get("/CentralSystem/TransactionList", identity=CP)).json
    [open_one] = [t for t in listed["TransactionList"] if t["id"] == transaction_id]
    assert (open_one["idTag"], open_one["connectorId"], open_one["meterStop"]) == (TAG, 3, None)
    unknown = {"idTag": TAG, "connectorId": 9}
    assert (await command(cs, CP, "RemoteStartTransaction", unknown)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_RemoteStopTransaction(cs: WebCentral) -> None:
    """The running transaction stops (reason Remote); an unknown one: Rejected."""
    transaction_id = await remote_start(cs, CP, 1)
    stop = {"transactionId": transaction_id}
    assert (await command(cs, CP, "RemoteStopTransaction", stop)) == {"status": "Accepted"}
    assert (await closed(cs, transaction_id))["reason"] == "Remote"
    assert (await command(cs, CP, "RemoteStopTransaction", stop)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_ReserveNow(cs: WebCentral) -> None:
    """
    Reserved at the central system and in its list; another reservation on
    it: Occupied; the reserved tag's transaction uses the reservation.
    """
    reserve = {"connectorId": 2, "expiryDate": in_an_hour(), "idTag": TAG, "reservationId": 21}
    assert (await command(cs, CP, "ReserveNow", reserve)) == {"status": "Accepted"}
    await cs_status(cs, CP, 2, "Reserved")
    snapshot = (await cs.api.get(f"/Emulator/Station/{CP}")).json
    assert snapshot["connectors"][1]["reservation"]["reservationId"] == 21
    other = {**reserve, "reservationId": 22, "idTag": "SOMEONE"}
    assert (await command(cs, CP, "ReserveNow", other)) == {"status": "Occupied"}

    transaction_id = await remote_start(cs, CP, 2)
    found = (await cs.api.get(f"/Transaction/{transaction_id}")).json
    assert found["reservationId"] == 21
    [listed] = (await cs.api.get("/CentralSystem/ReservationList")).json["ReservationList"]
    assert (listed["id"], listed["status"], listed["transactionId"]) == (21, "Used", transaction_id)


@pytest_twisted.ensureDeferred
async def test_Reset(cs: WebCentral) -> None:
    """A soft reset stops the transaction (SoftReset) and the station boots again."""
    transaction_id = await remote_start(cs, CP, 1)
    booted = (await cs_station(cs, CP))["lastBoot"]
    assert (await command(cs, CP, "Reset", {"type": "Soft"})) == {"status": "Accepted"}
    assert (await closed(cs, transaction_id))["reason"] == "SoftReset"

    async def rebooted() -> bool:
        detail = await cs_station(cs, CP)
        return detail["lastBoot"] != booted and detail["online"]

    await until(rebooted, "a new BootNotification")
    await until(lambda: station(cs, CP).online, "the station online again")


@pytest_twisted.ensureDeferred
async def test_SendLocalList(cs: WebCentral) -> None:
    """A full list is installed, a differential update changes it; an old version: mismatch."""
    entries = [
        {"idTag": "LOCAL-1", "idTagInfo": {"status": "Accepted"}},
        {"idTag": "LOCAL-2", "idTagInfo": {"status": "Blocked"}},
    ]
    full = {"listVersion": 3, "updateType": "Full", "localAuthorizationList": entries}
    assert (await command(cs, CP, "SendLocalList", full)) == {"status": "Accepted"}
    now = datetime.now(UTC)
    auth = station(cs, CP).auth
    assert auth.lookup_list("LOCAL-2", now) == {"status": "Blocked"}
    update = {
        "listVersion": 4,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "LOCAL-2", "idTagInfo": {"status": "Accepted"}}],
    }
    assert (await command(cs, CP, "SendLocalList", update)) == {"status": "Accepted"}
    assert auth.lookup_list("LOCAL-2", now) == {"status": "Accepted"}
    assert (await command(cs, CP, "GetLocalListVersion")) == {"listVersion": 4}
    stale = {**update, "listVersion": 2}
    assert (await command(cs, CP, "SendLocalList", stale)) == {"status": "VersionMismatch"}


@pytest_twisted.ensureDeferred
async def test_SetChargingProfile(cs: WebCentral) -> None:
    """A 7 kW default profile limits the next transaction on the 22 kW connector."""
    payload = {"connectorId": 1, "csChargingProfiles": PROFILE}
    assert (await command(cs, CP, "SetChargingProfile", payload)) == {"status": "Accepted"}
    await remote_start(cs, CP, 1)
    view = (await cs.api.get(f"/Emulator/Station/{CP}")).json["connectors"][0]
    assert view["limitW"] == 7000.0

    async def limited() -> bool:
        power = (await cs.api.get(f"/Emulator/Station/{CP}")).json["connectors"][0]["powerW"]
        return 0 < power <= 7000.0

    await until(limited, "charging at no more than 7 kW")
    tx_profile = {**PROFILE, "chargingProfilePurpose": "TxProfile"}
    rejected = {"connectorId": 2, "csChargingProfiles": tx_profile}  # no transaction there
    assert (await command(cs, CP, "SetChargingProfile", rejected)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_TriggerMessage(cs: WebCentral) -> None:
    """
    The requested messages arrive: the firmware and diagnostics statuses
    (Idle) at the central system; a connector's StatusNotification anew;
    no such connector: Rejected.
    """
    assert await status_of(cs, "firmwareStatus") is None
    for message in ("FirmwareStatusNotification", "DiagnosticsStatusNotification"):
        reply = await command(cs, CP, "TriggerMessage", {"requestedMessage": message})
        assert reply == {"status": "Accepted"}

    async def reported() -> bool:
        firmware = await status_of(cs, "firmwareStatus")
        return firmware == "Idle" and await status_of(cs, "diagnosticsStatus") == "Idle"

    await until(reported, "the triggered status notifications")
    before = (await cs_status(cs, CP, 4, "Available"))["updated"]
    trigger = {"requestedMessage": "StatusNotification", "connectorId": 4}
    assert (await command(cs, CP, "TriggerMessage", trigger)) == {"status": "Accepted"}

    async def again() -> bool:
        return (await cs_status(cs, CP, 4, "Available"))["updated"] != before

    await until(again, "a new StatusNotification of connector 4")
    unknown = {"requestedMessage": "MeterValues", "connectorId": 9}
    assert (await command(cs, CP, "TriggerMessage", unknown)) == {"status": "Rejected"}


@pytest_twisted.ensureDeferred
async def test_UnlockConnector(cs: WebCentral) -> None:
    """Unlocking stops the transaction (UnlockCommand), the vehicle leaves: Available."""
    transaction_id = await remote_start(cs, CP, 2)
    assert (await command(cs, CP, "UnlockConnector", {"connectorId": 2})) == {"status": "Unlocked"}
    assert (await closed(cs, transaction_id))["reason"] == "UnlockCommand"
    await cs_status(cs, CP, 2, "Available")
    assert station(cs, CP).connectors[2].plugged is False
    reply = await command(cs, CP, "UnlockConnector", {"connectorId": 9})
    assert reply == {"status": "NotSupported"}


@pytest_twisted.ensureDeferred
async def test_UpdateFirmware(cs: WebCentral) -> None:
    """
    The update runs Downloading .. Installed at the central system, then
    the station reboots and boots with the new firmware version.
    """
    update = {"location": "https://example.com/fw/EMU-2.0.bin", "retrieveDate": in_the_past()}
    assert (await command(cs, CP, "UpdateFirmware", update)) == {}

    async def installed() -> bool:
        return await status_of(cs, "firmwareStatus") == "Installed"

    await until(installed, "FirmwareStatusNotification Installed")

    async def new_version() -> bool:
        detail = await cs_station(cs, CP)
        return detail["online"] and detail["bootNotification"]["firmwareVersion"] == "EMU-2.0"

    await until(new_version, "a BootNotification with the new firmware")
    await until(lambda: station(cs, CP).online, "the station online again")


def in_the_past() -> str:
    """A retrieveDate that has passed: download at once."""
    return "2020-01-01T00:00:00Z"
