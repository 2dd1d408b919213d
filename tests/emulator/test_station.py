"""
Tests for L{ocppcs.emulator.station}: boot (with its retries), heartbeat,
the snapshot, and what a station keeps while offline or across a restart
(transaction messages queued, sent in order after the next boot with the
right transactionId; a transaction cut by a restart ends with PowerLoss).
"""

from __future__ import annotations

from typing import Any

import pytest

from ocppcs.callerrors import CallTimeout, StationCallError, StationCallFailed
from ocppcs.emulator.station import BOOT_RETRY
from tests.emulator.harness import T0, FakeCentral, Rig, make_rig, restart_rig


def boot_answer(status: str, interval: int) -> Any:
    """A BootNotification answer with C{status} and C{interval}."""
    return lambda p: {"status": status, "currentTime": "2026-11-25T10:00:00Z", "interval": interval}


def charge(rig: Rig, tag: str = "TAG1") -> None:
    """Plug a vehicle into connector 1 and present C{tag}."""
    rig.station.plug_in(1)
    rig.station.present_id_tag(1, tag)
    rig.clock.advance(0)


def allow(rig: Rig, *tags: str) -> None:
    """Put C{tags} in the local list (so they are authorized offline)."""
    entries = [{"idTag": t, "idTagInfo": {"status": "Accepted"}} for t in tags]
    assert rig.station.auth.send_local_list(1, "Full", entries) == "Accepted"


def tx_messages(rig: Rig) -> list[tuple[str, int | None]]:
    """The transaction messages sent: action and transactionId."""
    return [
        (a, p.get("transactionId"))
        for a, p in rig.central.calls
        if a in ("StartTransaction", "MeterValues", "StopTransaction")
    ]


def stored(rig: Rig) -> list[str]:
    """The actions of the outbox rows in the store, in order."""
    return [action for _, (_, action, _, _) in sorted(rig.store.rows.items())]


# --- boot -------------------------------------------------------------------------------


def test_boot_accepted_reports_every_connector() -> None:
    """
    On connecting the station sends BootNotification (its configured
    identity); once Accepted, a StatusNotification for connector 0 and each
    connector.
    """
    rig = make_rig("CP3")
    assert rig.station.online and rig.station.boot_status == "Accepted"
    assert rig.central.actions() == ["BootNotification"] + ["StatusNotification"] * 4
    assert rig.central.sent("BootNotification") == [rig.station.boot_payload()]
    assert rig.station.boot_payload()["chargePointModel"] == "CLE-Hybrid 150"
    sent = rig.central.sent("StatusNotification")
    assert [p["connectorId"] for p in sent] == [0, 1, 2, 3]
    assert {(p["status"], p["errorCode"]) for p in sent} == {("Available", "NoError")}


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_boot_not_accepted_retried(status: str) -> None:
    """
    A Pending or Rejected boot is sent again after the reply's interval;
    meanwhile the station sends nothing else (no heartbeat, status, meter
    values or transaction), and what it queued goes once Accepted.
    """
    rig = make_rig("CP1", connect=False)
    rig.central.answers["BootNotification"] = boot_answer(status, 45)
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    allow(rig, "TAG1")
    charge(rig)
    rig.clock.advance(44.9)
    assert rig.central.actions() == ["BootNotification"]
    assert not rig.station.online and rig.station.boot_status == status
    rig.clock.advance(0.1)
    rig.clock.pump([45] * 3)  # samples at T0+90 and T0+180, past the heartbeat's 60 s
    assert set(rig.central.actions()) == {"BootNotification"}
    assert len(rig.central.calls) == 5
    rig.central.answers["BootNotification"] = boot_answer("Accepted", 300)
    rig.clock.advance(45)
    actions = rig.central.actions()[5:]
    assert actions[:2] == ["BootNotification", "StartTransaction"]
    assert actions[2:4] == ["MeterValues"] * 2
    assert actions[4:] == ["StatusNotification"] * 2
    assert rig.statuses(1) == ["Charging"]


def test_boot_interval_zero_retries_after_default() -> None:
    """A boot not accepted with interval 0 is sent again after BOOT_RETRY seconds."""
    rig = make_rig("CP1", connect=False)
    rig.central.answers["BootNotification"] = boot_answer("Pending", 0)
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    rig.clock.advance(BOOT_RETRY - 1)
    assert len(rig.central.calls) == 1
    rig.clock.advance(1)
    assert len(rig.central.calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        StationCallError("EM-A0000001", "BootNotification", "InternalError", "boom", {}),
        CallTimeout("EM-A0000001", "BootNotification", 30),
    ],
)
def test_boot_failure_retried(error: StationCallFailed) -> None:
    """A BootNotification answered with a CALLERROR, or timed out, goes again after BOOT_RETRY."""
    rig = make_rig("CP1", connect=False)
    rig.central.hold.add("BootNotification")
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    rig.central.pending.pop()[2].errback(error)
    rig.clock.advance(BOOT_RETRY - 0.5)
    assert len(rig.central.calls) == 1
    rig.central.hold.clear()
    rig.clock.advance(0.5)
    assert rig.central.actions() == ["BootNotification"] * 2 + ["StatusNotification"] * 2
    assert rig.station.online


