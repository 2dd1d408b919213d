"""
Test doubles for driving an L{EmulatedStation} without sockets: a store
that keeps everything in memory, and a central system that answers the
station's calls (automatically, or one by one when the test wants to).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock

from ocppcs.callerrors import StationDisconnected
from ocppcs.emulator.persist import OutboxEntry, SavedStation
from ocppcs.emulator.station import EmulatedStation
from ocppcs.emulator.stationconfig import StationConfig, load_station
from ocppcs.emulator.transfers import Transfers
from ocppcs.ocppj.frames import Call
from ocppcs.ocppj.schemas import SchemaSet

CONF = Path(__file__).parents[2] / "conf" / "cp"
SCHEMAS = SchemaSet()

#: 2026-11-25T10:00:00Z
T0 = 1_795_600_800.0

#: Seconds after a remote start until the example stations' demo driver plugs in
#: (their C{plugInOnRemoteStart}).
DEMO_PLUG_IN: float = load_station(CONF / "CP1").plug_in_on_remote_start or 0.0


class MemoryStore:
    """The L{EmulatorStore} API in memory (every write succeeds at once)."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.rows: dict[int, tuple[str, str, dict[str, Any], str]] = {}
        self._next = 1

    def save_state(self, identity: str, state: dict[str, Any]) -> Deferred[None]:
        self.states[identity] = json.loads(json.dumps(state))
        return succeed(None)

    def add(
        self, identity: str, action: str, payload: dict[str, Any], local_tx: str
    ) -> Deferred[int]:
        row = self._next
        self._next += 1
        self.rows[row] = (identity, action, json.loads(json.dumps(payload)), local_tx)
        return succeed(row)

    def remove(self, row_id: int) -> Deferred[None]:
        self.rows.pop(row_id, None)
        return succeed(None)

    def saved(self, identity: str) -> SavedStation:
        """What a restarted emulator would load for C{identity}."""
        outbox = [
            OutboxEntry(row, action, payload, local_tx)
            for row, (who, action, payload, local_tx) in sorted(self.rows.items())
            if who == identity
        ]
        return SavedStation(self.states.get(identity, {}), outbox)


