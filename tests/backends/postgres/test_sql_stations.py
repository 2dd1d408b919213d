"""
The C{ocpp} schema's rules for stations, through C{SELECT ocpp.Parse(...)}
on a real PostgreSQL: BootNotification under each registration policy,
Heartbeat, StatusNotification, DataTransfer, the diagnostics and firmware
statuses, connections, and the calls Parse refuses.
"""

from __future__ import annotations

import psycopg2
import pytest

from tests.backends.calls import ISO_Z
from tests.backends.postgres.sqltools import Db, boot


def test_boot_open_registration(db: Db) -> None:
    """registration = open: Accepted, the heartbeat interval, registered, boot data kept."""
    db.configure(heartbeat_interval=300)
    reply = db.parse("BootNotification", boot(chargePointSerialNumber="S1", iccid="I"))
    assert reply["status"] == "Accepted" and reply["interval"] == 300
    assert ISO_Z.match(reply["currentTime"])
    station = db.fn("GetStation", "CS1")
    assert (station["registered"], station["boot_status"], station["vendor"]) == (
        True,
        "Accepted",
        "acme",
    )
    assert (station["charge_point_serial"], station["iccid"], station["imsi"]) == ("S1", "I", None)
    assert station["last_boot"] == station["last_seen"] == reply["currentTime"]
    assert db.fn("IsAccepted", "CS1") is True


@pytest.mark.parametrize("unknown", ["Rejected", "Pending"])
def test_boot_known_registration(db: Db, unknown: str) -> None:
    """
    registration = known: a registered station is Accepted; an unknown one
    gets unknown_station with the retry interval, is kept unregistered, and is
    listed among the rejected stations until registered.
    """
    db.configure(
        registration="known", unknown_station=unknown, retry_interval=17, heartbeat_interval=30
    )
    db.fn("RegisterStation", "KNOWN")
    assert db.parse("BootNotification", boot(), identity="KNOWN")["status"] == "Accepted"
    reply = db.parse("BootNotification", boot(), identity="STRANGER")
    assert (reply["status"], reply["interval"]) == (unknown, 17)
    assert db.fn("IsAccepted", "STRANGER") is False and db.fn("IsAccepted", "KNOWN") is True
    rejected = db.fn("RejectedStationList", 10, 0)
    assert rejected["total"] == 1
    assert [(s["identity"], s["boot_status"]) for s in rejected["items"]] == [("STRANGER", unknown)]
    db.fn("RegisterStation", "STRANGER")
    assert db.fn("RejectedStationList", 10, 0) == {"total": 0, "items": []}
    again = db.parse("BootNotification", boot(), identity="STRANGER")
    assert (again["status"], again["interval"]) == ("Accepted", 30)
    db.fn("UnregisterStation", "STRANGER")
    assert db.fn("IsAccepted", "STRANGER") is False


def test_open_registration_accepts_unregistered(db: Db) -> None:
    """IsAccepted under open registration needs only an Accepted boot."""
    db.configure(registration="known")
    db.parse("BootNotification", boot())
    assert db.fn("IsAccepted", "CS1") is False
    db.configure(registration="open")
    assert db.fn("IsAccepted", "CS1") is False  # its last boot was Rejected
    db.parse("BootNotification", boot())
    db.fn("UnregisterStation", "CS1")
    assert db.fn("IsAccepted", "CS1") is True
    assert db.fn("IsAccepted", "NOBODY") is False
    assert db.fn("IsAccepted", None) is None


def test_heartbeat_keeps_last_seen(db: Db) -> None:
    """Heartbeat answers the current time and keeps it as the station's last_seen."""
    db.parse("BootNotification", boot())
    db.rows("UPDATE ocpp.station SET last_seen = '2020-01-01Z'")
    reply = db.parse("Heartbeat", {})
    assert ISO_Z.match(reply["currentTime"])
    assert db.fn("GetStation", "CS1")["last_seen"] == reply["currentTime"]
    assert db.parse("Heartbeat", {}, identity="UNKNOWN")["currentTime"]
    assert db.fn("GetStation", "UNKNOWN") is None


