"""
A real webhook receiver for tests: a twisted.web server on a free loopback
port that records every request (method, path, headers, JSON body) and
answers with a handler: by default L{ReceiverRules} (rules like the embedded
ones), or anything a test sets (a status, invalid JSON, a late answer ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from ocppcs.testing import ReceiverRules


@dataclass
class Seen:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, list[str]]
    body: Any

    def header(self, name: str) -> str | None:
        """The first value of header C{name} (lower case), or C{None}."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


#: A handler: the parsed request body -> C{(status, body bytes)}, or a Deferred of it.
Handler = Callable[[Any], Any]


@dataclass
class Receiver:
    """The receiver's state: what it got and how it answers."""

    rules: ReceiverRules = field(default_factory=ReceiverRules)
    seen: list[Seen] = field(default_factory=list)
    handler: Handler | None = None
    port: Any = None
    scheme: str = "http"
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"{self.scheme}://{self.host}:{self.port.getHost().port}/hook"

    def answer(self, body: Any) -> Any:
        if self.handler is not None:
            return self.handler(body)
        return 200, orjson.dumps(self.rules.answer(body))

    def requests(self, action: str) -> list[Seen]:
        """The requests seen for C{action}."""
        return [s for s in self.seen if isinstance(s.body, dict) and s.body["action"] == action]


class _Hook(Resource):
    isLeaf = True

    def __init__(self, receiver: Receiver) -> None:
        super().__init__()
        self.receiver = receiver

    def render(self, request: Any) -> Any:
        raw = request.content.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = raw
        headers = {
            k.decode().lower(): [v.decode() for v in vs]
            for k, vs in request.requestHeaders.getAllRawHeaders()
        }
        self.receiver.seen.append(
            Seen(request.method.decode(), request.path.decode(), headers, body)
        )
        d: Deferred[Any] = maybeDeferred(self.receiver.answer, body)

        def send(answer: tuple[int, bytes]) -> None:
            code, data = answer
            request.setResponseCode(code)
            request.setHeader(b"Content-Type", b"application/json")
            if not request.finished and not request._disconnected:
                request.write(data)
                request.finish()

        d.addCallback(send)
        d.addErrback(lambda f: None)
        return NOT_DONE_YET


def start_receiver(receiver: Receiver | None = None, tls: Any = None) -> Receiver:
    """
    Listen on a free loopback port (stop with L{stop_receiver}); with C{tls}
    (server TLS options), over HTTPS.
    """
    from twisted.internet import reactor

    receiver = receiver if receiver is not None else Receiver()
    site = Site(_Hook(receiver))
    site.noisy = False
    if tls is None:
        receiver.port = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[attr-defined]
    else:
        receiver.scheme = "https"
        receiver.port = reactor.listenSSL(0, site, tls, interface="127.0.0.1")  # type: ignore[attr-defined]
    return receiver


def stop_receiver(receiver: Receiver) -> Deferred[None]:
    """Stop listening (open connections are closed by the clients' pools)."""
    if not receiver.port.connected:
        return maybeDeferred(lambda: None)
    return maybeDeferred(receiver.port.stopListening)


def delayed(seconds: float, answer: tuple[int, bytes]) -> Deferred[tuple[int, bytes]]:
    """An answer sent C{seconds} from now."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    return deferLater(reactor, seconds, lambda: answer)  # type: ignore[arg-type]
