"""
Klein-level tests of the REST API with C{treq.testing.StubTreq}: the error
shape of routing errors, strict query parameters, body limits, how each
failure of a station call maps to a status, and a backend without operator
queries (501).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
import pytest_twisted
from treq.testing import StubTreq
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from ocppcs.backends.interface import IOperatorStore
from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
    StationOffline,
    UnknownStation,
)
from ocppcs.config import ApiConfig, Config
from ocppcs.stations import StationRegistry
from ocppcs.testing import MemoryBackend
from ocppcs.web.api import RestApi
from tests.web.conftest import WebCentral

BASE = "http://cs.example/v1"


class FakeRegistry(StationRegistry):
    """A registry whose calls fail with, or fire with, C{outcome}; it records them."""

    def __init__(self, outcome: Any) -> None:
        super().__init__(MemoryBackend())
        self.outcome = outcome
        self.calls: list[tuple[str, str, dict[str, Any], float | None]] = []

    def call(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        self.calls.append((identity, action, payload, timeout))
        if isinstance(self.outcome, Exception):
            return fail(self.outcome)
        return succeed(self.outcome)


def stub(registry: StationRegistry | None = None, **api: Any) -> tuple[StubTreq, RestApi]:
    backend = MemoryBackend()
    clock = Clock()
    clock.advance(1_700_000_000.25)
    config = Config(api=dataclasses.replace(ApiConfig(), **api))
    rest = RestApi(
        registry if registry is not None else StationRegistry(backend), backend, config, clock
    )
    return StubTreq(rest.resource()), rest


async def fetch(http: StubTreq, method: str, path: str, **kwargs: Any) -> tuple[int, Any, bytes]:
    response = await http.request(method, BASE + path, **kwargs)
    return response.code, response.headers, await response.content()


def error_of(code: int, body: bytes) -> str:
    parsed = orjson.loads(body)
    assert parsed["error"]["code"] == code, parsed
    return parsed["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_ping_and_time() -> None:
    http, _ = stub()
    code, headers, body = await fetch(http, "GET", "/ping")
    assert (code, body) == (200, b"OK")
    assert headers.getRawHeaders("Content-Type") == ["text/plain; charset=utf-8"]
    code, _, body = await fetch(http, "GET", "/time")
    assert (code, orjson.loads(body)) == (200, {"serverTime": 1_700_000_000_250})
    code, _, body = await fetch(http, "GET", "/time?utc=1")
    assert code == 400 and "utc" in error_of(400, body)
    code, _, body = await fetch(http, "GET", "/time?x=1&x=2")
    assert code == 400


@pytest.mark.parametrize(
    "path", ["/nothing", "/ping/", "//ping", "/v2/ping", "/ChargePoint/A/Reset/more"]
)
@pytest_twisted.ensureDeferred
async def test_unknown_path(path: str) -> None:
    http, _ = stub()
    code, headers, body = await fetch(http, "GET", path)
    assert code == 404
    assert headers.getRawHeaders("Content-Type") == ["application/json"]
    assert error_of(404, body).startswith("No such API path")


@pytest_twisted.ensureDeferred
async def test_path_not_utf8() -> None:
    http, _ = stub()
    code, headers, body = await fetch(http, "GET", "/ChargePoint/%FF")
    assert code == 400 and "UTF-8" in error_of(400, body)
    assert headers.getRawHeaders("Content-Type") == ["application/json"]


@pytest_twisted.ensureDeferred
async def test_method_not_allowed() -> None:
    http, _ = stub()
    code, headers, body = await fetch(http, "PATCH", "/ChargePoint/CP1")
    assert code == 405
    assert set(headers.getRawHeaders("Allow")[0].split(", ")) >= {"GET", "PUT", "DELETE"}
    assert "PATCH" in error_of(405, body)
    code, _, _ = await fetch(http, "GET", "/ChargePoint/CP1/Reset")
    assert code == 405


@pytest_twisted.ensureDeferred
async def test_body_limit() -> None:
    http, _ = stub(max_body=64)
    payload = orjson.dumps({"key": "k" * 100, "value": "v"})
    code, _, body = await fetch(http, "POST", "/ChargePoint/CP1/ChangeConfiguration", data=payload)
    assert code == 413 and "64 bytes" in error_of(413, body)


@pytest_twisted.ensureDeferred
async def test_backend_without_operator_queries() -> None:
    """The memory backend has no IOperatorStore: those routes are 501, never 500."""
    http, _ = stub()
    for method, path in [
        ("GET", "/ChargePointList"),
        ("GET", "/ChargePoint/CP1"),
        ("GET", "/CentralSystem/TransactionList"),
        ("GET", "/IdTagList"),
        ("GET", "/Log"),
    ]:
        code, _, body = await fetch(http, method, path)
        assert code == 501 and "memory" in error_of(501, body)


@pytest_twisted.ensureDeferred
async def test_embedded_backend_provides_operator_queries(web: WebCentral) -> None:
    assert verifyObject(IOperatorStore, web.service.backend)


FAILURES = [
    (UnknownStation("CP1", "Reset"), 404, "not found"),
    (StationOffline("CP1", "Reset"), 503, "not connected"),
    (
        InvalidCommand("CP1", "Reset", "type must be one of ['Hard', 'Soft']", "$.type"),
        400,
        "$.type",
    ),
    (InvalidCommand("CP1", "Frob", "Unknown operation: 'Frob'"), 400, "Unknown operation"),
    (StationDisconnected("CP1", "Reset", "gone"), 503, "may or may not have run"),
    (CallTimeout("CP1", "Reset", 30.0), 504, "within 30s"),
    (InvalidReply("CP1", "Reset", "status must be ...", "$.status"), 502, "$.status"),
]


@pytest.mark.parametrize(("error", "code", "words"), FAILURES)
@pytest_twisted.ensureDeferred
async def test_call_failures(error: Exception, code: int, words: str) -> None:
    registry = FakeRegistry(error)
    http, _ = stub(registry)
    status, headers, body = await fetch(
        http, "POST", "/ChargePoint/CP1/Reset", data=b'{"type": "Soft"}'
    )
    assert status == code
    assert headers.getRawHeaders("Content-Type") == ["application/json"]
    assert words in error_of(code, body)


@pytest_twisted.ensureDeferred
async def test_command_arguments() -> None:
    """The body is the payload (empty: {}); the timeout defaults to [server] call_timeout."""
    registry = FakeRegistry({"status": "Accepted"})
    http, _ = stub(registry)
    code, _, body = await fetch(http, "POST", "/ChargePoint/CP%201/ClearCache")
    assert (code, orjson.loads(body)) == (200, {"status": "Accepted"})
    await fetch(http, "POST", "/ChargePoint/CP1/Reset?timeout=2.5", data=b'{"type": "Hard"}')
    assert registry.calls == [
        ("CP 1", "ClearCache", {}, 30.0),
        ("CP1", "Reset", {"type": "Hard"}, 2.5),
    ]


@pytest_twisted.ensureDeferred
async def test_station_call_error() -> None:
    registry = FakeRegistry(StationCallError("CP1", "Reset", "InternalError", "oops", {"a": 1}))
    http, _ = stub(registry)
    code, _, body = await fetch(http, "POST", "/ChargePoint/CP1/Reset", data=b'{"type": "Hard"}')
    assert code == 200
    assert orjson.loads(body) == {
        "error": True,
        "errorCode": "InternalError",
        "errorDescription": "oops",
        "errorDetails": {"a": 1},
    }