def test_old_boot_reply_ignored() -> None:
    """The answer to a boot sent on a connection since replaced changes nothing."""
    rig = make_rig("CP1", connect=False)
    old = rig.central
    old.hold.add("BootNotification")
    rig.station.connected(old)  # type: ignore[arg-type]
    rig.station.disconnected()
    rig.central = FakeCentral(rig.clock, hold={"BootNotification"})
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    old.pending[0][2].callback(boot_answer("Accepted", 300)({}))
    assert not rig.station.online
    assert old.actions() == ["BootNotification"]
    rig.central.pending[0][2].callback(boot_answer("Accepted", 300)({}))
    assert rig.station.online
    assert rig.central.actions() == ["BootNotification"] + ["StatusNotification"] * 2


def test_heartbeat_at_boot_interval() -> None:
    """Heartbeats go every interval of the boot reply (not HeartbeatInterval), failed or not."""
    rig = make_rig("CP1")
    rig.central.clear()
    rig.clock.advance(299)
    assert rig.central.calls == []
    rig.central.hold.add("Heartbeat")
    rig.clock.advance(1)
    rig.central.pending.pop()[2].errback(CallTimeout("EM-A0000001", "Heartbeat", 30))
    rig.central.hold.clear()
    rig.clock.advance(300)
    assert rig.central.actions() == ["Heartbeat", "Heartbeat"]


def test_heartbeat_interval_zero_keeps_key() -> None:
    """A boot reply with interval 0 leaves the HeartbeatInterval key (600 s) in force."""
    rig = make_rig("CP1", connect=False)
    rig.central.answers["BootNotification"] = boot_answer("Accepted", 0)
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    rig.central.clear()
    rig.clock.advance(599)
    assert rig.central.sent("Heartbeat") == []
    rig.clock.advance(1)
    assert len(rig.central.sent("Heartbeat")) == 1


def test_disconnect_stops_reporting() -> None:
    """Without a connection no boot retry, heartbeat or status is sent; a new connection boots."""
    rig = make_rig("CP1")
    rig.disconnect()
    assert not rig.station.online and rig.station.snapshot()["connected"] is False
    rig.station.plug_in(1)
    rig.clock.advance(3600)
    assert rig.central.actions() == ["BootNotification"] + ["StatusNotification"] * 2
    assert "heartbeat" not in rig.station.timers
    rig.reconnect()
    assert rig.statuses(1)[-1] == "Preparing"


def test_snapshot() -> None:
    """The snapshot tells the connection, boot, statuses, queue and each connector's transaction."""
    rig = make_rig("CP1")
    charge(rig)
    rig.clock.advance(60)
    snap = rig.station.snapshot()
    assert set(snap) == {
        "identity",
        "url",
        "protocol",
        "connected",
        "bootStatus",
        "status",
        "firmwareStatus",
        "diagnosticsStatus",
        "queued",
        "reservation",
        "connectors",
    }
    assert snap["identity"] == "EM-A0000001"
    assert snap["url"] == "ws://localhost:9220/ocpp/EM-A0000001"
    assert snap["protocol"] == "ocpp1.6j"
    assert (snap["connected"], snap["bootStatus"]) == (True, "Accepted")
    assert snap["status"] == "Available"
    assert snap["queued"] == 0
    assert snap["reservation"] is None
    (view,) = snap["connectors"]
    assert view["status"] == "Charging" and view["type"] == "DC" and view["plugged"]
    assert view["registerWh"] == 833 and view["powerW"] == 50000.0
    assert view["transaction"] == {
        "transactionId": 101,
        "idTag": "TAG1",
        "meterStart": 0,
        "start": "2026-11-25T10:00:00.000Z",
    }
    assert view["reservation"] is None
    rig.disconnect()
    rig.clock.advance(60)
    snap = rig.station.snapshot()
    assert (snap["connected"], snap["bootStatus"], snap["queued"]) == (False, None, 1)


# --- offline and restarts ---------------------------------------------------------------


def test_offline_transaction_messages_kept() -> None:
    """
    While offline a transaction's MeterValues and its StopTransaction are
    stored and kept (StatusNotifications are not); after the next boot they
    go in order with the transactionId, then the statuses.
    """
    rig = make_rig("CP1")
    charge(rig)
    rig.disconnect()
    rig.clock.pump([60] * 3)
    rig.station.unplug(1)
    assert stored(rig) == ["MeterValues"] * 3 + ["StopTransaction"]
    assert [m.action for m in rig.station.outbox.kept()] == stored(rig)
    assert len(rig.station.outbox) == 4
    rig.central.clear()
    rig.reconnect()
    assert rig.central.actions()[:5] == ["BootNotification"] + ["MeterValues"] * 3 + [
        "StopTransaction"
    ]
    assert tx_messages(rig) == [("MeterValues", 101)] * 3 + [("StopTransaction", 101)]
    stamps = [p["meterValue"][0]["timestamp"] for p in rig.central.sent("MeterValues")]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert rig.central.actions()[5:] == ["StatusNotification"] * 2
    assert rig.statuses(1) == ["Available"]
    assert rig.store.rows == {} and rig.station.outbox.kept() == []


