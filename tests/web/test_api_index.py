"""
What a newcomer finds at C{/api/v1} and C{/api/v1/}: a JSON index whose
every link answers (C{/} is the web UI, tests/web/test_api_ui.py).
"""

from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor

from tests.web.conftest import Api, WebCentral


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
