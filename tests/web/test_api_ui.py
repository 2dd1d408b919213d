"""
What the web UI needs from the REST API and the site, through the running
service with the example emulated stations: C{GET /api/v1/Summary} (counts,
energy, stations), C{GET /api/v1/Schema/{Operation}} (the official schemas)
and the UI's files at C{/} and C{/ui/}.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pytest
import pytest_twisted

from ocppcs.backends.views import MeterValueView
from ocppcs.v16.actions import CENTRAL_ACTIONS
from ocppcs.web.api_summary import last_energy, spread
from tests.emulator.test_end_to_end import STATIONS, start, until
from tests.integration.conftest import aio
from tests.web.conftest import Api, WebCentral, start_web_central, stop_web_central

CP = "EM-A0000004"


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    central = await start(tmp_path_factory)
    yield central
    await stop_web_central(central)


@pytest_twisted.ensureDeferred
async def test_schemas_are_the_official_ones(web: WebCentral) -> None:
    for operation in sorted(CENTRAL_ACTIONS):
        reply = await web.api.get(f"/Schema/{operation}")
        assert reply.status == 200, (operation, reply.body)
        assert reply.header("Content-Type") == "application/json"
        official = files("ocpp.v16.schemas").joinpath(f"{operation}.json").read_text("utf-8")
        assert reply.json == json.loads(official)
    for unknown in ("BootNotification", "RemoteStartTransactionResponse", "Nope"):
        assert "No command" in (await web.api.get(f"/Schema/{unknown}")).error(404)
    (await web.api.get("/Schema/Reset", x="1")).error(400)


@pytest_twisted.ensureDeferred
async def test_summary_counts_and_energy(web: WebCentral) -> None:
    idle = (await web.api.get("/Summary")).json
    assert idle["stations"] == {"total": 4, "online": 4, "offline": 0}
    assert sorted(s["identity"] for s in idle["Stations"]) == sorted(STATIONS)
    assert all(s["online"] and s["connectors"] for s in idle["Stations"])
    total_connectors = sum(
        1 for s in idle["Stations"] for c in s["connectors"] if c["connectorId"] > 0
    )
    assert sum(idle["connectors"].values()) == total_connectors
    assert idle["chargingNow"] == 0
    assert len(idle["energyByHour"]) == 12
    (await web.api.get("/Summary", hours="0")).error(400)
    (await web.api.get("/Summary", stations="no")).error(400)
    light = (await web.api.get("/Summary", stations="false")).json
    assert "Stations" not in light and "connectors" not in light
    assert light["stations"] == idle["stations"]
    assert {k: light[k] for k in ("chargingNow", "energyByHour")} == {
        k: idle[k] for k in ("chargingNow", "energyByHour")
    }
    assert len((await web.api.get("/Summary", hours="3")).json["energyByHour"]) == 3

    emulator = web.service.emulator
    assert emulator is not None
    station = emulator.station(CP)
    assert station is not None
    await web.api.post(f"/Emulator/Station/{CP}/PlugIn", {"connectorId": 2})
    reply = await web.api.post(
        f"/ChargePoint/{CP}/RemoteStartTransaction", {"connectorId": 2, "idTag": "SUMMARY"}
    )
    assert reply.json == {"status": "Accepted"}

    async def charging() -> object:
        summary = (await web.api.get("/Summary")).json
        return summary["chargingNow"] == 1 and summary["energyToday"] > 0 and summary

    summary = await until(charging, "energy delivered by the running transaction", 10)
    assert summary["connectors"].get("Charging") == 1
    mine = next(s for s in summary["Stations"] if s["identity"] == CP)
    assert [t["idTag"] for t in mine["openTransactions"]] == ["SUMMARY"]
    this_hour = summary["energyByHour"][-1]
    assert datetime.fromisoformat(this_hour["hour"]) <= datetime.now(UTC)
    assert this_hour["energy"] > 0
    tx = mine["openTransactions"][0]["id"]
    stopped = await web.api.post(f"/ChargePoint/{CP}/RemoteStopTransaction", {"transactionId": tx})
    assert stopped.json == {"status": "Accepted"}

    async def finished() -> object:
        summary = (await web.api.get("/Summary")).json
        return summary["chargingNow"] == 0 and summary

    done = await until(finished, "the transaction stopped")
    final = (await web.api.get(f"/Transaction/{tx}")).json
    assert done["energyToday"] == pytest.approx(final["value"], abs=1) or (
        datetime.fromisoformat(final["dateStart"]).date() != datetime.now(UTC).date()
    )


@pytest_twisted.ensureDeferred
async def test_summary_counts_a_transaction_started_days_ago(tmp_path: Path) -> None:
    """
    C{chargingNow} counts every running transaction, also one started before
    the energy window (a long session), as the station's C{openTransactions} do.
    """
    central = await start_web_central(tmp_path)
    station = await central.station("OLD-TX-1", boot=True)
    try:
        begun = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        start_tx = {"connectorId": 1, "idTag": "OLD-TAG", "meterStart": 100, "timestamp": begun}
        started = await aio(station.result("StartTransaction", start_tx))
        assert started["idTagInfo"]["status"] == "Accepted"
        summary = (await central.api.get("/Summary")).json
        light = (await central.api.get("/Summary", stations="false")).json
    finally:
        await aio(station.close())
        await stop_web_central(central)
    assert [len(s["openTransactions"]) for s in summary["Stations"]] == [1]
    assert summary["chargingNow"] == light["chargingNow"] == 1


def test_spread_and_last_energy() -> None:
    bins = [0.0, 0.0, 0.0]
    spread(bins, 0, 10, 5, 25, 200)
    assert bins == [50.0, 100.0, 50.0]
    spread(bins, 0, 10, 40, 50, 100)  # outside
    spread(bins, 0, 10, 0, 10, -5)  # nothing delivered
    assert bins == [50.0, 100.0, 50.0]
    sample = {"identity": "S", "connector_id": 1, "transaction_id": 1, "timestamp": "t"}
    values = [
        MeterValueView(value="10", source="MeterValues", **sample),
        MeterValueView(
            value="2",
            unit="kWh",
            measurand="Energy.Active.Import.Register",
            source="MeterValues",
            **sample,
        ),
        MeterValueView(value="9", phase="L1", source="MeterValues", **sample),
        MeterValueView(value="x", source="MeterValues", **sample),
        MeterValueView(
            value="7000", measurand="Power.Active.Import", source="MeterValues", **sample
        ),
    ]
    assert last_energy(values) == 2000.0
    assert last_energy([]) is None


@pytest_twisted.ensureDeferred
async def test_ui_files_are_served(web: WebCentral) -> None:
    from twisted.internet import reactor

    site = Api(reactor, f"http://127.0.0.1:{web.port}")
    try:
        page = await site.get("/")
        assert page.status == 200
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        assert b'<script type="module" src="/ui/js/main.js">' in page.body
        for path, kind in (
            ("/ui/js/main.js", "text/javascript; charset=utf-8"),
            ("/ui/js/pages/station.js", "text/javascript; charset=utf-8"),
            ("/ui/app.css", "text/css; charset=utf-8"),
            ("/ui/favicon.svg", "image/svg+xml"),
        ):
            reply = await site.get(path)
            assert reply.status == 200, path
            assert reply.header("Content-Type") == kind
            assert reply.header("X-Content-Type-Options") == "nosniff"
        for missing in ("/ui/", "/ui/js/", "/ui/nope.js", "/nope"):
            assert (await site.get(missing)).status == 404, missing
    finally:
        await site.close()
