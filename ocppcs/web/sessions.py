# -*- test-case-name: tests.web.test_sessions -*-
"""
Browser sessions of the web UI when C{[api] auth} is on: a login
(C{POST /api/v1/Session}, L{ocppcs.web.api_session}) checks the user's
credentials once and sets two cookies:

    ocppcs_session   the session id: HttpOnly, SameSite=Strict, Path=/
    ocppcs_csrf      the CSRF token: SameSite=Strict, Path=/, readable by the page

A request with the session cookie and no C{Authorization} header is let
through by the guard (L{ocppcs.web.auth.OperatorAuth.check}) while the
session lasts; a state-changing one (not GET/HEAD/OPTIONS) must also carry
the CSRF token in the C{X-CSRF-Token} header, and a WebSocket upgrade must
come from a page of the same origin (its C{Origin} header), otherwise 403.
Sessions live in memory for L{SESSION_TTL} seconds (a restart logs
everyone out); at most L{MAX_SESSIONS}, the oldest dropped first.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit

from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest

SESSION_COOKIE = b"ocppcs_session"
CSRF_COOKIE = b"ocppcs_csrf"
CSRF_HEADER = b"x-csrf-token"
SESSION_TTL = 8 * 3600.0
MAX_SESSIONS = 1000
SAFE_METHODS = frozenset({b"GET", b"HEAD", b"OPTIONS"})


@dataclass(frozen=True)
class Session:
    """A logged-in browser."""

    sid: str
    csrf: str
    user: str
    expires: float


class SessionStore:
    """The live sessions, in memory, bounded."""

    def __init__(
        self, clock: IReactorTime, ttl: float = SESSION_TTL, size: int = MAX_SESSIONS
    ) -> None:
        self._clock = clock
        self.ttl = ttl
        self._size = size
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def clear(self) -> None:
        """End every session (the credentials they were opened with changed)."""
        self._sessions.clear()

    def create(self, user: str) -> Session:
        """A new session for C{user}."""
        session = Session(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            user,
            self._clock.seconds() + self.ttl,
        )
        self._sessions[session.sid] = session
        while len(self._sessions) > self._size:
            self._sessions.popitem(last=False)
        return session

    def get(self, sid: str) -> Session | None:
        """The session C{sid}, if it exists and has not expired."""
        session = self._sessions.get(sid)
        if session is not None and session.expires <= self._clock.seconds():
            del self._sessions[sid]
            return None
        return session

    def drop(self, sid: str) -> None:
        """End the session C{sid}."""
        self._sessions.pop(sid, None)

    def of(self, request: IRequest) -> Session | None:
        """The session of C{request}'s cookie, if any."""
        sid = session_cookie(request)
        if not sid:
            return None
        return self.get(sid.decode("ascii", "replace"))


def session_cookie(request: IRequest) -> bytes | None:
    """The value of C{request}'s session cookie, if it sent one."""
    for header in request.requestHeaders.getRawHeaders(b"cookie") or ():
        for part in header.split(b";"):
            name, eq, value = part.strip().partition(b"=")
            if eq and name == SESSION_COOKIE:
                return value
    return None


def csrf_ok(request: IRequest, session: Session) -> bool:
    """Whether C{request} may act for C{session}: safe, or with its CSRF token."""
    if request.method in SAFE_METHODS:
        return True
    token = request.getHeader(CSRF_HEADER) or ""
    return hmac.compare_digest(
        token.encode() if isinstance(token, str) else token, session.csrf.encode()
    )


def same_origin(request: IRequest) -> bool:
    """Whether a WebSocket upgrade's C{Origin} (if any) is the host it was sent to."""
    origin = request.getHeader(b"origin")
    if origin is None:
        return True
    host = request.getHeader(b"host") or b""
    return urlsplit(origin.decode("latin-1")).netloc.lower() == host.decode("latin-1").lower()


def set_cookies(request: IRequest, session: Session | None, ttl: float) -> None:
    """Set (or, for C{None}, clear) the session and CSRF cookies on the response."""
    age = str(int(ttl)) if session is not None else "0"
    secure = request.isSecure()
    for name, value, http_only in (
        (SESSION_COOKIE, session.sid if session else "", True),
        (CSRF_COOKIE, session.csrf if session else "", False),
    ):
        # IRequest.addCookie lacks httpOnly and sameSite; twisted.web.http.Request has them.
        request.addCookie(  # type: ignore[call-arg]
            name,
            value.encode(),
            path=b"/",
            max_age=age.encode(),
            secure=secure,
            httpOnly=http_only,
            sameSite=b"strict",
        )
