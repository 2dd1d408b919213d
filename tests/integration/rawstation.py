"""
A minimal OCPP-J station for integration tests: raw JSON frames over a real
C{websockets} connection, every wait bounded.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

#: Seconds to wait for anything the server should send promptly.
WAIT = 3.0


def now() -> str:
    """The time now as OCPP-J ISO 8601 UTC text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Raw"}


class RawStation:
    """One station connection speaking raw OCPP-J frames."""

    def __init__(self, ws: ClientConnection, identity: str) -> None:
        self.ws = ws
        self.identity = identity
        self._next = 0

    @classmethod
    async def connect(
        cls, base_url: str, identity: str, subprotocols: list[str] | None = None, **kwargs: Any
    ) -> RawStation:
        """Open C{base_url/identity} offering C{ocpp1.6} (or C{subprotocols})."""
        ws = await websockets.connect(
            f"{base_url}/{identity}",
            subprotocols=["ocpp1.6"] if subprotocols is None else subprotocols,  # type: ignore[arg-type]
            open_timeout=WAIT,
            close_timeout=1,
            **kwargs,
        )
        return cls(ws, identity)

    async def close(self) -> None:
        """Close the connection (bounded)."""
        await asyncio.wait_for(self.ws.close(), WAIT)

    def new_id(self) -> str:
        """A fresh uniqueId for a CALL (short: identities may be 48 characters)."""
        self._next += 1
        return f"m{self._next}"

    async def send(self, frame: Any) -> None:
        """Send one text frame: C{frame} as JSON, or as is when it is a C{str}."""
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = WAIT) -> list[Any]:
        """The next frame from the server, parsed."""
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(data)

    async def expect_nothing(self, duration: float = 0.3) -> None:
        """Assert that the server sends nothing for C{duration} seconds."""
        try:
            frame = await self.recv(duration)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame!r}")

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL and return the server's reply frame (CALLRESULT or CALLERROR)."""
        unique_id = self.new_id()
        await self.send([2, unique_id, action, payload])
        reply = await self.recv()
        assert reply[1] == unique_id, reply
        return reply

    async def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL that must get a CALLRESULT; return its payload."""
        reply = await self.call(action, payload)
        assert reply[0] == 3, reply
        return reply[2]

    async def boot(self, **fields: Any) -> dict[str, Any]:
        """BootNotification; return the reply payload."""
        return await self.result("BootNotification", {**BOOT, **fields})

    async def heartbeat(self) -> dict[str, Any]:
        return await self.result("Heartbeat", {})


def call_error(frame: list[Any]) -> tuple[str, str]:
    """C{(uniqueId, errorCode)} of a CALLERROR frame, checking its shape."""
    assert frame[0] == 4 and len(frame) == 5, frame
    assert isinstance(frame[3], str) and isinstance(frame[4], dict), frame
    return frame[1], frame[2]
