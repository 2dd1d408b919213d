"""
Tests for the live log feed L{ocppcs.web.logfeed} through the running
service: real WebSocket readers on C{/ws/log} watching real station sessions,
with the identity filter, paths that are not the feed, and a slow reader.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_twisted
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from tests.integration.conftest import Central, aio, as_future, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest_twisted.async_yield_fixture
async def central(tmp_path: Path) -> AsyncIterator[Central]:
    """A running central system of its own for each test."""
    running = await start_central(tmp_path)
    yield running
    await stop_central(running)


async def open_feed(central: Central, query: str = "") -> ClientConnection:
    """A WebSocket reader on C{/ws/log} (with a C{query} string)."""
    return await websockets.connect(
        f"ws://127.0.0.1:{central.port}/ws/log{query}", open_timeout=WAIT, max_size=None
    )


async def entry(feed: ClientConnection) -> dict[str, Any]:
    """The feed's next message, checked for the fields every message has."""
    message = orjson.loads(await asyncio.wait_for(feed.recv(), WAIT))
    assert TS.match(message["ts"]), message
    assert message["direction"] in ("in", "out")
    assert {"identity", "messageType", "uniqueId", "action", "payload"} <= message.keys()
    return message


def short(message: dict[str, Any]) -> tuple[str, str, str, str]:
    """A message's direction, type, action and identity."""
    return message["direction"], message["messageType"], message["action"], message["identity"]


@pytest_twisted.ensureDeferred
async def test_feed_shows_a_station_session(central: Central) -> None:
    """Every frame in and out, both kinds of calls, CALLERRORs with their code, bad frames."""
    registry = central.service.registry

    async def scenario() -> list[dict[str, Any]]:
        feed = await open_feed(central)
        station = await RawStation.connect(central.url, "FEED-1")
        seen = []
        try:
            await station.boot()
            await station.call("NoSuchAction", {})
            await station.send("not json")
            await station.recv()
            reply = as_future(registry.call("FEED-1", "ClearCache", {}))
            call = await station.recv()
            await station.send([3, call[1], {"status": "Accepted"}])
            await asyncio.wait_for(reply, WAIT)
            failed = as_future(registry.call("FEED-1", "Reset", {"type": "Soft"}))
            call = await station.recv()
            await station.send([4, call[1], "NotSupported", "nope", {"why": 1}])
            with pytest.raises(Exception, match="NotSupported"):
                await asyncio.wait_for(failed, WAIT)
            await feed.send("client messages are ignored")
            for _ in range(10):
                seen.append(await entry(feed))
        finally:
            await station.close()
            await feed.close()
        return seen

    seen = await aio(scenario())
    assert [short(m) for m in seen] == [
        ("in", "Call", "BootNotification", "FEED-1"),
        ("out", "CallResult", "BootNotification", "FEED-1"),
        ("in", "Call", "NoSuchAction", "FEED-1"),
        ("out", "CallError", "NoSuchAction", "FEED-1"),
        ("in", "Invalid", "", "FEED-1"),
        ("out", "CallError", "", "FEED-1"),
        ("out", "Call", "ClearCache", "FEED-1"),
        ("in", "CallResult", "ClearCache", "FEED-1"),
        ("out", "Call", "Reset", "FEED-1"),
        ("in", "CallError", "Reset", "FEED-1"),
    ]
    boot, booted, _, not_implemented, invalid, malformed, clear, cleared, reset, refused = seen
    assert boot["payload"] == {"chargePointVendor": "Acme", "chargePointModel": "Raw"}
    assert boot["uniqueId"] == booted["uniqueId"] == "m1"
    assert booted["payload"]["status"] == "Accepted"
    assert not_implemented["errorCode"] == "NotImplemented"
    assert invalid["payload"] == "not json"
    assert (malformed["uniqueId"], malformed["errorCode"]) == ("-1", "FormationViolation")
    assert clear["uniqueId"] == cleared["uniqueId"]
    assert cleared["payload"] == {"status": "Accepted"}
    assert reset["payload"] == {"type": "Soft"}
    assert refused["uniqueId"] == reset["uniqueId"]
    assert (refused["errorCode"], refused["errorDescription"]) == ("NotSupported", "nope")
    assert refused["payload"] == {"why": 1}
    assert "errorCode" not in cleared
    assert central.service.log_feed is not None
    assert central.service.log_feed.subscriber_count == 0


