"""
The C{ocpp} schema's operator store (behind the REST API) on a real
PostgreSQL: pages and filters (NULL for none), station registration and
removal, id tags and refusals, reservations, the frame log, and the errors
for bad statuses (SQLSTATE 22023).
"""

from __future__ import annotations

import time
from dataclasses import fields

import psycopg2
import pytest

from ocppcs.backends import views
from tests.backends.postgres.sqltools import T0, Db, boot, start

#: Every view's constructor field names, the item keys the functions answer.
NAMES = {cls: {f.name for f in fields(cls)} for cls in (views.TransactionView, views.StationView)}


def test_station_pages(db: Db) -> None:
    """Stations by identity, a page at a time, with the total; item keys are StationView's."""
    for name in ("B", "A", "C"):
        db.parse("BootNotification", boot(), identity=name)
    page = db.fn("ChargePointList", 2, 1)
    assert page["total"] == 3 and [s["identity"] for s in page["items"]] == ["B", "C"]
    item = page["items"][0]
    assert set(item) == NAMES[views.StationView] - {"open_transactions"} | {"node"}
    assert item["latest"] is None and item["connectors"] == []
    assert [s["identity"] for s in db.fn("ChargePointList", None, None)["items"]] == ["A", "B", "C"]
    assert db.fn("ChargePointList", 10, 5) == {"total": 3, "items": []}


