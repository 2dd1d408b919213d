"""Fixtures every test module may use."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.logger import globalLogPublisher

from ocppcs.backends.postgres.migrate import apply_migrations
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    """The log events emitted while the test runs."""
    seen: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(seen.append)
    yield seen
    globalLogPublisher.removeObserver(seen.append)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """
    One throwaway PostgreSQL server for the whole test session (started on
    first use; fails, never skips, when the server binaries are missing).
    """
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_dsn(postgres_server: ThrowawayPostgres, request: pytest.FixtureRequest) -> str:
    """The conninfo of a new, empty database of its own for this test."""
    return postgres_server.create_database(_database_name(request.node.nodeid))


@pytest.fixture
def ocpp_dsn(postgres_dsn: str) -> str:
    """The conninfo of a new database of this test's with the whole C{ocpp} schema applied."""
    apply_migrations(postgres_dsn)
    return postgres_dsn


def _database_name(nodeid: str) -> str:
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:12]
    return f"t_{digest}"
