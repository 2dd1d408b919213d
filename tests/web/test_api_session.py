"""
The web UI's login (L{ocppcs.web.api_session}, L{ocppcs.web.sessions})
through the running service with C{[api] auth = basic} and C{bearer}: the
session cookie's attributes, what it authorizes (the API, the live feeds),
the CSRF header it needs for state-changing requests, cross-origin
WebSockets, logout; and the 401 without a browser dialog for the UI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
import pytest_twisted
import websockets
from websockets.exceptions import InvalidStatus

from tests.integration.conftest import aio
from tests.web.conftest import Reply, WebCentral, start_web_central, stop_web_central
from tests.web.operators import ALICE, TOKEN, TOKEN_HASHES


@pytest_twisted.async_yield_fixture
async def basic(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    web = await start_web_central(
        tmp_path_factory.mktemp("cs"), api={"auth": "basic", "users": (ALICE,)}
    )
    yield web
    await stop_web_central(web)


def cookies(reply: Reply) -> dict[str, Any]:
    """The cookies a reply sets, by name (http.cookies Morsels)."""
    jar: SimpleCookie = SimpleCookie()
    for header in reply.headers.getRawHeaders("Set-Cookie") or []:
        jar.load(header)
    return dict(jar)


def raw_cookies(reply: Reply) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, as sent."""
    return {h.split("=", 1)[0]: h for h in reply.headers.getRawHeaders("Set-Cookie") or []}


async def login(web: WebCentral) -> tuple[str, str]:
    """Log in as alice; the Cookie header to send and the CSRF token."""
    reply = await web.api.post("/Session", {"user": "alice", "password": "wonder land"})
    assert reply.status == 200, reply.body
    assert reply.json == {"user": "alice", "expiresIn": 8 * 3600}
    jar = cookies(reply)
    sid, csrf = jar["ocppcs_session"].value, jar["ocppcs_csrf"].value
    return f"ocppcs_session={sid}; ocppcs_csrf={csrf}", csrf


