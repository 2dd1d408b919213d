"""
The PostgreSQL foundation against a real throwaway server: the migrations,
the C{ocppcs-init-db} command, the reconnecting pool (server restarted under
it) and the connection string of a C{[postgres]} section.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor

from ocppcs.backends.postgres import migrate
from ocppcs.backends.postgres.conninfo import conninfo, redacted
from ocppcs.backends.postgres.pool import ConnectionDead, PostgresPool, backoff, is_unavailable
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres
from ocppcs.config import ConfigError, parse_config

reactor: Any = _reactor


def _versions(dsn: str) -> list[int]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM ocpp.migration ORDER BY version")
        rows = [r[0] for r in cur.fetchall()]
    conn.close()
    return rows


def test_migrations_apply_once_in_order(postgres_dsn: str) -> None:
    applied = migrate.apply_migrations(postgres_dsn)
    shipped = [m.version for m in migrate.migrations()]
    assert [m.version for m in applied] == shipped
    assert shipped[0] == 1 and shipped == sorted(shipped)
    assert migrate.apply_migrations(postgres_dsn) == []
    assert _versions(postgres_dsn) == shipped


def test_init_db_command(postgres_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate.main(["--dsn", postgres_dsn, "--check"]) == 1
    assert "missing migrations" in capsys.readouterr().out
    assert migrate.main(["--dsn", postgres_dsn]) == 0
    out = capsys.readouterr().out
    assert "applied 0001_schema" in out and f"version {migrate.latest_version()}" in out
    assert migrate.main(["--dsn", postgres_dsn, "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_init_db_command_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    dsn = "host=127.0.0.1 port=1 dbname=x user=u password=secret connect_timeout=2"
    assert migrate.main(["--dsn", dsn]) == 1
    err = capsys.readouterr().err
    assert "port=1" in err and "secret" not in err


def test_conninfo_from_section() -> None:
    config = parse_config(
        "[postgres]\nconninfo = host=db dbname=a\ndbname = ocpp\nport = 5433\n"
        "password = pw\nstatement_timeout = 2.5\n"
    )
    dsn = conninfo(config.postgres)
    parts = psycopg2.extensions.parse_dsn(dsn)
    assert parts["host"] == "db" and parts["dbname"] == "ocpp" and parts["port"] == "5433"
    assert parts["options"] == "-c statement_timeout=2500"
    assert "pw" not in redacted(dsn) and "***" in redacted(dsn)


def test_conninfo_leaves_unset_keys_to_pg_environment() -> None:
    dsn = conninfo(parse_config("").postgres)
    parts = psycopg2.extensions.parse_dsn(dsn)
    assert set(parts) == {"application_name", "options"}


@pytest.mark.parametrize(
    "text, key",
    [("port = 70000", "port"), ("sslmode = maybe", "sslmode"), ("pool_size = 0", "pool_size")],
)
def test_bad_postgres_key_is_named(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(f"[postgres]\n{text}\n")
    assert e.value.path == ("postgres", key)


def test_backoff_grows_to_its_cap() -> None:
    delays = backoff(0.5, 2.0, 3.0)
    assert [next(delays) for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest_twisted.ensureDeferred
async def test_check_version(postgres_dsn: str) -> None:
    pool = PostgresPool(reactor, postgres_dsn, size=1)
    await pool.start()
    try:
        with pytest.raises(migrate.SchemaBehind, match="ocppcs-init-db"):
            await migrate.check_version(pool)
        migrate.apply_migrations(postgres_dsn)
        assert await migrate.check_version(pool) == migrate.latest_version()
    finally:
        pool.close()


@pytest_twisted.ensureDeferred
async def test_pool_survives_a_server_restart() -> None:
    # A server of its own: this test crashes it.
    server = ThrowawayPostgres().start()
    pool = PostgresPool(reactor, server.dsn, size=2, first_delay=0.1, max_delay=0.2)
    try:
        await pool.start()
        assert await pool.runQuery("SELECT %s::int + 1", (41,)) == [(42,)]
        server.stop("immediate")
        for _ in range(2):  # each connection notices on its own
            with pytest.raises(Exception) as lost:
                await pool.runQuery("SELECT 1")
            assert is_unavailable(_failure(lost.value))
        server.start()
        rows = None
        for _ in range(100):
            try:
                rows = await pool.runQuery("SELECT 2")
                break
            except Exception as e:
                assert is_unavailable(_failure(e))
                await _sleep(0.1)
        assert rows == [(2,)]
    finally:
        pool.close()
        server.close()


def _failure(e: BaseException) -> Any:
    from twisted.python.failure import Failure

    return Failure(e)


async def _sleep(seconds: float) -> None:
    from twisted.internet.task import deferLater

    await deferLater(reactor, seconds, lambda: None)


def test_connection_dead_is_unavailable() -> None:
    assert is_unavailable(_failure(ConnectionDead()))
    assert not is_unavailable(_failure(ValueError("no")))
