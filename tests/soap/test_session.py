"""
A whole charging session of an OCPP-S station, in 1.6 and in 1.5: a zeep
client built from the official Central System WSDL calls every one of the
10 operations on the real endpoint, parses every reply, and the REST API
shows the station, its connector and its transaction like a JSON station's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_twisted

from tests.soap.conftest import SoapStation, soap_url
from tests.web.conftest import WebCentral

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def meter_16(wh: int, when: datetime) -> dict[str, Any]:
    return {
        "timestamp": when,
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
        ],
    }


def meter_15(wh: int, when: datetime) -> dict[str, Any]:
    return {
        "timestamp": when,
        "value": [
            {"_value_1": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"_value_1": "16.1", "measurand": "Current.Import", "unit": "Amp"},
        ],
    }


async def charge(station: SoapStation) -> dict[str, Any]:
    """Boot, authorize, charge and report: every operation; the replies."""
    v15 = station.version == "1.5"
    seen: dict[str, Any] = {}
    seen["boot"] = await station(
        "BootNotification",
        chargePointVendor="Vendor",
        chargePointModel="Model",
        chargePointSerialNumber="SN-" + station.identity,
        firmwareVersion="1.0",
    )
    seen["authorize"] = await station("Authorize", idTag="TAG-1")
    seen["status"] = await station(
        "StatusNotification",
        connectorId=1,
        status="Occupied" if v15 else "Preparing",
        errorCode="NoError",
        timestamp=T0,
    )
    seen["start"] = await station(
        "StartTransaction", connectorId=1, idTag="TAG-1", timestamp=T0, meterStart=1000
    )
    transaction = seen["start"].transactionId
    meter = meter_15 if v15 else meter_16
    if v15:
        seen["meter"] = await station(
            "MeterValues",
            connectorId=1,
            transactionId=transaction,
            values=[meter(1500, T0 + timedelta(minutes=5))],
        )
    else:
        seen["meter"] = await station(
            "MeterValues",
            connectorId=1,
            transactionId=transaction,
            meterValue=[meter(1500, T0 + timedelta(minutes=5))],
        )
    stop: dict[str, Any] = {
        "transactionId": transaction,
        "idTag": "TAG-1",
        "timestamp": T0 + timedelta(minutes=10),
        "meterStop": 2500,
    }
    end = meter(2500, T0 + timedelta(minutes=10))
    if v15:
        stop["transactionData"] = [{"values": [end]}]
    else:
        stop.update(reason="Local", transactionData=[end])
    seen["stop"] = await station("StopTransaction", **stop)
    seen["heartbeat"] = await station("Heartbeat")
    seen["data"] = await station("DataTransfer", vendorId="com.example", messageId="m", data="d")
    seen["diagnostics"] = await station("DiagnosticsStatusNotification", status="Uploaded")
    seen["firmware"] = await station("FirmwareStatusNotification", status="Installed")
    return seen


@pytest.mark.parametrize("version", ["1.6", "1.5"])
@pytest_twisted.ensureDeferred
async def test_whole_session(soap_central: WebCentral, version: str) -> None:
    identity = f"SOAP-{version}"
    endpoint = f"http://127.0.0.1:9/{identity}"
    station = SoapStation(version, soap_url(soap_central), identity, endpoint)
    try:
        seen = await charge(station)
    finally:
        station.close()
    boot = seen["boot"]
    assert boot.status == "Accepted"
    assert (boot.heartbeatInterval if version == "1.5" else boot.interval) == 60
    assert isinstance(boot.currentTime, datetime)
    assert seen["authorize"].status == "Accepted"
    assert seen["start"].idTagInfo.status == "Accepted"
    transaction = seen["start"].transactionId
    assert isinstance(transaction, int)
    assert seen["stop"].status == "Accepted"
    assert isinstance(seen["heartbeat"], datetime)
    assert seen["data"].status in ("Accepted", "Rejected", "UnknownVendorId", "UnknownMessageId")
    for empty in ("status", "meter", "diagnostics", "firmware"):
        assert seen[empty] is None, (empty, seen[empty])

    api = soap_central.api
    listing = (await api.get("/ChargePointList")).json
    entry = next(e for e in listing if e["identity"] == identity)
    assert entry["protocol"] == "SOAP" and entry["ocppVersion"] == version
    assert entry["address"] == endpoint
    assert entry["bootNotification"]["chargePointSerialNumber"] == "SN-" + identity
    detail = (await api.get(f"/ChargePoint/{identity}")).json
    assert detail["online"] is True
    assert detail["protocol"] == "SOAP" and detail["ocppVersion"] == version
    assert detail["connection"]["port"] == 9
    assert detail["diagnosticsStatus"]["status"] == "Uploaded"
    assert detail["firmwareStatus"]["status"] == "Installed"
    connector = next(c for c in detail["connectors"] if c["connectorId"] == 1)
    assert connector["status"] == ("Charging" if version == "1.5" else "Preparing")
    transactions = (await api.get("/TransactionList", identity=identity)).json
    [row] = transactions["TransactionList"]
    assert row["id"] == transaction and row["idTag"] == "TAG-1"
    assert (row["meterStart"], row["meterStop"], row["value"]) == (1000, 2500, 1500)
    assert row["dateStop"] == "2026-12-03T10:10:00Z"
    assert row["reason"] == (None if version == "1.5" else "Local")
    one = (await api.get(f"/Transaction/{transaction}")).json
    kept = [(m["source"], m["value"], m["unit"]) for m in one["meterValues"]]
    assert kept == [
        ("MeterValues", "1500", "Wh"),
        ("MeterValues", "16.1", "A"),  # 1.5's "Amp" in the 1.6 spelling
        ("StopTransaction", "2500", "Wh"),
        ("StopTransaction", "16.1", "A"),
    ]
