# -*- test-case-name: tests.ocppj.test_session -*-
"""
One station's OCPP-J RPC session, independent of the WebSocket library.

Inbound (station -> central system):

    text frame --parse--> CALL --action known? schema ok?--> receiver.receive_call()
        --Deferred--> reply payload --response schema ok?--> CALLRESULT
    any OcppError on the way -> CALLERROR with its code; any other exception
    -> CALLERROR InternalError (and a logged traceback). Nothing a station
    sends raises out of L{OcppSession.text_received}.

Outbound (central system -> station): L{OcppSession.call} queues the command;
one CALL is in flight at a time, with a timeout on the injected clock. A
CALLRESULT is checked against the response schema; a CALLERROR, a timeout and
a disconnect fail the Deferred with their own L{ocppcs.callerrors} exception.
A station over its message rate gets L{OcppSession.refuse}.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail, maybeDeferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import FrameRecord
from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
)
from ocppcs.ocppj import frames
from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.frames import Call, CallError, CallResult, FrameError
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation
from ocppcs.v16.actions import CENTRAL_ACTIONS, KNOWN_ACTIONS, STATION_ACTIONS


class CallReceiver(Protocol):
    """What answers a station's CALLs (the central system's domain)."""

    def receive_call(self, session: OcppSession, call: Call) -> Deferred[dict[str, Any]]:
        """Answer C{call}; fire with the reply payload or fail with an L{OcppError}."""


FrameSink = Callable[[FrameRecord], None]


@dataclass(slots=True)
class _Outbound:
    action: str
    payload: dict[str, Any]
    timeout: float
    deferred: Deferred[dict[str, Any]]
    unique_id: str = ""
    timer: IDelayedCall | None = None


class OcppSession:
    """
    The RPC state of one connected station.

    @ivar identity: the station's identity.
    @ivar account: the account from the URL path, or C{""}.
    @ivar address: the peer address, for logs.
    @ivar accepted: whether the station may send calls other than
        BootNotification (C{None} until known); kept by the receiver.
    @ivar triggered: actions the central system asked for with TriggerMessage
        that the station may send once even when not Accepted.

    The session serves the central system by default: it answers the
    station's actions and sends the central system's. The emulator's
    stations use it the other way round, with C{inbound_actions} and
    C{outbound_actions} swapped.
    """

    _log = Logger()

    def __init__(
        self,
        identity: str,
        account: str,
        address: str,
        send: Callable[[bytes], None],
        clock: IReactorTime,
        receiver: CallReceiver,
        schemas: SchemaSet,
        frame_sink: FrameSink,
        default_timeout: float = 30.0,
        inbound_actions: frozenset[str] = STATION_ACTIONS,
        outbound_actions: frozenset[str] = CENTRAL_ACTIONS,
    ) -> None:
        self.identity = identity
        self.account = account
        self.address = address
        self.accepted: bool | None = None
        self.triggered: set[str] = set()
        self._send_bytes = send
        self._clock = clock
        self._receiver = receiver
        self._schemas = schemas
        self._frame_sink = frame_sink
        self._default_timeout = default_timeout
        self._inbound_actions = inbound_actions
        self._outbound_actions = outbound_actions
        self._queue: deque[_Outbound] = deque()
        self._in_flight: _Outbound | None = None
        self._closed_because: str | None = None

    # --- inbound ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the connection has gone."""
        return self._closed_because is not None

    def text_received(self, data: bytes) -> None:
        """
        Handle one text frame from the station. Never raises. Frames that
        arrive once the connection is closing are dropped unanswered: the
        station sends them again after reconnecting.
        """
        if self._closed_because is not None:
            self._log.debug("Dropped a frame from {identity}: closing", identity=self.identity)
            return
        try:
            frame = frames.parse(data)
        except FrameError as e:
            self._record("in", e.message_type or 0, e.unique_id, e.action, data)
            self._log.warn(
                "Malformed frame from {identity}: {error}",
                identity=self.identity,
                unique_id=e.unique_id,
                error=e.description,
            )
            if e.message_type in (frames.CALLRESULT, frames.CALLERROR):
                self._bad_reply(e.unique_id, e.description, e.details.get("path", "$"))
            else:
                self._send(CallError(e.unique_id, e.code.value, e.description, e.details), e.action)
            return
        try:
            if type(frame) is Call:
                self._record("in", frames.CALL, frame.unique_id, frame.action, data)
                self._call_received(frame)
            elif type(frame) is CallResult:
                self._result_received(frame, data)
            else:
                self._error_received(frame, data)  # type: ignore[arg-type]
        except Exception:
            self._log.failure("Bug handling a frame from {identity}", identity=self.identity)

    def refuse(self, data: bytes, description: str) -> None:
        """A text frame over a limit: a CALL gets a GenericError CALLERROR unread; replies go on."""
        try:
            frame: Any = frames.parse(data)
        except FrameError:
            frame = None
        if type(frame) is not Call:
            return self.text_received(data)
        self._record("in", frames.CALL, frame.unique_id, frame.action, data)
        self._answer_error(OcppError(description, code=ErrorCode.GenericError), frame)

    def message_received(self, payload: bytes, is_binary: bool) -> None:
        """Handle one WebSocket message (what C{onMessage} gets). Never raises."""
        if is_binary:
            self.binary_received()
        else:
            self.text_received(payload)

    def binary_received(self) -> None:
        """Handle a binary frame: OCPP-J uses text frames only."""
        if self._closed_because is not None:
            return
        self._record("in", 0, frames.UNKNOWN_ID, "", b"<binary frame>")
        self._send(
            CallError(frames.UNKNOWN_ID, "FormationViolation", "OCPP-J frames must be text frames"),
            "",
        )

    def _call_received(self, call: Call) -> None:
        action = call.action
        if action not in self._inbound_actions:
            if action in KNOWN_ACTIONS:
                error = OcppError(
                    f"Action '{action}' is not supported", code=ErrorCode.NotSupported
                )
            else:
                error = OcppError(f"Unknown action '{action}'", code=ErrorCode.NotImplemented)
            self._answer_error(error, call)
            return
        try:
            self._schemas.validate_request(action, call.payload)
        except SchemaViolation as e:
            self._answer_error(e, call)
            return
        d = maybeDeferred(self._receiver.receive_call, self, call)
        d.addCallbacks(
            self._answer_result, self._answer_failure, callbackArgs=(call,), errbackArgs=(call,)
        )

    def _answer_result(self, payload: dict[str, Any], call: Call) -> None:
        try:
            self._schemas.validate_response(call.action, payload)
        except SchemaViolation as e:
            self._log.error(
                "Reply to {action} for {identity} fails its schema: {error} ({path})",
                action=call.action,
                identity=self.identity,
                unique_id=call.unique_id,
                error=e.description,
                path=e.path,
            )
            self._answer_error(OcppError("Could not answer", code=ErrorCode.InternalError), call)
            return
        self._send(CallResult(call.unique_id, payload), call.action)

    def _answer_failure(self, failure: Failure, call: Call) -> None:
        error = failure.value
        if not isinstance(error, OcppError):
            self._log.failure(
                "Error answering {action} from {identity}",
                failure,
                action=call.action,
                identity=self.identity,
                unique_id=call.unique_id,
            )
            error = OcppError("Could not answer", code=ErrorCode.InternalError)
        self._answer_error(error, call)

    def _answer_error(self, error: OcppError, call: Call) -> None:
        self._send(
            CallError(call.unique_id, error.code.value, error.description, error.details),
            call.action,
        )

    # --- outbound --------------------------------------------------------------------------

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        """
        Send a central-system-initiated CALL, after the ones already queued.

        @return: a Deferred firing with the station's CALLRESULT payload, or
            failing with L{InvalidCommand}, L{StationCallError}, L{InvalidReply},
            L{CallTimeout} or L{StationDisconnected}. Cancelling it withdraws
            the command (or stops waiting for its reply).
        """
        if self._closed_because is not None:
            return fail(StationDisconnected(self.identity, action, self._closed_because))
        if action not in self._outbound_actions:
            return fail(InvalidCommand(self.identity, action, f"Unknown operation: '{action}'"))
        try:
            self._schemas.validate_request(action, payload)
        except SchemaViolation as e:
            return fail(InvalidCommand(self.identity, action, e.description, e.path))
        pending = _Outbound(action, payload, timeout or self._default_timeout, None)  # type: ignore[arg-type]
        pending.deferred = Deferred(lambda d: self._withdraw(pending))
        self._queue.append(pending)
        self._send_next()
        return pending.deferred

    queued = property(lambda self: len(self._queue), doc="Commands behind the one in flight.")

    def _send_next(self) -> None:
        if self._in_flight is not None or not self._queue or self._closed_because is not None:
            return
        pending = self._queue.popleft()
        pending.unique_id = str(uuid.uuid4())
        pending.timer = self._clock.callLater(pending.timeout, self._timed_out, pending)
        self._in_flight = pending
        self._send(Call(pending.unique_id, pending.action, pending.payload), pending.action)

    def _finish(self, pending: _Outbound) -> None:
        if pending.timer is not None and pending.timer.active():
            pending.timer.cancel()
        if self._in_flight is pending:
            self._in_flight = None
        self._send_next()

    def _withdraw(self, pending: _Outbound) -> None:
        if pending in self._queue:
            self._queue.remove(pending)
        else:
            self._finish(pending)

    def _timed_out(self, pending: _Outbound) -> None:
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

    def _take_in_flight(self, unique_id: str) -> _Outbound | None:
        pending = self._in_flight
        if pending is None or pending.unique_id != unique_id:
            self._log.warn(
                "{identity} replied to {unique_id}, which is not the call in flight",
                identity=self.identity,
                unique_id=unique_id,
            )
            return None
        self._finish(pending)
        return pending

    def _reply_for(self, unique_id: str, message_type: int, data: bytes) -> _Outbound | None:
        """Record a reply frame (with the action it answers), then take its call."""
        pending = self._in_flight
        answered = pending.action if pending is not None and pending.unique_id == unique_id else ""
        self._record("in", message_type, unique_id, answered, data)
        return self._take_in_flight(unique_id)

    def _result_received(self, result: CallResult, data: bytes) -> None:
        pending = self._reply_for(result.unique_id, frames.CALLRESULT, data)
        if pending is None:
            return
        try:
            self._schemas.validate_response(pending.action, result.payload)
        except SchemaViolation as e:
            pending.deferred.errback(
                InvalidReply(self.identity, pending.action, e.description, e.path)
            )
            return
        pending.deferred.callback(result.payload)

    def _error_received(self, error: CallError, data: bytes) -> None:
        pending = self._reply_for(error.unique_id, frames.CALLERROR, data)
        if pending is None:
            return
        pending.deferred.errback(
            StationCallError(
                self.identity,
                pending.action,
                error.error_code,
                error.error_description,
                error.error_details,
            )
        )

    def _bad_reply(self, unique_id: str, description: str, path: str = "$") -> None:
        pending = self._take_in_flight(unique_id)
        if pending is not None:
            pending.deferred.errback(InvalidReply(self.identity, pending.action, description, path))

    # --- lifecycle -------------------------------------------------------------------------

    def connection_lost(self, why: str = "connection closed") -> None:
        """Fail the call in flight and every queued call; refuse new ones."""
        if self._closed_because is not None:
            return
        self._closed_because = why
        pending = [self._in_flight] if self._in_flight is not None else []
        pending.extend(self._queue)
        self._in_flight = None
        self._queue.clear()
        for p in pending:
            if p.timer is not None and p.timer.active():
                p.timer.cancel()
            p.deferred.errback(StationDisconnected(self.identity, p.action, why))

    # --- output ----------------------------------------------------------------------------

    def _send(self, frame: frames.Frame, action: str) -> None:
        data = frames.serialize(frame)
        self._record("out", frame.message_type, frame.unique_id, action, data)
        if self._closed_because is None:
            self._send_bytes(data)

    def _record(
        self, direction: str, message_type: int, unique_id: str, action: str, data: bytes
    ) -> None:
        try:
            self._frame_sink(
                FrameRecord(
                    self._clock.seconds(),
                    self.identity,
                    direction,
                    message_type,
                    unique_id,
                    action,
                    data,
                )
            )
        except Exception:
            self._log.failure("Frame sink failed")
