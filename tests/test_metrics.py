"""
Tests for L{ocppcs.metrics}: the frame sink, outbound outcomes and the
open-transaction refresh on a L{Clock}, and C{/metrics} over real HTTP from
the running service after a real station session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import websockets
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from treq.client import HTTPClient
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool
from websockets.exceptions import InvalidStatus

from ocppcs.backends.interface import FrameRecord
from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
)
from ocppcs.metrics import OcppMetrics
from ocppcs.stations import StationRegistry
from tests.integration.conftest import Central, aio, as_future, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation

START = {"connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": "2024-01-01T00:00:00Z"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def scrape(metrics: OcppMetrics) -> Samples:
    return samples(generate_latest(metrics.prometheus).decode())


class Backend:
    """Just enough of a backend: a controllable open-transaction count."""

    def __init__(self) -> None:
        self.queries: list[Deferred[int]] = []

    def count_open_transactions(self) -> Deferred[int]:
        d: Deferred[int] = Deferred()
        self.queries.append(d)
        return d


def frame(
    ts: float, direction: str, kind: int, uid: str, action: str, raw: bytes = b""
) -> FrameRecord:
    return FrameRecord(ts, "CP1", direction, kind, uid, action, raw)


def make(backend: Any = None, clock: Clock | None = None, **kw: Any) -> OcppMetrics:
    registry = StationRegistry(backend)  # type: ignore[arg-type]
    return OcppMetrics(registry, backend, clock or Clock(), **kw)


# --- the frame sink ---------------------------------------------------------------------------


def test_inbound_calls_counted_and_timed() -> None:
    """Results and CALLERRORs by action and code; latency from CALL to reply."""
    metrics = make()
    metrics.frame(frame(10.0, "in", 2, "a", "Heartbeat"))
    metrics.frame(frame(10.003, "out", 3, "a", "Heartbeat"))
    metrics.frame(frame(11.0, "in", 2, "b", "Authorize"))
    raw = b'[4,"b","InternalError","oops",{}]'
    metrics.frame(frame(11.2, "out", 4, "b", "Authorize", raw))
    metrics.frame(frame(12.0, "in", 2, "c", "Bogus"))
    metrics.frame(frame(12.0, "out", 4, "c", "Bogus", b'[4,"c","NotImplemented","?",{}]'))
    metrics.frame(frame(13.0, "in", 0, "-1", "", b"junk"))
    metrics.frame(frame(13.0, "out", 4, "-1", "", b'[4,"-1","FormationViolation","?",{}]'))
    found = scrape(metrics)
    calls = "ocppcs_calls_total"
    assert value(found, calls, direction="in", action="Heartbeat", outcome="result") == 1
    assert value(found, calls, direction="in", action="Authorize", outcome="InternalError") == 1
    assert value(found, calls, direction="in", action="Other", outcome="NotImplemented") == 1
    assert value(found, calls, direction="in", action="Other", outcome="FormationViolation") == 1
    assert value(found, "ocppcs_backend_errors_total") == 1
    assert value(found, "ocppcs_invalid_frames_total") == 1
    hist = "ocppcs_call_duration_seconds"
    assert value(found, hist + "_count", direction="in", action="Heartbeat") == 1
    assert value(found, hist + "_bucket", direction="in", action="Heartbeat", le="0.0025") == 0
    assert value(found, hist + "_bucket", direction="in", action="Heartbeat", le="0.005") == 1
    assert value(found, hist + "_sum", direction="in", action="Heartbeat") == pytest.approx(0.003)
    assert value(found, hist + "_bucket", direction="in", action="Authorize", le="0.25") == 1
    assert value(found, hist + "_bucket", direction="in", action="Authorize", le="0.1") == 0


def test_outbound_latency_and_outcomes() -> None:
    """Outbound latency from the frames; outcomes from the call's result or failure."""
    metrics = make()
    metrics.frame(frame(5.0, "out", 2, "x", "Reset"))
    metrics.frame(frame(5.5, "in", 3, "x", "Reset"))
    metrics.frame(frame(6.0, "out", 2, "y", "Reset"))
    metrics.frame(frame(6.1, "in", 3, "other-id", ""))  # a reply to nothing: not timed
    outcomes = [
        {"status": "Accepted"},
        Failure(StationCallError("CP1", "Reset", "NotSupported", "", {})),
        Failure(StationCallError("CP1", "Reset", "MadeUpCode", "", {})),
        Failure(CallTimeout("CP1", "Reset", 30)),
        Failure(StationDisconnected("CP1", "Reset")),
        Failure(InvalidReply("CP1", "Reset", "bad", "$")),
        Failure(CancelledError()),
    ]
    for outcome in outcomes:
        assert metrics.outbound_done(outcome, "Reset") is outcome
        if isinstance(outcome, Failure):
            outcome.trap(Exception)
    unknown = Failure(InvalidCommand("CP1", "Nope", "Unknown operation"))
    metrics.outbound_done(unknown, "Nope")
    found = scrape(metrics)
    hist = "ocppcs_call_duration_seconds"
    assert value(found, hist + "_count", direction="out", action="Reset") == 1
    assert value(found, hist + "_sum", direction="out", action="Reset") == 0.5
    for outcome in ("result", "NotSupported", "Other", "timeout", "disconnected"):
        assert value(found, "ocppcs_calls_total", direction="out", action="Reset", outcome=outcome)
    for outcome in ("invalid_reply", "cancelled"):
        assert value(found, "ocppcs_calls_total", direction="out", action="Reset", outcome=outcome)
    labels = {"direction": "out", "action": "Other", "outcome": "invalid_command"}
    assert value(found, "ocppcs_calls_total", **labels) == 1


