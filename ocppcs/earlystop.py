# -*- test-case-name: tests.emulator.test_twistd_early_stop,tests.test_earlystop -*-
"""
A stop signal that arrives while C{twistd} is still starting.

C{twistd} starts the application's services before it runs the reactor,
and the reactor installs its SIGTERM/SIGINT handlers only once it runs. A
signal in between would end the process by the signal's default action,
with listeners open and a store worker half started. L{defer_early_stop}
holds such a signal until the reactor runs and then stops it the ordinary
way, so the services stop in order.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from twisted.logger import Logger

_log = Logger()

#: The signals twistd's reactor handles as "stop".
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def defer_early_stop(reactor: Any) -> bool:
    """
    Until C{reactor} runs, hold SIGTERM and SIGINT; once it runs, stop it if
    one arrived. Does nothing when the reactor already runs or when called
    outside the main thread (only the main thread may set signal handlers).

    @return: whether the handlers were installed.
    """
    if reactor.running or threading.current_thread() is not threading.main_thread():
        return False
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, hold)

    def running() -> None:
        # The reactor has installed its own handlers by now (before its
        # after-startup triggers run), replacing ours.
        if received:
            _log.info(
                "Stopping: {signal} received while starting",
                signal=signal.Signals(received[0]).name,
            )
            reactor.stop()

    reactor.callWhenRunning(running)
    return True
