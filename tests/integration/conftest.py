"""
Fixtures that run the real central system on a free loopback port, with the
real embedded store in a temporary folder, for real WebSocket clients.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from ocppcs.config import CentralConfig, Config, EmbeddedConfig, ServerConfig
from ocppcs.service import CentralSystemService, build_central_system

T = TypeVar("T")


def aio(coro: Coroutine[Any, Any, T]) -> Deferred[T]:
    """Run an asyncio coroutine (e.g. an ocpp/websockets client) as a Deferred."""
    return Deferred.fromFuture(asyncio.ensure_future(coro))


def as_future(d: Deferred[T]) -> asyncio.Future[T]:
    """Await a Deferred from asyncio code."""
    return d.asFuture(asyncio.get_running_loop())


@dataclass
class Central:
    """A running central system."""

    service: CentralSystemService
    port: int
    data: Path

    @property
    def url(self) -> str:
        """The station endpoint prefix: append '/{identity}'."""
        return f"ws://127.0.0.1:{self.port}/ocpp"


async def start_central(
    data: Path, server: dict[str, Any] | None = None, **central: Any
) -> Central:
    """
    Start a central system storing in C{data}; keyword arguments set [central]
    keys, C{server} (optional) sets [server] keys (e.g. C{max_frame_size}).
    """
    from twisted.internet import reactor

    config = Config(
        server=dataclasses.replace(
            ServerConfig(listen=("tcp:0:interface=127.0.0.1",), call_timeout=5), **(server or {})
        ),
        central=dataclasses.replace(CentralConfig(), **central),
        embedded=EmbeddedConfig(path=str(data / "ocppcs.sqlite3")),
    )
    service = build_central_system(config, reactor)
    service.startService()
    await service.ready
    port = service.listeners[0].port
    assert port is not None
    return Central(service, port.getHost().port, data)


async def stop_central(central: Central) -> None:
    """Stop it and wait until the store is closed."""
    await central.service.stopService()


@pytest_twisted.async_yield_fixture
async def central(tmp_path: Path) -> AsyncIterator[Central]:
    """A central system with the default (open) policies."""
    running = await start_central(tmp_path)
    yield running
    await stop_central(running)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A folder for a central system's store."""
    return tmp_path