@pytest_twisted.ensureDeferred
async def test_login_cookie_and_what_it_authorizes(basic: WebCentral) -> None:
    api = basic.api
    state = await api.get("/Session")
    assert state.json == {"auth": "basic", "authenticated": False, "user": None, "cookie": False}
    refused = await api.get("/Summary")
    refused.error(401)
    assert refused.header("WWW-Authenticate") == 'Basic realm="ocppcs"'
    from_ui = await api.request("GET", "/Summary", headers={"X-Requested-With": "ocppcs-ui"})
    from_ui.error(401)
    assert from_ui.header("WWW-Authenticate") is None

    wrong = await api.post("/Session", {"user": "alice", "password": "wonderland"})
    assert "Wrong user name or password" in wrong.error(403)
    assert wrong.headers.getRawHeaders("Set-Cookie") is None

    reply = await api.post("/Session", {"user": "alice", "password": "wonder land"})
    sent = raw_cookies(reply)
    session_attrs = sent["ocppcs_session"].lower()
    csrf_attrs = sent["ocppcs_csrf"].lower()
    for attribute in ("httponly", "samesite=strict", "path=/", "max-age=28800"):
        assert attribute in session_attrs, sent
    assert "samesite=strict" in csrf_attrs and "httponly" not in csrf_attrs
    jar = cookies(reply)
    cookie = f"ocppcs_session={jar['ocppcs_session'].value}"
    csrf = jar["ocppcs_csrf"].value
    assert len(jar["ocppcs_session"].value) >= 40 and jar["ocppcs_session"].value != csrf

    ok = await api.request("GET", "/Summary", headers={"Cookie": cookie})
    assert ok.status == 200, ok.body
    me = await api.request("GET", "/Session", headers={"Cookie": cookie})
    assert me.json == {"auth": "basic", "authenticated": True, "user": "alice", "cookie": True}

    body = {"status": "Accepted"}
    no_token = await api.put("/IdTag/CSRF-1", body, headers={"Cookie": cookie})
    assert "X-CSRF-Token" in no_token.error(403)
    bad_token = await api.put(
        "/IdTag/CSRF-1", body, headers={"Cookie": cookie, "X-CSRF-Token": csrf + "x"}
    )
    bad_token.error(403)
    done = await api.put("/IdTag/CSRF-1", body, headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert done.status == 200, done.body

    # Credentials in the header still work as before, cookie or not.
    by_header = await api.request(
        "GET", "/IdTag/CSRF-1", headers={"Authorization": "Basic YWxpY2U6d29uZGVyIGxhbmQ="}
    )
    assert by_header.status == 200

    async def feeds() -> list[Any]:
        url = f"ws://127.0.0.1:{basic.port}"
        origin = f"http://127.0.0.1:{basic.port}"
        outcomes = []
        for path in ("/ws/log", "/ws/events"):
            ws = await websockets.connect(
                url + path, additional_headers={"Cookie": cookie}, origin=origin
            )
            outcomes.append(ws.protocol.state.name)
            await ws.close()
        for headers, kwargs in (
            ({"Cookie": cookie}, {"origin": "http://evil.example"}),
            ({}, {"origin": origin}),
        ):
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(url + "/ws/events", additional_headers=headers, **kwargs)
            outcomes.append(refused.value.response.status_code)
        return outcomes

    assert await aio(feeds()) == ["OPEN", "OPEN", 403, 401]

    keep = await api.request("DELETE", "/Session", headers={"Cookie": cookie})
    keep.error(403)
    out = await api.request("DELETE", "/Session", headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert out.status == 204
    cleared = cookies(out)
    assert cleared["ocppcs_session"].value == "" and cleared["ocppcs_session"]["max-age"] == "0"
    (await api.request("GET", "/Summary", headers={"Cookie": cookie})).error(401)


@pytest_twisted.ensureDeferred
async def test_login_errors(basic: WebCentral) -> None:
    api = basic.api
    for body in ({}, {"password": "x"}, {"user": "alice", "password": 3}, {"user": "a", "x": 1}):
        (await api.post("/Session", body)).error(400)
    (await api.request("POST", "/Session", data=b"not json")).error(400)
    (await api.post("/Session", {"user": "bob", "password": "wonder land"})).error(403)
    # An unknown or forged session cookie is no session.
    (await api.request("GET", "/Summary", headers={"Cookie": "ocppcs_session=forged"})).error(401)
    anonymous = await api.request("DELETE", "/Session")
    assert anonymous.status == 204


@pytest_twisted.ensureDeferred
async def test_bearer_login(tmp_path_factory: pytest.TempPathFactory) -> None:
    web = await start_web_central(
        tmp_path_factory.mktemp("cs"), api={"auth": "bearer", "tokens": TOKEN_HASHES}
    )
    try:
        (await web.api.post("/Session", {"token": TOKEN + "x"})).error(403)
        (await web.api.post("/Session", {"user": "alice", "password": "x"})).error(400)
        reply = await web.api.post("/Session", {"token": TOKEN})
        assert reply.status == 200 and reply.json["user"] == "token"
        cookie = f"ocppcs_session={cookies(reply)['ocppcs_session'].value}"
        ok = await web.api.request("GET", "/Session", headers={"Cookie": cookie})
        assert ok.json == {"auth": "bearer", "authenticated": True, "user": "token", "cookie": True}
    finally:
        await stop_web_central(web)


@pytest_twisted.ensureDeferred
async def test_no_login_without_auth(tmp_path_factory: pytest.TempPathFactory) -> None:
    web = await start_web_central(tmp_path_factory.mktemp("cs"), api={"auth": "none"})
    try:
        state = await web.api.get("/Session")
        assert state.json == {"auth": "none", "authenticated": True, "user": None, "cookie": False}
        msg = (await web.api.post("/Session", {"user": "a", "password": "b"})).error(400)
        assert "auth = none" in msg
        assert (await web.api.request("DELETE", "/Session")).status == 204
    finally:
        await stop_web_central(web)


@pytest_twisted.ensureDeferred
async def test_no_login_from_this_host_with_auto(tmp_path_factory: pytest.TempPathFactory) -> None:
    """C{auth = auto} (the default): the UI on this host needs no login."""
    web = await start_web_central(tmp_path_factory.mktemp("cs"))
    try:
        state = await web.api.get("/Session")
        assert state.json == {"auth": "auto", "authenticated": True, "user": None, "cookie": False}
    finally:
        await stop_web_central(web)
