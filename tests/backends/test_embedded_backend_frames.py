"""
Tests for the frame log of L{ocppcs.backends.embedded.record.EmbeddedRecord}
(every field kept, bounded by rows and age) and for C{bench/store_bench.py},
which drives the backend and its store under load.
"""

from __future__ import annotations

import importlib.util
import time
from argparse import Namespace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_twisted

from ocppcs.backends.interface import FrameRecord
from tests.backends.storetools import running_reactor


@pytest_twisted.ensureDeferred
async def test_record_frame(make_backend: Any) -> None:
    """Frames are logged with every field; bad records never raise."""
    backend = await make_backend()
    ts = datetime(2026, 11, 24, 13, 45, 0, 123000, tzinfo=UTC)
    backend.record_frame(
        FrameRecord(ts.timestamp(), "CS1", "in", 2, "u1", "Heartbeat", b'[2,"u1","Heartbeat",{}]')
    )
    backend.record_frame(
        FrameRecord(ts.timestamp(), "CS2", "out", 3, "u2", "Heartbeat", b"\xff bad utf-8")
    )
    backend.record_frame(None)  # type: ignore[arg-type]
    frames = await backend.list_frames()
    assert [(f["identity"], f["direction"], f["message_type"], f["unique_id"]) for f in frames] == [
        ("CS2", "out", 3, "u2"),
        ("CS1", "in", 2, "u1"),
    ]
    assert frames[1]["ts"] == "2026-11-24T13:45:00.123Z"
    assert frames[1]["raw"] == '[2,"u1","Heartbeat",{}]'
    assert frames[0]["raw"] == "\ufffd bad utf-8"
    assert [f["unique_id"] for f in await backend.list_frames("CS1")] == ["u1"]
    assert len(await backend.list_frames(limit=1)) == 1


@pytest_twisted.ensureDeferred
async def test_frame_log_bounded(make_backend: Any) -> None:
    """The frame log is pruned to C{log_max_rows} rows and C{log_max_age} seconds."""
    backend = await make_backend(embedded={"log_max_rows": 5, "log_max_age": 3600})
    old = datetime.now(UTC) - timedelta(hours=2)
    for n in range(3):
        backend.record_frame(
            FrameRecord(old.timestamp(), "CS1", "in", 2, f"old{n}", "Heartbeat", b"[]")
        )
    for n in range(8):
        backend.record_frame(FrameRecord(time.time(), "CS1", "in", 2, f"new{n}", "", b"[]"))
    assert await backend.store.prune_log() == 6
    frames = await backend.list_frames(limit=100)
    assert [f["unique_id"] for f in frames] == [f"new{n}" for n in range(7, 2, -1)]


# --- benchmark script ------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_store_bench_runs(capsys: Any) -> None:
    """C{bench/store_bench.py} runs (a tiny load) and prints its figures."""
    path = Path(__file__).parents[2] / "bench" / "store_bench.py"
    spec = importlib.util.spec_from_file_location("store_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module._bench(
        running_reactor(), Namespace(calls=300, stations=10, synchronous="normal", frames=True)
    )
    out = capsys.readouterr().out
    assert "300 calls from 10 stations" in out and "calls/s" in out
