"""
Tests for the transactions of
L{ocppcs.backends.embedded.record.EmbeddedRecord}: StartTransaction under
each policy (with ConcurrentTx, replays, reservations and ids that never
repeat), StopTransaction, MeterValues and the listing of transactions.

Every CALL goes through L{tests.backends.calls.call}, which checks the request
and the reply against the official OCPP 1.6 schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.logger import globalLogPublisher

from tests.backends import jobs
from tests.backends.calls import T0, call, sql


def _start(
    id_tag: str = "TAG", connector: int = 1, ts: str = T0, meter: int = 100, **kw: Any
) -> dict[str, Any]:
    """A StartTransaction request; C{kw} adds optional fields (C{reservationId})."""
    return {"connectorId": connector, "idTag": id_tag, "meterStart": meter, "timestamp": ts, **kw}


@pytest_twisted.ensureDeferred
async def test_start_transaction_open(make_backend: Any) -> None:
    """Open authorization: a transaction is stored with everything in the request."""
    backend = await make_backend()
    reply = await call(backend, "StartTransaction", _start(meter=123))
    assert reply["idTagInfo"] == {"status": "Accepted"}
    txn = await backend.get_transaction(reply["transactionId"])
    assert (txn["identity"], txn["connector_id"], txn["id_tag"]) == ("CS1", 1, "TAG")
    assert (txn["meter_start"], txn["start_timestamp"], txn["id_tag_status"]) == (
        123,
        T0,
        "Accepted",
    )
    assert txn["stop_timestamp"] is None and txn["meter_values"] == []


@pytest_twisted.ensureDeferred
async def test_start_transaction_not_accepted_gets_id(make_backend: Any) -> None:
    """An Invalid or Blocked tag still gets a (stored) transaction id."""
    backend = await make_backend(authorization="list")
    await backend.put_id_tag("BLK", "Blocked")
    invalid = await call(backend, "StartTransaction", _start("nope"))
    blocked = await call(backend, "StartTransaction", _start("BLK", connector=2))
    assert invalid["idTagInfo"] == {"status": "Invalid"}
    assert blocked["idTagInfo"] == {"status": "Blocked"}
    assert blocked["transactionId"] > invalid["transactionId"]
    txn = await backend.get_transaction(blocked["transactionId"])
    assert (txn["id_tag"], txn["id_tag_status"]) == ("BLK", "Blocked")


@pytest_twisted.ensureDeferred
async def test_start_transaction_concurrent(make_backend: Any) -> None:
    """
    List authorization: a tag already in a running transaction, on any
    station, gets ConcurrentTx until that transaction stops.
    """
    backend = await make_backend(authorization="list")
    await backend.put_id_tag("TAG", "Accepted")
    first = await call(backend, "StartTransaction", _start(), identity="CS1")
    assert first["idTagInfo"]["status"] == "Accepted"
    second = await call(backend, "StartTransaction", _start(connector=2), identity="CS2")
    assert second["idTagInfo"] == {"status": "ConcurrentTx"}
    assert second["transactionId"] != first["transactionId"]
    stop = {"transactionId": first["transactionId"], "meterStop": 200, "timestamp": T0}
    await call(backend, "StopTransaction", stop, identity="CS1")
    third = await call(
        backend, "StartTransaction", _start(ts="2026-11-24T14:00:00Z"), identity="CS2"
    )
    assert third["idTagInfo"] == {"status": "Accepted"}
    # The ConcurrentTx transaction never blocked the tag.
    assert (await backend.get_transaction(second["transactionId"]))[
        "id_tag_status"
    ] == "ConcurrentTx"


@pytest_twisted.ensureDeferred
async def test_start_transaction_replay(make_backend: Any) -> None:
    """
    A replayed StartTransaction gets the same id and the same idTagInfo, even
    when the tag changed since, and adds no row.
    """
    backend = await make_backend(authorization="list")
    await backend.put_id_tag("TAG", "Accepted", "2099-01-01T00:00:00Z", "P")
    first = await call(backend, "StartTransaction", _start())
    await backend.put_id_tag("TAG", "Blocked")
    again = await call(backend, "StartTransaction", _start())
    assert again == first
    assert first["idTagInfo"] == {
        "status": "Accepted",
        "expiryDate": "2099-01-01T00:00:00.000Z",
        "parentIdTag": "P",
    }
    assert await sql(backend, "SELECT count(*) FROM txn") == [(1,)]
    other = await call(backend, "StartTransaction", _start(meter=101))
    assert other["transactionId"] == first["transactionId"] + 1
    assert other["idTagInfo"] == {"status": "Blocked"}


@pytest_twisted.ensureDeferred
async def test_transaction_ids_never_repeat(make_backend: Any) -> None:
    """Transaction ids keep increasing across deletes and restarts."""
    backend = await make_backend()
    one = (await call(backend, "StartTransaction", _start(meter=1)))["transactionId"]
    two = (await call(backend, "StartTransaction", _start(meter=2)))["transactionId"]
    assert two > one
    await backend.store.run(jobs.execute, "DELETE FROM txn WHERE id = ?", two)
    await backend.stopService()
    again = await make_backend()
    three = (await call(again, "StartTransaction", _start(meter=3)))["transactionId"]
    assert three > two
    assert await again.get_transaction(two) is None
    assert (await again.get_transaction(one))["meter_start"] == 1


@pytest_twisted.ensureDeferred
async def test_start_transaction_uses_reservation(make_backend: Any) -> None:
    """A StartTransaction with a reservationId marks the reservation Used by it."""
    backend = await make_backend()
    rid = await backend.add_reservation("CS1", 1, "TAG", "2099-01-01T00:00:00Z")
    other = await backend.add_reservation("CS1", 2, "TAG", "2099-01-01T00:00:00Z", "P", 77)
    assert other == 77
    reply = await call(backend, "StartTransaction", _start(reservationId=rid))
    used = await backend.get_reservation(rid)
    assert (used["status"], used["transaction_id"]) == ("Used", reply["transactionId"])
    assert (await backend.get_transaction(reply["transactionId"]))["reservation_id"] == rid
    untouched = await backend.get_reservation(77)
    assert (untouched["status"], untouched["parent_id_tag"]) == ("Reserved", "P")
    assert await backend.set_reservation_status(77, "Cancelled") is True
    assert (await backend.get_reservation(77))["status"] == "Cancelled"
    with pytest.raises(ValueError):
        await backend.set_reservation_status(77, "Gone")


TRANSACTION_DATA = [
    {
        "timestamp": "2026-11-24T14:00:00Z",
        "sampledValue": [
            {"value": "1500", "context": "Transaction.End", "unit": "Wh"},
            {"value": "3.5"},
        ],
    }
]


@pytest_twisted.ensureDeferred
async def test_stop_transaction(make_backend: Any) -> None:
    """
    StopTransaction closes the transaction and stores its transactionData; a
    replay changes nothing and duplicates no meter value.
    """
    backend = await make_backend()
    tid = (await call(backend, "StartTransaction", _start(connector=2)))["transactionId"]
    stop = {
        "transactionId": tid,
        "idTag": "TAG",
        "meterStop": 1500,
        "timestamp": "2026-11-24T14:00:01Z",
        "reason": "EVDisconnected",
        "transactionData": TRANSACTION_DATA,
    }
    reply = await call(backend, "StopTransaction", stop)
    assert reply == {"idTagInfo": {"status": "Accepted"}}
    again = await call(backend, "StopTransaction", {**stop, "meterStop": 9999})
    assert again == reply
    txn = await backend.get_transaction(tid)
    assert (txn["meter_stop"], txn["stop_timestamp"]) == (1500, "2026-11-24T14:00:01Z")
    assert (txn["stop_reason"], txn["stop_id_tag"]) == ("EVDisconnected", "TAG")
    values = [
        (m["identity"], m["connector_id"], m["value"], m["context"], m["unit"], m["source"])
        for m in txn["meter_values"]
    ]
    assert values == [
        ("CS1", 2, "1500", "Transaction.End", "Wh", "StopTransaction"),
        ("CS1", 2, "3.5", None, None, "StopTransaction"),
    ]


@pytest_twisted.ensureDeferred
async def test_stop_transaction_without_id_tag(make_backend: Any) -> None:
    """Without idTag the reply has no idTagInfo; an absent reason is stored as NULL."""
    backend = await make_backend()
    tid = (await call(backend, "StartTransaction", _start()))["transactionId"]
    reply = await call(
        backend, "StopTransaction", {"transactionId": tid, "meterStop": 5, "timestamp": T0}
    )
    assert reply == {}
    txn = await backend.get_transaction(tid)
    assert (txn["meter_stop"], txn["stop_reason"], txn["stop_id_tag"]) == (5, None, None)


@pytest_twisted.ensureDeferred
async def test_stop_transaction_unknown(make_backend: Any) -> None:
    """An unknown transactionId is still answered, stores nothing, and is logged."""
    backend = await make_backend(authorization="list")
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        stop = {"transactionId": 4242, "meterStop": 1, "timestamp": T0}
        assert await call(backend, "StopTransaction", stop) == {}
        with_tag = {**stop, "idTag": "who", "transactionData": TRANSACTION_DATA}
        reply = await call(backend, "StopTransaction", with_tag)
        assert reply == {"idTagInfo": {"status": "Invalid"}}
    finally:
        globalLogPublisher.removeObserver(events.append)
    warnings = [e for e in events if e.get("transaction_id") == 4242]
    assert len(warnings) == 2 and warnings[0]["identity"] == "CS1"
    assert await sql(backend, "SELECT count(*) FROM meter_value") == [(0,)]
    assert await sql(backend, "SELECT count(*) FROM txn") == [(0,)]


@pytest_twisted.ensureDeferred
async def test_meter_values(make_backend: Any) -> None:
    """MeterValues stores one row per sampled value with every attribute, NULL when absent."""
    backend = await make_backend()
    tid = (await call(backend, "StartTransaction", _start(connector=3)))["transactionId"]
    full = {
        "value": "230.1",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Voltage",
        "phase": "L1-N",
        "location": "Outlet",
        "unit": "V",
    }
    payload = {
        "connectorId": 3,
        "transactionId": tid,
        "meterValue": [
            {"timestamp": "2026-11-24T14:00:00Z", "sampledValue": [full, {"value": "10"}]},
            {"timestamp": "2026-11-24T14:01:00Z", "sampledValue": [{"value": "11"}]},
        ],
    }
    assert await call(backend, "MeterValues", payload) == {}
    assert (
        await call(
            backend, "MeterValues", {"connectorId": 0, "meterValue": payload["meterValue"][1:]}
        )
        == {}
    )
    rows = (await backend.get_transaction(tid))["meter_values"]
    assert len(rows) == 3
    first = rows[0]
    assert {k: first[k] for k in full} == full
    assert (first["identity"], first["connector_id"], first["timestamp"], first["source"]) == (
        "CS1",
        3,
        "2026-11-24T14:00:00Z",
        "MeterValues",
    )
    attributes = ("context", "format", "measurand", "phase", "location", "unit")
    assert [rows[1][a] for a in attributes] == [None] * 6
    assert (rows[2]["value"], rows[2]["timestamp"]) == ("11", "2026-11-24T14:01:00Z")
    loose = await sql(
        backend, "SELECT connector_id, value FROM meter_value WHERE transaction_id IS NULL"
    )
    assert loose == [(0, "11")]


@pytest_twisted.ensureDeferred
async def test_list_transactions(make_backend: Any) -> None:
    """Transactions can be listed by station and start time, newest first."""
    backend = await make_backend()
    a = (await call(backend, "StartTransaction", _start(ts="2026-01-01T00:00:00Z")))[
        "transactionId"
    ]
    b = (await call(backend, "StartTransaction", _start(ts="2026-02-01T00:00:00Z")))[
        "transactionId"
    ]
    c = (
        await call(backend, "StartTransaction", _start(ts="2026-03-01T00:00:00Z"), identity="CS2")
    )["transactionId"]
    ids = [t["id"] for t in await backend.list_transactions()]
    assert ids == [c, b, a]
    assert [t["id"] for t in await backend.list_transactions(identity="CS1")] == [b, a]
    ids = [
        t["id"]
        for t in await backend.list_transactions(date_from="2026-01-15", date_to="2026-03-01")
    ]
    assert ids == [b]
    assert [t["id"] for t in await backend.list_transactions(limit=1)] == [c]
