# -*- test-case-name: tests.test_service -*-
"""
A service that listens on one strports/endpoint description.

Listeners get a listen backlog of L{DEFAULT_BACKLOG} unless their
description names one (C{tcp:9220:backlog=128}): Twisted's own default of
50 pending connections overflows when thousands of stations reconnect at
once after a restart, and every connection the kernel drops waits for TCP's
SYN retransmit (1 s, then 3 s, 7 s, ...). The kernel caps the backlog at
C{net.core.somaxconn} (4096 by default since Linux 5.4).
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory
from twisted.logger import Logger

#: Listen backlog of TCP, TLS and UNIX listeners whose description names none.
DEFAULT_BACKLOG = 4096

#: The endpoint types that take a C{backlog} argument.
_BACKLOG_TYPES = frozenset({"tcp", "tcp6", "ssl", "unix"})


def _split(description: str) -> list[str]:
    """The C{:}-separated fields of a strports description (C{\\:} escapes a colon)."""
    fields: list[str] = []
    field: list[str] = []
    chars = iter(description)
    for c in chars:
        if c == "\\":
            field.append(c + next(chars, ""))
        elif c == ":":
            fields.append("".join(field))
            field = []
        else:
            field.append(c)
    fields.append("".join(field))
    return fields


def with_backlog(description: str, backlog: int = DEFAULT_BACKLOG) -> str:
    """
    C{description} with C{:backlog=BACKLOG} added when it is a TCP, TLS or
    UNIX listener that does not name a backlog itself; otherwise unchanged.
    """
    fields = _split(description)
    if fields[0].strip().lower() not in _BACKLOG_TYPES or len(fields) < 2:
        return description
    if any(f.split("=", 1)[0].strip() == "backlog" for f in fields[1:] if "=" in f):
        return description
    return f"{description}:backlog={backlog}"


class ListenerService(Service):
    """
    Listen on C{description} (e.g. C{"tcp:9220:interface=0.0.0.0"}) while running,
    with a backlog of L{DEFAULT_BACKLOG} unless the description names one.

    Listening happens synchronously in L{startService} where the endpoint
    allows it (TCP, TLS, UNIX), so a port in use stops twistd at start-up.

    @ivar port: the listening port once started.
    """

    _log = Logger()

    def __init__(self, reactor: Any, description: str, factory: Factory) -> None:
        self._reactor = reactor
        self.description = description
        self._factory = factory
        self.port: IListeningPort | None = None
        self.listening: Deferred[IListeningPort] = Deferred()

    def startService(self) -> None:
        super().startService()
        endpoint = serverFromString(self._reactor, with_backlog(self.description))
        d = endpoint.listen(self._factory)
        failures: list[Any] = []
        d.addCallbacks(self._listened, failures.append)
        if failures:
            failures[0].raiseException()

    def _listened(self, port: IListeningPort) -> None:
        self.port = port
        address = port.getHost()
        self._log.info("Listening on {address}", address=address)
        self.listening.callback(port)

    def stopService(self) -> Deferred[None]:
        super().stopService()
        if self.port is None:
            return succeed(None)
        port, self.port = self.port, None
        return port.stopListening() or succeed(None)
