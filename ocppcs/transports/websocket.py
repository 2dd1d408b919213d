# -*- test-case-name: tests.transports.test_websocket -*-
"""
The OCPP-J station endpoint over WebSocket (Autobahn).

    ws://HOST:PORT/ocpp/{identity}[/{account}]     subprotocol ocpp1.6

Handshake rules:
    - a path that isn't /ocpp/{identity}[/{account}], or an identity that is
      empty, longer than 48 characters or not printable -> HTTP 400/404, no upgrade;
    - no offered subprotocol we speak -> the handshake completes without a
      Sec-WebSocket-Protocol header and the connection is closed at once (1002);
    - a second connection with the same identity replaces the first.
Server pings every C{ping_interval} seconds drop dead peers; frames larger
than C{max_frame_size} close the connection (1009).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ocppcs.backends.interface import IBackend
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import CallReceiver, FrameSink, OcppSession
from ocppcs.stations import StationRegistry
from ocppcs.transports.directwrite import send_directly

SUBPROTOCOLS = ("ocpp1.6",)
MAX_IDENTITY = 48


class BadStationPath(ValueError):
    """The upgrade request's path does not name a valid station."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_station_path(path: str, prefix: str = "/ocpp/") -> tuple[str, str]:
    """
    Split C{/ocpp/{identity}[/{account}]} into identity and account.

    @raise BadStationPath: when the path is wrong or the identity is invalid.
    """
    if not path.startswith(prefix):
        raise BadStationPath(f"Not a station endpoint: {path!r}", 404)
    parts = path[len(prefix) :].split("/")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing slash
    if len(parts) > 2:
        raise BadStationPath("Path must be /ocpp/{identity} or /ocpp/{identity}/{account}", 404)
    try:
        identity = unquote(parts[0], errors="strict")
        account = unquote(parts[1], errors="strict") if len(parts) == 2 else ""
    except UnicodeDecodeError:
        raise BadStationPath("Station identity is not valid UTF-8") from None
    if not identity:
        raise BadStationPath("Station identity is empty")
    if len(identity) > MAX_IDENTITY:
        raise BadStationPath(f"Station identity is longer than {MAX_IDENTITY} characters")
    if not identity.isprintable() or not account.isprintable():
        raise BadStationPath("Station identity contains characters that are not printable")
    return identity, account


@dataclass
class StationEndpointConfig:
    """What the endpoint needs to know (from C{[server]})."""

    ping_interval: float = 60.0
    ping_timeout: float = 30.0
    max_frame_size: int = 65536
    call_timeout: float = 30.0


class OcppServerProtocol(WebSocketServerProtocol):
    """One station connection: the glue between Autobahn and L{OcppSession}."""

    _log = Logger()  # autobahn already uses .log
    factory: OcppServerFactory
    _session: OcppSession | None = None
    _identity: str = ""
    _account: str = ""
    _refuse: str = ""

    def onConnect(self, request: ConnectionRequest) -> str | None:
        try:
            self._identity, self._account = parse_station_path(request.path)
        except BadStationPath as e:
            self._log.warn(
                "Refused connection from {peer} to {path}: {reason}",
                peer=request.peer,
                path=request.path,
                reason=str(e),
            )
            raise ConnectionDeny(e.status, str(e)) from None
        for protocol in request.protocols:
            if protocol in SUBPROTOCOLS:
                return protocol
        self._refuse = (
            f"No supported subprotocol offered ({', '.join(request.protocols) or 'none'}); "
            f"this central system speaks {', '.join(SUBPROTOCOLS)}"
        )
        return None

    def onOpen(self) -> None:
        try:
            self._open()
        except Exception:
            self._log.failure("Bug opening the connection of {identity}", identity=self._identity)
            self.dropConnection(abort=True)

    def _open(self) -> None:
        if self._refuse:
            self._log.warn(
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
        send_directly(self.transport)
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
        )
        self._session = session
        factory.registry.attach(session, self._close_replaced)
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
        self.sendMessage(data, False)

    def _close_replaced(self, reason: str) -> None:
        self.sendClose(1000, reason)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        session = self._session
        if session is None:
            return
        if isBinary:
            session.binary_received()
        else:
            session.text_received(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
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
    @param endpoint: connection limits and timeouts.
    """

    protocol = OcppServerProtocol

    def __init__(
        self,
        clock: IReactorTime,
        receiver: CallReceiver,
        registry: StationRegistry,
        backend: IBackend,
        schemas: SchemaSet,
        frame_sink: FrameSink,
        endpoint: StationEndpointConfig,
        reactor: object = None,
    ) -> None:
        super().__init__(protocols=list(SUBPROTOCOLS), reactor=reactor)
        self.clock = clock
        self.receiver = receiver
        self.registry = registry
        self.backend = backend
        self.schemas = schemas
        self.frame_sink = frame_sink
        self.endpoint = endpoint
        self.setProtocolOptions(
            autoPingInterval=endpoint.ping_interval,
            autoPingTimeout=endpoint.ping_timeout,
            maxFramePayloadSize=endpoint.max_frame_size,
            maxMessagePayloadSize=endpoint.max_frame_size,
            openHandshakeTimeout=30,
            closeHandshakeTimeout=5,
            # Send a close frame (1009, 1002, ...) before dropping a bad peer, so it learns why.
            failByDrop=False,
        )
