# -*- test-case-name: tests.emulator.test_auto -*-
"""
The C{auto} mode of an emulated station: drivers arrive, charge and leave on
a seeded random schedule, for demos and load.

    idle U(idleSeconds) --> plug in, present a random idTag of idTags
    --> charge U(sessionSeconds) --> present the idTag again (Local stop)
    --> unplug a few seconds later --> idle ...

The same seed and identity give the same schedule on every run.
"""

from __future__ import annotations

import random
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ocppcs.emulator.charging import LocalActionError
from ocppcs.emulator.station import EmulatedStation
from ocppcs.emulator.stationconfig import AutoConfig

#: Seconds between the driver's stop and unplugging.
UNPLUG_AFTER = 3.0


class AutoDriver:
    """Drives one station's connectors on a random schedule."""

    _log = Logger()

    def __init__(self, station: EmulatedStation, auto: AutoConfig, clock: IReactorTime) -> None:
        self.station = station
        self.auto = auto
        self.clock = clock
        self.rng = random.Random(f"{auto.seed}/{station.identity}")
        self.sessions = 0
        self._calls: dict[int, Any] = {}

    def start(self) -> None:
        """Schedule the first arrival on every connector."""
        for connector_id in self.station.connectors:
            self._idle(connector_id)

    def stop(self) -> None:
        """Cancel everything scheduled."""
        for call in self._calls.values():
            if call.active():
                call.cancel()
        self._calls.clear()

    def _at(self, connector_id: int, delay: float, fn: Any, *args: Any) -> None:
        self._calls[connector_id] = self.clock.callLater(delay, self._run, fn, connector_id, *args)

    def _run(self, fn: Any, connector_id: int, *args: Any) -> None:
        try:
            fn(connector_id, *args)
        except LocalActionError as e:
            self._log.debug("{identity}: auto: {error}", identity=self.station.identity, error=e)
            self._idle(connector_id)
        except Exception:
            self._log.failure("{identity}: auto mode failed", identity=self.station.identity)
            self._idle(connector_id)

    def _idle(self, connector_id: int) -> None:
        low, high = self.auto.idle_seconds
        self._at(connector_id, self.rng.uniform(low, high), self._arrive)

    def _arrive(self, connector_id: int) -> None:
        c = self.station.connectors[connector_id]
        if c.status != "Available" or not self.station.online:
            self._idle(connector_id)
            return
        tag = self.rng.choice(self.auto.id_tags)
        self.station.plug_in(connector_id)
        self.station.present_id_tag(connector_id, tag).addErrback(
            lambda f: self._log.failure("auto idTag", f)
        )
        self.sessions += 1
        low, high = self.auto.session_seconds
        self._at(connector_id, self.rng.uniform(low, high), self._depart, tag)

    def _depart(self, connector_id: int, tag: str) -> None:
        c = self.station.connectors[connector_id]
        tx = c.transaction
        if tx is not None and tx.id_tag == tag:
            self.station.present_id_tag(connector_id, tag)
            self._at(connector_id, UNPLUG_AFTER, self._unplug)
        else:
            self._unplug(connector_id)

    def _unplug(self, connector_id: int) -> None:
        if self.station.connectors[connector_id].plugged:
            self.station.unplug(connector_id)
        self._idle(connector_id)
