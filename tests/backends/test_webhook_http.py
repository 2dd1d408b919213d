"""
The webhook's HTTP/1.1 client (L{ocppcs.backends.webhook.http.HttpPool})
against a real TCP server on a free port that answers canned bytes: the
body framings servers use, keep-alive reuse, and answers it must refuse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

from ocppcs.backends.webhook.http import Answer, HttpError, HttpPool, Waiter


class _Canned(Protocol):
    """Answers each complete request with the next canned answer."""

    def connectionMade(self) -> None:
        self.factory.connections += 1  # type: ignore[attr-defined]
        self.buffer = b""

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        factory: Any = self.factory
        factory.reads += 1
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            factory.requests.append(head + b"\r\n\r\n" + rest[:length])
            answer = factory.answers.pop(0)
            if answer == b"echo":
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (
                    length,
                    rest[:length],
                )
            for piece in answer if isinstance(answer, list) else [answer]:
                self.transport.write(piece)  # type: ignore[union-attr]
            if factory.close:
                self.transport.loseConnection()  # type: ignore[union-attr]
                return


@pytest_twisted.async_yield_fixture
async def server() -> AsyncIterator[Any]:
    """A canned server: set C{answers} (bytes, or lists of pieces), read C{requests}."""
    from twisted.internet import reactor

    factory: Any = Factory.forProtocol(_Canned)
    factory.answers, factory.requests, factory.connections, factory.close = [], [], 0, False
    factory.reads = 0
    factory.noisy = False
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
    factory.url = f"http://127.0.0.1:{port.getHost().port}/in?x=1"
    yield factory
    await port.stopListening()


def _pool(server: Any, **kwargs: Any) -> HttpPool:
    from twisted.internet import reactor

    return HttpPool(reactor, server.url, {b"X-Test": b"1"}, **kwargs)


class _Told(Waiter):
    """What the pool tells a waiter, as a Deferred (C{told})."""

    __slots__ = ("calls", "told")

    def __init__(self) -> None:
        super().__init__()
        self.told: Deferred[Answer] = Deferred()
        self.calls = 0

    def answered(self, answer: Answer) -> None:
        self.calls += 1
        self.told.callback(answer)

    def failed(self, reason: Failure) -> None:
        self.calls += 1
        self.told.errback(reason)


def _post(pool: HttpPool, body: bytes) -> Deferred[Answer]:
    waiter = _Told()
    pool.post(body, waiter)
    return waiter.told


@pytest_twisted.ensureDeferred
async def test_content_length_and_keep_alive(server: Any) -> None:
    """Two requests on one kept-alive connection; the request's line and headers."""
    server.answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        [b"HTTP/1.1 201 Created\r\nContent-Le", b"ngth: 3\r\n\r\nyo", b"!"],
    ]
    pool = _pool(server)
    try:
        first = await _post(pool, b'{"a":1}')
        second = await _post(pool, b"x")
    finally:
        await pool.close()
    assert (first.code, first.body, second.code, second.body) == (200, b"hi", 201, b"yo!")
    assert server.connections == 1
    host = server.url.split("/")[2]
    assert server.requests[0] == (
        b"POST /in?x=1 HTTP/1.1\r\nHost: " + host.encode() + b"\r\nX-Test: 1\r\n"
        b'Content-Length: 7\r\n\r\n{"a":1}'
    )


@pytest_twisted.ensureDeferred
async def test_chunked_answers_keep_the_connection(server: Any) -> None:
    """Chunked answers (the trailer in the same read or the next) leave the connection reusable."""
    server.answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n", b"\r\n"],
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd",
    ]
    pool = _pool(server)
    try:
        bodies = [(await _post(pool, b"%d" % n)).body for n in range(3)]
    finally:
        await pool.close()
    assert bodies == [b"ab", b"c", b"d"]
    assert server.connections == 1


