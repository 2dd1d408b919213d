"""
Stations over TLS (C{wss://}): the central system listening on a real C{ssl:}
endpoint with a throwaway self-signed certificate, and an independent
C{websockets} client verifying it. The lean send path
(L{ocppcs.transports.lean}) must step aside there: the bytes go through the
TLS transport, never straight to the socket.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.interfaces import ISSLTransport

from tests.integration.conftest import aio, as_future, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation
from tests.integration.tlscert import self_signed


@pytest_twisted.ensureDeferred
async def test_boot_and_heartbeat_over_wss(tmp_path: Path) -> None:
    """
    A station verifying the certificate boots, beats and gets a command
    (written by the central system's send path) over C{wss://}.
    """
    pem = self_signed(tmp_path)
    listen = f"ssl:0:interface=127.0.0.1:privateKey={pem}:certKey={pem}"
    central = await start_central(tmp_path, server={"listen": (listen,)})
    context = ssl.create_default_context(cafile=str(pem))

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
        station = await RawStation.connect(
            f"wss://127.0.0.1:{central.port}/ocpp", "TLS-1", ssl=context
        )
        try:
            boot = await station.boot()
            beat = await station.heartbeat()
            # A command from the central system: the lean send path's own frame.
            close = central.service.registry._sessions["TLS-1"]._close_connection  # type: ignore[attr-defined]
            transport = close.__self__.transport  # type: ignore[attr-defined]
            assert ISSLTransport.providedBy(transport), transport
            reply = as_future(
                central.service.registry.call("TLS-1", "DataTransfer", {"vendorId": "v"})
            )
            command = await station.recv()
            await station.send([3, command[1], {"status": "Accepted", "data": "ok"}])
            assert await asyncio.wait_for(reply, WAIT) == {"status": "Accepted", "data": "ok"}
            return boot, beat, command
        finally:
            await station.close()

    try:
        boot, beat, command = await aio(scenario())
    finally:
        await stop_central(central)
    assert boot["status"] == "Accepted" and boot["interval"] > 0
    assert datetime.fromisoformat(beat["currentTime"].replace("Z", "+00:00")).tzinfo is not None
    assert command[0] == 2 and command[2] == "DataTransfer" and command[3] == {"vendorId": "v"}
