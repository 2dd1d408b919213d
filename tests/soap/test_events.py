"""
The station event feed (/ws/events) shows an OCPP-S station's session as it
shows a JSON station's: connection, boot, status, transaction and meter
events, read from the SOAP messages in the frame log (1.5 mapped to 1.6).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import pytest_twisted
import websockets

from tests.integration.conftest import aio
from tests.soap.conftest import SoapStation, soap_url
from tests.web.conftest import WebCentral

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("version", ["1.5", "1.6"])
@pytest_twisted.ensureDeferred
async def test_soap_session_as_events(soap_central: WebCentral, version: str) -> None:
    identity = f"EVENTS-{version}"
    url = f"ws://127.0.0.1:{soap_central.port}/ws/events?identity={identity}"
    feed = await aio(websockets.connect(url, open_timeout=10))
    station = SoapStation(version, soap_url(soap_central), identity, "http://127.0.0.1:9/cp")
    energy = (
        {"_value_1": "1.5", "unit": "kWh"} if version == "1.5" else {"value": "1.5", "unit": "kWh"}
    )
    meter = {"timestamp": T0, ("value" if version == "1.5" else "sampledValue"): [energy]}
    try:
        await station("BootNotification", chargePointVendor="V", chargePointModel="M")
        await station(
            "StatusNotification",
            connectorId=1,
            status="Occupied" if version == "1.5" else "Charging",
            errorCode="NoError",
        )
        started = await station(
            "StartTransaction", connectorId=1, idTag="T1", timestamp=T0, meterStart=0
        )
        values = {("values" if version == "1.5" else "meterValue"): [meter]}
        await station("MeterValues", connectorId=1, transactionId=started.transactionId, **values)
    finally:
        station.close()

    async def read(count: int) -> list[dict[str, Any]]:
        return [orjson.loads(await asyncio.wait_for(feed.recv(), 10)) for _ in range(count)]

    try:
        seen = await aio(read(5))
    finally:
        await aio(feed.close())
    assert [e["type"] for e in seen] == ["connection", "boot", "status", "transaction", "meter"]
    assert (seen[0]["protocol"], seen[0]["ocppVersion"]) == ("SOAP", version)
    assert (seen[2]["connectorId"], seen[2]["status"]) == (1, "Charging")
    assert seen[3]["transactionId"] == started.transactionId
    assert (seen[4]["energy"], seen[4]["transactionId"]) == (1500.0, started.transactionId)
