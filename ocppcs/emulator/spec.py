# -*- test-case-name: tests.emulator.test_stationconfig -*-
"""
What an emulated connector is, physically: the facts the charging model,
smart charging and the station need, read from a station's
C{configuration.json} by L{ocppcs.emulator.stationconfig}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CurrentType = Literal["AC", "DC"]


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """
    One connector of an emulated station.

    @ivar id: the OCPP connectorId (1, 2, ...).
    @ivar current_type: C{"AC"} or C{"DC"} (the original's C{voltage} field).
    @ivar interface: the plug, e.g. C{"Type2"}, C{"CCS2"}, C{"CHAdeMO"}, C{"GBT"}.
    @ivar max_power_w: the most the connector delivers, in W.
    @ivar phases: AC phases in use (1 or 3); 0 for DC.
    @ivar voltage_v: AC phase-to-neutral voltage, or the DC nominal voltage.
    @ivar meter_start_wh: the energy register of a new station, in Wh.
    @ivar battery_kwh: the battery of the vehicles that plug in, in kWh.
    """

    id: int
    current_type: CurrentType = "AC"
    interface: str = "Type2"
    max_power_w: float = 22_000.0
    phases: int = 3
    voltage_v: float = 230.0
    meter_start_wh: float = 0.0
    battery_kwh: float = 60.0

    @property
    def max_current_a(self) -> float:
        """The current at full power (per phase for AC), in A."""
        if self.current_type == "DC":
            return self.max_power_w / self.voltage_v
        return self.max_power_w / (self.voltage_v * max(self.phases, 1))
