# -*- test-case-name: tests.transports.test_websocket -*-
"""
The OCPP-J station endpoint over WebSocket (Autobahn).

    ws://HOST:PORT/ocpp/{identity}[/{account}]     subprotocol ocpp1.6

Handshake rules:
    - a path that isn't /ocpp/{identity}[/{account}], or an identity that is
      empty, longer than 48 characters or not printable -> HTTP 400/404, no upgrade;
    - a plain HTTP request (no upgrade) -> HTTP 426;
    - no offered subprotocol we speak -> the handshake completes without a
      Sec-WebSocket-Protocol header and the connection is closed at once (1002);
    - a second connection with the same identity replaces the first.
Server pings every C{ping_interval} seconds drop dead peers; a frame, or a
fragmented message in total, larger than C{max_frame_size} (1 MiB by
default) closes the connection (1009) as soon as its length is known.

Beyond C{[server] max_connections} (in total) or
C{max_connections_per_address}, the upgrade is refused with 503 or 429; a
station over C{message_rate} gets a CALLERROR per message, and a close
(1008) when it keeps on (L{ocppcs.transports.limits}).

Every refused attempt (a failed handshake of any kind, no common
subprotocol) is recorded in the factory's L{RefusalLog} with the identity
(when the path names one), path, peer address and reason, and counted by
kind (C{path}, C{subprotocol}, C{auth}, C{limit}, C{handshake}) for the metrics.
Station authentication (L{ocppcs.stationauth}, the security profiles) runs
in C{onConnect}, before the upgrade: a refused station gets the HTTP 401
(with C{WWW-Authenticate}), 403 or 503 of its L{StationVerdict}, recorded as
C{auth}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import IRecord
from ocppcs.config import ServerConfig
from ocppcs.confighold import reading
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import CallReceiver, FrameSink, OcppSession
from ocppcs.onboarding import RefusalLog
from ocppcs.stationauth import CHALLENGE, StationAuth, StationVerdict
from ocppcs.stations import StationRegistry
from ocppcs.transports import quiet_debug
from ocppcs.transports.lean import LeanMessages, LeanServerSend
from ocppcs.transports.limits import RATE_CLOSE_CODE, ConnectionCounts, MessageRate, host_of
from ocppcs.transports.stationpath import BadStationPath, parse_station_path

quiet_debug.install()  # Autobahn's debug lines formatted only when debug logging is on

SUBPROTOCOLS = ("ocpp1.6",)
#: Why a station connecting during shutdown is refused or closed.
SHUTTING_DOWN = "central system shutting down"


# ignore: Autobahn's own two bases type peer and _transport_details differently.
class OcppServerProtocol(LeanMessages, LeanServerSend, WebSocketServerProtocol):  # type: ignore[misc]
    """One station connection: the glue between Autobahn and L{OcppSession}."""

    peer: str  # Autobahn's connectionMade sets it, before any of the methods below run

    _log = Logger()  # autobahn already uses .log
    factory: OcppServerFactory
    _session: OcppSession | None = None
    _identity: str = ""
    _account: str = ""
    _refuse: str = ""
    _refusal_kind: str = ""
    _counted: str | None = None  # the source address, once counted in factory.connections
    _limiter: MessageRate | None = None

    # ignore: Autobahn types no Deferred, but its processHandshake waits for one (txaio).
    def onConnect(  # type: ignore[override]
        self, request: ConnectionRequest
    ) -> str | None | Deferred[str | None]:
        factory = self.factory
        if factory.registry.closed:
            self._refusal_kind = "shutdown"
            raise ConnectionDeny(503, SHUTTING_DOWN)
        try:
            self._identity, self._account = parse_station_path(request.path)
        except BadStationPath as e:
            self._refusal_kind = "path"
            raise ConnectionDeny(e.status, str(e)) from None
        address = host_of(request.peer)
        over = factory.connections.refusal(factory.endpoint, address)
        if over is not None:
            self._refusal_kind = "limit"
            raise ConnectionDeny(*over)
        factory.connections.opened(address)
        self._counted = address
        auth = self.factory.station_auth
        if auth is not None:
            header = request.headers.get("authorization")
            verdict = auth.check_transport(self._identity, header, self.transport)
            if isinstance(verdict, Deferred):
                verdict.addErrback(self._auth_failed)
                return verdict.addCallback(self._authorized, request)
            return self._authorized(verdict, request)
        return self._subprotocol(request)

    def _authorized(self, verdict: StationVerdict, request: ConnectionRequest) -> str | None:
        """Refuse (before the upgrade) unless the station passed L{StationAuth}."""
        if not verdict.ok:
            self._refusal_kind = "auth"
            raise ConnectionDeny(verdict.status, verdict.reason)
        return self._subprotocol(request)

    def _auth_failed(self, failure: Failure) -> StationVerdict:
        """The check itself failed (e.g. the store): 503, the station retries."""
        identity = self._identity
        self._log.failure("Checking the credentials of {identity}", failure, identity=identity)
        return StationVerdict(False, 503, "cannot check the station's credentials now; retry")

    def _subprotocol(self, request: ConnectionRequest) -> str | None:
        for protocol in request.protocols:
            if protocol in SUBPROTOCOLS:
                return protocol
        self._refuse = (
            f"No supported subprotocol offered ({', '.join(request.protocols) or 'none'}); "
            f"this central system speaks {', '.join(SUBPROTOCOLS)}"
        )
        self.factory.record_refusal(
            self._identity, request.path, request.peer, self._refuse, "subprotocol"
        )
        return None

    def failHandshake(self, reason: str, code: int = 400, responseHeaders: Any = None) -> None:
        """Record the refusal, then answer with the HTTP error and drop the connection."""
        path = getattr(self, "http_request_path", None) or ""
        identity = self._identity
        if not identity and path:
            try:
                identity = parse_station_path(path)[0]
            except BadStationPath:
                pass
        kind = self._refusal_kind or ("auth" if code in (401, 403) else "handshake")
        if code == 401 and kind == "auth" and responseHeaders is None:
            responseHeaders = [("WWW-Authenticate", CHALLENGE)]  # noqa: N806 - Autobahn's name
        try:
            self.factory.record_refusal(identity, path, self.peer, reason, kind)
        except Exception:
            self._log.failure("Recording a refused connection failed")
        super().failHandshake(reason, code, responseHeaders)

    def onOpen(self) -> None:
        try:
            self._open()
        except Exception:
            self._log.failure("Bug opening the connection of {identity}", identity=self._identity)
            self.dropConnection(abort=True)

    def _open(self) -> None:
        if self._refuse:
            self._log.debug(
                "Closing {identity} from {peer}: {reason}",
                identity=self._identity,
                peer=self.peer,
                reason=self._refuse,
            )
            # sendClose() only allows 1000 and 3000-4999; 1002 (protocol error) is sent directly.
            self.sendCloseFrame(
                code=1002, reasonUtf8=self._refuse.encode("utf-8")[:123], isReply=False
            )
            return
        factory = self.factory
        if factory.registry.closed:
            # The handshake began before the shutdown and ended after it: 1001 (going away).
            self.sendCloseFrame(code=1001, reasonUtf8=SHUTTING_DOWN.encode(), isReply=False)
            return
        session = OcppSession(
            self._identity,
            self._account,
            self.peer,
            self._send_text,
            factory.clock,
            factory.receiver,
            factory.schemas,
            factory.frame_sink,
            factory.endpoint.call_timeout,
            close=self._close_replaced,
        )
        self._session = session
        self._limiter = MessageRate(factory.server, factory.clock.seconds)
        factory.registry.attach(session)
        self._log.info("{identity} connected from {peer}", identity=self._identity, peer=self.peer)
        factory.backend.station_connected(self._identity, self._account, self.peer).addErrback(
            lambda f: self._log.failure(
                "Recording the connection of {identity}", f, identity=self._identity
            )
        )

    def _send_text(self, data: bytes) -> None:
        if self.state != self.STATE_OPEN:
            # Closing: the station will not read it; the session fails its calls on onClose.
            self._log.debug(
                "Not sending to {identity}: the connection is closing", identity=self._identity
            )
            return
        self.send_text(data)

    def _close_replaced(self, reason: str) -> None:
        if reason != SHUTTING_DOWN:
            self.sendClose(1000, reason)
        elif self.state == self.STATE_OPEN:  # 1001: going away (sendClose: 1000, 3000-4999 only)
            self.sendCloseFrame(code=1001, reasonUtf8=reason.encode(), isReply=False)

    def _over_rate(self, limiter: MessageRate, payload: bytes) -> None:
        """A message over the rate: CALLERROR, and closed (1008) once it goes on too long."""
        assert self._session is not None
        self._session.refuse(payload, limiter.description())
        if limiter.abusive:
            reason = "message rate exceeded"
            self._log.warn(
                "Closing {identity} from {peer}: {reason}",
                identity=self._identity,
                peer=self.peer,
                reason=reason,
                refused=limiter.refused,
            )
            self.sendCloseFrame(code=RATE_CLOSE_CODE, reasonUtf8=reason.encode(), isReply=False)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        session = self._session
        if session is None:
            return
        limiter = self._limiter
        if isBinary or limiter is None or limiter.allow():
            session.message_received(payload, isBinary)
        elif self.state == self.STATE_OPEN:
            self._over_rate(limiter, payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        if self._counted is not None:
            self.factory.connections.closed(self._counted)
            self._counted = None
        session = self._session
        if session is None:
            return
        self._session = None
        why = f"connection closed (code {code}{': ' + reason if reason else ''})"
        session.connection_lost(why)
        factory = self.factory
        if factory.registry.detach(session):
            self._log.info("{identity} disconnected: {why}", identity=self._identity, why=why)
            factory.backend.station_disconnected(self._identity).addErrback(
                lambda f: self._log.failure(
                    "Recording the disconnection of {identity}", f, identity=self._identity
                )
            )


class OcppServerFactory(WebSocketServerFactory):
    """
    Builds L{OcppServerProtocol}s sharing the central system's objects.

    @param clock: the reactor's clock (call timeouts).
    @param receiver: answers station-initiated calls.
    @param registry: the connected stations.
    @param backend: told about connections.
    @param schemas: the OCPP 1.6 schemas.
    @param frame_sink: receives every frame in and out.
    @param endpoint: connection limits and timeouts (C{[server]}), or a reader
        of the current ones: read for each connection (WebSocket options,
        limits) and message (rate).
    @ivar connections: the open station connections, by source address.
    @param refusals: where refused connection attempts are recorded.
    @param on_refused: called with the kind of each refusal (metrics).
    @param station_auth: checks each station's credentials before the upgrade
        (security profiles, L{ocppcs.stationauth}); none when C{None}.
    """

    protocol = OcppServerProtocol  # type: ignore[assignment]  # Autobahn's factory: Twisted's generic unbound
    _log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        receiver: CallReceiver,
        registry: StationRegistry,
        backend: IRecord,
        schemas: SchemaSet,
        frame_sink: FrameSink,
        endpoint: ServerConfig | Callable[[], ServerConfig],
        reactor: object = None,
        refusals: RefusalLog | None = None,
        on_refused: Callable[[str], None] | None = None,
        station_auth: StationAuth | None = None,
    ) -> None:
        super().__init__(protocols=list(SUBPROTOCOLS), reactor=reactor)
        self.station_auth = station_auth
        self.refusals = refusals
        self.on_refused = on_refused
        self.clock = clock
        self.receiver = receiver
        self.registry = registry
        self.backend = backend
        self.schemas = schemas
        self.frame_sink = frame_sink
        self.server = reading(endpoint)
        self.connections = ConnectionCounts()
        self._options: ServerConfig | None = None
        self.endpoint  # noqa: B018 - sets the options

    @property
    def endpoint(self) -> ServerConfig:
        """The C{[server]} section in force; its options apply to the connections made from now."""
        server = self.server()
        if server is not self._options:
            self._options = server
            self._set_options(server)
        return server

    def buildProtocol(self, addr: Any) -> Any:
        """A protocol for a new connection, with the options in force."""
        self.endpoint  # noqa: B018 - the options in force now
        return super().buildProtocol(addr)

    def _set_options(self, endpoint: ServerConfig) -> None:
        self.setProtocolOptions(
            autoPingInterval=endpoint.ping_interval,
            autoPingTimeout=endpoint.ping_timeout,
            maxFramePayloadSize=endpoint.max_frame_size,
            maxMessagePayloadSize=endpoint.max_frame_size,
            openHandshakeTimeout=endpoint.handshake_timeout,
            closeHandshakeTimeout=5,
            # Send a close frame (1009, 1002, ...) before dropping a bad peer, so it learns why.
            failByDrop=False,
            # A plain HTTP request gets 426 (and is recorded), not Autobahn's status page.
            webStatus=False,
        )

    def record_refusal(
        self, identity: str, path: str, address: str, reason: str, kind: str = "handshake"
    ) -> None:
        """
        Record one refused connection attempt: logged, kept in the refusal
        log and counted. Station authentication calls this with
        C{kind="auth"} when it refuses a station by other means than
        C{ConnectionDeny} from C{onConnect}.

        @param identity: the station identity from the path, or C{""}.
        @param path: the requested path.
        @param address: the peer address.
        @param reason: why it was refused (shown to operators).
        @param kind: C{path}, C{subprotocol}, C{auth}, C{limit}, C{shutdown} or C{handshake}: the
            metrics label.
        """
        self._log.warn(
            "Refused connection from {peer} to {path} ({kind}): {reason}",
            peer=address,
            path=path,
            kind=kind,
            reason=reason,
        )
        if self.refusals is not None:
            self.refusals.record(identity, path, address, reason)
        if self.on_refused is not None:
            self.on_refused(kind)
