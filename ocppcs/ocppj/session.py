# -*- test-case-name: tests.ocppj.test_session -*-
"""
One station's OCPP-J RPC session, independent of the WebSocket library.

Inbound (station -> central system):

    text frame --parse--> CALL --action known? schema ok?--> receiver.receive_call()
        --Deferred--> reply payload --response schema ok?--> CALLRESULT
    any OcppError on the way -> CALLERROR with its code; any other exception
    -> CALLERROR InternalError (and a logged traceback). Nothing a station
    sends raises out of L{OcppSession.text_received}.

Outbound (central system -> station): L{OcppSession.call} queues the command
in its L{CallQueue} (shared with OCPP-S): at most one CALL is in flight, the
rest wait in order. Each in-flight CALL has a timeout on the injected clock.
A CALLRESULT is checked against the response schema; a CALLERROR, a timeout
and a disconnect each fail the Deferred with their own L{ocppcs.callerrors}
exception.

The session is the L{ocppcs.channel.StationChannel} of a JSON station
(transport C{"json"}, version C{"1.6"}).
A station over its message rate gets L{OcppSession.refuse}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import FrameRecord
from ocppcs.callerrors import InvalidReply, StationCallError
from ocppcs.callqueue import CallQueue, Outbound
from ocppcs.channel import StationChannel
from ocppcs.ocppj import frames
from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.frames import Call, CallError, CallResult, FrameError
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation
from ocppcs.v16.actions import CENTRAL_CALLS, KNOWN_ACTIONS, STATION_CALLS


class CallReceiver(Protocol):
    """What answers a station's CALLs (the central system's domain)."""

    def receive_call(self, session: StationChannel, call: Call) -> Deferred[dict[str, Any]]:
        """Answer C{call}; fire with the reply payload or fail with an L{OcppError}."""


FrameSink = Callable[[FrameRecord], None]


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
    @param close: closes the connection (L{close}); by default nothing more
        than L{connection_lost}.

    The session serves the central system by default: it answers the
    station's actions and sends the central system's. The emulator's
    stations use it the other way round, with C{inbound_actions} and
    C{outbound_actions} swapped.
    """

    _log = Logger()
    version = "1.6"
    transport = "json"

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
        inbound_actions: frozenset[str] = STATION_CALLS,
        outbound_actions: frozenset[str] = CENTRAL_CALLS,
        close: Callable[[str], None] | None = None,
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
        self._inbound_actions = inbound_actions
        self._close_connection = close or (lambda reason: None)
        self._calls = CallQueue(
            identity, clock, self._send_call, schemas, outbound_actions, default_timeout
        )
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
        Send a central-system-initiated CALL, after the ones already queued
        (L{CallQueue.call}).

        @return: a Deferred firing with the station's CALLRESULT payload, or
            failing with L{InvalidCommand}, L{StationCallError}, L{InvalidReply},
            L{CallTimeout} or L{StationDisconnected}. Cancelling it withdraws
            the command (or stops waiting for its reply).
        """
        return self._calls.call(action, payload, timeout)

    @property
    def queued(self) -> int:
        """How many commands wait behind the one in flight."""
        return self._calls.queued

    def _send_call(self, pending: Outbound) -> None:
        self._send(Call(pending.unique_id, pending.action, pending.payload), pending.action)

    def _result_received(self, result: CallResult, data: bytes) -> None:
        calls = self._calls
        self._record(
            "in", frames.CALLRESULT, result.unique_id, calls.answering(result.unique_id), data
        )
        calls.result(result.unique_id, result.payload)

    def _error_received(self, error: CallError, data: bytes) -> None:
        calls = self._calls
        self._record(
            "in", frames.CALLERROR, error.unique_id, calls.answering(error.unique_id), data
        )
        pending = calls.take(error.unique_id)
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
        pending = self._calls.take(unique_id)
        if pending is not None:
            pending.deferred.errback(InvalidReply(self.identity, pending.action, description, path))

    # --- lifecycle -------------------------------------------------------------------------

    def connection_lost(self, why: str = "connection closed") -> None:
        """Fail the call in flight and every queued call; refuse new ones."""
        if self._closed_because is not None:
            return
        self._closed_because = why
        self._calls.close(why)

    def close(self, reason: str) -> None:
        """Fail the pending calls with C{reason}, then close the WebSocket connection."""
        self.connection_lost(reason)
        self._close_connection(reason)

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