@pytest_twisted.ensureDeferred
async def test_identity_filter(central: Central) -> None:
    """?identity=ID shows only that station's frames; without it, every station's."""

    async def scenario() -> tuple[list[Any], list[Any]]:
        everything = await open_feed(central)
        only = await open_feed(central, "?identity=FILT-1")
        stations = [await RawStation.connect(central.url, f"FILT-{n}") for n in (1, 2)]
        try:
            await stations[1].boot()
            await stations[0].boot()
            await stations[1].heartbeat()
            all_seen = [short(await entry(everything)) for _ in range(6)]
            only_seen = [short(await entry(only)) for _ in range(2)]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(only.recv(), 0.3)
            return all_seen, only_seen
        finally:
            for station in stations:
                await station.close()
            await everything.close()
            await only.close()

    all_seen, only_seen = await aio(scenario())
    assert [m[3] for m in all_seen] == ["FILT-2"] * 2 + ["FILT-1"] * 2 + ["FILT-2"] * 2
    assert only_seen == [
        ("in", "Call", "BootNotification", "FILT-1"),
        ("out", "CallResult", "BootNotification", "FILT-1"),
    ]


@pytest.mark.parametrize("path", ["/ws/log/CP1", "/ws/log/x/y"])
@pytest_twisted.ensureDeferred
async def test_other_paths_not_found(central: Central, path: str) -> None:
    """A path below C{/ws/log} is not the feed: 404, not upgraded."""

    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as caught:
            ws = await websockets.connect(f"ws://127.0.0.1:{central.port}{path}", open_timeout=WAIT)
            await ws.close()
        return caught.value.response.status_code

    assert await aio(scenario()) == 404


# --- a slow reader ---------------------------------------------------------------------------


class RawReader:
    """A WebSocket client on a plain socket with a tiny receive buffer, read only on demand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.data = b""

    @classmethod
    async def connect(cls, port: int, path: str) -> RawReader:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        key = b64encode(b"0123456789abcdef").decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        reader = cls(sock)
        while b"\r\n\r\n" not in reader.data:
            await reader._more()
        head, reader.data = reader.data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        return reader

    async def _more(self) -> None:
        chunk = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(self.sock, 65536), WAIT)
        if not chunk:
            raise EOFError("connection closed")
        self.data += chunk

    async def _take(self, n: int) -> bytes:
        while len(self.data) < n:
            await self._more()
        out, self.data = self.data[:n], self.data[n:]
        return out

    async def frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        first, second = await self._take(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._take(8))
        return first & 0x0F, await self._take(length)

    def close(self) -> None:
        self.sock.close()


@pytest_twisted.ensureDeferred
async def test_slow_reader_dropped(tmp_path: Path) -> None:
    """
    A reader that stops reading is sent 1008 "too slow" once its unsent bytes
    pass the bound, and is fed no more; a reader that keeps up gets everything.
    """
    central = await start_central(tmp_path)
    feed = central.service.log_feed
    assert feed is not None
    feed.max_buffer = 256 * 1024
    data = "x" * 60_000

    async def scenario() -> tuple[int, list[str], tuple[int, bytes], list[str]]:
        slow = await RawReader.connect(central.port, "/ws/log")
        fast = await open_feed(central)
        received: list[Any] = []

        async def read_fast() -> None:
            async for message in fast:
                received.append(orjson.loads(message)["action"])

        reading = asyncio.ensure_future(read_fast())
        station = await RawStation.connect(central.url, "SLOW-1", max_size=None)
        calls = 0
        try:
            await station.boot()
            while feed.dropped == 0 and calls < 500:
                await station.call("DataTransfer", {"vendorId": "acme", "data": data})
                calls += 1
            # The slow reader now reads: everything buffered, then the close frame.
            opcode, payload = await slow.frame()
            messages = []
            while opcode == 1:
                messages.append(orjson.loads(payload)["action"])
                opcode, payload = await slow.frame()
            await station.heartbeat()
            sent = 2 * (calls + 2)
            for _ in range(100):
                if len(received) == sent:
                    break
                await asyncio.sleep(0.05)
            return sent, received, (opcode, payload), messages
        finally:
            slow.close()
            await station.close()
            await fast.close()
            reading.cancel()

    try:
        sent, fast_got, (opcode, payload), slow_got = await aio(scenario())
    finally:
        await stop_central(central)
    assert feed.dropped == 1
    assert len(fast_got) == sent
    assert fast_got[-2:] == ["Heartbeat", "Heartbeat"]
    assert opcode == 8
    assert struct.unpack("!H", payload[:2])[0] == 1008
    assert payload[2:] == b"too slow"
    # It got what was already on its way, then nothing more.
    assert 0 < len(slow_got) < sent - 2
    assert slow_got == fast_got[: len(slow_got)]
