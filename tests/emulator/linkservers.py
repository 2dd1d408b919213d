"""
Test doubles for L{StationLink}, used by C{tests.emulator.test_link_*}: a
station that only records its connections, a fixed random source, a log
collector, and small asyncio servers on loopback: C{websockets} servers that
accept, refuse or ignore the ocpp1.6 subprotocol, and a raw one that completes
the handshake and then never answers (for the pings) or never answers at all
(for a stop mid-handshake).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import re
import time
from collections.abc import Callable
from typing import Any

import websockets
from twisted.internet import task
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import formatEvent

from ocppcs.emulator.link import StationLink
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import OcppSession

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

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        return None if value is None else str(value)


class FakeStation:
    """What a link drives: it only records its connections."""

    def __init__(self, url: str, ping: int = 30) -> None:
        self.identity = "LINK-1"
        self.url = url
        self.keys = Keys(WebSocketPingInterval=ping)
        self.certificates: dict[str, Any] = {}
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


def delays(clock: Clock) -> list[float]:
    """Seconds until each pending call of C{clock}."""
    return [round(c.getTime() - clock.seconds(), 3) for c in clock.getDelayedCalls()]


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
