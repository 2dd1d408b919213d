"""
Tests for the store's pipe to its worker
(L{ocppcs.backends.embedded.process.WorkerProtocol}): a message larger than
the pipe is pushed on by the work queued after it, and batches of several
megabytes arrive whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_twisted

from ocppcs.backends.embedded.process import NUDGE_EVERY, WorkerProtocol
from tests.backends import jobs


class _Pipe:
    """The write end of a pipe that takes at most C{room} bytes per write."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.dataBuffer = b""
        self.written = bytearray()
        self.writes = 0

    def doWrite(self) -> None:
        self.writes += 1
        taken, self.dataBuffer = self.dataBuffer[: self.room], self.dataBuffer[self.room :]
        self.written += taken


class _Transport:
    """What L{WorkerProtocol} uses of a process transport."""

    pid = 4242

    def __init__(self, pipe: _Pipe) -> None:
        self.pipes = {0: pipe}
        self.pipe = pipe

    def writeSequence(self, seq: Any) -> None:
        self.pipe.dataBuffer += b"".join(seq)


def _protocol(room: int) -> tuple[WorkerProtocol, _Pipe]:
    pipe = _Pipe(room)
    worker = WorkerProtocol(lambda *a: None, lambda *a: None)
    worker.transport = _Transport(pipe)  # type: ignore[assignment]
    return worker, pipe


def test_nudge_pushes_a_message_larger_than_the_pipe() -> None:
    """
    What the pipe did not take at once is written on by every
    L{NUDGE_EVERY}-th nudge, until all of it is in; then nudges write nothing.
    """
    worker, pipe = _protocol(room=1000)
    blob = bytes(range(256)) * 10  # 2,560 bytes: three pipe-fulls with the length
    worker.send(blob)
    assert pipe.writes == 1 and worker.backlog
    for _ in range(NUDGE_EVERY - 1):
        worker.nudge()
    assert pipe.writes == 1
    worker.nudge()
    assert pipe.writes == 2 and worker.backlog
    for _ in range(NUDGE_EVERY):
        worker.nudge()
    assert pipe.writes == 3 and not worker.backlog
    assert bytes(pipe.written) == len(blob).to_bytes(4, "big") + blob
    for _ in range(3 * NUDGE_EVERY):
        worker.nudge()
    assert pipe.writes == 3


def test_no_nudging_when_the_pipe_took_it_all() -> None:
    """A message that fits is written once, and nudges do nothing."""
    worker, pipe = _protocol(room=1 << 20)
    worker.send(b"small")
    for _ in range(3 * NUDGE_EVERY):
        worker.nudge()
    assert pipe.writes == 1 and not worker.backlog


@pytest_twisted.ensureDeferred
async def test_batches_larger_than_the_pipe(make_store: Any, tmp_path: Path) -> None:
    """
    Batches of several megabytes (bulk rows, frame-log rows and jobs, more
    than the 1 MB pipe), two in flight, are stored whole and in order.
    """
    store = await make_store()
    raw = "x" * 2000
    for n in range(3000):
        store.append_log((float(n), f"CS{n % 7}", "in", 2, str(n), "Heartbeat", raw))
    seen = store.bulk("last_seen", [(f"CS{n}", raw) for n in range(2000)])
    insert = "INSERT INTO id_tag (id_tag, status) VALUES (?, 'Accepted')"
    first = store.run(jobs.execute, insert, raw)
    await seen
    assert await first == 1
    # a second big batch right behind the first
    for n in range(3000, 4000):
        store.append_log((float(n), "CS1", "out", 3, str(n), "Heartbeat", raw))
    count = await store.run(jobs.scalar, "SELECT count(*) FROM frame_log")
    assert count == 4000
    ids = await store.run(jobs.query, "SELECT unique_id FROM frame_log ORDER BY id")
    assert [int(i) for (i,) in ids] == list(range(4000))
    assert await store.run(jobs.scalar, "SELECT length(id_tag) FROM id_tag") == 2000
