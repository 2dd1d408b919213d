"""
A whole charging session from an independent OCPP implementation (the
C{ocpp} package's ChargePoint over C{websockets}) through the webhook
backend: a real receiver answers every call, the station gets the
receiver's answers (its transactionId), and the record keeps the copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_twisted

from tests.backends.webhooktools import eventually, start_hooked, stop_hooked
from tests.integration.conftest import aio
from tests.integration.test_ocpp_library_session import charging_session


@dataclass
class _Central:
    """What L{charging_session} needs of a central system."""

    service: Any
    url: str


@pytest_twisted.ensureDeferred
async def test_whole_charging_session_through_a_webhook(tmp_path: Path) -> None:
    """Every station call reaches the receiver; its answers reach the station; copies kept."""
    hooked = await start_hooked(tmp_path)
    try:
        central = _Central(hooked.central.service, hooked.central.station_url)
        out = await aio(charging_session(central))  # type: ignore[arg-type]
        assert out["boot"].status == "Accepted"
        assert out["start"].transaction_id == 1000  # the receiver's first id
        assert out["stop"].id_tag_info["status"] == "Accepted"
        assert out["reset"] == {"status": "Accepted"}
        actions = [s.body["action"] for s in hooked.receiver.seen]
        assert actions == [
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "Authorize",
            "StartTransaction",
            "StatusNotification",
            "MeterValues",
            "StopTransaction",
            "StatusNotification",
        ]
        assert all(s.method == "POST" for s in hooked.receiver.seen)
        record = hooked.central.service.backend

        async def copied() -> bool:
            txn = await record.get_transaction(1000)
            return txn is not None and txn["meter_stop"] == 2500

        await eventually(copied)
        txn = await record.get_transaction(1000)
        assert (txn["identity"], txn["id_tag"], txn["meter_start"]) == ("LIB-1", "TAG-1", 1000)
        assert {v["value"] for v in txn["meter_values"]} == {"1500", "7.2"}
        station = await record.get_station("LIB-1")
        assert station["vendor"] == "Acme" and station["boot_status"] == "Accepted"
    finally:
        await stop_hooked(hooked)
