"""
Our central system and the emulator in one reactor, over real WebSockets:
the four example stations (a copy of C{conf/cp} with C{MeterValueSampleInterval}
1 s) come online, a remote start through the REST API charges with meter
values until a remote stop, a reservation is seen by the central system,
and a charging profile lowers the power the station reports.

The offline queue is in C{test_end_to_end_offline.py}, the 19 commands in
C{test_end_to_end_commands.py}; the helpers below are shared with them and
with C{tests/web/test_api_emulator.py}.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from openapi_schema_validator import OAS30Validator
from twisted.internet.task import deferLater

from ocppcs.emulator.station import EmulatedStation
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.web import openapi
from tests.web.conftest import Reply, WebCentral, start_web_central, stop_web_central

CONF = Path(__file__).parents[2] / "conf" / "cp"
#: The example stations' identities, in folder order (CP1..CP4).
STATIONS = ("EM-A0000001", "EM-A0000002", "EM-A0000003", "EM-A0000004")
#: Seconds any awaited effect may take.
WAIT = 5.0
#: The id tag remote starts use (the central system's authorization is open).
TAG = "E2E-TAG"
SCHEMAS = SchemaSet()


# --- helpers shared with tests/web/test_api_emulator.py and test_end_to_end_* -----------


def copy_stations(folder: Path, **keys: str) -> Path:
    """
    Copy the example stations of C{conf/cp} into C{folder}, with the
    configuration keys C{keys} set (added when the file lacks them).

    @return: C{folder}, for C{[emulator] path}.
    """
    for source in sorted(CONF.iterdir()):
        data = json.loads((source / "configuration.json").read_text("utf-8"))
        entries = data["configurationKey"]
        for key, value in keys.items():
            found = [e for e in entries if e["key"] == key]
            if found:
                found[0]["value"] = value
            else:
                entries.append({"key": key, "readonly": False, "value": value})
        target = folder / source.name
        target.mkdir(parents=True)
        (target / "configuration.json").write_text(json.dumps(data, indent=2), "utf-8")
    return folder


async def until(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """
    Call C{check} (a function, or one returning an awaitable) every 0.05 s
    until it gives a true value, and return that value.

    @raise AssertionError: after C{timeout} seconds without one.
    """
    from twisted.internet import reactor

    deadline = reactor.seconds() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await deferLater(reactor, 0.05, lambda: None)


async def start_emulated_central(data: Path, stations: Path, **central: Any) -> WebCentral:
    """
    A central system storing in C{data} that runs the stations of C{stations}
    (connected to itself), once every station is online.
    """
    web = await start_web_central(
        data,
        emulator={"enable": True, "path": str(stations), "state": str(data / "emulator.db")},
        **central,
    )
    emulator = web.service.emulator
    assert emulator is not None
    await emulator.ready
    await until(
        lambda: emulator.stations and all(s.online for s in emulator.stations.values()),
        "every emulated station online",
    )
    return web


def conforms(reply: Reply, path: str, method: str = "post") -> Any:
    """
    Check that C{reply} is a response C{openapi.yaml} documents for the
    operation (its status, and its JSON body's schema); return the body.
    """
    doc = openapi.document()
    responses = doc["paths"][path][method]["responses"]
    assert str(reply.status) in responses, (path, method, reply.status, reply.body)
    response = responses[str(reply.status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    assert reply.header("Content-Type") == "application/json", reply.headers
    schema = response["content"]["application/json"]["schema"]
    body = reply.json
    validator = OAS30Validator({"components": doc["components"], **schema})
    errors = [e.message for e in validator.iter_errors(body)]
    assert not errors, (path, method, errors, body)
    return body


async def start(tmp: pytest.TempPathFactory) -> WebCentral:
    """A central system running the example stations, sampling every second."""
    stations = copy_stations(tmp.mktemp("cp"), MeterValueSampleInterval="1")
    return await start_emulated_central(tmp.mktemp("cs"), stations)


def station(web: WebCentral, identity: str) -> EmulatedStation:
    """The emulated station C{identity} of C{web}."""
    emulator = web.service.emulator
    assert emulator is not None
    found = emulator.station(identity)
    assert found is not None
    return found


async def command(
    web: WebCentral, identity: str, operation: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """
    Send a command through C{POST /ChargePoint/{identity}/{Operation}};
    the station's reply, checked against the official response schema and
    C{openapi.yaml}.
    """
    reply = await web.api.post(f"/ChargePoint/{identity}/{operation}", payload)
    assert reply.status == 200, reply.body
    body = conforms(reply, f"/ChargePoint/{{identity}}/{operation}")
    assert "error" not in body, body
    SCHEMAS.validate_response(operation, body)
    return body


async def cs_station(web: WebCentral, identity: str) -> dict[str, Any]:
    """The central system's C{GET /ChargePoint/{identity}}."""
    reply = await web.api.get(f"/ChargePoint/{identity}")
    assert reply.status == 200, reply.body
    return reply.json


async def cs_status(web: WebCentral, identity: str, connector_id: int, status: str) -> Any:
    """Wait until the central system has C{status} for the connector; its view."""

    async def check() -> dict[str, Any] | None:
        connectors = (await cs_station(web, identity))["connectors"]
        found = [c for c in connectors if c["connectorId"] == connector_id]
        return found[0] if found and found[0].get("status") == status else None

    return await until(check, f"{identity}/{connector_id} {status} at the central system")


async def transaction(web: WebCentral, transaction_id: int) -> dict[str, Any]:
    """The central system's C{GET /Transaction/{id}} (with its meter values)."""
    reply = await web.api.get(f"/Transaction/{transaction_id}")
    assert reply.status == 200, reply.body
    return conforms(reply, "/Transaction/{id}", "get")


async def remote_start(web: WebCentral, identity: str, connector_id: int) -> int:
    """
    Start a transaction with RemoteStartTransaction, the driver plugging in
    (emulator REST route) if no vehicle is; its id, once open at the CS.
    """
    payload = {"idTag": TAG, "connectorId": connector_id}
    assert (await command(web, identity, "RemoteStartTransaction", payload)) == {
        "status": "Accepted"
    }
    emulated = station(web, identity)
    if not emulated.connectors[connector_id].plugged:
        path = f"/Emulator/Station/{identity}/PlugIn"
        reply = await web.api.post(path, {"connectorId": connector_id})
        assert reply.status == 200, reply.body

    def started() -> int | None:
        tx = emulated.connectors[connector_id].transaction
        return tx.transaction_id if tx is not None else None

    transaction_id = await until(started, f"a transaction on {identity}/{connector_id}")
    return int(transaction_id)


async def closed(web: WebCentral, transaction_id: int) -> dict[str, Any]:
    """Wait until the central system has closed the transaction; it, with meter values."""

    async def check() -> dict[str, Any] | None:
        found = await transaction(web, transaction_id)
        return found if found["meterStop"] is not None else None

    return await until(check, f"transaction {transaction_id} closed")


def samples(found: dict[str, Any], measurand: str) -> list[float]:
    """The periodic values of C{measurand} the transaction's MeterValues carried."""
    return [
        float(m["value"])
        for m in found["meterValues"]
        if m["source"] == "MeterValues"
        and m.get("measurand") == measurand
        and m.get("context") == "Sample.Periodic"
    ]


async def unplug(web: WebCentral, identity: str, connector_id: int) -> None:
    """The driver leaves (emulator REST route); the central system sees Available."""
    path = f"/Emulator/Station/{identity}/Unplug"
    reply = await web.api.post(path, {"connectorId": connector_id})
    assert reply.status == 200, reply.body
    await cs_status(web, identity, connector_id, "Available")


def in_an_hour() -> str:
    """An OCPP date-time an hour from now."""
    return (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the tests ------------------------------------------------------------------------------


@pytest_twisted.async_yield_fixture(scope="module")
async def e2e(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """
    The central system with the example stations, open policies. Tests use
    different stations or connectors and leave them as they found them.
    """
    web = await start(tmp_path_factory)
    yield web
    await stop_web_central(web)


@pytest_twisted.ensureDeferred
async def test_stations_come_online(e2e: WebCentral) -> None:
    """
    All four example stations boot Accepted, are in ChargePointList with a
    connection, and have reported every connector Available.
    """
    reply = await e2e.api.get("/ChargePointList")
    listed = {e["identity"]: e for e in conforms(reply, "/ChargePointList", "get")}
    for identity, count in zip(STATIONS, (1, 2, 3, 4), strict=True):
        entry = listed[identity]
        assert entry["connection"]["ip"] == "127.0.0.1", entry
        assert entry["bootNotification"] == station(e2e, identity).boot_payload()
        assert identity in e2e.service.registry
        for connector_id in range(1, count + 1):
            await cs_status(e2e, identity, connector_id, "Available")
        detail = await cs_station(e2e, identity)
        assert detail["online"] is True and detail["bootStatus"] == "Accepted"
        assert station(e2e, identity).online


@pytest_twisted.ensureDeferred
async def test_remote_start_meter_values_remote_stop(e2e: WebCentral) -> None:
    """
    RemoteStartTransaction through REST starts a transaction the central
    system stores with periodic meter values (energy, power); a
    RemoteStopTransaction closes it with meterStop > meterStart.
    """
    identity = "EM-A0000001"
    transaction_id = await remote_start(e2e, identity, 1)
    await cs_status(e2e, identity, 1, "Charging")

    async def sampled() -> dict[str, Any] | None:
        found = await transaction(e2e, transaction_id)
        return found if len(samples(found, "Energy.Active.Import.Register")) >= 2 else None

    running = await until(sampled, "two periodic meter values")
    assert running["meterStop"] is None and running["idTag"] == TAG
    energy = samples(running, "Energy.Active.Import.Register")
    assert energy == sorted(energy) and energy[-1] > energy[0]
    assert all(p > 0 for p in samples(running, "Power.Active.Import"))

    stop = {"transactionId": transaction_id}
    assert (await command(e2e, identity, "RemoteStopTransaction", stop)) == {"status": "Accepted"}
    done = await closed(e2e, transaction_id)
    assert done["reason"] == "Remote"
    assert done["meterStop"] > done["meterStart"]
    assert done["meterStop"] >= energy[-1]
    ends = [m for m in done["meterValues"] if m["source"] == "StopTransaction"]
    assert {m.get("context") for m in ends} >= {"Transaction.Begin", "Transaction.End"}
    await cs_status(e2e, identity, 1, "Finishing")
    await unplug(e2e, identity, 1)


@pytest_twisted.ensureDeferred
async def test_reserve_and_cancel(e2e: WebCentral) -> None:
    """
    An accepted ReserveNow makes the connector Reserved at the central
    system (and in its ReservationList); CancelReservation makes it
    Available again and the reservation Cancelled.
    """
    identity = "EM-A0000002"
    reserve = {
        "connectorId": 2,
        "expiryDate": in_an_hour(),
        "idTag": "RES-TAG",
        "reservationId": 501,
    }
    assert (await command(e2e, identity, "ReserveNow", reserve)) == {"status": "Accepted"}
    await cs_status(e2e, identity, 2, "Reserved")
    assert station(e2e, identity).connectors[2].reservation is not None
    listed = (await e2e.api.get("/CentralSystem/ReservationList", identity=identity)).json
    [reservation] = [r for r in listed["ReservationList"] if r["id"] == 501]
    assert (reservation["status"], reservation["connectorId"]) == ("Reserved", 2)

    other = {"idTag": TAG, "connectorId": 2}
    assert (await command(e2e, identity, "RemoteStartTransaction", other)) == {"status": "Rejected"}
    assert (await command(e2e, identity, "CancelReservation", {"reservationId": 501})) == {
        "status": "Accepted"
    }
    await cs_status(e2e, identity, 2, "Available")
    listed = (await e2e.api.get("/CentralSystem/ReservationList", identity=identity)).json
    [reservation] = [r for r in listed["ReservationList"] if r["id"] == 501]
    assert reservation["status"] == "Cancelled"


@pytest_twisted.ensureDeferred
async def test_reservation_expires(e2e: WebCentral) -> None:
    """
    A reservation left to expire: the station frees the connector (Available
    at the central system), and the ReservationList says Expired.
    """
    identity = "EM-A0000002"
    soon = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    reserve = {"connectorId": 1, "expiryDate": soon, "idTag": "RES-TAG", "reservationId": 502}
    assert (await command(e2e, identity, "ReserveNow", reserve)) == {"status": "Accepted"}
    await cs_status(e2e, identity, 1, "Reserved")
    await cs_status(e2e, identity, 1, "Available")
    listed = (await e2e.api.get("/CentralSystem/ReservationList", identity=identity)).json
    [reservation] = [r for r in listed["ReservationList"] if r["id"] == 502]
    assert reservation["status"] == "Expired"


@pytest_twisted.ensureDeferred
async def test_charging_profile_lowers_the_power(e2e: WebCentral) -> None:
    """
    A TxProfile of 4 kW set during a 22 kW AC transaction: the power in the
    meter values the central system stores drops to at most 4 kW.
    """
    identity = "EM-A0000003"
    transaction_id = await remote_start(e2e, identity, 3)

    async def sampled(count: int) -> dict[str, Any] | None:
        found = await transaction(e2e, transaction_id)
        return found if len(samples(found, "Power.Active.Import")) >= count else None

    before = samples(await until(lambda: sampled(1), "a power sample"), "Power.Active.Import")
    assert before[-1] > 20000
    profile = {
        "chargingProfileId": 77,
        "transactionId": transaction_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4000.0}],
        },
    }
    payload = {"connectorId": 3, "csChargingProfiles": profile}
    assert (await command(e2e, identity, "SetChargingProfile", payload)) == {"status": "Accepted"}
    assert station(e2e, identity).connectors[3].limit_w == 4000.0
    # One sample taken at the old limit may still be on its way: look past it.
    count = len(samples(await transaction(e2e, transaction_id), "Power.Active.Import"))
    after = samples(
        await until(lambda: sampled(count + 3), "three more samples"), "Power.Active.Import"
    )
    assert after[-1] <= 4000.0 and after[-2] <= 4000.0

    stop = {"transactionId": transaction_id}
    assert (await command(e2e, identity, "RemoteStopTransaction", stop)) == {"status": "Accepted"}
    await closed(e2e, transaction_id)
    assert station(e2e, identity).connectors[3].limit_w is None
    await unplug(e2e, identity, 3)
