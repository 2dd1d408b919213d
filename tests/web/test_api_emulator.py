"""
The emulator's REST routes (C{/api/v1/Emulator/...}) through real HTTP, on a
central system that runs the four example stations (a copy of C{conf/cp})
over real WebSockets to itself: the station list, one station, a driver
plugging in and presenting an idTag (the transaction reaches the central
system), unplugging, faults seen at the central system, and the 400, 404
and 409 answers. Every answer is checked against C{openapi.yaml}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted

from tests.emulator.test_end_to_end import (
    STATIONS,
    conforms,
    copy_stations,
    cs_status,
    start_emulated_central,
    until,
)
from tests.web.conftest import Reply, WebCentral, stop_web_central

TAG = "EMU-TAG"
OTHER_TAG = "EMU-OTHER"
ACTIONS = ("PlugIn", "Unplug", "PresentIdTag", "Fault", "ClearFault")
#: A valid body for each local action (on connector 1).
BODIES: dict[str, dict[str, Any]] = {
    "PlugIn": {"connectorId": 1},
    "Unplug": {"connectorId": 1},
    "PresentIdTag": {"connectorId": 1, "idTag": TAG},
    "Fault": {"connectorId": 1, "errorCode": "GroundFailure"},
    "ClearFault": {"connectorId": 1},
}


# --- fixtures and local helpers ------------------------------------------------------------


@pytest_twisted.async_yield_fixture(scope="module")
async def emu(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """
    A central system (C{list} authorization: only TAG and OTHER_TAG are
    accepted) running the four example stations. Tests use their own
    station or connector, and leave it as they found it.
    """
    stations = copy_stations(tmp_path_factory.mktemp("cp"))
    web = await start_emulated_central(
        tmp_path_factory.mktemp("emu"), stations, authorization="list"
    )
    for tag in (TAG, OTHER_TAG):
        assert (await web.api.put(f"/IdTag/{tag}", {"status": "Accepted"})).status == 200
    yield web
    await stop_web_central(web)


def station_path(identity: str, action: str | None = None) -> str:
    """The API path of an emulated station (or of one of its local actions)."""
    return f"/Emulator/Station/{identity}" + (f"/{action}" if action else "")


async def act(web: WebCentral, identity: str, action: str, body: Any) -> Reply:
    """POST a local action; the reply, checked against the document."""
    reply = await web.api.post(station_path(identity, action), body)
    conforms(reply, "/Emulator/Station/{identity}/" + action)
    return reply


async def transactions(web: WebCentral, identity: str) -> list[dict[str, Any]]:
    """The central system's transactions of C{identity}, newest first."""
    reply = await web.api.get("/CentralSystem/TransactionList", identity=identity)
    assert reply.status == 200, reply.body
    return reply.json["TransactionList"]


# --- reading --------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_station_list(emu: WebCentral) -> None:
    """Every emulated station, online, with its connectors; paged like ChargePointList."""
    reply = await emu.api.get("/Emulator/StationList")
    stations = conforms(reply, "/Emulator/StationList", "get")
    assert [s["identity"] for s in stations] == list(STATIONS)
    assert [len(s["connectors"]) for s in stations] == [1, 2, 3, 4]
    assert all(s["connected"] and s["bootStatus"] == "Accepted" for s in stations)
    assert reply.header("X-Total-Count") == "4"
    assert reply.header("X-Next-Offset") is None

    page = await emu.api.get("/Emulator/StationList", limit="2", offset="1")
    assert [s["identity"] for s in conforms(page, "/Emulator/StationList", "get")] == list(
        STATIONS[1:3]
    )
    assert (page.header("X-Total-Count"), page.header("X-Next-Offset")) == ("4", "3")

    for bad in ({"limit": "0"}, {"offset": "-1"}, {"color": "red"}):
        refused = await emu.api.get("/Emulator/StationList", **bad)
        conforms(refused, "/Emulator/StationList", "get")
        refused.error(400)


