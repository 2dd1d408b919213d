"""
L{ocppcs.cluster.routing.Router} on a L{Clock}, its queries scripted: the
orderings a busy reactor produces, and the origin's deadline.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from ocppcs.callerrors import CallTimeout, StationDisconnected
from ocppcs.cluster import outcome
from ocppcs.cluster.routing import GRACE, Router
from ocppcs.stations import StationRegistry
from ocppcs.testing import MemoryBackend
from tests.ocppj.test_session import failure_of, result


class Queries:
    """The statements of one node, answered from what the test put here."""

    def __init__(self) -> None:
        self.sent: Deferred[tuple[int, str] | None] = Deferred()
        self.outcomes: dict[int, dict[str, Any]] = {}
        self.alive_nodes = {"A"}
        self.forgotten: list[int] = []

    def send(self, *args: Any) -> Deferred[tuple[int, str] | None]:
        return self.sent

    def collect(self, ids: list[int]) -> Deferred[list[tuple[int, dict[str, Any]]]]:
        return succeed([(i, self.outcomes.pop(i)) for i in ids if i in self.outcomes])

    def alive(self, nodes: list[str]) -> Deferred[set[str]]:
        return succeed(set(nodes) & self.alive_nodes)

    def forget(self, ids: list[int]) -> Deferred[None]:
        self.forgotten.extend(ids)
        return succeed(None)


def router() -> tuple[Router, Queries, Clock]:
    queries, clock = Queries(), Clock()
    registry = StationRegistry(MemoryBackend())
    return Router(queries, registry, clock, 30.0), queries, clock  # type: ignore[arg-type]


def test_outcome_announced_before_the_send_returned() -> None:
    """The reply's NOTIFY is handled before the send's own result: collected at once."""
    routing, queries, _ = router()
    d = Deferred.fromCoroutine(routing.call("CP", "Reset", {"type": "Soft"}, 5))
    queries.outcomes[7] = outcome.encode({"status": "Accepted"})
    result(Deferred.fromCoroutine(routing.replied(7)))
    queries.sent.callback((7, "A"))
    assert result(d) == {"status": "Accepted"}
    assert routing.waiting == 0


def test_deadline_and_dead_node() -> None:
    """No outcome within timeout + GRACE: 504; the node found dead first: 503."""
    routing, queries, clock = router()
    d = Deferred.fromCoroutine(routing.call("CP", "Reset", {"type": "Soft"}, 5))
    queries.sent.callback((8, "A"))
    clock.advance(5 + GRACE)
    failure_of(d).trap(CallTimeout)
    assert queries.forgotten == [8]

    queries.sent = Deferred()
    d = Deferred.fromCoroutine(routing.call("CP", "Reset", {"type": "Soft"}, 5))
    queries.sent.callback((9, "A"))
    result(Deferred.fromCoroutine(routing.check_pending()))
    assert not d.called
    queries.alive_nodes = set()
    result(Deferred.fromCoroutine(routing.check_pending()))
    error = failure_of(d).trap(StationDisconnected)
    assert error is StationDisconnected
    assert queries.forgotten == [8, 9]
    assert routing.waiting == 0
