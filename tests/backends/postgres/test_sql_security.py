"""
The security extensions in the C{ocpp} schema (migration 0018) on a real
PostgreSQL: C{ocpp.Parse} answering SecurityEventNotification,
LogStatusNotification and SignedFirmwareStatusNotification with C{{}} and
storing them, C{ocpp.RecordCall} keeping copies of the same, the paged
C{ocpp.SecurityEventList}, the station JSON's statuses, and the security
profile floor (C{ocpp.StationProfile}, C{ocpp.SetStationProfile}).
"""

from __future__ import annotations

import psycopg2
import pytest

from tests.backends.postgres.sqltools import Db

TS = "2026-01-02T03:04:05Z"


def test_parse_stores_the_station_messages(db: Db) -> None:
    """Each answered {} by Parse (schema-checked) and kept: events, statuses on the station."""
    event = {"type": "StartupOfTheDevice", "timestamp": TS}
    assert db.parse("SecurityEventNotification", event) == {}
    tampered = {"type": "TamperDetectionActivated", "timestamp": TS, "techInfo": "lid"}
    assert db.parse("SecurityEventNotification", tampered) == {}
    assert db.parse("LogStatusNotification", {"status": "Uploading", "requestId": 3}) == {}
    assert db.parse("LogStatusNotification", {"status": "Uploaded", "requestId": 4}) == {}
    signed = {"status": "SignatureVerified", "requestId": 5}
    assert db.parse("SignedFirmwareStatusNotification", signed) == {}
    page = db.fn("SecurityEventList", "CS1", 10, 0)
    assert page["total"] == 2
    assert [(i["type"], i["timestamp"], i["techInfo"]) for i in page["items"]] == [
        ("TamperDetectionActivated", "2026-01-02T03:04:05.000Z", "lid"),
        ("StartupOfTheDevice", "2026-01-02T03:04:05.000Z", None),
    ]
    assert all(i["received"].endswith("Z") for i in page["items"])
    assert [i["type"] for i in db.fn("SecurityEventList", "CS1", 1, 1)["items"]] == [
        "StartupOfTheDevice"
    ]
    assert db.fn("SecurityEventList", "OTHER", 10, 0) == {"total": 0, "items": []}
    for name, args in (("GetStation", ("CS1",)), ("ChargePoint", ("CS1",))):
        station = db.fn(name, *args)
        assert (station["log_status"], station["log_request_id"]) == ("Uploaded", 4), name
        assert station["log_status_time"].endswith("Z")
        assert (station["signed_firmware_status"], station["signed_firmware_request_id"]) == (
            "SignatureVerified",
            5,
        )
    listed = db.fn("ChargePointList", 10, 0)["items"][0]
    assert listed["signed_firmware_status"] == "SignatureVerified"


def test_record_call_keeps_copies(db: Db) -> None:
    """The copies of a webhook's answers, as the embedded record keeps them."""
    event = {"type": "MemoryExhaustion", "timestamp": TS, "techInfo": "heap"}
    db.fn("RecordCall", "CS2", "u1", "SecurityEventNotification", event, {}, "acct")
    db.fn("RecordCall", "CS2", "u2", "LogStatusNotification", {"status": "Idle"}, {}, "acct")
    signed = {"status": "Downloading", "requestId": 9}
    db.fn("RecordCall", "CS2", "u3", "SignedFirmwareStatusNotification", signed, {}, "acct")
    assert [i["techInfo"] for i in db.fn("SecurityEventList", "CS2", None, 0)["items"]] == ["heap"]
    station = db.fn("GetStation", "CS2")
    assert (station["log_status"], station["log_request_id"]) == ("Idle", None)
    assert (station["signed_firmware_status"], station["signed_firmware_request_id"]) == (
        "Downloading",
        9,
    )
    db.fn("RecordCall", "CS2", "u4", "Heartbeat", {}, {"currentTime": TS}, "acct")
    assert db.fn("GetStation", "CS2")["last_seen"] is not None
    with pytest.raises(psycopg2.Error) as e:
        db.fn("RecordCall", "CS2", "u5", "Reset", {"type": "Soft"}, {}, "acct")
    assert e.value.pgcode == "22023" and "no copy is kept of Reset" in str(e.value)


def test_station_profile_floor(db: Db) -> None:
    """Unset is NULL; set, then raised; a profile outside 0-3 is refused and changes nothing."""
    assert db.fn("StationProfile", "CS3") is None
    db.fn("SetStationProfile", "CS3", 1)
    assert db.fn("StationProfile", "CS3") == 1
    db.fn("SetStationProfile", "CS3", 2)
    assert db.fn("StationProfile", "CS3") == 2
    with pytest.raises(psycopg2.Error) as e:
        db.fn("SetStationProfile", "CS3", 7)
    assert e.value.pgcode == "23514"
    assert db.fn("StationProfile", "CS3") == 2
    assert db.fn("StationProfile", "NOBODY") is None
