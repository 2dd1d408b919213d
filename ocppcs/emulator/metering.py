# -*- test-case-name: tests.emulator.test_charging_meter -*-
"""
The MeterValues an emulated station reports:

    Sample.Periodic  every MeterValueSampleInterval, for connectors in a
                     transaction, with MeterValuesSampledData (kept offline)
    Sample.Clock     every ClockAlignedDataInterval from midnight UTC, for
                     every connector, with MeterValuesAlignedData

The register is saved before a transaction's values are queued, so a
restarted station never reports less than it did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocppcs.emulator.connector import Connector
from ocppcs.emulator.physics import sampled_values

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object

REGISTER = "Energy.Active.Import.Register"


class MeterReports(_Base):
    """Periodic and clock-aligned meter values; mixed into the station."""

    def schedule_sampling(self) -> None:
        """
        (Re)start periodic MeterValues at C{MeterValueSampleInterval}. They run
        whether connected or not: a transaction's values are kept offline.
        """
        interval = self.keys.get_int("MeterValueSampleInterval", 60)
        if interval > 0:
            self.later("sample", interval, self.sample)
        else:
            self.cancel("sample")

    def sample(self) -> None:
        """Send MeterValues for every connector in a transaction."""
        self.update_limits()  # meters up to now; vehicles take less as they fill
        charging = [c for c in self.connectors.values() if c.transaction is not None]
        measurands = self.keys.get_list("MeterValuesSampledData")
        self._queue_meter_values(
            [(c, self.meter_value(c, "Sample.Periodic", measurands)) for c in charging]
        )
        self.schedule_sampling()

    def schedule_aligned(self) -> None:
        """
        (Re)start clock-aligned MeterValues (context Sample.Clock) every
        C{ClockAlignedDataInterval} seconds from midnight UTC, with the
        measurands of C{MeterValuesAlignedData}, for every connector.
        """
        interval = self.keys.get_int("ClockAlignedDataInterval", 0)
        if interval <= 0 or not self.keys.get_list("MeterValuesAlignedData"):
            self.cancel("aligned")
            return
        now = self.now()
        since_midnight = now % 86400
        wait = interval - since_midnight % interval
        self.later("aligned", wait, self.sample_aligned)

    def sample_aligned(self) -> None:
        """Send clock-aligned MeterValues for every connector."""
        measurands = self.keys.get_list("MeterValuesAlignedData")
        self.update_limits()
        self._queue_meter_values(
            [(c, self.meter_value(c, "Sample.Clock", measurands)) for c in self.connectors.values()]
        )
        self.schedule_aligned()

    def meter_value(self, c: Connector, context: str, measurands: list[str]) -> dict[str, Any]:
        """One MeterValue of connector C{c} now."""
        vehicle = c.vehicle if c.transaction is not None else None
        values = sampled_values(measurands, c.spec, c.register_wh, vehicle, c.limit_w, context)
        if not values:  # nothing asked for that this connector has (SoC on AC): the register
            values = sampled_values([REGISTER], c.spec, c.register_wh, vehicle, None, context)
        return {"timestamp": self.timestamp(), "sampledValue": values}

    def send_meter_values(self, c: Connector, context: str) -> None:
        """
        Queue MeterValues of C{c} (kept when it belongs to a transaction). The
        register is saved first, so that a restarted station never reports
        less than it did.
        """
        value = self.meter_value(c, context, self.keys.get_list("MeterValuesSampledData"))
        self._queue_meter_values([(c, value)])

    def _queue_meter_values(self, values: list[tuple[Connector, dict[str, Any]]]) -> None:
        """Queue one MeterValues per connector, after one save if any is a transaction's."""
        if any(c.transaction is not None for c, _ in values):
            self.save()
        for c, value in values:
            payload: dict[str, Any] = {"connectorId": c.id, "meterValue": [value]}
            tx = c.transaction
            if tx is not None:
                self.outbox.put("MeterValues", payload, tx.local_id, kept=True)
            else:
                self.outbox.put("MeterValues", payload)
