"""
Bad connections from real WebSocket clients against the real central system:
handshake refusals, the longest identity, no supported subprotocol, oversized
frames and dead connections.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import websockets
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from ocppcs.callerrors import StationDisconnected
from tests.integration.conftest import Central, aio, as_future, start_central, stop_central
from tests.integration.peers import expect_alive, raw_upgrade, read_until_dropped, wait_until
from tests.integration.rawstation import WAIT, RawStation

# --- the handshake --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ocpp/" + "A" * 49, 400),
        ("/ocpp/", 400),
        ("/ocpp/AB%01CD", 400),
        ("/ocpp/AB%0ACD", 400),
        ("/ocpp/%FF%FE", 400),
        ("/ocpp/ST/%01", 400),
        ("/ocpp/a/b/c", 404),
        ("/foo", 404),
        ("/", 404),
    ],
)
@pytest_twisted.ensureDeferred
async def test_handshake_refused(central: Central, path: str, status: int) -> None:
    """A path that names no valid station is refused with an HTTP error, not upgraded."""

    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as caught:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{central.port}{path}", subprotocols=["ocpp1.6"], open_timeout=WAIT
            )
            await ws.close()
        return caught.value.response.status_code

    assert await aio(scenario()) == status
    assert len(central.service.registry) == 0


@pytest_twisted.ensureDeferred
async def test_longest_identity_and_account_accepted(central: Central) -> None:
    """A 48-character identity with an account path segment connects; the account is stored."""
    identity = "B" * 48

    async def scenario() -> str | None:
        ws = await websockets.connect(
            f"{central.url}/{identity}/acct-7", subprotocols=["ocpp1.6"], open_timeout=WAIT
        )
        try:
            station = RawStation(ws, identity)
            await expect_alive(station)
            return ws.subprotocol
        finally:
            await ws.close()

    assert await aio(scenario()) == "ocpp1.6"
    station = await central.service.backend.get_station(identity)
    assert station["account"] == "acct-7"


@pytest.mark.parametrize("offered", [[], ["ocpp2.0.1"]], ids=["none", "ocpp2.0.1"])
@pytest_twisted.ensureDeferred
async def test_no_supported_subprotocol_closed_1002(central: Central, offered: list[str]) -> None:
    """Without ocpp1.6 offered the handshake completes with no subprotocol, then closes (1002)."""

    async def scenario() -> tuple[str | None, int | None]:
        try:
            ws = await websockets.connect(
                f"{central.url}/NOPROTO", subprotocols=offered or None, open_timeout=WAIT
            )
        except InvalidMessage as e:
            pytest.fail(f"the server aborted the connection instead of a 101 then 1002: {e!r}")
        try:
            with pytest.raises(ConnectionClosed) as caught:
                await asyncio.wait_for(ws.recv(), WAIT)
            assert caught.value.rcvd is not None, "the server sent no close frame"
            return ws.subprotocol, caught.value.rcvd.code
        finally:
            await ws.close()

    assert await aio(scenario()) == (None, 1002)
    assert "NOPROTO" not in central.service.registry


# --- limits ---------------------------------------------------------------------------------

MIB = 1 << 20


def transfer(size: int) -> str:
    """A DataTransfer CALL of exactly C{size} bytes."""
    frame = '[2, "dt", "DataTransfer", {"vendorId": "acme", "data": "%s"}]'
    return frame % ("x" * (size - len(frame) + 2))


def pieces(text: str, size: int) -> list[str]:
    """C{text} cut into fragments of C{size} characters."""
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("fragmented", [False, True], ids=["one frame", "fragmented message"])
@pytest_twisted.ensureDeferred
async def test_oversized_frame_closes_1009(tmp_path: Path, fragmented: bool) -> None:
    """
    A frame (or a message in several smaller frames) larger than [server]
    max_frame_size closes the connection with 1009; a smaller one is answered.
    """
    central = await start_central(
        tmp_path, server={"max_frame_size": 1024}, known_vendors=("acme",)
    )

    async def scenario() -> tuple[dict[str, Any], int | None]:
        station = await RawStation.connect(central.url, "BIG-1", compression=None)
        try:
            await station.boot()
            await station.send(transfer(1000))
            small = await station.recv()
            assert "BIG-1" in central.service.registry
            big = transfer(2000)
            if fragmented:  # three frames of at most 700 bytes
                await station.ws.send(iter([big[:700], big[700:1400], big[1400:]]))
            else:
                await station.send(big)
            with pytest.raises(ConnectionClosed) as caught:
                await station.recv()
            assert caught.value.rcvd is not None, (
                "the server dropped the TCP connection without a close frame (expected 1009)"
            )
            return small[2], caught.value.rcvd.code
        finally:
            await station.close()

    try:
        assert len(transfer(1000)) == 1000
        small, code = await aio(scenario())
        assert small == {"status": "Accepted"}
        assert code == 1009
        assert "BIG-1" not in central.service.registry
    finally:
        await stop_central(central)


@pytest.mark.parametrize("fragmented", [False, True], ids=["one frame", "fragmented message"])
@pytest_twisted.ensureDeferred
async def test_the_default_limit_takes_what_real_stations_send(
    tmp_path: Path, fragmented: bool
) -> None:
    """
    Under the default [server] max_frame_size of 1 MiB, a 200 kB DataTransfer
    (one frame, or fragments of 64 KiB) is answered, and so is one of exactly
    1 MiB; one byte more (one frame, or fragments of 300 kB each under the
    limit) closes the connection with 1009.
    """
    central = await start_central(tmp_path, known_vendors=("acme",))

    async def send(station: RawStation, frame: str) -> None:
        if fragmented:
            await station.ws.send(iter(pieces(frame, 300_000 if len(frame) > MIB else 65_536)))
        else:
            await station.send(frame)

    async def scenario() -> tuple[list[Any], list[Any], int | None]:
        station = await RawStation.connect(central.url, "BIG-2", compression=None)
        try:
            await station.boot()
            await send(station, transfer(200_000))
            large = await station.recv()
            await send(station, transfer(MIB))
            largest = await station.recv()
            await send(station, transfer(MIB + 1))
            with pytest.raises(ConnectionClosed) as caught:
                await station.recv()
            await wait_until(lambda: "BIG-2" not in central.service.registry, WAIT)
            return large, largest, caught.value.rcvd.code if caught.value.rcvd else None
        finally:
            await station.close()

    try:
        large, largest, code = await aio(scenario())
        assert large == [3, "dt", {"status": "Accepted"}]
        assert largest == [3, "dt", {"status": "Accepted"}]
        assert code == 1009
        assert central.service.config.server.max_frame_size == MIB
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_dead_connection_dropped(tmp_path: Path) -> None:
    """
    With 2 s pings and a 2 s pong timeout, a peer that never answers pings is
    dropped and leaves the registry; a live peer on the same server stays.
    (Client and server share one event loop here, so the bounds leave room
    for a busy machine.)
    """
    central = await start_central(
        tmp_path, server={"ping_interval": 2, "ping_timeout": 2, "call_timeout": 15}
    )
    registry = central.service.registry

    async def scenario() -> bytes:
        live = await RawStation.connect(central.url, "LIVE-1")
        reader, writer = await raw_upgrade(central.port, "DEAD-1")
        try:
            await expect_alive(live)
            await wait_until(lambda: "DEAD-1" in registry, WAIT)
            # A command to the dead station (call_timeout is 15 s, longer than the drop).
            pending = as_future(registry.call("DEAD-1", "Reset", {"type": "Soft"}))
            # Read (but never answer) until the server gives up on us.
            received = await asyncio.wait_for(read_until_dropped(reader), 10)
            await wait_until(lambda: "DEAD-1" not in registry, WAIT)
            with pytest.raises(StationDisconnected):
                await asyncio.wait_for(pending, WAIT)
            assert "LIVE-1" in registry
            assert "currentTime" in await live.heartbeat()
            return received
        finally:
            writer.close()
            await live.close()

    try:
        received = await aio(scenario())
        # The server sent the Reset CALL (a text frame) and pinged (opcode 9)
        # before dropping the connection.
        assert received[:1] == b"\x81", received
        assert b"Reset" in received and b"\x89" in received[1:], received
        station = await central.service.backend.get_station("DEAD-1")
        assert station["connected"] == 0
    finally:
        await stop_central(central)
