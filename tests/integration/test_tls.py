"""
Stations over TLS (C{wss://}): the central system listening on a real C{ssl:}
or C{tls:} endpoint with a throwaway self-signed certificate or one from a
test CA (L{ocppcs.testca}), and an independent C{websockets} client
verifying it (host name included); the REST API over https on the same port. The lean send path
(L{ocppcs.transports.lean}) must step aside there: the bytes go through the
TLS transport, never straight to the socket.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from treq.client import HTTPClient
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.ssl import Certificate
from twisted.internet.tcp import Server as TCPServer
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS

from ocppcs.testca import TestCA
from ocppcs.transports.lean import FAST
from ocppcs.transports.websocket import OcppServerProtocol
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


@pytest_twisted.ensureDeferred
async def test_many_calls_and_large_frames_over_wss(tmp_path: Path) -> None:
    """
    Hundreds of calls each way and frames of hundreds of kilobytes over a
    C{tls:} listener (certificate from a test CA, the client checking the
    host name): every reply arrives whole and in order, while the fast path
    is on in the process but never writes to this connection's socket.
    """
    ca = TestCA(tmp_path / "ca")
    central = await start_central(
        tmp_path, server={"listen": (ca.listen(),), "max_frame_size": 4_000_000}
    )
    context = ssl.create_default_context(cafile=str(ca.ca))
    registry = central.service.registry
    big = "x" * 700_000

    async def scenario() -> None:
        station = await RawStation.connect(
            f"wss://127.0.0.1:{central.port}/ocpp",
            "TLS-MANY",
            ssl=context,
            server_hostname="localhost",
            max_size=8_000_000,
        )
        try:
            assert (await station.boot())["status"] == "Accepted"
            session = registry._sessions["TLS-MANY"]
            transport = session._close_connection.__self__.transport  # type: ignore[attr-defined]
            assert ISSLTransport.providedBy(transport) and type(transport) is not TCPServer
            for _ in range(300):
                await station.heartbeat()
            reply = await station.call("DataTransfer", {"vendorId": "v", "data": big})
            assert reply[0] == 3 and reply[2]["status"] == "UnknownVendorId"
            for n in range(100):
                data = big if n % 10 == 0 else f"{n}" * 5_000
                pending = as_future(
                    registry.call("TLS-MANY", "DataTransfer", {"vendorId": "v", "data": data})
                )
                command = await station.recv()
                assert command[2:] == ["DataTransfer", {"vendorId": "v", "data": data}]
                await station.send([3, command[1], {"status": "Accepted", "data": data[:10]}])
                assert await asyncio.wait_for(pending, WAIT) == {
                    "status": "Accepted",
                    "data": data[:10],
                }
        finally:
            await station.close()

    try:
        await aio(scenario())
    finally:
        await stop_central(central)
    assert FAST.on and OcppServerProtocol in FAST.ready  # on, just not for TLS sockets


@pytest_twisted.ensureDeferred
async def test_host_name_checks_and_https_api(tmp_path: Path) -> None:
    """
    Clients verify the server against the CA: the certificate's names pass,
    another name fails; the REST API answers on the same TLS port (https).
    """
    from twisted.internet import reactor

    ca = TestCA(tmp_path / "ca")
    central = await start_central(tmp_path, server={"listen": (ca.listen(),)})
    url = f"wss://127.0.0.1:{central.port}/ocpp"
    context = ssl.create_default_context(cafile=str(ca.ca))

    async def connect(hostname: str, ctx: ssl.SSLContext) -> None:
        station = await RawStation.connect(url, "TLS-NAME", ssl=ctx, server_hostname=hostname)
        await station.close()

    trust = BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(ca.ca.read_bytes()))
    http = HTTPClient(Agent(reactor, contextFactory=trust))
    try:
        await aio(connect("localhost", context))
        with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ostname mismatch"):
            await aio(connect("other.example", context))
        with pytest.raises(ssl.SSLCertVerificationError):
            await aio(connect("localhost", ssl.create_default_context()))
        response = await http.get(f"https://localhost:{central.port}/api/v1/ping")
        assert response.code == 200 and await response.text() == "OK"
        response = await http.get(f"https://localhost:{central.port}/")  # the web UI
        assert response.code == 200 and "<html" in (await response.text()).lower()
        response = await http.get(f"https://127.0.0.1:{central.port}/api/v1/ChargePointList")
        assert response.code == 200
        assert [s["identity"] for s in await response.json()] == ["TLS-NAME"]
    finally:
        await stop_central(central)
