"""Tests for L{ocppcs.emulator.physics}."""

from __future__ import annotations

import json
import random
from importlib.resources import files
from typing import Any

import fastjsonschema
import pytest

from ocppcs.emulator.physics import (
    SUPPORTED_MEASURANDS,
    ChargingSession,
    current_a,
    sampled_values,
)
from ocppcs.emulator.spec import ConnectorSpec

AC3 = ConnectorSpec(id=1, current_type="AC", max_power_w=22_000.0, phases=3, voltage_v=230.0)
AC1 = ConnectorSpec(id=2, current_type="AC", max_power_w=7_360.0, phases=1, voltage_v=230.0)
DC = ConnectorSpec(
    id=1, current_type="DC", interface="CCS2", max_power_w=50_000.0, phases=0, voltage_v=400.0
)

_validate = fastjsonschema.compile(
    json.loads(files("ocpp.v16.schemas").joinpath("MeterValues.json").read_text())
)


def check_schema(values: list[dict[str, Any]]) -> None:
    """
    Validate C{values} as the C{sampledValue} of a MeterValues request.
    """
    _validate(
        {
            "connectorId": 1,
            "transactionId": 1,
            "meterValue": [{"timestamp": "2026-01-15T12:00:00.000Z", "sampledValue": values}],
        }
    )


def session(spec: ConnectorSpec, soc: float | None = None, seed: int = 1) -> ChargingSession:
    """A session on C{spec} with a seeded random source."""
    return ChargingSession(spec, random.Random(seed), soc)


def test_energy_is_power_times_time() -> None:
    """The energy added equals the mean power times the time, and matches the SoC gained."""
    for spec in (AC3, AC1, DC):
        s = session(spec, 40.0)
        energy = s.advance(600.0, None)
        assert energy == pytest.approx(s.power_w * 600.0 / 3600.0)
        assert energy == pytest.approx((s.soc_percent - 40.0) / 100.0 * spec.battery_kwh * 1000.0)


def test_ac_constant_power() -> None:
    """Below 95 % an AC vehicle draws the connector's full power."""
    s = session(AC3, 20.0)
    for _ in range(5):
        energy = s.advance(60.0, None)
        assert s.power_w == pytest.approx(22_000.0)
        assert energy == pytest.approx(22_000.0 / 60.0)


def test_ac_tapers_near_full() -> None:
    """Above 95 % an AC vehicle draws less than full power."""
    s = session(AC3, 97.0)
    s.advance(10.0, None)
    assert 0 < s.power_w < 22_000.0 * 0.7


def test_dc_taper() -> None:
    """A DC vehicle draws less at 80 % SoC than at 30 %, and about 10 % of full near 100 %."""
    low, high, top = session(DC, 30.0), session(DC, 80.0), session(DC, 99.9)
    for s in (low, high, top):
        s.advance(1.0, None)
    assert low.power_w == pytest.approx(50_000.0)
    assert high.power_w < low.power_w
    assert top.power_w == pytest.approx(5_000.0, rel=0.05)


def test_limit_respected() -> None:
    """The vehicle never draws more than the charger's limit; a 0 limit stops charging."""
    s = session(AC3, 20.0)
    s.advance(300.0, 11_000.0)
    assert s.power_w == pytest.approx(11_000.0)
    assert s.advance(300.0, 0.0) == 0.0
    assert s.power_w == 0.0
    assert s.offered_w(11_000.0) == 11_000.0
    assert s.offered_w(50_000.0) == 22_000.0
    assert s.offered_w(None) == 22_000.0
    assert s.offered_w(-5.0) == 0.0


def test_full_stops_charging() -> None:
    """A long charge ends at exactly 100 %, with the energy that fitted; then nothing more."""
    for spec in (AC3, DC):
        s = session(spec, 90.0)
        energy = s.advance(4 * 3600.0, None)
        assert s.full
        assert s.soc_percent == 100.0
        assert energy == pytest.approx(0.1 * spec.battery_kwh * 1000.0)
        assert s.advance(60.0, None) == 0.0
        assert s.power_w == 0.0


def test_soc_monotonic() -> None:
    """The SoC never falls and power never rises as a DC charge goes on."""
    s = session(DC, 10.0)
    socs, powers = [s.soc_percent], []
    while not s.full:
        s.advance(120.0, None)
        socs.append(s.soc_percent)
        powers.append(s.power_w)
    assert socs == sorted(socs)
    assert powers == sorted(powers, reverse=True)


def test_long_interval_matches_short_steps() -> None:
    """One long advance gives the same energy as many short ones (sub-step integration)."""
    one, many = session(DC, 40.0), session(DC, 40.0)
    energy_one = one.advance(1800.0, None)
    energy_many = sum(many.advance(10.0, None) for _ in range(180))
    assert energy_one == pytest.approx(energy_many)
    assert one.soc_percent == pytest.approx(many.soc_percent)


def test_rng_determinism() -> None:
    """The same seed gives the same start SoC, between 10 and 50 %."""
    a = ChargingSession(DC, random.Random(42))
    b = ChargingSession(DC, random.Random(42))
    assert a.soc_percent == b.soc_percent
    assert 10.0 <= a.soc_percent <= 50.0
    assert a.power_w == 0.0
    starts = {ChargingSession(DC, random.Random(seed)).soc_percent for seed in range(20)}
    assert len(starts) > 1
    assert all(10.0 <= soc <= 50.0 for soc in starts)


