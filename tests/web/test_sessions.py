"""Unit tests for L{ocppcs.web.sessions}: expiry, bound, cookies, CSRF and origin checks."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel, DummyRequest

from ocppcs.web.sessions import (
    SessionStore,
    csrf_ok,
    same_origin,
    session_cookie,
    set_cookies,
)


def request(method: bytes = b"GET", **headers: str) -> DummyRequest:
    r = DummyRequest([b""])
    r.method = method
    r.isSecure = lambda: False  # type: ignore[method-assign]
    for name, value in headers.items():
        r.requestHeaders.addRawHeader(name.replace("_", "-").encode(), value.encode())
    return r


def test_sessions_expire_and_are_bounded() -> None:
    clock = Clock()
    store = SessionStore(clock, ttl=10, size=2)
    a = store.create("alice")
    assert store.get(a.sid) is a and a.sid != a.csrf
    clock.advance(9.9)
    assert store.get(a.sid) is a
    clock.advance(0.1)
    assert store.get(a.sid) is None and len(store) == 0
    b, c, d = store.create("b"), store.create("c"), store.create("d")
    assert store.get(b.sid) is None  # the oldest went first
    assert store.get(c.sid) is c and store.get(d.sid) is d
    store.drop(c.sid)
    assert store.get(c.sid) is None


def test_session_cookie_and_lookup() -> None:
    store = SessionStore(Clock())
    s = store.create("alice")
    r = request(cookie=f"other=1; ocppcs_session={s.sid}; x=y")
    assert session_cookie(r) == s.sid.encode()
    assert store.of(r) is s
    assert session_cookie(request(cookie="ocppcs_sessionx=1")) is None
    assert store.of(request()) is None


def test_csrf_needed_for_state_changes() -> None:
    s = SessionStore(Clock()).create("alice")
    assert csrf_ok(request(b"GET"), s)
    assert not csrf_ok(request(b"POST"), s)
    assert not csrf_ok(request(b"DELETE", x_csrf_token=s.csrf + "x"), s)
    assert csrf_ok(request(b"PUT", x_csrf_token=s.csrf), s)


def test_same_origin() -> None:
    assert same_origin(request(host="cs:9220"))
    assert same_origin(request(host="cs:9220", origin="http://CS:9220"))
    assert not same_origin(request(host="cs:9220", origin="http://evil:9220"))
    assert not same_origin(request(host="cs:9220", origin="null"))


def real_request() -> Request:
    return Request(DummyChannel())


def test_cookies_set_and_cleared() -> None:
    store = SessionStore(Clock())
    s = store.create("alice")
    r = real_request()
    set_cookies(r, s, 3600)
    sent = [c.decode() for c in r.cookies]
    assert sent[0].startswith(f"ocppcs_session={s.sid}; ")
    assert "HttpOnly" in sent[0] and "SameSite=strict" in sent[0] and "Max-Age=3600" in sent[0]
    assert sent[1].startswith(f"ocppcs_csrf={s.csrf}; ") and "HttpOnly" not in sent[1]
    cleared = real_request()
    set_cookies(cleared, None, 0)
    assert [c.decode().split(";")[0] for c in cleared.cookies] == [
        "ocppcs_session=",
        "ocppcs_csrf=",
    ]
    assert all("Max-Age=0" in c.decode() for c in cleared.cookies)
