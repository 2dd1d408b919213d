# -*- test-case-name: tests.web.test_api_ui -*-
"""
The operator web UI: a single page served at C{/}, its assets under
C{/ui/} (package data: C{static/}, plain JavaScript modules and CSS, no
build step, nothing fetched from the internet). It uses only the REST API
(C{/api/v1}) and the live feeds (C{/ws/log}, C{/ws/events}).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from twisted.web.resource import Resource
from twisted.web.static import File

#: Content types of the assets (Python's mimetypes may not know .mjs/.svg on every system).
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}


def static_path() -> str:
    """The folder of the UI's files."""
    return str(files("ocppcs.web.ui").joinpath("static"))


class _Assets(File):
    """The asset folder: no listings, our content types, revalidated on each load."""

    contentTypes = {**File.contentTypes, **TYPES}

    def directoryListing(self) -> Resource:
        return self.childNotFound

    def render_GET(self, request: Any) -> Any:
        request.setHeader(b"Cache-Control", b"no-cache")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        return super().render_GET(request)


def build_ui() -> tuple[Resource, Resource]:
    """
    The UI's resources: the page for C{/} (C{index.html}) and the assets
    for C{/ui/}.
    """
    assets = _Assets(static_path(), defaultType="application/octet-stream")
    assets.indexNames = []
    index = _Assets(static_path() + "/index.html", defaultType="text/html")
    return index, assets
