"""
Tests for L{ocppcs.backends.embedded.store} and
L{ocppcs.backends.embedded.schema}: the migrations (numbered, applied in one
transaction each, creating the schema), the C{synchronous} setting, reopening
a store, and a store whose database can't be opened.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from ocppcs.backends.embedded import schema
from ocppcs.backends.embedded.schema import migrations
from ocppcs.backends.embedded.store import SQLiteStore, StoreStartError, StoreStopped
from tests.backends import jobs
from tests.backends.storetools import running_reactor

TABLES = {
    "station",
    "connector",
    "id_tag",
    "txn",
    "meter_value",
    "reservation",
    "data_transfer",
    "frame_log",
}


def test_migrations_are_numbered_in_order() -> None:
    """The shipped migrations start at 1 and are sorted by number."""
    found = migrations()
    assert found[0][0] == 1
    assert found[0][1] == "0001_initial.sql"
    assert [m[0] for m in found] == sorted(m[0] for m in found)


def test_bad_synchronous() -> None:
    """Only C{full} and C{normal} are accepted for C{synchronous}."""
    with pytest.raises(ValueError):
        SQLiteStore(running_reactor(), ":memory:", synchronous="off")


@pytest_twisted.ensureDeferred
async def test_migrations_create_schema(make_store: Any, tmp_path: Path, events: Any) -> None:
    """
    Starting creates the missing parent directory, every table, WAL mode and
    sets C{user_version} to the last migration; the worker's log events
    reach our log with its pid.
    """
    path = tmp_path / "a" / "b" / "db.sqlite3"
    store = await make_store(path)
    assert store.ready.result == migrations()[-1][0]
    names = await store.run(jobs.query, "SELECT name FROM sqlite_master WHERE type='table'")
    assert TABLES <= {r[0] for r in names}
    assert await store.run(jobs.scalar, "PRAGMA user_version") == migrations()[-1][0]
    assert await store.run(jobs.scalar, "PRAGMA journal_mode") == "wal"
    assert await store.run(jobs.scalar, "PRAGMA synchronous") == 2  # FULL
    assert path.exists()
    applied = [e for e in events if e.get("name") == "0001_initial.sql"]
    assert applied and applied[0]["worker_pid"] == store.worker_pid
    assert store.worker_pid != os.getpid()


@pytest_twisted.ensureDeferred
async def test_synchronous_normal(make_store: Any) -> None:
    """C{synchronous="normal"} sets C{PRAGMA synchronous = NORMAL}."""
    store = await make_store(synchronous="normal")
    assert await store.run(jobs.scalar, "PRAGMA synchronous") == 1


@pytest_twisted.ensureDeferred
async def test_reopen_keeps_data(make_store: Any, tmp_path: Path) -> None:
    """Data committed before a stop is there after a restart; migrations don't rerun."""
    path = tmp_path / "db.sqlite3"
    store = await make_store(path)
    await store.run(jobs.execute, "INSERT INTO id_tag VALUES ('T1', 'Blocked', NULL, NULL)")
    await store.stop()
    again = await make_store(path)
    assert await again.run(jobs.query, "SELECT id_tag, status FROM id_tag") == [("T1", "Blocked")]
    assert await again.run(jobs.scalar, "PRAGMA user_version") == migrations()[-1][0]


@pytest_twisted.ensureDeferred
async def test_start_failure(tmp_path: Path) -> None:
    """When the database can't be opened, C{ready} fails clearly and jobs fail too."""
    (tmp_path / "dir.sqlite3").mkdir()
    (tmp_path / "file").write_text("")
    for path in (tmp_path / "dir.sqlite3", tmp_path / "file" / "db.sqlite3"):
        store = SQLiteStore(running_reactor(), path)
        queued = store.run(jobs.noop)
        with pytest.raises(StoreStartError, match=f"could not open the store {path}") as raised:
            await store.start()
        assert isinstance(raised.value.__cause__, sqlite3.Error | OSError)
        with pytest.raises(StoreStopped):
            await queued
        with pytest.raises(StoreStopped):
            await store.run(jobs.noop)
        await store.stop()


def test_failed_migration_rolled_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A migration that fails leaves no trace and the version where it was."""
    good = (1, "0001_a.sql", "CREATE TABLE a (x);")
    bad = (2, "0002_b.sql", "CREATE TABLE b (x);\nSELEC broken;")
    monkeypatch.setattr(schema, "migrations", lambda *_: [good, bad])
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            schema.apply_migrations(conn)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert names == {"a"}
        assert not conn.in_transaction
    finally:
        conn.close()


def test_migration_0005_keeps_existing_transactions(tmp_path: Path) -> None:
    """
    A database at version 4 with transactions (one stopped, one open) migrates
    to the abandoned-transaction schema: every row is kept as it was, none is
    abandoned, and the new column and index exist.
    """
    conn = sqlite3.connect(tmp_path / "v4.sqlite3", isolation_level=None)
    try:
        for number, _, sql in migrations():
            if number <= 4:
                conn.executescript(f"BEGIN;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;")
        insert = (
            "INSERT INTO txn (identity, connector_id, id_tag, meter_start, start_timestamp,"
            " id_tag_status, meter_stop, stop_timestamp, stop_reason, created, updated)"
            " VALUES ('S1', 1, 'T', ?, ?, 'Accepted', ?, ?, ?, 'c', 'u')"
        )
        conn.execute(insert, (10, "2026-11-24T10:00:00Z", 20, "2026-11-24T11:00:00Z", "Local"))
        conn.execute(insert, (30, "2026-11-24T12:00:00+01:00", None, None, None))
        columns = "id, meter_start, start_timestamp, meter_stop, stop_timestamp, stop_reason"
        before = conn.execute(f"SELECT {columns} FROM txn ORDER BY id").fetchall()
        assert schema.apply_migrations(conn) == migrations()[-1][0] >= 5
        after = conn.execute(f"SELECT {columns}, abandoned_by FROM txn ORDER BY id").fetchall()
        assert after == [(*row, None) for row in before]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "txn_open_connector" in indexes
    finally:
        conn.close()
