# -*- test-case-name: tests.test_earlystop -*-
"""
L{ocppcs.earlystop}: a SIGTERM or SIGINT before the reactor runs is held and
stops the reactor once it runs (the real twistd case is
tests/emulator/test_twistd_early_stop.py).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ocppcs.earlystop import STOP_SIGNALS, defer_early_stop


class NotYetRunning:
    """A reactor that has not run yet: records callWhenRunning and stop."""

    def __init__(self) -> None:
        self.running = False
        self.when_running: list[Callable[[], Any]] = []
        self.stopped = 0

    def callWhenRunning(self, f: Callable[[], Any]) -> None:
        self.when_running.append(f)

    def stop(self) -> None:
        self.stopped += 1

    def run(self) -> None:
        self.running = True
        for f in self.when_running:
            f()


@pytest.fixture
def saved_handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_a_signal_before_the_reactor_runs_stops_it_once_it_runs(
    saved_handlers: None, signum: int
) -> None:
    reactor = NotYetRunning()
    assert defer_early_stop(reactor) is True
    os.kill(os.getpid(), signum)  # held: this process goes on
    assert reactor.stopped == 0
    reactor.run()
    assert reactor.stopped == 1


def test_no_signal_no_stop(saved_handlers: None) -> None:
    reactor = NotYetRunning()
    defer_early_stop(reactor)
    reactor.run()
    assert reactor.stopped == 0


def test_nothing_is_installed_once_the_reactor_runs(saved_handlers: None) -> None:
    reactor = NotYetRunning()
    reactor.running = True
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    assert defer_early_stop(reactor) is False
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before
    assert reactor.when_running == []


def test_nothing_is_installed_outside_the_main_thread(saved_handlers: None) -> None:
    reactor = NotYetRunning()
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(defer_early_stop(reactor)))
    thread.start()
    thread.join()
    assert result == [False]
    assert reactor.when_running == []
