"""
The backend contract: the same station calls through the real service give
the same answers and the same records, whichever decider answers them
(embedded rules, webhook; PostgreSQL next). Everything is checked through
what stations and operators see: the replies and the REST API.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted

from tests.backends.contract.conftest import Deployment
from tests.integration.conftest import aio
from tests.integration.rawstation import now

BOOT = {
    "chargePointVendor": "Acme",
    "chargePointModel": "Contract",
    "chargePointSerialNumber": "SN-9",
    "firmwareVersion": "1.0",
}


@pytest_twisted.ensureDeferred
async def test_boot_heartbeat_and_the_station_list(deployment: Deployment) -> None:
    """An Accepted boot, a Heartbeat with the time; the station is listed with its boot data."""
    central = deployment.central
    station = await central.station("K-BOOT")
    boot = await aio(station.result("BootNotification", BOOT))
    assert boot["status"] == "Accepted" and boot["interval"] > 0 and boot["currentTime"]
    assert "currentTime" in await aio(station.heartbeat())
    await aio(station.close())

    async def listed() -> bool:
        entries = (await central.api.get("/ChargePointList")).json
        return [e.get("bootNotification") for e in entries] == [{k: v for k, v in BOOT.items()}]

    await deployment.until(listed)


@pytest_twisted.ensureDeferred
async def test_statuses_and_notifications_are_kept(deployment: Deployment) -> None:
    """StatusNotification, Firmware- and DiagnosticsStatusNotification answer {} and are kept."""
    central = deployment.central
    station = await central.station("K-STATUS", boot=True)
    status = {"connectorId": 2, "errorCode": "NoError", "status": "Available"}
    assert await aio(station.result("StatusNotification", status)) == {}
    assert await aio(station.result("FirmwareStatusNotification", {"status": "Installed"})) == {}
    diagnostics = {"status": "Uploaded"}
    assert await aio(station.result("DiagnosticsStatusNotification", diagnostics)) == {}
    await aio(station.close())

    async def kept() -> bool:
        detail = (await central.api.get("/ChargePoint/K-STATUS")).json
        return (
            [(c["connectorId"], c.get("status")) for c in detail["connectors"]]
            == [(2, "Available")]
            and (detail["firmwareStatus"] or {}).get("status") == "Installed"
            and (detail["diagnosticsStatus"] or {}).get("status") == "Uploaded"
        )

    await deployment.until(kept)


@pytest_twisted.ensureDeferred
async def test_a_charging_session_is_listed(deployment: Deployment) -> None:
    """
    Authorize, StartTransaction (a retry gets the same id), MeterValues,
    StopTransaction: the transaction is listed with the id the station got,
    its stop and its meter values.
    """
    central = deployment.central
    station = await central.station("K-TX", boot=True)
    auth = await aio(station.result("Authorize", {"idTag": "K1"}))
    assert auth["idTagInfo"]["status"] == "Accepted"
    start = {"connectorId": 1, "idTag": "K1", "meterStart": 100, "timestamp": now()}
    reply = await aio(station.result("StartTransaction", start))
    tid = reply["transactionId"]
    assert reply["idTagInfo"]["status"] == "Accepted"
    assert (await aio(station.result("StartTransaction", start)))["transactionId"] == tid
    sample = {"timestamp": now(), "sampledValue": [{"value": "150", "unit": "Wh"}]}
    meter = {"connectorId": 1, "transactionId": tid, "meterValue": [sample]}
    assert await aio(station.result("MeterValues", meter)) == {}
    stop = {
        "transactionId": tid,
        "meterStop": 400,
        "timestamp": now(),
        "reason": "Local",
        "transactionData": [{"timestamp": now(), "sampledValue": [{"value": "400"}]}],
    }
    assert await aio(station.result("StopTransaction", stop)) == {}
    await aio(station.close())

    async def listed() -> bool:
        page = (await central.api.get("/CentralSystem/TransactionList")).json
        return [(t["id"], t["meterStop"]) for t in page["TransactionList"]] == [(tid, 400)]

    await deployment.until(listed)
    txn = (await central.api.get(f"/Transaction/{tid}")).json
    assert (txn["identity"], txn["idTag"], txn["meterStart"], txn["reason"]) == (
        "K-TX",
        "K1",
        100,
        "Local",
    )
    assert [(m["value"], m["source"]) for m in txn["meterValues"]] == [
        ("150", "MeterValues"),
        ("400", "StopTransaction"),
    ]


@pytest_twisted.ensureDeferred
async def test_data_transfer(deployment: Deployment) -> None:
    """A DataTransfer of a vendor the decider knows is Accepted."""
    station = await deployment.central.station("K-DATA", boot=True)
    reply = await aio(station.result("DataTransfer", {"vendorId": "acme", "data": "x"}))
    await aio(station.close())
    assert reply == {"status": "Accepted"}


@pytest_twisted.ensureDeferred
async def test_an_accepted_station_needs_no_new_boot(deployment: Deployment) -> None:
    """After a reconnect, an Accepted station's calls are answered (the record knows it)."""
    central = deployment.central
    station = await central.station("K-AGAIN", boot=True)
    await aio(station.close())

    async def offline() -> bool:
        detail = (await central.api.get("/ChargePoint/K-AGAIN")).json
        return detail["online"] is False and detail["bootStatus"] == "Accepted"

    await deployment.until(offline)
    station = await central.station("K-AGAIN")
    reply: Any = await aio(station.call("Heartbeat", {}))
    await aio(station.close())
    assert reply[0] == 3, reply
