"""
What C{emulator_load.py} measures inside the emulator process: MeterValues
send-to-reply and queued-to-reply times (L{Timings}, by wrapping emulator
methods; the emulator code itself is unchanged) and the emulator's log
warnings (L{Warnings}).

Import it after C{emulator_load.py} has installed its reactor and put the
repository root on C{sys.path}.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from twisted.logger import LogLevel, formatEvent
from twisted.python.failure import Failure

from ocppcs.emulator.outbox import Message, Outbox
from ocppcs.emulator.station import EmulatedStation


class Timings:
    """
    MeterValues send-to-reply and queued-to-reply times, by wrapping
    L{EmulatedStation.send}, L{Outbox.put} and L{EmulatedStation._answered}
    (installed before the stations are built, which bind them).
    """

    def __init__(self) -> None:
        self.recording = False
        self.rtt_ns: list[int] = []
        self.queued_ns: list[int] = []
        self.replies: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self._queued: dict[int, int] = {}

    def install(self) -> None:
        send, put, answered = EmulatedStation.send, Outbox.put, EmulatedStation._answered
        clock = time.perf_counter_ns

        def timed_send(station: EmulatedStation, action: str, payload: dict[str, Any]) -> Any:
            t0 = clock()
            d = send(station, action, payload)
            d.addCallbacks(self._replied, self._failed, (action, t0), None, (action,))
            return d

        def timed_put(outbox: Outbox, action: str, *args: Any, **kwargs: Any) -> Any:
            message = put(outbox, action, *args, **kwargs)
            if message is not None and action == "MeterValues":
                self._queued[id(message)] = clock()
            return message

        def timed_answered(
            station: EmulatedStation, message: Message, reply: dict[str, Any]
        ) -> None:
            t0 = self._queued.pop(id(message), None)
            if t0 is not None and self.recording:
                self.queued_ns.append(clock() - t0)
            answered(station, message, reply)

        EmulatedStation.send = timed_send  # type: ignore[method-assign]
        Outbox.put = timed_put  # type: ignore[method-assign]
        EmulatedStation._answered = timed_answered  # type: ignore[method-assign]

    def _replied(self, reply: Any, action: str, t0: int) -> Any:
        if self.recording:
            self.replies[action] += 1
            if action == "MeterValues":
                self.rtt_ns.append(time.perf_counter_ns() - t0)
        return reply

    def _failed(self, failure: Failure, action: str) -> Failure:
        if self.recording:
            self.failures[f"{action}: {failure.getErrorMessage()[:60]}"] += 1
        return failure


class Warnings:
    """Counts the emulator's log events of level warn and above; keeps a few."""

    def __init__(self) -> None:
        self.count = 0
        self.first: list[str] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("log_level", LogLevel.info) >= LogLevel.warn:
            self.count += 1
            if len(self.first) < 3:
                failure = event.get("log_failure")
                text = formatEvent(event) + (failure.getTraceback() if failure else "")
                self.first.append(text[-1500:])
