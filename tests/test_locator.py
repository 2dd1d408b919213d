"""
Tests for L{ocppcs.locator.StationLocator} and L{ocppcs.followup.Commands}:
which way a call goes (this process, another node, nowhere), a station
that moves while its call is routed, and the merged live connections. The
other nodes are a scripted L{IRemoteNodes} here; tests/cluster runs real
nodes on a real PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from zope.interface import implementer

from ocppcs.backends.interface import IOperatorStore
from ocppcs.callerrors import StationOffline, UnknownStation
from ocppcs.followup import Commands
from ocppcs.locator import Live, Moved, StationLocator
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import OcppSession
from ocppcs.stations import StationRegistry
from ocppcs.testing import MemoryBackend
from ocppcs.v16.central import CentralSystem
from tests.ocppj.test_session import failure_of, result


class Nodes:
    """
    Other nodes as the cluster would report them: C{where} says which
    node holds a station (a list: one answer per lookup), C{replies} what
    each node answers.
    """

    node = "here"

    def __init__(self) -> None:
        self.where: dict[str, list[str | None]] = {}
        self.replies: dict[str, Any] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.connections: dict[str, Live] = {}

    def call(
        self, identity: str, action: str, payload: dict[str, Any], timeout: Any
    ) -> Deferred[dict[str, Any] | None]:
        answers = self.where.get(identity, [None])
        node = answers.pop(0) if len(answers) > 1 else answers[0]
        if node is None:
            return succeed(None)
        self.calls.append((node, identity, action))
        reply = self.replies[node]
        if isinstance(reply, Exception):
            return fail(reply)
        return succeed(reply)

    def live(self, identities: list[str]) -> Deferred[dict[str, Live]]:
        return succeed({i: self.connections[i] for i in identities if i in self.connections})

    def online_count(self) -> Deferred[int]:
        return succeed(len(self.connections))


def connect(registry: StationRegistry, backend: MemoryBackend, identity: str) -> list[Any]:
    """Attach a session of C{identity}; return the frames sent to it."""
    sent: list[Any] = []
    clock = Clock()
    session = OcppSession(
        identity,
        "acct",
        "tcp:127.0.0.1:5000",
        lambda data: sent.append(orjson.loads(data)),
        clock,
        CentralSystem(backend, backend, clock),
        SchemaSet(),
        backend.record_frame,
    )
    registry.attach(session)
    return sent


@pytest.fixture
def parts() -> tuple[MemoryBackend, StationRegistry, Nodes, StationLocator]:
    backend = MemoryBackend()
    registry = StationRegistry(backend)
    nodes = Nodes()
    return backend, registry, nodes, StationLocator(registry, nodes)


def test_local_station_is_called_here(parts: Any) -> None:
    """A station of this process is called here, without asking the other nodes."""
    backend, registry, nodes, locator = parts
    sent = connect(registry, backend, "CP1")
    nodes.where["CP1"] = ["elsewhere"]
    d = locator.call("CP1", "ClearCache", {})
    [[kind, _, action, payload]] = sent
    assert (kind, action, payload) == (2, "ClearCache", {})
    assert nodes.calls == []
    d.cancel()
    failure_of(d)


def test_remote_station_is_called_on_its_node(parts: Any) -> None:
    _, _, nodes, locator = parts
    nodes.where["CP2"] = ["B"]
    nodes.replies["B"] = {"status": "Accepted"}
    assert result(locator.call("CP2", "ClearCache", {})) == {"status": "Accepted"}
    assert nodes.calls == [("B", "CP2", "ClearCache")]


def test_moved_station_is_followed(parts: Any) -> None:
    """A node that no longer has the station: the call follows it to its new node."""
    _, _, nodes, locator = parts
    nodes.where["CP3"] = ["B", "C"]
    nodes.replies["B"] = Moved("CP3", "Reset", "B")
    nodes.replies["C"] = {"status": "Accepted"}
    assert result(locator.call("CP3", "Reset", {"type": "Soft"})) == {"status": "Accepted"}
    assert nodes.calls == [("B", "CP3", "Reset"), ("C", "CP3", "Reset")]


def test_moved_to_nowhere_is_offline(parts: Any) -> None:
    """Moved, and now on no node: the record says offline (known) or unknown."""
    backend, _, nodes, locator = parts
    backend.known.add("CP4")
    nodes.where["CP4"] = ["B", None]
    nodes.replies["B"] = Moved("CP4", "Reset", "B")
    failure_of(locator.call("CP4", "Reset", {"type": "Soft"})).trap(StationOffline)
    failure_of(locator.call("NEVER", "Reset", {"type": "Soft"})).trap(UnknownStation)


def test_station_moving_forever_ends_offline(parts: Any) -> None:
    """A lookup that keeps pointing at nodes without the station ends, offline."""
    backend, _, nodes, locator = parts
    backend.known.add("CP5")
    nodes.where["CP5"] = ["B"]
    nodes.replies["B"] = Moved("CP5", "Reset", "B")
    failure_of(locator.call("CP5", "Reset", {"type": "Soft"})).trap(StationOffline)
    assert len(nodes.calls) == 3


def test_live_merges_this_node_and_others(parts: Any) -> None:
    backend, registry, nodes, locator = parts
    connect(registry, backend, "L1")
    nodes.connections["R1"] = Live("tcp:10.0.0.1:1", "", "B")
    live = result(locator.live(["L1", "R1", "GONE"]))
    assert live == {
        "L1": Live("tcp:127.0.0.1:5000", "acct", "here"),
        "R1": Live("tcp:10.0.0.1:1", "", "B"),
    }
    assert result(locator.online_count()) == 2


def test_single_node_has_no_node_names() -> None:
    backend = MemoryBackend()
    registry = StationRegistry(backend)
    locator = StationLocator(registry)
    connect(registry, backend, "L1")
    assert result(locator.live(["L1", "X"])) == {"L1": Live("tcp:127.0.0.1:5000", "acct", None)}
    assert locator.node is None
    failure_of(locator.call("X", "Reset", {"type": "Soft"})).trap(UnknownStation)


@implementer(IOperatorStore)
class Reservations(MemoryBackend):
    """A record that keeps just the reservation changes it is told."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple[Any, ...]] = []

    def add_reservation(self, *args: Any, **kw: Any) -> Deferred[int]:
        self.changes.append(("add", *args, kw))
        return succeed(1)

    def set_reservation_status(self, reservation_id: int, status: str) -> Deferred[bool]:
        self.changes.append(("status", reservation_id, status))
        return succeed(True)


def test_commands_follow_up_accepted_replies_of_any_node() -> None:
    """
    An accepted ReserveNow and CancelReservation are recorded after the
    reply, whichever node answered; a rejected one is not.
    """
    record = Reservations()
    nodes = Nodes()
    commands = Commands(StationLocator(StationRegistry(record), nodes), record)
    nodes.where["CP6"] = ["B"]
    nodes.replies["B"] = {"status": "Accepted"}
    reserve = {"connectorId": 1, "idTag": "T", "expiryDate": "2030-01-01T00:00:00Z"}
    reserve["reservationId"] = 7
    assert result(commands.call("CP6", "ReserveNow", reserve)) == {"status": "Accepted"}
    assert result(commands.call("CP6", "CancelReservation", {"reservationId": 7}))
    nodes.replies["B"] = {"status": "Rejected"}
    assert result(commands.call("CP6", "CancelReservation", {"reservationId": 8}))
    assert record.changes == [
        ("add", "CP6", 1, "T", "2030-01-01T00:00:00Z", None, 7, {"replace": True}),
        ("status", 7, "Cancelled"),
    ]
