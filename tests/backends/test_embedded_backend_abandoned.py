"""
Tests for the abandoned transactions of
L{ocppcs.backends.embedded.record.EmbeddedRecord}
(L{ocppcs.backends.embedded.abandon}): which transactions a StartTransaction
closes, how their stop is estimated from the stored meter values, and how a
late StopTransaction completes them.

Every CALL goes through L{tests.backends.calls.call}, which checks the request
and the reply against the official OCPP 1.6 schemas.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted

from tests.backends import jobs
from tests.backends.calls import T0, call, sql

LATER = "2026-11-24T15:00:00Z"


def _start(
    id_tag: str = "TAG", connector: int = 1, ts: str = T0, meter: int = 100
) -> dict[str, Any]:
    return {"connectorId": connector, "idTag": id_tag, "meterStart": meter, "timestamp": ts}


async def _started(backend: Any, identity: str = "CS1", **kw: Any) -> int:
    return (await call(backend, "StartTransaction", _start(**kw), identity=identity))[
        "transactionId"
    ]


def _sample(value: str, **kw: str) -> dict[str, Any]:
    return {"value": value, **kw}


@pytest_twisted.ensureDeferred
async def test_estimate_uses_the_newest_energy_register_reading(make_backend: Any) -> None:
    """
    meterStop is the newest stored reading of the energy register in Wh
    (kWh converted; other measurands, per-phase, signed, unit-less of another
    kind and unreadable values skipped); dateStop the latest meter value in
    time, whatever order and offset they came in.
    """
    backend = await make_backend()
    tid = await _started(backend)
    register = "Energy.Active.Import.Register"
    batches = [
        ("2026-11-24T14:00:00Z", [_sample("1200")]),  # no measurand: the energy register, Wh
        ("2026-11-24T14:10:00Z", [_sample("1.3", measurand=register, unit="kWh")]),
        # Newer in time, sent later, written with an offset.
        ("2026-11-24T15:20:00+01:00", [_sample("999", measurand=register, phase="L1")]),
        ("2026-11-24T14:15:00Z", [_sample("5", measurand=register, format="SignedData")]),
        ("2026-11-24T14:16:00Z", [_sample("oops", measurand=register)]),
        ("2026-11-24T14:17:00Z", [_sample("7000", measurand="Power.Active.Import", unit="W")]),
    ]
    for ts, values in batches:
        payload = {
            "connectorId": 1,
            "transactionId": tid,
            "meterValue": [{"timestamp": ts, "sampledValue": values}],
        }
        await call(backend, "MeterValues", payload)
    new = await _started(backend, ts=LATER, meter=1400)
    txn = await backend.get_transaction(tid)
    assert (txn["meter_stop"], txn["stop_timestamp"]) == (1300, "2026-11-24T15:20:00+01:00")
    assert (txn["abandoned_by"], txn["stop_reason"], txn["stop_id_tag"]) == (new, None, None)
    assert (await backend.get_transaction(new))["stop_timestamp"] is None


@pytest_twisted.ensureDeferred
async def test_only_the_same_connector_of_the_same_station(make_backend: Any) -> None:
    """
    Every transaction open on the connector is closed (there may be several,
    recorded before migration 0005), whatever its tag and status, even by a
    start with a refused tag; those on other connectors
    and stations, and stopped ones, are left alone. A replay of the new
    start changes nothing.
    """
    backend = await make_backend(authorization="list")
    await backend.put_id_tag("TAG", "Accepted")
    stopped = await _started(backend, meter=1)
    await call(
        backend, "StopTransaction", {"transactionId": stopped, "meterStop": 2, "timestamp": T0}
    )
    old = await _started(backend, id_tag="OTHER", meter=3)  # Invalid, never stopped
    # Recorded before migration 0005: a second transaction open on the connector.
    await backend.store.run(
        jobs.execute,
        "INSERT INTO txn (identity, connector_id, id_tag, meter_start, start_timestamp,"
        " id_tag_status, created, updated) VALUES ('CS1', 1, 'TAG', 4, ?, 'Accepted', ?, ?)",
        "2026-11-24T14:00:00Z",
        T0,
        T0,
    )
    older = old + 1
    other_connector = await _started(backend, connector=2, id_tag="X", meter=5)
    other_station = await _started(backend, identity="CS2", id_tag="Y", meter=6)
    reply = await call(backend, "StartTransaction", _start("NOBODY", ts=LATER, meter=7))
    assert reply["idTagInfo"] == {"status": "Invalid"}
    new = reply["transactionId"]
    assert await call(backend, "StartTransaction", _start("NOBODY", ts=LATER, meter=7)) == reply
    rows = await sql(backend, "SELECT id, meter_stop, stop_timestamp, abandoned_by FROM txn")
    assert sorted(rows) == [
        (stopped, 2, T0, None),
        (old, 3, LATER, new),
        (older, 4, LATER, new),
        (other_connector, None, None, None),
        (other_station, None, None, None),
        (new, None, None, None),
    ]


@pytest_twisted.ensureDeferred
async def test_late_stop_completes_an_abandoned_transaction(
    make_backend: Any, events: list[dict[str, Any]]
) -> None:
    """
    A late StopTransaction replaces the estimate, keeps its transactionData
    and clears the abandoned flag (logged); its replay changes nothing.
    """
    backend = await make_backend()
    tid = await _started(backend)
    new = await _started(backend, ts=LATER, meter=500)
    [warning] = [e for e in events if e.get("abandoned_by") == new]
    assert (warning["transaction_id"], warning["identity"], warning["connector_id"]) == (
        tid,
        "CS1",
        1,
    )
    assert (warning["meter_stop"], warning["stop_timestamp"], warning["id_tag"]) == (
        100,
        LATER,
        "TAG",
    )
    data = [{"timestamp": "2026-11-24T14:30:00Z", "sampledValue": [_sample("450")]}]
    stop = {
        "transactionId": tid,
        "meterStop": 450,
        "timestamp": "2026-11-24T14:30:00Z",
        "reason": "PowerLoss",
        "transactionData": data,
    }
    assert await call(backend, "StopTransaction", stop) == {}
    assert await call(backend, "StopTransaction", {**stop, "meterStop": 1}) == {}
    txn = await backend.get_transaction(tid)
    assert (txn["meter_stop"], txn["stop_timestamp"], txn["stop_reason"]) == (
        450,
        "2026-11-24T14:30:00Z",
        "PowerLoss",
    )
    assert txn["abandoned_by"] is None
    assert [(m["value"], m["source"]) for m in txn["meter_values"]] == [("450", "StopTransaction")]
    completed = [e for e in events if e.get("transaction_id") == tid and "abandoned_by" not in e]
    assert len(completed) == 1 and completed[0]["identity"] == "CS1"
