"""
Tests for L{ocppcs.web.auth} through the running service: operator
authentication over real HTTP (treq) for each scheme, stations that need no
operator credentials, the /ws/log upgrade behind the guard (C{websockets}),
and the warning at start-up about an API open to the network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_twisted
import websockets
from treq.client import HTTPClient
from twisted.logger import globalLogPublisher
from twisted.web.client import Agent, HTTPConnectionPool
from websockets.exceptions import InvalidStatus

from ocppcs.config import ApiConfig, Config, EmbeddedConfig, ServerConfig
from ocppcs.service import build_central_system
from ocppcs.web import auth
from ocppcs.web.auth import is_local_listener
from tests.integration.conftest import aio
from tests.web.operators import BASIC, BEARER, GOOD, WRONG


@dataclasses.dataclass
class Running:
    """A running service's base URL and a client for it."""

    base: str
    http: HTTPClient

    async def get(self, path: str, authorization: str | None = None) -> tuple[Any, bytes]:
        """C{GET path} (with an Authorization header): the response and its body."""
        headers = {"Authorization": [authorization]} if authorization else {}
        response = await self.http.get(self.base + path, headers=headers)
        return response, await response.content()


async def start(tmp_path: Path, api: ApiConfig, listen: str = "tcp:0:interface=127.0.0.1") -> Any:
    """Start the central system with C{api} on C{listen}, storing in C{tmp_path}."""
    from twisted.internet import reactor

    config = Config(
        server=ServerConfig(listen=(listen,), call_timeout=5),
        embedded=EmbeddedConfig(path=str(tmp_path / "ocppcs.sqlite3")),
        api=api,
    )
    service = build_central_system(config, reactor)
    service.startService()
    await service.ready
    return service


@pytest_twisted.async_yield_fixture
async def http() -> AsyncIterator[HTTPClient]:
    """A treq client with its own connection pool, closed afterwards."""
    from twisted.internet import reactor

    pool = HTTPConnectionPool(reactor, persistent=True)
    yield HTTPClient(Agent(reactor, pool=pool))
    await pool.closeCachedConnections()


@pytest_twisted.async_yield_fixture(params=["none", "basic", "bearer"])
async def running(request: Any, tmp_path: Path, http: HTTPClient) -> AsyncIterator[Running]:
    """The running service with each C{auth} scheme: none, basic and bearer."""
    api = {"none": ApiConfig(), "basic": BASIC, "bearer": BEARER}[request.param]
    service = await start(tmp_path, api)
    port = service.listeners[0].port.getHost().port
    yield Running(f"http://127.0.0.1:{port}", http)
    await service.stopService()


GUARDED = [
    "/api/v1/openapi.json",
    "/api/v1/no/such/path",
    "/api",
    "/docs/",
    "/docs/index.html",
    "/metrics",
]


@pytest_twisted.ensureDeferred
async def test_open_paths(running: Running) -> None:
    """ping and time need no credentials, whatever the scheme or header."""
    for header in [None, "Basic bad", "Bearer bad"]:
        response, body = await running.get("/api/v1/ping", header)
        assert (response.code, body) == (200, b"OK")
        response, body = await running.get("/api/v1/time", header)
        assert response.code == 200 and "serverTime" in orjson.loads(body)


@pytest_twisted.ensureDeferred
async def test_credentials(running: Running, request: Any) -> None:
    """Missing or wrong credentials get 401 with a challenge and the JSON error; right ones pass."""
    scheme = request.node.callspec.params["running"]
    if scheme == "none":
        for path in GUARDED:
            response, _ = await running.get(path)
            assert response.code != 401, path
        return
    challenge = f'{scheme.capitalize()} realm="ocppcs"'
    for path in GUARDED:
        for header in [None, *WRONG[scheme]]:
            response, body = await running.get(path, header)
            assert response.code == 401, (path, header)
            [www] = response.headers.getRawHeaders("WWW-Authenticate")
            assert www.startswith(challenge), www
            if scheme == "bearer" and header is not None:
                assert 'error="invalid_token"' in www
            assert response.headers.getRawHeaders("Content-Type") == ["application/json"]
            error = orjson.loads(body)["error"]
            assert error["code"] == 401 and error["message"]
    for _ in range(2):  # verified, then from the cache
        response, body = await running.get("/api/v1/openapi.json", GOOD[scheme])
        assert response.code == 200 and orjson.loads(body)["openapi"].startswith("3.")
    response, body = await running.get("/api/v1/no/such/path", GOOD[scheme])
    assert response.code == 404 and orjson.loads(body)["error"]["code"] == 404
    response, body = await running.get("/docs/", GOOD[scheme])
    assert response.code == 200 and b"swagger" in body.lower()


