"""
Tests for L{ocppcs.emulator.persist}: the emulator's SQLite store (a real
worker process on a temporary file) keeps each station's state document and
its ordered outbox across a stop and a new store on the same file, and a
station rebuilt from it carries on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from ocppcs.emulator.persist import EmulatorStore, OutboxEntry, SavedStation
from ocppcs.emulator.station import EmulatedStation
from ocppcs.emulator.stationconfig import load_station
from tests.emulator.harness import CONF, T0, FakeCentral


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest_twisted.async_yield_fixture
async def open_store(tmp_path: Path) -> Any:
    """A factory of started stores on one file, all stopped afterwards."""
    stores: list[EmulatorStore] = []

    async def open_() -> EmulatorStore:
        store = EmulatorStore(_reactor(), tmp_path / "emulator.sqlite3")
        stores.append(store)
        await store.start()
        return store

    yield open_
    for store in stores:
        await store.stop()


@pytest_twisted.ensureDeferred
async def test_round_trip(open_store: Any) -> None:
    """
    State documents (the last one saved wins) and outbox rows (minus the
    removed ones, in the order added) come back from a new store on the
    same file, by station.
    """
    store = await open_store()
    assert await store.load_all() == {}
    await store.save_state("A", {"v": 1})
    first = await store.add("A", "StartTransaction", {"idTag": "T"}, "tx1")
    second = await store.add("B", "StopTransaction", {"meterStop": 5}, "tx2")
    third = await store.add("A", "MeterValues", {"connectorId": 1, "meterValue": []}, "tx1")
    assert first < second < third
    await store.save_state("A", {"v": 2, "nested": {"list": [1, "x", None]}})
    await store.remove(first)
    await store.stop()

    again = await open_store()
    saved = await again.load_all()
    assert saved == {
        "A": SavedStation(
            {"v": 2, "nested": {"list": [1, "x", None]}},
            [OutboxEntry(third, "MeterValues", {"connectorId": 1, "meterValue": []}, "tx1")],
        ),
        "B": SavedStation({}, [OutboxEntry(second, "StopTransaction", {"meterStop": 5}, "tx2")]),
    }


@pytest_twisted.ensureDeferred
async def test_row_ids_not_reused(open_store: Any) -> None:
    """A row added after the last one was removed (even across a restart) gets a new id."""
    store = await open_store()
    row = await store.add("A", "MeterValues", {}, "tx")
    await store.remove(row)
    await store.stop()
    again = await open_store()
    later = await again.add("A", "MeterValues", {}, "tx")
    assert later > row
    assert [e.id for e in (await again.load_all())["A"].outbox] == [later]


@pytest_twisted.ensureDeferred
async def test_station_survives_restart(open_store: Any) -> None:
    """
    A station charging offline saves its state and queued messages in the
    real store; a station built from what a new store loads ends the cut
    transaction with PowerLoss at the saved register and sends the queue
    after its boot, in order.
    """
    config = load_station(CONF / "CP1")
    clock = Clock()
    clock.advance(T0)
    store = await open_store()
    station = EmulatedStation(config, clock, store)
    entries = [{"idTag": "TAG1", "idTagInfo": {"status": "Accepted"}}]
    assert station.auth.send_local_list(3, "Full", entries) == "Accepted"
    station.plug_in(1)
    station.present_id_tag(1, "TAG1")
    clock.pump([60, 60])
    register = station.connectors[1].register_wh
    station.shutdown()
    await store.stop()

    store = await open_store()
    saved = (await store.load_all())[config.identity]
    assert [e.action for e in saved.outbox] == ["StartTransaction", "MeterValues", "MeterValues"]
    restarted = EmulatedStation(config, clock, store, saved)
    await store.load_all()  # the PowerLoss StopTransaction is stored by now
    assert restarted.auth.list_version == 3
    assert restarted.connectors[1].transaction is None
    assert restarted.connectors[1].register_wh == register
    central = FakeCentral(clock)
    restarted.connected(central)  # type: ignore[arg-type]
    clock.advance(0)
    assert central.actions()[:5] == [
        "BootNotification",
        "StartTransaction",
        "MeterValues",
        "MeterValues",
        "StopTransaction",
    ]
    stop = central.sent("StopTransaction")[0]
    assert stop["reason"] == "PowerLoss" and stop["meterStop"] == round(register)
    assert stop["transactionId"] == 101
    assert central.actions()[5:] == ["StatusNotification"] * 2
    restarted.shutdown()
    await store.stop()
    assert (await (await open_store()).load_all())[config.identity].outbox == []
