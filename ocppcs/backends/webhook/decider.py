# -*- test-case-name: tests.backends.test_webhook_requests,tests.backends.test_webhook_failures -*-
"""
The webhook decider: each station-initiated call is POSTed to the operator's
receiver, whose answer is checked (L{ocppcs.backends.webhook.replies}) and
relayed. The receiver is the system of record: nothing is answered on its
behalf, so a receiver that fails gets the station an InternalError and the
station sends its transaction messages again, as OCPP requires.

The request body is C{{"identity", "uniqueId", "action", "payload",
"account", "ocppVersion", "transport", "stationVersion"}} (the last three and
the C{X-OCPP-Version} header are extras old receivers ignore: C{payload} is
always in the OCPP 1.6 JSON shape, C{ocppVersion}; C{transport} is C{json} or
C{soap} and C{stationVersion} what the station speaks, 1.6 or 1.5), with
the configured Authorization header.
At most C{max_concurrent} requests are in flight, over as many persistent
connections (keep-alive); the other calls wait in order, each station's at
most C{station_queue} (OCPP stations send one call at a time). The timeout
counts from the call's arrival, waiting included. HTTPS verifies the
receiver's certificate (service-identity).

The requests go through L{ocppcs.backends.webhook.http.HttpPool}, a lean
HTTP/1.1 client (treq and Twisted's L{Agent} cost the reactor about
250 µs per request, too much for the webhook's speed target), which tells
each call's L{_Pending} its answer by a plain method call. One Deferred per
call is what the central system gets; the answers read during a reactor
turn fire theirs at its end, so that the stations' replies leave together
(as the turn's requests do), and one timer serves every call's timeout.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ocppcs.backends.interface import CallContext, IDecider
from ocppcs.backends.webhook.headers import authorization, redact
from ocppcs.backends.webhook.http import Answer, HttpError, HttpPool, Waiter
from ocppcs.backends.webhook.replies import WebhookFailure, note_failure, read_reply
from ocppcs.config import WebhookConfig
from ocppcs.confighold import reading
from ocppcs.ocppj.errors import OcppError
from ocppcs.ocppj.schemas import SchemaSet

#: The OCPP version sent to the receiver.
OCPP_VERSION = "1.6"
#: The largest answer read from the receiver.
MAX_ANSWER = 1_048_576


@implementer(IDecider)
class WebhookDecider(Service):
    """
    The webhook decider.

    @param reactor: for the HTTP client and the timeouts.
    @param config: C{[webhook]}, or a reader of the current one (read for
        every call: a new URL, credentials or pipeline depth makes a new
        connection pool; the old one closes once its requests are answered).
    @param schemas: the 1.6 schemas the receiver's payloads are checked with.
    @param tls_policy: an L{IPolicyForHTTPS} (default: the system's trust roots).
    @ivar failures: how many calls failed, by reason (for C{/metrics}).
    """

    name = "webhook"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None
    keeps_record = False
    local_rules = False
    _log = Logger()

    def __init__(
        self,
        reactor: Any,
        config: WebhookConfig | Callable[[], WebhookConfig],
        schemas: SchemaSet | None = None,
        tls_policy: Any = None,
    ) -> None:
        self._reactor = reactor
        self._config = reading(config)
        self.config = self._config()
        self._schemas = schemas if schemas is not None else SchemaSet()
        self._tls_policy = tls_policy
        self._use(self.config)
        self._active = 0
        self._queue: deque[_Pending] = deque()
        self._waiting: dict[str, int] = {}
        # The calls not answered yet, oldest first, and the timer of the oldest.
        self._timed: dict[_Pending, None] = {}
        self._timer: Any = None
        # The answers of this reactor turn, relayed at its end.
        self._replies: list[tuple[Deferred[Any], dict[str, Any] | Failure]] = []
        self._relay_call: Any = None
        self.failures: dict[str, int] = {}
        self._client: HttpPool | None = None

    def _use(self, config: WebhookConfig) -> None:
        """Take C{config}'s URL, headers and bounds for the calls from now on."""
        self.config = config
        self._where = redact(config.url)
        headers: dict[bytes, bytes] = {
            b"Content-Type": b"application/json",
            b"Accept": b"application/json",
            b"User-Agent": b"ocppcs",
            b"X-OCPP-Version": OCPP_VERSION.encode(),
        }
        auth = authorization(config)
        if auth is not None:
            headers[b"Authorization"] = auth
        self._headers = headers
        self._max_active = config.max_concurrent
        self._timeout = config.timeout

    def _current(self) -> WebhookConfig:
        """The configuration in force: when it changed, a new pool for the new receiver."""
        config = self._config()
        if config is self.config:
            return config
        old = self.config
        self._use(config)
        self._log.info("Webhook: now {url}", url=self._where)
        pool = self._client
        if pool is not None and (
            (old.url, old.pipeline, authorization(old))
            != (config.url, config.pipeline, authorization(config))
        ):
            self._client = self._pool()
            # The requests already sent on the old pool are answered there.
            self._reactor.callLater(max(old.timeout, config.timeout), pool.close)
        return config

    def _pool(self) -> HttpPool:
        return HttpPool(
            self._reactor,
            self.config.url,
            self._headers,
            self._tls_policy,
            MAX_ANSWER,
            self.config.timeout,
            self.config.pipeline,
        )

    # --- IService ----------------------------------------------------------------------------

    def startService(self) -> None:
        """Make the persistent connection pool (connections open when needed)."""
        super().startService()
        self._current()
        self._client = self._pool()

    def stopService(self) -> Deferred[Any]:
        """Close the pool's connections."""
        super().stopService()
        pool, self._client = self._client, None
        if pool is None:
            return Deferred.fromCoroutine(_nothing())
        return pool.close()

    # --- IDecider ----------------------------------------------------------------------------

    def decide(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """
        POST the call to the receiver and relay its answer (L{IDecider.decide}).

        @return: a L{Deferred} firing with the receiver's CALLRESULT payload,
            or failing with its CALLERROR or a L{WebhookFailure}.
        """
        identity = ctx.identity
        config = self._current()
        waiting = self._waiting.get(identity, 0)
        if waiting >= config.station_queue:
            busy = WebhookFailure(
                "busy",
                "Webhook busy",
                f"{waiting} calls of the station already wait for the receiver",
            )
            return fail(self._failed(Failure(busy), ctx))
        if self._client is None:
            return fail(WebhookFailure("fetch", "Webhook fetch error", "the decider is stopped"))
        self._waiting[identity] = waiting + 1
        reactor = self._reactor
        pending = _Pending(self, ctx, payload, reactor.seconds() + self._timeout)
        self._timed[pending] = None
        if self._timer is None:
            self._timer = reactor.callLater(self._timeout, self._expire)
        if self._active < self._max_active:
            self._start(pending)
        else:
            self._queue.append(pending)
        return pending.deferred

    def _start(self, pending: _Pending) -> None:
        self._active += 1
        pending.posted = True
        ctx = pending.ctx
        try:
            client = self._client
            if client is None:
                raise WebhookFailure("fetch", "Webhook fetch error", "the decider is stopped")
            body = orjson.dumps(
                {
                    "identity": ctx.identity,
                    "uniqueId": ctx.unique_id,
                    "action": ctx.action,
                    "payload": pending.payload,
                    "account": ctx.account,
                    "ocppVersion": OCPP_VERSION,
                    "transport": ctx.transport,
                    "stationVersion": ctx.version,
                }
            )
            client.post(body, pending)
        except Exception:
            self._active -= 1  # not _slot_free: the loop starting the queued calls goes on
            self._no_answer(pending, Failure())

    def _slot_free(self) -> None:
        """A request finished (or was dropped): start the next calls waiting for a slot."""
        self._active -= 1
        queue = self._queue
        while queue and self._active < self._max_active:
            pending = queue.popleft()
            if pending.deadline is not None:  # else timed out while it waited
                self._start(pending)

    def _answered(self, pending: _Pending, answer: Answer) -> None:
        """The receiver answered C{pending}'s request."""
        if pending.deadline is None:  # timed out: its slot was freed then
            return
        self._slot_free()
        code = answer.code
        try:
            if not 200 <= code < 300:
                raise WebhookFailure("status", "Webhook error", f"HTTP status {code}")
            reply = read_reply(pending.ctx.action, answer.body, self._schemas)
        except Exception:
            self._fail(pending, Failure())
            return
        self._settle(pending)
        self._relay_soon(pending.deferred, reply)

    def _fetch_failed(self, pending: _Pending, failure: Failure) -> None:
        """C{pending}'s request got no answer: C{failure}."""
        if pending.deadline is None:  # timed out: its slot was freed then
            return
        self._slot_free()
        self._no_answer(pending, failure)

    def _no_answer(self, pending: _Pending, failure: Failure) -> None:
        if failure.check(HttpError):
            failure = Failure(
                WebhookFailure("parse", "Webhook response parse error", failure.getErrorMessage())
            )
        elif not failure.check(OcppError):
            failure = Failure(WebhookFailure("fetch", "Webhook fetch error", _describe(failure)))
        self._fail(pending, failure)

    def _expire(self) -> None:
        """
        The oldest call's time is up: every call whose time is up gets
        'Webhook timeout', its request dropped (or it is skipped in the
        queue). One timer serves all the calls: they have the same timeout,
        so they time out in the order they came (L{_timed}'s).
        """
        self._timer = None
        now = self._reactor.seconds()
        expired = []
        for pending in self._timed:
            deadline = pending.deadline
            assert deadline is not None
            if deadline > now:
                self._timer = self._reactor.callLater(deadline - now, self._expire)
                break
            expired.append(pending)
        timeout = self._timeout
        for pending in expired:
            if pending.deadline is None:  # answered meanwhile
                continue
            self._fail(pending, Failure(_timed_out(timeout)))
            if pending.posted:
                if self._client is not None:
                    self._client.cancel(pending)
                self._slot_free()

    def _settle(self, pending: _Pending) -> None:
        """C{pending} is answered (or failed): no longer timed or waiting."""
        pending.deadline = None
        del self._timed[pending]
        if not self._timed and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        identity = pending.ctx.identity
        left = self._waiting[identity] - 1
        if left:
            self._waiting[identity] = left
        else:
            del self._waiting[identity]

    def _fail(self, pending: _Pending, failure: Failure) -> None:
        self._settle(pending)
        self._relay_soon(pending.deferred, self._failed(failure, pending.ctx))

    def _relay_soon(self, d: Deferred[Any], result: dict[str, Any] | Failure) -> None:
        """Fire C{d} with C{result} at the end of this reactor turn (L{_relay})."""
        self._replies.append((d, result))
        if self._relay_call is None:
            self._relay_call = self._reactor.callLater(0, self._relay)

    def _relay(self) -> None:
        """
        Relay the answers of the turn: their replies then leave together,
        and the stations' side is woken once for them, not once per answer
        read (as L{HttpPool} writes the turn's requests together).
        """
        self._relay_call = None
        replies, self._replies = self._replies, []
        for d, result in replies:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)

    def _failed(self, failure: Failure, ctx: CallContext) -> Failure:
        """Log (and count) C{failure} of the call C{ctx}."""
        return note_failure(
            self._log, failure, ctx, self.failures, f"Webhook {self._where}", "Webhook"
        )


def _timed_out(timeout: float) -> WebhookFailure:
    return WebhookFailure("timeout", "Webhook timeout", f"no answer within {timeout:g} seconds")


def _describe(failure: Failure) -> str:
    error = failure.value
    reasons = getattr(error, "reasons", None)  # ResponseNeverReceived and friends
    if reasons:
        return "; ".join(r.getErrorMessage() for r in reasons)
    return f"{type(error).__name__}: {failure.getErrorMessage()}"


class _Pending(Waiter):
    """
    A call for the receiver: queued, then C{posted}; its C{deadline} (the
    reactor's time), C{None} once it is answered or failed.
    """

    __slots__ = ("ctx", "deadline", "decider", "deferred", "payload", "posted")

    def __init__(
        self, decider: WebhookDecider, ctx: CallContext, payload: dict[str, Any], deadline: float
    ) -> None:
        super().__init__()
        self.decider = decider
        self.ctx = ctx
        self.payload = payload
        self.deadline: float | None = deadline
        self.posted = False
        self.deferred: Deferred[Any] = Deferred()

    def answered(self, answer: Answer) -> None:
        """The receiver's answer (L{Waiter.answered})."""
        self.decider._answered(self, answer)

    def failed(self, reason: Failure) -> None:
        """No answer (L{Waiter.failed})."""
        self.decider._fetch_failed(self, reason)


async def _nothing() -> None:
    return None
