"""
A central system that shares no code with ours, for the emulator tests of
C{tests.emulator.test_independent_cs_*}: the C{ocpp} package's C{ChargePoint}
used as the central-system side, served by C{websockets} on a free loopback
port. Every frame the stations send is checked by that library against the
official OCPP 1.6 schemas (an invalid one is answered with a CALLERROR, which
the C{cs} fixture of L{tests.emulator.conftest} rejects), and every reply to
the central system's commands is checked the same way.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from twisted.internet import task

from ocppcs.emulator.service import EmulatorService

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


Start = Callable[..., Awaitable[EmulatorService]]


def gaps(records: list[Received]) -> list[float]:
    """Seconds between consecutive records."""
    return [b.at - a.at for a, b in zip(records, records[1:], strict=False)]
