"""
Refused station connection attempts against the running service: each kind
is recorded in C{service.refusals} (identity when the path names one, path,
peer address, reason) and counted by kind in the metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import websockets
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from treq.client import HTTPClient
from twisted.internet.task import Clock
from twisted.web.client import Agent, HTTPConnectionPool
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ocppcs.config import ServerConfig
from ocppcs.metrics import OcppMetrics
from ocppcs.onboarding import RefusalLog
from ocppcs.transports.websocket import (
    OcppServerFactory,
    OcppServerProtocol,
)
from tests.integration.conftest import Central, aio, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation


@pytest_twisted.async_yield_fixture
async def central(tmp_path: Path) -> AsyncIterator[Central]:
    running = await start_central(tmp_path)
    yield running
    await stop_central(running)


def refused_by_kind(central: Central) -> dict[str, int]:
    metrics = central.service.metrics
    assert isinstance(metrics, OcppMetrics)
    return dict(metrics._refused)


async def attempt(central: Central, path: str, subprotocols: list[str] | None) -> int | None:
    """Try to connect; the HTTP status if refused, the close code if closed after opening."""
    url = f"ws://127.0.0.1:{central.port}{path}"
    try:
        ws = await websockets.connect(url, subprotocols=subprotocols, open_timeout=WAIT)  # type: ignore[arg-type]
    except InvalidStatus as e:
        return e.response.status_code
    try:
        with pytest.raises(ConnectionClosed) as caught:
            await asyncio.wait_for(ws.recv(), WAIT)
        return caught.value.rcvd.code if caught.value.rcvd else None
    finally:
        await ws.close()


@pytest.mark.parametrize(
    "path, status, identity, reason, kind",
    [
        ("/ocpp/" + "A" * 49, 400, "", "Station identity is longer than 48 characters", "path"),
        ("/ocpp/", 400, "", "Station identity is empty", "path"),
        ("/ocpp/AB%0ACD", 400, "", "not printable", "path"),
        ("/ocpp/a/b/c", 404, "", "Path must be /ocpp/{identity}", "path"),
        ("/CP-WRONG-URL", 404, "", "Not a station endpoint: '/CP-WRONG-URL'", "path"),
        ("/", 404, "", "Not a station endpoint", "path"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_path(
    central: Central, path: str, status: int, identity: str, reason: str, kind: str
) -> None:
    """A path naming no valid station, at /ocpp or anywhere else a WebSocket comes."""
    assert await aio(attempt(central, path, ["ocpp1.6"])) == status
    [entry] = central.service.refusals.entries()
    assert entry["identity"] == identity
    assert entry["path"] == path
    assert entry["address"].startswith("tcp4:127.0.0.1:")
    assert reason in entry["reason"]
    assert refused_by_kind(central) == {kind: 1}


@pytest.mark.parametrize(
    "offered, shown", [(None, "none"), (["ocpp2.0.1", "ocpp1.5"], "ocpp2.0.1, ocpp1.5")]
)
@pytest_twisted.ensureDeferred
async def test_no_common_subprotocol(central: Central, offered: Any, shown: str) -> None:
    assert await aio(attempt(central, "/ocpp/NOPROTO-1", offered)) == 1002
    [entry] = central.service.refusals.entries()
    assert entry["identity"] == "NOPROTO-1"
    assert entry["path"] == "/ocpp/NOPROTO-1"
    assert entry["reason"].startswith(f"No supported subprotocol offered ({shown})")
    assert refused_by_kind(central) == {"subprotocol": 1}


@pytest_twisted.ensureDeferred
async def test_plain_http_request(central: Central) -> None:
    """A station speaking plain HTTP to the endpoint gets 426, and it is recorded."""
    from twisted.internet import reactor

    pool = HTTPConnectionPool(reactor, persistent=False)
    response = await HTTPClient(Agent(reactor, pool=pool)).get(
        f"http://127.0.0.1:{central.port}/ocpp/PLAIN-1"
    )
    await response.content()
    assert response.code == 426
    [entry] = central.service.refusals.entries()
    assert (entry["identity"], entry["path"]) == ("PLAIN-1", "/ocpp/PLAIN-1")
    assert entry["reason"] == "HTTP Upgrade header missing"
    assert refused_by_kind(central) == {"handshake": 1}


@pytest_twisted.ensureDeferred
async def test_failed_authentication(central: Central, monkeypatch: pytest.MonkeyPatch) -> None:
    """Station authentication refusing with a 401/403 ConnectionDeny is recorded as C{auth}."""
    check = OcppServerProtocol.onConnect

    def authenticating(self: OcppServerProtocol, request: ConnectionRequest) -> Any:
        protocol = check(self, request)
        if "authorization" not in request.headers:
            raise ConnectionDeny(401, "Station credentials missing")
        return protocol

    monkeypatch.setattr(OcppServerProtocol, "onConnect", authenticating)
    assert await aio(attempt(central, "/ocpp/AUTH-1", ["ocpp1.6"])) == 401
    [entry] = central.service.refusals.entries()
    assert (entry["identity"], entry["reason"]) == ("AUTH-1", "Station credentials missing")
    assert refused_by_kind(central) == {"auth": 1}


def test_record_refusal_hook() -> None:
    """What station authentication can call when it refuses by other means."""
    clock = Clock()
    refusals = RefusalLog(clock)
    kinds: list[str] = []
    factory = OcppServerFactory(
        clock,
        None,
        None,
        None,
        None,
        None,
        ServerConfig(),
        refusals=refusals,
        on_refused=kinds.append,
    )
    clock.advance(7)
    factory.record_refusal("AUTH-2", "/ocpp/AUTH-2", "tcp4:10.0.0.1:1", "Wrong password", "auth")
    assert refusals.entries() == [
        {
            "ts": 7,
            "identity": "AUTH-2",
            "path": "/ocpp/AUTH-2",
            "address": "tcp4:10.0.0.1:1",
            "reason": "Wrong password",
        }
    ]
    assert kinds == ["auth"]
    OcppServerFactory(
        clock,
        None,
        None,
        None,
        None,
        None,
        ServerConfig(),
    ).record_refusal("X", "/ocpp/X", "", "no log, no metrics: still fine")


@pytest_twisted.ensureDeferred
async def test_accepted_connection_not_recorded(central: Central) -> None:
    async def connect() -> None:
        station = await RawStation.connect(central.url, "GOOD-1")
        await station.boot()
        await station.close()

    await aio(connect())
    assert central.service.refusals.entries() == []
    assert refused_by_kind(central) == {}
