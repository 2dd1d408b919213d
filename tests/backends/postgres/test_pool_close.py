"""
Closing a txpostgres connection while a query runs on it leaves nothing
registered with the reactor (a stale registration of the closed socket
breaks the next connection that gets the same file descriptor number
under the asyncio reactor: "FileNotFoundError" from the selector).
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.task import deferLater

from ocppcs.backends.postgres.pool import PostgresPool

reactor: Any = _reactor


@pytest_twisted.ensureDeferred
async def test_closing_with_a_query_in_flight_unregisters_it(postgres_dsn: str) -> None:
    before = set(reactor.getReaders()) | set(reactor.getWriters())
    pool = PostgresPool(reactor, postgres_dsn, size=1)
    await pool.start()
    running = pool.runQuery("SELECT pg_sleep(5)")
    running.addErrback(lambda _: None)
    await deferLater(reactor, 0.2, lambda: None)
    pool.close()
    after = set(reactor.getReaders()) | set(reactor.getWriters())
    assert after - before == set()
    # A new connection (likely on the same descriptor number) works.
    again = PostgresPool(reactor, postgres_dsn, size=1)
    await again.start()
    assert await again.runQuery("SELECT 1") == [(1,)]
    again.close()
