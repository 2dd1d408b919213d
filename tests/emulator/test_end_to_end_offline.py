"""
The offline queue end to end: an emulated station charging through our
central system keeps its transaction messages while the central system is
down, and delivers them, in order, to a central system restarted on the
same store and port, which then closes the transaction.

The emulator runs as its own service here (not a child of the central
system), so that it keeps running while the central system is stopped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_twisted

from ocppcs.config import EmulatorConfig
from ocppcs.emulator.service import EmulatorService
from ocppcs.emulator.station import EmulatedStation
from tests.emulator.test_end_to_end import (
    TAG,
    closed,
    command,
    copy_stations,
    samples,
    transaction,
    until,
)
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

IDENTITY = "EM-A0000001"
#: Seconds a reconnect may take: the link backs off (1 s doubling, with jitter).
RECONNECT = 10.0


@dataclass
class Setup:
    """The central system (replaced on restart), its folder and port, the emulator."""

    web: WebCentral
    data: Path
    port: int
    emulator: EmulatorService

    @property
    def station(self) -> EmulatedStation:
        """The station under test."""
        found = self.emulator.station(IDENTITY)
        assert found is not None
        return found


@pytest_twisted.async_yield_fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    """A central system, and an emulator of one station (sampling every second) using it."""
    from twisted.internet import reactor

    data = tmp_path / "cs"
    data.mkdir()
    web = await start_web_central(data)
    stations = copy_stations(tmp_path / "cp", MeterValueSampleInterval="1")
    for other in ("CP2", "CP3", "CP4"):
        (stations / other / "configuration.json").unlink()
    config = EmulatorConfig(enable=True, path=str(stations), state=str(tmp_path / "emu.db"))
    emulator = EmulatorService(
        config, reactor, call_timeout=5, url=f"ws://127.0.0.1:{web.port}/ocpp"
    )
    emulator.startService()
    running = Setup(web, data, web.port, emulator)
    try:
        await emulator.ready
        assert list(emulator.stations) == [IDENTITY]
        await until(lambda: running.station.online, "the station online")
        yield running
    finally:
        await emulator.stopService()
        if running.web.service.running:
            await stop_web_central(running.web)


async def restart(setup: Setup) -> None:
    """Start a central system again, on the same store and port."""
    listen = (f"tcp:{setup.port}:interface=127.0.0.1",)
    setup.web = await start_web_central(setup.data, server={"listen": listen})
    assert setup.web.port == setup.port


def queued(station: EmulatedStation, action: str) -> list[dict[str, Any]]:
    """The payloads of the station's queued transaction messages of C{action}."""
    return [m.payload for m in station.outbox.kept() if m.action == action]


async def start_charging(setup: Setup) -> int:
    """A remote start on connector 1; the transaction id, once meter values arrived."""
    payload = {"idTag": TAG, "connectorId": 1}
    reply = await command(setup.web, IDENTITY, "RemoteStartTransaction", payload)
    assert reply == {"status": "Accepted"}
    station = setup.station

    def started() -> int | None:
        tx = station.connectors[1].transaction
        return tx.transaction_id if tx is not None else None

    transaction_id = int(await until(started, "the transaction started"))

    async def sampled() -> bool:
        found = await transaction(setup.web, transaction_id)
        return len(samples(found, "Energy.Active.Import.Register")) >= 2

    await until(sampled, "two meter values at the central system")
    return transaction_id


async def go_down(setup: Setup) -> None:
    """Stop the central system; wait until the station knows it is offline."""
    await stop_web_central(setup.web)
    await until(lambda: not setup.station.online, "the station offline")
    assert setup.station.connectors[1].transaction is not None


@pytest_twisted.ensureDeferred
async def test_stop_transaction_delivered_after_restart(setup: Setup) -> None:
    """
    A transaction stopped while the central system is down: the
    StopTransaction (with its transactionData) waits in the station's
    queue, and reaches the restarted central system, which closes the
    transaction with the station's meterStop and reason.
    """
    transaction_id = await start_charging(setup)
    await go_down(setup)
    station = setup.station
    reply = await station.present_id_tag(1, TAG)  # the driver stops it, offline
    assert reply["status"] == "Accepted"
    [stop] = queued(station, "StopTransaction")
    assert stop["meterStop"] > 0

    await restart(setup)
    await until(lambda: station.online, "the station back online", RECONNECT)
    done = await closed(setup.web, transaction_id)
    assert (done["meterStop"], done["reason"], done["stopIdTag"]) == (
        stop["meterStop"],
        "Local",
        TAG,
    )
    assert done["dateStop"] == stop["timestamp"]
    contexts = {m.get("context") for m in done["meterValues"] if m["source"] == "StopTransaction"}
    assert contexts >= {"Transaction.Begin", "Transaction.End"}
    await until(lambda: not station.outbox.kept(), "the queue emptied")


@pytest_twisted.ensureDeferred
async def test_meter_values_sampled_offline_are_delivered(setup: Setup) -> None:
    """
    While the central system is down, the station keeps sampling its
    transaction every MeterValueSampleInterval and queues the MeterValues;
    the restarted central system stores them with the transaction.
    """
    transaction_id = await start_charging(setup)
    await go_down(setup)
    station = setup.station
    down_at = station.timestamp()
    await until(lambda: len(queued(station, "MeterValues")) >= 2, "two MeterValues queued")
    expected = [m["meterValue"][0]["timestamp"] for m in queued(station, "MeterValues")]
    await station.present_id_tag(1, TAG)

    await restart(setup)
    await until(lambda: station.online, "the station back online", RECONNECT)
    done = await closed(setup.web, transaction_id)
    stored = {
        m["timestamp"]
        for m in done["meterValues"]
        if m["source"] == "MeterValues" and m["timestamp"] >= down_at
    }
    assert set(expected) <= stored
    assert len(samples(done, "Energy.Active.Import.Register")) >= 2 + len(expected)
