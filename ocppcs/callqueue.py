# -*- test-case-name: tests.ocppj.test_session,tests.soap.test_station -*-
"""
The central system's commands to one station: one in flight, the rest in
order, each with a timeout. Transport-neutral: OCPP-J sends a CALL frame and
matches the CALLRESULT by uniqueId; OCPP-S posts a request and gets the reply
as the HTTP response. Both hand the reply back with L{CallQueue.result} (or
L{CallQueue.take} for a failure).

    call()  --checked: known action, request schema-->  queued
    queued  --nothing in flight-->  in flight: send(pending), timer started
    result(unique_id, payload)  --response schema-->  the Deferred fires
    timeout / cancel / close    --> CallTimeout / withdrawn / StationDisconnected
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from ocppcs.callerrors import CallTimeout, InvalidCommand, InvalidReply, StationDisconnected
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation


@dataclass(slots=True)
class Outbound:
    """
    One command: queued, then in flight.

    @ivar unique_id: set when it is sent (a UUID: the OCPP-J uniqueId, or
        the SOAP C{MessageID} as C{urn:uuid:...}).
    @ivar sending: what the transport's C{send} returned, if anything (the
        HTTP request of a SOAP call); cancelled when the call times out, is
        withdrawn or the channel closes.
    """

    action: str
    payload: dict[str, Any]
    timeout: float
    deferred: Deferred[dict[str, Any]]
    unique_id: str = ""
    timer: IDelayedCall | None = None
    sending: Deferred[Any] | None = None


#: Puts an outbound command on the wire; may return a Deferred to cancel on timeout.
Sender = Callable[[Outbound], "Deferred[Any] | None"]


class CallQueue:
    """
    The outbound commands of one station.

    @param identity: the station (for errors and logs).
    @param clock: the timeouts' clock.
    @param send: puts a command on the wire once it is its turn.
    @param schemas: checks requests and replies (1.6 JSON shape).
    @param actions: the actions that may be sent.
    @param default_timeout: seconds to wait for a reply when the caller gives none.
    """

    _log = Logger()

    def __init__(
        self,
        identity: str,
        clock: IReactorTime,
        send: Sender,
        schemas: SchemaSet,
        actions: frozenset[str],
        default_timeout: float = 30.0,
    ) -> None:
        self.identity = identity
        self._clock = clock
        self._send = send
        self._schemas = schemas
        self._actions = actions
        self._default_timeout = default_timeout
        self._queue: deque[Outbound] = deque()
        self.in_flight: Outbound | None = None
        self.closed_because: str | None = None

    @property
    def queued(self) -> int:
        """How many commands wait behind the one in flight."""
        return len(self._queue)

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        """
        Queue a command after the ones already queued.

        @return: a Deferred firing with the reply payload, or failing with
            L{InvalidCommand}, L{InvalidReply}, L{CallTimeout},
            L{StationDisconnected} (or what the transport fails it with, e.g.
            L{ocppcs.callerrors.StationCallError}). Cancelling it withdraws
            the command (or stops waiting for its reply).
        """
        if self.closed_because is not None:
            return fail(StationDisconnected(self.identity, action, self.closed_because))
        if action not in self._actions:
            return fail(InvalidCommand(self.identity, action, f"Unknown operation: '{action}'"))
        try:
            self._schemas.validate_request(action, payload)
        except SchemaViolation as e:
            return fail(InvalidCommand(self.identity, action, e.description, e.path))
        pending = Outbound(action, payload, timeout or self._default_timeout, None)  # type: ignore[arg-type]
        pending.deferred = Deferred(lambda d: self._withdraw(pending))
        self._queue.append(pending)
        self._send_next()
        return pending.deferred

    def _send_next(self) -> None:
        if self.in_flight is not None or not self._queue or self.closed_because is not None:
            return
        pending = self._queue.popleft()
        pending.unique_id = str(uuid.uuid4())
        pending.timer = self._clock.callLater(pending.timeout, self._timed_out, pending)
        self.in_flight = pending
        pending.sending = self._send(pending)

    def _finish(self, pending: Outbound) -> None:
        if pending.timer is not None and pending.timer.active():
            pending.timer.cancel()
        if self.in_flight is pending:
            self.in_flight = None
        self._stop_sending(pending)
        self._send_next()

    @staticmethod
    def _stop_sending(pending: Outbound) -> None:
        sending, pending.sending = pending.sending, None
        if sending is not None and not sending.called:
            sending.cancel()

    def _withdraw(self, pending: Outbound) -> None:
        if pending in self._queue:
            self._queue.remove(pending)
        else:
            self._finish(pending)

    def _timed_out(self, pending: Outbound) -> None:
        self._log.warn(
            "{identity} did not reply to {action} ({unique_id}) within {timeout}s",
            identity=self.identity,
            action=pending.action,
            unique_id=pending.unique_id,
            timeout=pending.timeout,
        )
        pending.timer = None
        self._finish(pending)
        pending.deferred.errback(CallTimeout(self.identity, pending.action, pending.timeout))

    def answering(self, unique_id: str) -> str:
        """The action of the call in flight if C{unique_id} is its id, else C{""}."""
        pending = self.in_flight
        return pending.action if pending is not None and pending.unique_id == unique_id else ""

    def take(self, unique_id: str) -> Outbound | None:
        """
        The reply to C{unique_id} has come: end the call in flight (the next
        one is sent) and return it for its Deferred to be fired, or C{None}
        (logged) when C{unique_id} is not the call in flight (it timed out,
        was withdrawn, or never was).
        """
        pending = self.in_flight
        if pending is None or pending.unique_id != unique_id:
            self._log.warn(
                "{identity} replied to {unique_id}, which is not the call in flight",
                identity=self.identity,
                unique_id=unique_id,
            )
            return None
        pending.sending = None  # it has answered: nothing to cancel
        self._finish(pending)
        return pending

    def result(self, unique_id: str, payload: dict[str, Any]) -> None:
        """The reply payload to C{unique_id}: checked against its schema, then delivered."""
        pending = self.take(unique_id)
        if pending is None:
            return
        try:
            self._schemas.validate_response(pending.action, payload)
        except SchemaViolation as e:
            pending.deferred.errback(
                InvalidReply(self.identity, pending.action, e.description, e.path)
            )
            return
        pending.deferred.callback(payload)

    def close(self, why: str) -> None:
        """Fail the call in flight and every queued call; refuse new ones."""
        if self.closed_because is not None:
            return
        self.closed_because = why
        pending = [self.in_flight] if self.in_flight is not None else []
        pending.extend(self._queue)
        self.in_flight = None
        self._queue.clear()
        for p in pending:
            if p.timer is not None and p.timer.active():
                p.timer.cancel()
            self._stop_sending(p)
            p.deferred.errback(StationDisconnected(self.identity, p.action, why))
