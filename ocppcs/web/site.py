# -*- test-case-name: tests.integration.test_station_session -*-
"""
The one resource tree served on every listener.

    /ocpp/{identity}[/{account}]   OCPP-J station endpoint (WebSocket)
"""

from __future__ import annotations

from autobahn.twisted.resource import WebSocketResource
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Site

from ocppcs.transports.websocket import OcppServerFactory


class _Root(Resource):
    """The root: named children, and a plain 404 for anything else."""

    def getChild(self, path: bytes, request: object) -> Resource:
        return notFound("No such resource", "This central system has nothing at this path.")


def build_root(station_factory: OcppServerFactory) -> Resource:
    """Build the resource tree: every path the server answers."""
    root = _Root()
    root.putChild(b"ocpp", WebSocketResource(station_factory))
    return root


class QuietSite(Site):
    """A L{Site} that does not write an access-log line for every WebSocket upgrade."""

    def log(self, request: object) -> None:  # noqa: D102 - access log is off for now
        return None


def build_site(station_factory: OcppServerFactory) -> Site:
    """The HTTP site serving L{build_root}'s tree."""
    site = QuietSite(build_root(station_factory))
    site.displayTracebacks = False
    return site
