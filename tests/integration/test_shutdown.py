"""
Stopping the central system while stations are talking: the calls received
before are answered by the backend and stored before it stops; what arrives
once the connections are closing is dropped unanswered (the station sends it
again after reconnecting), never failed with a store error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest_twisted
import websockets
from twisted.internet.defer import Deferred
from twisted.logger import LogLevel, globalLogPublisher

from ocppcs.testing import MemoryBackend
from tests.integration.conftest import aio, as_future, start_central
from tests.integration.rawstation import RawStation, now

STATUS = {"connectorId": 1, "status": "Available", "errorCode": "NoError"}


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.01)


async def _closed(station: RawStation) -> None:
    try:
        while True:
            await station.recv()
    except websockets.ConnectionClosed:
        return


@pytest_twisted.ensureDeferred
async def test_the_backend_stops_only_after_the_calls_being_answered(tmp_path: Path) -> None:
    from twisted.internet import reactor

    from ocppcs.config import Config, EmbeddedConfig, ServerConfig
    from ocppcs.service import build_central_system

    backend = MemoryBackend()
    config = Config(
        server=ServerConfig(listen=("tcp:0:interface=127.0.0.1",)),
        embedded=EmbeddedConfig(path=str(tmp_path / "unused.sqlite3")),
    )
    service = build_central_system(config, reactor, backend=backend)
    service.startService()
    await service.ready
    port = service.listeners[0].port.getHost().port  # type: ignore[union-attr]

    async def talk() -> None:
        station = await RawStation.connect(f"ws://127.0.0.1:{port}/ocpp", "SHUT1")
        await station.boot()
        held: Deferred[dict[str, Any]] = Deferred()
        backend.hold["StatusNotification"] = held
        await station.send([2, "s1", "StatusNotification", {**STATUS, "timestamp": now()}])
        await _until(lambda: any(c.action == "StatusNotification" for c, _ in backend.calls))
        stopped = service.stopService()
        await _closed(station)
        # The connection is gone, but the call received before is still being
        # answered: the backend keeps running until it is.
        assert backend.running and not stopped.called
        assert service.central is not None and service.central.answering == 1
        held.callback({})
        await as_future(stopped)
        assert not backend.running

    await aio(talk())


@pytest_twisted.ensureDeferred
async def test_stopping_while_a_station_sends_loses_nothing_and_logs_no_error(
    tmp_path: Path,
) -> None:
    errors: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_level") in (LogLevel.error, LogLevel.critical):
            errors.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        central = await start_central(tmp_path)

        async def talk() -> set[int]:
            station = await RawStation.connect(central.url, "SHUT2")
            await station.boot()
            for connector in range(1, 41):
                frame = [
                    2,
                    f"s{connector}",
                    "StatusNotification",
                    {**STATUS, "connectorId": connector},
                ]
                await station.send(frame)
            answered: set[int] = set()
            stopped = central.service.stopService()
            try:
                while True:
                    reply = await station.recv()
                    assert reply[0] == 3, reply  # never a CALLERROR
                    answered.add(int(reply[1][1:]))
            except websockets.ConnectionClosed:
                pass
            await as_future(stopped)
            return answered

        answered = await aio(talk())
    finally:
        globalLogPublisher.removeObserver(observe)
    assert errors == []
    again = await start_central(tmp_path)
    try:
        detail = await again.service.backend.station_detail("SHUT2")  # type: ignore[attr-defined]
    finally:
        await again.service.stopService()
    stored = {c["connectorId"] for c in detail["connectors"]}
    # Everything answered was stored first; some more may have been stored
    # whose answers were not sent because the connection was closing.
    assert answered <= stored