def test_current_a() -> None:
    """Current is per phase for AC and total for DC."""
    assert current_a(22_080.0, AC3) == pytest.approx(32.0)
    assert current_a(7_360.0, AC1) == pytest.approx(32.0)
    assert current_a(50_000.0, DC) == pytest.approx(125.0)


def by(values: list[dict[str, Any]], measurand: str) -> list[dict[str, Any]]:
    """The sampled values of one measurand."""
    return [v for v in values if v["measurand"] == measurand]


def test_sampled_values_ac_three_phase() -> None:
    """AC 3-phase: schema-valid; current and voltage per phase; no SoC; P = 3 V I."""
    s = session(AC3, 30.0)
    s.advance(60.0, 16_000.0)
    values = sampled_values(sorted(SUPPORTED_MEASURANDS), AC3, 12_345.4, s, 16_000.0)
    check_schema(values)
    assert all(v["context"] == "Sample.Periodic" and v["location"] == "Outlet" for v in values)
    assert by(values, "Energy.Active.Import.Register")[0]["value"] == "12345"
    assert by(values, "Energy.Active.Import.Register")[0]["unit"] == "Wh"
    assert by(values, "Power.Active.Import")[0]["value"] == "16000"
    assert by(values, "Power.Offered")[0]["value"] == "16000"
    currents = by(values, "Current.Import")
    assert [v["phase"] for v in currents] == ["L1", "L2", "L3"]
    amps = float(currents[0]["value"])
    assert 3 * 230.0 * amps == pytest.approx(16_000.0, rel=1e-3)
    assert [v["phase"] for v in by(values, "Voltage")] == ["L1-N", "L2-N", "L3-N"]
    assert by(values, "Voltage")[0]["value"] == "230"
    assert by(values, "SoC") == []
    assert by(values, "Temperature")[0]["unit"] == "Celsius"


def test_sampled_values_ac_single_phase() -> None:
    """AC 1-phase: schema-valid; one current on L1 matching the power."""
    s = session(AC1, 30.0)
    s.advance(60.0, None)
    values = sampled_values(
        ["Current.Import", "Power.Active.Import", "Voltage", "Current.Offered"],
        AC1,
        0.0,
        s,
        None,
        context="Transaction.Begin",
    )
    check_schema(values)
    [current] = by(values, "Current.Import")
    assert current["phase"] == "L1"
    assert float(current["value"]) * 230.0 == pytest.approx(
        float(by(values, "Power.Active.Import")[0]["value"])
    )
    assert by(values, "Current.Offered")[0]["value"] == "32"
    assert [v["phase"] for v in by(values, "Voltage")] == ["L1-N"]
    assert {v["context"] for v in values} == {"Transaction.Begin"}


def test_sampled_values_without_phase_rotation() -> None:
    """Without per-phase reporting, AC current and voltage are single values without phase."""
    s = session(AC3, 30.0)
    s.advance(60.0, None)
    values = sampled_values(["Current.Import", "Voltage"], AC3, 0.0, s, None, phase_rotation=False)
    check_schema(values)
    assert len(values) == 2
    assert all("phase" not in v for v in values)


def test_sampled_values_dc() -> None:
    """DC: schema-valid; one current and voltage, SoC from the EV; P = V I."""
    s = session(DC, 62.5)
    s.advance(30.0, None)
    values = sampled_values(sorted(SUPPORTED_MEASURANDS), DC, 1_000_000.0, s, None)
    check_schema(values)
    [soc] = by(values, "SoC")
    assert soc == {
        "value": str(int(s.soc_percent)),
        "context": "Sample.Periodic",
        "measurand": "SoC",
        "location": "EV",
        "unit": "Percent",
    }
    [current], [voltage] = by(values, "Current.Import"), by(values, "Voltage")
    assert "phase" not in current and "phase" not in voltage
    power = float(by(values, "Power.Active.Import")[0]["value"])
    assert float(current["value"]) * float(voltage["value"]) == pytest.approx(power, rel=1e-3)
    assert by(values, "Energy.Active.Import.Register")[0]["value"] == "1000000"


def test_sampled_values_without_session() -> None:
    """With no vehicle, power and current are 0 and no SoC; unknown measurands are skipped."""
    measurands = [*sorted(SUPPORTED_MEASURANDS), "Frequency", "RPM", "Voltage"]
    for spec in (AC3, DC):
        values = sampled_values(measurands, spec, 500.0, None, 7_000.0, context="Sample.Clock")
        check_schema(values)
        assert by(values, "SoC") == []
        assert {v["measurand"] for v in values} <= SUPPORTED_MEASURANDS
        for name in ("Power.Active.Import", "Power.Offered", "Current.Import", "Current.Offered"):
            assert {v["value"] for v in by(values, name)} == {"0"}
        assert by(values, "Energy.Active.Import.Register")[0]["value"] == "500"
    assert len(by(sampled_values(["Voltage", "Voltage"], AC3, 0.0, None, None), "Voltage")) == 3


def test_power_text_has_at_most_one_decimal() -> None:
    """Power values carry at most one decimal."""
    s = session(DC, 99.0)
    s.advance(7.0, None)
    [power] = sampled_values(["Power.Active.Import"], DC, 0.0, s, None)
    decimals = power["value"].partition(".")[2]
    assert len(decimals) <= 1
    assert float(power["value"]) == pytest.approx(s.power_w, abs=0.05)
