"""
Closing the pool while a query runs lets the query finish, then closes
its connection too (txpostgres kept it open, registered with the reactor);
closing a connection while a query runs on it leaves nothing registered (a
stale registration of the closed socket breaks the next connection that
gets the same file descriptor number under the asyncio reactor).
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.task import deferLater

from ocppcs.backends.postgres.pool import Connection, PostgresPool

reactor: Any = _reactor


def registered() -> set[Any]:
    return set(reactor.getReaders()) | set(reactor.getWriters())


@pytest_twisted.ensureDeferred
async def test_pool_closed_with_a_query_in_flight(postgres_dsn: str) -> None:
    before = registered()
    pool = PostgresPool(reactor, postgres_dsn, size=2)
    await pool.start()
    running = pool.runQuery("SELECT pg_sleep(0.5), 42")
    await deferLater(reactor, 0.1, lambda: None)
    pool.close()
    assert [row[1] for row in await running] == [42]
    assert registered() - before == set()


@pytest_twisted.ensureDeferred
async def test_connection_closed_with_a_query_in_flight(postgres_dsn: str) -> None:
    before = registered()
    connection = Connection(reactor)
    await connection.connect(postgres_dsn)
    running = connection.runQuery("SELECT pg_sleep(5)")
    running.addErrback(lambda _: None)
    await deferLater(reactor, 0.2, lambda: None)
    connection.close()
    assert registered() - before == set()
    # A new connection (likely on the same descriptor number) works.
    again = PostgresPool(reactor, postgres_dsn, size=1)
    await again.start()
    assert await again.runQuery("SELECT 1") == [(1,)]
    again.close()
