"""
The station routes through real HTTP: the original's ChargePointList, one
station (inspect, register, remove) and onboarding (refused connections,
stations waiting to be accepted), under the C{known} registration policy.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest_twisted

from tests.emulator.test_end_to_end import conforms
from tests.integration.conftest import aio
from tests.integration.rawstation import BOOT, now
from tests.web.conftest import WebCentral

BOOT_FULL = {
    **BOOT,
    "chargePointSerialNumber": "SN-1",
    "firmwareVersion": "1.2.3",
    "meterType": "M",
}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "info": "busy"}


async def wait_offline(web: WebCentral, identity: str) -> None:
    """Wait (bounded) until the central system has seen C{identity} go."""
    for _ in range(100):
        if identity not in web.service.registry:
            return
        await aio(asyncio.sleep(0.02))
    raise AssertionError(f"{identity} still connected")


def entry_of(entries: list[dict[str, Any]], identity: str) -> dict[str, Any]:
    [entry] = [e for e in entries if e["identity"] == identity]
    return entry


@pytest_twisted.ensureDeferred
async def test_charge_point_list(web: WebCentral) -> None:
    """The original's bare array: boot and status data; connection only while connected."""
    assert (await web.api.put("/ChargePoint/LIST-1")).status == 200
    station = await web.station("LIST-1")
    try:
        assert (await aio(station.boot(**BOOT_FULL)))["status"] == "Accepted"
        await aio(station.result("StatusNotification", {**STATUS, "connectorId": 0}))
        await aio(station.result("StatusNotification", STATUS))
        for path in ("/ChargePointList", "/CentralSystem/ChargePointList"):
            reply = await web.api.get(path)
            assert reply.status == 200
            entry = entry_of(reply.json, "LIST-1")
            assert entry["protocol"] == "JSON" and entry["ocppVersion"] == "1.6"
            assert entry["address"].startswith("127.0.0.1:")
            assert entry["connection"]["ip"] == "127.0.0.1"
            assert entry["address"] == f"127.0.0.1:{entry['connection']['port']}"
            assert entry["bootNotification"] == BOOT_FULL
            assert entry["statusNotification"] == STATUS
    finally:
        await aio(station.close())
    await wait_offline(web, "LIST-1")
    entry = entry_of((await web.api.get("/ChargePointList")).json, "LIST-1")
    assert "connection" not in entry
    assert entry["bootNotification"] == BOOT_FULL


@pytest_twisted.ensureDeferred
async def test_charge_point_list_paging(web: WebCentral) -> None:
    """limit and offset page the array; the total is in X-Total-Count."""
    for n in range(3):
        await web.api.put(f"/ChargePoint/PAGE-{n}")
    everything = await web.api.get("/ChargePointList", limit=1000)
    total = int(everything.header("X-Total-Count") or 0)
    assert total == len(everything.json) >= 3
    assert everything.header("X-Next-Offset") is None
    first = await web.api.get("/ChargePointList", limit=2)
    assert len(first.json) == 2 and first.header("X-Next-Offset") == "2"
    second = await web.api.get("/ChargePointList", limit=2, offset=2)
    assert first.json + second.json == everything.json[:4]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "x"}, {"sort": "id"}):
        (await web.api.get("/ChargePointList", **bad)).error(400)


@pytest_twisted.ensureDeferred
async def test_get_charge_point(web: WebCentral) -> None:
    """One station: boot data, connection, connectors, open transactions, statuses."""
    (await web.api.get("/ChargePoint/ONE-1")).error(404)
    await web.api.put("/ChargePoint/ONE-1")
    await web.api.put("/IdTag/ONE-TAG", {"status": "Accepted"})
    station = await web.station("ONE-1", boot=True)
    try:
        await aio(station.result("StatusNotification", STATUS))
        started = await aio(
            station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "ONE-TAG", "meterStart": 100, "timestamp": now()},
            )
        )
        await aio(station.result("FirmwareStatusNotification", {"status": "Downloading"}))
        await aio(station.result("DiagnosticsStatusNotification", {"status": "Uploaded"}))
        detail = (await web.api.get("/ChargePoint/ONE-1")).json
    finally:
        await aio(station.close())
    assert detail["identity"] == "ONE-1"
    assert detail["online"] is True and detail["registered"] is True
    assert detail["bootStatus"] == "Accepted"
    assert detail["connection"]["ip"] == "127.0.0.1"
    assert detail["bootNotification"] == BOOT
    assert detail["lastBoot"] and detail["lastSeen"]
    [connector] = detail["connectors"]
    assert {k: connector[k] for k in STATUS} == STATUS and connector["updated"]
    [txn] = detail["openTransactions"]
    assert txn["id"] == started["transactionId"] and txn["meterStart"] == 100
    assert txn["dateStop"] is None and txn["idTagStatus"] == "Accepted"
    assert detail["firmwareStatus"]["status"] == "Downloading"
    assert detail["diagnosticsStatus"]["status"] == "Uploaded"
    await wait_offline(web, "ONE-1")
    detail = (await web.api.get("/ChargePoint/ONE-1")).json
    assert detail["online"] is False and detail["connection"] is None
    assert detail["address"].startswith("127.0.0.1:")


