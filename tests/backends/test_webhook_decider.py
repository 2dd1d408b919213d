"""
The webhook decider's own bookkeeping, on a L{Clock} with a recording HTTP
pool in place of the real one (the wire is covered by
L{tests.backends.test_webhook_requests} and L{tests.backends.test_webhook_failures}):
one timer serving every call's timeout, the slots of C{max_concurrent}, and
the replies of one reactor turn relayed together at its end.
"""

from __future__ import annotations

from typing import Any

import orjson
from twisted.internet.task import Clock

from ocppcs.backends.interface import CallContext
from ocppcs.backends.webhook.decider import WebhookDecider
from ocppcs.backends.webhook.http import Answer, Waiter
from ocppcs.config import WebhookConfig

_HEARTBEAT = {"currentTime": "2026-12-03T10:00:00Z"}
_ANSWER = Answer(200, {}, orjson.dumps({"payload": _HEARTBEAT}))


class _Pool:
    """Records what the decider posts and cancels."""

    def __init__(self) -> None:
        self.waiters: list[Waiter] = []
        self.cancelled: list[Waiter] = []

    def post(self, body: bytes, waiter: Waiter) -> None:
        self.waiters.append(waiter)

    def cancel(self, waiter: Waiter) -> None:
        self.waiters.remove(waiter)
        self.cancelled.append(waiter)


def _decider(**config: Any) -> tuple[WebhookDecider, Clock, _Pool]:
    clock = Clock()
    decider = WebhookDecider(clock, WebhookConfig(url="http://127.0.0.1:1/hook", **config))
    pool = _Pool()
    decider._client = pool  # type: ignore[assignment]
    return decider, clock, pool


def _call(decider: WebhookDecider, n: int, into: list[Any]) -> None:
    d = decider.decide(CallContext(f"D-{n}", "", f"u{n}", "Heartbeat", 0.0), {})
    d.addCallbacks(into.append, lambda f: into.append(f.value.description))


def test_one_timer_times_every_call_out_in_order() -> None:
    """Calls at 0 s and 1 s time out at 5 s and 6 s; one answered meanwhile does not."""
    decider, clock, pool = _decider(timeout=5.0)
    got: dict[int, list[Any]] = {0: [], 1: [], 2: []}
    _call(decider, 0, got[0])
    clock.advance(1)
    _call(decider, 1, got[1])
    _call(decider, 2, got[2])
    assert len(clock.getDelayedCalls()) == 1  # one timer for the three
    posted = list(pool.waiters)
    posted[2].answered(_ANSWER)
    clock.advance(0)
    assert got[2] == [_HEARTBEAT]
    clock.advance(4)  # t = 5
    assert got[0] == ["Webhook timeout"] and got[1] == []
    clock.advance(1)  # t = 6
    assert got[1] == ["Webhook timeout"]
    assert pool.cancelled == posted[:2]
    assert clock.getDelayedCalls() == [] and decider.failures == {"timeout": 2}


def test_a_call_waiting_for_a_slot_times_out_and_is_never_posted() -> None:
    """With one slot, the second call waits; timed out, it is skipped when the slot frees."""
    decider, clock, pool = _decider(timeout=5.0, max_concurrent=1)
    first: list[Any] = []
    second: list[Any] = []
    third: list[Any] = []
    _call(decider, 0, first)
    clock.advance(1)
    _call(decider, 1, second)
    assert len(pool.waiters) == 1
    clock.advance(4.5)  # t = 5.5: the first timed out, the second got its slot
    assert first == ["Webhook timeout"] and len(pool.waiters) == 1
    clock.advance(1)  # t = 6.5: the second timed out too
    assert second == ["Webhook timeout"] and pool.waiters == []
    _call(decider, 2, third)
    pool.waiters[0].answered(_ANSWER)
    clock.advance(0)
    assert third == [_HEARTBEAT]


def test_the_replies_of_a_turn_are_relayed_together_at_its_end() -> None:
    """
    Answers read during one reactor turn are relayed to the stations once
    its events are handled, so that their replies leave together.
    """
    decider, clock, pool = _decider(timeout=5.0)
    got: list[Any] = []
    for n in range(3):
        _call(decider, n, got)
    for waiter in list(pool.waiters):
        waiter.answered(_ANSWER)
    assert got == []
    clock.advance(0)
    assert got == [_HEARTBEAT] * 3
    assert clock.getDelayedCalls() == []
