# -*- test-case-name: tests.backends.test_embedded_store_framelog -*-
"""Every OCPP frame in and out goes to each of several sinks (store, live feed, metrics)."""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger

from ocppcs.backends.interface import FrameRecord

FrameSink = Callable[[FrameRecord], None]


class FrameFanout:
    """
    Calls every sink with every frame; a failing sink is logged, the others still run.

    @ivar sinks: the sinks, in call order (the backend's frame log first).
    """

    _log = Logger()

    def __init__(self, *sinks: FrameSink) -> None:
        self.sinks: list[FrameSink] = list(sinks)

    def add(self, sink: FrameSink) -> None:
        """Also send frames to C{sink}."""
        self.sinks.append(sink)

    def remove(self, sink: FrameSink) -> None:
        """Stop sending frames to C{sink}."""
        self.sinks.remove(sink)

    def __call__(self, record: FrameRecord) -> None:
        for sink in self.sinks:
            try:
                sink(record)
            except Exception:
                self._log.failure("Frame sink {sink!r} failed", sink=sink)
