"""
Emulated OCPP-S stations, 1.6 and 1.5, against our real central system
service at /Ocpp, in one reactor over real HTTP: they boot, show as SOAP
stations, authorize a driver's tag, charge with meter values the central
system stores, and are commanded through the REST API (remote start and
stop, configuration, the 1.6-only commands refused for 1.5).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from tests.emulator.test_end_to_end import (
    closed,
    command,
    cs_station,
    cs_status,
    remote_start,
    start_emulated_central,
    station,
    transaction,
    until,
)
from tests.soap.test_emulator_soap import station_folder
from tests.web.conftest import WebCentral, stop_web_central

STATIONS = {"EM-S16": "1.6", "EM-S15": "1.5"}


@pytest_twisted.async_yield_fixture(scope="module")
async def soap_e2e(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """The central system running one emulated OCPP-S 1.6 and one 1.5 station."""
    folder = tmp_path_factory.mktemp("cp")
    for identity, version in STATIONS.items():
        station_folder(folder, identity, f"ocpp{version}s")
    web = await start_emulated_central(tmp_path_factory.mktemp("cs"), Path(folder))
    yield web
    await stop_web_central(web)


@pytest.mark.parametrize("identity", sorted(STATIONS))
@pytest_twisted.ensureDeferred
async def test_online_as_soap(soap_e2e: WebCentral, identity: str) -> None:
    """Booted and Available at the central system, shown as SOAP of its version."""
    await cs_status(soap_e2e, identity, 1, "Available")
    view = await cs_station(soap_e2e, identity)
    assert view["protocol"] == "SOAP"
    assert view["ocppVersion"] == STATIONS[identity]
    own = (await soap_e2e.api.get(f"/Emulator/Station/{identity}")).json
    assert own["protocol"] == f"ocpp{STATIONS[identity]}s"
    assert own["url"] == f"http://127.0.0.1:{soap_e2e.port}/Ocpp" and own["connected"]


@pytest.mark.parametrize("identity", sorted(STATIONS))
@pytest_twisted.ensureDeferred
async def test_authorize_and_charge(soap_e2e: WebCentral, identity: str) -> None:
    """A driver's tag is authorized over SOAP, the transaction charges, meter values are stored."""
    web = soap_e2e
    emulated = station(web, identity)
    assert (
        await web.api.post(f"/Emulator/Station/{identity}/PlugIn", {"connectorId": 1})
    ).status == 200
    reply = await web.api.post(
        f"/Emulator/Station/{identity}/PresentIdTag", {"connectorId": 1, "idTag": "SOAP-TAG"}
    )
    assert reply.status == 200, reply.body

    def started() -> int | None:
        tx = emulated.connectors[1].transaction
        return tx.transaction_id if tx is not None else None

    transaction_id = await until(started, f"a transaction on {identity}")
    await cs_status(web, identity, 1, "Charging")

    async def sampled() -> list[dict[str, Any]]:
        found = await transaction(web, transaction_id)
        return [m for m in found["meterValues"] if m["source"] == "MeterValues"]

    samples = await until(sampled, "MeterValues stored at the central system", timeout=8)
    # Current and voltage come in 1.6 units whatever the version (1.5 sends Amp and Volt).
    units = {m["measurand"]: m.get("unit") for m in samples}
    assert units["Current.Import"] == "A" and units["Voltage"] == "V", samples
    assert units["Energy.Active.Import.Register"] == "Wh"
    stop = await command(web, identity, "RemoteStopTransaction", {"transactionId": transaction_id})
    assert stop == {"status": "Accepted"}
    found = await closed(web, transaction_id)
    assert found["idTag"] == "SOAP-TAG"
    assert found["meterStop"] >= found["meterStart"]
    assert (
        await web.api.post(f"/Emulator/Station/{identity}/Unplug", {"connectorId": 1})
    ).status == 200
    await cs_status(web, identity, 1, "Available")


@pytest.mark.parametrize("identity", sorted(STATIONS))
@pytest_twisted.ensureDeferred
async def test_commands(soap_e2e: WebCentral, identity: str) -> None:
    """Configuration, availability and a remote start through the REST API, over SOAP."""
    web = soap_e2e
    config = await command(web, identity, "GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert config["configurationKey"][0]["key"] == "HeartbeatInterval"
    changed = await command(
        web, identity, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "2"}
    )
    assert changed == {"status": "Accepted"}
    assert await command(web, identity, "UnlockConnector", {"connectorId": 1}) in (
        {"status": "Unlocked"},
        {"status": "UnlockFailed"},
    )
    transaction_id = await remote_start(web, identity, 1)
    stop = await command(web, identity, "RemoteStopTransaction", {"transactionId": transaction_id})
    assert stop == {"status": "Accepted"}
    await closed(web, transaction_id)
    assert (
        await web.api.post(f"/Emulator/Station/{identity}/Unplug", {"connectorId": 1})
    ).status == 200
    trigger = await web.api.post(
        f"/ChargePoint/{identity}/TriggerMessage", {"requestedMessage": "Heartbeat"}
    )
    if STATIONS[identity] == "1.5":
        assert "not an OCPP 1.5 operation" in trigger.error(400)
    else:
        assert trigger.status == 200 and trigger.json == {"status": "Accepted"}


@pytest_twisted.ensureDeferred
async def test_example_soap_stations(tmp_path: Path) -> None:
    """The example OCPP-S stations of conf/cp-soap come online at the central system."""
    example = Path(__file__).parents[2] / "conf" / "cp-soap"
    web = await start_emulated_central(tmp_path, example)
    try:
        listed = (await web.api.get("/ChargePointList")).json
        rows = {row["identity"]: row for row in listed if row["identity"].startswith("EM-S")}
        assert set(rows) == {"EM-S0000015", "EM-S0000016"}
        for identity, version in (("EM-S0000015", "1.5"), ("EM-S0000016", "1.6")):
            view = await cs_station(web, identity)
            assert (view["protocol"], view["ocppVersion"]) == ("SOAP", version)
    finally:
        await stop_web_central(web)
