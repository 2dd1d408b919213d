# -*- test-case-name: tests.web.test_api_http -*-
"""
The REST API (Klein), mounted at C{/api}; its routes are described by
C{openapi.yaml} beside this module, the single source of truth, and a test
checks that the routes and the document agree.

    GET  /api/v1/ping            "OK" (text/plain, as the original)
    GET  /api/v1/time            {"serverTime": <unix ms>}
    GET  /api/v1/openapi.yaml    this API's OpenAPI 3 document (also .json)
    GET  /api/v1 and /api/v1/    an index: links to the document, /docs/ and the lists

and the routes of L{StationRoutes} (stations, onboarding),
L{CommandRoutes} (commands to stations), L{StationKeyRoutes} (a station's
AuthorizationKey), L{SecurityRoutes} (security events and profile), L{RecordRoutes} (transactions,
reservations, id tags, the frame log) and L{EmulatorRoutes} (local actions
on emulated stations) and L{SummaryRoutes} (the web UI's dashboard
summary and command schemas) and L{SessionRoutes} (its login), which share one Klein app
(L{ocppcs.web.api_base.app}).

Every error is C{{"error": {"code": <HTTP status>, "message": "..."}}};
unknown query parameters, malformed JSON and wrong types are 400, bodies
over C{[api] max_body} 413, and lists are paged with C{limit} and C{offset}
(C{[api] page_size} by default, at most C{[api] max_page_size}).
"""

from __future__ import annotations

from typing import Any

from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

from ocppcs.web import openapi
from ocppcs.web.api_base import app
from ocppcs.web.api_commands import CommandRoutes
from ocppcs.web.api_emulator import EmulatorRoutes
from ocppcs.web.api_keys import StationKeyRoutes
from ocppcs.web.api_records import RecordRoutes
from ocppcs.web.api_security import SecurityRoutes
from ocppcs.web.api_session import SessionRoutes
from ocppcs.web.api_stations import StationRoutes
from ocppcs.web.api_summary import SummaryRoutes
from ocppcs.web.http import error_body, json_body, query_args

#: What C{GET /api/v1/} answers.
INDEX: dict[str, Any] = {
    "name": "ocppcs REST API",
    "version": "1",
    "openapi": "/api/v1/openapi.yaml",
    "openapiJson": "/api/v1/openapi.json",
    "docs": "/docs/",
    "links": {
        "ChargePointList": "/api/v1/ChargePointList",
        "TransactionList": "/api/v1/TransactionList",
        "ReservationList": "/api/v1/ReservationList",
        "IdTagList": "/api/v1/IdTagList",
        "Log": "/api/v1/Log",
        "EmulatorStationList": "/api/v1/Emulator/StationList",
        "metrics": "/metrics",
    },
}


class _Utf8Paths(Resource):
    """
    Answers a path that is not UTF-8 once unquoted with the JSON 400 (Klein
    would answer it in plain text, and log a traceback).
    """

    isLeaf = True

    def __init__(self, klein: Resource) -> None:
        super().__init__()
        self._klein = klein

    def render(self, request: IRequest) -> Any:
        try:
            for segment in request.postpath:
                segment.decode("utf-8")
        except UnicodeDecodeError:
            request.setResponseCode(400)
            request.setHeader(b"Content-Type", b"application/json")
            return error_body(400, "The path is not UTF-8")
        return self._klein.render(request)


class RestApi(
    StationRoutes,
    StationKeyRoutes,
    SecurityRoutes,
    CommandRoutes,
    RecordRoutes,
    EmulatorRoutes,
    SummaryRoutes,
    SessionRoutes,
):
    """
    The operators' REST API.

    @param registry: the connected stations (and L{StationRegistry.call}).
    @param backend: the store.
    @param config: the whole configuration (C{[api]} and C{[server]}).
    @param clock: the time source.
    @param refusals: refused connection attempts (L{ocppcs.onboarding.RefusalLog}).
    """

    app = app

    # --- connection ----------------------------------------------------------------------------

    @app.route("/v1/ping", methods=["GET"])
    def ping(self, request: IRequest) -> bytes:
        """Liveness: C{OK} as text, like the original."""
        query_args(request, set())
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"OK"

    @app.route("/v1/time", methods=["GET"])
    def time(self, request: IRequest) -> bytes:
        """The server's time in milliseconds since the epoch."""
        query_args(request, set())
        return json_body(request, {"serverTime": int(self.clock.seconds() * 1000)})

    # --- the document --------------------------------------------------------------------------

    @app.route("/v1/", methods=["GET"], strict_slashes=False)
    def index(self, request: IRequest) -> bytes:
        """A small index (also at C{/api/v1}): where the document, the docs and the lists are."""
        query_args(request, set())
        return json_body(request, INDEX)

    @app.route("/v1/openapi.yaml", methods=["GET"])
    def openapi_yaml(self, request: IRequest) -> bytes:
        """The OpenAPI document as YAML."""
        query_args(request, set())
        request.setHeader(b"Content-Type", b"application/yaml; charset=utf-8")
        return openapi.document_yaml()

    @app.route("/v1/openapi.json", methods=["GET"])
    def openapi_json(self, request: IRequest) -> bytes:
        """The OpenAPI document as JSON."""
        query_args(request, set())
        return json_body(request, openapi.document())

    def resource(self) -> Any:
        """The resource to mount at C{/api}: the Klein app's."""
        return _Utf8Paths(self.app.resource())