@pytest_twisted.ensureDeferred
async def test_register_and_remove(web: WebCentral) -> None:
    """PUT registers (idempotent); DELETE forgets a station that never connected."""
    for _ in range(2):
        reply = await web.api.put("/ChargePoint/REG-AHEAD")
        assert reply.status == 200
        assert reply.json["registered"] is True and reply.json["online"] is False
    assert (await web.api.delete("/ChargePoint/REG-AHEAD")).status == 204
    (await web.api.get("/ChargePoint/REG-AHEAD")).error(404)
    (await web.api.delete("/ChargePoint/REG-AHEAD")).error(404)
    (await web.api.put("/ChargePoint/" + "x" * 49)).error(400)
    (await web.api.put("/ChargePoint/bad%01id")).error(400)
    (await web.api.put("/ChargePoint/REG-BODY", {"name": "x"})).error(400)
    (await web.api.put("/ChargePoint/REG-BODY", data=b"[")).error(400)
    assert (await web.api.put("/ChargePoint/REG-BODY", {})).status == 200
    assert (await web.api.put("/ChargePoint/REG%20SPACE")).json["identity"] == "REG SPACE"


@pytest_twisted.ensureDeferred
async def test_remove_unregisters_a_station_with_history(web: WebCentral) -> None:
    """DELETE of a station that booted keeps it, unregistered: its next boot is Rejected."""
    await web.api.put("/ChargePoint/REG-OLD")
    station = await web.station("REG-OLD", boot=True)
    try:
        assert (await web.api.delete("/ChargePoint/REG-OLD")).status == 204
        detail = (await web.api.get("/ChargePoint/REG-OLD")).json
        assert detail["registered"] is False and detail["online"] is True
        assert (await aio(station.boot()))["status"] == "Rejected"
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_rejected_stations_accepted_in_one_call(web: WebCentral) -> None:
    """A Rejected station is listed; accepting it registers it; its next boot is Accepted."""
    station = await web.station("NEW-1")
    try:
        assert (await aio(station.boot(**BOOT_FULL)))["status"] == "Rejected"
        listed = (await web.api.get("/Onboarding/RejectedStations")).json
        entry = entry_of(listed["RejectedStations"], "NEW-1")
        assert entry["bootStatus"] == "Rejected" and entry["online"] is True
        assert entry["bootNotification"] == BOOT_FULL
        assert listed["total"] >= 1 and listed["offset"] == 0
        accepted = await web.api.post("/Onboarding/RejectedStations/NEW-1/accept")
        assert accepted.status == 200 and accepted.json["registered"] is True
        listed = (await web.api.get("/Onboarding/RejectedStations", limit=1000)).json
        assert "NEW-1" not in [e["identity"] for e in listed["RejectedStations"]]
        assert (await aio(station.boot()))["status"] == "Accepted"
    finally:
        await aio(station.close())
    (await web.api.post("/Onboarding/RejectedStations/NEVER-SEEN/accept")).error(404)
    (await web.api.post("/Onboarding/RejectedStations/NEW-1/accept", data=b"x")).error(400)


@pytest_twisted.ensureDeferred
async def test_refused_connections(web: WebCentral) -> None:
    """The refusal log, newest first, filtered by identity, paged."""
    refusals = web.service.refusals
    refusals.record("REF-1", "/ocpp/REF-1", "tcp4:10.0.0.1:1", "unknown identity")
    refusals.record("REF-2", "/ocpp/REF-2", "tcp4:10.0.0.2:2", "no common subprotocol")
    refusals.record("REF-1", "/ocpp/REF-1", "tcp4:10.0.0.1:3", "failed authentication")
    reply = await web.api.get("/Onboarding/RefusedConnections", identity="REF-1")
    body = reply.json
    assert body["total"] == 2 and body["nextOffset"] is None
    assert [e["reason"] for e in body["RefusedConnections"]] == [
        "failed authentication",
        "unknown identity",
    ]
    first = body["RefusedConnections"][0]
    assert first["path"] == "/ocpp/REF-1" and first["address"] == "tcp4:10.0.0.1:3"
    assert first["ts"].endswith("Z")
    paged = (await web.api.get("/Onboarding/RefusedConnections", identity="REF-1", limit=1)).json
    assert len(paged["RefusedConnections"]) == 1 and paged["nextOffset"] == 1
    (await web.api.get("/Onboarding/RefusedConnections", ident="REF-1")).error(400)


@pytest_twisted.ensureDeferred
async def test_charge_point_list_every_connector(web: WebCentral) -> None:
    """
    A station with several connectors: the entry lists every connector's
    last status (by connectorId) in C{connectors}; C{statusNotification}
    stays the newest one, as in the original.
    """
    await web.api.put("/ChargePoint/MULTI-1")
    station = await web.station("MULTI-1", boot=True)
    statuses = [
        {"connectorId": 2, "errorCode": "GroundFailure", "status": "Faulted"},
        {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
        {**STATUS, "timestamp": "2026-11-24T10:00:00.000Z"},
        {"connectorId": 2, "errorCode": "NoError", "status": "Available"},
    ]
    try:
        for status in statuses:
            await aio(station.result("StatusNotification", status))
    finally:
        await aio(station.close())
    for path in ("/ChargePointList", "/CentralSystem/ChargePointList"):
        entry = entry_of(conforms(await web.api.get(path, limit=1000), path, "get"), "MULTI-1")
        assert entry["statusNotification"] == statuses[-1]
        connectors = entry["connectors"]
        assert [c["connectorId"] for c in connectors] == [0, 1, 2]
        assert all(c.pop("updated") for c in connectors)
        assert connectors == [statuses[1], statuses[2], statuses[3]]
    # A station that never sent a StatusNotification has an empty list.
    await web.api.put("/ChargePoint/MULTI-NONE")
    entry = entry_of((await web.api.get("/ChargePointList", limit=1000)).json, "MULTI-NONE")
    assert entry["connectors"] == [] and "statusNotification" not in entry