def test_pending_inbound_calls_bounded() -> None:
    """Calls never answered (their station went away) can't pile up."""
    metrics = make(max_pending=10)
    for n in range(25):
        metrics.frame(frame(1.0, "in", 2, str(n), "Heartbeat"))
    assert len(metrics._inbound) <= 10


def test_refusals_and_stations() -> None:
    metrics = make()
    metrics.refused("path")
    metrics.refused("path")
    metrics.refused("subprotocol")
    found = scrape(metrics)
    assert value(found, "ocppcs_refused_connections_total", reason="path") == 2
    assert value(found, "ocppcs_refused_connections_total", reason="subprotocol") == 1
    assert value(found, "ocppcs_connected_stations") == 0


def test_own_registry() -> None:
    """Two services' metrics don't mix (and never touch the global registry)."""
    first, second = make(), make()
    first.refused("path")
    assert value(scrape(second), "ocppcs_refused_connections_total", reason="path") is None


# --- the open-transaction refresh -------------------------------------------------------------


def test_open_transactions_refreshed_one_query_at_a_time() -> None:
    clock = Clock()
    backend = Backend()
    metrics = make(backend, clock, refresh_interval=10)
    assert value(scrape(metrics), "ocppcs_open_transactions") is None
    metrics.startService()
    assert len(backend.queries) == 1
    clock.advance(25)
    assert len(backend.queries) == 1  # still waiting for the first
    backend.queries[0].callback(3)
    assert value(scrape(metrics), "ocppcs_open_transactions") == 3
    clock.advance(10)
    assert len(backend.queries) == 2
    backend.queries[1].errback(RuntimeError("store gone"))
    assert value(scrape(metrics), "ocppcs_open_transactions") == 3
    assert value(scrape(metrics), "ocppcs_backend_errors_total") == 1
    clock.advance(10)
    assert len(backend.queries) == 3
    backend.queries[2].callback(0)
    metrics.stopService()
    clock.advance(100)
    assert len(backend.queries) == 3
    assert value(scrape(metrics), "ocppcs_open_transactions") == 0


def test_no_count_no_refresh() -> None:
    """A backend that can't count open transactions is not asked; the gauge is absent."""
    clock = Clock()
    metrics = make(object(), clock)
    metrics.startService()
    clock.advance(100)
    assert not clock.getDelayedCalls()
    metrics.stopService()
    assert value(scrape(metrics), "ocppcs_open_transactions") is None


def test_refresh_synchronous_backends() -> None:
    """A backend answering at once (or failing at once) works as well."""

    class Now:
        def __init__(self) -> None:
            self.answers: list[Any] = [succeed(2), fail(RuntimeError("x"))]

        def count_open_transactions(self) -> Any:
            return self.answers.pop(0)

    metrics = make(Now(), Clock())
    metrics.refresh()
    metrics.refresh()
    assert metrics.open_transactions == 2
    assert metrics.backend_errors == 1


