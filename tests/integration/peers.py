"""
Peers for the bad-input tests (C{tests.integration.test_bad_input_*}): a check
that a station's connection still answers, a WebSocket upgrade made by hand
that then never answers a ping, reading until the server drops the
connection, and polling a condition.
"""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

from tests.integration.rawstation import WAIT, RawStation


async def expect_alive(station: RawStation) -> None:
    """The connection still answers: boot Accepted, then a Heartbeat."""
    assert (await station.boot())["status"] == "Accepted"
    assert "currentTime" in await station.heartbeat()


async def raw_upgrade(
    port: int, identity: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand: the connection then never answers a ping."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), WAIT)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ocpp/{identity} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"ocpp1.6" in head.lower(), head
    return reader, writer


async def read_until_dropped(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes or resets the connection."""
    received = b""
    try:
        while chunk := await reader.read(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


async def wait_until(predicate: Any, timeout: float) -> None:
    """Poll C{predicate} every 50 ms until it is true, at most C{timeout} seconds."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)