@pytest_twisted.ensureDeferred
async def test_one_station(emu: WebCentral) -> None:
    """One station: its URL at this central system, status, connectors as configured."""
    reply = await emu.api.get(station_path("EM-A0000003"))
    station = conforms(reply, "/Emulator/Station/{identity}", "get")
    assert station["identity"] == "EM-A0000003"
    assert station["url"] == f"ws://127.0.0.1:{emu.port}/ocpp/EM-A0000003"
    assert station["connected"] is True and station["bootStatus"] == "Accepted"
    assert station["status"] == "Available"
    assert (station["firmwareStatus"], station["diagnosticsStatus"]) == ("Idle", "Idle")
    assert station["queued"] == 0
    connectors = station["connectors"]
    assert [(c["connectorId"], c["type"], c["interface"]) for c in connectors] == [
        (1, "DC", "CCS2"),
        (2, "DC", "GBT"),
        (3, "AC", "Type2"),
    ]
    assert [c["maxPowerW"] for c in connectors] == [150000, 60000, 22000]
    for c in connectors:
        assert c["status"] == "Available" and c["errorCode"] == "NoError"
        assert c["plugged"] is False and c["transaction"] is None and c["reservation"] is None
    bad = await emu.api.get(station_path("EM-A0000003"), extra="1")
    conforms(bad, "/Emulator/Station/{identity}", "get")
    bad.error(400)


# --- a driver at the station ---------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_plug_in_then_id_tag_starts_a_transaction(emu: WebCentral) -> None:
    """
    Plug in (Preparing), present an accepted idTag: a transaction starts and
    the central system lists it, open; another tag can't stop it (409);
    unplugging stops it (EVDisconnected) and the central system closes it.
    """
    identity = "EM-A0000004"
    plugged = (await act(emu, identity, "PlugIn", {"connectorId": 1})).json
    assert plugged["status"] == "Preparing" and plugged["plugged"] is True
    assert plugged["soc"] is not None
    await cs_status(emu, identity, 1, "Preparing")

    presented = (await act(emu, identity, "PresentIdTag", {"connectorId": 1, "idTag": TAG})).json
    assert presented["status"] == "Accepted"
    assert presented["connector"]["status"] == "Charging"
    assert presented["connector"]["transaction"]["idTag"] == TAG

    async def started() -> Any:
        view = (await emu.api.get(station_path(identity))).json["connectors"][0]
        return view["transaction"] and view["transaction"]["transactionId"]

    transaction_id = await until(started, "the central system's transactionId")
    [listed] = [t for t in await transactions(emu, identity) if t["id"] == transaction_id]
    assert (listed["connectorId"], listed["idTag"], listed["meterStop"]) == (1, TAG, None)
    await cs_status(emu, identity, 1, "Charging")

    other = await act(emu, identity, "PresentIdTag", {"connectorId": 1, "idTag": OTHER_TAG})
    assert "another idTag" in other.error(409)

    unplugged = (await act(emu, identity, "Unplug", {"connectorId": 1})).json
    assert unplugged["status"] == "Available" and unplugged["plugged"] is False
    assert unplugged["transaction"] is None

    async def closed() -> Any:
        found = [t for t in await transactions(emu, identity) if t["id"] == transaction_id]
        return found and found[0]["meterStop"] is not None and found[0]

    stopped = await until(closed, "the transaction closed at the central system")
    assert stopped["reason"] == "EVDisconnected"
    assert stopped["meterStop"] >= stopped["meterStart"]
    await cs_status(emu, identity, 1, "Available")


@pytest_twisted.ensureDeferred
async def test_id_tag_then_plug_in_and_the_same_tag_stops(emu: WebCentral) -> None:
    """
    An idTag first holds the connector (Preparing, no vehicle); plugging in
    starts the transaction; the same tag again stops it (Local), the
    connector Finishing until the vehicle leaves.
    """
    identity = "EM-A0000004"
    waiting = await act(emu, identity, "PresentIdTag", {"connectorId": 2, "idTag": TAG})
    assert waiting.json["status"] == "Accepted"
    assert waiting.json["connector"]["status"] == "Preparing"
    assert waiting.json["connector"]["plugged"] is False
    assert waiting.json["connector"]["transaction"] is None

    plugged = (await act(emu, identity, "PlugIn", {"connectorId": 2})).json
    assert plugged["status"] == "Charging" and plugged["transaction"]["idTag"] == TAG
    await cs_status(emu, identity, 2, "Charging")

    again = (await act(emu, identity, "PresentIdTag", {"connectorId": 2, "idTag": TAG})).json
    assert again["status"] == "Accepted"
    assert again["connector"]["status"] == "Finishing"
    assert again["connector"]["transaction"] is None

    async def closed() -> Any:
        found = [t for t in await transactions(emu, identity) if t["connectorId"] == 2]
        return found and found[0]["meterStop"] is not None and found[0]

    stopped = await until(closed, "the transaction closed at the central system")
    assert (stopped["reason"], stopped["stopIdTag"]) == ("Local", TAG)
    await cs_status(emu, identity, 2, "Finishing")
    assert (await act(emu, identity, "Unplug", {"connectorId": 2})).json["status"] == "Available"
    await cs_status(emu, identity, 2, "Available")