# --- /metrics over HTTP -----------------------------------------------------------------------


@pytest_twisted.async_yield_fixture
async def http() -> AsyncIterator[HTTPClient]:
    from twisted.internet import reactor

    pool = HTTPConnectionPool(reactor, persistent=False)
    yield HTTPClient(Agent(reactor, pool=pool))
    await pool.closeCachedConnections()


@pytest_twisted.async_yield_fixture
async def central(tmp_path: Path) -> AsyncIterator[Central]:
    running = await start_central(tmp_path)
    yield running
    await stop_central(running)


async def get_metrics(http: HTTPClient, central: Central) -> tuple[int, str, Samples]:
    response = await http.get(f"http://127.0.0.1:{central.port}/metrics")
    body = (await response.content()).decode()
    content_type = response.headers.getRawHeaders(b"content-type")[0].decode()
    assert response.code == 200
    return response.code, content_type, samples(body)


@pytest_twisted.ensureDeferred
async def test_metrics_over_http(central: Central, http: HTTPClient) -> None:
    """The counters move with a real station session, outbound calls and refusals."""
    metrics = central.service.metrics
    assert metrics is not None and metrics.running
    for _ in range(100):  # the first count was asked for at start-up
        if metrics.open_transactions is not None:
            break
        await aio(asyncio.sleep(0.02))
    _, content_type, before = await get_metrics(http, central)
    assert content_type.startswith("text/plain; version=")
    assert value(before, "ocppcs_connected_stations") == 0
    assert value(before, "ocppcs_open_transactions") == 0
    registry = central.service.registry

    async def session() -> float | None:
        station = await RawStation.connect(central.url, "MET-1")
        try:
            await station.boot()
            await station.heartbeat()
            await station.heartbeat()
            await station.result("StartTransaction", START)
            await station.call("NoSuchAction", {})
            reply = as_future(registry.call("MET-1", "ClearCache", {}))
            call = await station.recv()
            await station.send([3, call[1], {"status": "Accepted"}])
            await asyncio.wait_for(reply, WAIT)
            timed_out = as_future(registry.call("MET-1", "Reset", {"type": "Soft"}, timeout=0.1))
            await station.recv()
            with pytest.raises(CallTimeout):
                await asyncio.wait_for(timed_out, WAIT)
            await as_future(metrics.refresh())
            _, _, during = await as_future(Deferred.fromCoroutine(get_metrics(http, central)))
            return value(during, "ocppcs_connected_stations")
        finally:
            await station.close()

    async def refused() -> None:
        for url in (f"{central.url}/{'x' * 49}", f"{central.url}/MET-2"):
            try:
                ws = await websockets.connect(url, subprotocols=["ocpp2.0.1"], open_timeout=WAIT)
                await ws.close()
            except InvalidStatus:
                pass

    assert await aio(session()) == 1
    await aio(refused())
    _, _, after = await get_metrics(http, central)
    calls = "ocppcs_calls_total"
    assert value(after, calls, direction="in", action="BootNotification", outcome="result") == 1
    assert value(after, calls, direction="in", action="Heartbeat", outcome="result") == 2
    assert value(after, calls, direction="in", action="Other", outcome="NotImplemented") == 1
    assert value(after, calls, direction="out", action="ClearCache", outcome="result") == 1
    assert value(after, calls, direction="out", action="Reset", outcome="timeout") == 1
    hist = "ocppcs_call_duration_seconds_count"
    assert value(after, hist, direction="in", action="Heartbeat") == 2
    assert value(after, hist, direction="out", action="ClearCache") == 1
    assert value(after, "ocppcs_open_transactions") == 1
    assert value(after, "ocppcs_refused_connections_total", reason="path") == 1
    assert value(after, "ocppcs_refused_connections_total", reason="subprotocol") == 1
    assert value(after, "ocppcs_connected_stations") == 0
    assert value(after, "ocppcs_backend_errors_total") == 0
    assert value(after, "process_resident_memory_bytes")
