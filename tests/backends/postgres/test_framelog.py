"""
The batched frame log against a real server, with an C{ocpp.LogFrames} of
the test's own that keeps each batch: many frames per statement, in order,
bounded, and a failing batch dropped and counted without raising.
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg2
import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.task import deferLater

from ocppcs.backends.interface import FrameRecord
from ocppcs.backends.postgres.database import Database
from ocppcs.backends.postgres.framelog import FrameBatcher

reactor: Any = _reactor

LOG_FRAMES = """
CREATE SCHEMA IF NOT EXISTS ocpp;
CREATE TABLE ocpp.batch (id serial PRIMARY KEY, frames jsonb);
CREATE FUNCTION ocpp.LogFrames(pFrames jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF pFrames @> '[{"identity": "FAIL"}]' THEN
    RAISE EXCEPTION 'no room';
  END IF;
  INSERT INTO ocpp.batch (frames) VALUES (pFrames);
END $$;
"""


def _frame(n: int, identity: str = "F-1") -> FrameRecord:
    raw = f'[2,"{n}","Heartbeat",{{}}]'.encode()
    return FrameRecord(1000.0 + n, identity, "in", 2, str(n), "Heartbeat", raw)


async def _database(dsn: str) -> Database:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(LOG_FRAMES)
    conn.close()
    database = Database(reactor, dsn, size=2)
    await database.start()
    database.open()
    return database


async def _batches(database: Database) -> list[list[dict[str, Any]]]:
    rows = await database.query("SELECT frames::text FROM ocpp.batch ORDER BY id")
    return [orjson.loads(r[0]) for r in rows]


@pytest_twisted.ensureDeferred
async def test_frames_go_in_batches_in_order(postgres_dsn: str) -> None:
    database = await _database(postgres_dsn)
    batcher = FrameBatcher(database, reactor, interval=0.05, batch=100)
    try:
        for n in range(250):
            batcher.append(_frame(n))
        await batcher.flush()
        batches = await _batches(database)
    finally:
        database.close()
    assert [len(b) for b in batches] == [100, 100, 50]
    frames = [f for b in batches for f in b]
    assert [f["unique_id"] for f in frames] == [str(n) for n in range(250)]
    assert frames[0] == {
        "ts": 1000.0,
        "identity": "F-1",
        "direction": "in",
        "message_type": 2,
        "unique_id": "0",
        "action": "Heartbeat",
        "raw": '[2,"0","Heartbeat",{}]',
    }


@pytest_twisted.ensureDeferred
async def test_a_few_frames_go_after_the_interval(postgres_dsn: str) -> None:
    database = await _database(postgres_dsn)
    batcher = FrameBatcher(database, reactor, interval=0.02, batch=100)
    try:
        for n in range(3):
            batcher.append(_frame(n))
        assert await _batches(database) == []
        for _ in range(100):
            await deferLater(reactor, 0.02, lambda: None)
            if await _batches(database):
                break
        assert [len(b) for b in await _batches(database)] == [3]
    finally:
        database.close()


@pytest_twisted.ensureDeferred
async def test_losses_are_bounded_counted_and_logged(
    postgres_dsn: str, events: list[dict[str, Any]]
) -> None:
    database = await _database(postgres_dsn)
    batcher = FrameBatcher(database, reactor, interval=10, batch=5, bound=8)
    try:
        batcher.append(_frame(0, "FAIL"))
        for n in range(1, 12):  # the first 5 go at once (and fail), 7 wait
            batcher.append(_frame(n))
        await batcher.flush()
        assert batcher.dropped == {"failed": 5}
        # While a batch is in flight (the first 5), at most `bound` (8) wait: 7 dropped.
        for n in range(20):
            batcher.append(_frame(n))
        await batcher.flush()
        batches = await _batches(database)
    finally:
        database.close()
    assert batcher.dropped == {"failed": 5, "overflow": 7}
    assert sum(len(b) for b in batches) == 7 + 5 + 8
    messages = [e.get("log_format", "") for e in events]
    assert any("Frames are not being logged" in m for m in messages)
    assert any("written again" in m for m in messages)
