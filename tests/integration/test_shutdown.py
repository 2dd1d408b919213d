"""
Stopping the central system while stations are talking: the calls received
before are answered by the backend and stored before it stops; what arrives
once the connections are closing is dropped unanswered (the station sends it
again after reconnecting), never failed with a store error.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import websockets
from twisted.internet.defer import Deferred
from twisted.logger import LogLevel, globalLogPublisher
from websockets.exceptions import InvalidStatus

from ocppcs.backends.embedded.errors import StoreStopped
from ocppcs.testing import MemoryBackend
from tests.backends import jobs
from tests.integration.conftest import aio, as_future, start_central
from tests.integration.peers import wait_until
from tests.integration.rawstation import RawStation, now

STATUS = {"connectorId": 1, "status": "Available", "errorCode": "NoError"}


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
        await wait_until(lambda: any(c.action == "StatusNotification" for c, _ in backend.calls), 5)
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
    stored = {c.connector_id for c in detail.connectors}
    # Everything answered was stored first; some more may have been stored
    # whose answers were not sent because the connection was closing.
    assert answered <= stored


@pytest_twisted.ensureDeferred
async def test_a_hung_store_job_does_not_hang_the_shutdown(tmp_path: Path) -> None:
    """
    With stations connected and a store job that never finishes, the
    shutdown still ends: recording the disconnections is not waited for, the
    drain gives up after its timeout, and the store kills its worker.
    """
    central = await start_central(tmp_path)
    store = central.service.backend.store  # type: ignore[attr-defined]
    store._stop_timeout = 0.5  # instead of 30 s
    started, release = tmp_path / "started", tmp_path / "release"

    async def scenario() -> None:
        station = await RawStation.connect(central.url, "HUNG1")
        await station.boot()
        blocked = store.run(jobs.block, str(started), str(release))  # holds the worker 10 s
        store.flush()
        await wait_until(started.exists, 5)
        await as_future(central.service.stopService())
        # The shutdown ended because the worker was killed, not because the job finished.
        with pytest.raises(StoreStopped, match="may or may not"):
            await as_future(blocked)

    await aio(scenario())


@pytest_twisted.ensureDeferred
async def test_a_handshake_after_the_shutdown_began_is_refused(tmp_path: Path) -> None:
    """A TCP connection accepted before the shutdown gets 503 for its upgrade, not a session."""
    central = await start_central(tmp_path)

    async def scenario() -> int:
        sock = socket.create_connection(("127.0.0.1", central.port))
        sock.setblocking(False)
        await asyncio.sleep(0.1)  # the reactor has accepted it
        stopped = central.service.stopService()
        try:
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(
                    f"{central.url}/LATE1", sock=sock, subprotocols=["ocpp1.6"], open_timeout=3
                )
        finally:
            sock.close()
        await as_future(stopped)
        return refused.value.response.status_code

    assert await aio(scenario()) == 503
    assert central.service.registry.identities() == []
