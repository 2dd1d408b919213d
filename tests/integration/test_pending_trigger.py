"""
A Pending station may send what the central system asks for with
TriggerMessage (OCPP 1.6, 4.2), once; everything else still gets SecurityError.
"""

from __future__ import annotations

from pathlib import Path

import pytest_twisted

from tests.integration.conftest import aio, as_future, start_central, stop_central
from tests.integration.rawstation import BOOT, RawStation

STATUS = {"connectorId": 0, "errorCode": "NoError", "status": "Available"}


@pytest_twisted.ensureDeferred
async def test_triggered_message_allowed_while_pending(tmp_path: Path) -> None:
    """After an Accepted TriggerMessage, a Pending station may send that message once."""
    central = await start_central(tmp_path, registration="known", unknown_station="Pending")
    try:

        async def scenario() -> dict[str, list]:
            station = await RawStation.connect(central.url, "PEND-1")
            try:
                out: dict[str, list] = {}
                out["boot"] = await station.call("BootNotification", BOOT)
                out["before"] = await station.call("StatusNotification", STATUS)
                trigger = central.service.registry.call(
                    "PEND-1", "TriggerMessage", {"requestedMessage": "StatusNotification"}
                )
                call = await station.recv()
                await station.send([3, call[1], {"status": "Accepted"}])
                out["trigger"] = [await as_future(trigger)]
                out["triggered"] = await station.call("StatusNotification", STATUS)
                out["again"] = await station.call("StatusNotification", STATUS)
                return out
            finally:
                await station.close()

        out = await aio(scenario())
        assert out["boot"][2]["status"] == "Pending"
        assert out["before"][2] == "SecurityError"
        assert out["trigger"] == [{"status": "Accepted"}]
        assert out["triggered"][0] == 3
        assert out["again"][2] == "SecurityError"
        station = await central.service.backend.get_station("PEND-1")
        assert [c["status"] for c in station["connectors"]] == ["Available"]
    finally:
        await stop_central(central)
