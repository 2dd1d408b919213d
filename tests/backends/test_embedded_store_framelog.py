"""
Tests for the frame log of L{ocppcs.backends.embedded.store}: rows written
with the next batch or after C{log_flush_delay}, pruned by rows and age (also
by the store's own timer), and bad rows that never fail the batch's jobs.
"""

from __future__ import annotations

import time
from typing import Any

import pytest_twisted
from twisted.internet import task

from tests.backends import jobs
from tests.backends.storetools import log_row, sleep


@pytest_twisted.ensureDeferred
async def test_append_log_written_with_next_batch(make_store: Any) -> None:
    """Frame-log rows are written (all columns) in the next batch of jobs."""
    store = await make_store(log_flush_delay=60)
    store.append_log((1234.5, "CS9", "out", 3, "u1", "Authorize", '[3,"u1",{}]'))
    rows = await store.run(jobs.query, "SELECT * FROM frame_log")
    assert rows == [(1, 1234.5, "CS9", "out", 3, "u1", "Authorize", '[3,"u1",{}]')]


@pytest_twisted.ensureDeferred
async def test_append_log_flushed_alone(make_store: Any) -> None:
    """Frame-log rows with no job to go with are written after C{log_flush_delay}."""
    store = await make_store(log_flush_delay=0.05)
    commits = store.commits
    store.append_log(log_row(1))
    await sleep(0.02)
    assert store.commits == commits
    for _ in range(100):
        if store.commits > commits:
            break
        await sleep(0.02)
    assert store.commits == commits + 1
    assert await store.run(jobs.scalar, "SELECT count(*) FROM frame_log") == 1


@pytest_twisted.ensureDeferred
async def test_prune_by_rows(make_store: Any) -> None:
    """Pruning keeps the newest C{log_max_rows} rows."""
    store = await make_store(log_max_rows=10, prune_interval=0)
    for n in range(25):
        store.append_log(log_row(n))
    assert await store.prune_log() == 15
    ids = await store.run(jobs.query, "SELECT unique_id FROM frame_log")
    assert [r[0] for r in ids] == [str(n) for n in range(15, 25)]


@pytest_twisted.ensureDeferred
async def test_prune_by_age(make_store: Any) -> None:
    """Pruning drops rows older than C{log_max_age} seconds."""
    store = await make_store(log_max_age=60, prune_interval=0)
    now = time.time()
    for n in range(5):
        store.append_log(log_row(n, now - 120))
    for n in range(5, 8):
        store.append_log(log_row(n, now - 10))
    assert await store.prune_log() == 5
    ids = await store.run(jobs.query, "SELECT unique_id FROM frame_log")
    assert [r[0] for r in ids] == ["5", "6", "7"]


@pytest_twisted.ensureDeferred
async def test_prune_no_limits(make_store: Any) -> None:
    """With both limits at 0 nothing is pruned."""
    store = await make_store(log_max_rows=0, log_max_age=0)
    for n in range(5):
        store.append_log(log_row(n, 1.0))
    assert await store.prune_log() == 0


@pytest_twisted.ensureDeferred
async def test_prune_timer(make_store: Any) -> None:
    """The store prunes by itself every C{prune_interval} seconds of its clock."""
    clock = task.Clock()
    store = await make_store(log_max_rows=3, prune_interval=5, clock=clock)
    for n in range(10):
        store.append_log(log_row(n))
    await store.run(jobs.noop)
    clock.advance(4)
    count = "SELECT count(*) FROM frame_log"
    assert await store.run(jobs.scalar, count) == 10
    clock.advance(1)
    # The prune job was queued before this one, so it has run when this fires.
    assert await store.run(jobs.scalar, count) == 3


@pytest_twisted.ensureDeferred
async def test_bad_log_rows_do_not_fail_jobs(make_store: Any) -> None:
    """Frame-log rows that can't be written are dropped; the batch's jobs still commit."""
    store = await make_store(log_flush_delay=60)
    store.append_log(("not", "enough"))
    insert = "INSERT INTO id_tag (id_tag, status) VALUES ('T', 'Accepted')"
    assert await store.run(jobs.execute, insert) == 1
    assert await store.run(jobs.scalar, "SELECT count(*) FROM frame_log") == 0
