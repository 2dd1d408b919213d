# -*- test-case-name: tests.test_tap -*-
"""A service that listens on one strports/endpoint description."""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.logger import Logger


class ListenerService(Service):
    """
    Listen on C{description} (e.g. C{"tcp:9220:interface=0.0.0.0"}) while running.

    Listening happens synchronously in L{startService} where the endpoint
    allows it (TCP, TLS, UNIX), so a port in use stops twistd at start-up.

    @ivar port: the listening port once started.
    """

    _log = Logger()

    def __init__(self, reactor: Any, description: str, factory: IProtocolFactory) -> None:
        self._reactor = reactor
        self.description = description
        self._factory = factory
        self.port: IListeningPort | None = None
        self.listening: Deferred[IListeningPort] = Deferred()

    def startService(self) -> None:
        super().startService()
        endpoint = serverFromString(self._reactor, self.description)
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
