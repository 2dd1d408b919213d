"""
With an Autobahn internal missing, the fast path (L{ocppcs.transports.lean})
steps aside by itself: real stations still boot, beat and receive commands,
all through Autobahn's own C{dataReceived}, C{onMessageEnd} and
C{sendMessage}.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted

from ocppcs.transports import lean
from ocppcs.transports.internals import INTERNALS, Internal
from tests.integration.conftest import Central, aio, as_future
from tests.integration.rawstation import WAIT, RawStation

_WS = "autobahn.websocket.protocol:WebSocketProtocol"


@pytest.fixture
def fast_path_checked() -> Iterator[None]:
    """Check the fast path afresh afterwards (switching it back on)."""
    yield
    assert lean.FAST.check()


async def _boot_beat_command(central: Central, identity: str) -> Any:
    """Boot, beat and answer one DataTransfer; the server-side protocol object."""
    station = await RawStation.connect(central.url, identity)
    try:
        assert (await station.boot())["status"] == "Accepted"
        assert "currentTime" in await station.heartbeat()
        close = central.service.registry._sessions[identity]._close_connection  # type: ignore[attr-defined]
        reply = as_future(
            central.service.registry.call(identity, "DataTransfer", {"vendorId": "v"})
        )
        command = await station.recv()
        assert command[2:] == ["DataTransfer", {"vendorId": "v"}], command
        await station.send([3, command[1], {"status": "Accepted"}])
        assert await asyncio.wait_for(reply, WAIT) == {"status": "Accepted"}
        return close.__self__  # type: ignore[attr-defined]
    finally:
        await station.close()


@pytest.mark.parametrize(
    "missing",
    [Internal(_WS, "_gone", "method"), Internal(_WS, "_gone_too", "instance")],
    ids=lambda i: i.kind,
)
@pytest_twisted.ensureDeferred
async def test_stations_work_with_the_fast_path_off(
    central: Central, missing: Internal, fast_path_checked: None
) -> None:
    # On: the replies do not go through Autobahn's sendMessage (which counts them).
    protocol = await aio(_boot_beat_command(central, "FAST-ON"))
    assert protocol.trafficStats.outgoingWebSocketMessages == 0
    lean.FAST.check((*INTERNALS, missing))
    protocol = await aio(_boot_beat_command(central, "FAST-OFF"))
    assert not lean.FAST.on
    # BootNotification, Heartbeat and DataTransfer: Autobahn's sendMessage sent all three.
    assert protocol.trafficStats.outgoingWebSocketMessages == 3
