"""
Tests for L{ocppcs.backends.embedded.store}: the single-writer SQLite store
with group commit, its migrations and its bounded frame log.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import task

from ocppcs.backends.embedded.store import SQLiteStore, StoreStopped, migrations

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


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest_twisted.async_yield_fixture
async def make_store(tmp_path: Path) -> Any:
    """A factory of started stores on C{tmp_path}, all stopped afterwards."""
    stores: list[SQLiteStore] = []

    async def make(path: Path | None = None, **kwargs: Any) -> SQLiteStore:
        store = SQLiteStore(_reactor(), path or tmp_path / "db.sqlite3", **kwargs)
        stores.append(store)
        await store.start()
        return store

    yield make
    for store in stores:
        await store.stop()


def _rows(conn: sqlite3.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return conn.execute(sql, args).fetchall()


def _log_row(n: int, ts: float | None = None) -> tuple[Any, ...]:
    return (time.time() if ts is None else ts, "CS1", "in", 2, str(n), "Heartbeat", "[2]")


def _blocker(store: SQLiteStore) -> threading.Event:
    """Occupy the writer thread until the returned event is set."""
    started = threading.Event()
    release = threading.Event()

    def block(conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(10)

    store.run(block)
    store.flush()
    assert started.wait(10)
    return release


def test_migrations_are_numbered_in_order() -> None:
    """The shipped migrations start at 1 and are sorted by number."""
    found = migrations()
    assert found[0][0] == 1
    assert found[0][1] == "0001_initial.sql"
    assert [m[0] for m in found] == sorted(m[0] for m in found)


def test_bad_synchronous() -> None:
    """Only C{full} and C{normal} are accepted for C{synchronous}."""
    with pytest.raises(ValueError):
        SQLiteStore(_reactor(), ":memory:", synchronous="off")


@pytest_twisted.ensureDeferred
async def test_migrations_create_schema(make_store: Any, tmp_path: Path) -> None:
    """
    Starting creates the missing parent directory, every table, WAL mode and
    sets C{user_version} to the last migration.
    """
    path = tmp_path / "a" / "b" / "db.sqlite3"
    store = await make_store(path)
    assert store.ready.result == migrations()[-1][0]
    names = await store.run(
        lambda conn: {
            r[0] for r in _rows(conn, "SELECT name FROM sqlite_master WHERE type='table'")
        }
    )
    assert TABLES <= names
    version = await store.run(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0])
    assert version == migrations()[-1][0]
    mode = await store.run(lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0])
    assert mode == "wal"
    sync = await store.run(lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0])
    assert sync == 2  # FULL
    assert path.exists()


@pytest_twisted.ensureDeferred
async def test_synchronous_normal(make_store: Any) -> None:
    """C{synchronous="normal"} sets C{PRAGMA synchronous = NORMAL}."""
    store = await make_store(synchronous="normal")
    sync = await store.run(lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0])
    assert sync == 1


@pytest_twisted.ensureDeferred
async def test_reopen_keeps_data(make_store: Any, tmp_path: Path) -> None:
    """Data committed before a stop is there after a restart; migrations don't rerun."""
    path = tmp_path / "db.sqlite3"
    store = await make_store(path)
    await store.run(
        lambda conn: conn.execute("INSERT INTO id_tag VALUES ('T1', 'Blocked', NULL, NULL)")
    )
    await store.stop()
    again = await make_store(path)
    rows = await again.run(lambda conn: _rows(conn, "SELECT id_tag, status FROM id_tag"))
    assert rows == [("T1", "Blocked")]
    version = await again.run(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0])
    assert version == migrations()[-1][0]


