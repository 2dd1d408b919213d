"""
L{StationLink}: the reconnect backoff on a L{Clock} (through a URL that can't
be used, so no sockets), then real connections to small asyncio servers on
loopback: C{websockets} servers that accept, refuse or ignore the ocpp1.6
subprotocol, and a raw one that completes the handshake and then never
answers (for the pings) or never answers at all (for a stop mid-handshake).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_twisted
import websockets
from twisted.internet import task
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.python.failure import Failure

from ocppcs.callerrors import StationDisconnected
from ocppcs.emulator.link import MAX_DELAY, StationLink
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import OcppSession
from tests.integration.conftest import aio

SCHEMAS = SchemaSet()
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FixedRandom(random.Random):
    """A random source whose C{random()} is always C{value}."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


class Keys:
    """The station's configuration keys, as the link reads them."""

    def __init__(self, **values: int) -> None:
        self.values = values

    def get_int(self, key: str, default: int) -> int:
        return self.values.get(key, default)


class FakeStation:
    """What a link drives: it only records its connections."""

    def __init__(self, url: str, ping: int = 30) -> None:
        self.identity = "LINK-1"
        self.url = url
        self.keys = Keys(WebSocketPingInterval=ping)
        self.link: Any = None
        self.sessions: list[OcppSession] = []
        self.disconnects = 0

    def connected(self, session: OcppSession) -> None:
        self.sessions.append(session)

    def disconnected(self) -> None:
        self.disconnects += 1

    def receive_call(self, session: OcppSession, call: Any) -> Deferred[dict[str, Any]]:
        return succeed({})


class Logged:
    """The log events seen while a test runs."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def matching(self, fragment: str) -> list[str]:
        """The text of the events that contain C{fragment}."""
        return [t for t in (formatEvent(e) for e in self.events) if fragment in t]


@pytest.fixture
def logged() -> Iterator[Logged]:
    """Collects every log event while the test runs."""
    log = Logged()
    globalLogPublisher.addObserver(log.events.append)
    yield log
    globalLogPublisher.removeObserver(log.events.append)


def delays(clock: Clock) -> list[float]:
    """Seconds until each pending call of C{clock}."""
    return [round(c.getTime() - clock.seconds(), 3) for c in clock.getDelayedCalls()]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, [1, 2, 4, 8, 16, 30, 30, 30]), (0.0, [0.5, 1, 2, 4, 8, 15, 15, 15])],
)
def test_backoff_grows_and_is_capped(value: float, expected: list[float], logged: Logged) -> None:
    """
    A link that can't connect tries again after 1 s, then twice as long each
    time up to 30 s; jitter takes up to half of each delay off.
    """
    clock = Clock()
    station = FakeStation("http://example.com/ocpp/LINK-1")
    link = StationLink(station, clock, SCHEMAS, rng=FixedRandom(value))  # type: ignore[arg-type]
    link.start()
    seen = []
    for _ in expected:
        [delay] = delays(clock)
        seen.append(delay)
        clock.advance(delay)
    assert seen == expected and MAX_DELAY == 30
    assert link.attempts == 0 and not link.connected


def test_bad_url_logged_and_retried(logged: Logged) -> None:
    """
    A URL that is not ws:// or wss:// is logged as an error on each try and
    tried again (the key may be changed meanwhile); stop() ends the retries.
    """
    clock = Clock()
    station = FakeStation("http://example.com/ocpp/LINK-1")
    link = StationLink(station, clock, SCHEMAS, rng=FixedRandom(1.0))  # type: ignore[arg-type]
    link.start()
    clock.advance(1)
    clock.advance(2)
    errors = logged.matching("LINK-1: bad URL http://example.com/ocpp/LINK-1")
    assert len(errors) == 3 and "expected ws://host" in errors[0]
    assert link.running and len(clock.getDelayedCalls()) == 1
    stopped = link.stop()
    assert stopped.called and clock.getDelayedCalls() == [] and not link.running


def sleep(seconds: float) -> Deferred[None]:
    """Fires after C{seconds} on the reactor."""
    from twisted.internet import reactor

    return task.deferLater(reactor, seconds, lambda: None)


async def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll C{check} on the reactor until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await sleep(0.02)
    return result


def own_calls(link: StationLink) -> list[Any]:
    """The reactor's pending calls that belong to C{link}."""
    from twisted.internet import reactor

    return [c for c in reactor.getDelayedCalls() if getattr(c.func, "__self__", None) is link]


class Server:
    """
    A loopback server: C{websockets} with the given subprotocols, or (C{raw})
    one that answers the opening handshake by hand and then ignores every
    frame, or never answers at all (C{handshake=False}). C{hang_up} closes
    each websockets connection as soon as it is open.

    @ivar connections: the server side of each connection, in order.
    @ivar opened: when each connection came (C{time.monotonic}).
    @ivar closes: the close code each connection ended with.
    """

    def __init__(
        self,
        subprotocols: list[str] | None = None,
        raw: bool = False,
        handshake: bool = True,
        hang_up: bool = False,
    ) -> None:
        self.subprotocols = subprotocols
        self.raw = raw
        self.handshake = handshake
        self.hang_up = hang_up
        self.connections: list[Any] = []
        self.opened: list[float] = []
        self.closes: list[int | None] = []
        self.server: Any = None

    async def start(self) -> None:
        if self.raw:
            self.server = await asyncio.start_server(self._raw, "127.0.0.1", 0)
        else:
            self.server = await websockets.serve(
                self._serve, "127.0.0.1", 0, subprotocols=self.subprotocols
            )

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/ocpp/LINK-1"

    async def _serve(self, connection: Any) -> None:
        self.connections.append(connection)
        self.opened.append(time.monotonic())
        if self.hang_up:
            await connection.close()
        await connection.wait_closed()
        self.closes.append(connection.close_code)

    async def _raw(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        request = await reader.readuntil(b"\r\n\r\n")
        if self.handshake:
            match = re.search(rb"(?i)sec-websocket-key: *(\S+)", request)
            assert match is not None
            accept = base64.b64encode(hashlib.sha1(match.group(1) + GUID).digest())
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
        try:
            await reader.read()  # everything, unanswered, until the station hangs up
        except ConnectionError:
            pass
        writer.close()
        self.closes.append(None)


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


@pytest_twisted.ensureDeferred
async def test_refused_connection_logged_and_retried(logged: Logged) -> None:
    """Nothing listening: each refused connection is logged and tried again."""
    from twisted.internet import reactor

    closed = Server(subprotocols=["ocpp1.6"])
    await aio(closed.start())
    url = closed.url()
    await aio(closed.stop())
    station = FakeStation(url)
    link = StationLink(station, reactor, SCHEMAS)  # type: ignore[arg-type]
    link.start()
    try:
        await wait_for(lambda: link.attempts >= 2, timeout=5)
        assert logged.matching(f"LINK-1: cannot connect to {url}")
    finally:
        await link.stop()
    assert own_calls(link) == []
