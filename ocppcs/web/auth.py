# -*- test-case-name: tests.web.test_auth_checks,tests.web.test_auth_service -*-
"""
Operator authentication: C{[api] auth = auto | none | basic | bearer}.

C{auto} (the default) lets requests from this host (loopback, UNIX socket)
through without credentials and asks everyone else for Basic credentials:
C{[api] users}, or else the operator password generated on first start
(L{ocppcs.web.firstrun}).

L{OperatorAuth.guard} wraps an operator resource (the REST API, Swagger UI,
the log feed, metrics) in a L{Guarded} resource that answers 401 with
C{WWW-Authenticate} and the JSON error body unless the request carries good
credentials: C{Authorization: Basic ...} checked against C{[api] users}, or
C{Authorization: Bearer ...} checked against C{[api] tokens}. The station
endpoint C{/ocpp} is never wrapped; C{/api/v1/ping}, C{/api/v1/time} and
C{/api/v1/Session} (the login) are left open (L{API_OPEN_PATHS}).

The check happens before the wrapped resource sees the request, so a
WebSocket upgrade without credentials is refused with 401 before any
upgrade, and a Klein resource sees the same C{prepath}/C{postpath} as if it
were mounted directly (L{Guarded} is a leaf that continues the traversal
itself once the request is let through).

Credentials are verified off the reactor thread, and verdicts remembered, by
L{CredentialChecker} (L{ocppcs.web.credentials}).

A browser logged in to the web UI sends a session cookie instead
(L{ocppcs.web.sessions}): without an C{Authorization} header, a request with
a live session cookie is allowed, if it is safe or carries the session's
CSRF token, and is a same-origin WebSocket upgrade (browsers cannot put
C{Authorization} on WebSockets). Requests marked C{X-Requested-With:
ocppcs-ui} get their 401 without C{WWW-Authenticate}, so that the browser
shows the UI's login screen rather than its own dialog.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from twisted.internet.address import UNIXAddress
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, getChildForRequest
from twisted.web.server import NOT_DONE_YET, Request
from zope.interface import implementer

from ocppcs.config import ApiConfig, Config
from ocppcs.confighold import reading
from ocppcs.web.credentials import (
    CACHE_SIZE,
    CACHE_TTL,
    CONCURRENCY,
    MAX_WAITING,
    CredentialChecker,
    Verdict,
)
from ocppcs.web.http import error_body
from ocppcs.web.sessions import SessionStore, csrf_ok, same_origin, session_cookie

__all__ = [
    "API_OPEN_PATHS",
    "CACHE_SIZE",
    "CACHE_TTL",
    "CONCURRENCY",
    "MAX_WAITING",
    "REALM",
    "Guard",
    "Guarded",
    "OperatorAuth",
    "Verdict",
    "build_guard",
    "is_local_listener",
    "is_loopback_client",
    "unguarded",
    "warn_if_open",
]

#: Paths under C{/api} that need no credentials.
API_OPEN_PATHS: frozenset[tuple[bytes, ...]] = frozenset(
    {(b"v1", b"ping"), (b"v1", b"time"), (b"v1", b"Session")}
)
REALM = "ocppcs"

_log = Logger()


class Guard(Protocol):
    """Wraps an operator resource; C{open_paths} are postpaths left open."""

    def __call__(
        self, resource: IResource, open_paths: Iterable[tuple[bytes, ...]] = ()
    ) -> IResource: ...


def unguarded(resource: IResource, open_paths: Iterable[tuple[bytes, ...]] = ()) -> IResource:
    """The L{Guard} of C{auth = none}: C{resource} itself."""
    return resource


class OperatorAuth:
    """
    Checks operator credentials as C{[api]} says (with a
    L{CredentialChecker}) and answers requests that lack good ones.

    @param config: C{[api]}: C{auth}, C{users}, C{tokens}; or a reader of
        the current one, read for every request (new credentials apply to
        the next request, with verdicts remembered for the old ones dropped).
    @param reactor: the clock and thread pool of verifications.
    @param run: runs a verification and gives its result; the reactor's
        thread pool if C{None} (tests may run it synchronously).
    @raise ConfigError: on bad or missing users or tokens.
    """

    def __init__(
        self,
        config: ApiConfig | Callable[[], ApiConfig],
        reactor: Any,
        run: Callable[[Callable[[], bool]], Deferred[bool]] | None = None,
        cache_size: int = CACHE_SIZE,
        cache_ttl: float = CACHE_TTL,
    ) -> None:
        self._config = reading(config)
        self._make = lambda api: CredentialChecker(api, reactor, run, cache_size, cache_ttl)
        self._api = self._config()
        self._current = self._make(self._api)
        #: The web UI's browser sessions.
        self.sessions = SessionStore(reactor)

    @property
    def _checker(self) -> CredentialChecker:
        """The checker of the C{[api]} in force (a new one when it changed)."""
        api = self._config()
        if api is not self._api:
            old, self._api = self._api, api
            if (old.auth, old.users, old.tokens) != (api.auth, api.users, api.tokens):
                # Browser sessions were opened with the old credentials: log in again.
                self._current = self._make(api)
                self.sessions.clear()
        return self._current

    @property
    def scheme(self) -> str:
        """C{"Basic"}, C{"Bearer"}, or C{""} for C{auth = none} (as in force now)."""
        return self._checker.scheme

    @property
    def enabled(self) -> bool:
        """Whether credentials are needed at all."""
        return bool(self.scheme)

    def guard(self, resource: IResource, open_paths: Iterable[tuple[bytes, ...]] = ()) -> IResource:
        """
        C{resource} behind this check (which lets everything through while
        C{auth = none} is in force).

        @param open_paths: C{request.postpath} values, relative to where the
            result is mounted, that need no credentials (e.g. L{API_OPEN_PATHS}).
        """
        return Guarded(resource, self, open_paths)

    # --- checking ------------------------------------------------------------------------------

    def check(self, request: IRequest) -> Verdict | Deferred[Verdict]:
        """The verdict on C{request}'s credentials, at once when known."""
        if not self.enabled or self.needs_nothing(request):
            return Verdict.ALLOWED
        header = request.getHeader(b"authorization")
        if header is None and session_cookie(request):
            session = self.sessions.of(request)
            if session is None:
                return Verdict.MISSING
            upgrade = (request.getHeader(b"upgrade") or b"").lower() == b"websocket"
            if not csrf_ok(request, session) or (upgrade and not same_origin(request)):
                return Verdict.FORBIDDEN
            return Verdict.ALLOWED
        return self._checker.check(header)

    def needs_nothing(self, request: IRequest) -> bool:
        """Whether C{request} needs no credentials: C{auth = auto}, from this host."""
        return self._config().auth == "auto" and is_loopback_client(request)

    def login(self, credential: bytes) -> Verdict | Deferred[Verdict]:
        """The verdict on an C{Authorization} header value (for a login)."""
        return self._checker.check(credential)

    # --- answering -----------------------------------------------------------------------------

    def refuse(self, request: IRequest, verdict: Verdict) -> bytes:
        """Set C{request}'s 401 (or 503) status and headers; return the JSON body."""
        request.setHeader(b"Content-Type", b"application/json")
        if verdict is Verdict.BUSY:
            request.setResponseCode(503)
            request.setHeader(b"Retry-After", b"1")
            return error_body(503, "Too many credential checks in progress; retry shortly")
        if verdict is Verdict.FORBIDDEN:
            request.setResponseCode(403)
            return error_body(
                403,
                "A cookie session needs its X-CSRF-Token header, and WebSockets the same origin",
            )
        challenge = f'{self.scheme} realm="{REALM}"'
        if verdict is Verdict.REFUSED:
            peer = request.getClientAddress()
            _log.warn(
                "Operator authentication failed: {method} {path} from {peer}",
                method=request.method.decode("ascii", "replace"),
                path=request.path.decode("utf-8", "replace"),
                peer=getattr(peer, "host", str(peer)),
            )
            if self.scheme == "Bearer":
                challenge += ', error="invalid_token"'
        request.setResponseCode(401)
        if request.getHeader(b"x-requested-with") != b"ocppcs-ui":
            request.setHeader(b"WWW-Authenticate", challenge.encode())
        what = "credentials" if self.scheme == "Basic" else "bearer token"
        if verdict is Verdict.MISSING:
            return error_body(401, f"Authentication required: send {self.scheme} {what}")
        return error_body(401, f"Invalid {what}")


