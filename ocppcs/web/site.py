# -*- test-case-name: tests.web.test_site -*-
"""
The one resource tree served on every listener.

    /ocpp/{identity}[/{account}]   OCPP-J station endpoint (WebSocket)
    /api/v1/...                    REST API (Klein; see openapi.yaml)
    /docs/                         Swagger UI
"""

from __future__ import annotations

from autobahn.twisted.resource import WebSocketResource
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Site

from ocppcs.transports.websocket import OcppServerFactory
from ocppcs.web.api import RestApi
from ocppcs.web.docs import build_docs


class _Root(Resource):
    """The root: named children, and a plain 404 for anything else."""

    def getChild(self, path: bytes, request: object) -> Resource:
        return notFound("No such resource", "This central system has nothing at this path.")


def build_root(station_factory: OcppServerFactory, api: RestApi) -> Resource:
    """Build the resource tree: every path the server answers."""
    root = _Root()
    root.putChild(b"ocpp", WebSocketResource(station_factory))
    root.putChild(b"api", api.resource())
    root.putChild(b"docs", build_docs())
    return root


class QuietSite(Site):
    """A L{Site} that does not write an access-log line for every request."""

    def log(self, request: object) -> None:
        return None


def build_site(station_factory: OcppServerFactory, api: RestApi) -> Site:
    """The HTTP site serving L{build_root}'s tree."""
    site = QuietSite(build_root(station_factory, api))
    site.displayTracebacks = False
    return site
