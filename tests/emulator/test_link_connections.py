"""
L{StationLink} against small asyncio servers on loopback
(L{tests.emulator.linkservers}): connecting with ocpp1.6, reconnecting, the
backoff while a server hangs up, stopping (also mid-handshake), missing pongs,
and servers that ignore or refuse the subprotocol.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_twisted
from twisted.python.failure import Failure

from ocppcs.callerrors import StationDisconnected
from ocppcs.emulator.link import StationLink
from tests.emulator.linkservers import (
    SCHEMAS,
    FakeStation,
    FixedRandom,
    Logged,
    Server,
    own_calls,
    sleep,
    wait_for,
)
from tests.integration.conftest import aio


@pytest_twisted.async_yield_fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    """Starts L{Server}s; stops them (and their links) at teardown."""
    from twisted.internet import reactor

    servers: list[Server] = []
    links: list[StationLink] = []

    async def start(
        ping: int = 30, rng: random.Random | None = None, **options: Any
    ) -> tuple[Server, StationLink, FakeStation]:
        server = Server(**options)
        await aio(server.start())
        servers.append(server)
        station = FakeStation(server.url(), ping)
        link = StationLink(station, reactor, SCHEMAS, call_timeout=5, rng=rng)  # type: ignore[arg-type]
        links.append(link)
        link.start()
        return server, link, station

    yield start
    for link in links:
        await link.stop()
    for server in servers:
        await aio(server.stop())


@pytest_twisted.ensureDeferred
async def test_connects_with_ocpp16(serve: Callable[..., Any]) -> None:
    """The link connects, negotiates ocpp1.6 and gives the station a session."""
    server, link, station = await serve(subprotocols=["ocpp1.6"])
    await wait_for(lambda: station.sessions)
    assert server.connections[0].subprotocol == "ocpp1.6"
    assert server.connections[0].request.path == "/ocpp/LINK-1"
    assert (link.attempts, link.connections, link.connected) == (1, 1, True)
    assert station.sessions[0].identity == "LINK-1"


@pytest_twisted.ensureDeferred
async def test_reconnect_is_quick(serve: Callable[..., Any]) -> None:
    """reconnect() closes the connection normally and connects again at once."""
    server, link, station = await serve(subprotocols=["ocpp1.6"])
    await wait_for(lambda: station.sessions)
    began = time.monotonic()
    link.reconnect()
    await wait_for(lambda: len(station.sessions) == 2)
    assert time.monotonic() - began < 0.5
    assert server.closes == [1000] and station.disconnects == 1
    assert (link.attempts, link.connections) == (2, 2)


@pytest_twisted.ensureDeferred
async def test_server_close_reconnects(serve: Callable[..., Any]) -> None:
    """When the server closes the connection, the link connects again within 1 s."""
    server, link, station = await serve(subprotocols=["ocpp1.6"])
    await wait_for(lambda: station.sessions)
    await aio(server.connections[0].close())
    began = time.monotonic()
    await wait_for(lambda: len(station.sessions) == 2)
    assert time.monotonic() - began < 1.5 and station.disconnects == 1


@pytest_twisted.ensureDeferred
async def test_backoff_grows_while_the_server_hangs_up(serve: Callable[..., Any]) -> None:
    """
    A central system that closes every connection as soon as it is open does
    not reset the backoff: the link waits 1 s, then 2 s (no jitter here).
    """
    server, link, station = await serve(subprotocols=["ocpp1.6"], hang_up=True, rng=FixedRandom(1))
    await wait_for(lambda: len(server.opened) == 3)
    first, second = (b - a for a, b in zip(server.opened, server.opened[1:], strict=False))
    assert 0.9 <= first <= 1.4 and 1.9 <= second <= 2.4, (first, second)
    assert link.connections == 3


@pytest_twisted.ensureDeferred
async def test_stop_closes_and_stays_closed(serve: Callable[..., Any]) -> None:
    """stop() closes with 1000, fires once closed, and nothing reconnects afterwards."""
    server, link, station = await serve(subprotocols=["ocpp1.6"])
    await wait_for(lambda: station.sessions)
    await link.stop()
    assert not link.connected and not link.running and station.disconnects == 1
    await wait_for(lambda: server.closes)
    assert server.closes == [1000]
    assert own_calls(link) == []  # no retry, no leftover close timer
    await sleep(1.2)  # longer than the first backoff delay
    assert len(server.connections) == 1 and link.attempts == 1


@pytest_twisted.ensureDeferred
async def test_call_while_closing(serve: Callable[..., Any]) -> None:
    """
    A CALL made after the close has begun is not sent (Autobahn would raise)
    and fails with StationDisconnected once the connection is gone.
    """
    server, link, station = await serve(subprotocols=["ocpp1.6"])
    await wait_for(lambda: station.sessions)
    stopped = link.stop()
    failures: list[Failure] = []
    station.sessions[0].call("Heartbeat", {}).addErrback(failures.append)
    await stopped
    assert len(failures) == 1 and failures[0].check(StationDisconnected)


@pytest_twisted.ensureDeferred
async def test_stop_during_the_handshake(serve: Callable[..., Any]) -> None:
    """stop() while the server has not answered the upgrade drops the attempt."""
    server, link, station = await serve(raw=True, handshake=False)
    await wait_for(lambda: server.connections)
    await sleep(0.2)  # the upgrade request is out, its answer never comes
    await link.stop()
    await wait_for(lambda: server.closes)
    assert station.sessions == [] and own_calls(link) == []


@pytest_twisted.ensureDeferred
async def test_missing_pongs_drop_the_connection(serve: Callable[..., Any]) -> None:
    """
    With WebSocketPingInterval 1, a server that answers no ping is dropped
    within seconds (Autobahn's timers run in 0.2 s buckets, so not to the
    millisecond) and the link connects again.
    """
    server, link, station = await serve(ping=1, raw=True)
    await wait_for(lambda: station.sessions)
    began = time.monotonic()
    await wait_for(lambda: station.disconnects == 1)
    assert 0.8 <= time.monotonic() - began <= 4
    await wait_for(lambda: len(station.sessions) == 2, timeout=5)


@pytest_twisted.ensureDeferred
async def test_server_without_ocpp16_is_logged(serve: Callable[..., Any], logged: Logged) -> None:
    """A server that completes the upgrade without choosing ocpp1.6 is logged."""
    server, link, station = await serve(subprotocols=None)
    await wait_for(lambda: station.sessions)
    assert server.connections[0].subprotocol is None
    assert logged.matching("LINK-1: the central system did not accept subprotocol ocpp1.6")


@pytest_twisted.ensureDeferred
async def test_server_refusing_ocpp16_is_logged_and_retried(
    serve: Callable[..., Any], logged: Logged
) -> None:
    """A server that refuses the upgrade (HTTP 400, no common subprotocol) is logged and retried."""
    server, link, station = await serve(subprotocols=["ocpp2.0.1"])
    await wait_for(lambda: link.attempts >= 2, timeout=5)
    assert station.sessions == [] and link.connections == 0
    [first, *_] = logged.matching("LINK-1: no WebSocket connection to ws://127.0.0.1:")
    assert "400" in first
