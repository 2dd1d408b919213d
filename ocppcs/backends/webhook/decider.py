# -*- test-case-name: tests.backends.test_webhook_requests,tests.backends.test_webhook_failures -*-
"""
The webhook decider: each station-initiated call is POSTed to the operator's
receiver, whose answer is checked (L{ocppcs.backends.webhook.replies}) and
relayed. The receiver is the system of record: nothing is answered on its
behalf, so a receiver that fails gets the station an InternalError and the
station sends its transaction messages again, as OCPP requires.

The request body is C{{"identity", "uniqueId", "action", "payload",
"account", "ocppVersion"}} (C{ocppVersion} and the C{X-OCPP-Version} header
are extras old receivers ignore), with the configured Authorization header.
At most C{max_concurrent} requests are in flight, over as many persistent
connections (keep-alive); the other calls wait in order, each station's at
most C{station_queue} (OCPP stations send one call at a time). The timeout
counts from the call's arrival, waiting included. HTTPS verifies the
receiver's certificate (service-identity).

The requests go through L{ocppcs.backends.webhook.http.HttpPool}, a lean
HTTP/1.1 client (treq and Twisted's L{Agent} cost the reactor about
250 µs per request, too much for the webhook's speed target).
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ocppcs.backends.interface import CallContext, IDecider
from ocppcs.backends.webhook.http import Answer, HttpError, HttpPool
from ocppcs.backends.webhook.replies import WebhookFailure, read_reply
from ocppcs.config import WebhookConfig
from ocppcs.confighold import reading
from ocppcs.ocppj.errors import OcppError
from ocppcs.ocppj.schemas import SchemaSet

#: The OCPP version sent to the receiver.
OCPP_VERSION = "1.6"
#: The largest answer read from the receiver.
MAX_ANSWER = 1_048_576


def redact(url: str) -> str:
    """C{url} without credentials or query, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def authorization(config: WebhookConfig) -> bytes | None:
    """The Authorization header value of C{config}, or C{None} (C{Off})."""
    if config.authorization == "Basic" and config.username:
        pair = f"{config.username}:{config.password}".encode()
        return b"Basic " + base64.b64encode(pair)
    if config.authorization == "Bearer" and config.token:
        return b"Bearer " + config.token.encode()
    return None


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
            self._reactor.callLater(config.timeout, pool.close)
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
            return fail(
                self._failed(
                    Failure(
                        WebhookFailure(
                            "busy",
                            "Webhook busy",
                            f"{waiting} calls of the station already wait for the receiver",
                        )
                    ),
                    ctx,
                )
            )
        if self._client is None:
            return fail(WebhookFailure("fetch", "Webhook fetch error", "the decider is stopped"))
        self._waiting[identity] = waiting + 1
        # No reference cycles on this path (addTimeout would make one per
        # call): the garbage collector's passes cost more than the call itself.
        pending = _Pending(ctx, payload)
        pending.timer = self._reactor.callLater(config.timeout, self._expire, pending)
        if self._active < self._max_active:
            self._start(pending)
        else:
            self._queue.append(pending)
        d = pending.deferred
        d.addBoth(self._done, identity)
        d.addErrback(self._failed, ctx)
        return d

    def _start(self, pending: _Pending) -> None:
        self._active += 1
        try:
            inner = self._post(pending.ctx, pending.payload)
        except Exception:
            inner = fail()
        pending.inner = inner
        inner.addBoth(self._finished, pending)

    def _finished(self, result: Any, pending: _Pending) -> None:
        self._active -= 1
        pending.inner = None
        queue = self._queue
        while queue and self._active < self._max_active:
            self._start(queue.popleft())
        timer, pending.timer = pending.timer, None
        if timer is None:  # timed out already
            return
        timer.cancel()
        d = pending.deferred
        if isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)

    def _expire(self, pending: _Pending) -> None:
        """The call timed out: out of the queue, or its request aborted."""
        pending.timer = None
        inner = pending.inner
        if inner is None:
            try:
                self._queue.remove(pending)
            except ValueError:
                pass
        else:
            inner.cancel()
        timeout = self.config.timeout
        pending.deferred.errback(
            WebhookFailure("timeout", "Webhook timeout", f"no answer within {timeout:g} seconds")
        )

    def _done(self, result: Any, identity: str) -> Any:
        left = self._waiting[identity] - 1
        if left:
            self._waiting[identity] = left
        else:
            del self._waiting[identity]
        return result

    def _post(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        client = self._client
        if client is None:
            return fail(WebhookFailure("fetch", "Webhook fetch error", "the decider is stopped"))
        body = orjson.dumps(
            {
                "identity": ctx.identity,
                "uniqueId": ctx.unique_id,
                "action": ctx.action,
                "payload": payload,
                "account": ctx.account,
                "ocppVersion": OCPP_VERSION,
            }
        )
        d: Deferred[Any] = client.post(body)
        d.addCallbacks(self._answered, self._fetch_failed, (ctx,))
        return d

    def _answered(self, answer: Answer, ctx: CallContext) -> dict[str, Any]:
        code = answer.code
        if not 200 <= code < 300:
            raise WebhookFailure("status", "Webhook error", f"HTTP status {code}")
        return read_reply(ctx.action, answer.body, self._schemas)

    def _fetch_failed(self, failure: Failure) -> Any:
        if failure.check(OcppError, CancelledError):
            return failure
        if failure.check(HttpError):
            raise WebhookFailure("parse", "Webhook response parse error", failure.getErrorMessage())
        raise WebhookFailure("fetch", "Webhook fetch error", _describe(failure))

    def _failed(self, failure: Failure, ctx: CallContext) -> Failure:
        error = failure.value
        if isinstance(error, WebhookFailure):
            self.failures[error.reason] = self.failures.get(error.reason, 0) + 1
            self._log.error(
                "Webhook {url} could not answer {action} {unique_id} of {identity}"
                " ({reason}): {detail}",
                url=self._where,
                action=ctx.action,
                unique_id=ctx.unique_id,
                identity=ctx.identity,
                reason=error.reason,
                detail=error.detail,
            )
        elif isinstance(error, OcppError):
            self._log.info(
                "Webhook answered {action} {unique_id} of {identity} with CALLERROR"
                " {code}: {description}",
                action=ctx.action,
                unique_id=ctx.unique_id,
                identity=ctx.identity,
                code=error.code.value,
                description=error.description,
            )
        return failure


def _describe(failure: Failure) -> str:
    error = failure.value
    reasons = getattr(error, "reasons", None)  # ResponseNeverReceived and friends
    if reasons:
        return "; ".join(r.getErrorMessage() for r in reasons)
    return f"{type(error).__name__}: {failure.getErrorMessage()}"


class _Pending:
    """A call for the receiver: queued, then posted (C{inner}), with its C{timer}."""

    __slots__ = ("ctx", "deferred", "inner", "payload", "timer")

    def __init__(self, ctx: CallContext, payload: dict[str, Any]) -> None:
        self.ctx = ctx
        self.payload = payload
        self.inner: Deferred[Any] | None = None
        self.timer: Any = None
        self.deferred: Deferred[Any] = Deferred()


async def _nothing() -> None:
    return None