@pytest_twisted.ensureDeferred
async def test_group_commit(make_store: Any) -> None:
    """Jobs queued while the writer is busy all go into one transaction."""
    store = await make_store()
    release = _blocker(store)
    commits = store.commits
    insert = "INSERT INTO id_tag (id_tag, status) VALUES (?, 'Accepted')"
    ds = [
        store.run(lambda conn, n: conn.execute(insert, (f"T{n}",)).rowcount, n) for n in range(100)
    ]
    release.set()
    for d in ds:
        assert await d == 1
    assert store.commits - commits == 2  # the blocker's batch and the 100 jobs
    count = await store.run(lambda conn: conn.execute("SELECT count(*) FROM id_tag").fetchone()[0])
    assert count == 100


@pytest_twisted.ensureDeferred
async def test_failing_job_rolled_back_alone(make_store: Any) -> None:
    """A job that raises fails alone: its writes are undone, the others commit."""
    store = await make_store()
    insert = "INSERT INTO id_tag (id_tag, status) VALUES (?, 'Accepted')"

    def bad(conn: sqlite3.Connection) -> None:
        conn.execute(insert, ("B",))
        raise ValueError("no")

    release = _blocker(store)
    commits = store.commits
    a = store.run(lambda conn: conn.execute(insert, ("A",)).rowcount)
    b = store.run(bad)
    c = store.run(lambda conn: conn.execute(insert, ("C",)).rowcount)
    release.set()
    assert await a == 1
    with pytest.raises(ValueError, match="no"):
        await b
    assert await c == 1
    assert store.commits - commits == 2
    rows = await store.run(lambda conn: _rows(conn, "SELECT id_tag FROM id_tag ORDER BY id_tag"))
    assert rows == [("A",), ("C",)]


@pytest_twisted.ensureDeferred
async def test_result_fires_after_commit(make_store: Any, tmp_path: Path) -> None:
    """When a job's Deferred fires, another connection already sees its writes."""
    store = await make_store()
    await store.run(
        lambda conn: conn.execute("INSERT INTO id_tag VALUES ('X', 'Invalid', NULL, NULL)")
    )
    other = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert other.execute("SELECT status FROM id_tag").fetchall() == [("Invalid",)]
    finally:
        other.close()


@pytest_twisted.ensureDeferred
async def test_stop_commits_queued_jobs(make_store: Any, tmp_path: Path) -> None:
    """L{SQLiteStore.stop} runs and commits what was queued; later jobs fail."""
    store = await make_store()
    insert = "INSERT INTO id_tag (id_tag, status) VALUES (?, 'Accepted')"
    ds = [
        store.run(lambda conn, n: conn.execute(insert, (f"T{n}",)).rowcount, n) for n in range(10)
    ]
    store.append_log(_log_row(1))
    await store.stop()
    assert [d.result for d in ds] == [1] * 10
    with pytest.raises(StoreStopped):
        await store.run(lambda conn: None)
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert conn.execute("SELECT count(*) FROM id_tag").fetchone()[0] == 10
        assert conn.execute("SELECT count(*) FROM frame_log").fetchone()[0] == 1
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_start_failure(tmp_path: Path) -> None:
    """When the database can't be opened, C{ready} fails and jobs fail too."""
    (tmp_path / "dir.sqlite3").mkdir()
    store = SQLiteStore(_reactor(), tmp_path / "dir.sqlite3")
    with pytest.raises(sqlite3.Error):
        await store.start()
    with pytest.raises(StoreStopped):
        await store.run(lambda conn: None)
    await store.stop()


@pytest_twisted.ensureDeferred
async def test_append_log_written_with_next_batch(make_store: Any) -> None:
    """Frame-log rows are written (all columns) in the next batch of jobs."""
    store = await make_store(log_flush_delay=60)
    store.append_log((1234.5, "CS9", "out", 3, "u1", "Authorize", '[3,"u1",{}]'))
    rows = await store.run(lambda conn: _rows(conn, "SELECT * FROM frame_log"))
    assert rows == [(1, 1234.5, "CS9", "out", 3, "u1", "Authorize", '[3,"u1",{}]')]


