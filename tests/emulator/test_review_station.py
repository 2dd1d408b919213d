"""
Regression tests for defects a review found in the station's own behaviour:
triggered messages while Pending, triggered boots, the HeartbeatInterval key,
MeterValues with nothing the connector measures, and the retry back-off.
"""

from __future__ import annotations

from twisted.internet.defer import fail

from ocppcs.callerrors import StationCallError
from tests.emulator.harness import make_rig, start_charging

PENDING = {"status": "Pending", "currentTime": "2026-11-25T10:00:00Z", "interval": 30}


def test_triggered_messages_sent_while_pending() -> None:
    """While Pending, a TriggerMessage's StatusNotification and Heartbeat still go out."""
    rig = make_rig("CP2", connect=False)
    rig.central.answers["BootNotification"] = lambda p: PENDING
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    rig.clock.advance(0)
    assert rig.station.boot_status == "Pending"
    rig.central.clear()
    assert rig.command("TriggerMessage", {"requestedMessage": "StatusNotification"}) == {
        "status": "Accepted"
    }
    assert rig.command("TriggerMessage", {"requestedMessage": "Heartbeat"}) == {
        "status": "Accepted"
    }
    assert rig.central.actions() == ["StatusNotification"] * 3 + ["Heartbeat"]
    assert [p["connectorId"] for p in rig.central.sent("StatusNotification")] == [0, 1, 2]


def test_triggered_boot_error_leaves_an_accepted_station_alone() -> None:
    """A CALLERROR to a triggered boot schedules no second boot and keeps the station online."""
    rig = make_rig("CP1")
    original = rig.central.call

    def call(action: str, payload: dict, timeout: float | None = None):  # type: ignore[no-untyped-def]
        if action == "BootNotification":
            return fail(StationCallError("CP", action, "InternalError", "", {}))
        return original(action, payload, timeout)

    rig.central.call = call  # type: ignore[method-assign]
    rig.command("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert rig.station.online
    assert "boot" not in rig.station.timers


def test_triggered_boot_pending_keeps_station_online() -> None:
    """A Pending answer to a triggered boot doesn't take an Accepted station offline."""
    rig = make_rig("CP1")
    rig.central.answers["BootNotification"] = lambda p: PENDING
    rig.command("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert rig.station.online and rig.station.boot_status == "Accepted"


def test_triggered_boot_while_pending_can_accept() -> None:
    """A triggered boot of a Pending station that is Accepted brings it online with its statuses."""
    rig = make_rig("CP1", connect=False)
    rig.central.answers["BootNotification"] = lambda p: PENDING
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    rig.clock.advance(0)
    rig.central.answers["BootNotification"] = lambda p: {**PENDING, "status": "Accepted"}
    rig.command("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert rig.station.online
    assert "boot" not in rig.station.timers
    assert rig.statuses(1) == ["Available"]


def test_heartbeat_key_follows_the_boot_interval() -> None:
    """After an Accepted boot, GetConfiguration shows the heartbeat interval really used."""
    rig = make_rig("CP1")  # the central system answers interval 300
    reply = rig.command("GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert reply["configurationKey"][0]["value"] == "300"
    assert rig.store.states["EM-A0000001"]["keys"]["HeartbeatInterval"] == "300"


def test_meter_values_fall_back_to_the_register() -> None:
    """Asking an AC station only for SoC still gives schema-valid MeterValues: the register."""
    rig = make_rig("CP4")
    assert rig.command(
        "ChangeConfiguration", {"key": "MeterValuesSampledData", "value": "SoC"}
    ) == {"status": "Accepted"}
    start_charging(rig, 1)
    rig.clock.advance(rig.station.keys.get_int("MeterValueSampleInterval", 60))
    values = rig.central.sent("MeterValues")[-1]["meterValue"][0]["sampledValue"]
    assert [v["measurand"] for v in values] == ["Energy.Active.Import.Register"]


def test_unsupported_measurand_rejected() -> None:
    """A measurand the emulated meter doesn't have is Rejected by ChangeConfiguration."""
    rig = make_rig("CP1")
    reply = rig.command(
        "ChangeConfiguration", {"key": "MeterValuesSampledData", "value": "Frequency"}
    )
    assert reply == {"status": "Rejected"}


def test_clock_aligned_meter_values() -> None:
    """
    ClockAlignedDataInterval 900 sends Sample.Clock MeterValues at :00, :15,
    ... of every connector, with the MeterValuesAlignedData measurands, and
    the transaction's with its transactionId.
    """
    rig = make_rig("CP2")  # T0 is 10:00:00Z
    transaction_id = start_charging(rig, 1)
    for key, value in (
        ("ClockAlignedDataInterval", "900"),
        ("MeterValuesAlignedData", "Energy.Active.Import.Register,Power.Active.Import"),
        ("MeterValueSampleInterval", "0"),
    ):
        assert rig.command("ChangeConfiguration", {"key": key, "value": value}) == {
            "status": "Accepted"
        }
    rig.central.clear()
    rig.clock.advance(899)
    assert rig.central.sent("MeterValues") == []
    rig.clock.advance(1)
    sent = rig.central.sent("MeterValues")
    assert [p["connectorId"] for p in sent] == [1, 2]
    assert sent[0]["transactionId"] == transaction_id and "transactionId" not in sent[1]
    for payload in sent:
        value = payload["meterValue"][0]
        assert value["timestamp"] == "2026-11-25T10:15:00.000Z"
        assert {v["context"] for v in value["sampledValue"]} == {"Sample.Clock"}
        assert [v["measurand"] for v in value["sampledValue"]] == [
            "Energy.Active.Import.Register",
            "Power.Active.Import",
        ]
    rig.clock.advance(900)
    assert len(rig.central.sent("MeterValues")) == 4
