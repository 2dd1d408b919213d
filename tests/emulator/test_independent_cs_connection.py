"""
The emulator's connection to a central system it shares no code with
(L{tests.emulator.independent}): boots (Pending then Accepted), heartbeats at
the interval given, and reconnecting after the server closes the connection
or goes away and comes back.
"""

from __future__ import annotations

import time

import pytest_twisted
import websockets

from tests.emulator.independent import CP1, CP4, IndependentCentral, Start, gaps, wait_for
from tests.integration.conftest import aio


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
