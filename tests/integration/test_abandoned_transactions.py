"""
Transactions that never got their StopTransaction, over the wire: real
stations (raw OCPP-J over C{websockets}) and the REST API (treq) against the
real service on a free port with the real embedded store.

A StartTransaction on a connector closes, as abandoned, whatever transaction
was still open on that connector of that station; ConcurrentTx is answered
only for a tag still in a transaction open on another connector or station,
and only with C{[central] concurrent_tx = refuse}; Authorize never answers
ConcurrentTx (OCPP 1.6, 7.2 AuthorizationStatus: ConcurrentTx is "Only
relevant for a StartTransaction.req").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from tests.emulator.test_end_to_end import conforms
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

TAG = "DRIVER-T"
T_START = "2026-11-24T10:00:00.000Z"
T_ENERGY = "2026-11-24T10:05:00.000Z"
T_POWER = "2026-11-24T10:06:00.000Z"
T_RESTART = "2026-11-24T11:00:00.000Z"
T_LATE_STOP = "2026-11-24T10:07:00.000Z"


def start(connector: int = 1, meter: int = 1000, ts: str = T_START) -> dict[str, Any]:
    """A StartTransaction request for L{TAG}."""
    return {"connectorId": connector, "idTag": TAG, "meterStart": meter, "timestamp": ts}


async def started(station: RawStation, payload: dict[str, Any]) -> dict[str, Any]:
    """Send a StartTransaction; its reply."""
    return await aio(station.result("StartTransaction", payload))


async def meter_values(station: RawStation, transaction_id: int) -> None:
    """The energy register (in kWh) at T_ENERGY, a power value at T_POWER (the newest)."""
    energy = {"value": "1.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"}
    power = {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"}
    await aio(
        station.result(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": transaction_id,
                "meterValue": [
                    {"timestamp": T_ENERGY, "sampledValue": [energy]},
                    {"timestamp": T_POWER, "sampledValue": [power]},
                ],
            },
        )
    )


async def transaction(web: WebCentral, transaction_id: int) -> dict[str, Any]:
    """GET /Transaction/{id}, checked against the OpenAPI document."""
    return conforms(await web.api.get(f"/Transaction/{transaction_id}"), "/Transaction/{id}", "get")


@pytest_twisted.ensureDeferred
async def test_restarted_station_starts_again_on_the_same_connector(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    """
    A station starts with T on connector 1, reconnects without stopping and
    starts again with T on connector 1: Accepted, and the first transaction
    is closed as abandoned with the newest data known for it. T on another
    station meanwhile gets ConcurrentTx; Authorize of T stays Accepted. The
    late StopTransaction of the first transaction completes it.
    """
    web = await start_web_central(tmp_path, authorization="list")
    try:
        await web.service.backend.put_id_tag(TAG, "Accepted")
        one = await web.station("AB-1", boot=True)
        try:
            first = await started(one, start())
            assert first["idTagInfo"] == {"status": "Accepted"}
            await meter_values(one, first["transactionId"])
        finally:
            await aio(one.close())
        one = await web.station("AB-1", boot=True)
        two = await web.station("AB-2", boot=True)
        try:
            authorized = await aio(one.result("Authorize", {"idTag": TAG}))
            again = await started(one, start(meter=1600, ts=T_RESTART))
            elsewhere = await started(two, start(meter=0, ts=T_RESTART))
            authorized_elsewhere = await aio(two.result("Authorize", {"idTag": TAG}))
        finally:
            await aio(two.close())
        assert authorized == {"idTagInfo": {"status": "Accepted"}}
        assert again["idTagInfo"] == {"status": "Accepted"}
        assert again["transactionId"] > first["transactionId"]
        assert elsewhere["idTagInfo"] == {"status": "ConcurrentTx"}
        assert authorized_elsewhere == {"idTagInfo": {"status": "Accepted"}}

        first_id = first["transactionId"]
        abandoned = await transaction(web, first_id)
        assert abandoned["abandoned"] is True
        assert abandoned["abandonedBy"] == again["transactionId"]
        # The energy register (1.5 kWh), dated by the newest meter value.
        assert (abandoned["meterStop"], abandoned["value"]) == (1500, 500)
        assert abandoned["dateStop"] == T_POWER
        assert abandoned["reason"] is None and abandoned["stopIdTag"] is None
        listed = conforms(
            await web.api.get("/CentralSystem/TransactionList", identity="AB-1"),
            "/CentralSystem/TransactionList",
            "get",
        )
        flags = {t["id"]: (t["abandoned"], t["abandonedBy"]) for t in listed["TransactionList"]}
        assert flags == {
            first_id: (True, again["transactionId"]),
            again["transactionId"]: (False, None),
        }
        [logged] = [
            e for e in events if e.get("transaction_id") == first_id and "abandoned_by" in e
        ]
        assert logged["abandoned_by"] == again["transactionId"]
        assert (logged["identity"], logged["connector_id"]) == ("AB-1", 1)
        assert (logged["meter_stop"], logged["stop_timestamp"]) == (1500, T_POWER)

        # The late StopTransaction: accepted, the real data replace the estimate.
        stop = {
            "transactionId": first_id,
            "idTag": TAG,
            "meterStop": 1550,
            "timestamp": T_LATE_STOP,
            "reason": "PowerLoss",
        }
        late = await aio(one.result("StopTransaction", stop))
        replayed = await aio(one.result("StopTransaction", {**stop, "meterStop": 9999}))
        assert late == replayed == {"idTagInfo": {"status": "Accepted"}}
        completed = await transaction(web, first_id)
        assert completed["abandoned"] is False and completed["abandonedBy"] is None
        assert (completed["meterStop"], completed["dateStop"]) == (1550, T_LATE_STOP)
        assert (completed["reason"], completed["stopIdTag"]) == ("PowerLoss", TAG)
        # The transaction started after the restart is still running.
        running = await transaction(web, again["transactionId"])
        assert running["dateStop"] is None and running["abandoned"] is False
        await aio(one.close())
    finally:
        await stop_web_central(web)


@pytest_twisted.ensureDeferred
async def test_no_meter_values_estimate_from_meter_start(tmp_path: Path) -> None:
    """
    Without meter values the abandoned transaction stops at its meterStart,
    dated by the new transaction's start; under authorization = open too.
    """
    web = await start_web_central(tmp_path)
    try:
        station = await web.station("AB-OPEN", boot=True)
        try:
            first = await started(station, start(meter=42))
            second = await started(station, start(meter=50, ts=T_RESTART))
        finally:
            await aio(station.close())
        assert second["idTagInfo"] == {"status": "Accepted"}
        abandoned = await transaction(web, first["transactionId"])
        assert abandoned["abandoned"] is True
        assert (abandoned["meterStop"], abandoned["value"]) == (42, 0)
        assert abandoned["dateStop"] == T_RESTART
    finally:
        await stop_web_central(web)


@pytest.mark.parametrize(
    ("authorization", "concurrent_tx", "expected"),
    [
        ("list", "allow", "Accepted"),
        ("list", "refuse", "ConcurrentTx"),
        ("open", "allow", "Accepted"),
        ("open", "refuse", "ConcurrentTx"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_concurrent_tx_setting(
    tmp_path: Path, authorization: str, concurrent_tx: str, expected: str
) -> None:
    """
    A tag in a transaction open on another station: ConcurrentTx with
    concurrent_tx = refuse (the default, under either authorization policy),
    Accepted with allow; a second connector of the same station counts as
    another connector.
    """
    web = await start_web_central(
        tmp_path, authorization=authorization, concurrent_tx=concurrent_tx
    )
    try:
        if authorization == "list":
            await web.service.backend.put_id_tag(TAG, "Accepted")
        one = await web.station("CC-1", boot=True)
        two = await web.station("CC-2", boot=True)
        try:
            first = await started(one, start())
            other_station = await started(two, start(meter=0))
            other_connector = await started(one, start(connector=2, meter=7))
            authorized = await aio(two.result("Authorize", {"idTag": TAG}))
        finally:
            await aio(one.close())
            await aio(two.close())
        assert first["idTagInfo"] == {"status": "Accepted"}
        assert other_station["idTagInfo"] == {"status": expected}
        assert other_connector["idTagInfo"] == {"status": expected}
        assert authorized == {"idTagInfo": {"status": "Accepted"}}
        # Other connectors' transactions are not abandoned.
        assert (await transaction(web, first["transactionId"]))["dateStop"] is None
    finally:
        await stop_web_central(web)
