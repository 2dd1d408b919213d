"""
A RemoteStartTransaction at a connector without a vehicle, end to end (our
central system and the emulator over real WebSockets, through the REST API):
the station is Preparing until the driver plugs in; without a vehicle within
C{ConnectionTimeOut} it is Available again and no transaction exists; with
C{plugInOnRemoteStart} (the example stations') the vehicle comes by itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_twisted

from tests.emulator.test_end_to_end import (
    TAG,
    command,
    copy_stations,
    cs_status,
    start_emulated_central,
    station,
    until,
)
from tests.web.conftest import WebCentral, stop_web_central

#: CP1's copy: no demo driver.
WAITING = "EM-A0000001"
#: CP2's copy: the example stations' demo driver.
DEMO = "EM-A0000002"
#: ConnectionTimeOut of CP1's copy, seconds.
TIMEOUT = 2


DEMO_TAG = "DEMO-DRIVER"


@pytest_twisted.async_yield_fixture(scope="module")
async def cs(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """The example stations; CP1 without plugInOnRemoteStart, with ConnectionTimeOut 2 s."""
    stations = copy_stations(tmp_path_factory.mktemp("cp"))
    cp1 = stations / "CP1" / "configuration.json"
    data = json.loads(cp1.read_text("utf-8"))
    del data["plugInOnRemoteStart"]
    [key] = [k for k in data["configurationKey"] if k["key"] == "ConnectionTimeOut"]
    key["value"] = str(TIMEOUT)
    cp1.write_text(json.dumps(data), "utf-8")
    web = await start_emulated_central(tmp_path_factory.mktemp("cs"), stations)
    yield web
    await stop_web_central(web)


async def _transactions(web: WebCentral, identity: str) -> list[dict[str, object]]:
    reply = await web.api.get("/TransactionList", identity=identity)
    assert reply.status == 200, reply.body
    return list(reply.json["TransactionList"])


@pytest_twisted.ensureDeferred
async def test_no_vehicle_no_transaction(cs: WebCentral) -> None:
    """
    Remote start without a vehicle: Preparing at the central system, no
    StartTransaction; after ConnectionTimeOut Available again, still none.
    """
    payload = {"idTag": TAG, "connectorId": 1}
    assert await command(cs, WAITING, "RemoteStartTransaction", payload) == {"status": "Accepted"}
    await cs_status(cs, WAITING, 1, "Preparing")
    assert station(cs, WAITING).connectors[1].transaction is None
    await cs_status(cs, WAITING, 1, "Available")
    assert await _transactions(cs, WAITING) == []


@pytest_twisted.ensureDeferred
async def test_plugging_in_within_the_timeout_starts(cs: WebCentral) -> None:
    """The driver plugs in (emulator REST route) a moment later: the transaction starts."""
    await cs_status(cs, WAITING, 1, "Available")
    payload = {"idTag": TAG, "connectorId": 1}
    assert await command(cs, WAITING, "RemoteStartTransaction", payload) == {"status": "Accepted"}
    await cs_status(cs, WAITING, 1, "Preparing")
    reply = await cs.api.post(f"/Emulator/Station/{WAITING}/PlugIn", {"connectorId": 1})
    assert reply.status == 200, reply.body
    await cs_status(cs, WAITING, 1, "Charging")
    [started] = await until(lambda: _transactions(cs, WAITING), "the transaction at the CS")
    assert (started["idTag"], started["connectorId"], started["meterStop"]) == (TAG, 1, None)


@pytest_twisted.ensureDeferred
async def test_demo_driver_plugs_in(cs: WebCentral) -> None:
    """
    An example station's demo driver plugs in by itself: the remote start
    charges (with a tag of its own: TAG is still charging at WAITING, and
    concurrent_tx = refuse would answer ConcurrentTx).
    """
    payload = {"idTag": DEMO_TAG, "connectorId": 2}
    assert await command(cs, DEMO, "RemoteStartTransaction", payload) == {"status": "Accepted"}
    await cs_status(cs, DEMO, 2, "Preparing")
    await until(lambda: station(cs, DEMO).connectors[2].plugged, "the demo vehicle", timeout=10)
    await cs_status(cs, DEMO, 2, "Charging")
    [started] = await until(lambda: _transactions(cs, DEMO), "the transaction at the CS")
    assert (started["idTag"], started["connectorId"]) == (DEMO_TAG, 2)
