"""
A SOAP station as a channel: online while it calls (L{SoapStations}), its
commands through the shared one-call-in-flight queue, and its calls reaching
the backend with C{transport="soap"} and its version in the call context.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import pytest_twisted
import zeep
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationDisconnected,
)
from ocppcs.callqueue import Outbound
from ocppcs.config import Config, ServerConfig
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.service import build_central_system
from ocppcs.soap.station import SoapStation, SoapStations
from ocppcs.stations import StationRegistry
from ocppcs.testing import MemoryBackend
from tests.soap.conftest import SoapStation as SoapClient

SCHEMAS = SchemaSet()
RESET = {"type": "Soft"}


def outcome(d: Deferred[Any]) -> Any:
    """What C{d} fired with: a result or a L{Failure}."""
    seen: list[Any] = []
    d.addBoth(seen.append)
    assert seen, "not fired"
    return seen[0]


class Harness:
    def __init__(self) -> None:
        self.clock = Clock()
        self.backend = MemoryBackend()
        self.registry = StationRegistry(self.backend)
        self.stations = SoapStations(self.registry, self.backend, self.clock, SCHEMAS, 60)
        self.posted: list[tuple[Outbound, Deferred[dict[str, Any]]]] = []

    def caller(self, station: SoapStation, pending: Outbound) -> Deferred[dict[str, Any]]:
        d: Deferred[dict[str, Any]] = Deferred()
        self.posted.append((pending, d))
        return d

    def seen(self, version: str = "1.6") -> SoapStation:
        return self.stations.seen("S1", version, "http://127.0.0.1:9/cp", "tcp:127.0.0.1:5")


def test_online_while_calling() -> None:
    """Online from the first request; each one restarts the 2 x 60 + 60 s window."""
    h = Harness()
    station = h.seen()
    assert h.registry.get("S1") is station and h.backend.connected == {"S1"}
    assert (station.transport, station.version, station.address) == (
        "soap",
        "1.6",
        "http://127.0.0.1:9/cp",
    )
    h.clock.advance(179)
    assert h.seen() is station
    h.clock.advance(179)
    assert h.registry.get("S1") is station
    h.clock.advance(1)
    assert h.registry.get("S1") is None and station.closed
    assert h.backend.connected == set()
    again = h.seen()
    assert again is not station and h.registry.get("S1") is again


def test_window_follows_the_interval_given() -> None:
    h = Harness()
    station = h.seen()
    station.interval = 300
    h.seen()
    h.clock.advance(659)
    assert h.registry.get("S1") is station
    h.clock.advance(1)
    assert h.registry.get("S1") is None


def test_commands_fail_clearly_until_a_caller_is_set() -> None:
    h = Harness()
    h.seen()
    failure = outcome(h.registry.call("S1", "Reset", RESET))
    assert isinstance(failure, Failure) and failure.check(InvalidCommand)
    assert "cannot call OCPP-S stations" in str(failure.value)


def test_one_command_in_flight_then_the_next() -> None:
    h = Harness()
    h.stations.caller = h.caller
    h.seen()
    first = h.registry.call("S1", "Reset", RESET)
    second = h.registry.call("S1", "ClearCache", {})
    assert [p.action for p, _ in h.posted] == ["Reset"]
    h.posted[0][1].callback({"status": "Accepted"})
    assert outcome(first) == {"status": "Accepted"}
    assert [p.action for p, _ in h.posted] == ["Reset", "ClearCache"]
    h.posted[1][1].callback({"status": "Nonsense"})
    assert outcome(second).check(InvalidReply)


def test_timeout_cancels_the_request() -> None:
    h = Harness()
    h.stations.caller = h.caller
    h.seen()
    d = h.registry.call("S1", "Reset", RESET, timeout=5)
    h.clock.advance(5)
    assert outcome(d).check(CallTimeout)
    assert h.posted[0][1].called  # the HTTP request was cancelled


def test_offline_fails_pending_commands() -> None:
    h = Harness()
    h.stations.caller = h.caller
    h.seen()
    d = h.registry.call("S1", "Reset", RESET, timeout=600)
    h.clock.advance(180)
    assert outcome(d).check(StationDisconnected)
    assert h.posted[0][1].called  # the HTTP request was cancelled


def test_a_15_station_has_no_smart_charging_or_trigger() -> None:
    h = Harness()
    h.stations.caller = h.caller
    h.seen("1.5")
    d = h.registry.call("S1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert outcome(d).check(InvalidCommand)
    assert not h.posted


async def start_memory_central(tmp_path: Any) -> tuple[Any, MemoryBackend, str]:
    """The central system with a L{MemoryBackend}, started; its /Ocpp URL."""
    from twisted.internet import reactor

    backend = MemoryBackend()
    server = dataclasses.replace(ServerConfig(), listen=("tcp:0:interface=127.0.0.1",))
    config = Config(server=server)
    embedded = dataclasses.replace(config.embedded, path=str(tmp_path / "x.sqlite3"))
    service = build_central_system(dataclasses.replace(config, embedded=embedded), reactor, backend)
    service.startService()
    await service.ready
    port = service.listeners[0].port
    assert port is not None
    return service, backend, f"http://127.0.0.1:{port.getHost().port}/Ocpp"


@pytest.mark.parametrize("version", ["1.5", "1.6"])
@pytest_twisted.ensureDeferred
async def test_call_context_names_transport_and_version(tmp_path: Any, version: str) -> None:
    """The backend sees a SOAP station's calls as a JSON station's, marked soap and its version."""
    service, backend, url = await start_memory_central(tmp_path)
    client = SoapClient(version, url, "CTX-1", None)
    try:
        await client("BootNotification", chargePointVendor="V", chargePointModel="M")
        await client("Heartbeat")
    finally:
        client.close()
        await service.stopService()
    contexts = [(c.action, c.identity, c.transport, c.version) for c, _ in backend.calls]
    assert contexts == [
        ("BootNotification", "CTX-1", "soap", version),
        ("Heartbeat", "CTX-1", "soap", version),
    ]
    assert backend.calls[0][1] == {"chargePointVendor": "V", "chargePointModel": "M"}
    kinds = [(f.direction, f.message_type, f.action) for f in backend.frames]
    assert kinds == [
        ("in", 2, "BootNotification"),
        ("out", 3, "BootNotification"),
        ("in", 2, "Heartbeat"),
        ("out", 3, "Heartbeat"),
    ]


@pytest_twisted.ensureDeferred
async def test_shutting_down_is_a_receiver_fault(tmp_path: Any) -> None:
    """Once the stations are being closed, a SOAP request gets a Receiver Fault (HTTP 503)."""
    service, backend, url = await start_memory_central(tmp_path)
    client = SoapClient("1.6", url, "LATE-1", None)
    try:
        service.registry.close_all("shutting down")
        with pytest.raises(zeep.exceptions.Fault) as caught:
            await client("Heartbeat")
    finally:
        client.close()
        await service.stopService()
    assert caught.value.code.endswith("Receiver")
    assert "shutting down" in caught.value.message
    assert backend.calls == []
