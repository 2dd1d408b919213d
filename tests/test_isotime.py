"""Tests for L{ocppcs.isotime}."""

from __future__ import annotations

from ocppcs.isotime import IsoClock, iso_time


def test_iso_time() -> None:
    """Seconds since the epoch become UTC text with milliseconds and a Z."""
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1700000000.5) == "2023-11-14T22:13:20.500Z"


def test_clock_agrees_with_iso_time_across_seconds() -> None:
    """The cached clock gives the same text as iso_time, also when the second changes."""
    now = [1700000000.999]
    clock = IsoClock(lambda: now[0])
    for t in (1700000000.999, 1700000001.0, 1700000001.25, 1800000000.001):
        now[0] = t
        assert clock() == iso_time(t)
