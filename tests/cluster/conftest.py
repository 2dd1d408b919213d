"""
Fixtures for the cluster tests: real nodes (the whole central system, each
with its own listener on a free loopback port) in this process, joined on a
real throwaway PostgreSQL database, and REST clients for each.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import deferLater

from ocppcs.backends.postgres.migrate import apply_migrations
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres
from ocppcs.cluster.config import ClusterConfig
from ocppcs.cluster.node import ClusterNode
from ocppcs.config import BackendConfig, Config, EmbeddedConfig, PostgresConfig, ServerConfig
from ocppcs.service import CentralSystemService, build_central_system
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation
from tests.web.conftest import Api

#: Seconds between heartbeats in the tests (a dead node is noticed after 3).
HEARTBEAT = 0.2


@dataclass
class Node:
    """A running node and a client for its REST API."""

    name: str
    service: CentralSystemService
    port: int
    api: Api

    @property
    def cluster(self) -> ClusterNode:
        """Its part in the cluster."""
        assert self.service.cluster is not None
        return self.service.cluster

    async def station(self, identity: str, boot: bool = True) -> RawStation:
        """Connect a raw station to this node (and boot it)."""
        station = await aio(RawStation.connect(f"ws://127.0.0.1:{self.port}/ocpp", identity))
        if boot:
            await aio(station.boot())
        return station

    async def stop(self) -> None:
        """Stop the node (cleanly) and close its client."""
        await self.api.close()
        if self.service.running:
            await self.service.stopService()


async def start_node(
    dsn: str, data: Path, name: str, backend: str = "postgres", **server: Any
) -> Node:
    """
    Start node C{name} of the cluster on C{dsn}, with the PostgreSQL record
    there (shared by the nodes), or (C{backend="embedded"}) its own in C{data}.
    """
    from twisted.internet import reactor

    config = Config(
        server=ServerConfig(listen=("tcp:0:interface=127.0.0.1",), **{"call_timeout": 5, **server}),
        backend=BackendConfig(backend),
        embedded=EmbeddedConfig(path=str(data / f"{name}.sqlite3")),
        postgres=PostgresConfig(conninfo=dsn),
        cluster=ClusterConfig(enable=True, node=name, heartbeat=HEARTBEAT, missed=3),
    )
    service = build_central_system(config, reactor)
    service.startService()
    await service.ready
    assert service.cluster is not None
    await service.cluster.ready
    listener = service.listeners[0].port
    assert listener is not None
    port = listener.getHost().port
    return Node(name, service, port, Api(reactor, f"http://127.0.0.1:{port}/api/v1"))


async def wait_for(check: Callable[[], Any], within: float, what: str) -> Any:
    """Poll the coroutine function C{check} until it returns something true."""
    from twisted.internet import reactor

    deadline = reactor.seconds() + within
    while True:
        found = await check()
        if found:
            return found
        assert reactor.seconds() < deadline, f"{what} not within {within}s"
        await deferLater(reactor, 0.05, lambda: None)


def database(server: ThrowawayPostgres, key: str) -> str:
    """A new database with the whole ocpp schema, named after C{key}."""
    dsn = server.create_database("c_" + hashlib.sha1(key.encode()).hexdigest()[:12])
    apply_migrations(dsn)
    return dsn


@pytest.fixture
def cluster_dsn(postgres_server: ThrowawayPostgres, request: pytest.FixtureRequest) -> str:
    """A database of this test's own, with the ocpp schema."""
    return database(postgres_server, request.node.nodeid)


@pytest_twisted.async_yield_fixture(scope="module")
async def pair(
    postgres_server: ThrowawayPostgres,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Node, Node]]:
    """Nodes A and B on one database, for the tests of a module (own identities each)."""
    dsn = database(postgres_server, request.node.nodeid)
    data = tmp_path_factory.mktemp("cluster")
    a = await start_node(dsn, data, "A")
    b = await start_node(dsn, data, "B")
    yield a, b
    await b.stop()
    await a.stop()


@pytest.fixture(autouse=True)
def no_tracebacks(events: list[dict[str, Any]]) -> Any:
    """No node logs a traceback (a bug) during a cluster test."""
    yield
    from twisted.logger import formatEvent

    failures = [
        formatEvent(e) + "\n" + e["log_failure"].getTraceback()
        for e in events
        if "log_failure" in e
    ]
    assert not failures, "\n".join(failures)
