# -*- test-case-name: tests.web.test_site -*-
"""
The one resource tree served on every listener.

    /ocpp/{identity}[/{account}]   OCPP-J station endpoint (WebSocket)
    /Ocpp[?wsdl], /Ocpp/15?wsdl    OCPP-S Central System service, 1.5 and 1.6
                                   (SOAP 1.2; L{ocppcs.soap.service})
    /api/v1/...                    REST API (Klein; see openapi.yaml)
    /                              the operator web UI (L{ocppcs.web.ui}), its assets under /ui/
    /docs/                         Swagger UI
    /ws/log[?identity=ID]          live log feed (WebSocket; L{ocppcs.web.logfeed})
    /ws/events[?identity=ID]       station event feed (WebSocket; L{ocppcs.web.eventfeed})
    /metrics                       Prometheus metrics (L{ocppcs.metrics})
    anything else                  404; a WebSocket upgrade there is refused
                                   by the station endpoint (and recorded)

A connection has C{[server] handshake_timeout} seconds to send its first
complete request (the WebSocket upgrade of a station, or a REST request),
else it gets 408 and is closed (L{QuietSite}); the UI's feeds refuse
an upgrade whose C{Origin} is neither this server nor one of C{[api]
allowed_origins} (L{ocppcs.web.origin}).

Operator resources (everything but /ocpp and /Ocpp) are wrapped by the C{guard} of
C{[api] auth} (L{ocppcs.web.auth}); /api/v1/ping and /api/v1/time stay open.
/docs is guarded too: its files are harmless, but the document it shows and
the calls it makes are under /api, and with basic auth the browser asks once
at /docs/ and reuses the credentials for the same realm.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from autobahn.twisted.resource import WebSocketResource
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.pages import notFound
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request, Site

from ocppcs.transports.websocket import OcppServerFactory
from ocppcs.web.api import RestApi
from ocppcs.web.auth import API_OPEN_PATHS, Guard, unguarded
from ocppcs.web.docs import build_docs
from ocppcs.web.origin import OriginCheck
from ocppcs.web.ui import build_ui

_log = Logger()


class _Root(Resource):
    """
    The root: named children, and a plain 404 for anything else, except
    that a WebSocket upgrade at an unknown path goes to C{stations}: most
    likely a station with a wrong URL, which the station endpoint refuses
    (404) and records in the refused connection attempts.
    """

    def __init__(self, stations: IResource | None = None) -> None:
        super().__init__()
        self._stations = stations

    def _upgrade(self, request: IRequest) -> bool:
        upgrade = request.getHeader(b"upgrade") or b""
        return self._stations is not None and b"websocket" in upgrade.lower()

    def getChildWithDefault(self, path: bytes, request: IRequest) -> IResource:
        # "/" is the web UI's page, but a WebSocket there is a station with a wrong URL.
        if path == b"" and self._upgrade(request):
            assert self._stations is not None
            return self._stations
        return super().getChildWithDefault(path, request)

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        if self._upgrade(request):
            assert self._stations is not None
            return self._stations
        return notFound("No such resource", "This central system has nothing at this path.")


def build_root(
    station_factory: OcppServerFactory,
    api: RestApi,
    guard: Guard = unguarded,
    log_feed: IResource | None = None,
    metrics: IResource | None = None,
    event_feed: IResource | None = None,
    soap: IResource | None = None,
) -> Resource:
    """
    Build the resource tree: every path the server answers.

    @param log_feed: the C{/ws/log} resource, if any (L{ocppcs.web.logfeed.build_log_feed}).
    @param metrics: the C{/metrics} resource, if any (L{ocppcs.metrics.build_metrics}).
    @param event_feed: the C{/ws/events} resource, if any (L{ocppcs.web.eventfeed}).
    @param soap: the C{/Ocpp} resource, if any (L{ocppcs.soap.service}).
    """
    stations = WebSocketResource(station_factory)
    root = _Root(stations)
    root.putChild(b"ocpp", stations)
    if soap is not None:
        root.putChild(b"Ocpp", soap)
    root.putChild(b"api", guard(api.resource(), API_OPEN_PATHS))
    root.putChild(b"docs", guard(build_docs()))
    # The UI's files are public (they hold no data; every call they make is guarded),
    # so the login screen loads without credentials.
    index, assets = build_ui()
    root.putChild(b"", index)
    root.putChild(b"ui", assets)
    if log_feed is not None or event_feed is not None:
        ws = _Root()
        allowed = lambda: api.config.api.allowed_origins  # noqa: E731 - read per upgrade
        if log_feed is not None:
            ws.putChild(b"log", OriginCheck(guard(log_feed), allowed))
        if event_feed is not None:
            ws.putChild(b"events", OriginCheck(guard(event_feed), allowed))
        root.putChild(b"ws", ws)
    if metrics is not None:
        root.putChild(b"metrics", guard(metrics))
    return root


class BoundedRequest(Request):
    """
    A L{Request} that keeps at most C{max_body + 1} bytes of its body, so an
    oversized body costs neither memory nor disk while it is read; the
    handler then sees more than C{max_body} bytes and answers 413.
    """

    @property
    def max_body(self) -> int:
        """The largest body kept: C{[api] max_body} in force (see L{build_site})."""
        return self.limit()

    #: Gives the largest body (1 MiB unless L{build_site} says otherwise).
    limit: Callable[[], int] = staticmethod(lambda: 1_048_576)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        """The request is complete: its connection has no deadline any more (L{QuietSite})."""
        deadline = getattr(self.channel, "ocppcs_deadline", None)
        if deadline is not None and deadline.active():
            deadline.cancel()
        super().requestReceived(command, path, version)

    def gotLength(self, length: int | None) -> None:
        """Prepare the body buffer: in memory, since at most C{max_body + 1} bytes are kept."""
        self.content = BytesIO()  # type: ignore[assignment]  # Twisted types it "= None", documents BinaryIO
        self._kept = 0

    def handleContentChunk(self, data: bytes) -> None:
        """Keep the part of C{data} that still fits; drop the rest."""
        room = self.max_body + 1 - self._kept
        if room > 0:
            part = data[:room]
            self._kept += len(part)
            super().handleContentChunk(part)


def _too_slow(channel: Any) -> None:
    """The opening request did not come in time: 408, and closed."""
    transport = channel.transport
    if transport is None or getattr(transport, "disconnected", False):
        return  # upgraded to a WebSocket (the transport moved on) or gone
    _log.info("Closing {peer}: no complete request in time", peer=str(transport.getPeer()))
    transport.write(
        b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    transport.loseConnection()


class QuietSite(Site):
    """A L{Site} that does not write an access-log line for every request."""

    requestFactory = BoundedRequest
    #: Gives the seconds a connection has to send its first request (0: no deadline).
    handshake_timeout: Callable[[], float] = staticmethod(lambda: 0.0)

    def buildProtocol(self, addr: Any) -> Any:
        """A channel that must receive its first complete request within L{handshake_timeout}."""
        protocol = super().buildProtocol(addr)
        timeout = self.handshake_timeout()
        if timeout:
            channel = getattr(
                protocol, "_channel", protocol
            )  # inside Twisted's HTTP/1-or-2 wrapper
            channel.ocppcs_deadline = self.reactor.callLater(timeout, _too_slow, channel)
        return protocol

    def log(self, request: object) -> None:
        return None


def build_site(
    station_factory: OcppServerFactory,
    api: RestApi,
    guard: Guard = unguarded,
    log_feed: IResource | None = None,
    metrics: IResource | None = None,
    event_feed: IResource | None = None,
    soap: IResource | None = None,
) -> Site:
    """The HTTP site serving L{build_root}'s tree."""
    site = QuietSite(build_root(station_factory, api, guard, log_feed, metrics, event_feed, soap))
    site.displayTracebacks = False
    site.handshake_timeout = lambda: station_factory.endpoint.handshake_timeout

    class SizedRequest(BoundedRequest):
        limit = staticmethod(lambda: api.config.api.max_body)

    site.requestFactory = SizedRequest
    return site
