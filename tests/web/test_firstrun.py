"""
Secure by default (L{ocppcs.web.firstrun}, C{[api] auth = auto}): on the
first start with a listener open to the network and no credentials
configured, an operator password is generated and kept hashed in the data
folder; requests from other hosts to the API, the feeds and /metrics then
need it, requests from this host need nothing. Requests from another host
are rendered by the running service's real site with that client address
(tests only use loopback networking); this host's come over real TCP.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.logger import globalLogPublisher
from twisted.web.test.requesthelper import DummyChannel

from ocppcs.config import ApiConfig, Config, ConfigError, EmbeddedConfig, ServerConfig
from ocppcs.passwd import parse_users
from ocppcs.service import CentralSystemService, build_central_system
from ocppcs.web.firstrun import CLEAR_NAME, OPERATOR, operator_api_config
from tests.web.operators import ALICE

OTHER_HOST = IPv4Address("TCP", "192.0.2.10", 40000)


def config(data: Path, listen: str = "tcp:0:interface=0.0.0.0", **api: Any) -> Config:
    return Config(
        server=ServerConfig(listen=(listen,), call_timeout=5),
        embedded=EmbeddedConfig(path=str(data / "ocppcs.sqlite3")),
        api=ApiConfig(**api),
    )


async def start(cfg: Config) -> CentralSystemService:
    from twisted.internet import reactor

    service = build_central_system(cfg, reactor)
    service.startService()
    await service.ready
    return service


async def from_other_host(
    service: CentralSystemService, path: bytes, headers: dict[bytes, bytes] | None = None
) -> tuple[int, bytes]:
    """Render C{GET path} by the service's site, as a request from L{OTHER_HOST}."""
    site: Any = service.listeners[0]._factory
    channel = DummyChannel(OTHER_HOST)
    channel.site = site
    request = site.requestFactory(channel, False)
    for name, value in (headers or {}).items():
        request.requestHeaders.setRawHeaders(name, [value])
    request.gotLength(0)
    finished: Deferred[None] = request.notifyFinish()
    request.requestReceived(b"GET", path, b"HTTP/1.1")
    await finished
    response = channel.transport.written.getvalue()
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


def basic(user: str, password: str) -> dict[bytes, bytes]:
    return {b"Authorization": b"Basic " + base64.b64encode(f"{user}:{password}".encode())}


@pytest_twisted.ensureDeferred
async def test_generated_password_guards_other_hosts(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        service = await start(config(tmp_path))
    finally:
        globalLogPublisher.removeObserver(events.append)
    try:
        hashed, clear = tmp_path / "operator.passwd", tmp_path / CLEAR_NAME
        for path in (hashed, clear):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        password = clear.read_text().strip()
        line = hashed.read_text().strip()
        assert password not in line and line.startswith(f"{OPERATOR}:scrypt$")
        assert parse_users((line,))[OPERATOR].matches(password)
        said = [e for e in events if e.get("clear") == str(clear)]
        assert len(said) == 1 and said[0]["log_level"].name == "warn"

        for path in (b"/api/v1/ChargePointList", b"/metrics", b"/ws/log", b"/ws/events"):
            status, body = await from_other_host(service, path)
            assert status == 401, (path, status, body)
            status, _ = await from_other_host(service, path, basic(OPERATOR, password + "x"))
            assert status == 401, path
        status, body = await from_other_host(
            service, b"/api/v1/ChargePointList", basic(OPERATOR, password)
        )
        assert status == 200 and b"[]" in body, body  # chunked
        status, body = await from_other_host(service, b"/metrics", basic(OPERATOR, password))
        assert status == 200 and b"ocppcs_" in body
        # Liveness stays open; stations are not affected.
        assert (await from_other_host(service, b"/api/v1/ping"))[0] == 200

        # This host, over real TCP to the 0.0.0.0 listener: no credentials needed.
        port = service.listeners[0].port
        assert port is not None
        response = await treq.get(f"http://127.0.0.1:{port.getHost().port}/api/v1/ChargePointList")
        assert response.code == 200
        await response.content()
    finally:
        await service.stopService()

    # A second start reads the hash: the same password, and nothing said.
    clear.unlink()
    events.clear()
    globalLogPublisher.addObserver(events.append)
    try:
        service = await start(config(tmp_path))
    finally:
        globalLogPublisher.removeObserver(events.append)
    try:
        assert not clear.exists() and not [e for e in events if "clear" in e]
        status, _ = await from_other_host(
            service, b"/api/v1/ChargePointList", basic(OPERATOR, password)
        )
        assert status == 200
    finally:
        await service.stopService()


def test_configured_users_or_loopback_only_generate_nothing(tmp_path: Path) -> None:
    api = operator_api_config(config(tmp_path, users=(ALICE,)))
    assert api.users == (ALICE,)
    assert operator_api_config(config(tmp_path, "tcp:0:interface=127.0.0.1")).users == ()
    assert operator_api_config(config(tmp_path, auth="none")).users == ()
    assert not list(tmp_path.iterdir())


def test_unreadable_password_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "operator.passwd").write_text("admin:not-a-hash\n")
    with pytest.raises(ConfigError, match="api.password_file"):
        operator_api_config(config(tmp_path))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="api.password_file"):
        operator_api_config(config(tmp_path, password_file=str(blocker / "sub" / "p")))
