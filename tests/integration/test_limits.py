"""
The limits of L{ocppcs.transports.limits} and L{ocppcs.web.site} against the
real service: each one hit by one client while the other stations keep
working, with a clear HTTP status or CALLERROR, logged and counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ocppcs.config import parse_config
from tests.integration.conftest import Central, aio, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation, call_error


async def refused_status(url: str) -> int:
    """The HTTP status a station's upgrade to C{url} is refused with."""
    with pytest.raises(InvalidStatus) as caught:
        ws = await websockets.connect(url, subprotocols=["ocpp1.6"], open_timeout=WAIT)
        await ws.close()
    return caught.value.response.status_code


async def metrics(central: Central) -> str:
    response = await treq.get(f"http://127.0.0.1:{central.port}/metrics")
    return (await response.content()).decode()


@pytest.mark.parametrize(
    ("limits", "status"),
    [({"max_connections_per_address": 2}, 429), ({"max_connections": 2}, 503)],
)
@pytest_twisted.ensureDeferred
async def test_connection_limits(tmp_path: Path, limits: dict[str, Any], status: int) -> None:
    """A third connection is refused; the two stations keep working; a freed place is taken."""
    central = await start_central(tmp_path, server=limits)
    try:

        async def scenario() -> tuple[int, int]:
            one = await RawStation.connect(central.url, "LIM-1")
            two = await RawStation.connect(central.url, "LIM-2")
            refused = await refused_status(f"{central.url}/LIM-3")
            for station in (one, two):
                assert (await station.boot())["status"] == "Accepted"
            await one.close()
            for _ in range(100):  # the server sees the close a moment later
                if len(central.service.registry) == 1:
                    break
                await asyncio.sleep(0.02)
            three = await RawStation.connect(central.url, "LIM-3")
            await three.boot()
            await two.heartbeat()
            await two.close()
            await three.close()
            return refused, len(central.service.refusals)

        refused, listed = await aio(scenario())
        assert refused == status
        assert listed == 1  # in the onboarding inbox
        text = await metrics(central)
        assert 'ocppcs_refused_connections_total{reason="limit"} 1.0' in text
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_message_rate_is_read_at_use_time_and_limits_one_station(tmp_path: Path) -> None:
    """
    A station over [server] message_rate gets CALLERROR GenericError for each
    CALL beyond it (none processed), and is closed with 1008 after
    rate_close_after in a row; another station is not limited. The limit is
    set while both are connected (read at use time).
    """
    central = await start_central(tmp_path)
    try:

        async def scenario() -> dict[str, Any]:
            out: dict[str, Any] = {}
            fast = await RawStation.connect(central.url, "FAST")
            calm = await RawStation.connect(central.url, "CALM")
            await fast.boot()
            await calm.boot()
            holder = central.service.holder
            server = dataclasses.replace(
                holder.current.server, message_rate=0.01, message_burst=2, rate_close_after=3
            )
            holder.replace(dataclasses.replace(holder.current, server=server))
            assert (await fast.call("Heartbeat", {}))[0] == 3  # the burst: 2 tokens
            assert (await fast.call("Heartbeat", {}))[0] == 3
            out["refused"] = await fast.call("Heartbeat", {})
            out["calm"] = [(await calm.call("Heartbeat", {}))[0] for _ in range(2)]
            await fast.call("Heartbeat", {})
            await fast.send([2, "last", "Heartbeat", {}])
            replies = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    replies.append(await fast.recv())
            out["closed"], out["replies"] = closed.value.rcvd, replies
            await calm.close()
            return out

        out = await aio(scenario())
        unique_id, code = call_error(out["refused"])
        assert code == "GenericError"
        assert "Message rate exceeded" in out["refused"][3]
        assert out["calm"] == [3, 3]  # its own bucket
        assert [call_error(r)[1] for r in out["replies"]] == ["GenericError"]
        assert out["closed"] is not None and out["closed"].code == 1008
        assert out["closed"].reason == "message rate exceeded"
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_handshake_timeout(tmp_path: Path) -> None:
    """A connection that does not finish its request in time gets 408; stations still connect."""
    # 2 s, not less: a loaded CI machine can stall the reactor for a good part of a
    # second, and the quick station's own handshake must not run into the limit.
    central = await start_central(tmp_path, server={"handshake_timeout": 2.0})
    try:

        async def scenario() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
            writer.write(b"GET /ocpp/SLOW HTTP/1.1\r\nHost: x\r\n")
            station = await RawStation.connect(central.url, "QUICK")
            for _ in range(3):  # a byte now and then does not keep it open
                await asyncio.sleep(0.8)
                writer.write(b"X")
            answer = await asyncio.wait_for(reader.read(), WAIT)
            writer.close()
            await station.boot()
            await station.close()
            return answer

        answer = await aio(scenario())
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_origin_check_on_the_feeds(tmp_path: Path) -> None:
    """/ws/events and /ws/log: a foreign Origin gets 403, the own one and allowed ones connect."""
    central = await start_central(tmp_path)
    holder = central.service.holder
    allowed = parse_config("[api]\nallowed_origins = https://ui.example.com\n").api
    holder.replace(dataclasses.replace(holder.current, api=allowed))
    base = f"ws://127.0.0.1:{central.port}"
    try:

        async def status(path: str, origin: str | None) -> int:
            headers = {"Origin": origin} if origin else {}
            try:
                ws = await websockets.connect(
                    base + path, additional_headers=headers, open_timeout=WAIT
                )
            except InvalidStatus as e:
                return e.response.status_code
            await ws.close()
            return 101

        async def scenario() -> list[int]:
            station = await RawStation.connect(central.url, "ORIGIN")
            codes = []
            for path in ("/ws/events", "/ws/log"):
                for origin in (
                    "http://evil.example",
                    f"http://127.0.0.1:{central.port}",
                    "https://ui.example.com",
                    None,
                ):
                    codes.append(await status(path, origin))
            await station.boot()
            await station.close()
            return codes

        assert await aio(scenario()) == [403, 101, 101, 101] * 2
    finally:
        await stop_central(central)
