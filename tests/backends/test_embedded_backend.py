"""
Tests for L{ocppcs.backends.embedded.backend.EmbeddedBackend}: what it answers
to each station CALL under each policy, and what it stores.

Every request sent passes the official OCPP 1.6 request schema and every reply
is checked against the official response schema.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from argparse import Namespace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
import pytest_twisted
from twisted.logger import globalLogPublisher
from zope.interface.verify import verifyObject

from ocppcs.backends.embedded.backend import EmbeddedBackend
from ocppcs.backends.interface import CallContext, FrameRecord, IBackend
from ocppcs.config import CentralConfig, EmbeddedConfig
from ocppcs.ocppj.errors import NotSupportedError
from tests.backends import jobs

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
T0 = "2026-11-24T13:45:00Z"


@cache
def _validator(name: str) -> Any:
    text = resources.files("ocpp.v16").joinpath("schemas", f"{name}.json").read_text("utf-8")
    return fastjsonschema.compile(json.loads(text))


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


async def call(
    backend: EmbeddedBackend, action: str, payload: dict[str, Any], identity: str = "CS1"
) -> dict[str, Any]:
    """Send a schema-valid CALL and return its schema-valid reply."""
    _validator(action)(payload)
    ctx = CallContext(identity, "", "1", action, time.time())
    reply = await backend.handle_call(ctx, payload)
    _validator(f"{action}Response")(reply)
    return reply


async def sql(backend: EmbeddedBackend, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read rows straight from the database, in the store's worker."""
    return await backend.store.run(jobs.query, query, *args)


@pytest_twisted.async_yield_fixture
async def make_backend(tmp_path: Path) -> Any:
    """A factory of started backends on C{tmp_path}, all stopped afterwards."""
    backends: list[EmbeddedBackend] = []

    async def make(path: str | None = None, embedded: dict[str, Any] | None = None, **central: Any):
        config = EmbeddedConfig(path=path or str(tmp_path / "db.sqlite3"), **(embedded or {}))
        backend = EmbeddedBackend(_reactor(), CentralConfig(**central), config)
        backends.append(backend)
        await backend.startService()
        return backend

    yield make
    for backend in backends:
        if backend.running:
            await backend.stopService()


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


def _start(id_tag: str = "TAG", connector: int = 1, ts: str = T0, meter: int = 100, **kw: Any):
    return {"connectorId": connector, "idTag": id_tag, "meterStart": meter, "timestamp": ts, **kw}


# --- service and interface -------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_provides_ibackend(make_backend: Any) -> None:
    """The backend provides L{IBackend} and names itself C{embedded}."""
    backend = await make_backend()
    assert verifyObject(IBackend, backend)
    assert backend.name == "embedded"
    assert backend.ready.called


@pytest_twisted.ensureDeferred
async def test_unsupported_action(make_backend: Any) -> None:
    """An action the backend does not handle fails with NotSupported."""
    backend = await make_backend()
    ctx = CallContext("CS1", "", "1", "SecurityEventNotification", time.time())
    with pytest.raises(NotSupportedError):
        await backend.handle_call(ctx, {"type": "x", "timestamp": T0})


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


# --- transactions ----------------------------------------------------------------------------


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


# --- frame log -------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_record_frame(make_backend: Any) -> None:
    """Frames are logged with every field; bad records never raise."""
    backend = await make_backend()
    ts = datetime(2026, 11, 24, 13, 45, 0, 123000, tzinfo=UTC)
    backend.record_frame(
        FrameRecord(ts.timestamp(), "CS1", "in", 2, "u1", "Heartbeat", b'[2,"u1","Heartbeat",{}]')
    )
    backend.record_frame(
        FrameRecord(ts.timestamp(), "CS2", "out", 3, "u2", "Heartbeat", b"\xff bad utf-8")
    )
    backend.record_frame(None)  # type: ignore[arg-type]
    frames = await backend.list_frames()
    assert [(f["identity"], f["direction"], f["message_type"], f["unique_id"]) for f in frames] == [
        ("CS2", "out", 3, "u2"),
        ("CS1", "in", 2, "u1"),
    ]
    assert frames[1]["ts"] == "2026-11-24T13:45:00.123Z"
    assert frames[1]["raw"] == '[2,"u1","Heartbeat",{}]'
    assert frames[0]["raw"] == "\ufffd bad utf-8"
    assert [f["unique_id"] for f in await backend.list_frames("CS1")] == ["u1"]
    assert len(await backend.list_frames(limit=1)) == 1


@pytest_twisted.ensureDeferred
async def test_frame_log_bounded(make_backend: Any) -> None:
    """The frame log is pruned to C{log_max_rows} rows and C{log_max_age} seconds."""
    backend = await make_backend(embedded={"log_max_rows": 5, "log_max_age": 3600})
    old = datetime.now(UTC) - timedelta(hours=2)
    for n in range(3):
        backend.record_frame(
            FrameRecord(old.timestamp(), "CS1", "in", 2, f"old{n}", "Heartbeat", b"[]")
        )
    for n in range(8):
        backend.record_frame(FrameRecord(time.time(), "CS1", "in", 2, f"new{n}", "", b"[]"))
    assert await backend.store.prune_log() == 6
    frames = await backend.list_frames(limit=100)
    assert [f["unique_id"] for f in frames] == [f"new{n}" for n in range(7, 2, -1)]


# --- benchmark script ------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_store_bench_runs(capsys: Any) -> None:
    """C{bench/store_bench.py} runs (a tiny load) and prints its figures."""
    path = Path(__file__).parents[2] / "bench" / "store_bench.py"
    spec = importlib.util.spec_from_file_location("store_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module._bench(
        _reactor(), Namespace(calls=300, stations=10, synchronous="normal", frames=True)
    )
    out = capsys.readouterr().out
    assert "300 calls from 10 stations" in out and "calls/s" in out
