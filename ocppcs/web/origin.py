# -*- test-case-name: tests.integration.test_limits -*-
"""
The Origin check of the web UI's WebSocket feeds (C{/ws/log}, C{/ws/events}).

A browser sends C{Origin} with every WebSocket upgrade, and any web page it
shows may open one: without this check, a page of another site could read
the live log of an operator whose browser can reach the central system.
An upgrade whose C{Origin} is neither the server's own (the C{Host} it was
sent to) nor one of C{[api] allowed_origins} gets 403. Clients that send no
C{Origin} (scripts, not browsers) are not concerned.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, getChildForRequest
from twisted.web.server import Request
from zope.interface import implementer

from ocppcs.web.http import error_body
from ocppcs.web.sessions import same_origin

_log = Logger()


def origin_allowed(request: IRequest, allowed: tuple[str, ...]) -> bool:
    """Whether C{request} has no C{Origin}, the server's own, or one of C{allowed}."""
    origin = request.getHeader(b"origin")
    if origin is None or same_origin(request):
        return True
    return origin.decode("latin-1").rstrip("/").lower() in allowed


@implementer(IResource)
class OriginCheck:
    """C{wrapped}, for upgrades from allowed origins only (a leaf, as L{Guarded} is)."""

    isLeaf = True

    def __init__(self, wrapped: IResource, allowed: Callable[[], tuple[str, ...]]) -> None:
        self.wrapped = wrapped
        self._allowed = allowed

    def getChildWithDefault(self, name: bytes, request: IRequest) -> IResource:
        """Not used by traversal (a leaf); given for completeness."""
        return self.wrapped.getChildWithDefault(name, request)

    def putChild(self, path: bytes, child: IResource) -> None:
        """Add a child to the wrapped resource."""
        self.wrapped.putChild(path, child)

    def render(self, request: Request) -> bytes | int:
        """Render the wrapped resource, or answer 403 for a foreign origin."""
        if origin_allowed(request, self._allowed()):
            return getChildForRequest(self.wrapped, request).render(request)
        origin = (request.getHeader(b"origin") or b"").decode("latin-1")
        _log.warn(
            "Refused a feed from origin {origin}: {path}",
            origin=origin,
            path=request.path.decode("utf-8", "replace"),
        )
        request.setResponseCode(403)
        request.setHeader(b"Content-Type", b"application/json")
        return error_body(403, f"Origin {origin} may not open this feed ([api] allowed_origins)")
