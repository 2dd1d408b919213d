# -*- test-case-name: tests.web.test_api -*-
"""
The REST API (Klein), mounted at C{/api}; its routes are described by
C{openapi.yaml} beside this module, the single source of truth.

    GET  /api/v1/ping            "OK" (text/plain, as the original)
    GET  /api/v1/time            {"serverTime": <unix ms>}
    GET  /api/v1/openapi.yaml    this API's OpenAPI 3 document (also .json)
"""

from __future__ import annotations

from typing import Any

from klein import Klein
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from ocppcs.backends.interface import IBackend
from ocppcs.config import Config
from ocppcs.stations import StationRegistry
from ocppcs.web import openapi
from ocppcs.web.http import ApiError, error_body, json_body, query_args


class RestApi:
    """
    The operators' REST API.

    @param registry: the connected stations (and L{StationRegistry.call}).
    @param backend: the store.
    @param config: the whole configuration (C{[api]} and C{[server]}).
    @param clock: the time source.
    """

    app = Klein()
    _log = Logger()

    def __init__(
        self, registry: StationRegistry, backend: IBackend, config: Config, clock: IReactorTime
    ) -> None:
        self.registry = registry
        self.backend = backend
        self.config = config
        self.clock = clock

    # --- errors --------------------------------------------------------------------------------

    @app.handle_errors(ApiError)
    def _api_error(self, request: IRequest, failure: Failure) -> bytes:
        error: ApiError = failure.value
        for name, value in error.headers.items():
            request.setHeader(name.encode(), value.encode())
        request.setResponseCode(error.code)
        request.setHeader(b"Content-Type", b"application/json")
        return error_body(error.code, error.message)

    @app.handle_errors(NotFound)
    def _not_found(self, request: IRequest, failure: Failure) -> bytes:
        request.setResponseCode(404)
        request.setHeader(b"Content-Type", b"application/json")
        return error_body(404, f"No such API path: {request.path.decode('utf-8', 'replace')}")

    @app.handle_errors(MethodNotAllowed)
    def _not_allowed(self, request: IRequest, failure: Failure) -> bytes:
        request.setResponseCode(405)
        request.setHeader(b"Content-Type", b"application/json")
        allowed = ", ".join(getattr(failure.value, "valid_methods", None) or [])
        if allowed:
            request.setHeader(b"Allow", allowed.encode())
        return error_body(405, f"Method {request.method.decode()} is not allowed here")

    @app.handle_errors(Exception)
    def _bug(self, request: IRequest, failure: Failure) -> bytes:
        self._log.failure("REST API request {path} failed", failure, path=request.path)
        request.setResponseCode(500)
        request.setHeader(b"Content-Type", b"application/json")
        return error_body(500, "Internal error; see the server log")

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
        """The Klein resource to mount at C{/api}."""
        return self.app.resource()
