"""
The emulator against a central system it shares no code with: the C{ocpp}
package's C{ChargePoint} used as the central-system side, served by
C{websockets} on a free loopback port. Every frame the stations send is
checked by that library against the official OCPP 1.6 schemas (an invalid
one would be answered with a CALLERROR, which the tests reject), and every
reply to the central system's commands is checked the same way.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import pytest_twisted
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from twisted.internet import task

from ocppcs.config import EmulatorConfig
from ocppcs.emulator.service import EmulatorService
from tests.integration.conftest import aio

CONF = Path(__file__).parents[2] / "conf" / "cp"
CP1 = "EM-A0000001"  # conf/cp/CP1: one DC connector, AuthorizeRemoteTxRequests true
CP4 = "EM-A0000004"  # conf/cp/CP4: four AC connectors, AuthorizeRemoteTxRequests false
OK = {"status": "Accepted"}


def now() -> str:
    """The time now as OCPP text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Received(NamedTuple):
    """A CALL a station sent, as it came off the wire."""

    at: float
    identity: str
    action: str
    payload: dict[str, Any]


class CentralPoint(ChargePoint):
    """The central-system side of one station's connection (the C{ocpp} package)."""

    def __init__(self, identity: str, connection: Any, central: IndependentCentral) -> None:
        super().__init__(identity, connection, response_timeout=10)
        self.central = central

    async def route_message(self, raw_msg: str) -> None:
        """Record each frame as sent, then let the library handle it."""
        frame = json.loads(raw_msg)
        if frame[0] == 2:
            self.central.calls.append(Received(time.monotonic(), self.id, frame[2], frame[3]))
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        if json.loads(message)[0] == 4:
            self.central.errors.append(message)
        await super()._send(message)

    @on(Action.boot_notification)
    def on_boot(self, **kwargs: Any) -> call_result.BootNotification:
        """The next planned status for this station (Accepted once the plan is done)."""
        plan = self.central.boot_plan.get(self.id, [])
        status = plan.pop(0) if plan else "Accepted"
        interval = self.central.heartbeat_interval if status == "Accepted" else 1
        return call_result.BootNotification(current_time=now(), interval=interval, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status(self, **kwargs: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=OK)

    @on(Action.stop_transaction)
    def on_stop(self, **kwargs: Any) -> call_result.StopTransaction:
        return call_result.StopTransaction(id_tag_info=OK)

    @on(Action.meter_values)
    def on_meter_values(self, **kwargs: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics(self, status: str) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware(self, status: str) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.start_transaction)
    def on_start(self, **kwargs: Any) -> call_result.StartTransaction:
        """A new transactionId each time."""
        self.central.next_transaction += 1
        transaction_id = self.central.next_transaction
        return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info=OK)


class IndependentCentral:
    """
    A websockets server at C{ws://127.0.0.1:PORT/ocpp/{identity}} with one
    L{CentralPoint} per connection.

    @ivar calls: every CALL received, in order.
    @ivar errors: every CALLERROR the library sent (a frame it found invalid).
    @ivar boot_plan: statuses to answer a station's first BootNotifications with.
    @ivar points: the latest connection of each station.
    @ivar connections: how often each station connected.
    @ivar subprotocols: the subprotocol of each connection.
    """

    def __init__(self) -> None:
        self.heartbeat_interval = 1
        self.calls: list[Received] = []
        self.errors: list[str] = []
        self.boot_plan: dict[str, list[str]] = {}
        self.points: dict[str, CentralPoint] = {}
        self.connections: Counter[str] = Counter()
        self.subprotocols: list[str | None] = []
        self.next_transaction = 500
        self.server: Any = None

    @property
    def url(self) -> str:
        """The URL prefix stations append their identity to."""
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def start(self) -> None:
        """Listen on a free port."""
        self.server = await websockets.serve(self._serve, "127.0.0.1", 0, subprotocols=["ocpp1.6"])

    async def stop(self) -> None:
        """Close every connection and the listener."""
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, connection: Any) -> None:
        identity = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        self.subprotocols.append(connection.subprotocol)
        point = CentralPoint(identity, connection, self)
        self.points[identity] = point
        self.connections[identity] += 1
        try:
            await point.start()
        except websockets.ConnectionClosed:
            pass

    def received(self, identity: str, action: str | None = None) -> list[Received]:
        """The CALLs of C{identity} (of one C{action}), in order."""
        mine = [r for r in self.calls if r.identity == identity]
        return [r for r in mine if action is None or r.action == action]

    async def command(self, identity: str, payload: Any) -> Any:
        """Send a command to the station; a CALLERROR raises."""
        return await self.points[identity].call(payload, suppress=False)


