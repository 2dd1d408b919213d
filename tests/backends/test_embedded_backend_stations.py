"""
Tests for L{ocppcs.backends.embedded.record.EmbeddedRecord} outside
transactions: the service and its interface, what it answers to
BootNotification, Heartbeat, StatusNotification, the diagnostics and firmware
statuses, Authorize and DataTransfer under each policy, what it stores of
them, and the id tags it authorizes against.

Every CALL goes through L{tests.backends.calls.call}, which checks the request
and the reply against the official OCPP 1.6 schemas.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from zope.interface.verify import verifyObject

from ocppcs.backends.interface import CallContext, IDecider, IOperatorStore, IRecord
from ocppcs.ocppj.errors import NotSupportedError
from tests.backends.calls import ISO_Z, T0, call

BOOT_ALL = {
    "chargePointVendor": "Vendor",
    "chargePointModel": "Model",
    "chargePointSerialNumber": "CPS",
    "chargeBoxSerialNumber": "CBS",
    "firmwareVersion": "1.2.3",
    "iccid": "8988",
    "imsi": "2620",
    "meterType": "MT",
    "meterSerialNumber": "MS",
}
BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


# --- service and interface -------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_provides_the_record_and_decider_interfaces(make_backend: Any) -> None:
    """
    The embedded record provides L{IRecord} and L{IOperatorStore}, its rules
    L{IDecider} (keeping the record themselves); both are named C{embedded}.
    """
    backend = await make_backend()
    assert verifyObject(IRecord, backend) and verifyObject(IOperatorStore, backend)
    assert verifyObject(IDecider, backend.rules)
    assert backend.rules.keeps_record and backend.rules.local_rules
    assert backend.name == backend.rules.name == "embedded"
    assert backend.ready.called


@pytest_twisted.ensureDeferred
async def test_unsupported_action(make_backend: Any) -> None:
    """An action the backend does not handle fails with NotSupported."""
    backend = await make_backend()
    ctx = CallContext("CS1", "", "1", "CertificateSigned", time.time())
    with pytest.raises(NotSupportedError):
        await backend.rules.decide(ctx, {"certificateChain": "x"})


# --- BootNotification and is_accepted --------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_boot_open(make_backend: Any) -> None:
    """Open registration accepts, registers, and stores every boot field."""
    backend = await make_backend(heartbeat_interval=300)
    reply = await call(backend, "BootNotification", BOOT_ALL)
    assert reply["status"] == "Accepted"
    assert reply["interval"] == 300
    assert ISO_Z.match(reply["currentTime"])
    station = await backend.get_station("CS1")
    assert station["registered"] == 1
    assert station["boot_status"] == "Accepted"
    fields = ("vendor", "model", "charge_point_serial", "charge_box_serial", "firmware_version")
    assert tuple(station[f] for f in fields) == ("Vendor", "Model", "CPS", "CBS", "1.2.3")
    fields = ("iccid", "imsi", "meter_type", "meter_serial")
    assert tuple(station[f] for f in fields) == ("8988", "2620", "MT", "MS")
    assert station["last_boot"] == reply["currentTime"]
    assert await backend.is_accepted("CS1") is True


@pytest_twisted.ensureDeferred
async def test_boot_reboot_clears_absent_fields(make_backend: Any) -> None:
    """A new boot replaces the boot data: fields it lacks become NULL."""
    backend = await make_backend()
    await call(backend, "BootNotification", BOOT_ALL)
    await call(backend, "BootNotification", BOOT)
    station = await backend.get_station("CS1")
    assert (station["vendor"], station["firmware_version"], station["iccid"]) == ("V", None, None)


@pytest.mark.parametrize("unknown", ["Rejected", "Pending"])
@pytest_twisted.ensureDeferred
async def test_boot_known_unregistered(make_backend: Any, unknown: str) -> None:
    """
    With C{registration = known} an unregistered station gets
    C{unknown_station} and the retry interval, but its boot data is kept.
    """
    backend = await make_backend(registration="known", unknown_station=unknown, retry_interval=17)
    reply = await call(backend, "BootNotification", BOOT_ALL)
    assert (reply["status"], reply["interval"]) == (unknown, 17)
    station = await backend.get_station("CS1")
    assert (station["registered"], station["boot_status"], station["vendor"]) == (
        0,
        unknown,
        "Vendor",
    )
    assert await backend.is_accepted("CS1") is False


@pytest_twisted.ensureDeferred
async def test_boot_known_registered(make_backend: Any) -> None:
    """
    A registered station is accepted; unregistering it makes it unaccepted at
    once (cache coherent) and its next boot gets C{unknown_station}.
    """
    backend = await make_backend(registration="known", heartbeat_interval=42)
    await backend.register_station("CS1")
    assert await backend.is_accepted("CS1") is False  # never booted
    reply = await call(backend, "BootNotification", BOOT)
    assert (reply["status"], reply["interval"]) == ("Accepted", 42)
    assert await backend.is_accepted("CS1") is True
    await backend.unregister_station("CS1")
    assert await backend.is_accepted("CS1") is False
    assert (await call(backend, "BootNotification", BOOT))["status"] == "Rejected"
    assert (await backend.get_station("CS1"))["boot_status"] == "Rejected"
    await backend.register_station("CS1")
    assert await backend.is_accepted("CS1") is False  # last boot was Rejected


@pytest_twisted.ensureDeferred
async def test_is_accepted_after_restart(make_backend: Any, tmp_path: Path) -> None:
    """Acceptance survives a restart (read from the database, cache cold)."""
    backend = await make_backend()
    await call(backend, "BootNotification", BOOT)
    await backend.stopService()
    again = await make_backend()
    assert await again.is_accepted("CS1") is True
    assert await again.is_accepted("nobody") is False


# --- Heartbeat, connections, status notifications --------------------------------------------


@pytest_twisted.ensureDeferred
async def test_heartbeat(make_backend: Any) -> None:
    """Heartbeat answers the current time and updates last_seen."""
    backend = await make_backend()
    await call(backend, "BootNotification", BOOT)
    before = datetime.now(UTC) - timedelta(seconds=1)
    reply = await call(backend, "Heartbeat", {})
    sent = datetime.fromisoformat(reply["currentTime"])
    assert before <= sent <= datetime.now(UTC) + timedelta(seconds=1)
    assert (await backend.get_station("CS1"))["last_seen"] == reply["currentTime"]


@pytest_twisted.ensureDeferred
async def test_connected_disconnected(make_backend: Any) -> None:
    """Connections and disconnections are noted on the station."""
    backend = await make_backend()
    await backend.station_connected("CS1", "acct", "10.0.0.1:5000")
    station = await backend.get_station("CS1")
    assert (station["connected"], station["account"], station["last_address"]) == (
        1,
        "acct",
        "10.0.0.1:5000",
    )
    assert station["registered"] == 0 and station["boot_status"] is None
    await backend.station_disconnected("CS1")
    station = await backend.get_station("CS1")
    assert station["connected"] == 0 and station["last_address"] == "10.0.0.1:5000"


@pytest_twisted.ensureDeferred
async def test_status_notification(make_backend: Any) -> None:
    """StatusNotification keeps the latest status per connector (0 = the station)."""
    backend = await make_backend()
    await call(backend, "BootNotification", BOOT)
    assert (
        await call(
            backend,
            "StatusNotification",
            {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
        )
        == {}
    )
    full = {
        "connectorId": 1,
        "errorCode": "OtherError",
        "status": "Faulted",
        "info": "hot",
        "vendorId": "ACME",
        "vendorErrorCode": "E42",
        "timestamp": T0,
    }
    await call(
        backend, "StatusNotification", {**full, "status": "Charging", "errorCode": "NoError"}
    )
    await call(backend, "StatusNotification", full)
    connectors = (await backend.get_station("CS1"))["connectors"]
    assert [c["connector_id"] for c in connectors] == [0, 1]
    zero, one = connectors
    assert (zero["status"], zero["error_code"], zero["info"], zero["timestamp"]) == (
        "Available",
        "NoError",
        None,
        None,
    )
    assert (one["status"], one["error_code"], one["info"], one["vendor_id"]) == (
        "Faulted",
        "OtherError",
        "hot",
        "ACME",
    )
    assert (one["vendor_error_code"], one["timestamp"]) == ("E42", T0)
    assert ISO_Z.match(one["updated"])


@pytest_twisted.ensureDeferred
async def test_diagnostics_and_firmware_status(make_backend: Any) -> None:
    """The latest diagnostics and firmware statuses are kept on the station, with a time."""
    backend = await make_backend()
    await call(backend, "BootNotification", BOOT)
    assert await call(backend, "DiagnosticsStatusNotification", {"status": "Uploading"}) == {}
    assert await call(backend, "DiagnosticsStatusNotification", {"status": "Uploaded"}) == {}
    assert await call(backend, "FirmwareStatusNotification", {"status": "Installed"}) == {}
    station = await backend.get_station("CS1")
    assert (station["diagnostics_status"], station["firmware_status"]) == ("Uploaded", "Installed")
    assert ISO_Z.match(station["diagnostics_status_time"])
    assert ISO_Z.match(station["firmware_status_time"])


# --- Authorize -------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_authorize_open(make_backend: Any) -> None:
    """Open authorization accepts any tag."""
    backend = await make_backend()
    assert await call(backend, "Authorize", {"idTag": "anything"}) == {
        "idTagInfo": {"status": "Accepted"}
    }


@pytest_twisted.ensureDeferred
async def test_authorize_list(make_backend: Any) -> None:
    """
    List authorization: unknown tags are Invalid, Blocked stays Blocked, an
    expired Accepted tag is Expired; expiryDate and parentIdTag are sent.
    """
    backend = await make_backend(authorization="list")
    future = datetime.now(UTC) + timedelta(days=1)
    await backend.put_id_tag("OK", "Accepted", future, "PARENT")
    await backend.put_id_tag("BLK", "Blocked")
    await backend.put_id_tag("OLD", "Accepted", "2020-01-01T00:00:00+02:00")
    await backend.put_id_tag("PLAIN", "Accepted")

    async def info(tag: str) -> dict[str, Any]:
        return (await call(backend, "Authorize", {"idTag": tag}))["idTagInfo"]

    ok = await info("OK")
    assert ok["status"] == "Accepted" and ok["parentIdTag"] == "PARENT"
    assert datetime.fromisoformat(ok["expiryDate"]) == future.replace(
        microsecond=future.microsecond // 1000 * 1000
    )
    assert await info("PLAIN") == {"status": "Accepted"}
    assert await info("BLK") == {"status": "Blocked"}
    assert await info("OLD") == {"status": "Expired", "expiryDate": "2019-12-31T22:00:00.000Z"}
    assert await info("nope") == {"status": "Invalid"}
    assert await backend.delete_id_tag("PLAIN") is True
    assert await backend.delete_id_tag("PLAIN") is False
    assert await info("PLAIN") == {"status": "Invalid"}
    tags = [t["id_tag"] for t in await backend.list_id_tags()]
    assert tags == ["BLK", "OK", "OLD"]


@pytest_twisted.ensureDeferred
async def test_put_id_tag_rejects_bad_values(make_backend: Any) -> None:
    """Unknown statuses and dates without a time zone are refused."""
    backend = await make_backend()
    with pytest.raises(ValueError):
        await backend.put_id_tag("T", "Maybe")
    with pytest.raises(ValueError):
        await backend.put_id_tag("T", "Accepted", "2030-01-01T00:00:00")
    assert await backend.list_id_tags() == []


# --- DataTransfer ----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_data_transfer(make_backend: Any) -> None:
    """Messages from known vendors are kept and Accepted; others are UnknownVendorId."""
    backend = await make_backend(known_vendors=("ACME", "Other"))
    message = {"vendorId": "ACME", "messageId": "m1", "data": '{"x": 1}'}
    assert await call(backend, "DataTransfer", message) == {"status": "Accepted"}
    assert await call(backend, "DataTransfer", {"vendorId": "Other"}) == {"status": "Accepted"}
    unknown = {"vendorId": "Nobody", "data": "x"}
    assert await call(backend, "DataTransfer", unknown) == {"status": "UnknownVendorId"}
    rows = await backend.list_data_transfers()
    got = [(r["identity"], r["vendor_id"], r["message_id"], r["data"]) for r in rows]
    assert got == [("CS1", "Other", None, None), ("CS1", "ACME", "m1", '{"x": 1}')]
    assert all(ISO_Z.match(r["received"]) for r in rows)
