"""
Fixtures for the REST API tests: the real central system on a free loopback
port (with the real embedded store), an HTTP client (treq, its own connection
pool, closed at teardown) and raw WebSocket stations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_twisted
from treq.client import HTTPClient
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.web.client import Agent, HTTPConnectionPool

from ocppcs.config import (
    ApiConfig,
    BackendConfig,
    CentralConfig,
    Config,
    EmbeddedConfig,
    EmulatorConfig,
    PostgresConfig,
    ServerConfig,
    WebhookConfig,
)
from ocppcs.configsecurity import SecurityConfig
from ocppcs.service import CentralSystemService, build_central_system
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation


@dataclass
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: Any
    body: bytes

    @property
    def json(self) -> Any:
        """The body, parsed."""
        return orjson.loads(self.body)

    def header(self, name: str) -> str | None:
        """One response header, or C{None}."""
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None

    def error(self, code: int) -> str:
        """Check that this is the JSON error C{code}; return its message."""
        assert self.status == code, (self.status, self.body)
        assert self.header("Content-Type") == "application/json", self.headers
        body = self.json
        assert body["error"]["code"] == code, body
        return body["error"]["message"]


class Api:
    """An HTTP client for C{/api/v1} of a running central system."""

    def __init__(self, reactor: Any, base: str) -> None:
        self.base = base
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=self.pool))

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {k: [v] for k, v in (headers or {}).items()}
        if json is not None:
            data = orjson.dumps(json)
            all_headers.setdefault("Content-Type", ["application/json"])
        response = await self.http.request(
            method, self.base + path, params=params, data=data, headers=all_headers
        )
        return Reply(response.code, response.headers, await response.content())

    def request(self, method: str, path: str, **kwargs: Any) -> Deferred[Reply]:
        """Send a request now; a Deferred firing with its L{Reply}."""
        return ensureDeferred(self._request(method, path, **kwargs))

    def get(self, path: str, **params: Any) -> Deferred[Reply]:
        """C{GET path?params}."""
        return self.request("GET", path, params=params or None)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Deferred[Reply]:
        """C{POST path} with a JSON body."""
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Deferred[Reply]:
        """C{PUT path} with a JSON body."""
        return self.request("PUT", path, json=json, **kwargs)

    def delete(self, path: str) -> Deferred[Reply]:
        """C{DELETE path}."""
        return self.request("DELETE", path)

    def close(self) -> Deferred[None]:
        """Close the connection pool."""
        return self.pool.closeCachedConnections()


@dataclass
class WebCentral:
    """A running central system and a client for its REST API."""

    service: CentralSystemService
    port: int
    api: Api

    @property
    def station_url(self) -> str:
        """The station endpoint prefix: append '/{identity}'."""
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def station(self, identity: str, boot: bool = False) -> RawStation:
        """Connect a raw station (and boot it)."""
        station = await aio(RawStation.connect(self.station_url, identity))
        if boot:
            await aio(station.boot())
        return station


async def start_web_central(
    data: Path,
    server: dict[str, Any] | None = None,
    api: dict[str, Any] | None = None,
    emulator: dict[str, Any] | None = None,
    webhook: dict[str, Any] | None = None,
    postgres: dict[str, Any] | None = None,
    security: dict[str, Any] | None = None,
    **central: Any,
) -> WebCentral:
    """
    Start a central system storing in C{data}; C{server}, C{api},
    C{emulator}, C{webhook}, C{postgres} and C{security} set keys of those
    sections (C{webhook}: with C{[backend] type = webhook}; C{postgres}: with
    C{[backend] type = postgres}), keyword arguments set C{[central]} keys.
    """
    from twisted.internet import reactor

    kind = "embedded"
    if webhook is not None:
        kind = "webhook"
    elif postgres is not None:
        kind = "postgres"

    config = Config(
        server=dataclasses.replace(
            ServerConfig(listen=("tcp:0:interface=127.0.0.1",), call_timeout=5), **(server or {})
        ),
        central=dataclasses.replace(CentralConfig(), **central),
        embedded=EmbeddedConfig(path=str(data / "ocppcs.sqlite3")),
        api=dataclasses.replace(ApiConfig(), **(api or {})),
        emulator=dataclasses.replace(EmulatorConfig(), **(emulator or {})),
        backend=BackendConfig(kind),
        webhook=WebhookConfig(**(webhook or {})),
        postgres=PostgresConfig(**(postgres or {})),
        security=SecurityConfig(**(security or {})),
    )
    service = build_central_system(config, reactor)
    service.startService()
    await service.ready
    listener = service.listeners[0].port
    assert listener is not None
    port = listener.getHost().port
    return WebCentral(service, port, Api(reactor, f"http://127.0.0.1:{port}/api/v1"))


async def stop_web_central(central: WebCentral) -> None:
    """Close the client, stop the service and wait until the store is closed."""
    await central.api.close()
    await central.service.stopService()


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """
    One central system per test module, with the C{known} registration and
    C{list} authorization policies; tests use their own identities and tags.
    """
    running = await start_web_central(
        tmp_path_factory.mktemp("web"), registration="known", authorization="list"
    )
    yield running
    await stop_web_central(running)