def test_station_detail(db: Db) -> None:
    """A station with its connectors and open transactions (with the station's serial)."""
    db.parse("BootNotification", boot(chargePointSerialNumber="SER"))
    db.parse("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    open_id = db.parse("StartTransaction", start())["transactionId"]
    closed = db.parse("StartTransaction", start(connector=2))["transactionId"]
    db.parse("StopTransaction", {"transactionId": closed, "meterStop": 1, "timestamp": T0})
    station = db.fn("ChargePoint", "CS1")
    assert [c["status"] for c in station["connectors"]] == ["Charging"]
    [txn] = station["open_transactions"]
    assert (txn["id"], txn["serial_number"]) == (open_id, "SER")
    assert set(txn) == NAMES[views.TransactionView] - {"meter_values"}
    assert db.fn("ChargePoint", "NOBODY") is None


def test_remove_station(db: Db) -> None:
    """
    A station registered ahead of time and never seen is removed; one that
    booted is unregistered and keeps its history; an unknown one is NULL.
    """
    db.fn("RegisterStation", "AHEAD")
    db.fn("RegisterStation", "SEEN")
    db.parse("BootNotification", boot(), identity="SEEN")
    assert db.fn("RemoveStation", "AHEAD") == "removed"
    assert db.fn("GetStation", "AHEAD") is None
    assert db.fn("RemoveStation", "SEEN") == "unregistered"
    assert db.fn("GetStation", "SEEN")["registered"] is False
    assert db.fn("RemoveStation", "NOBODY") is None


def test_transaction_list_filters(db: Db) -> None:
    """
    Newest first; by station, by idTag, by start in [date_from, date_to)
    compared in UTC whatever offset the station wrote; NULL is no filter.
    """
    a = db.parse("StartTransaction", start("T1", ts="2026-11-24T10:00:00Z"), identity="A")
    b = db.parse("StartTransaction", start("T2", ts="2026-11-24T12:00:00+01:00"), identity="A")
    c = db.parse("StartTransaction", start("T1", ts="2026-11-24T12:00:00Z"), identity="B")
    ids = [r["transactionId"] for r in (a, b, c)]

    def listed(*args: object) -> list[int]:
        page = db.fn("TransactionList", *args)
        return [t["id"] for t in page["items"]]

    assert listed(None, None, None, 10, 0, None) == ids[::-1]
    assert listed("A", None, None, 10, 0, None) == [ids[1], ids[0]]
    assert listed(None, None, None, 10, 0, "T1") == [ids[2], ids[0]]
    assert listed(None, "2026-11-24T11:00:00Z", None, 10, 0, None) == [ids[2], ids[1]]
    assert listed(None, None, "2026-11-24T11:00:01Z", 10, 0, None) == [ids[1], ids[0]]
    assert listed(None, None, None, 1, 1, None) == [ids[1]]
    assert db.fn("TransactionList", None, None, None, 1, 1, None)["total"] == 3
    assert db.fn("TransactionList", "C", None, None, 10, 0, None) == {"total": 0, "items": []}
    assert db.fn("Transaction", 999) is None


def test_id_tags(db: Db) -> None:
    """Put (create or replace), list by status a page at a time, get, delete."""
    db.fn("PutIdTag", "B", "Blocked", None, None)
    db.fn("PutIdTag", "A", "Accepted", "2099-01-01T01:00:00+01:00", "P")
    db.fn("PutIdTag", "C", "Accepted", None, None)
    db.fn("PutIdTag", "C", "Invalid", None, "Q")
    assert db.fn("IdTag", "A") == {
        "id_tag": "A",
        "status": "Accepted",
        "expiry_date": "2099-01-01T00:00:00.000Z",
        "parent_id_tag": "P",
    }
    assert db.fn("IdTag", "C")["status"] == "Invalid"
    page = db.fn("IdTagList", None, 2, 0)
    assert page["total"] == 3 and [t["id_tag"] for t in page["items"]] == ["A", "B"]
    assert db.fn("IdTagList", "Blocked", 10, 0)["items"] == [
        {"id_tag": "B", "status": "Blocked", "expiry_date": None, "parent_id_tag": None}
    ]
    assert db.fn("DeleteIdTag", "B") is True and db.fn("DeleteIdTag", "B") is False
    assert db.fn("IdTag", "B") is None


@pytest.mark.parametrize("status", ["Gone", "accepted", None])
def test_bad_statuses(db: Db, status: str | None) -> None:
    """A bad id tag or reservation status raises SQLSTATE 22023 and changes nothing."""
    with pytest.raises(psycopg2.Error) as e:
        db.fn("PutIdTag", "X", status, None, None)
    assert e.value.pgcode == "22023" and "unknown id tag status" in str(e.value)
    rid = db.fn("AddReservation", "CS1", 1, "T", "2099-01-01T00:00:00Z", None, None, False)
    with pytest.raises(psycopg2.Error) as e:
        db.fn("SetReservationStatus", rid, status)
    assert e.value.pgcode == "22023" and "unknown reservation status" in str(e.value)
    assert db.fn("IdTag", "X") is None and db.fn("GetReservation", rid)["status"] == "Reserved"


def test_refused_id_tags(db: Db) -> None:
    """
    Refused tags, most recently refused first; accepting one makes it Accepted
    (keeping its parent, dropping its expiry) and takes it off the list; an
    Accepted put takes it off too.
    """
    db.configure(authorization="list")
    db.fn("PutIdTag", "OLD", "Accepted", "2020-01-01T00:00:00Z", "P")
    for tag in ("OLD", "NEW", "PUT"):
        db.parse("Authorize", {"idTag": tag})
    page = db.fn("RefusedIdTagList", 2, 0)
    assert page["total"] == 3 and [r["id_tag"] for r in page["items"]] == ["PUT", "NEW"]
    assert db.fn("AcceptRefusedIdTag", "OLD") == {
        "id_tag": "OLD",
        "status": "Accepted",
        "expiry_date": None,
        "parent_id_tag": "P",
    }
    assert db.fn("AcceptRefusedIdTag", "OLD") is None
    assert db.fn("AcceptRefusedIdTag", "NEW")["status"] == "Accepted"
    db.fn("PutIdTag", "PUT", "Accepted", None, None)
    assert db.fn("RefusedIdTagList", 10, 0) == {"total": 0, "items": []}
    assert db.parse("Authorize", {"idTag": "NEW"})["idTagInfo"] == {"status": "Accepted"}


def test_reservations(db: Db) -> None:
    """
    New ids never collide with chosen ones; replace resets a reservation;
    a duplicate id without replace raises; statuses end reservations; those
    past their expiry become Expired when listed; filters by station and date.
    """
    db.parse("BootNotification", boot(chargePointSerialNumber="SER"), identity="A")
    chosen = db.fn("AddReservation", "A", 1, "T1", "2099-01-01T00:00:00Z", "P", 5, False)
    new = db.fn("AddReservation", "A", 2, "T2", "2099-01-01T00:00:00Z", None, None, False)
    old = db.fn("AddReservation", "B", 1, "T3", "2020-01-01T00:00:00Z", None, None, False)
    assert chosen == 5 and new == 6 and old == 7
    with pytest.raises(psycopg2.Error) as e:
        db.fn("AddReservation", "A", 3, "T9", "2099-01-01T00:00:00Z", None, 5, False)
    assert e.value.pgcode == "23505"
    assert db.fn("SetReservationStatus", 5, "Cancelled") is True
    assert db.fn("GetReservation", 5)["ended"] is not None
    assert db.fn("AddReservation", "A", 3, "T4", "2099-01-01T00:00:00Z", None, 5, True) == 5
    replaced = db.fn("GetReservation", 5)
    assert (replaced["connector_id"], replaced["id_tag"], replaced["status"]) == (
        3,
        "T4",
        "Reserved",
    )
    assert (replaced["parent_id_tag"], replaced["ended"], replaced["serial_number"]) == (
        None,
        None,
        "SER",
    )
    assert db.fn("SetReservationStatus", 99, "Used") is False
    page = db.fn("ReservationList", None, None, None, 10, 0)
    assert [(r["id"], r["status"]) for r in page["items"]] == [
        (7, "Expired"),
        (6, "Reserved"),
        (5, "Reserved"),
    ]
    assert page["items"][0]["ended"] == page["items"][0]["date_stop"] == "2020-01-01T00:00:00.000Z"
    assert db.fn("ReservationList", "A", None, None, 1, 1) == {
        "total": 2,
        "items": [db.fn("GetReservation", 5)],
    }
    assert db.fn("ReservationList", None, "2099-01-01T00:00:00Z", None, 10, 0)["total"] == 0
    assert db.fn("ReservationList", None, None, "2000-01-01T00:00:00Z", 10, 0)["total"] == 0


def _frame(ts: float, identity: str, action: str, n: int) -> dict[str, object]:
    return {
        "ts": ts,
        "identity": identity,
        "direction": "in",
        "message_type": 2,
        "unique_id": f"u{n}",
        "action": action,
        "raw": f'[2, "u{n}", "{action}", {{}}]',
    }


def test_frame_log(db: Db) -> None:
    """
    A batch of frames in one call; listed newest first by station, action,
    time and id; pruned to the newest rows and by age.
    """
    now = time.time()
    frames = [
        _frame(now - 100, "A", "Heartbeat", 1),
        _frame(now - 50, "B", "Authorize", 2),
        _frame(now - 10, "A", "Authorize", 3),
    ]
    db.fn("LogFrames", frames)
    db.fn("LogFrames", [])
    listed = db.fn("FrameList", None, None, None, None, 10, 0)
    assert [f["unique_id"] for f in listed] == ["u3", "u2", "u1"]
    assert listed[2] == {"id": listed[2]["id"], **frames[0]}

    def ids(*args: object) -> list[str]:
        return [f["unique_id"] for f in db.fn("FrameList", *args)]

    assert ids("A", None, None, None, 10, 0) == ["u3", "u1"]
    assert ids(None, "Authorize", None, None, 10, 0) == ["u3", "u2"]
    assert ids("A", "Authorize", None, None, 10, 0) == ["u3"]
    assert ids(None, None, now - 60, None, 10, 0) == ["u3", "u2"]
    assert ids(None, None, None, listed[0]["id"], 10, 0) == ["u2", "u1"]
    assert ids(None, None, None, None, 1, 1) == ["u2"]
    assert db.fn("PruneFrames", None, None) == 0
    assert db.fn("PruneFrames", 0, 60) == 1
    assert db.fn("PruneFrames", 1, 0) == 1
    assert ids(None, None, None, None, 10, 0) == ["u3"]


def _profile(pid: int, stack: int, purpose: str = "TxDefaultProfile") -> dict[str, object]:
    return {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": []},
    }


def test_charging_profiles(db: Db) -> None:
    """
    A profile replaces the one with its id and the one with its stack level
    and purpose on its connector; clearing matches every criterion given.
    """
    db.fn("SetChargingProfile", "CS1", 1, _profile(1, 0))
    db.fn("SetChargingProfile", "CS1", 1, _profile(2, 1))
    db.fn("SetChargingProfile", "CS1", 1, _profile(3, 0))  # replaces 1 (same level, purpose)
    db.fn("SetChargingProfile", "CS1", 2, _profile(2, 5, "TxProfile"))  # moves 2
    db.fn("SetChargingProfile", "CS2", 0, _profile(9, 0, "ChargePointMaxProfile"))
    listed = db.fn("ChargingProfileList", "CS1")
    assert [(p["connector_id"], p["profile"]["chargingProfileId"]) for p in listed] == [
        (1, 3),
        (2, 2),
    ]
    assert listed[1]["profile"] == _profile(2, 5, "TxProfile")
    assert db.fn("ClearChargingProfile", "CS1", None, 2, "TxDefaultProfile", None) == 0
    assert db.fn("ClearChargingProfile", "CS1", None, None, None, None) == 2
    assert db.fn("ChargingProfileList", "CS1") == []
    assert len(db.fn("ChargingProfileList", "CS2")) == 1
    with pytest.raises(psycopg2.Error) as e:
        db.fn("SetChargingProfile", "CS1", 1, {"stackLevel": 0})
    assert e.value.pgcode == "22023"