def build_guard(config: ApiConfig, reactor: Any) -> Guard:
    """
    The L{Guard} for C{config}: applies to each operator resource.

    @raise ConfigError: on bad or missing users or tokens.
    """
    return OperatorAuth(config, reactor).guard


@implementer(IResource)
class Guarded:
    """
    C{wrapped}, reachable only with credentials that C{auth} accepts.

    A leaf, so traversal stops here with C{prepath}/C{postpath} as they are;
    once the request is let through, traversal continues into C{wrapped}
    exactly as L{twisted.web.server.Site} would have done.
    """

    isLeaf = True

    def __init__(
        self, wrapped: IResource, auth: OperatorAuth, open_paths: Iterable[tuple[bytes, ...]] = ()
    ) -> None:
        self.wrapped = wrapped
        self._auth = auth
        self._open = frozenset(tuple(p) for p in open_paths)

    def getChildWithDefault(self, name: bytes, request: IRequest) -> IResource:
        """Not used by traversal (a leaf); given for completeness."""
        return self.wrapped.getChildWithDefault(name, request)

    def putChild(self, path: bytes, child: IResource) -> None:
        """Add a child to the wrapped resource."""
        self.wrapped.putChild(path, child)

    def _target(self, request: IRequest) -> IResource:
        return getChildForRequest(self.wrapped, request)

    def render(self, request: Request) -> bytes | int:
        """Check, then render the wrapped resource, or answer 401."""
        if not self._auth.enabled or tuple(request.postpath or ()) in self._open:
            return self._target(request).render(request)
        verdict = self._auth.check(request)
        if isinstance(verdict, Verdict):
            if verdict is Verdict.ALLOWED:
                return self._target(request).render(request)
            return self._auth.refuse(request, verdict)
        gone: list[object] = []
        request.notifyFinish().addBoth(gone.append)
        verdict.addCallback(self._decided, request, gone)
        verdict.addErrback(self._failed, request, gone)
        return NOT_DONE_YET

    def _decided(self, verdict: Verdict, request: Request, gone: list[object]) -> None:
        if gone:
            return  # the client went away while we checked
        if verdict is Verdict.ALLOWED:
            request.render(self._target(request))
        else:
            request.write(self._auth.refuse(request, verdict))
            request.finish()

    def _failed(self, failure: Failure, request: Request, gone: list[object]) -> None:
        _log.failure("Operator request {path} failed", failure, path=request.path)
        if gone or request.finished or request.startedWriting:
            return
        request.setResponseCode(500)
        request.setHeader(b"Content-Type", b"application/json")
        request.write(error_body(500, "Internal error; see the server log"))
        request.finish()


