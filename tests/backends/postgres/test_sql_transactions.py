"""
The C{ocpp} schema's rules for id tags and transactions, through
C{SELECT ocpp.Parse(...)} on a real PostgreSQL: Authorize under each policy,
StartTransaction (ConcurrentTx, replays, reservations, ids), StopTransaction
(replays, unknown ids), MeterValues, and abandoned transactions, as the
embedded backend's tests describe them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.backends.postgres.sqltools import T0, Db, start

LATER = "2026-11-24T15:00:00Z"
DATA = [
    {
        "timestamp": "2026-11-24T14:00:00Z",
        "sampledValue": [
            {"value": "1500", "context": "Transaction.End", "unit": "Wh"},
            {"value": "3.5"},
        ],
    }
]


def _started(db: Db, identity: str = "CS1", **kw: Any) -> int:
    tid: int = db.parse("StartTransaction", start(**kw), identity=identity)["transactionId"]
    return tid


def test_authorize_open(db: Db) -> None:
    """Open authorization accepts any tag and notes no refusal."""
    assert db.parse("Authorize", {"idTag": "ANY"}) == {"idTagInfo": {"status": "Accepted"}}
    assert db.fn("RefusedIdTagList", 10, 0) == {"total": 0, "items": []}


def test_authorize_list(db: Db) -> None:
    """
    List authorization: the tag's status, expiry and parent; an Accepted tag
    past its expiry is Expired; an unknown one Invalid; refusals are noted
    and counted.
    """
    db.configure(authorization="list")
    db.fn("PutIdTag", "OK", "Accepted", "2099-01-01T00:00:00+02:00", "P")
    db.fn("PutIdTag", "OLD", "Accepted", "2020-01-01T00:00:00Z", None)
    db.fn("PutIdTag", "BLK", "Blocked", None, None)
    assert db.parse("Authorize", {"idTag": "OK"})["idTagInfo"] == {
        "status": "Accepted",
        "expiryDate": "2098-12-31T22:00:00.000Z",
        "parentIdTag": "P",
    }
    assert db.parse("Authorize", {"idTag": "OLD"})["idTagInfo"] == {
        "status": "Expired",
        "expiryDate": "2020-01-01T00:00:00.000Z",
    }
    assert db.parse("Authorize", {"idTag": "BLK"})["idTagInfo"] == {"status": "Blocked"}
    assert db.parse("Authorize", {"idTag": "WHO"}, identity="CS2")["idTagInfo"] == {
        "status": "Invalid"
    }
    db.parse("Authorize", {"idTag": "WHO"}, identity="CS3")
    refused = db.fn("RefusedIdTagList", 10, 0)
    assert refused["total"] == 3
    who = next(r for r in refused["items"] if r["id_tag"] == "WHO")
    assert (who["status"], who["identity"], who["action"], who["count"]) == (
        "Invalid",
        "CS3",
        "Authorize",
        2,
    )
    assert who["first_seen"] <= who["last_seen"]


def test_authorize_is_never_concurrent(db: Db) -> None:
    """A tag in a running transaction is still Accepted by Authorize."""
    db.configure(authorization="list")
    db.fn("PutIdTag", "TAG", "Accepted", None, None)
    _started(db)
    assert db.parse("Authorize", {"idTag": "TAG"}, identity="CS2")["idTagInfo"] == {
        "status": "Accepted"
    }


def test_start_transaction_open(db: Db) -> None:
    """A transaction is kept with everything in the request."""
    reply = db.parse("StartTransaction", start(meter=123))
    assert reply["idTagInfo"] == {"status": "Accepted"}
    txn = db.fn("Transaction", reply["transactionId"])
    assert (txn["identity"], txn["connector_id"], txn["id_tag"], txn["meter_start"]) == (
        "CS1",
        1,
        "TAG",
        123,
    )
    assert (txn["start_timestamp"], txn["id_tag_status"]) == (
        "2026-11-24T13:45:00.000Z",
        "Accepted",
    )
    assert txn["stop_timestamp"] is None and txn["meter_values"] == []
    assert db.fn("CountOpenTransactions") == 1


def test_start_transaction_refused_tags_get_ids(db: Db) -> None:
    """An Invalid or Blocked tag still gets a (kept) transaction id, and is noted."""
    db.configure(authorization="list")
    db.fn("PutIdTag", "BLK", "Blocked", None, None)
    invalid = db.parse("StartTransaction", start("nope"))
    blocked = db.parse("StartTransaction", start("BLK", connector=2))
    assert invalid["idTagInfo"] == {"status": "Invalid"}
    assert blocked["idTagInfo"] == {"status": "Blocked"}
    assert blocked["transactionId"] > invalid["transactionId"]
    assert db.fn("Transaction", blocked["transactionId"])["id_tag_status"] == "Blocked"
    actions = {r["id_tag"]: r["action"] for r in db.fn("RefusedIdTagList", 10, 0)["items"]}
    assert actions == {"nope": "StartTransaction", "BLK": "StartTransaction"}


@pytest.mark.parametrize("authorization", ["open", "list"])
def test_start_transaction_concurrent(db: Db, authorization: str) -> None:
    """
    concurrent_tx = refuse: a tag in a running Accepted transaction on another
    connector or station gets ConcurrentTx until it stops; the ConcurrentTx
    transaction never blocks the tag. allow: Accepted.
    """
    db.configure(authorization=authorization)
    db.fn("PutIdTag", "TAG", "Accepted", None, None)
    first = db.parse("StartTransaction", start(), identity="CS1")
    second = db.parse("StartTransaction", start(connector=2), identity="CS2")
    assert second["idTagInfo"] == {"status": "ConcurrentTx"}
    assert second["transactionId"] != first["transactionId"]
    db.parse(
        "StopTransaction",
        {"transactionId": first["transactionId"], "meterStop": 200, "timestamp": T0},
        identity="CS1",
    )
    third = db.parse("StartTransaction", start(ts=LATER), identity="CS2")
    assert third["idTagInfo"] == {"status": "Accepted"}
    assert db.fn("Transaction", second["transactionId"])["id_tag_status"] == "ConcurrentTx"
    db.configure(concurrent_tx="allow")
    fourth = db.parse("StartTransaction", start(ts=LATER), identity="CS3")
    assert fourth["idTagInfo"] == {"status": "Accepted"}


def test_start_transaction_replay(db: Db) -> None:
    """
    A replayed StartTransaction gets the same id and idTagInfo, even when the
    tag changed since (the same instant written with another offset too), and
    adds no row; a refusal is not noted again.
    """
    db.configure(authorization="list")
    db.fn("PutIdTag", "TAG", "Accepted", "2099-01-01T00:00:00Z", "P")
    first = db.parse("StartTransaction", start())
    db.fn("PutIdTag", "TAG", "Blocked", None, None)
    assert db.parse("StartTransaction", start()) == first
    assert db.parse("StartTransaction", start(ts="2026-11-24T14:45:00+01:00")) == first
    assert first["idTagInfo"] == {
        "status": "Accepted",
        "expiryDate": "2099-01-01T00:00:00.000Z",
        "parentIdTag": "P",
    }
    assert db.rows("SELECT count(*) FROM ocpp.transaction") == [(1,)]
    other = db.parse("StartTransaction", start(meter=101))
    assert other["transactionId"] == first["transactionId"] + 1
    assert other["idTagInfo"] == {"status": "Blocked"}
    db.parse("StartTransaction", start(meter=101))
    assert db.fn("RefusedIdTagList", 10, 0)["items"][0]["count"] == 1


def test_transaction_ids_never_repeat(db: Db) -> None:
    """Transaction ids keep increasing after deletes."""
    one = _started(db, meter=1)
    two = _started(db, meter=2)
    db.rows("DELETE FROM ocpp.transaction WHERE id = %s", two)
    three = _started(db, meter=3)
    assert one < two < three
    assert db.fn("Transaction", two) is None


def test_start_transaction_uses_reservation(db: Db) -> None:
    """A StartTransaction with a reservationId marks that reservation of the station Used."""
    rid = db.fn("AddReservation", "CS1", 1, "TAG", "2099-01-01T00:00:00Z", None, None, False)
    other = db.fn("AddReservation", "CS1", 2, "TAG", "2099-01-01T00:00:00Z", "P", 77, False)
    elsewhere = db.fn("AddReservation", "CS2", 1, "TAG", "2099-01-01T00:00:00Z", None, None, None)
    assert other == 77 and rid < elsewhere
    reply = db.parse("StartTransaction", start(reservationId=rid))
    db.parse("StartTransaction", start(connector=3, reservationId=elsewhere))
    used = db.fn("GetReservation", rid)
    assert (used["status"], used["transaction_id"]) == ("Used", reply["transactionId"])
    assert used["date_stop"] == "2026-11-24T13:45:00.000Z"
    assert db.fn("Transaction", reply["transactionId"])["reservation_id"] == rid
    assert db.fn("GetReservation", 77)["status"] == "Reserved"
    assert db.fn("GetReservation", elsewhere)["status"] == "Reserved"


def test_stop_transaction(db: Db) -> None:
    """
    StopTransaction closes the transaction and keeps its transactionData
    (with the transaction's connector); a replay changes nothing.
    """
    tid = _started(db, connector=2)
    stop = {
        "transactionId": tid,
        "idTag": "TAG",
        "meterStop": 1500,
        "timestamp": "2026-11-24T14:00:01Z",
        "reason": "EVDisconnected",
        "transactionData": DATA,
    }
    reply = db.parse("StopTransaction", stop)
    assert reply == {"idTagInfo": {"status": "Accepted"}}
    assert db.parse("StopTransaction", {**stop, "meterStop": 9999}) == reply
    txn = db.fn("Transaction", tid)
    assert (txn["meter_stop"], txn["stop_timestamp"]) == (1500, "2026-11-24T14:00:01.000Z")
    assert (txn["stop_reason"], txn["stop_id_tag"], txn["abandoned_by"]) == (
        "EVDisconnected",
        "TAG",
        None,
    )
    values = [
        (m["identity"], m["connector_id"], m["value"], m["context"], m["unit"], m["source"])
        for m in txn["meter_values"]
    ]
    assert values == [
        ("CS1", 2, "1500", "Transaction.End", "Wh", "StopTransaction"),
        ("CS1", 2, "3.5", None, None, "StopTransaction"),
    ]
    assert db.fn("CountOpenTransactions") == 0


def test_stop_transaction_without_id_tag(db: Db) -> None:
    """Without idTag the reply has no idTagInfo; an absent reason is kept as NULL."""
    tid = _started(db)
    reply = db.parse("StopTransaction", {"transactionId": tid, "meterStop": 5, "timestamp": T0})
    assert reply == {}
    txn = db.fn("Transaction", tid)
    assert (txn["meter_stop"], txn["stop_reason"], txn["stop_id_tag"]) == (5, None, None)


def test_stop_transaction_unknown(db: Db) -> None:
    """An unknown transactionId is still answered, keeps nothing, and says so in a NOTICE."""
    db.configure(authorization="list")
    stop = {"transactionId": 4242, "meterStop": 1, "timestamp": T0}
    assert db.parse("StopTransaction", stop) == {}
    with_tag = {**stop, "idTag": "who", "transactionData": DATA}
    assert db.parse("StopTransaction", with_tag) == {"idTagInfo": {"status": "Invalid"}}
    assert sum("unknown transaction 4242 from CS1" in n for n in db.notices) == 2
    assert db.rows("SELECT count(*) FROM ocpp.meter_value") == [(0,)]
    assert db.rows("SELECT count(*) FROM ocpp.transaction") == [(0,)]


def test_meter_values(db: Db) -> None:
    """MeterValues keeps one row per sampled value with every attribute, NULL when absent."""
    tid = _started(db, connector=3)
    full = {
        "value": "230.1",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Voltage",
        "phase": "L1-N",
        "location": "Outlet",
        "unit": "V",
    }
    payload: dict[str, Any] = {
        "connectorId": 3,
        "transactionId": tid,
        "meterValue": [
            {"timestamp": "2026-11-24T14:00:00Z", "sampledValue": [full, {"value": "10"}]},
            {"timestamp": "2026-11-24T14:01:00Z", "sampledValue": [{"value": "11"}]},
        ],
    }
    assert db.parse("MeterValues", payload) == {}
    assert (
        db.parse("MeterValues", {"connectorId": 0, "meterValue": payload["meterValue"][1:]}) == {}
    )
    rows = db.fn("Transaction", tid)["meter_values"]
    assert [r["value"] for r in rows] == ["230.1", "10", "11"]
    first = rows[0]
    assert {k: first[k] for k in full} == full
    assert (first["source"], first["timestamp"], first["connector_id"]) == (
        "MeterValues",
        "2026-11-24T14:00:00.000Z",
        3,
    )
    assert rows[1]["measurand"] is None and rows[1]["unit"] is None
    assert db.rows("SELECT transaction_id FROM ocpp.meter_value WHERE connector_id = 0") == [
        (None,)
    ]


def _sample(value: str, **kw: str) -> dict[str, Any]:
    return {"value": value, **kw}


def test_abandoned_estimate(db: Db) -> None:
    """
    A new start on the connector closes the open transaction as abandoned:
    meterStop from the newest energy register reading in Wh (kWh converted;
    other measurands, per-phase, signed and unreadable values skipped),
    the stop time from the latest meter value in time.
    """
    tid = _started(db)
    register = "Energy.Active.Import.Register"
    batches = [
        ("2026-11-24T14:00:00Z", [_sample("1200")]),
        ("2026-11-24T14:10:00Z", [_sample("1.3", measurand=register, unit="kWh")]),
        ("2026-11-24T15:20:00+01:00", [_sample("999", measurand=register, phase="L1")]),
        ("2026-11-24T14:15:00Z", [_sample("5", measurand=register, format="SignedData")]),
        ("2026-11-24T14:16:00Z", [_sample("oops", measurand=register)]),
        ("2026-11-24T14:17:00Z", [_sample("1e400", measurand=register)]),
        ("2026-11-24T14:18:00Z", [_sample("7000", measurand="Power.Active.Import", unit="W")]),
    ]
    for ts, values in batches:
        payload = {
            "connectorId": 1,
            "transactionId": tid,
            "meterValue": [{"timestamp": ts, "sampledValue": values}],
        }
        db.parse("MeterValues", payload)
    new = _started(db, ts=LATER, meter=1400)
    txn = db.fn("Transaction", tid)
    assert (txn["meter_stop"], txn["stop_timestamp"]) == (1300, "2026-11-24T14:20:00.000Z")
    assert (txn["abandoned_by"], txn["stop_reason"], txn["stop_id_tag"]) == (new, None, None)
    assert db.fn("Transaction", new)["stop_timestamp"] is None
    assert any(f"Transaction {tid} (idTag TAG) of CS1 connector 1" in n for n in db.notices)


def test_abandoned_only_on_the_same_connector(db: Db) -> None:
    """
    Every transaction open on that connector of that station is closed
    (without meter values: at meterStart and the new start), even by a
    refused start; others are left alone; a replay changes nothing.
    """
    db.configure(authorization="list")
    stopped = _started(db, meter=1)
    db.parse("StopTransaction", {"transactionId": stopped, "meterStop": 2, "timestamp": T0})
    old = _started(db, id_tag="OTHER", meter=3)
    other_connector = _started(db, connector=2, id_tag="X", meter=5)
    other_station = _started(db, identity="CS2", id_tag="Y", meter=6)
    reply = db.parse("StartTransaction", start("NOBODY", ts=LATER, meter=7))
    assert reply["idTagInfo"] == {"status": "Invalid"}
    assert db.parse("StartTransaction", start("NOBODY", ts=LATER, meter=7)) == reply
    new = reply["transactionId"]
    rows = db.rows(
        "SELECT id, meter_stop, ocpp.iso(stop_timestamp), abandoned_by FROM ocpp.transaction"
    )
    assert sorted(rows) == [
        (stopped, 2, "2026-11-24T13:45:00.000Z", None),
        (old, 3, "2026-11-24T15:00:00.000Z", new),
        (other_connector, None, None, None),
        (other_station, None, None, None),
        (new, None, None, None),
    ]


def test_late_stop_completes_an_abandoned_transaction(db: Db) -> None:
    """
    A late StopTransaction replaces the estimate and clears abandoned_by; its
    replay changes nothing.
    """
    tid = _started(db)
    _started(db, ts=LATER, meter=500)
    data = [{"timestamp": "2026-11-24T14:30:00Z", "sampledValue": [_sample("450")]}]
    stop = {
        "transactionId": tid,
        "meterStop": 450,
        "timestamp": "2026-11-24T14:30:00Z",
        "reason": "PowerLoss",
        "transactionData": data,
    }
    assert db.parse("StopTransaction", stop) == {}
    assert db.parse("StopTransaction", {**stop, "meterStop": 1}) == {}
    txn = db.fn("Transaction", tid)
    assert (txn["meter_stop"], txn["stop_timestamp"], txn["stop_reason"]) == (
        450,
        "2026-11-24T14:30:00.000Z",
        "PowerLoss",
    )
    assert txn["abandoned_by"] is None
    assert [(m["value"], m["source"]) for m in txn["meter_values"]] == [("450", "StopTransaction")]
    assert sum(f"completes the abandoned transaction {tid}" in n for n in db.notices) == 1
