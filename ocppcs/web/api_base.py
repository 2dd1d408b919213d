# -*- test-case-name: tests.web.test_api_http -*-
"""
The one Klein app of the REST API, shared by the route mixins in the
C{ocppcs.web.api_*} modules, with its error handlers: every error, including
routing errors, is answered with the JSON error body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from klein import Klein
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ocppcs.backends.interface import IDecider, IOperatorStore, IRecord
from ocppcs.backends.postgres.pool import is_unavailable
from ocppcs.config import Config
from ocppcs.confighold import reading
from ocppcs.followup import Commands
from ocppcs.locator import StationLocator
from ocppcs.onboarding import RefusalLog
from ocppcs.stations import StationRegistry
from ocppcs.web.http import ApiError, error_body, paging, query_args

#: The REST API's routes (mounted at C{/api}); every C{api_*} module adds to it.
app = Klein()
# "/api/v1//ping" is not "/api/v1/ping": no redirects, a plain 404.
app.url_map.merge_slashes = False

#: The query parameters of every paged list.
PAGING = frozenset({"limit", "offset"})


def _json_error(request: IRequest, code: int, message: str, extra: Any = None) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    return error_body(code, message, extra)


class ApiBase:
    """
    What every route mixin shares: the objects it works with, the error
    handlers and a few helpers.

    @ivar registry: the stations connected to this process.
    @ivar commands: the one call path to stations (L{Commands.call}).
    @ivar locator: where stations are connected (this node or another).
    @ivar backend: the record (what every deployment keeps).
    @ivar decider: what answers the stations, or C{None} for the record's
        own (embedded) rules.
    @ivar config: the whole configuration in force (C{[api]} and C{[server]}),
        read at use time from the reader given (or the fixed L{Config}).
    @ivar clock: the time source.
    @ivar refusals: refused connection attempts.
    @ivar emulator: the L{ocppcs.emulator.service.EmulatorService} of this
        process, or C{None} when the emulator is not enabled.
    @ivar auth: the L{ocppcs.web.auth.OperatorAuth} guarding the API (its
        browser sessions), or C{None}.
    """

    app = app
    _log = Logger()

    def __init__(
        self,
        registry: StationRegistry,
        backend: IRecord,
        config: Config | Callable[[], Config],
        clock: IReactorTime,
        refusals: RefusalLog | None = None,
        emulator: Any = None,
        auth: Any = None,
        decider: IDecider | None = None,
        commands: Commands | None = None,
    ) -> None:
        self.registry = registry
        if commands is None:
            commands = Commands(StationLocator(registry), backend)
        self.commands = commands
        self.locator = commands.locator
        self.auth = auth
        self.decider = decider
        self.emulator = emulator
        self.backend = backend
        self._config = reading(config)
        self.clock = clock
        self.refusals = refusals if refusals is not None else RefusalLog(clock)

    @property
    def config(self) -> Config:
        """The whole configuration in force."""
        return self._config()

    # --- helpers -------------------------------------------------------------------------------

    def store(self) -> Any:
        """
        The backend's operator queries (L{IOperatorStore}).

        @raise ApiError: 501 when the backend has none.
        """
        if not IOperatorStore.providedBy(self.backend):
            raise ApiError(501, f"The {self.backend.name} backend does not support this")
        return self.backend

    def rules(self) -> Any:
        """
        The record's operator queries, for an action that changes what the
        decider decides by (id tags, registrations).

        @raise ApiError: 409 when the stations are answered by a decider with
            rules of its own (the webhook's receiver), so such a change would
            mean nothing; 501 as L{store}.
        """
        store = self.store()
        decider = self.decider
        if decider is not None and not decider.local_rules:
            raise ApiError(
                409,
                f"Id tags and station registrations are decided by the {decider.name} backend,"
                " not by this central system",
            )
        return store

    def paged_args(
        self, request: IRequest, allowed: frozenset[str] = frozenset()
    ) -> tuple[dict[str, str], int, int]:
        """
        The query parameters (C{allowed} and the paging ones) and C{(limit, offset)}.

        @raise ApiError: 400 for an unknown or bad parameter.
        """
        args = query_args(request, allowed | PAGING)
        limit, offset = paging(args, self.config.api.page_size, self.config.api.max_page_size)
        return args, limit, offset

    # --- errors --------------------------------------------------------------------------------

    @app.handle_errors(ApiError)
    def _api_error(self, request: IRequest, failure: Failure) -> bytes:
        error: ApiError = failure.value
        for name, value in error.headers.items():
            request.setHeader(name.encode(), value.encode())
        return _json_error(request, error.code, error.message, error.extra)

    @app.handle_errors(NotFound)
    def _not_found(self, request: IRequest, failure: Failure) -> bytes:
        path = request.path.decode("utf-8", "replace")
        return _json_error(request, 404, f"No such API path: {path}")

    @app.handle_errors(MethodNotAllowed)
    def _not_allowed(self, request: IRequest, failure: Failure) -> bytes:
        allowed = ", ".join(getattr(failure.value, "valid_methods", None) or [])
        if allowed:
            request.setHeader(b"Allow", allowed.encode())
        return _json_error(request, 405, f"Method {request.method.decode()} is not allowed here")

    @app.handle_errors(HTTPException)
    def _http_error(self, request: IRequest, failure: Failure) -> bytes:
        error: HTTPException = failure.value
        code = error.code if error.code and 400 <= error.code < 500 else 404
        return _json_error(request, code, error.description or "Bad request")

    @app.handle_errors(Exception)
    def _bug(self, request: IRequest, failure: Failure) -> bytes:
        if is_unavailable(failure):  # the PostgreSQL record, down or restarting
            self._log.warn(
                "REST API request {path}: the database is unavailable ({error})",
                path=request.path,
                error=failure.getErrorMessage().strip(),
            )
            request.setHeader(b"Retry-After", b"5")
            return _json_error(request, 503, "The database is unavailable; retry shortly")
        self._log.failure("REST API request {path} failed", failure, path=request.path)
        return _json_error(request, 500, "Internal error; see the server log")