Answer = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class FakeCentral:
    """
    Plays the central system for one station: records every call (checked
    against the official request schema) and answers it from C{answers} at
    once, or keeps it pending when the action is in C{hold}.
    """

    clock: Clock
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pending: list[tuple[str, dict[str, Any], Deferred[dict[str, Any]]]] = field(
        default_factory=list
    )
    hold: set[str] = field(default_factory=set)
    answers: dict[str, Answer] = field(default_factory=dict)
    next_transaction_id: int = 100
    closed: bool = False

    def __post_init__(self) -> None:
        defaults: dict[str, Answer] = {
            "BootNotification": lambda p: {
                "status": "Accepted",
                "currentTime": "2026-11-25T10:00:00Z",
                "interval": 300,
            },
            "Heartbeat": lambda p: {"currentTime": "2026-11-25T10:00:00Z"},
            "Authorize": lambda p: {"idTagInfo": {"status": "Accepted"}},
            "StartTransaction": self._start,
            "StopTransaction": lambda p: {"idTagInfo": {"status": "Accepted"}},
        }
        for action, answer in defaults.items():
            self.answers.setdefault(action, answer)

    def _start(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.next_transaction_id += 1
        return {"transactionId": self.next_transaction_id, "idTagInfo": {"status": "Accepted"}}

    def call(self, action: str, payload: dict[str, Any], timeout: float | None = None) -> Deferred:
        """The session API the station uses."""
        if self.closed:
            return fail(StationDisconnected("x", action, "closed"))
        SCHEMAS.validate_request(action, payload)
        self.calls.append((action, payload))
        if action in self.hold:
            d: Deferred[dict[str, Any]] = Deferred()
            self.pending.append((action, payload, d))
            return d
        reply = self.answers.get(action, lambda p: {})(payload)
        SCHEMAS.validate_response(action, reply)
        return succeed(reply)

    def sent(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the calls of C{action}, in order."""
        return [p for a, p in self.calls if a == action]

    def actions(self) -> list[str]:
        """Every action called, in order."""
        return [a for a, _ in self.calls]

    def clear(self) -> None:
        """Forget the calls recorded so far."""
        self.calls.clear()


@dataclass
class Rig:
    """A station, its clock, store and central system."""

    station: EmulatedStation
    clock: Clock
    store: MemoryStore
    central: FakeCentral

    def command(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a central-system command; return the (schema-checked) reply, then run follow-ups."""
        reply = self.answer(action, payload)
        self.clock.advance(0)
        return reply

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """
        The station's (schema-checked) reply to a central-system command,
        which must come at once; what follows from it has not run yet.
        """
        SCHEMAS.validate_request(action, payload)
        d = self.station.receive_call(self.central, Call("id", action, payload))  # type: ignore[arg-type]
        results: list[Any] = []
        d.addBoth(results.append)
        assert results, f"{action} did not answer at once"
        reply = results[0]
        if not isinstance(reply, dict):
            reply.raiseException()
        SCHEMAS.validate_response(action, reply)
        return reply

    def statuses(self, connector_id: int | None = None) -> list[str]:
        """The statuses sent in StatusNotifications (of one connector)."""
        return [
            p["status"]
            for p in self.central.sent("StatusNotification")
            if connector_id is None or p["connectorId"] == connector_id
        ]

    def reconnect(self) -> None:
        """The link drops and comes back (a new session with the same central system)."""
        self.station.disconnected()
        self.central.closed = False
        self.station.connected(self.central)  # type: ignore[arg-type]
        self.clock.advance(0)

    def disconnect(self) -> None:
        """The link drops."""
        self.central.closed = True
        self.station.disconnected()


def make_rig(
    folder: str = "CP1",
    config: StationConfig | None = None,
    store: MemoryStore | None = None,
    clock: Clock | None = None,
    connect: bool = True,
    transfers: Transfers | None = None,
) -> Rig:
    """
    A station from C{conf/cp/<folder>} (or C{config}), connected and booted,
    moving files with C{transfers} (default: simulated).
    """
    if clock is None:
        clock = Clock()
        clock.advance(T0)
    store = store or MemoryStore()
    config = config or load_station(CONF / folder)
    saved = store.saved(config.identity)
    station = EmulatedStation(config, clock, store, saved, transfers=transfers)  # type: ignore[arg-type]
    central = FakeCentral(clock)
    rig = Rig(station, clock, store, central)
    if connect:
        station.connected(central)  # type: ignore[arg-type]
        clock.advance(0)
    return rig


@dataclass
class FakeLink:
    """
    Stands in for a station's link (L{ocppcs.emulator.station.Link}): counts
    the reconnects the station asks for and then runs C{then}, if given.
    """

    then: Callable[[], None] | None = None
    reconnects: int = 0

    def reconnect(self) -> None:
        self.reconnects += 1
        if self.then is not None:
            self.then()


def attach_link(rig: Rig, reboot: bool = False) -> FakeLink:
    """
    Give the rig's station a L{FakeLink}; with C{reboot}, each reconnect also
    drops the session and connects again (so the station boots again).
    """
    link = FakeLink(rig.reconnect if reboot else None)
    rig.station.link = link
    return link


def command_in_order(
    rig: Rig, action: str, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """
    Send a central-system command like L{Rig.command}.

    @return: the reply, and the actions the station called meanwhile in
        order, with C{"<action>.conf"} where its reply went out (before the
        follow-ups run).
    """
    before = len(rig.central.calls)
    reply = rig.answer(action, payload)
    replied = len(rig.central.calls)
    rig.clock.advance(0)
    actions = rig.central.actions()
    return reply, [*actions[before:replied], f"{action}.conf", *actions[replied:]]


#: A TxProfile of 10 kW, as a RemoteStartTransaction may carry.
TX_PROFILE: dict[str, Any] = {
    "chargingProfileId": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10000}],
    },
}


def start_charging(rig: Rig, connector_id: int = 1, id_tag: str = "TAG-1") -> int:
    """Plug a vehicle in and present C{id_tag}; return the transactionId the central system gave."""
    rig.station.plug_in(connector_id)
    rig.station.present_id_tag(connector_id, id_tag)
    rig.clock.advance(0)
    tx = rig.station.connectors[connector_id].transaction
    assert tx is not None and tx.transaction_id is not None, "the transaction did not start"
    return tx.transaction_id


def restart_rig(rig: Rig, connect: bool = True) -> Rig:
    """
    The emulator restarts: the old station stops (its timers cancelled) and
    a new one is built from what the store kept, on the same clock and
    store, with a new central system (connected and booted when C{connect}).
    """
    rig.station.shutdown()
    rig.station.disconnected()
    return make_rig(config=rig.station.config, store=rig.store, clock=rig.clock, connect=connect)
