# -*- test-case-name: tests.test_gctune -*-
"""
Python's cyclic garbage collector, tuned for a server holding thousands of
connections.

Each connected station keeps about 80 objects that the collector tracks
(Autobahn's protocol state, the session, Twisted's transport), so 10,000
stations make a heap of about 800,000 objects, and a full collection walks
all of them (about 0.4 s on the project's machine). With CPython's default
thresholds (700, 10, 10) the objects of the calls in flight are promoted to
the oldest generation within milliseconds, which brought a full collection
every 1.7 s: 4.5 s of the reactor's 18.5 s of CPU in a 20 s window of
10,000 stations with one call in flight each (BENCHMARKS.md). Collecting
the youngest generation every L{GC_THRESHOLD}[0] allocations instead lets
most of a call's objects be freed by reference counting before the
collector sees them; cyclic garbage still goes, only later.
"""

from __future__ import annotations

import gc

#: Thresholds of the three generations (CPython's default is 700, 10, 10).
GC_THRESHOLD = (50_000, 20, 10)


def tune_gc(threshold: tuple[int, int, int] = GC_THRESHOLD) -> tuple[int, int, int]:
    """
    Set the collector's thresholds (process-wide).

    @return: the thresholds before, to restore them.
    """
    before = gc.get_threshold()
    gc.set_threshold(*threshold)
    return before