# --- listeners open to the network ---------------------------------------------------------------


def _split_description(description: str) -> list[str]:
    """Split an endpoint description on colons not escaped by a backslash."""
    parts, current, escaped = [], [], False
    for char in description:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def is_local_listener(description: str) -> bool:
    """
    Whether the server endpoint C{description} can only be reached from this
    host: a UNIX socket, or TCP/TLS bound to a loopback address. No
    C{interface} (all of them), C{0.0.0.0}, C{::}, any other address or an
    unknown endpoint type is not.
    """
    parts = _split_description(description.strip())
    kind = parts[0].lower()
    if kind == "unix":
        return True
    if kind not in {"tcp", "tcp6", "ssl", "tls"}:
        return False
    options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    interface = options.get("interface", "").strip("[]")
    if interface.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(interface)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def is_loopback_client(request: IRequest) -> bool:
    """Whether C{request} comes from this host: a loopback address or a UNIX socket."""
    peer = request.getClientAddress()
    if isinstance(peer, UNIXAddress):
        return True
    try:
        address = ipaddress.ip_address(getattr(peer, "host", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def warn_if_open(config: Config) -> list[str]:
    """
    Log a warning when C{[api] auth = none} and some listener is reachable
    from the network. Returns those listeners.
    """
    if config.api.auth != "none":
        return []
    exposed = [d for d in config.server.listen if not is_local_listener(d)]
    if exposed:
        _log.warn(
            "The operator API (/api, /docs, /ws/*, /metrics) is open to the network: "
            "[api] auth = none while listening on {listeners}; set [api] auth = basic or bearer",
            listeners=", ".join(exposed),
            exposed=exposed,
        )
    return exposed
