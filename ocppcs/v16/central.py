# -*- test-case-name: tests.v16.test_central -*-
"""
The central system's answer to station-initiated calls (OCPP 1.6 JSON shape,
whatever the channel: OCPP-J, or OCPP-S 1.5/1.6 converted at its edge).

Schema validation has already happened (L{ocppcs.ocppj.session}); this layer
enforces the registration rule and passes the call to the decider:

    BootNotification           -> decider; the reply's status decides whether
                                  the connection counts as Accepted
    anything else, Accepted    -> decider
    a message asked for with TriggerMessage -> decider, once
    anything else, not (yet)   -> CALLERROR SecurityError

Whether a station on a new connection is Accepted is the record's to say.
Then the record keeps its copy of the call with the decider's answer: the
embedded decider writes it while deciding (C{keeps_record}); for any other
the copy is handed to the record once the decider answered, without the
station's reply waiting for it (the decider's system is the system of
record), and a copy that fails is logged and counted, never a CALLERROR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import CallContext, IDecider, IRecord
from ocppcs.channel import StationChannel
from ocppcs.ocppj.errors import InternalError, OcppError, SecurityError
from ocppcs.ocppj.frames import Call


class CentralSystem:
    """
    Answers station-initiated calls through one decider, keeping their copy
    in the record.

    @param decider: answers the business calls.
    @param record: says whether a station is Accepted; keeps the copies.
    @param clock: gives the time calls are received.
    @ivar on_copy_failed: called with the action of each copy that failed
        (for the metrics).
    """

    _log = Logger()

    def __init__(self, decider: IDecider, record: IRecord, clock: IReactorTime) -> None:
        self._decider = decider
        self._record = record
        self._clock = clock
        self._answering = 0
        self._drain_waiters: list[Deferred[None]] = []
        self.on_copy_failed: Callable[[str], None] = lambda action: None
        #: Called with the identity and payload of each SecurityEventNotification
        #: received (L{ocppcs.securityevents.SecurityWatch.event}).
        self.on_security_event: Callable[[str, dict[str, Any]], None] = lambda i, p: None
        self._copies = not decider.keeps_record
        #: Set by a graceful shutdown: why new calls are refused (the ones in progress finish).
        self.closing = ""

    @property
    def answering(self) -> int:
        """How many calls are being answered or copied (their work not yet done)."""
        return self._answering

    def drained(self) -> Deferred[None]:
        """
        A Deferred firing once no call is being answered or copied (at once
        if none is). At shutdown, the record is stopped only after this
        fired, so the work of every call received before is stored and answered.
        """
        d: Deferred[None] = Deferred()
        if self._answering:
            self._drain_waiters.append(d)
        else:
            d.callback(None)
        return d

    def receive_call(self, session: StationChannel, call: Call) -> Deferred[dict[str, Any]]:
        """Answer C{call} from C{session}'s station (see the module docstring)."""
        if self.closing:
            return fail(InternalError(f"{self.closing}; send it again after reconnecting"))
        self._answering += 1
        try:
            d = self._answer(session, call)
        except Exception:
            d = fail()
        d.addBoth(self._answered)
        return d

    def _answered(self, result: Any) -> Any:
        self._answering -= 1
        if not self._answering and self._drain_waiters:
            waiters, self._drain_waiters = self._drain_waiters, []
            for waiter in waiters:
                waiter.callback(None)
        return result

    def _decide(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred[Any]:
        d: Deferred[Any] = self._decider.decide(ctx, payload)
        if self._copies:
            d.addCallback(self._copy, ctx, payload)
        return d

    def _copy(self, reply: dict[str, Any], ctx: CallContext, payload: dict[str, Any]) -> Any:
        self._answering += 1
        try:
            d = self._record.record_call(ctx, payload, reply)
        except Exception:
            d = fail()
        d.addErrback(self._copy_failed, ctx)
        d.addBoth(self._answered)
        return reply

    def _copy_failed(self, failure: Failure, ctx: CallContext) -> None:
        self._log.error(
            "The record's copy of {action} {unique_id} from {identity} failed"
            " (the station was answered): {error}",
            action=ctx.action,
            unique_id=ctx.unique_id,
            identity=ctx.identity,
            error=failure.getErrorMessage(),
        )
        self.on_copy_failed(ctx.action)

    def _answer(self, session: StationChannel, call: Call) -> Deferred[dict[str, Any]]:
        ctx = CallContext(
            session.identity,
            session.account,
            call.unique_id,
            call.action,
            self._clock.seconds(),
            session.version,
            session.transport,
        )
        if call.action == "SecurityEventNotification":
            self.on_security_event(session.identity, call.payload)
        if call.action == "BootNotification":
            d: Deferred[dict[str, Any]] = self._decide(ctx, call.payload)
            d.addCallback(self._booted, session, call.unique_id)
            return d
        if session.accepted:
            return self._decide(ctx, call.payload)
        if call.action in session.triggered:
            session.triggered.discard(call.action)
            return self._decide(ctx, call.payload)
        if session.accepted is None:
            accepted: Deferred[bool] = self._record.is_accepted(session.identity)
            return accepted.addCallback(self._accepted_then_handle, session, ctx, call.payload)
        return fail(self._not_accepted(session, call))

    def _booted(
        self, reply: dict[str, Any], session: StationChannel, unique_id: str
    ) -> dict[str, Any]:
        session.accepted = reply.get("status") == "Accepted"
        self._log.info(
            "BootNotification from {identity}: {status}",
            identity=session.identity,
            unique_id=unique_id,
            status=reply.get("status"),
        )
        return reply

    def _accepted_then_handle(
        self, accepted: bool, session: StationChannel, ctx: CallContext, payload: dict[str, Any]
    ) -> Deferred[dict[str, Any]]:
        if session.accepted is None:
            session.accepted = accepted
        if not session.accepted:
            return fail(self._not_accepted(session, ctx))
        return self._decide(ctx, payload)

    def _not_accepted(self, session: StationChannel, call: Call | CallContext) -> OcppError:
        self._log.warn(
            "{identity} sent {action} before its BootNotification was Accepted",
            identity=session.identity,
            unique_id=call.unique_id,
            action=call.action,
        )
        return SecurityError(
            f"{call.action} refused: the station's BootNotification has not been Accepted"
        )
