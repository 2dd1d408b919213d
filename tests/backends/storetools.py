"""Small helpers shared by the embedded store and backend tests."""

from __future__ import annotations

import time
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred


def running_reactor() -> Any:
    """The reactor the test runner installed (imported late, once it is installed)."""
    from twisted.internet import reactor

    return reactor


def sleep(seconds: float) -> Deferred:
    """Fires after C{seconds} on the reactor."""
    return task.deferLater(running_reactor(), seconds, lambda: None)


def log_row(n: int, ts: float | None = None) -> tuple[Any, ...]:
    """A frame-log row with uniqueId C{n}, received at C{ts} (default: now)."""
    return (time.time() if ts is None else ts, "CS1", "in", 2, str(n), "Heartbeat", "[2]")
