# -*- test-case-name: tests.backends.test_webhook_http -*-
"""
A lean HTTP/1.1 client for the webhook: POSTs to one URL over a bounded
pool of persistent connections (keep-alive), one request at a time per
connection. It is what the receiver is reached through on the hot path:
Twisted's L{Agent} (and treq above it) spend about 250 µs of the reactor's
time per request (IDNA-encoding the host, building L{Headers}, a dozen
chained Deferreds), which alone would cap the webhook backend near 2,000
calls/s; this client spends a small fraction of that.

It reads what HTTP/1.1 servers answer: a status line, headers, and a body
delimited by C{Content-Length}, C{Transfer-Encoding: chunked} or the end of
the connection (1xx answers are skipped). An answer larger than
C{max_answer} bytes is an error (and its connection closed). HTTPS goes
through the given L{IPolicyForHTTPS} (by default Twisted's, which verifies
the certificate against the system's trust roots and the host name with
service-identity).
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


class HttpError(Exception):
    """The server's answer could not be read as HTTP (or was too large)."""


class Answer:
    """
    A server's answer.

    @ivar code: the status code.
    @ivar headers: the header values by lower-case name (bytes).
    @ivar body: the body.
    """

    __slots__ = ("body", "code", "headers")

    def __init__(self, code: int, headers: dict[bytes, bytes], body: bytes) -> None:
        self.code = code
        self.headers = headers
        self.body = body


class _Connection(Protocol):
    """
    One persistent connection: requests out, their answers in, in order
    (more than one in flight only with pipelining).
    """

    def __init__(self, pool: HttpPool) -> None:
        self._pool = pool
        self._pending: deque[Deferred[Answer]] = deque()
        self._buffer = b""
        self._reset()
        self.lost = False
        self.free = False
        self.closed: Deferred[None] = Deferred()

    def _reset(self) -> None:
        self._head: tuple[int, dict[bytes, bytes], bool] | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._length: int | None = None  # bytes of body (or of the chunk) still to read
        self._chunked = False
        self._until_close = False

    @property
    def outstanding(self) -> int:
        """How many requests wait for their answer."""
        return len(self._pending)

    def request(self, data: bytes) -> Deferred[Answer]:
        """Send one request (its bytes); a Deferred firing with the answer."""
        d: Deferred[Answer] = Deferred(self._cancel)
        self._pending.append(d)
        assert self.transport is not None
        # Buffered: with pipelining, the requests of one reactor turn leave in one write.
        self.transport.write(data)
        return d

    def _cancel(self, d: Deferred[Answer]) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        while self._buffer and not self.lost:
            if not self._pending:
                self._fail(HttpError("data from the server without a request"))
                return
            try:
                done = self._parse()
            except HttpError as e:
                self._fail(e)
                return
            if not done:
                return
            self._done()

    def _parse(self) -> bool:
        while self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > 65536:
                    raise HttpError("the answer's head is too large")
                return False
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise HttpError(f"not an HTTP/1 status line: {lines[0][:80]!r}")
            code = int(parts[1])
            if 100 <= code < 200:
                continue
            headers: dict[bytes, bytes] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if not sep:
                    raise HttpError(f"a bad header line: {line[:80]!r}")
                headers[name.strip().lower()] = value.strip()
            connection = headers.get(b"connection", b"").lower()
            keep = (
                b"keep-alive" in connection
                if parts[0] == b"HTTP/1.0"
                else b"close" not in connection
            )
            self._head = (code, headers, keep)
            if code in (204, 304):
                self._length = 0
            elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                self._chunked = True
            elif b"content-length" in headers:
                try:
                    self._length = int(headers[b"content-length"])
                except ValueError:
                    raise HttpError("a bad Content-Length") from None
                if self._length < 0:
                    raise HttpError("a bad Content-Length")
                self._check(self._length)
            else:
                self._until_close = True
        if self._until_close:
            self._take(len(self._buffer))
            return False
        if not self._chunked:
            assert self._length is not None
            self._take(min(self._length, len(self._buffer)))
            return self._length == 0
        return self._parse_chunks()

    def _parse_chunks(self) -> bool:
        while True:
            if self._length is None:  # a chunk-size line
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    return False
                size = self._buffer[:end].split(b";", 1)[0].strip()
                try:
                    self._length = int(size, 16)
                except ValueError:
                    raise HttpError("a bad chunk size") from None
                self._buffer = self._buffer[end + 2 :]
                if self._length == 0:
                    self._length = -1  # the trailer follows
                else:
                    self._check(self._length)
            if self._length == -1:  # the trailer, up to an empty line
                if self._buffer.startswith(b"\r\n"):
                    self._buffer = self._buffer[2:]
                    return True
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return False
                self._buffer = self._buffer[end + 4 :]
                return True
            take = min(self._length, len(self._buffer))
            self._take(take)
            if self._length:
                return False
            if len(self._buffer) < 2:
                self._length = 0
                return False
            self._buffer = self._buffer[2:]  # the CRLF after the chunk
            self._length = None

    def _check(self, more: int) -> None:
        if self._size + more > self._pool.max_answer:
            raise HttpError(f"an answer of more than {self._pool.max_answer} bytes")

    def _take(self, count: int) -> None:
        if count:
            self._check(count)
            self._body.append(self._buffer[:count])
            self._buffer = self._buffer[count:]
            self._size += count
            if self._length is not None and self._length > 0:
                self._length -= count

    def _done(self) -> None:
        assert self._head is not None
        code, headers, keep = self._head
        answer = Answer(code, headers, b"".join(self._body))
        self._reset()
        d = self._pending.popleft()
        if not keep:
            self.lost = True
            if self.transport is not None:
                self.transport.loseConnection()
        elif not self.lost:
            self._pool._idle(self)
        if not d.called:
            d.callback(answer)

    def _fail(self, error: BaseException) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]
        pending, self._pending = self._pending, deque()
        for d in pending:
            if not d.called:
                d.errback(Failure(error))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = True
        self._pool._gone(self)
        pending, self._pending = self._pending, deque()
        if pending and self._until_close and self._head is not None:
            code, headers, _ = self._head
            d = pending.popleft()
            if not d.called:
                d.callback(Answer(code, headers, b"".join(self._body)))
        for d in pending:
            if not d.called:
                d.errback(reason)
        self.closed.callback(None)


