"""
Tests for L{ocppcs.emulator.outbox}: one ordered queue in which transaction
messages are stored before they are sent, retried on timeouts and
CALLERRORs, and kept across disconnects, while transient messages are
dropped offline. Driven by a L{Clock} and a central system answered by hand.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.task import Clock

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    StationCallError,
    StationDisconnected,
)
from ocppcs.emulator.outbox import Message, Outbox
from tests.emulator.harness import MemoryStore

CP = "CP1"


class SlowStore(MemoryStore):
    """A L{MemoryStore} whose C{add} fires only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.adding: list[tuple[Deferred[int], int]] = []

    def add(
        self, identity: str, action: str, payload: dict[str, Any], local_tx: str
    ) -> Deferred[int]:
        row = super().add(identity, action, payload, local_tx).result
        d: Deferred[int] = Deferred()
        self.adding.append((d, row))
        return d

    def finish(self) -> None:
        """Fire every pending C{add}."""
        while self.adding:
            d, row = self.adding.pop(0)
            d.callback(row)


class Wire:
    """The central system: records each send and answers it when told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], Deferred[dict[str, Any]]]] = []

    def __call__(self, action: str, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        d: Deferred[dict[str, Any]] = Deferred()
        self.sent.append((action, payload, d))
        return d

    def actions(self) -> list[str]:
        """Every action sent, in order."""
        return [a for a, _, _ in self.sent]

    def answer(self, reply: dict[str, Any] | None = None) -> None:
        """Answer the last message sent."""
        self.sent[-1][2].callback(reply or {})

    def fail(self, error: Exception) -> None:
        """Fail the last message sent."""
        self.sent[-1][2].errback(error)


def make_outbox(
    store: MemoryStore | None = None, attempts: int = 3, interval: float = 60.0
) -> tuple[Outbox, Clock, MemoryStore, list[tuple[str, dict[str, Any]]]]:
    """
    An outbox sending every payload as it is.

    @return: the outbox, its clock, its store and the replies it reported.
    """
    clock = Clock()
    store = store or MemoryStore()
    answered: list[tuple[str, dict[str, Any]]] = []
    outbox = Outbox(
        CP,
        clock,
        store,  # type: ignore[arg-type]
        lambda m: m.payload,
        lambda m, reply: answered.append((m.action, reply)),
        lambda: attempts,
        lambda: interval,
    )
    return outbox, clock, store, answered


def timeout(action: str = "StopTransaction") -> CallTimeout:
    """A call that got no reply."""
    return CallTimeout(CP, action, 30)


def test_kept_message_retried_then_dropped() -> None:
    """
    A transaction message that times out is tried again after the retry
    interval times the tries so far (60 s, then 120 s; OCPP 1.6 4.10),
    TransactionMessageAttempts times in all, then dropped (and its row
    removed); the next message goes then.
    """
    outbox, clock, store, _ = make_outbox()
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("StopTransaction", {"n": 1}, "tx", kept=True)
    outbox.put("StatusNotification", {"n": 2})
    wire.fail(timeout())
    clock.advance(59)
    assert wire.actions() == ["StopTransaction"]
    clock.advance(1)
    wire.fail(StationCallError(CP, "StopTransaction", "InternalError", "", {}))
    clock.advance(119)
    assert wire.actions() == ["StopTransaction"] * 2
    clock.advance(1)
    assert wire.actions() == ["StopTransaction"] * 3
    assert len(store.rows) == 1
    wire.fail(timeout())
    assert wire.actions() == ["StopTransaction"] * 3 + ["StatusNotification"]
    assert store.rows == {} and len(outbox) == 1


def test_transient_failure_not_retried() -> None:
    """A transient message that fails is dropped at once."""
    outbox, clock, _, _ = make_outbox()
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("StatusNotification", {})
    outbox.put("MeterValues", {})
    wire.fail(timeout("StatusNotification"))
    assert wire.actions() == ["StatusNotification", "MeterValues"]
    clock.advance(600)
    assert len(wire.sent) == 2


def test_disconnect_keeps_message() -> None:
    """
    A transaction message whose connection closed stays first in the queue
    and is sent again once online; a lost connection is no failed attempt.
    """
    outbox, clock, store, answered = make_outbox(attempts=2)
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("StartTransaction", {}, "tx", kept=True)
    for _ in range(3):
        wire.fail(StationDisconnected(CP, "StartTransaction"))
        outbox.go_offline()
        outbox.go_online(wire)
    assert wire.actions() == ["StartTransaction"] * 4
    wire.fail(timeout("StartTransaction"))
    clock.advance(60)
    assert len(wire.sent) == 5
    wire.answer({"transactionId": 1})
    assert answered == [("StartTransaction", {"transactionId": 1})]
    assert store.rows == {} and len(outbox) == 0


def test_offline_drops_transient_only() -> None:
    """
    Offline, a transient message is not even queued, and going offline
    drops those queued; transaction messages stay, in order.
    """
    outbox, _, store, _ = make_outbox()
    assert outbox.put("StatusNotification", {}) is None
    assert outbox.put("MeterValues", {"n": 1}, "tx", kept=True) is not None
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("StatusNotification", {})
    outbox.put("MeterValues", {"n": 2}, "tx", kept=True)
    outbox.go_offline()
    assert [m.payload for m in outbox.kept()] == [{"n": 1}, {"n": 2}]
    assert len(outbox) == 2 and len(store.rows) == 2
    assert wire.sent[0][2].called is False
    outbox.go_online(wire)
    assert [p for _, p, _ in wire.sent] == [{"n": 1}, {"n": 1}]


def test_order_kept() -> None:
    """Transient and transaction messages go one at a time, in the order queued."""
    outbox, _, _, answered = make_outbox()
    wire = Wire()
    outbox.go_online(wire)
    names = ["StartTransaction", "StatusNotification", "MeterValues", "StopTransaction"]
    for name in names:
        outbox.put(name, {}, "tx" if name != "StatusNotification" else "", name != names[1])
    for i in range(len(names)):
        assert wire.actions() == names[: i + 1]
        wire.answer({"i": i})
    assert [a for a, _ in answered] == names


def test_sent_only_once_stored() -> None:
    """
    A transaction message goes out only once the store has it; what is
    queued behind waits; its row is removed once it is answered.
    """
    store = SlowStore()
    outbox, _, _, _ = make_outbox(store)
    wire = Wire()
    outbox.go_online(wire)
    message = outbox.put("StopTransaction", {}, "tx", kept=True)
    outbox.put("StatusNotification", {})
    assert wire.sent == [] and message is not None and message.row_id is None
    store.finish()
    assert wire.actions() == ["StopTransaction"] and message.row_id in store.rows
    wire.answer()
    assert store.rows == {}
    assert wire.actions() == ["StopTransaction", "StatusNotification"]


def test_store_failure_still_sends() -> None:
    """A transaction message the store could not keep is sent all the same."""
    store = SlowStore()
    outbox, _, _, _ = make_outbox(store)
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("MeterValues", {}, "tx", kept=True)
    d, _ = store.adding.pop()
    d.errback(OSError("disk full"))
    assert wire.actions() == ["MeterValues"]
    wire.answer()
    assert len(outbox) == 0


def test_reply_handled_before_row_removed() -> None:
    """
    The reply is handled (and what it changes saved) before the message's
    row is removed, so a crash in between resends it rather than losing it.
    """
    store = MemoryStore()
    rows_seen: list[int] = []
    outbox = Outbox(
        CP,
        Clock(),
        store,  # type: ignore[arg-type]
        lambda m: m.payload,
        lambda m, reply: rows_seen.append(len(store.rows)),
        lambda: 3,
        lambda: 60.0,
    )
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("StartTransaction", {}, "tx", kept=True)
    wire.answer({"transactionId": 5})
    assert rows_seen == [1] and store.rows == {}


def test_prepare_may_drop() -> None:
    """A message its prepare step refuses (no transactionId) is dropped with its row."""
    store = MemoryStore()
    sent: list[str] = []
    outbox = Outbox(
        CP,
        Clock(),
        store,  # type: ignore[arg-type]
        lambda m: None if m.action == "StopTransaction" else {**m.payload, "x": 1},
        lambda m, reply: None,
        lambda: 3,
        lambda: 60.0,
    )
    outbox.put("StopTransaction", {}, "tx", kept=True)
    outbox.put("MeterValues", {}, "tx", kept=True)
    outbox.go_online(lambda a, p: (sent.append(f"{a}{p}"), fail(timeout(a)))[1])
    assert sent[0] == "MeterValues{'x': 1}"
    assert [m.action for m in outbox.kept()] == ["MeterValues"]
    assert [r[1] for r in store.rows.values()] == ["MeterValues"]


def test_offline_cancels_retry() -> None:
    """Going offline cancels a pending retry; the next boot sends at once."""
    outbox, clock, _, _ = make_outbox()
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("MeterValues", {}, "tx", kept=True)
    wire.fail(timeout())
    outbox.go_offline()
    assert clock.getDelayedCalls() == []
    outbox.go_online(wire)
    assert len(wire.sent) == 2


def test_restored_first() -> None:
    """Messages restored from the store go first, and their rows are removed when answered."""
    store = MemoryStore()
    row = store.add(CP, "StopTransaction", {"old": True}, "tx").result
    outbox, _, _, _ = make_outbox(store)
    restored = Message("StopTransaction", {"old": True}, "tx")
    restored.row_id = row
    outbox.restore(restored)
    outbox.put("MeterValues", {}, "tx2", kept=True)
    wire = Wire()
    outbox.go_online(wire)
    assert wire.sent[0][1] == {"old": True}
    wire.answer()
    assert row not in store.rows and wire.actions() == ["StopTransaction", "MeterValues"]


def test_late_reply_of_old_connection_ignored() -> None:
    """
    A reply arriving for a call of a connection that is gone is ignored: the
    message is sent again on the new one and answered once.
    """
    outbox, _, _, answered = make_outbox()
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("StartTransaction", {}, "tx", kept=True)
    lost = wire.sent[-1][2]
    outbox.go_offline()
    outbox.go_online(wire)
    lost.callback({"transactionId": 1})
    assert answered == [] and len(wire.sent) == 2
    wire.answer({"transactionId": 2})
    assert answered == [("StartTransaction", {"transactionId": 2})]


def _capped(store: MemoryStore, limit: int) -> Outbox:
    outbox = make_outbox(store)[0]
    outbox._max_meter_values = limit
    return outbox


def test_offline_meter_values_are_capped_oldest_first() -> None:
    """
    Offline, at most max_meter_values transaction MeterValues are kept: the
    oldest go (with their rows), StartTransaction and StopTransaction never do.
    """
    store = MemoryStore()
    outbox = _capped(store, 3)
    outbox.put("StartTransaction", {"n": 0}, "tx", kept=True)
    for n in range(1, 6):
        outbox.put("MeterValues", {"n": n}, "tx", kept=True)
    outbox.put("StopTransaction", {"n": 6}, "tx", kept=True)
    kept = [(m.action, m.payload["n"]) for m in outbox.kept()]
    assert kept == [
        ("StartTransaction", 0),
        ("MeterValues", 3),
        ("MeterValues", 4),
        ("MeterValues", 5),
        ("StopTransaction", 6),
    ]
    assert sorted(p["n"] for _, _, p, _ in store.rows.values()) == [0, 3, 4, 5, 6]
    assert outbox.meter_values_dropped == 2


def test_meter_value_dropped_before_it_is_stored_leaves_no_row() -> None:
    """A MeterValues dropped while its row is still being written has the row removed after."""
    store = SlowStore()
    outbox = _capped(store, 1)
    outbox.put("MeterValues", {"n": 1}, "tx", kept=True)
    outbox.put("MeterValues", {"n": 2}, "tx", kept=True)
    store.finish()
    assert [m.payload["n"] for m in outbox.kept()] == [2]
    assert [p["n"] for _, _, p, _ in store.rows.values()] == [2]


def test_meter_values_in_flight_are_not_dropped() -> None:
    """The MeterValues being sent stays; the next oldest goes instead."""
    outbox, _, _, _ = make_outbox()
    outbox._max_meter_values = 2
    wire = Wire()
    outbox.go_online(wire)
    for n in range(1, 4):
        outbox.put("MeterValues", {"n": n}, "tx", kept=True)
    assert [p["n"] for _, p, _ in wire.sent] == [1]
    assert [m.payload["n"] for m in outbox.kept()] == [1, 3]


def test_invalid_message_dropped_at_once() -> None:
    """A message our own schema check refuses (InvalidCommand) is dropped, not retried."""
    outbox, clock, store, _ = make_outbox()
    wire = Wire()
    outbox.go_online(wire)
    outbox.put("MeterValues", {"n": 1}, "tx", kept=True)
    outbox.put("StopTransaction", {"n": 2}, "tx", kept=True)
    wire.fail(InvalidCommand(CP, "MeterValues", "[] is too short", "$.meterValue[0]"))
    assert wire.actions() == ["MeterValues", "StopTransaction"]
    assert [p["n"] for _, _, p, _ in store.rows.values()] == [2]