def test_status_notification(db: Db) -> None:
    """
    Each connector keeps its last status with every field; the station list
    shows every connector (by id) and the newest status as latest.
    """
    db.parse("BootNotification", boot())
    full = {
        "connectorId": 2,
        "errorCode": "OtherError",
        "status": "Faulted",
        "info": "hot",
        "vendorId": "acme",
        "vendorErrorCode": "E7",
        "timestamp": "2026-11-24T14:00:00+01:00",
    }
    assert db.parse("StatusNotification", full) == {}
    assert db.parse("StatusNotification", {**full, "connectorId": 1, "status": "Charging"}) == {}
    assert db.parse("StatusNotification", {**full, "connectorId": 2, "status": "Available"}) == {}
    [station] = db.fn("ChargePointList", 10, 0)["items"]
    assert [(c["connector_id"], c["status"]) for c in station["connectors"]] == [
        (1, "Charging"),
        (2, "Available"),
    ]
    latest = station["latest"]
    assert (latest["connector_id"], latest["status"], latest["error_code"]) == (
        2,
        "Available",
        "OtherError",
    )
    assert (latest["info"], latest["vendor_id"], latest["vendor_error_code"]) == (
        "hot",
        "acme",
        "E7",
    )
    assert latest["timestamp"] == "2026-11-24T13:00:00.000Z" and ISO_Z.match(latest["updated"])
    db.parse(
        "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"}
    )
    assert db.fn("GetStation", "CS1")["connectors"][0]["timestamp"] is None


def test_data_transfer(db: Db) -> None:
    """A known vendor's message is Accepted and kept; another vendor's is not kept."""
    db.configure(known_vendors=["acme", "other"])
    message = {"vendorId": "acme", "messageId": "m", "data": '{"a": 1}'}
    assert db.parse("DataTransfer", message) == {"status": "Accepted"}
    assert db.parse("DataTransfer", {"vendorId": "nobody"}) == {"status": "UnknownVendorId"}
    assert db.rows("SELECT identity, vendor_id, message_id, data FROM ocpp.data_transfer") == [
        ("CS1", "acme", "m", '{"a": 1}')
    ]
    db.configure(known_vendors=[])
    assert db.parse("DataTransfer", message) == {"status": "UnknownVendorId"}


@pytest.mark.parametrize(
    "action, column, status",
    [
        ("Diagnostics", "diagnostics_status", "Uploading"),
        ("Firmware", "firmware_status", "Downloading"),
    ],
)
def test_diagnostics_and_firmware_status(db: Db, action: str, column: str, status: str) -> None:
    """The latest status (and when it came) is kept on the station, created if new."""
    assert db.parse(f"{action}StatusNotification", {"status": status}) == {}
    station = db.fn("GetStation", "CS1")
    assert station[column] == status and ISO_Z.match(station[f"{column}_time"])
    db.parse("BootNotification", boot())
    assert db.parse(f"{action}StatusNotification", {"status": "Idle"}) == {}
    assert db.fn("GetStation", "CS1")[column] == "Idle"


def test_connections(db: Db) -> None:
    """
    A connection is kept with its node and address; a disconnection from a
    node that no longer holds the station (it reconnected elsewhere) is ignored.
    """
    db.fn("StationConnected", "CS1", "acct", "127.0.0.1:5000", "node-a")
    station = db.fn("GetStation", "CS1")
    assert (station["connected"], station["node"], station["last_address"]) == (
        True,
        "node-a",
        "127.0.0.1:5000",
    )
    assert station["account"] == "acct" and station["connectors"] == []
    db.fn("StationConnected", "CS1", "acct", "127.0.0.1:6000", "node-b")
    db.fn("StationDisconnected", "CS1", "node-a")
    assert db.fn("GetStation", "CS1")["node"] == "node-b"
    db.fn("StationDisconnected", "CS1", "node-b")
    station = db.fn("GetStation", "CS1")
    assert (station["connected"], station["node"], station["last_address"]) == (
        False,
        None,
        "127.0.0.1:6000",
    )
    db.fn("StationDisconnected", "NOBODY", "node-a")
    assert db.fn("GetStation", "NOBODY") is None


def test_parse_refuses_what_it_cannot_answer(db: Db) -> None:
    """An unknown action or version, or a payload that is no object, is a CallError."""
    error = db.parse("Teleport", {}, check=False)
    assert error == {
        "messageTypeId": 4,
        "errorCode": "NotSupported",
        "errorDescription": "Teleport is not supported by this central system",
        "errorDetails": {},
    }
    assert db.parse("Heartbeat", {}, version="2.0.1", check=False)["errorCode"] == "NotSupported"
    assert db.fn("Parse", "CS1", "u", "Heartbeat", [1], "", "1.6")["errorCode"] == (
        "FormationViolation"
    )
    assert db.fn("Parse", None, "u", "Heartbeat", {}, "", None)["errorCode"] == (
        "FormationViolation"
    )
    assert "currentTime" in db.fn("Parse", "CS1", None, "Heartbeat", {}, None, None)


def test_configure_needs_an_object(db: Db) -> None:
    """ocpp.Configure refuses anything but an object (SQLSTATE 22023) and keeps the settings."""
    with pytest.raises(psycopg2.Error) as e:
        db.fn("Configure", ["registration"])
    assert e.value.pgcode == "22023"
    db.configure(registration="known")
    db.configure(heartbeat_interval=5)
    assert dict(db.rows("SELECT key, value FROM ocpp.setting"))["registration"] == "known"
