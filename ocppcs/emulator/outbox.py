# -*- test-case-name: tests.emulator.test_outbox -*-
"""
The ordered queue of everything an emulated station reports while it runs.

Transaction messages (StartTransaction, StopTransaction and MeterValues of a
transaction) are I{kept}: stored before they are sent, sent in order, and
dropped only once the central system has answered them (or after
C{TransactionMessageAttempts} failed tries). Everything else (StatusNotification,
MeterValues outside a transaction) is I{transient}: it is dropped when the
station is not connected and accepted, since the station reports its whole
state again after each boot. One queue for both keeps them in order.

    put --> [entries] --pump (online, nothing in flight, head stored)--> send
                ^                                                     |
                +--- retry later (timeout / CALLERROR, kept only) <---+
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.callerrors import InvalidCommand, StationDisconnected
from ocppcs.emulator.persist import EmulatorStore


@dataclass(slots=True)
class Message:
    """
    One queued message.

    @ivar local_tx: the station's id of the transaction it belongs to, or C{""}.
    @ivar kept: stored and retried until answered (transaction messages).
    @ivar row_id: its outbox row, once stored.
    @ivar gone: answered or dropped (its row is removed once it exists).
    """

    action: str
    payload: dict[str, Any]
    local_tx: str = ""
    kept: bool = False
    row_id: int | None = None
    attempts: int = 0
    gone: bool = False
    stored: Deferred | None = field(default=None, repr=False)


#: The most MeterValues of transactions kept while offline; older ones are dropped
#: first (Start/StopTransaction never are). 1,000 is 2.8 h of 10 s samples.
MAX_METER_VALUES = 1000

#: Fills in what a message needs at send time (the transactionId); None drops it.
Prepare = Callable[[Message], "dict[str, Any] | None"]
Send = Callable[[str, dict[str, Any]], Deferred]
Answered = Callable[[Message, dict[str, Any]], None]


class Outbox:
    """
    A station's ordered, partly durable message queue.

    @ivar online: whether messages may be sent now (connected and accepted).
    """

    _log = Logger()

    def __init__(
        self,
        identity: str,
        clock: IReactorTime,
        store: EmulatorStore,
        prepare: Prepare,
        answered: Answered,
        attempts: Callable[[], int],
        retry_interval: Callable[[], float],
        max_meter_values: int = MAX_METER_VALUES,
    ) -> None:
        """
        @param prepare: completes a message's payload just before it is sent.
        @param answered: told each reply, before the next message goes out.
        @param attempts: how often a kept message is tried (C{TransactionMessageAttempts}).
        @param retry_interval: seconds between tries (C{TransactionMessageRetryInterval}).
        @param max_meter_values: the most transaction MeterValues kept; the
            oldest go first when more arrive.
        """
        self.identity = identity
        self._clock = clock
        self._store = store
        self._prepare = prepare
        self._answered = answered
        self._attempts = attempts
        self._retry_interval = retry_interval
        self._entries: deque[Message] = deque()
        self._send: Send | None = None
        self._in_flight: Message | None = None
        self._sends = 0  # numbers each send, to tell a stale reply
        self._retry: Any = None
        self._max_meter_values = max_meter_values
        self.meter_values_dropped = 0

    @property
    def online(self) -> bool:
        """Whether the station may send now."""
        return self._send is not None

    def __len__(self) -> int:
        return len(self._entries)

    def kept(self) -> list[Message]:
        """The transaction messages not yet answered, in order."""
        return [m for m in self._entries if m.kept]

    def restore(self, message: Message) -> None:
        """Queue a kept message loaded from the store (it already has its row)."""
        message.kept = True
        self._entries.append(message)

    def put(
        self, action: str, payload: dict[str, Any], local_tx: str = "", kept: bool = False
    ) -> Message | None:
        """
        Queue a message. A transient one is dropped at once when offline.

        @return: the queued message, or C{None} when it was dropped.
        """
        if not kept and self._send is None:
            return None
        message = Message(action, payload, local_tx, kept)
        if kept and action == "MeterValues":
            self._make_room_for_meter_values()
        if kept:
            message.stored = self._store.add(self.identity, action, payload, local_tx)
            message.stored.addCallbacks(
                self._stored, self._store_failed, callbackArgs=(message,), errbackArgs=(message,)
            )
        self._entries.append(message)
        self.pump()
        return message

    def _make_room_for_meter_values(self) -> None:
        queued = [m for m in self._entries if m.kept and m.action == "MeterValues"]
        excess = len(queued) - self._max_meter_values + 1
        for message in queued:
            if excess <= 0:
                return
            if message is self._in_flight:
                continue
            if self.meter_values_dropped == 0:
                self._log.warn(
                    "{identity}: more than {limit} MeterValues queued; dropping the oldest",
                    identity=self.identity,
                    limit=self._max_meter_values,
                )
            self.meter_values_dropped += 1
            self._remove(message)
            excess -= 1

    def _stored(self, row_id: int, message: Message) -> None:
        message.row_id = row_id
        message.stored = None
        if message.gone:
            self._forget(message)  # dropped while it was being stored
            return
        self.pump()

    def _store_failed(self, failure: Failure, message: Message) -> None:
        self._log.failure(
            "{identity}: could not store {action}",
            failure,
            identity=self.identity,
            action=message.action,
        )
        message.stored = None
        self.pump()

    def go_online(self, send: Send) -> None:
        """The station is connected and accepted: send what is queued."""
        self._send = send
        self.pump()

    def go_offline(self) -> None:
        """
        The station lost its connection: keep only the transaction messages.
        A message in flight is sent again after the next boot, whatever
        becomes of the old connection's call.
        """
        self._send = None
        flight, self._in_flight = self._in_flight, None
        if flight is not None:
            flight.attempts -= 1  # a lost connection is not a failed attempt
        self._cancel_retry()
        self._entries = deque(m for m in self._entries if m.kept)

    def pump(self) -> None:
        """Send the next message if the station may."""
        if (
            self._send is None
            or self._in_flight is not None
            or self._retry is not None
            or not self._entries
        ):
            return
        head = self._entries[0]
        if head.stored is not None:
            return  # sent once it is stored
        payload = self._prepare(head)
        if payload is None:
            self._drop(head, "its transaction has no transactionId")
            self.pump()
            return
        self._in_flight = head
        self._sends += 1
        head.attempts += 1
        d = self._send(head.action, payload)
        d.addCallbacks(
            self._sent,
            self._failed,
            callbackArgs=(head, self._sends),
            errbackArgs=(head, self._sends),
        )

    def _current(self, message: Message, send: int) -> bool:
        """Whether this send is the one in flight (not one of a connection since gone)."""
        if message is not self._in_flight or send != self._sends:
            return False
        self._in_flight = None
        return True

    def _sent(self, reply: dict[str, Any], message: Message, send: int) -> None:
        if not self._current(message, send):
            return  # the connection it went out on is gone; it is sent again
        self._unqueue(message)
        try:
            self._answered(message, reply)
        except Exception:
            self._log.failure(
                "{identity}: bug handling the reply to {action}",
                identity=self.identity,
                action=message.action,
            )
        self._forget(message)  # after the answer is handled (and its effects saved)
        self.pump()

    def _failed(self, failure: Failure, message: Message, send: int) -> None:
        if not self._current(message, send):
            return
        if failure.check(InvalidCommand):
            # Our own message failed its schema: sending it again won't help.
            self._log.error(
                "{identity}: {action} fails its schema ({error}); dropped",
                identity=self.identity,
                action=message.action,
                error=failure.getErrorMessage(),
            )
            self._remove(message)
            self.pump()
            return
        if failure.check(StationDisconnected):
            message.attempts -= 1  # not the central system's failure
            return  # sent again after the next boot
        error = failure.getErrorMessage()
        if not message.kept or message.attempts >= max(self._attempts(), 1):
            self._drop(message, error)
            self.pump()
            return
        # OCPP 1.6 4.10: wait TransactionMessageRetryInterval times the tries so far.
        delay = self._retry_interval() * message.attempts
        self._log.warn(
            "{identity}: {action} failed ({error}); try {attempt} of {attempts} in {delay}s",
            identity=self.identity,
            action=message.action,
            error=error,
            attempt=message.attempts + 1,
            attempts=self._attempts(),
            delay=delay,
        )
        self._retry = self._clock.callLater(delay, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        self.pump()

    def _cancel_retry(self) -> None:
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None

    def _drop(self, message: Message, why: str) -> None:
        if message.kept:
            self._log.warn(
                "{identity}: dropping {action}: {why}",
                identity=self.identity,
                action=message.action,
                why=why,
            )
        self._remove(message)

    def _remove(self, message: Message) -> None:
        message.gone = True
        self._unqueue(message)
        self._forget(message)

    def _unqueue(self, message: Message) -> None:
        try:
            self._entries.remove(message)
        except ValueError:
            pass

    def _forget(self, message: Message) -> None:
        if message.kept and message.row_id is not None:
            d = self._store.remove(message.row_id)
            d.addErrback(self._remove_failed, message)

    def _remove_failed(self, failure: Failure, message: Message) -> None:
        self._log.failure(
            "{identity}: could not remove {action} from the store",
            failure,
            identity=self.identity,
            action=message.action,
        )
