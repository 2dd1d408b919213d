"""Swagger UI at /docs/: served from the packaged distribution, pointed at our document."""

from __future__ import annotations

import pytest_twisted

from tests.web.conftest import Api, WebCentral


@pytest_twisted.ensureDeferred
async def test_swagger_ui_served_from_package(web: WebCentral) -> None:
    """The /docs/ page, bundle and initializer are served and load our OpenAPI JSON."""
    from twisted.internet import reactor

    site = Api(reactor, f"http://127.0.0.1:{web.port}")
    try:
        index = await site.get("/docs/")
        assert index.status == 200
        assert b"swagger-ui-bundle.js" in index.body
        bundle = await site.get("/docs/swagger-ui-bundle.js")
        assert bundle.status == 200 and len(bundle.body) > 100_000
        initializer = await site.get("/docs/swagger-initializer.js")
        assert b'url: "/api/v1/openapi.json"' in initializer.body
        assert b"petstore" not in initializer.body
        document = await site.get("/api/v1/openapi.json")
        assert document.status == 200 and document.json["openapi"].startswith("3.")
        missing = await site.get("/docs/no-such-file.js")
        assert missing.status == 404
    finally:
        await site.close()
