"""
Tests for the jobs of L{ocppcs.backends.embedded.store}: the SQLite store
written by a worker process with group commit, failing and unpicklable jobs,
bulk rows, stopping with work queued, and the replacement of a worker that
dies.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import task
from twisted.internet.defer import Deferred

from ocppcs.backends.embedded.store import SQLiteStore, StoreJobError, StoreStartError, StoreStopped
from tests.backends import jobs
from tests.backends.storetools import log_row, sleep

INSERT_TAG = "INSERT INTO id_tag (id_tag, status) VALUES (?, 'Accepted')"


async def _blocker(store: SQLiteStore, folder: Path) -> tuple[Deferred, Path]:
    """
    Keep the worker busy with a batch until the returned file is created.

    @return: the blocking job's Deferred and the file that releases it.
    """
    started, release = folder / "started", folder / "release"
    started.unlink(missing_ok=True)
    release.unlink(missing_ok=True)
    d = store.run(jobs.block, str(started), str(release))
    store.flush()
    for _ in range(2000):
        if started.exists():
            return d, release
        await sleep(0.005)
    raise AssertionError("the blocking job did not start")


@pytest_twisted.ensureDeferred
async def test_group_commit(make_store: Any, tmp_path: Path) -> None:
    """
    Jobs and bulk rows queued in one reactor iteration while a batch is in
    flight all go to the worker as the next batch, one transaction.
    """
    store = await make_store()
    blocked, release = await _blocker(store, tmp_path)
    commits, done = store.commits, store.jobs_done
    ds = [store.run(jobs.execute, INSERT_TAG, f"T{n}") for n in range(100)]
    seen = [store.bulk("last_seen", [("CS1", f"t{n}")]) for n in range(10)]
    await sleep(0.05)
    assert not any(d.called for d in ds)
    release.touch()
    assert await blocked == store.worker_pid
    for d in ds:
        assert await d == 1
    for d in seen:
        assert await d is None
    assert store.commits - commits == 2  # the blocker's batch and everything else
    assert store.jobs_done - done == 101
    assert await store.run(jobs.scalar, "SELECT count(*) FROM id_tag") == 100


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("pipeline", [1, 2, 3])
async def test_pipeline(make_store: Any, tmp_path: Path, pipeline: int) -> None:
    """
    Up to C{pipeline} batches are in flight at once: work queued while the
    pipeline is full waits and goes as one batch when the worker answers.
    Batches commit and their Deferreds fire in the order the work was queued.
    """
    store = await make_store(pipeline=pipeline)
    blocked, release = await _blocker(store, tmp_path)
    commits = store.commits
    fired: list[int] = []
    groups = []
    for n in range(4):  # four reactor iterations, one job each
        d = store.run(jobs.execute, INSERT_TAG, f"T{n}")
        groups.append(d.addCallback(lambda _, n=n: fired.append(n)))
        await sleep(0.02)
    assert fired == []
    release.touch()
    await blocked
    for d in groups:
        await d
    assert fired == [0, 1, 2, 3]
    # the blocker's batch, one batch per iteration while the pipeline had
    # room, then everything queued behind a full pipeline as one batch
    assert store.commits - commits == 1 + min(pipeline - 1, 4) + (pipeline - 1 < 4)
    rows = await store.run(jobs.query, "SELECT id_tag FROM id_tag ORDER BY rowid")
    assert rows == [("T0",), ("T1",), ("T2",), ("T3",)]


@pytest_twisted.ensureDeferred
async def test_failing_job_rolled_back_alone(make_store: Any, tmp_path: Path) -> None:
    """A job that raises fails alone, with its own exception: its writes are undone."""
    store = await make_store()
    blocked, release = await _blocker(store, tmp_path)
    commits = store.commits
    a = store.run(jobs.execute, INSERT_TAG, "A")
    b = store.run(jobs.execute_then_fail, INSERT_TAG, "B")
    c = store.run(jobs.execute, INSERT_TAG, "C")
    release.touch()
    await blocked
    assert await a == 1
    with pytest.raises(ValueError, match="no") as raised:
        await b
    assert "Raised in the store worker" in raised.value.__notes__[0]
    assert await c == 1
    assert store.commits - commits == 2
    rows = await store.run(jobs.query, "SELECT id_tag FROM id_tag ORDER BY id_tag")
    assert rows == [("A",), ("C",)]


@pytest_twisted.ensureDeferred
async def test_unpicklable_jobs(make_store: Any) -> None:
    """
    A job that can't be sent, an exception or a result that can't come back
    fail with L{StoreJobError}; the rest of the batch is unaffected.
    """
    store = await make_store()
    local = store.run(lambda conn: None)
    error = store.run(jobs.raise_unpicklable)
    cursor = store.run(jobs.return_cursor)
    fine = store.run(jobs.execute, INSERT_TAG, "OK")
    with pytest.raises(StoreJobError, match="module-level"):
        await local
    with pytest.raises(StoreJobError, match="Unpicklable"):
        await error
    with pytest.raises(StoreJobError, match="pickle"):
        await cursor
    assert await fine == 1


@pytest_twisted.ensureDeferred
async def test_bulk_failure(make_store: Any) -> None:
    """Bulk rows of a kind that fail to be written all fail together."""
    store = await make_store()
    ok = store.bulk("last_seen", [("CS1", "t")])
    bad = [store.bulk("meter_value", [("CS1",)]), store.bulk("meter_value", [("CS2",)])]
    assert await ok is None
    for d in bad:
        with pytest.raises(sqlite3.IntegrityError):
            await d
    with pytest.raises(KeyError):
        store.bulk("frame_log", [])


@pytest_twisted.ensureDeferred
async def test_result_fires_after_commit(make_store: Any, tmp_path: Path) -> None:
    """When a job's Deferred fires, another connection already sees its writes."""
    store = await make_store()
    await store.run(jobs.execute, "INSERT INTO id_tag VALUES ('X', 'Invalid', NULL, NULL)")
    other = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert other.execute("SELECT status FROM id_tag").fetchall() == [("Invalid",)]
    finally:
        other.close()


