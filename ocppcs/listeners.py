# -*- test-case-name: tests.integration.test_startup_errors,tests.test_tap,tests.test_listeners -*-
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
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.config import ConfigError
from ocppcs.tlslisten import is_tls, tls_endpoint

#: Where a listen description comes from (C{--listen} replaces it).
LISTEN_KEY = ("server", "listen")


class ListenError(SystemExit, Exception):
    """
    A listener could not listen: ends C{twistd} with its one-line message.

    A L{SystemExit}, so that C{twistd -n} prints the message alone (no
    traceback); an L{Exception} too, so that a daemonizing C{twistd} reports
    it to the waiting parent process (which otherwise waits forever) and
    removes its pid file.
    """


def parse_endpoint(reactor: Any, description: str) -> IStreamServerEndpoint:
    """
    The endpoint C{description} names, with a backlog of L{DEFAULT_BACKLOG}
    unless it names one (L{with_backlog}).

    @raise ConfigError: naming C{server.listen} when it is no valid description
        (an unknown type, a port that is no number, a key file that can't be read).
        C{ssl:} and C{tls:} descriptions are L{ocppcs.tlslisten}'s (with C{caCerts}).
    """
    try:
        if is_tls(description):
            return tls_endpoint(reactor, _split(description), DEFAULT_BACKLOG)
        return serverFromString(reactor, with_backlog(description))
    except Exception as e:  # ValueError, KeyError, OSError, SSL errors: all a bad description
        raise ConfigError(f"{description!r} is not a listen description: {e}", LISTEN_KEY) from None


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

    The description is parsed when the service is made (a bad one is a
    L{ConfigError}), and listening happens synchronously in L{startService}
    where the endpoint allows it (TCP, TLS, UNIX): a port in use stops twistd
    at start-up with one line naming the address (L{ListenError}).

    @ivar port: the listening port once started.
    """

    _log = Logger()

    def __init__(
        self,
        reactor: Any,
        description: str,
        factory: IProtocolFactory,
        endpoint: IStreamServerEndpoint | None = None,
    ) -> None:
        """
        @param endpoint: C{description}'s endpoint, when already parsed
            (L{parse_endpoint}).
        """
        self._reactor = reactor
        self.description = description
        self._factory = factory
        self._endpoint = endpoint if endpoint is not None else parse_endpoint(reactor, description)
        self.port: IListeningPort | None = None
        self.listening: Deferred[IListeningPort] = Deferred()

    def startService(self) -> None:
        """
        Listen.

        @raise ListenError: with a one-line message naming the address when
            it can't be listened on (e.g. a port in use).
        """
        super().startService()
        d = self._endpoint.listen(self._factory)
        failures: list[Failure] = []
        d.addCallbacks(self._listened, failures.append)
        if failures:
            self.running = False
            error = failures[0].value
            if isinstance(error, CannotListenError):
                address = f"{error.interface or '*'}:{error.port}"
                reason = getattr(error.socketError, "strerror", None) or error.socketError
                message = f"cannot listen on {address} ({self.description}): {reason}"
            else:
                message = f"cannot listen on {self.description}: {error}"
            raise ListenError(str(ConfigError(message, LISTEN_KEY)))

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