@pytest_twisted.ensureDeferred
async def test_unknown_id_tag_is_refused(emu: WebCentral) -> None:
    """A tag the central system does not accept: its status, and no transaction."""
    identity = "EM-A0000004"
    before = len(await transactions(emu, identity))
    reply = await act(emu, identity, "PresentIdTag", {"connectorId": 3, "idTag": "NOBODY"})
    assert reply.json["status"] == "Invalid"
    assert reply.json["connector"]["status"] == "Available"
    assert reply.json["connector"]["transaction"] is None
    assert len(await transactions(emu, identity)) == before


@pytest_twisted.ensureDeferred
async def test_fault_and_clear_fault(emu: WebCentral) -> None:
    """
    A fault is Faulted with its errorCode and info at the central system;
    a Faulted connector takes no vehicle and no idTag (409); clearing it
    makes it Available again with NoError, and clearing twice is 409.
    """
    identity = "EM-A0000002"
    body = {"connectorId": 2, "errorCode": "GroundFailure", "info": "water in the socket"}
    faulted = (await act(emu, identity, "Fault", body)).json
    assert (faulted["status"], faulted["errorCode"]) == ("Faulted", "GroundFailure")
    seen = await cs_status(emu, identity, 2, "Faulted")
    assert (seen["errorCode"], seen["info"]) == ("GroundFailure", "water in the socket")

    assert "Faulted" in (await act(emu, identity, "PlugIn", {"connectorId": 2})).error(409)
    presented = await act(emu, identity, "PresentIdTag", {"connectorId": 2, "idTag": TAG})
    assert "Faulted" in presented.error(409)

    cleared = (await act(emu, identity, "ClearFault", {"connectorId": 2})).json
    assert (cleared["status"], cleared["errorCode"]) == ("Available", "NoError")
    seen = await cs_status(emu, identity, 2, "Available")
    assert seen["errorCode"] == "NoError"
    assert "no fault" in (await act(emu, identity, "ClearFault", {"connectorId": 2})).error(409)


@pytest_twisted.ensureDeferred
async def test_fault_stops_the_transaction(emu: WebCentral) -> None:
    """A fault during a transaction stops it with reason Other."""
    identity = "EM-A0000003"
    await act(emu, identity, "PlugIn", {"connectorId": 3})
    await act(emu, identity, "PresentIdTag", {"connectorId": 3, "idTag": TAG})
    faulted = await act(emu, identity, "Fault", {"connectorId": 3, "errorCode": "OverVoltage"})
    assert faulted.json["status"] == "Faulted" and faulted.json["transaction"] is None

    async def closed() -> Any:
        found = [t for t in await transactions(emu, identity) if t["connectorId"] == 3]
        return found and found[0]["meterStop"] is not None and found[0]

    assert (await until(closed, "the transaction closed"))["reason"] == "Other"
    await cs_status(emu, identity, 3, "Faulted")
    await act(emu, identity, "ClearFault", {"connectorId": 3})
    assert (await act(emu, identity, "Unplug", {"connectorId": 3})).json["status"] == "Available"