async def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll C{check} on the reactor until it returns something true; return that."""
    from twisted.internet import reactor

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await task.deferLater(reactor, 0.02, lambda: None)


@pytest_twisted.async_yield_fixture
async def cs() -> AsyncIterator[IndependentCentral]:
    """A running independent central system (heartbeat interval 1 s)."""
    central = IndependentCentral()
    await aio(central.start())
    yield central
    await aio(central.stop())
    assert central.errors == []


Start = Callable[..., Awaitable[EmulatorService]]


@pytest_twisted.async_yield_fixture
async def emulator(tmp_path: Path, cs: IndependentCentral) -> AsyncIterator[Start]:
    """
    Starts an emulator with copies of the named conf/cp folders, state in
    C{tmp_path}, every station pointed at C{cs}; stops it at teardown.
    """
    from twisted.internet import reactor

    running = []

    async def start(*folders: str) -> EmulatorService:
        stations = tmp_path / "cp"
        for folder in folders:
            shutil.copytree(CONF / folder, stations / folder)
        config = EmulatorConfig(
            enable=True, path=str(stations), state=str(tmp_path / "emulator.sqlite3")
        )
        service = EmulatorService(config, reactor, call_timeout=5, url=cs.url)
        running.append(service)
        service.startService()
        await service.ready
        return service

    yield start
    for service in running:
        await service.stopService()


def gaps(records: list[Received]) -> list[float]:
    """Seconds between consecutive records."""
    return [b.at - a.at for a, b in zip(records, records[1:], strict=False)]


@pytest_twisted.ensureDeferred
async def test_boot_pending_then_accepted(cs: IndependentCentral, emulator: Start) -> None:
    """
    A Pending station boots again after the interval the central system gave
    (1 s) and sends nothing else meanwhile; once Accepted it reports connector
    0 and every connector as Available.
    """
    cs.boot_plan[CP1] = ["Pending"]
    service = await emulator("CP1")
    await wait_for(lambda: len(cs.received(CP1, "StatusNotification")) >= 2)
    calls = cs.received(CP1)
    assert [r.action for r in calls[:2]] == ["BootNotification", "BootNotification"]
    assert 0.8 <= calls[1].at - calls[0].at <= 2.5
    assert calls[0].payload == {
        "chargePointVendor": "Emulator",
        "chargePointModel": "CP_EM",
        "chargePointSerialNumber": "202206040001",
        "firmwareVersion": "1.0.0.1",
        "meterSerialNumber": "58000401",
    }
    statuses = [r.payload for r in cs.received(CP1, "StatusNotification")]
    assert [(s["connectorId"], s["status"], s["errorCode"]) for s in statuses[:2]] == [
        (0, "Available", "NoError"),
        (1, "Available", "NoError"),
    ]
    assert service.stations[CP1].online
    assert cs.subprotocols == ["ocpp1.6"]


@pytest_twisted.ensureDeferred
async def test_heartbeat_at_the_given_interval(cs: IndependentCentral, emulator: Start) -> None:
    """Heartbeats come at the interval of the Accepted BootNotification (1 s)."""
    await emulator("CP1")
    await wait_for(lambda: len(cs.received(CP1, "Heartbeat")) >= 4)
    beats = cs.received(CP1, "Heartbeat")
    assert all(0.8 <= gap <= 1.6 for gap in gaps(beats)), gaps(beats)
    assert all(r.payload == {} for r in beats)


@pytest.mark.parametrize(
    ("folder", "identity", "authorize"), [("CP1", CP1, True), ("CP4", CP4, False)]
)
@pytest_twisted.ensureDeferred
async def test_remote_session(
    cs: IndependentCentral, emulator: Start, folder: str, identity: str, authorize: bool
) -> None:
    """
    RemoteStartTransaction: Authorize (only with AuthorizeRemoteTxRequests),
    StartTransaction, Preparing then Charging, MeterValues with the
    transactionId every second (MeterValueSampleInterval changed to 1), then
    RemoteStopTransaction gives StopTransaction with reason Remote.
    """
    await emulator(folder)
    await wait_for(lambda: cs.received(identity, "StatusNotification"))
    first = len(cs.calls)
    sample = call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")
    assert (await aio(cs.command(identity, sample))).status == "Accepted"
    start = call.RemoteStartTransaction(id_tag="TAG-1", connector_id=1)
    assert (await aio(cs.command(identity, start))).status == "Accepted"
    await wait_for(lambda: len(cs.received(identity, "MeterValues")) >= 3)
    tx = cs.next_transaction
    stop = call.RemoteStopTransaction(transaction_id=tx)
    assert (await aio(cs.command(identity, stop))).status == "Accepted"
    await wait_for(lambda: cs.received(identity, "StopTransaction"))

    sent = [r for r in cs.calls[first:] if r.identity == identity and r.action != "Heartbeat"]
    actions = [r.action for r in sent]
    assert ("Authorize" in actions) is authorize
    if authorize:
        assert sent[actions.index("Authorize")].payload == {"idTag": "TAG-1"}
        assert actions.index("Authorize") < actions.index("StartTransaction")
    assert actions.index("StartTransaction") < actions.index("MeterValues")
    started = sent[actions.index("StartTransaction")].payload
    assert (started["connectorId"], started["idTag"]) == (1, "TAG-1")
    statuses = [r.payload for r in sent if r.action == "StatusNotification"]
    assert [s["status"] for s in statuses if s["connectorId"] == 1][:2] == [
        "Preparing",
        "Charging",
    ]
    meter = [r for r in sent if r.action == "MeterValues"]
    assert all(r.payload["transactionId"] == tx for r in meter)
    assert all(0.7 <= gap <= 1.6 for gap in gaps(meter)), gaps(meter)
    values = meter[-1].payload["meterValue"][0]["sampledValue"]
    assert {v["measurand"] for v in values} >= {"Energy.Active.Import.Register", "Voltage"}
    assert {v["context"] for v in values} == {"Sample.Periodic"}
    stopped = sent[actions.index("StopTransaction")].payload
    assert stopped["reason"] == "Remote" and stopped["transactionId"] == tx
    assert stopped["meterStop"] > started["meterStart"]


@pytest_twisted.ensureDeferred
async def test_get_and_change_configuration(cs: IndependentCentral, emulator: Start) -> None:
    """GetConfiguration reads keys, ChangeConfiguration changes them (or says why not)."""
    await emulator("CP1")
    await wait_for(lambda: cs.received(CP1, "StatusNotification"))
    some = await aio(
        cs.command(CP1, call.GetConfiguration(key=["HeartbeatInterval", "ChargePointVendor", "X"]))
    )
    assert some.configuration_key == [
        # the file says 600; the interval of the Accepted boot (1 s here) replaced it
        {"key": "HeartbeatInterval", "readonly": False, "value": "1"},
        {"key": "ChargePointVendor", "readonly": True, "value": "Emulator"},
    ]
    assert some.unknown_key == ["X"]
    every = await aio(cs.command(CP1, call.GetConfiguration()))
    keys = {k["key"]: k["value"] for k in every.configuration_key}
    assert keys["MeterValueSampleInterval"] == "60" and keys["NumberOfConnectors"] == "1"
    changes = [
        ("HeartbeatInterval", "2", "Accepted"),
        ("ChargePointVendor", "Other", "Rejected"),
        ("HeartbeatInterval", "soon", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
        ("WebSocketPingInterval", "20", "RebootRequired"),
    ]
    for key, value, expected in changes:
        reply = await aio(cs.command(CP1, call.ChangeConfiguration(key=key, value=value)))
        assert (key, value, reply.status) == (key, value, expected)
    after = await aio(cs.command(CP1, call.GetConfiguration(key=["HeartbeatInterval"])))
    assert after.configuration_key[0]["value"] == "2"
    first = len(cs.received(CP1, "Heartbeat"))
    await wait_for(lambda: len(cs.received(CP1, "Heartbeat")) >= first + 2)
    assert all(1.7 <= gap <= 2.6 for gap in gaps(cs.received(CP1, "Heartbeat")[first:]))


@pytest_twisted.ensureDeferred
async def test_trigger_message(cs: IndependentCentral, emulator: Start) -> None:
    """Each TriggerMessage is Accepted and followed by the message it asked for."""
    await emulator("CP4")
    await wait_for(lambda: len(cs.received(CP4, "StatusNotification")) >= 5)

    async def trigger(message: str, **kwargs: Any) -> Received:
        before = len(cs.received(CP4, message))
        reply = await aio(cs.command(CP4, call.TriggerMessage(requested_message=message, **kwargs)))
        assert reply.status == "Accepted"
        return (await wait_for(lambda: cs.received(CP4, message)[before:]))[0]

    status = await trigger("StatusNotification", connector_id=3)
    assert (status.payload["connectorId"], status.payload["status"]) == (3, "Available")
    meter = await trigger("MeterValues", connector_id=2)
    assert meter.payload["connectorId"] == 2 and "transactionId" not in meter.payload
    assert {v["context"] for v in meter.payload["meterValue"][0]["sampledValue"]} == {"Trigger"}
    assert (await trigger("BootNotification")).payload["chargePointModel"] == "KK Quad AC"
    assert (await trigger("DiagnosticsStatusNotification")).payload == {"status": "Idle"}
    assert (await trigger("FirmwareStatusNotification")).payload == {"status": "Idle"}
    beat = await trigger("Heartbeat")
    assert beat.payload == {}
    wrong = await aio(
        cs.command(CP4, call.TriggerMessage(requested_message="StatusNotification", connector_id=9))
    )
    assert wrong.status == "Rejected"


@pytest_twisted.ensureDeferred
async def test_reconnects_after_the_server_closes(cs: IndependentCentral, emulator: Start) -> None:
    """
    When the central system closes the connection, the station connects
    again by itself (within the first backoff delay) and boots again.
    """
    service = await emulator("CP1")
    await wait_for(lambda: cs.received(CP1, "StatusNotification"))
    closed_at = time.monotonic()
    await aio(cs.points[CP1]._connection.close())
    await wait_for(lambda: len(cs.received(CP1, "BootNotification")) >= 2)
    assert cs.connections[CP1] == 2
    assert time.monotonic() - closed_at < 3.0
    await wait_for(lambda: service.stations[CP1].online)
    assert service.links[CP1].connections == 2
    await wait_for(lambda: [r for r in cs.received(CP1, "Heartbeat") if r.at > closed_at])


@pytest_twisted.ensureDeferred
async def test_reconnects_after_the_server_restarts(
    cs: IndependentCentral, emulator: Start
) -> None:
    """
    When the whole central system goes away and comes back on the same port,
    both stations find it again (backoff 1 s doubling) and boot again. Two
    stations run side by side; the four-connector one reports connectors 0 to 4.
    """
    service = await emulator("CP1", "CP4")
    await wait_for(lambda: len(cs.received(CP4, "StatusNotification")) >= 5)
    statuses = [r.payload for r in cs.received(CP4, "StatusNotification")]
    assert [(s["connectorId"], s["status"]) for s in statuses] == [
        (i, "Available") for i in range(5)
    ]
    await wait_for(lambda: all(s.online for s in service.stations.values()))
    port = cs.server.sockets[0].getsockname()[1]
    await aio(cs.stop())
    await wait_for(lambda: not any(s.online for s in service.stations.values()))
    cs.server = await aio(websockets.serve(cs._serve, "127.0.0.1", port, subprotocols=["ocpp1.6"]))
    await wait_for(lambda: all(s.online for s in service.stations.values()), timeout=15)
    assert cs.connections == {CP1: 2, CP4: 2}
    assert len(cs.received(CP4, "BootNotification")) == 2
