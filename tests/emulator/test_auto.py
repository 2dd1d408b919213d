"""The auto mode: seeded random sessions that start, charge, stop and repeat."""

from __future__ import annotations

from ocppcs.emulator.auto import AutoDriver
from ocppcs.emulator.stationconfig import AutoConfig
from tests.emulator.harness import Rig, make_rig

AUTO = AutoConfig(
    enable=True,
    seed=7,
    id_tags=("AUTO-1", "AUTO-2"),
    idle_seconds=(10.0, 20.0),
    session_seconds=(100.0, 200.0),
)


def _run(rig: Rig, seconds: int) -> AutoDriver:
    driver = AutoDriver(rig.station, AUTO, rig.clock)
    driver.start()
    for _ in range(seconds):
        rig.clock.advance(1)
    return driver


def _trace(rig: Rig) -> list[tuple[str, object]]:
    return [
        (action, payload.get("idTag") or payload.get("reason") or payload.get("status"))
        for action, payload in rig.central.calls
        if action in ("StartTransaction", "StopTransaction")
    ]


def test_sessions_start_and_stop_on_their_own() -> None:
    """Within an hour every connector of CP4 has had several complete sessions."""
    rig = make_rig("CP4")
    driver = _run(rig, 3600)
    starts = rig.central.sent("StartTransaction")
    stops = rig.central.sent("StopTransaction")
    assert driver.sessions >= 4 * 5
    assert len(starts) >= 4 * 5
    assert len(stops) >= len(starts) - 4  # at most one session per connector still running
    assert {p["idTag"] for p in starts} <= set(AUTO.id_tags)
    assert {p["reason"] for p in stops} == {"Local"}
    assert {p["connectorId"] for p in starts} == {1, 2, 3, 4}
    for stop in stops:
        assert stop["meterStop"] >= 0


def test_same_seed_same_schedule() -> None:
    """Two runs with the same seed and identity send the same sessions at the same times."""
    first, second = make_rig("CP4"), make_rig("CP4")
    _run(first, 1800)
    _run(second, 1800)
    assert _trace(first) == _trace(second)
    assert [p["timestamp"] for p in first.central.sent("StartTransaction")] == [
        p["timestamp"] for p in second.central.sent("StartTransaction")
    ]


def test_stop_cancels_the_schedule() -> None:
    """After stop() no new session starts."""
    rig = make_rig("CP4")
    driver = _run(rig, 30)
    driver.stop()
    before = len(rig.central.sent("StartTransaction"))
    for _ in range(3600):
        rig.clock.advance(1)
    assert len(rig.central.sent("StartTransaction")) == before


def test_busy_connector_is_left_alone() -> None:
    """A connector that is not Available (here Unavailable) gets no auto session."""
    rig = make_rig("CP4")
    rig.command("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    _run(rig, 3600)
    assert 2 not in {p["connectorId"] for p in rig.central.sent("StartTransaction")}
    assert 1 in {p["connectorId"] for p in rig.central.sent("StartTransaction")}
