"""Tests for L{ocppcs.gctune} and its use by C{twistd ocppcs}."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock

from ocppcs.gctune import GC_THRESHOLD, tune_gc
from ocppcs.tap import Options, makeService


@pytest.fixture
def restore_gc() -> Iterator[None]:
    """Put the collector's thresholds back afterwards."""
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_tune_gc_sets_and_returns(restore_gc: None) -> None:
    """tune_gc sets the thresholds and returns the ones before."""
    gc.set_threshold(700, 10, 10)
    assert tune_gc() == (700, 10, 10)
    assert gc.get_threshold() == GC_THRESHOLD
    assert GC_THRESHOLD[0] > 700


def _options(tmp_path: Path) -> Options:
    conf = tmp_path / "c.conf"
    conf.write_text(f"[server]\nlisten = tcp:0\n[embedded]\npath = {tmp_path / 'db'}\n")
    options = Options()
    options.parseOptions(["--config", str(conf)])
    return options


def test_twistd_service_tunes_gc(tmp_path: Path, restore_gc: None) -> None:
    """The service twistd builds (no reactor given) runs with the tuned collector."""
    gc.set_threshold(700, 10, 10)
    makeService(_options(tmp_path))  # built, not started: nothing listens
    assert gc.get_threshold() == GC_THRESHOLD


def test_embedding_keeps_gc(tmp_path: Path, restore_gc: None) -> None:
    """Code that builds the service on its own reactor keeps its collector settings."""
    gc.set_threshold(700, 10, 10)
    makeService(_options(tmp_path), MemoryReactorClock())
    assert gc.get_threshold() == (700, 10, 10)