@pytest_twisted.ensureDeferred
async def test_stop_commits_queued_jobs(make_store: Any, tmp_path: Path) -> None:
    """L{SQLiteStore.stop} runs and commits what was queued, the worker exits; later jobs fail."""
    store = await make_store()
    blocked, release = await _blocker(store, tmp_path)
    ds = [store.run(jobs.execute, INSERT_TAG, f"T{n}") for n in range(10)]
    store.append_log(log_row(1))
    pid = store.worker_pid
    stopped = store.stop()
    release.touch()
    await stopped
    assert [d.result for d in ds] == [1] * 10
    assert blocked.called
    with pytest.raises(StoreStopped):
        await store.run(jobs.noop)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert conn.execute("SELECT count(*) FROM id_tag").fetchone()[0] == 10
        assert conn.execute("SELECT count(*) FROM frame_log").fetchone()[0] == 1
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_worker_crash_and_restart(make_store: Any, tmp_path: Path, events: Any) -> None:
    """
    When the worker dies, the work in flight and queued fails with
    L{StoreStopped}; a new worker starts after C{restart_delay} on the clock,
    with everything committed before, and new work succeeds.
    """
    clock = task.Clock()
    store = await make_store(clock=clock, restart_delay=1.0)
    assert await store.run(jobs.execute, INSERT_TAG, "BEFORE") == 1
    blocked, _ = await _blocker(store, tmp_path)
    queued = store.run(jobs.execute, INSERT_TAG, "QUEUED")
    bulk = store.bulk("last_seen", [("CS1", "t")])
    pid = store.worker_pid
    os.kill(pid, signal.SIGKILL)
    for d in (blocked, queued, bulk):
        with pytest.raises(StoreStopped, match="died"):
            await d
    assert store.worker_pid is None
    died = [e for e in events if e.get("log_format", "").startswith("Store worker for")]
    assert died[0]["pid"] == pid and "signal 9" in died[0]["status"]
    later = store.run(jobs.execute, INSERT_TAG, "AFTER")  # waits for the new worker
    clock.advance(1)
    assert await later == 1
    assert store.worker_pid not in (None, pid)
    rows = await store.run(jobs.query, "SELECT id_tag FROM id_tag ORDER BY id_tag")
    assert rows == [("AFTER",), ("BEFORE",)]


@pytest_twisted.ensureDeferred
async def test_restart_failure_backs_off(make_store: Any, tmp_path: Path) -> None:
    """A replacement worker that can't open the database is retried, twice as late."""
    clock = task.Clock()
    store = await make_store(clock=clock, restart_delay=1.0)
    good = store.path
    store.path = tmp_path / "file"
    store.path.mkdir()  # a directory: can't be opened
    os.kill(store.worker_pid, signal.SIGKILL)
    with pytest.raises(StoreStopped):
        await store.run(jobs.noop)
    queued = store.run(jobs.noop)
    clock.advance(1)
    with pytest.raises(StoreStartError):
        await queued
    store.path = good
    queued = store.run(jobs.execute, INSERT_TAG, "T")
    clock.advance(1.5)
    await sleep(0.3)
    assert not queued.called  # the second attempt waits 2 s
    clock.advance(0.5)
    assert await queued == 1


@pytest_twisted.ensureDeferred
async def test_worker_output_logged(make_store: Any, events: Any) -> None:
    """What a job prints ends up in our log, with the worker's pid."""
    store = await make_store()
    await store.run(jobs.chatter, "hello from the worker")
    for _ in range(200):
        said = [e for e in events if e.get("line") == "hello from the worker"]
        if said:
            break
        await sleep(0.005)
    assert said[0]["pid"] == store.worker_pid


@pytest_twisted.ensureDeferred
async def test_stop_kills_a_worker_that_does_not_stop_in_time(
    make_store: Any, tmp_path: Path, events: Any
) -> None:
    """
    A job that hangs does not hang the shutdown: after C{stop_timeout} the
    worker is killed, the work in flight and queued fails with
    L{StoreStopped}, and what was committed before stays.
    """
    store = await make_store(stop_timeout=0.5)
    assert await store.run(jobs.execute, INSERT_TAG, "BEFORE") == 1
    blocked, _ = await _blocker(store, tmp_path)  # never released: blocks for 10 s
    queued = store.run(jobs.execute, INSERT_TAG, "QUEUED")
    pid = store.worker_pid
    await store.stop()
    for d in (blocked, queued):  # killed before the job ended (it would have returned a pid)
        with pytest.raises(StoreStopped, match="may or may not"):
            await d
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    killed = [e for e in events if "did not stop within" in e.get("log_format", "")]
    assert killed and killed[0]["pid"] == pid
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert conn.execute("SELECT id_tag FROM id_tag").fetchall() == [("BEFORE",)]
    finally:
        conn.close()
