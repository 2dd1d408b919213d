# -*- test-case-name: tests.backends.test_webhook_http -*-
"""
Reading HTTP/1.1 answers from the bytes of one connection, in order
(L{ocppcs.backends.webhook.http}'s parser): a status line, headers, and a
body delimited by C{Content-Length}, C{Transfer-Encoding: chunked} or the
end of the connection (1xx answers are skipped). An answer larger than
C{max_answer} bytes is an L{HttpError}.

The common case, a whole answer with a C{Content-Length} in what was
received, is read in one pass over the head and one slice of the body.
"""

from __future__ import annotations


class HttpError(Exception):
    """The server's answer could not be read as HTTP (or was too large)."""


class Answer:
    """
    A server's answer.

    @ivar code: the status code.
    @ivar headers: the header values by lower-case name (bytes).
    @ivar body: the body.
    @ivar keep: whether the connection stays open after it.
    """

    __slots__ = ("body", "code", "headers", "keep")

    def __init__(
        self, code: int, headers: dict[bytes, bytes], body: bytes, keep: bool = True
    ) -> None:
        self.code = code
        self.headers = headers
        self.body = body
        self.keep = keep


class AnswerReader:
    """
    The answers in the bytes L{feed} was given, one by one (L{next}).

    @ivar buffer: what was received and not read yet.
    """

    def __init__(self, max_answer: int) -> None:
        self.max_answer = max_answer
        self.buffer = b""
        self._reset()

    def _reset(self) -> None:
        self._head: tuple[int, dict[bytes, bytes], bool] | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._length: int | None = None  # bytes of body (or of the chunk) still to read
        self._chunked = False
        self._until_close = False

    def feed(self, data: bytes) -> None:
        """Add what was received."""
        self.buffer = self.buffer + data if self.buffer else data

    def next(self) -> Answer | None:
        """
        The next whole answer, or C{None} until more is received.

        @raise HttpError: for what is not HTTP/1, or too large.
        """
        if self._head is None and not self._read_head():
            return None
        if self._until_close:
            self._take(len(self.buffer))
            return None
        if self._chunked:
            if not self._read_chunks():
                return None
        else:
            length = self._length
            assert length is not None
            if length:
                self._take(min(length, len(self.buffer)))
                if self._length:
                    return None
        head = self._head
        assert head is not None
        body = self._body
        self._reset()
        return Answer(head[0], head[1], body[0] if len(body) == 1 else b"".join(body), head[2])

    def at_close(self) -> Answer | None:
        """At the connection's end: the answer it delimited, if one was being read."""
        if self._until_close and self._head is not None:
            code, headers, _ = self._head
            return Answer(code, headers, b"".join(self._body), False)
        return None

    def _read_head(self) -> bool:
        while True:
            buffer = self.buffer
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > 65536:
                    raise HttpError("the answer's head is too large")
                return False
            status, _, fields = buffer[:end].partition(b"\r\n")
            self.buffer = buffer[end + 4 :]
            parts = status.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise HttpError(f"not an HTTP/1 status line: {status[:80]!r}")
            code = int(parts[1])
            if 100 <= code < 200:
                continue
            headers: dict[bytes, bytes] = {}
            if fields:
                for line in fields.split(b"\r\n"):
                    name, sep, value = line.partition(b":")
                    if not sep:
                        raise HttpError(f"a bad header line: {line[:80]!r}")
                    headers[name.strip().lower()] = value.strip()
            connection = headers.get(b"connection")
            if connection is None:
                keep = parts[0] != b"HTTP/1.0"
            elif parts[0] == b"HTTP/1.0":
                keep = b"keep-alive" in connection.lower()
            else:
                keep = b"close" not in connection.lower()
            self._head = (code, headers, keep)
            length = headers.get(b"content-length")
            if code == 204 or code == 304:
                self._length = 0
            elif b"transfer-encoding" in headers and (
                b"chunked" in headers[b"transfer-encoding"].lower()
            ):
                self._chunked = True
            elif length is not None:
                if not length.isdigit():
                    raise HttpError("a bad Content-Length")
                self._length = int(length)
                self._check(self._length)
            else:
                self._until_close = True
            return True

    def _read_chunks(self) -> bool:
        while True:
            if self._length is None:  # a chunk-size line
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return False
                size = self.buffer[:end].split(b";", 1)[0].strip()
                try:
                    self._length = int(size, 16)
                except ValueError:
                    raise HttpError("a bad chunk size") from None
                self.buffer = self.buffer[end + 2 :]
                if self._length == 0:
                    self._length = -1  # the trailer follows
                else:
                    self._check(self._length)
            if self._length == -1:  # the trailer, up to an empty line
                if self.buffer.startswith(b"\r\n"):
                    self.buffer = self.buffer[2:]
                    return True
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return False
                self.buffer = self.buffer[end + 4 :]
                return True
            self._take(min(self._length, len(self.buffer)))
            if self._length:
                return False
            if len(self.buffer) < 2:
                self._length = 0
                return False
            self.buffer = self.buffer[2:]  # the CRLF after the chunk
            self._length = None

    def _check(self, more: int) -> None:
        if self._size + more > self.max_answer:
            raise HttpError(f"an answer of more than {self.max_answer} bytes")

    def _take(self, count: int) -> None:
        if count:
            self._check(count)
            self._body.append(self.buffer[:count])
            self.buffer = self.buffer[count:]
            self._size += count
            if self._length is not None and self._length > 0:
                self._length -= count
