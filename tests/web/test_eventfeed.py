"""
The station event feed C{/ws/events} (L{ocppcs.web.eventfeed}) through the
running service: a real WebSocket reader watching a raw station connect,
boot, report statuses and meter values, start and stop a transaction and
disconnect; and the identity filter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest_twisted
import websockets
from websockets.asyncio.client import ClientConnection

from ocppcs.web.eventfeed import meter_reading
from tests.integration.conftest import Central, aio, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation, now
from tests.web.test_logfeed_service import TS


@pytest_twisted.async_yield_fixture
async def central(tmp_path: Path) -> AsyncIterator[Central]:
    running = await start_central(tmp_path)
    yield running
    await stop_central(running)


async def open_events(central: Central, query: str = "") -> ClientConnection:
    return await websockets.connect(
        f"ws://127.0.0.1:{central.port}/ws/events{query}", open_timeout=WAIT
    )


async def event(feed: ClientConnection) -> dict[str, Any]:
    message = orjson.loads(await asyncio.wait_for(feed.recv(), WAIT))
    assert TS.match(message["ts"]), message
    return message


def sample(energy: str, power: str | None = None, unit: str = "Wh") -> list[dict[str, Any]]:
    values = [{"value": energy, "unit": unit}]  # no measurand: the energy register (1.6, 7.31)
    if power is not None:
        values.append({"value": power, "measurand": "Power.Active.Import", "unit": "W"})
    return [{"timestamp": now(), "sampledValue": values}]


@pytest_twisted.ensureDeferred
async def test_a_station_session_as_events(central: Central) -> None:
    async def scenario() -> list[dict[str, Any]]:
        feed = await open_events(central)
        station = await RawStation.connect(central.url, "EV-1")
        try:
            await station.boot()
            status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
            await station.result("StatusNotification", status)
            started = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "T1", "meterStart": 100, "timestamp": now()},
            )
            tx = started["transactionId"]
            await station.result(
                "MeterValues",
                {"connectorId": 1, "transactionId": tx, "meterValue": sample("1.5", "7000", "kWh")},
            )
            await station.heartbeat()  # no event
            await station.result(
                "StopTransaction", {"transactionId": tx, "meterStop": 1600, "timestamp": now()}
            )
        finally:
            await station.close()
        seen = [await event(feed) for _ in range(7)]
        await feed.close()
        return seen

    seen = await aio(scenario())
    connected, boot, status, start, meter, stop, gone = seen
    assert {k: connected[k] for k in ("type", "identity", "online")} == {
        "type": "connection",
        "identity": "EV-1",
        "online": True,
    }
    assert connected["address"].startswith("127.0.0.1:")
    assert (connected["protocol"], connected["ocppVersion"]) == ("JSON", "1.6")
    assert boot["type"] == "boot"
    assert (status["type"], status["connectorId"], status["status"], status["errorCode"]) == (
        "status",
        1,
        "Charging",
        "NoError",
    )
    assert start["type"] == "transaction" and start["action"] == "StartTransaction"
    tx = start["transactionId"]
    assert meter == {
        "type": "meter",
        "identity": "EV-1",
        "ts": meter["ts"],
        "connectorId": 1,
        "transactionId": tx,
        "energy": 1500.0,
        "power": 7000.0,
    }
    assert (stop["type"], stop["action"]) == ("transaction", "StopTransaction")
    assert (gone["type"], gone["online"]) == ("connection", False)


@pytest_twisted.ensureDeferred
async def test_identity_filter(central: Central) -> None:
    async def scenario() -> list[dict[str, Any]]:
        feed = await open_events(central, "?identity=EV-B")
        a = await RawStation.connect(central.url, "EV-A")
        b = await RawStation.connect(central.url, "EV-B")
        try:
            await a.boot()
            await b.boot()
        finally:
            await a.close()
            await b.close()
        seen = [await event(feed) for _ in range(3)]
        await feed.close()
        return seen

    seen = await aio(scenario())
    assert [(e["identity"], e["type"]) for e in seen] == [
        ("EV-B", "connection"),
        ("EV-B", "boot"),
        ("EV-B", "connection"),
    ]


def test_meter_reading() -> None:
    """Phases and other measurands are skipped; kWh and kW are scaled; bad values ignored."""
    payload = {
        "meterValue": [
            {
                "timestamp": "t",
                "sampledValue": [
                    {"value": "2", "unit": "kWh"},
                    {"value": "5", "measurand": "Power.Active.Import", "phase": "L1"},
                    {"value": "x", "measurand": "Power.Active.Import"},
                    {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "230", "measurand": "Voltage"},
                ],
            }
        ]
    }
    assert meter_reading(payload) == (2000.0, 11000.0)
    assert meter_reading({}) == (None, None)
