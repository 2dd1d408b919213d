# -*- test-case-name: tests.test_isotime -*-
"""Times as OCPP's ISO-8601 UTC text with milliseconds: C{2026-11-24T13:45:00.123Z}."""

from __future__ import annotations

import time
from typing import Any


class IsoClock:
    """
    The current time as ISO-8601 UTC text with milliseconds and a C{Z}
    (C{"2026-11-24T13:45:00.123Z"}), cheaply: the date and time up to the
    seconds are formatted once per second.
    """

    def __init__(self, seconds: Any = time.time) -> None:
        """
        @param seconds: returns seconds since the epoch (e.g. C{reactor.seconds}).
        """
        self._seconds = seconds
        self._second = -1
        self._prefix = ""

    def __call__(self) -> str:
        """
        @return: the time now.
        """
        return self.format(self._seconds())

    def format(self, t: float) -> str:
        """
        @param t: seconds since the epoch.
        @return: C{t} as ISO-8601 UTC text.
        """
        ms = int(t * 1000)
        second = ms // 1000
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{ms % 1000:03d}Z"


def iso_time(ts: float) -> str:
    """C{ts} (seconds since the epoch) as C{YYYY-MM-DDTHH:MM:SS.mmmZ}."""
    millis = int(ts * 1000)
    seconds, millis = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
