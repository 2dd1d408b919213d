# -*- test-case-name: tests.emulator.test_physics -*-
"""
A plausible electric-vehicle charging model for the emulator's meter values.

The power drawn is the least of what the charger offers (the connector's
C{max_power_w}, lowered by a smart-charging limit) and what the vehicle
accepts at its state of charge (SoC):

  SoC          AC vehicle                 DC vehicle
  -----------  -------------------------  ---------------------------------
  0 - 50 %     full power                 full power
  50 - 95 %    full power                 linear from 100 % down to 10 %
  95 - 100 %   linear down to 5 %         of full power at 100 %
  100 %        0 (full)                   0 (full)

The taper ends above 0 so that the battery does fill up in a finite time;
the step that fills it adds only the energy that fits.

Measurands in L{sampled_values} (OCPP 1.6 C{SampledValue}, values as text):

  measurand                      unit     values
  -----------------------------  -------  -------------------------------------
  Energy.Active.Import.Register  Wh       the register, whole Wh
  Power.Active.Import            W        power drawn, one decimal at most
  Power.Offered                  W        the charger's offer
  Current.Import                 A        AC: per phase L1/L2/L3; DC: one
  Current.Offered                A        per phase for AC, one value
  Voltage                        V        AC: per phase L1-N..; DC: one
  SoC                            Percent  DC with a vehicle only (location EV)
  Temperature                    Celsius  20 C, warming up to 35 C at full power
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from ocppcs.emulator.spec import ConnectorSpec

SUPPORTED_MEASURANDS: frozenset[str] = frozenset(
    {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Power.Offered",
        "Current.Import",
        "Current.Offered",
        "Voltage",
        "SoC",
        "Temperature",
    }
)

#: The longest integration step of L{ChargingSession.advance}, in seconds.
MAX_STEP_S = 10.0

_AC_TAPER_FROM = 95.0
_AC_TAPER_TO = 0.05
_DC_TAPER_FROM = 50.0
_DC_TAPER_TO = 0.1


def _text(value: float, decimals: int = 1) -> str:
    """
    @param value: a number.
    @param decimals: the most decimals to show.
    @return: C{value} as text without trailing zeros (C{"7360"}, C{"31.9"}).
    """
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class ChargingSession:
    """
    The vehicle on one connector while plugged in.

    @ivar spec: the connector.
    @ivar soc_percent: the battery's state of charge, 0 to 100.
    @ivar power_w: the mean power drawn during the last L{advance} (0 before
        any).
    """

    def __init__(
        self, spec: ConnectorSpec, rng: random.Random, soc_percent: float | None = None
    ) -> None:
        """
        @param spec: the connector the vehicle is plugged into.
        @param rng: the source of the random start SoC.
        @param soc_percent: the start SoC; L{None} draws one between 10 and 50 %.
        """
        self.spec = spec
        if soc_percent is None:
            soc_percent = rng.uniform(10.0, 50.0)
        self.soc_percent = min(max(float(soc_percent), 0.0), 100.0)
        self.power_w = 0.0

    @property
    def full(self) -> bool:
        """Whether the battery is full, so the vehicle takes no more power."""
        return self.soc_percent >= 100.0

    def offered_w(self, limit_w: float | None) -> float:
        """
        @param limit_w: the charger's limit in W, or L{None} for none.
        @return: the power the charger offers, in W (never negative).
        """
        offered = self.spec.max_power_w if limit_w is None else min(self.spec.max_power_w, limit_w)
        return max(offered, 0.0)

    def accepted_w(self) -> float:
        """
        @return: the power the vehicle accepts at its present SoC, in W.
        """
        soc = self.soc_percent
        top = self.spec.max_power_w
        if soc >= 100.0:
            return 0.0
        if self.spec.current_type == "DC":
            if soc <= _DC_TAPER_FROM:
                return top
            span = (soc - _DC_TAPER_FROM) / (100.0 - _DC_TAPER_FROM)
            return top * (1.0 - (1.0 - _DC_TAPER_TO) * span)
        if soc <= _AC_TAPER_FROM:
            return top
        span = (soc - _AC_TAPER_FROM) / (100.0 - _AC_TAPER_FROM)
        return top * (1.0 - (1.0 - _AC_TAPER_TO) * span)

    def advance(self, seconds: float, limit_w: float | None) -> float:
        """
        Charge for C{seconds} under the charger's limit, in steps of at most
        L{MAX_STEP_S}, updating L{soc_percent} and L{power_w}.

        @param seconds: the time charged.
        @param limit_w: the charger's limit in W, or L{None} for none.
        @return: the energy added, in Wh.
        """
        if seconds <= 0:
            return 0.0
        capacity_wh = self.spec.battery_kwh * 1000.0
        offered = self.offered_w(limit_w)
        energy_wh = 0.0
        left = float(seconds)
        while left > 0 and not self.full:
            step = min(left, MAX_STEP_S)
            left -= step
            added = min(self.accepted_w(), offered) * step / 3600.0
            if capacity_wh > 0:
                room = (100.0 - self.soc_percent) / 100.0 * capacity_wh
                added = min(added, room)
                self.soc_percent = min(100.0, self.soc_percent + added / capacity_wh * 100.0)
                if added >= room:
                    self.soc_percent = 100.0
            energy_wh += added
        self.power_w = energy_wh * 3600.0 / seconds
        return energy_wh


def current_a(power_w: float, spec: ConnectorSpec) -> float:
    """
    @param power_w: a power in W.
    @param spec: the connector.
    @return: the current for C{power_w}: per phase for AC, in A.
    """
    if spec.current_type == "DC":
        return power_w / spec.voltage_v
    return power_w / (spec.voltage_v * max(spec.phases, 1))


def _phases(spec: ConnectorSpec, phase_rotation: bool) -> list[int]:
    """
    @return: the phase numbers to report one value for; C{[0]} for a single
        value without a C{phase}.
    """
    if spec.current_type == "DC" or not phase_rotation:
        return [0]
    return list(range(1, max(spec.phases, 1) + 1))


def sampled_values(
    measurands: Sequence[str],
    spec: ConnectorSpec,
    register_wh: float,
    session: ChargingSession | None,
    limit_w: float | None,
    context: str = "Sample.Periodic",
    phase_rotation: bool = True,
) -> list[dict[str, Any]]:
    """
    The OCPP 1.6 C{sampledValue} list of one meter value.

    @param measurands: the measurands wanted (e.g. C{MeterValuesSampledData}
        split on commas); unknown ones and repeats are skipped.
    @param spec: the connector.
    @param register_wh: the energy register, in Wh.
    @param session: the vehicle plugged in, or L{None}: power and current
        are then C{"0"}, a DC voltage is C{"0"} and there is no SoC.
    @param limit_w: the charger's limit in W, or L{None} for none.
    @param context: the C{context} of every value.
    @param phase_rotation: for AC, report current and voltage per phase
        (C{L1}.., C{L1-N}..); otherwise one value without C{phase}.
    @return: C{SampledValue} objects.
    """
    power = session.power_w if session is not None else 0.0
    offered = session.offered_w(limit_w) if session is not None else 0.0
    phases = _phases(spec, phase_rotation)
    values: list[dict[str, Any]] = []

    def add(
        measurand: str, unit: str, value: str, phase: str = "", location: str = "Outlet"
    ) -> None:
        sample = {"value": value, "context": context, "measurand": measurand}
        if phase:
            sample["phase"] = phase
        sample["location"] = location
        sample["unit"] = unit
        values.append(sample)

    seen: set[str] = set()
    for measurand in measurands:
        if measurand in seen or measurand not in SUPPORTED_MEASURANDS:
            continue
        seen.add(measurand)
        if measurand == "Energy.Active.Import.Register":
            add(measurand, "Wh", str(int(round(register_wh))))
        elif measurand == "Power.Active.Import":
            add(measurand, "W", _text(power))
        elif measurand == "Power.Offered":
            add(measurand, "W", _text(offered))
        elif measurand == "Current.Import":
            amps = _text(current_a(power, spec), 2)
            for n in phases:
                add(measurand, "A", amps, f"L{n}" if n else "")
        elif measurand == "Current.Offered":
            add(measurand, "A", _text(current_a(offered, spec), 2))
        elif measurand == "Voltage":
            if spec.current_type == "DC":
                add(measurand, "V", _text(spec.voltage_v if session is not None else 0.0))
            else:
                for n in phases:
                    add(measurand, "V", _text(spec.voltage_v), f"L{n}-N" if n else "")
        elif measurand == "SoC":
            if spec.current_type == "DC" and session is not None:
                add(measurand, "Percent", str(int(session.soc_percent)), location="EV")
        else:  # Temperature
            load = power / spec.max_power_w if spec.max_power_w > 0 else 0.0
            add(measurand, "Celsius", _text(20.0 + 15.0 * min(max(load, 0.0), 1.0)))
    return values
