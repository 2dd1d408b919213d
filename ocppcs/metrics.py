# -*- test-case-name: tests.test_metrics -*-
"""
Prometheus metrics, served at C{/metrics} in the text exposition format.

    ocppcs_connected_stations                       gauge, from the station registry
    ocppcs_calls_total{direction,action,outcome}    counter
    ocppcs_call_duration_seconds{direction,action}  histogram
    ocppcs_open_transactions                        gauge (when the backend can count them)
    ocppcs_backend_errors_total                     counter
    ocppcs_record_copy_failures_total{action}       counter
    ocppcs_decider_failures_total{decider,reason}   counter (the webhook's, PostgreSQL's)
    ocppcs_frame_log_dropped_total{reason}          counter (frames a batched frame log lost)
    ocppcs_refused_connections_total{reason}        counter
    ocppcs_invalid_frames_total                     counter (unparseable frames from stations)
    ocppcs_log_feed_subscribers                     gauge
    ocppcs_log_feed_dropped_total                   counter (slow readers dropped)
    process_*                                       the server process (CPU, memory, files)

C{direction} is C{in} for calls a station makes and C{out} for calls the
central system makes. C{outcome} is C{result}, the CALLERROR's error code,
or, for outbound calls only, C{timeout}, C{disconnected}, C{invalid_reply},
C{invalid_command} or C{cancelled}. Action and error-code labels are limited
to the names OCPP 1.6 knows (anything else is C{Other}), so a station can't
create new series at will.

Cost on the hot path: inbound calls and every latency are counted by one
frame sink (L{OcppMetrics.frame}) with a few dict operations per frame; the
Prometheus metric families are only built when C{/metrics} is scraped.
Inbound latency is receipt of the CALL to sending the reply; outbound latency
is sending the CALL to receipt of the reply, matched by uniqueId.

Each service has its own L{CollectorRegistry} (L{OcppMetrics.prometheus}),
never the global one, so that a process can run several services (tests).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

from ocppcs.backends.interface import FrameRecord, IRecord
from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
)
from ocppcs.ocppj.errors import ErrorCode
from ocppcs.stations import StationRegistry
from ocppcs.v16.actions import KNOWN_ACTIONS

#: Upper bounds of the latency buckets, in seconds (+Inf is implied).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BUCKET_LABELS = [repr(b) for b in BUCKETS] + ["+Inf"]
_ERROR_CODES = frozenset(code.value for code in ErrorCode)
OTHER = "Other"


def _action_label(action: str) -> str:
    return action if action in KNOWN_ACTIONS else OTHER


def _error_code(raw: bytes) -> str:
    """The error code of a serialized CALLERROR, limited to the known ones."""
    try:
        code = orjson.loads(raw)[2]
    except Exception:
        return OTHER
    return code if code in _ERROR_CODES else OTHER


class _Latency:
    """One histogram's bucket counts (not cumulative) and sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        cumulative: float = 0
        out = []
        for label, count in zip(_BUCKET_LABELS, self.counts, strict=True):
            cumulative += count
            out.append((label, cumulative))
        return out


def _outcome(result: Any) -> str:
    """The C{outcome} label of an outbound call's result or failure."""
    if not isinstance(result, Failure):
        return "result"
    error = result.value
    if isinstance(error, StationCallError):
        return error.error_code if error.error_code in _ERROR_CODES else OTHER
    if isinstance(error, CallTimeout):
        return "timeout"
    if isinstance(error, StationDisconnected):
        return "disconnected"
    if isinstance(error, InvalidReply):
        return "invalid_reply"
    if isinstance(error, InvalidCommand):
        return "invalid_command"
    if isinstance(error, CancelledError):
        return "cancelled"
    return "error"


