# -*- test-case-name: tests.v16.test_central -*-
"""
The central system's answer to station-initiated OCPP 1.6 calls.

Schema validation has already happened (L{ocppcs.ocppj.session}); this layer
enforces the registration rule and passes the call to the backend:

    BootNotification           -> backend; the reply's status decides whether
                                  the connection counts as Accepted
    anything else, Accepted    -> backend
    a message asked for with TriggerMessage -> backend, once
    anything else, not (yet)   -> CALLERROR SecurityError
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ocppcs.backends.interface import CallContext, IBackend
from ocppcs.ocppj.errors import OcppError, SecurityError
from ocppcs.ocppj.frames import Call
from ocppcs.ocppj.session import OcppSession


class CentralSystem:
    """
    Answers station-initiated calls through one backend.

    @param backend: stores and decides.
    @param clock: gives the time calls are received.
    """

    _log = Logger()

    def __init__(self, backend: IBackend, clock: IReactorTime) -> None:
        self._backend = backend
        self._clock = clock
        self._answering = 0
        self._drain_waiters: list[Deferred[None]] = []

    @property
    def answering(self) -> int:
        """How many calls are being answered (their backend work not yet done)."""
        return self._answering

    def drained(self) -> Deferred[None]:
        """
        A Deferred firing once no call is being answered (at once if none
        is). At shutdown, the backend is stopped only after this fired, so
        the work of every call received before is stored and answered.
        """
        d: Deferred[None] = Deferred()
        if self._answering:
            self._drain_waiters.append(d)
        else:
            d.callback(None)
        return d

    def receive_call(self, session: OcppSession, call: Call) -> Deferred[dict[str, Any]]:
        """Answer C{call} from C{session}'s station (see the module docstring)."""
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

    def _answer(self, session: OcppSession, call: Call) -> Deferred[dict[str, Any]]:
        ctx = CallContext(
            session.identity,
            session.account,
            call.unique_id,
            call.action,
            self._clock.seconds(),
        )
        if call.action == "BootNotification":
            d: Deferred[dict[str, Any]] = self._backend.handle_call(ctx, call.payload)
            d.addCallback(self._booted, session)
            return d
        if session.accepted:
            return self._backend.handle_call(ctx, call.payload)
        if call.action in session.triggered:
            session.triggered.discard(call.action)
            return self._backend.handle_call(ctx, call.payload)
        if session.accepted is None:
            accepted: Deferred[bool] = self._backend.is_accepted(session.identity)
            return accepted.addCallback(self._accepted_then_handle, session, ctx, call.payload)
        return fail(self._not_accepted(session, call))

    def _booted(self, reply: dict[str, Any], session: OcppSession) -> dict[str, Any]:
        session.accepted = reply.get("status") == "Accepted"
        self._log.info(
            "BootNotification from {identity}: {status}",
            identity=session.identity,
            status=reply.get("status"),
        )
        return reply

    def _accepted_then_handle(
        self, accepted: bool, session: OcppSession, ctx: CallContext, payload: dict[str, Any]
    ) -> Deferred[dict[str, Any]]:
        if session.accepted is None:
            session.accepted = accepted
        if not session.accepted:
            return fail(self._not_accepted(session, ctx))
        return self._backend.handle_call(ctx, payload)

    def _not_accepted(self, session: OcppSession, call: Call | CallContext) -> OcppError:
        self._log.warn(
            "{identity} sent {action} before its BootNotification was Accepted",
            identity=session.identity,
            action=call.action,
        )
        return SecurityError(
            f"{call.action} refused: the station's BootNotification has not been Accepted"
        )
