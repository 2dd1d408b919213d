# -*- test-case-name: tests.web.test_docs -*-
"""
Swagger UI at C{/docs/}, from the C{swagger-ui-bundle} package's files (never
a CDN), showing C{/api/v1/openapi.json}.
"""

from __future__ import annotations

from swagger_ui_bundle import swagger_ui_path
from twisted.web.resource import Resource
from twisted.web.static import Data, File

#: Replaces the bundle's initializer (which points at the Petstore example).
INITIALIZER = b"""window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"""


def build_docs() -> Resource:
    """The C{/docs/} resource: the Swagger UI files with our initializer."""
    docs = File(swagger_ui_path, defaultType="application/octet-stream")
    docs.indexNames = ["index.html"]
    docs.directoryListing = lambda: File.childNotFound  # type: ignore[method-assign]
    docs.putChild(b"swagger-initializer.js", Data(INITIALIZER, "application/javascript"))
    docs.putChild(b"index.j2", File.childNotFound)
    return docs
