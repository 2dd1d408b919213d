# -*- test-case-name: tests.emulator.test_limits -*-
"""
The power each connector of an emulated station may draw, and its meter.

    connector limit   its TxProfile / TxDefaultProfile (0 while deauthorized)
    station limit     the ChargePointMaxProfile, shared by the connectors that
                      charge (L{share_station_limit}: what one vehicle does not
                      take goes to the others)
    limit_w           min(connector limit, its share)

Limits are recomputed when a transaction starts or ends, when profiles
change, at each meter sample (vehicles take less as they fill), and at the
exact instant a profile says they change (a timer at
L{ChargingProfiles.next_change}); the meters are brought up to that instant
first, so energy follows the limit that was in force.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ocppcs.emulator.connector import Connector
from ocppcs.emulator.smartcharging import share_station_limit

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object


def _least(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class PowerLimits(_Base):
    """Limits and meters; mixed into L{ocppcs.emulator.station.EmulatedStation}."""

    def advance(self, c: Connector, to: float | None = None) -> None:
        """
        Bring C{c}'s meter up to now (or to C{to}, if earlier) at its present
        limit; the register only grows.
        """
        now = self.now() if to is None else min(to, self.now())
        seconds = now - c.last_advance
        if seconds <= 0:
            return
        c.last_advance = now
        if c.transaction is None or c.vehicle is None:
            return
        c.register_wh += max(c.vehicle.advance(seconds, c.limit_w), 0.0)

    def update_limit(self, c: Connector, report: bool = True) -> None:
        """Recompute the limits (of every connector: they share the station's)."""
        self.update_limits(report)

    def update_limits(self, report: bool = True, changed_at: float | None = None) -> None:
        """
        Bring every meter up to now, then recompute every connector's limit
        and schedule the next recomputation; with C{report}, send the
        statuses that changed (Charging, SuspendedEV, SuspendedEVSE).

        @param changed_at: when the limits changed, if before now (a late
            timer): meters run at the old limits only until then.
        """
        for c in self.connectors.values():
            self.advance(c, changed_at)
        at = self.now_dt() if changed_at is None else datetime.fromtimestamp(changed_at, UTC)
        own: dict[int, float | None] = {}
        wanted: dict[int, float] = {}
        starts: dict[int, datetime | None] = {}
        for c in self.connectors.values():
            tx = c.transaction
            start = datetime.fromtimestamp(tx.start, UTC) if tx is not None else None
            starts[c.id] = start
            if tx is not None and tx.deauthorized:
                own[c.id] = 0.0
            else:
                own[c.id] = self.profiles.connector_limit_watts(c.id, at, start, c.spec)
            if tx is not None and c.vehicle is not None:
                wanted[c.id] = min(c.vehicle.accepted_w(), c.vehicle.offered_w(own[c.id]))
        first = next(iter(self.connectors.values())).spec
        station_w = self.profiles.station_limit_watts(at, first)
        shares = share_station_limit(station_w, wanted)
        for c in self.connectors.values():
            share = shares.get(c.id, station_w)
            c.limit_w = _least(own[c.id], share)
        for c in self.connectors.values():
            self.advance(c)  # from changed_at to now at the new limits
        if report:
            for c in self.connectors.values():
                self.changed(c)
        self._schedule_limit_change(at, starts)

    def _schedule_limit_change(self, at: datetime, starts: dict[int, datetime | None]) -> None:
        if not self.profiles.profiles():
            self.cancel("limits")
            return
        change = self.profiles.next_change(at, starts)
        if change is None:
            self.cancel("limits")
            return
        when = change.timestamp()
        self.later("limits", when - self.now(), self.update_limits, True, when)
