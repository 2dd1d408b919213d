"""
Tests for L{ocppcs.web.auth}: operator authentication through real HTTP
against the running service (treq), the /ws/log upgrade behind the guard
(C{websockets}), Klein-level checks with StubTreq, the credential cache and
the warning about an open API.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_twisted
import websockets
from klein import Klein
from treq.client import HTTPClient
from treq.testing import StubTreq
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest
from websockets.exceptions import InvalidStatus

from ocppcs.config import ApiConfig, Config, ConfigError, EmbeddedConfig, ServerConfig
from ocppcs.passwd import hash_secret
from ocppcs.service import build_central_system
from ocppcs.web import auth
from ocppcs.web.auth import API_OPEN_PATHS, OperatorAuth, Verdict, is_local_listener
from tests.integration.conftest import aio

FAST = {"n": 2**4, "r": 1, "p": 1}
ALICE = f"alice:{hash_secret('wonder land', **FAST)}"
#: One token at the real (default) cost, verified in the thread pool.
TOKEN = "tok-Ab3-xyz"
TOKEN_HASHES = (str(hash_secret("older-token", **FAST)), str(hash_secret(TOKEN)))

BASIC = ApiConfig(auth="basic", users=(ALICE,))
BEARER = ApiConfig(auth="bearer", tokens=TOKEN_HASHES)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


GOOD = {"basic": basic("alice", "wonder land"), "bearer": f"Bearer {TOKEN}"}
WRONG = {
    "basic": [
        basic("alice", "wonderland"),
        basic("bob", "wonder land"),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no colon").decode(),
        f"Bearer {TOKEN}",
    ],
    "bearer": [f"Bearer {TOKEN}x", "Bearer older", "Bearer", GOOD["basic"], TOKEN],
}


def synchronously(verify: Any) -> Deferred[bool]:
    return succeed(verify())


# --- the running service -----------------------------------------------------------------------


@dataclasses.dataclass
class Running:
    base: str
    http: HTTPClient

    async def get(self, path: str, authorization: str | None = None) -> tuple[Any, bytes]:
        headers = {"Authorization": [authorization]} if authorization else {}
        response = await self.http.get(self.base + path, headers=headers)
        return response, await response.content()


async def start(tmp_path: Path, api: ApiConfig, listen: str = "tcp:0:interface=127.0.0.1") -> Any:
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


# --- Klein-level ---------------------------------------------------------------------------------


class Where:
    app = Klein()

    @app.route("/v1/ping")
    def ping(self, request: Any) -> bytes:
        return b"pong"

    @app.route("/v1/where/<name>")
    def where(self, request: Any, name: str) -> bytes:
        url = self.app.url_for(request, "where", {"name": "x"}, force_external=True)
        return orjson.dumps([name, url, request.prepath, request.postpath], default=bytes.decode)


def stub(guard: Any) -> StubTreq:
    root = Resource()
    root.putChild(b"api", guard(Where().app.resource(), API_OPEN_PATHS))
    return StubTreq(root)


@pytest_twisted.ensureDeferred
async def test_klein_sees_the_same_paths() -> None:
    """Behind the guard Klein routes and builds URLs exactly as when mounted directly."""
    guard = OperatorAuth(BASIC, Clock(), run=synchronously).guard
    seen = []
    for treq, headers in [
        (stub(auth.unguarded), {}),
        (stub(guard), {"Authorization": [GOOD["basic"]]}),
    ]:
        response = await treq.get("http://x/api/v1/where/%C3%A9t%C3%A9", headers=headers)
        seen.append(orjson.loads(await response.content()))
        response = await treq.get("http://x/api/v1/ping")
        assert response.code == 200
    assert seen[0] == seen[1]
    assert seen[0] == ["été", "http://x/v1/where/x", ["api", "v1", "where", "été"], []]
    response = await stub(guard).get("http://x/api/v1/where/a")
    assert response.code == 401
    response = await stub(guard).get("http://x/api/v1/ping/")  # not exactly an open path
    assert response.code == 401


@pytest_twisted.ensureDeferred
async def test_verification_later() -> None:
    """While a verification runs the request waits; its verdict then decides."""
    pending: list[tuple[Any, Deferred[bool]]] = []

    def later(verify: Any) -> Deferred[bool]:
        d: Deferred[bool] = Deferred()
        pending.append((verify, d))
        return d

    treq = stub(OperatorAuth(BASIC, Clock(), run=later).guard)
    for header, code in [(GOOD["basic"], 200), (WRONG["basic"][0], 401)]:
        answered: list[Any] = []
        treq.get("http://x/api/v1/where/a", headers={"Authorization": [header]}).addBoth(
            answered.append
        )
        treq.flush()
        assert answered == []
        verify, d = pending.pop()
        d.callback(verify())
        treq.flush()
        assert answered[0].code == code


# --- the check and its caches --------------------------------------------------------------------


def request_with(header: str | None) -> DummyRequest:
    request = DummyRequest([b"x"])
    if header is not None:
        request.requestHeaders.setRawHeaders(b"Authorization", [header.encode()])
    return request


def test_cache() -> None:
    """Verdicts are cached for the TTL in bounded LRUs; good ones survive floods of bad ones."""
    clock = Clock()
    verified: list[bool] = []

    def counting(verify: Any) -> Deferred[bool]:
        verified.append(verify())
        return succeed(verified[-1])

    checker = OperatorAuth(BASIC, clock, run=counting, cache_size=3, cache_ttl=60)

    def check(header: str) -> Verdict:
        verdict = checker.check(request_with(header))
        if isinstance(verdict, Deferred):  # fired already
            results: list[Verdict] = []
            verdict.addCallback(results.append)
            [verdict] = results
        return verdict

    assert check(GOOD["basic"]) is Verdict.ALLOWED
    assert check(GOOD["basic"]) is Verdict.ALLOWED
    assert verified == [True]
    for n in range(5):
        assert check(basic("alice", f"guess{n}")) is Verdict.REFUSED
    assert check(basic("alice", "guess4")) is Verdict.REFUSED
    assert verified == [True] + [False] * 5
    assert check(GOOD["basic"]) is Verdict.ALLOWED and len(verified) == 6
    clock.advance(61)
    assert check(GOOD["basic"]) is Verdict.ALLOWED and len(verified) == 7
    assert check("Basic %%%") is Verdict.REFUSED and len(verified) == 7  # malformed: no hashing


def test_busy() -> None:
    """When too many verifications wait, a new one gets 503 instead of queueing."""
    checker = OperatorAuth(BEARER, Clock(), run=lambda verify: Deferred())
    waiting = [checker.check(request_with(f"Bearer t{n}")) for n in range(2 + auth.MAX_WAITING)]
    assert all(isinstance(d, Deferred) for d in waiting)
    request = request_with("Bearer one-more")
    assert checker.check(request) is Verdict.BUSY
    body = checker.refuse(request, Verdict.BUSY)
    assert request.responseCode == 503 and orjson.loads(body)["error"]["code"] == 503
    assert checker.check(request_with(None)) is Verdict.MISSING


def test_none_is_no_guard() -> None:
    """With auth = none the guard returns the resource itself."""
    resource = Resource()
    assert OperatorAuth(ApiConfig(), Clock()).guard(resource) is resource


@pytest.mark.parametrize(
    "api, where",
    [
        (ApiConfig(auth="basic"), "api.users"),
        (ApiConfig(auth="bearer", users=(ALICE,)), "api.tokens"),
        (ApiConfig(users=("alice:nope",)), "api.users"),
        (ApiConfig(tokens=("nope",)), "api.tokens"),
    ],
)
def test_config_errors(api: ApiConfig, where: str) -> None:
    """A configuration built in code is checked as the parsed one is."""
    with pytest.raises(ConfigError) as info:
        OperatorAuth(api, Clock())
    assert f"'{where}'" in str(info.value)


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
        ("tcp:0:interface=0.0.0.0", ApiConfig(), True),
        ("tcp:0:interface=127.0.0.1", ApiConfig(), False),
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