class _Connecting:
    """A connection being made, and the requests waiting for it."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        self.waiters: list[tuple[bytes, Deferred[Answer]]] = []


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

    def post(self, body: bytes) -> Deferred[Answer]:
        """POST C{body}; a Deferred firing with the L{Answer}, or failing."""
        data = b"%s%d\r\n\r\n%s" % (self._head, len(body), body)
        free = self._free
        while free:
            connection = free[-1]
            if connection.lost:
                free.pop()
                connection.free = False
                continue
            d = connection.request(data)
            if connection.outstanding >= self.pipeline:
                free.pop()
                connection.free = False
            return d
        connecting = self._connecting[-1] if self._connecting else None
        if connecting is None or len(connecting.waiters) >= self.pipeline:
            connecting = _Connecting()
            self._connecting.append(connecting)
            d = self._endpoint.connect(self._factory)
            d.addCallbacks(self._connected, self._not_connected, (connecting,), None, (connecting,))
        result: Deferred[Answer] = Deferred(lambda _: None)
        connecting.waiters.append((data, result))
        return result

    def _connected(self, connection: _Connection, connecting: _Connecting) -> None:
        self._connecting.remove(connecting)
        self._all.add(connection)
        for data, result in connecting.waiters:
            if not result.called:
                connection.request(data).chainDeferred(result)
        if connection.outstanding < self.pipeline and not connection.lost:
            self._idle(connection)

    def _not_connected(self, failure: Failure, connecting: _Connecting) -> None:
        self._connecting.remove(connecting)
        for _, result in connecting.waiters:
            if not result.called:
                result.errback(failure)

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
        """Close every connection; a Deferred firing once they are closed."""
        closing = []
        for connection in list(self._all):
            if connection.transport is not None:
                closing.append(connection.closed)
                connection.transport.loseConnection()
        for connection in self._free:
            connection.free = False
        self._free = []
        return DeferredList(closing) if closing else succeed(None)
