# -*- test-case-name: tests.transports.test_refusals -*-
"""
Refused connection attempts, kept so operators can see why a station can't
get in (bad path, bad identity, no common subprotocol, failed authentication).
A bounded in-memory list, newest first.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from twisted.internet.interfaces import IReactorTime


class RefusalLog:
    """
    The last C{size} refused connection attempts.

    @param clock: gives each attempt's time.
    @param size: how many attempts are kept.
    """

    def __init__(self, clock: IReactorTime, size: int = 1000) -> None:
        self._clock = clock
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(self, identity: str, path: str, address: str, reason: str) -> None:
        """Remember one refused attempt."""
        self._entries.appendleft(
            {
                "ts": self._clock.seconds(),
                "identity": identity,
                "path": path,
                "address": address,
                "reason": reason,
            }
        )

    def entries(
        self, identity: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """The attempts, newest first, optionally of one identity only."""
        found = [e for e in self._entries if identity is None or e["identity"] == identity]
        return found[offset : offset + limit]

    def __len__(self) -> int:
        return len(self._entries)