@pytest_twisted.ensureDeferred
async def test_conflicts(emu: WebCentral) -> None:
    """Plugging in twice, unplugging an empty connector: 409, nothing changes."""
    identity = "EM-A0000001"
    assert "no vehicle" in (await act(emu, identity, "Unplug", {"connectorId": 1})).error(409)
    await act(emu, identity, "PlugIn", {"connectorId": 1})
    again = await act(emu, identity, "PlugIn", {"connectorId": 1})
    assert "already" in again.error(409)
    assert (await act(emu, identity, "Unplug", {"connectorId": 1})).json["status"] == "Available"


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@pytest_twisted.ensureDeferred
async def test_unknown_station_or_connector(emu: WebCentral, action: str) -> None:
    """A station the emulator does not run, a connector the station lacks: 404."""
    unknown = await act(emu, "EM-NOBODY", action, BODIES[action])
    assert "EM-NOBODY" in unknown.error(404)
    no_connector = await act(emu, "EM-A0000001", action, {**BODIES[action], "connectorId": 2})
    assert "no connector 2" in no_connector.error(404)
    reply = await emu.api.get(station_path("EM-NOBODY"))
    conforms(reply, "/Emulator/Station/{identity}", "get")
    reply.error(404)


#: (action, body) pairs that are 400.
BAD_BODIES: list[tuple[str, Any]] = [
    *[(a, body) for a in ACTIONS for body in (None, [1], {}, {"connectorId": "1"})],
    *[
        ("PlugIn", body)
        for body in (
            {"connectorId": True},
            {"connectorId": 1.5},
            {"connectorId": 0},
            {"connectorId": -1},
            {"connectorId": 1, "idTag": TAG},
        )
    ],
    ("Unplug", {"connectorId": None}),
    ("PresentIdTag", {"connectorId": 1}),
    ("PresentIdTag", {"connectorId": 1, "idTag": ""}),
    ("PresentIdTag", {"connectorId": 1, "idTag": "X" * 21}),
    ("PresentIdTag", {"connectorId": 1, "idTag": 7}),
    ("Fault", {"connectorId": 1}),
    ("Fault", {"connectorId": 1, "errorCode": "NoError"}),
    ("Fault", {"connectorId": 1, "errorCode": "Melted"}),
    ("Fault", {"connectorId": 1, "errorCode": "OtherError", "info": "x" * 51}),
    ("Fault", {"connectorId": 1, "errorCode": "OtherError", "info": 3}),
    ("ClearFault", {"connectorId": 1, "errorCode": "OtherError"}),
]


@pytest.mark.parametrize(("action", "body"), BAD_BODIES)
@pytest_twisted.ensureDeferred
async def test_bad_bodies(emu: WebCentral, action: str, body: Any) -> None:
    """A body that is not the action's (missing, wrong type, out of range): 400, no effect."""
    before = (await emu.api.get(station_path("EM-A0000001"))).json
    reply = await act(emu, "EM-A0000001", action, body)
    reply.error(400)
    assert (await emu.api.get(station_path("EM-A0000001"))).json == before


@pytest_twisted.ensureDeferred
async def test_bad_requests(emu: WebCentral) -> None:
    """Not JSON, a query parameter, a body larger than [api] max_body: 400, 400, 413."""
    path = station_path("EM-A0000001", "PlugIn")
    assert "JSON" in (await emu.api.post(path, data=b"{nope")).error(400)
    reply = await emu.api.request("POST", path, json={"connectorId": 1}, params={"now": "1"})
    assert "now" in reply.error(400)
    big = b'{"connectorId": 1, "x": "' + b"x" * 1_048_576 + b'"}'
    too_large = await emu.api.post(path, data=big)
    conforms(too_large, "/Emulator/Station/{identity}/PlugIn")
    too_large.error(413)
    view = (await emu.api.get(station_path("EM-A0000001"))).json["connectors"][0]
    assert view["plugged"] is False


@pytest_twisted.ensureDeferred
async def test_emulator_not_enabled(web: WebCentral) -> None:
    """Without [emulator] enable: an empty station list, and 404 for any station."""
    reply = await web.api.get("/Emulator/StationList")
    assert conforms(reply, "/Emulator/StationList", "get") == []
    assert reply.header("X-Total-Count") == "0"
    reply = await web.api.get(station_path("EM-A0000001"))
    conforms(reply, "/Emulator/Station/{identity}", "get")
    assert "not enabled" in reply.error(404)
    for action in ACTIONS:
        reply = await web.api.post(station_path("EM-A0000001", action), BODIES[action])
        conforms(reply, "/Emulator/Station/{identity}/" + action)
        assert "not enabled" in reply.error(404)