@pytest_twisted.ensureDeferred
async def test_append_log_flushed_alone(make_store: Any) -> None:
    """Frame-log rows with no job to go with are written after C{log_flush_delay}."""
    store = await make_store(log_flush_delay=0.05)
    commits = store.commits
    store.append_log(_log_row(1))
    for _ in range(100):
        if store.commits > commits:
            break
        await task.deferLater(_reactor(), 0.02, lambda: None)
    assert store.commits == commits + 1
    count = await store.run(
        lambda conn: conn.execute("SELECT count(*) FROM frame_log").fetchone()[0]
    )
    assert count == 1


@pytest_twisted.ensureDeferred
async def test_prune_by_rows(make_store: Any) -> None:
    """Pruning keeps the newest C{log_max_rows} rows."""
    store = await make_store(log_max_rows=10, prune_interval=0)
    for n in range(25):
        store.append_log(_log_row(n))
    assert await store.prune_log() == 15
    ids = await store.run(
        lambda conn: [r[0] for r in _rows(conn, "SELECT unique_id FROM frame_log")]
    )
    assert ids == [str(n) for n in range(15, 25)]


@pytest_twisted.ensureDeferred
async def test_prune_by_age(make_store: Any) -> None:
    """Pruning drops rows older than C{log_max_age} seconds."""
    store = await make_store(log_max_age=60, prune_interval=0)
    now = time.time()
    for n in range(5):
        store.append_log(_log_row(n, now - 120))
    for n in range(5, 8):
        store.append_log(_log_row(n, now - 10))
    assert await store.prune_log() == 5
    ids = await store.run(
        lambda conn: [r[0] for r in _rows(conn, "SELECT unique_id FROM frame_log")]
    )
    assert ids == ["5", "6", "7"]


@pytest_twisted.ensureDeferred
async def test_prune_no_limits(make_store: Any) -> None:
    """With both limits at 0 nothing is pruned."""
    store = await make_store(log_max_rows=0, log_max_age=0)
    for n in range(5):
        store.append_log(_log_row(n, 1.0))
    assert await store.prune_log() == 0


@pytest_twisted.ensureDeferred
async def test_prune_timer(make_store: Any) -> None:
    """The store prunes by itself every C{prune_interval} seconds of its clock."""
    clock = task.Clock()
    store = await make_store(log_max_rows=3, prune_interval=5, clock=clock)
    for n in range(10):
        store.append_log(_log_row(n))
    await store.run(lambda conn: None)
    clock.advance(4)
    count = "SELECT count(*) FROM frame_log"
    assert await store.run(lambda conn: conn.execute(count).fetchone()[0]) == 10
    clock.advance(1)
    # The prune job was queued before this one, so it has run when this fires.
    assert await store.run(lambda conn: conn.execute(count).fetchone()[0]) == 3


def test_failed_migration_rolled_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A migration that fails leaves no trace and the version where it was."""
    from ocppcs.backends.embedded import store as module

    good = (1, "0001_a.sql", "CREATE TABLE a (x);")
    bad = (2, "0002_b.sql", "CREATE TABLE b (x);\nSELEC broken;")
    monkeypatch.setattr(module, "migrations", lambda: [good, bad])
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            module.apply_migrations(conn)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        names = {r[0] for r in _rows(conn, "SELECT name FROM sqlite_master WHERE type='table'")}
        assert names == {"a"}
        assert not conn.in_transaction
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_bad_log_rows_do_not_fail_jobs(make_store: Any) -> None:
    """Frame-log rows that can't be written are dropped; the batch's jobs still commit."""
    store = await make_store(log_flush_delay=60)
    store.append_log(("not", "enough"))
    insert = "INSERT INTO id_tag (id_tag, status) VALUES ('T', 'Accepted')"
    assert await store.run(lambda conn: conn.execute(insert).rowcount) == 1
    count = await store.run(
        lambda conn: conn.execute("SELECT count(*) FROM frame_log").fetchone()[0]
    )
    assert count == 0