class OcppMetrics(Service):
    """
    The central system's metrics: a frame sink, an outbound-call observer,
    a refusal counter and a Prometheus collector in one.

    While running, the open-transaction count is refreshed every
    C{refresh_interval} seconds on C{clock} (one query at a time).

    @param registry: the connected stations.
    @param backend: asked for C{count_open_transactions()} if it has it.
    @param clock: runs the refresh.
    @param refresh_interval: seconds between open-transaction counts.
    @param log_feed: the live log feed, for its subscriber and drop counts.
    @param decider: its C{failures} (a dict of counts by reason), if it has
        one, are exported as C{ocppcs_decider_failures}.
    @param max_pending: at most this many inbound calls awaiting a reply are
        tracked for latency (calls cut short by a disconnect are never
        answered; beyond the bound the table is emptied).
    @ivar prometheus: this service's own collector registry.
    """

    _log = Logger()

    def __init__(
        self,
        registry: StationRegistry,
        backend: IRecord,
        clock: IReactorTime,
        refresh_interval: float = 15.0,
        log_feed: Any = None,
        max_pending: int = 100_000,
        decider: Any = None,
    ) -> None:
        self._registry = registry
        self._decider = decider
        self._copy_failures: dict[str, int] = {}
        self._backend = backend
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._log_feed = log_feed
        self._max_pending = max_pending
        self._calls: dict[tuple[str, str, str], int] = {}
        self._in_results: dict[str, int] = {}
        self._latency: dict[tuple[str, str], _Latency] = {}
        self._inbound: dict[tuple[str, str], float] = {}
        self._outbound: dict[str, tuple[str, float, str]] = {}
        self._refused: dict[str, int] = {}
        self.backend_errors = 0
        self.invalid_frames = 0
        self.open_transactions: int | None = None
        self._refresh = LoopingCall(self.refresh)
        self._refresh.clock = clock
        self.prometheus = CollectorRegistry(auto_describe=False)
        self.prometheus.register(self)
        ProcessCollector(registry=self.prometheus)

    # --- lifecycle -----------------------------------------------------------------------------

    def startService(self) -> None:
        """Start refreshing the open-transaction count (if the backend can count them)."""
        super().startService()
        if getattr(self._backend, "count_open_transactions", None) is not None:
            self._refresh.start(self._refresh_interval, now=True)

    def stopService(self) -> None:
        """Stop refreshing."""
        super().stopService()
        if self._refresh.running:
            self._refresh.stop()

    def refresh(self) -> Deferred[None]:
        """
        Count the open transactions now. While running this is called every
        C{refresh_interval} seconds; as it returns the query's Deferred, the
        next call waits until the query is done (never two at once).
        """
        # Only backends that are also an IOperatorStore have it (see startService).
        count: Callable[[], Deferred[int]] = self._backend.count_open_transactions  # type: ignore[attr-defined]
        return maybeDeferred(count).addCallbacks(self._counted, self._count_failed)

    def _counted(self, count: int) -> None:
        self.open_transactions = int(count)

    def _count_failed(self, failure: Failure) -> None:
        self.backend_errors += 1
        self._log.failure("Counting the open transactions failed", failure)

    # --- inputs --------------------------------------------------------------------------------

    def frame(self, record: FrameRecord) -> None:
        """The frame sink: count inbound calls, time both directions. Never raises."""
        ts, identity, direction, message_type, unique_id, action, raw = record
        if direction == "in":
            if message_type == 2:
                inbound = self._inbound
                if len(inbound) >= self._max_pending:
                    inbound.clear()
                inbound[(identity, unique_id)] = ts
            elif message_type == 3 or message_type == 4:
                sent = self._outbound.get(identity)
                if sent is not None and sent[0] == unique_id:
                    del self._outbound[identity]
                    self._observe("out", sent[2], ts - sent[1])
            else:
                self.invalid_frames += 1
        elif message_type == 3:
            results = self._in_results
            results[action] = results.get(action, 0) + 1
            received = self._inbound.pop((identity, unique_id), None)
            if received is not None:
                self._observe("in", action, ts - received)
        elif message_type == 4:
            code = _error_code(raw)
            if code == "InternalError":
                self.backend_errors += 1
            label = _action_label(action)
            self._count("in", label, code)
            received = self._inbound.pop((identity, unique_id), None)
            if received is not None:
                self._observe("in", label, ts - received)
        elif message_type == 2:
            self._outbound[identity] = (unique_id, ts, action)

    def _observe(self, direction: str, action: str, seconds: float) -> None:
        key = (direction, action)
        latency = self._latency.get(key)
        if latency is None:
            latency = self._latency[key] = _Latency()
        latency.observe(seconds)

    def _count(self, direction: str, action: str, outcome: str) -> None:
        key = (direction, action, outcome)
        self._calls[key] = self._calls.get(key, 0) + 1

    def outbound_done(self, result: Any, action: str) -> Any:
        """
        Count one outbound call's outcome; a pass-through callback and
        errback for L{StationRegistry.call}'s Deferred.
        """
        self._count("out", _action_label(action), _outcome(result))
        return result

    def copy_failed(self, action: str) -> None:
        """Count one copy of a call the record could not keep (L{CentralSystem.on_copy_failed})."""
        label = _action_label(action)
        self._copy_failures[label] = self._copy_failures.get(label, 0) + 1

    def refused(self, reason: str) -> None:
        """Count one refused connection attempt of kind C{reason} (path, subprotocol, ...)."""
        self._refused[reason] = self._refused.get(reason, 0) + 1

    # --- the collector -------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the counts (called on each scrape)."""
        yield GaugeMetricFamily(
            "ocppcs_connected_stations",
            "Stations connected now.",
            value=len(self._registry),
        )
        calls = CounterMetricFamily(
            "ocppcs_calls",
            "OCPP calls by direction (in: station to central system), action and outcome.",
            labels=["direction", "action", "outcome"],
        )
        for action, count in self._in_results.items():
            calls.add_metric(["in", action, "result"], count)
        for labels, count in self._calls.items():
            calls.add_metric(list(labels), count)
        yield calls
        latency = HistogramMetricFamily(
            "ocppcs_call_duration_seconds",
            "OCPP call latency: in = CALL received to reply sent, out = CALL sent to reply"
            " received.",
            labels=["direction", "action"],
        )
        for (direction, action), histogram in self._latency.items():
            latency.add_metric([direction, action], histogram.buckets(), histogram.total)
        yield latency
        if self.open_transactions is not None:
            yield GaugeMetricFamily(
                "ocppcs_open_transactions",
                "Transactions started and not yet stopped (refreshed periodically).",
                value=self.open_transactions,
            )
        yield CounterMetricFamily(
            "ocppcs_backend_errors",
            "Station calls answered with InternalError, and failed backend queries.",
            value=self.backend_errors,
        )
        copies = CounterMetricFamily(
            "ocppcs_record_copy_failures",
            "Copies of answered calls the record could not keep, by action.",
            labels=["action"],
        )
        for action, count in self._copy_failures.items():
            copies.add_metric([action], count)
        yield copies
        failures = getattr(self._decider, "failures", None)
        if failures is not None:
            decider = CounterMetricFamily(
                "ocppcs_decider_failures",
                "Station calls the decider could not answer (answered InternalError), by"
                " decider and reason.",
                labels=["decider", "reason"],
            )
            for reason, count in failures.items():
                decider.add_metric([self._decider.name, reason], count)
            yield decider
        dropped = getattr(self._backend, "frames_dropped", None)
        if dropped is not None:
            lost = CounterMetricFamily(
                "ocppcs_frame_log_dropped",
                "Frames the record's frame log could not keep, by reason (overflow: too many"
                " waiting; failed: their batch could not be written).",
                labels=["reason"],
            )
            for reason, count in dropped.items():
                lost.add_metric([reason], count)
            yield lost
        refused = CounterMetricFamily(
            "ocppcs_refused_connections",
            "Refused station connection attempts by reason.",
            labels=["reason"],
        )
        for reason, count in self._refused.items():
            refused.add_metric([reason], count)
        yield refused
        yield CounterMetricFamily(
            "ocppcs_invalid_frames",
            "Frames from stations that could not be parsed.",
            value=self.invalid_frames,
        )
        feed = self._log_feed
        if feed is not None:
            yield GaugeMetricFamily(
                "ocppcs_log_feed_subscribers",
                "Clients connected to the live log feed.",
                value=feed.subscriber_count,
            )
            yield CounterMetricFamily(
                "ocppcs_log_feed_dropped",
                "Log feed clients dropped for reading too slowly.",
                value=feed.dropped,
            )


class MetricsResource(Resource):
    """C{GET /metrics}: the Prometheus text exposition of one registry."""

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self._registry = registry

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode("ascii"))
        request.setHeader(b"Cache-Control", b"no-store")
        return generate_latest(self._registry)


def build_metrics(metrics: OcppMetrics) -> Resource:
    """The C{/metrics} resource for C{metrics}."""
    return MetricsResource(metrics.prometheus)
