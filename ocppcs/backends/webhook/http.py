# -*- test-case-name: tests.backends.test_webhook_http -*-
"""
A lean HTTP/1.1 client for the webhook: POSTs to one URL over a bounded
pool of persistent connections (keep-alive), one request at a time per
connection. It is what the receiver is reached through on the hot path:
Twisted's L{Agent} (and treq above it) spend about 250 µs of the reactor's
time per request (IDNA-encoding the host, building L{Headers}, a dozen
chained Deferreds), which alone would cap the webhook backend near 2,000
calls/s; this client spends a small fraction of that.

Each request names its L{Waiter}, which is told the answer (or the
failure) by a plain method call from the parser: no L{Deferred} per
request (their chains had been a tenth of the reactor's time per call).
The requests of one reactor turn are written once its events are handled,
each connection's in one write, straight to the socket on a plain TCP
connection (L{write_now}): no wait for the socket to become writable (two
C{epoll_ctl} calls and a reactor event per request), and the receiver is
woken once for all of them rather than once per request.

It reads what HTTP/1.1 servers answer (L{ocppcs.backends.webhook.reader}):
a status line, headers, and a body delimited by C{Content-Length},
C{Transfer-Encoding: chunked} or the end of the connection (1xx answers
are skipped). An answer larger than C{max_answer} bytes is an error (and
its connection closed). HTTPS goes through the given L{IPolicyForHTTPS}
(by default Twisted's, which verifies the certificate against the
system's trust roots and the host name with service-identity).
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web.client import BrowserLikePolicyForHTTPS

from ocppcs.backends.webhook.reader import Answer, AnswerReader, HttpError
from ocppcs.transports.lean import write_now

__all__ = ["Answer", "HttpError", "HttpPool", "Waiter"]


class Waiter:
    """
    What waits for one request's answer (subclass it): told once, by
    L{answered} or L{failed}, unless L{HttpPool.cancel}led first.
    """

    __slots__ = ("_on",)

    def __init__(self) -> None:
        self._on: _Connection | _Connecting | None = None  # where it waits

    def answered(self, answer: Answer) -> None:
        """The server's answer came."""
        raise NotImplementedError

    def failed(self, reason: Failure) -> None:
        """No answer will come: C{reason} (an L{HttpError}, the connection's loss, ...)."""
        raise NotImplementedError


class _Connection(Protocol):
    """
    One persistent connection: requests out, their answers in, in order
    (more than one in flight only with pipelining).
    """

    def __init__(self, pool: HttpPool) -> None:
        self._pool = pool
        self._pending: deque[Waiter] = deque()
        self._reader = AnswerReader(pool.max_answer)
        self.lost = False
        self.free = False
        self.closed: Deferred[None] = Deferred()

    @property
    def outstanding(self) -> int:
        """How many requests wait for their answer."""
        return len(self._pending)

    def request(self, data: bytes, waiter: Waiter) -> None:
        """Send one request (its bytes, at the end of the turn); C{waiter} is told its answer."""
        self._pending.append(waiter)
        waiter._on = self
        self._pool._write_soon(self, data)

    def cancel(self, waiter: Waiter) -> None:
        """Forget C{waiter}: the connection is aborted (its other requests fail)."""
        self._pending.remove(waiter)
        self.lost = True
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def dataReceived(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        while reader.buffer and not self.lost:
            if not self._pending:
                self._fail(HttpError("data from the server without a request"))
                return
            try:
                answer = reader.next()
            except HttpError as e:
                self._fail(e)
                return
            if answer is None:
                return
            self._done(answer)

    def _done(self, answer: Answer) -> None:
        waiter = self._pending.popleft()
        waiter._on = None
        if not answer.keep:
            self.lost = True
            if self.transport is not None:
                self.transport.loseConnection()
        elif not self.lost:
            self._pool._idle(self)
        waiter.answered(answer)

    def _fail(self, error: BaseException) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]
        _tell_failed(self._take_pending(), Failure(error))

    def _take_pending(self) -> deque[Waiter]:
        pending, self._pending = self._pending, deque()
        for waiter in pending:
            waiter._on = None
        return pending

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = True
        self._pool._gone(self)
        pending = self._take_pending()
        last = self._reader.at_close() if pending else None
        if last is not None:
            pending.popleft().answered(last)
        _tell_failed(pending, reason)
        self.closed.callback(None)


def _tell_failed(waiters: deque[Waiter] | list[Waiter], reason: Failure) -> None:
    for waiter in waiters:
        waiter.failed(reason)


class _Connecting:
    """A connection being made, and the requests waiting for it (by waiter)."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        self.waiters: dict[Waiter, bytes] = {}

    def cancel(self, waiter: Waiter) -> None:
        """Forget C{waiter}'s request."""
        del self.waiters[waiter]


