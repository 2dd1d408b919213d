# -*- test-case-name: tests.web.test_api_session -*-
"""
The web UI's login (L{ocppcs.web.sessions}); open without credentials:

    GET    /api/v1/Session     {auth, authenticated, user, cookie}
    POST   /api/v1/Session     {"user", "password"} (auth = basic) or {"token"} (bearer):
                               sets the session cookies; 403 for wrong credentials
    DELETE /api/v1/Session     logout: ends the cookie session, clears the cookies (204)
"""

from __future__ import annotations

import base64
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.iweb import IRequest

from ocppcs.web.api_base import ApiBase, app
from ocppcs.web.credentials import Verdict
from ocppcs.web.http import ApiError, check_members, json_body, query_args, read_object, str_member
from ocppcs.web.sessions import csrf_ok, set_cookies

#: Longest user name, password or token accepted at a login.
MAX_SECRET = 1024


class SessionRoutes(ApiBase):
    """Log in and out of the web UI."""

    def _auth(self) -> Any:
        auth = self.auth
        return auth if auth is not None and auth.enabled else None

    @app.route("/v1/Session", methods=["GET"])
    async def get_session(self, request: IRequest) -> bytes:
        """Whether this request is authenticated, and how."""
        query_args(request, set())
        auth = self._auth()
        if auth is None:
            body = {"auth": "none", "authenticated": True, "user": None, "cookie": False}
            return json_body(request, body)
        session = auth.sessions.of(request)
        user, cookie, ok = None, False, False
        if session is not None:
            user, cookie, ok = session.user, True, True
        elif auth.needs_nothing(request):
            ok = True
        elif request.getHeader(b"authorization") is not None:
            verdict = auth.check(request)
            if isinstance(verdict, Deferred):
                verdict = await verdict
            ok = verdict is Verdict.ALLOWED
        body = {"auth": self.config.api.auth, "authenticated": ok, "user": user, "cookie": cookie}
        return json_body(request, body)

    @app.route("/v1/Session", methods=["POST"])
    async def login(self, request: IRequest) -> bytes:
        """Check the credentials once; on success start a cookie session."""
        query_args(request, set())
        auth = self._auth()
        if auth is None:
            raise ApiError(400, "Authentication is off ([api] auth = none): no login needed")
        body = read_object(request, self.config.api.max_body)
        assert body is not None
        check_members(body, {"user", "password", "token"}, set())
        if auth.scheme == "Basic":
            user = str_member(body, "user", MAX_SECRET, nullable=False) if "user" in body else None
            password = str_member(body, "password", MAX_SECRET) or ""
            if not user:
                raise ApiError(400, "user and password are needed ([api] auth = basic)")
            credential = b"Basic " + base64.b64encode(f"{user}:{password}".encode())
        else:
            token = str_member(body, "token", MAX_SECRET) or ""
            if not token:
                raise ApiError(400, "token is needed ([api] auth = bearer)")
            user, credential = "token", b"Bearer " + token.encode()
        verdict = auth.login(credential)
        if isinstance(verdict, Deferred):
            verdict = await verdict
        if verdict is Verdict.BUSY:
            raise ApiError(503, "Too many credential checks in progress; retry shortly")
        if verdict is not Verdict.ALLOWED:
            raise ApiError(403, "Wrong user name or password" if user != "token" else "Wrong token")
        session = auth.sessions.create(user)
        set_cookies(request, session, auth.sessions.ttl)
        return json_body(request, {"user": user, "expiresIn": int(auth.sessions.ttl)})

    @app.route("/v1/Session", methods=["DELETE"])
    def logout(self, request: IRequest) -> bytes:
        """End this browser's session (needs its CSRF token) and clear its cookies."""
        query_args(request, set())
        auth = self._auth()
        session = auth.sessions.of(request) if auth is not None else None
        if session is not None:
            if not csrf_ok(request, session):
                raise ApiError(403, "Logging out needs the session's X-CSRF-Token header")
            auth.sessions.drop(session.sid)
        if auth is not None:
            set_cookies(request, None, 0)
        request.setResponseCode(204)
        return b""
