"""
The embedded record's copies of calls another decider answered
(L{EmbeddedRecord.record_call}): what the station reported, with the
decider's answer, never overwriting something else.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import pytest_twisted

from ocppcs.backends.embedded.errors import RecordConflict
from ocppcs.backends.interface import CallContext
from tests.backends.calls import T0

BOOT = {"chargePointVendor": "V", "chargePointModel": "M", "chargePointSerialNumber": "S"}
START = {"connectorId": 1, "idTag": "T", "meterStart": 5, "timestamp": T0}
ACCEPTED = {"status": "Accepted"}


def _copy(record: Any, action: str, payload: dict[str, Any], reply: dict[str, Any]) -> Any:
    return record.record_call(CallContext("CP", "", "u", action, time.time()), payload, reply)


@pytest_twisted.ensureDeferred
async def test_boot_copies_the_deciders_status(make_backend: Any) -> None:
    """The registration is the decider's: Accepted is registered and accepted, else not."""
    record = await make_backend(registration="known")
    await _copy(record, "BootNotification", BOOT, {"status": "Pending", "interval": 5})
    assert not await record.is_accepted("CP")
    [rejected] = (await record.rejected_station_page(10, 0))[1]
    assert (rejected.identity, rejected.boot_status, rejected.vendor) == ("CP", "Pending", "V")
    await _copy(record, "BootNotification", BOOT, {"status": "Accepted", "interval": 5})
    assert await record.is_accepted("CP")
    record._accepted.clear()
    assert await record.is_accepted("CP")  # from the store too


@pytest_twisted.ensureDeferred
async def test_start_keeps_the_given_id_and_refuses_a_reused_one(make_backend: Any) -> None:
    """The decider's transactionId is kept; a replay is no change; a reuse changes nothing."""
    record = await make_backend()
    reply = {"idTagInfo": {"status": "Blocked"}, "transactionId": 4242}
    assert await _copy(record, "StartTransaction", START, reply) == "stored"
    assert await _copy(record, "StartTransaction", START, reply) == "replay"
    other = {**START, "connectorId": 2}
    with pytest.raises(RecordConflict):
        await _copy(record, "StartTransaction", other, reply)
    with pytest.raises(RecordConflict):  # the same transaction under a new id
        await _copy(record, "StartTransaction", START, {**reply, "transactionId": 9})
    [txn] = await record.list_transactions()
    assert (txn["id"], txn["connector_id"], txn["id_tag_status"]) == (4242, 1, "Blocked")
    refused = (await record.refused_id_tag_page(10, 0))[1]
    assert [(r.id_tag, r.status, r.count) for r in refused] == [("T", "Blocked", 1)]


@pytest_twisted.ensureDeferred
async def test_an_embedded_id_never_repeats_after_copies(make_backend: Any) -> None:
    """The store's own numbering continues after the largest id copied (AUTOINCREMENT)."""
    record = await make_backend()
    reply = {"idTagInfo": ACCEPTED, "transactionId": 500}
    await _copy(record, "StartTransaction", START, reply)
    from tests.backends.calls import call

    own = await call(record, "StartTransaction", {**START, "connectorId": 3})
    assert own["transactionId"] == 501


@pytest_twisted.ensureDeferred
async def test_stop_and_meter_values(make_backend: Any) -> None:
    """Stop data and meter values of the copied transaction; an unknown id keeps nothing."""
    record = await make_backend()
    await _copy(record, "StartTransaction", START, {"idTagInfo": ACCEPTED, "transactionId": 7})
    value = {"timestamp": T0, "sampledValue": [{"value": "9"}]}
    meter = {"connectorId": 1, "transactionId": 7, "meterValue": [value]}
    assert await _copy(record, "MeterValues", meter, {}) == "stored"
    stop = {"transactionId": 7, "meterStop": 50, "timestamp": T0, "transactionData": [value]}
    assert await _copy(record, "StopTransaction", stop, {}) == "stopped"
    assert await _copy(record, "StopTransaction", stop, {}) == "replay"
    assert await _copy(record, "StopTransaction", {**stop, "transactionId": 8}, {}) == "unknown"
    txn = await record.get_transaction(7)
    assert txn["meter_stop"] == 50
    assert [m["source"] for m in txn["meter_values"]] == ["MeterValues", "StopTransaction"]
    assert await record.get_transaction(8) is None