class HttpPool:
    """
    POSTs to C{url} over at most C{max_connections} persistent connections.

    @param reactor: connects and times.
    @param url: C{http://} or C{https://}.
    @param headers: the request headers every request has (name -> value),
        besides C{Host}, C{Content-Length} and C{Connection}.
    @param tls_policy: an L{IPolicyForHTTPS} for C{https://}.
    @param max_answer: the largest answer body read.
    @param connect_timeout: seconds to wait for a connection.
    @param pipeline: at most this many requests in flight on one connection
        (HTTP/1.1 pipelining when more than 1; the receiver must answer in
        order, as HTTP/1.1 requires). A connection lost fails every request
        in flight on it.
    """

    def __init__(
        self,
        reactor: Any,
        url: str,
        headers: dict[bytes, bytes],
        tls_policy: Any = None,
        max_answer: int = 1_048_576,
        connect_timeout: float = 30.0,
        pipeline: int = 1,
    ) -> None:
        self.pipeline = pipeline
        self._reactor = reactor
        self._outgoing: dict[_Connection, list[bytes]] = {}  # the requests of this turn
        self._flush_call: Any = None
        self._closed = False
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = host if ":" not in host else f"[{host}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        endpoint: Any = HostnameEndpoint(reactor, host.encode("idna"), port, connect_timeout)
        if secure:
            policy = tls_policy if tls_policy is not None else BrowserLikePolicyForHTTPS()
            endpoint = wrapClientTLS(policy.creatorForNetloc(host.encode("idna"), port), endpoint)
        self._endpoint = endpoint
        self._factory = Factory.forProtocol(lambda: _Connection(self))
        head = [b"POST " + path.encode("ascii") + b" HTTP/1.1", b"Host: " + netloc.encode("idna")]
        head.extend(name + b": " + value for name, value in headers.items())
        self._head = b"\r\n".join(head) + b"\r\nContent-Length: "
        self.max_answer = max_answer
        self._free: list[_Connection] = []
        self._all: set[_Connection] = set()
        self._connecting: list[_Connecting] = []

    def post(self, body: bytes, waiter: Waiter) -> None:
        """POST C{body}; C{waiter} is told the L{Answer}, or the failure."""
        data = b"%s%d\r\n\r\n%s" % (self._head, len(body), body)
        free = self._free
        while free:
            connection = free[-1]
            if connection.lost:
                free.pop()
                connection.free = False
                continue
            if connection.outstanding + 1 >= self.pipeline:
                free.pop()
                connection.free = False
            connection.request(data, waiter)
            return
        connecting = self._connecting[-1] if self._connecting else None
        if connecting is None or len(connecting.waiters) >= self.pipeline:
            connecting = _Connecting()
            self._connecting.append(connecting)
            d = self._endpoint.connect(self._factory)
            d.addCallbacks(self._connected, self._not_connected, (connecting,), None, (connecting,))
        connecting.waiters[waiter] = data
        waiter._on = connecting

    def _write_soon(self, connection: _Connection, data: bytes) -> None:
        queued = self._outgoing.get(connection)
        if queued is None:
            self._outgoing[connection] = [data]
            if self._flush_call is None:
                self._flush_call = self._reactor.callLater(0, self._flush)
        else:
            queued.append(data)

    def _flush(self) -> None:
        """Write the requests of the turn: each connection's in one write."""
        self._flush_call = None
        outgoing, self._outgoing = self._outgoing, {}
        for connection, queued in outgoing.items():
            transport = connection.transport
            if not connection.lost and transport is not None:
                write_now(transport, queued[0] if len(queued) == 1 else b"".join(queued))

    def cancel(self, waiter: Waiter) -> None:
        """
        Forget C{waiter}'s request: it is told nothing more. One still
        waiting for its connection is dropped; one sent aborts its
        connection (whose other requests, with pipelining, fail).
        """
        on, waiter._on = waiter._on, None
        if on is not None:
            on.cancel(waiter)

    def _connected(self, connection: _Connection, connecting: _Connecting) -> None:
        self._connecting.remove(connecting)
        if self._closed:  # made after close(): its requests fail with it
            for waiter in connecting.waiters:
                connection._pending.append(waiter)
                waiter._on = connection
            connection.lost = True
            if connection.transport is not None:
                connection.transport.abortConnection()  # type: ignore[attr-defined]
            return
        self._all.add(connection)
        for waiter, data in connecting.waiters.items():
            connection.request(data, waiter)
        if connection.outstanding < self.pipeline and not connection.lost:
            self._idle(connection)

    def _not_connected(self, failure: Failure, connecting: _Connecting) -> None:
        self._connecting.remove(connecting)
        waiters = list(connecting.waiters)
        for waiter in waiters:
            waiter._on = None
        _tell_failed(waiters, failure)

    def _idle(self, connection: _Connection) -> None:
        if not connection.free:
            connection.free = True
            self._free.append(connection)

    def _gone(self, connection: _Connection) -> None:
        self._all.discard(connection)
        if connection.free:
            connection.free = False
            self._free.remove(connection)

    def close(self) -> Deferred[Any]:
        """
        Close every connection (and those being made, once made); a Deferred
        firing once the open ones are closed.
        """
        self._closed = True
        if self._flush_call is not None:
            self._flush_call.cancel()
            self._flush_call = None
        self._outgoing = {}  # their waiters fail with their connections
        closing = []
        for connection in list(self._all):
            if connection.transport is not None:
                closing.append(connection.closed)
                connection.transport.loseConnection()
        for connection in self._free:
            connection.free = False
        self._free = []
        return DeferredList(closing) if closing else succeed(None)
