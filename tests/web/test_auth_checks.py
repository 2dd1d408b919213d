"""
Tests for L{ocppcs.web.auth} without the running service: Klein behind the
guard (StubTreq), verifications that finish later, the verdict caches, the
bound on waiting verifications and the checks of the configuration.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import pytest_twisted
from klein import Klein
from treq.testing import StubTreq
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyRequest

from ocppcs.config import ApiConfig, ConfigError
from ocppcs.web import auth
from ocppcs.web.auth import API_OPEN_PATHS, OperatorAuth, Verdict
from tests.web.operators import ALICE, BASIC, BEARER, GOOD, WRONG, basic


def synchronously(verify: Any) -> Deferred[bool]:
    """Run a verification at once, instead of in the thread pool."""
    return succeed(verify())


# --- Klein-level ---------------------------------------------------------------------------------


class Where:
    """A Klein app that shows what it sees of each request."""

    app = Klein()

    @app.route("/v1/ping")
    def ping(self, request: Any) -> bytes:
        """An open path."""
        return b"pong"

    @app.route("/v1/where/<name>")
    def where(self, request: Any, name: str) -> bytes:
        """The route argument, a URL built for this route, prepath and postpath."""
        url = self.app.url_for(request, "where", {"name": "x"}, force_external=True)
        return orjson.dumps([name, url, request.prepath, request.postpath], default=bytes.decode)


def stub(guard: Any) -> StubTreq:
    """A StubTreq on L{Where} mounted at C{/api} behind C{guard}."""
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
    """A request with the Authorization C{header} (or none)."""
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


@pytest_twisted.ensureDeferred
async def test_credentials_read_at_use_time() -> None:
    """
    The guard reads [api] at each request: auth = none lets everything
    through; a reload to basic asks for credentials from the next request
    on, and new users replace the old ones.
    """
    current = [ApiConfig(auth="none")]
    treq = stub(OperatorAuth(lambda: current[0], Clock(), run=synchronously).guard)
    response = await treq.get("http://x/api/v1/where/a")
    assert response.code == 200
    current[0] = BASIC
    response = await treq.get("http://x/api/v1/where/a")
    assert response.code == 401
    response = await treq.get("http://x/api/v1/where/a", headers={"Authorization": [GOOD["basic"]]})
    assert response.code == 200
    current[0] = BEARER  # alice's password is no credential any more
    response = await treq.get("http://x/api/v1/where/a", headers={"Authorization": [GOOD["basic"]]})
    assert response.code == 401
    response = await treq.get(
        "http://x/api/v1/where/a", headers={"Authorization": [GOOD["bearer"]]}
    )
    assert response.code == 200


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
