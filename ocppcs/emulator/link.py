# -*- test-case-name: tests.emulator.test_link_connections,tests.emulator.test_link_backoff -*-
"""
The WebSocket connection of an emulated station (Autobahn client), kept up
with reconnects.

    StationLink.start --> connect to station.url (subprotocol ocpp1.6)
        open  --> OcppSession (inbound: the central system's 19 commands,
                  outbound: the station's 10 actions) --> station.connected
        close --> station.disconnected --> connect again after a backoff
                  (1 s doubling to 30 s, with jitter; back to 1 s only after
                  a connection that stayed open STABLE_AFTER seconds, so a
                  central system that closes every connection at once is
                  not called ever faster)
    reconnect() drops the connection and connects again at once (Reset).

What the station presents (HTTP Basic for security profiles 1 and 2, its
trust roots and client certificate for wss://): L{ocppcs.emulator.credentials}.

Pings: Autobahn's auto-ping at the station's C{WebSocketPingInterval}; a
pong missing for that long again drops the connection.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlsplit

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.types import ConnectionResponse
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import ITCPTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.emulator.credentials import basic_headers, tls_options
from ocppcs.emulator.station import EmulatedStation
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import FrameSink, OcppSession
from ocppcs.transports.lean import LeanMessages
from ocppcs.v16.actions import CENTRAL_CALLS, STATION_CALLS

SUBPROTOCOL = "ocpp1.6"
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
#: Seconds a connection must stay open for the backoff to start again from FIRST_DELAY.
STABLE_AFTER = MAX_DELAY
#: Seconds a closing handshake may take before the connection is dropped.
CLOSE_WAIT = 2.0


def _no_frames(record: Any) -> None:
    """The default frame sink: emulated stations keep no frame log."""


# ignore: Autobahn's own two bases type peer and _transport_details differently.
class StationClientProtocol(LeanMessages, WebSocketClientProtocol):  # type: ignore[misc]
    """One connection of one emulated station."""

    transport: ITCPTransport  # set by connectionMade: TCP, or TLS over it (abortConnection)

    _log = Logger()
    link: StationLink
    session: OcppSession | None = None

    def onConnect(self, response: ConnectionResponse) -> None:
        """Check that the central system chose OCPP 1.6."""
        if response.protocol != SUBPROTOCOL:
            self._log.warn(
                "{identity}: the central system did not accept subprotocol {subprotocol}",
                identity=self.link.station.identity,
                subprotocol=SUBPROTOCOL,
            )

    def onOpen(self) -> None:
        """Start the OCPP session and tell the station."""
        link = self.link
        station = link.station
        peer = self.transport.getPeer()
        self.session = OcppSession(
            station.identity,
            "",
            f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}",
            self._send_frame,
            link.clock,
            station,
            link.schemas,
            link.frame_sink,
            default_timeout=link.call_timeout,
            inbound_actions=CENTRAL_CALLS,
            outbound_actions=STATION_CALLS,
        )
        link.opened(self)
        try:
            station.connected(self.session)
        except Exception:
            self._log.failure("{identity}: bug on connect", identity=station.identity)

    def _send_frame(self, data: bytes) -> None:
        # Once a close has begun (either side) Autobahn raises on send; the
        # frame is dropped instead, and onClose soon fails what is in flight.
        if self.state == self.STATE_OPEN:
            self.sendMessage(data, isBinary=False)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        """Hand each frame to the session."""
        session = self.session
        if session is not None:
            session.message_received(payload, isBinary)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        """Fail pending calls and tell the station (once)."""
        session, self.session = self.session, None
        if session is None and self.link.running:
            self._log.warn(
                "{identity}: no WebSocket connection to {url}: {reason}",
                identity=self.link.station.identity,
                url=self.link.station.url,
                reason=reason or f"closed ({code})",
            )
        if session is not None:
            session.connection_lost(f"closed ({code})")
            try:
                self.link.station.disconnected()
            except Exception:
                self._log.failure(
                    "{identity}: bug on disconnect", identity=self.link.station.identity
                )
        self.link.closed(self)


class StationLink:
    """
    Keeps one emulated station connected to its central system.

    @ivar attempts: connection attempts made so far.
    @ivar connections: connections that were opened so far.
    """

    _log = Logger()

    def __init__(
        self,
        station: EmulatedStation,
        reactor: Any,
        schemas: SchemaSet,
        frame_sink: FrameSink = _no_frames,
        call_timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        """
        @param reactor: an L{IReactorTCP}/L{IReactorTime} for connections and timers.
        @param call_timeout: seconds to wait for the central system's replies.
        """
        self.station = station
        self.clock = reactor
        self._reactor = reactor
        self.schemas = schemas
        self.frame_sink = frame_sink
        self.call_timeout = call_timeout
        self._rng = rng or random.Random()
        self._delay = FIRST_DELAY
        self._opened_at = 0.0
        self._protocol: StationClientProtocol | None = None
        self._pending: StationClientProtocol | None = None
        self._connecting: Deferred | None = None
        self._retry: Any = None
        self._force: Any = None
        self._running = False
        self._closed_waiters: list[Deferred] = []
        self._quick = False
        self.attempts = 0
        self.connections = 0
        station.link = self

    @property
    def running(self) -> bool:
        """Whether the link keeps the station connected (between start and stop)."""
        return self._running

    @property
    def connected(self) -> bool:
        """Whether a connection is open."""
        return self._protocol is not None

    def start(self) -> None:
        """Connect, and stay connected until L{stop}."""
        self._running = True
        self._connect()

    def stop(self) -> Deferred[None]:
        """Close the connection and stop reconnecting; fires once closed."""
        self._running = False
        self._cancel_retry()
        if self._connecting is not None:
            self._connecting.cancel()
        protocol = self._protocol or self._pending
        if protocol is None:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._closed_waiters.append(d)
        if protocol is self._protocol:
            self._close(protocol, "station stopping")
        else:
            protocol.transport.abortConnection()  # still in the opening handshake
        return d

    def reconnect(self) -> None:
        """Drop the connection and connect again at once (a reboot)."""
        self._delay = FIRST_DELAY
        self._quick = True
        protocol = self._protocol
        if protocol is not None:
            self._close(protocol, "rebooting")
        elif self._pending is not None:
            self._pending.transport.abortConnection()  # connects again once closed
        elif self._running and self._connecting is None:
            self._cancel_retry()
            self._connect()

    def _close(self, protocol: StationClientProtocol, reason: str) -> None:
        # Autobahn lets an application send only 1000 or 3000-4999 (not 1001).
        protocol.sendClose(1000, reason)
        if self._force is None or not self._force.active():
            self._force = self.clock.callLater(CLOSE_WAIT, self._force_close, protocol)

    def _force_close(self, protocol: StationClientProtocol) -> None:
        self._force = None
        if protocol is self._protocol and protocol.transport is not None:
            protocol.transport.abortConnection()

    def _connect(self) -> None:
        self._retry = None
        if not self._running:
            return
        url = self.station.url
        try:
            endpoint, factory = self._endpoint(url)
        except ValueError as e:
            self._log.error(
                "{identity}: bad URL {url}: {error}",
                identity=self.station.identity,
                url=url,
                error=str(e),
            )
            self._schedule()
            return
        self.attempts += 1
        self._connecting = endpoint.connect(factory)
        self._connecting.addCallbacks(self._connected, self._failed)

    def _endpoint(self, url: str) -> tuple[Any, _LinkFactory]:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("expected ws://host[:port]/path or wss://...")
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        station = self.station
        factory = _LinkFactory(self, url, basic_headers(station.identity, station.keys))
        ping = float(station.keys.get_int("WebSocketPingInterval", 30))
        factory.setProtocolOptions(
            autoPingInterval=ping if ping > 0 else 0,
            autoPingTimeout=ping if ping > 0 else 0,
            openHandshakeTimeout=30,
            closeHandshakeTimeout=5,
        )
        endpoint: Any = HostnameEndpoint(self._reactor, parts.hostname, port, timeout=30)
        if secure:
            endpoint = wrapClientTLS(tls_options(parts.hostname, station.certificates), endpoint)
        return endpoint, factory

    def _connected(self, protocol: StationClientProtocol) -> None:
        self._connecting = None
        self._pending = protocol

    def _failed(self, failure: Failure) -> None:
        self._connecting = None
        if self._running:
            self._log.info(
                "{identity}: cannot connect to {url}: {error}",
                identity=self.station.identity,
                url=self.station.url,
                error=failure.getErrorMessage(),
            )
        self._schedule()

    def opened(self, protocol: StationClientProtocol) -> None:
        """A connection is open (called by the protocol)."""
        self._pending = None
        self._protocol = protocol
        self._opened_at = self.clock.seconds()
        self.connections += 1

    def closed(self, protocol: StationClientProtocol) -> None:
        """A connection (or an attempt at one) ended (called by the protocol)."""
        if self._pending is protocol:
            self._pending = None
        if self._protocol is protocol:
            self._protocol = None
            if self.clock.seconds() - self._opened_at >= STABLE_AFTER:
                self._delay = FIRST_DELAY
            if self._force is not None and self._force.active():
                self._force.cancel()
            self._force = None
        waiters, self._closed_waiters = self._closed_waiters, []
        for d in waiters:
            d.callback(None)
        self._schedule()

    def _schedule(self) -> None:
        if not self._running or self._retry is not None or self._protocol is not None:
            return
        quick, self._quick = self._quick, False
        delay = 0.0 if quick else self._delay * (0.5 + self._rng.random() / 2)
        self._delay = min(self._delay * 2, MAX_DELAY)
        self._retry = self.clock.callLater(delay, self._connect)

    def _cancel_retry(self) -> None:
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None


class _LinkFactory(WebSocketClientFactory):
    """The factory of one connection attempt; its protocols know their link."""

    protocol = StationClientProtocol
    noisy = False

    def __init__(self, link: StationLink, url: str, headers: dict[str, str]) -> None:
        super().__init__(url, protocols=[SUBPROTOCOL], headers=headers)
        self.link = link

    def buildProtocol(self, addr: Any) -> StationClientProtocol:
        protocol = super().buildProtocol(addr)
        assert isinstance(protocol, StationClientProtocol)
        protocol.link = self.link
        return protocol
