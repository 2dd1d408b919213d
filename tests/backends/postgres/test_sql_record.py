"""
C{ocpp.RecordCall} on a real PostgreSQL: the record's copy of calls another
decider (a webhook) answered, as the embedded copies
(L{ocppcs.backends.embedded.copies}): the decider's ids and statuses kept,
replays ignored, conflicts refused with SQLSTATE OC409 and nothing changed.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest

from tests.backends.postgres.sqltools import T0, Db, boot, start


def _copy(
    db: Db, action: str, payload: dict[str, Any], reply: dict[str, Any], identity: str = "CS1"
) -> None:
    db.fn("RecordCall", identity, "u1", action, payload, reply, "acct")


def test_copies_of_every_action(db: Db) -> None:
    """Each action's copy keeps what the station sent with what the decider answered."""
    _copy(db, "BootNotification", boot(), {"status": "Pending", "currentTime": T0, "interval": 5})
    station = db.fn("GetStation", "CS1")
    assert (station["boot_status"], station["registered"], station["account"]) == (
        "Pending",
        False,
        "acct",
    )
    _copy(db, "BootNotification", boot(), {"status": "Accepted", "currentTime": T0, "interval": 5})
    assert db.fn("IsAccepted", "CS1") is True
    db.rows("UPDATE ocpp.station SET last_seen = NULL")
    _copy(db, "Heartbeat", {}, {"currentTime": T0})
    assert db.fn("GetStation", "CS1")["last_seen"] is not None
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
    _copy(db, "StatusNotification", status, {})
    assert db.fn("GetStation", "CS1")["connectors"][0]["status"] == "Preparing"
    _copy(db, "Authorize", {"idTag": "BAD"}, {"idTagInfo": {"status": "Blocked"}})
    _copy(db, "Authorize", {"idTag": "GOOD"}, {"idTagInfo": {"status": "Accepted"}})
    assert [r["id_tag"] for r in db.fn("RefusedIdTagList", 10, 0)["items"]] == ["BAD"]
    _copy(db, "DataTransfer", {"vendorId": "who"}, {"status": "UnknownVendorId"})
    assert db.rows("SELECT vendor_id FROM ocpp.data_transfer") == [("who",)]
    _copy(db, "DiagnosticsStatusNotification", {"status": "Uploaded"}, {})
    _copy(db, "FirmwareStatusNotification", {"status": "Installed"}, {})
    station = db.fn("GetStation", "CS1")
    assert (station["diagnostics_status"], station["firmware_status"]) == ("Uploaded", "Installed")


def test_transaction_copies(db: Db) -> None:
    """
    A start is kept under the decider's id and idTagInfo (its reservation
    Used, a refusal noted); meter values and the stop follow; a replay of the
    start under the same id changes nothing; later new ids stay above it.
    """
    rid = db.fn("AddReservation", "CS1", 1, "TAG", "2099-01-01T00:00:00Z", None, None, False)
    info = {"status": "Expired", "expiryDate": "2020-01-01T00:00:00Z", "parentIdTag": "P"}
    payload = start(reservationId=rid)
    _copy(db, "StartTransaction", payload, {"transactionId": 500, "idTagInfo": info})
    _copy(db, "StartTransaction", payload, {"transactionId": 500, "idTagInfo": info})
    txn = db.fn("Transaction", 500)
    assert (txn["id_tag_status"], txn["id_tag_expiry"], txn["id_tag_parent"]) == (
        "Expired",
        "2020-01-01T00:00:00.000Z",
        "P",
    )
    assert db.fn("GetReservation", rid)["transaction_id"] == 500
    assert db.fn("RefusedIdTagList", 10, 0)["items"][0]["action"] == "StartTransaction"
    sample = {"timestamp": T0, "sampledValue": [{"value": "7"}]}
    _copy(db, "MeterValues", {"connectorId": 1, "transactionId": 500, "meterValue": [sample]}, {})
    stop = {"transactionId": 500, "meterStop": 9, "timestamp": T0, "transactionData": [sample]}
    _copy(db, "StopTransaction", stop, {})
    _copy(db, "StopTransaction", stop, {})
    txn = db.fn("Transaction", 500)
    assert txn["meter_stop"] == 9
    assert [m["source"] for m in txn["meter_values"]] == ["MeterValues", "StopTransaction"]
    assert db.parse("StartTransaction", start(meter=1))["transactionId"] == 501


@pytest.mark.parametrize(
    "payload, reply_id, message",
    [
        (start(connector=2), 1, "already the transaction of CS1 connector 1"),
        (start(), 2, "this transaction is kept as 1; the decider answered 2"),
    ],
)
def test_conflicting_copies(db: Db, payload: dict[str, Any], reply_id: int, message: str) -> None:
    """A copy reusing another transaction's id, or keeping one twice: OC409, nothing changed."""
    _copy(
        db, "StartTransaction", start(), {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}
    )
    with pytest.raises(psycopg2.Error) as e:
        reply = {"transactionId": reply_id, "idTagInfo": {"status": "Accepted"}}
        _copy(db, "StartTransaction", payload, reply)
    assert e.value.pgcode == "OC409" and message in str(e.value)
    assert db.rows("SELECT id, connector_id FROM ocpp.transaction") == [(1, 1)]


def test_no_copy_of_other_actions(db: Db) -> None:
    """A copy of an action the record does not keep raises SQLSTATE 22023."""
    with pytest.raises(psycopg2.Error) as e:
        _copy(db, "RemoteStartTransaction", {"idTag": "T"}, {"status": "Accepted"})
    assert e.value.pgcode == "22023" and "no copy is kept of RemoteStartTransaction" in str(e.value)