@pytest_twisted.ensureDeferred
async def test_chunked_informational_and_close(server: Any) -> None:
    """A 100 Continue is skipped, a chunked body joined; Connection: close means a new one."""
    server.answers = [
        [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n4;ext=1\r\nabcd\r\n",
            b"2\r\nef\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ],
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    ]
    server.close = True
    pool = _pool(server)
    try:
        chunked = await _post(pool, b"1")
        until_close = await _post(pool, b"2")
    finally:
        await pool.close()
    assert (chunked.code, chunked.body) == (200, b"abcdef")
    assert until_close.body == b"until the end"
    assert server.connections == 2


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize(
    "answer",
    [
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
    ],
)
async def test_what_is_not_http(server: Any, answer: bytes) -> None:
    """A malformed or too large answer fails with HttpError (and a new connection follows)."""
    server.answers = [answer, b"HTTP/1.1 204 No Content\r\n\r\n"]
    pool = _pool(server, max_answer=100)
    try:
        with pytest.raises(HttpError):
            await _post(pool, b"1")
        after = await _post(pool, b"2")
    finally:
        await pool.close()
    assert (after.code, after.body) == (204, b"")
    assert server.connections == 2


@pytest_twisted.ensureDeferred
async def test_pipelined_requests_share_a_connection(server: Any) -> None:
    """With pipeline = 3, three requests leave together on one connection, answered in order."""
    from twisted.internet.defer import gatherResults

    server.answers = [b"echo"] * 4
    pool = _pool(server, pipeline=3)
    try:
        answers = await gatherResults([_post(pool, b"%d" % n) for n in range(4)])
    finally:
        await pool.close()
    assert [a.body for a in answers] == [b"0", b"1", b"2", b"3"]
    assert server.connections == 2  # three on the first, the fourth on a second one
    assert sorted(r[-1:] for r in server.requests) == [b"0", b"1", b"2", b"3"]
    assert server.reads == 2  # the three pipelined requests arrived in one read


@pytest_twisted.ensureDeferred
async def test_a_lost_pipelined_connection_fails_every_request_on_it(server: Any) -> None:
    """The server closes after the first answer: the others in flight on it fail."""
    server.answers = [b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", b"", b""]
    server.close = True
    pool = _pool(server, pipeline=3)
    try:
        posted = [_post(pool, b"%d" % n) for n in range(3)]
        assert (await posted[0]).body == b"A"
        for d in posted[1:]:
            with pytest.raises(Exception):  # noqa: B017 - the connection's loss, whatever its kind
                await d
    finally:
        await pool.close()


@pytest_twisted.ensureDeferred
async def test_the_requests_of_a_turn_leave_together_at_its_end(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Requests posted during a reactor turn are written once its events are
    handled, straight to the socket (the reactor is not asked to wait until
    it is writable), each connection's in one write, in order.
    """
    from twisted.internet import reactor

    from ocppcs.backends.webhook import http

    written: list[bytes] = []
    write_now = http.write_now

    def spy(transport: Any, data: bytes) -> None:
        written.append(data)
        write_now(transport, data)

    server.answers = [b"echo"] * 6
    pool = _pool(server, pipeline=2)
    try:
        first = [_post(pool, b"%d" % n) for n in range(3)]  # two on one connection, one on another
        assert [a.body for a in [await d for d in first]] == [b"0", b"1", b"2"]
        monkeypatch.setattr(http, "write_now", spy)
        later = [_post(pool, b"%d" % n) for n in range(3, 6)]
        assert written == []  # nothing during the turn
        assert not [c for c in pool._all if c.transport in reactor.getWriters()]  # type: ignore[attr-defined]
        assert [a.body for a in [await d for d in later]] == [b"3", b"4", b"5"]
    finally:
        await pool.close()
    assert server.connections == 2
    assert len(written) == 2 and sorted(w.count(b"POST ") for w in written) == [1, 2]
    assert b"".join(written).index(b"\r\n\r\n3") < b"".join(written).index(b"\r\n\r\n5")


@pytest_twisted.ensureDeferred
async def test_cancelled_requests_are_told_nothing(server: Any) -> None:
    """
    A cancelled request waiting for its connection is never sent; one sent
    has its connection aborted; neither waiter is told anything, and the
    pool goes on with a new connection.
    """
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    server.answers = [b"echo"] * 4
    pool = _pool(server)
    try:
        waiting, kept = _Told(), _Told()
        pool.post(b"never", waiting)
        pool.post(b"kept", kept)
        pool.cancel(waiting)  # both wait for the first connection
        assert (await kept.told).body == b"kept"
        sent = _Told()
        pool.post(b"sent", sent)
        pool.cancel(sent)
        await deferLater(reactor, 0.05, lambda: None)  # type: ignore[arg-type]
        after = await _post(pool, b"after")
    finally:
        await pool.close()
    assert (waiting.calls, sent.calls, after.body) == (0, 0, b"after")
    assert not any(r.endswith(b"never") for r in server.requests)
    assert server.connections == 2


@pytest_twisted.ensureDeferred
async def test_a_connection_made_after_close_is_dropped(server: Any) -> None:
    """A request still waiting for its connection at close() fails; nothing is sent."""
    server.answers = [b"echo"]
    pool = _pool(server)
    waiter = _Told()
    pool.post(b"late", waiter)
    await pool.close()
    with pytest.raises(Exception):  # noqa: B017 - the aborted connection's loss
        await waiter.told
    assert server.requests == []
