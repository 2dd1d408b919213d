"""
A whole charging session from a station built on another OCPP implementation
(the C{ocpp} package's ChargePoint over C{websockets}) against the real
central system, then checked in the store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest_twisted
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import Action

from tests.integration.conftest import Central, aio, as_future


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


from ocpp.v16 import call_result  # noqa: E402


class Station(ChargePoint):
    """A station from the ocpp package; it accepts a Reset and remembers it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resets: list[str] = []

    @on(Action.reset)
    def on_reset(self, type: str, **kwargs: Any) -> call_result.Reset:
        self.resets.append(type)
        return call_result.Reset(status="Accepted")


async def charging_session(central: Central) -> dict[str, Any]:
    async with websockets.connect(f"{central.url}/LIB-1", subprotocols=["ocpp1.6"]) as ws:
        station = Station("LIB-1", ws)
        reader = asyncio.ensure_future(station.start())
        try:
            boot = await station.call(
                call.BootNotification(
                    charge_point_vendor="Acme",
                    charge_point_model="Lib",
                    charge_point_serial_number="SN-1",
                    firmware_version="1.2.3",
                    meter_type="ACME-M",
                )
            )
            heartbeat = await station.call(call.Heartbeat())
            await station.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
            )
            auth = await station.call(call.Authorize(id_tag="TAG-1"))
            start = await station.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG-1", meter_start=1000, timestamp=now()
                )
            )
            await station.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
            await station.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=start.transaction_id,
                    meter_value=[
                        {
                            "timestamp": now(),
                            "sampledValue": [
                                {
                                    "value": "1500",
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                },
                                {
                                    "value": "7.2",
                                    "measurand": "Power.Active.Import",
                                    "unit": "kW",
                                    "phase": "L1",
                                },
                            ],
                        }
                    ],
                )
            )
            # The central system calls the station while the session runs.
            reset = await as_future(
                central.service.registry.call("LIB-1", "Reset", {"type": "Soft"})
            )
            stop = await station.call(
                call.StopTransaction(
                    meter_stop=2500,
                    timestamp=now(),
                    transaction_id=start.transaction_id,
                    reason="Local",
                    id_tag="TAG-1",
                )
            )
            await station.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
            )
        finally:
            reader.cancel()
        return {
            "boot": boot,
            "heartbeat": heartbeat,
            "auth": auth,
            "start": start,
            "stop": stop,
            "reset": reset,
            "station_resets": station.resets,
        }


@pytest_twisted.ensureDeferred
async def test_whole_charging_session(central: Central) -> None:
    """Boot, authorize, start, meter values, a central Reset, stop: all answered and stored."""
    out = await aio(charging_session(central))
    assert out["boot"].status == "Accepted"
    assert out["boot"].interval == 60
    assert out["heartbeat"].current_time
    assert out["auth"].id_tag_info["status"] == "Accepted"
    assert out["start"].id_tag_info["status"] == "Accepted"
    assert isinstance(out["start"].transaction_id, int)
    assert out["stop"].id_tag_info["status"] == "Accepted"
    assert out["reset"] == {"status": "Accepted"}
    assert out["station_resets"] == ["Soft"]

    backend = central.service.backend
    station = await backend.get_station("LIB-1")
    assert station["vendor"] == "Acme" and station["model"] == "Lib"
    assert station["charge_point_serial"] == "SN-1" and station["firmware_version"] == "1.2.3"
    assert station["meter_type"] == "ACME-M" and station["boot_status"] == "Accepted"
    assert {c["connector_id"]: c["status"] for c in station["connectors"]} == {1: "Available"}
    transaction = await backend.get_transaction(out["start"].transaction_id)
    assert transaction["identity"] == "LIB-1" and transaction["id_tag"] == "TAG-1"
    assert (transaction["meter_start"], transaction["meter_stop"]) == (1000, 2500)
    assert transaction["stop_reason"] == "Local"
    values = {
        (v["measurand"], v["value"], v["unit"], v["phase"]) for v in transaction["meter_values"]
    }
    assert values == {
        ("Energy.Active.Import.Register", "1500", "Wh", None),
        ("Power.Active.Import", "7.2", "kW", "L1"),
    }