def test_offline_start_gets_its_id() -> None:
    """
    A transaction started offline gets its transactionId from the reply to
    its StartTransaction after the reconnect, and its queued MeterValues
    and StopTransaction carry it.
    """
    rig = make_rig("CP1")
    allow(rig, "TAG1")
    rig.disconnect()
    charge(rig)
    rig.clock.pump([60, 60])
    rig.station.present_id_tag(1, "TAG1")
    assert stored(rig) == ["StartTransaction", "MeterValues", "MeterValues", "StopTransaction"]
    rig.reconnect()
    assert tx_messages(rig) == [
        ("StartTransaction", None),
        ("MeterValues", 101),
        ("MeterValues", 101),
        ("StopTransaction", 101),
    ]
    assert rig.station.transaction_ids == {}


def test_reconnect_with_call_in_flight() -> None:
    """
    A transaction message whose reply was lost with the connection is sent
    again after the next boot (the old call's late answer changes nothing).
    """
    rig = make_rig("CP1")
    rig.central.hold.add("StartTransaction")
    charge(rig)
    (_, _, lost) = rig.central.pending.pop()
    rig.disconnect()
    rig.central.hold.clear()
    rig.reconnect()
    assert [a for a, _ in tx_messages(rig)] == ["StartTransaction"] * 2
    assert rig.station.connectors[1].transaction.transaction_id == 101  # type: ignore[union-attr]
    lost.callback({"transactionId": 555, "idTagInfo": {"status": "Accepted"}})
    assert rig.station.connectors[1].transaction.transaction_id == 101  # type: ignore[union-attr]
    rig.clock.advance(60)
    assert tx_messages(rig)[-1] == ("MeterValues", 101)


def test_stop_before_start_answered() -> None:
    """
    A transaction stopped before its StartTransaction is answered: its
    MeterValues and StopTransaction wait, then carry the id of the reply.
    """
    rig = make_rig("CP1")
    rig.central.hold.add("StartTransaction")
    charge(rig)
    assert rig.station.snapshot()["connectors"][0]["transaction"]["transactionId"] is None
    rig.clock.advance(60)
    rig.station.present_id_tag(1, "TAG1")
    rig.central.pending.pop()[2].callback({"transactionId": 9, "idTagInfo": {"status": "Accepted"}})
    assert tx_messages(rig) == [("StartTransaction", None), ("MeterValues", 9)] + [
        ("StopTransaction", 9)
    ]
    assert rig.station.transaction_ids == {} and rig.store.rows == {}


def test_queued_messages_sent_after_restart() -> None:
    """
    Messages still queued when the emulator stops are loaded by the next
    one and sent after its boot, in order, with their transactionId.
    """
    rig = make_rig("CP1")
    charge(rig)
    rig.disconnect()
    rig.clock.pump([60, 60])
    rig.station.unplug(1)
    rig = restart_rig(rig, connect=False)
    assert [m.action for m in rig.station.outbox.kept()] == ["MeterValues"] * 2 + [
        "StopTransaction"
    ]
    assert rig.station.snapshot()["queued"] == 3
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    assert rig.central.actions()[:4] == ["BootNotification", "MeterValues", "MeterValues"] + [
        "StopTransaction"
    ]
    assert {tx for _, tx in tx_messages(rig)} == {101}
    assert rig.store.rows == {}


def test_transaction_at_restart_ends_with_power_loss() -> None:
    """A transaction running when the emulator stopped ends with reason PowerLoss after the boot."""
    rig = make_rig("CP1")
    charge(rig)
    rig.clock.advance(60)
    rig.clock.advance(3600)  # stopped, then started an hour later
    rig = restart_rig(rig)
    (stop,) = rig.central.sent("StopTransaction")
    assert stop["reason"] == "PowerLoss" and stop["transactionId"] == 101
    assert stop["timestamp"] == "2026-11-25T11:01:00.000Z"
    assert rig.station.connectors[1].transaction is None
    assert rig.statuses(1) == ["Available"]
    assert rig.central.actions()[:2] == ["BootNotification", "StopTransaction"]


def test_offline_transaction_at_restart() -> None:
    """
    A transaction started offline and cut by a restart: its StartTransaction,
    MeterValues and PowerLoss StopTransaction all go after the boot, the last
    ones with the transactionId the first one got.
    """
    rig = make_rig("CP1")
    allow(rig, "TAG1")
    rig.disconnect()
    charge(rig)
    rig.clock.advance(60)
    assert rig.clock.seconds() == T0 + 60
    rig = restart_rig(rig)
    assert tx_messages(rig) == [
        ("StartTransaction", None),
        ("MeterValues", 101),
        ("StopTransaction", 101),
    ]
    assert rig.central.sent("StopTransaction")[0]["reason"] == "PowerLoss"