@pytest_twisted.ensureDeferred
async def test_stations_need_no_operator_credentials(tmp_path: Path) -> None:
    """/ocpp is not guarded: a station connects while auth = basic."""
    service = await start(tmp_path, BASIC)
    port = service.listeners[0].port.getHost().port

    async def connect() -> str | None:
        url = f"ws://127.0.0.1:{port}/ocpp/CP-AUTH"
        async with websockets.connect(url, subprotocols=["ocpp1.6"], open_timeout=3) as ws:  # type: ignore[list-item]
            return ws.subprotocol

    try:
        assert await aio(connect()) == "ocpp1.6"
    finally:
        await service.stopService()


@pytest_twisted.ensureDeferred
async def test_log_feed_and_metrics(tmp_path: Path, http: HTTPClient) -> None:
    """/ws/log refuses the upgrade without credentials and streams with them; /metrics too."""
    service = await start(tmp_path, BEARER)
    port = service.listeners[0].port.getHost().port
    running = Running(f"http://127.0.0.1:{port}", http)
    url = f"ws://127.0.0.1:{port}/ws/log"

    async def upgrade(header: str | None) -> Any:
        extra = {"Authorization": header} if header else {}
        try:
            async with websockets.connect(url, additional_headers=extra, open_timeout=3):
                return 101
        except InvalidStatus as e:
            return e.response

    try:
        for header in [None, "Bearer nope"]:
            response = await aio(upgrade(header))
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith('Bearer realm="ocppcs"')
            response, _ = await running.get("/metrics", header)
            assert response.code == 401
        assert await aio(upgrade(GOOD["bearer"])) == 101
        response, body = await running.get("/metrics", GOOD["bearer"])
        assert response.code == 200 and b"# TYPE" in body
    finally:
        await service.stopService()


# --- the open-API warning ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "description, local",
    [
        ("tcp:9220:interface=127.0.0.1", True),
        ("tcp:port=9220:interface=127.1.2.3", True),
        (r"tcp6:9220:interface=\:\:1", True),
        (r"tcp6:9220:interface=\:\:ffff\:127.0.0.1", True),
        ("ssl:9443:privateKey=k.pem:interface=localhost", True),
        ("unix:/run/ocppcs.sock", True),
        ("tcp:9220", False),
        ("tcp:9220:interface=0.0.0.0", False),
        (r"tcp6:9220:interface=\:\:", False),
        ("tcp:9220:interface=192.168.1.5", False),
        ("systemd:domain=INET:index=0", False),
    ],
)
def test_local_listeners(description: str, local: bool) -> None:
    """Only UNIX sockets and loopback addresses count as local."""
    assert is_local_listener(description) is local


@pytest.mark.parametrize(
    "listen, api, warned",
    [
        ("tcp:0:interface=0.0.0.0", ApiConfig(auth="none"), True),
        ("tcp:0:interface=127.0.0.1", ApiConfig(auth="none"), False),
        ("tcp:0:interface=0.0.0.0", ApiConfig(), False),
        ("tcp:0:interface=0.0.0.0", BASIC, False),
    ],
)
@pytest_twisted.ensureDeferred
async def test_open_api_warning(tmp_path: Path, listen: str, api: ApiConfig, warned: bool) -> None:
    """Start-up warns when auth = none and a listener is not loopback-only."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        service = await start(tmp_path, api, listen)
        await service.stopService()
    finally:
        globalLogPublisher.removeObserver(events.append)
    warnings = [e for e in events if "listeners" in e and e.get("log_namespace") == auth.__name__]
    assert len(warnings) == warned
    if warned:
        assert warnings[0]["log_level"].name == "warn"
        assert warnings[0]["exposed"] == [listen]
        assert "open to the network" in warnings[0]["log_format"]
