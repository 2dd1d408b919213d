"""
What a newcomer's browser finds: a page of links at C{/} (until the web UI
is there) and a JSON index at C{/api/v1} and C{/api/v1/}, whose every link
answers.
"""

from __future__ import annotations

import re

import pytest_twisted
from twisted.internet import reactor

import ocppcs
from tests.web.conftest import Api, WebCentral


@pytest_twisted.ensureDeferred
async def test_root_is_a_page_of_links(web: WebCentral) -> None:
    """C{/} is HTML linking the docs, the document, the metrics and the station list."""
    site = Api(reactor, f"http://127.0.0.1:{web.port}")
    try:
        page = await site.get("/")
        assert page.status == 200
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        links = set(re.findall(rb'href="([^"]+)"', page.body))
        assert {
            b"/docs/",
            b"/api/v1/openapi.yaml",
            b"/metrics",
            b"/api/v1/ChargePointList",
        } <= links
        assert f"ocppcs {ocppcs.__version__}".encode() in page.body
        for link in sorted(links):
            assert (await site.get(link.decode())).status == 200, link
        assert (await site.get("/nothing-here")).status == 404
    finally:
        await site.close()


@pytest_twisted.ensureDeferred
async def test_api_index_with_and_without_slash(web: WebCentral) -> None:
    """C{/api/v1} and C{/api/v1/} answer the same JSON index; its links answer."""
    site = Api(reactor, f"http://127.0.0.1:{web.port}")
    try:
        bare = await site.get("/api/v1")
        slash = await site.get("/api/v1/")
        assert bare.status == slash.status == 200
        assert bare.header("Content-Type") == "application/json"
        index = slash.json
        assert bare.json == index
        assert (index["openapi"], index["docs"]) == ("/api/v1/openapi.yaml", "/docs/")
        for link in [
            index["openapi"],
            index["openapiJson"],
            index["docs"],
            *index["links"].values(),
        ]:
            reply = await site.get(link)
            assert reply.status == 200, (link, reply.body[:200])
        (await site.get("/api/v1/", x="1")).error(400)
    finally:
        await site.close()
