"""
The emulated stations charge through the webhook backend: a real receiver
(L{tests.receiver}, rules like the embedded ones) answers every call of the
example stations, a remote start charges with meter values until a remote
stop, and the central system's REST API shows the record's copies under the
receiver's transaction id.
"""

from __future__ import annotations

from pathlib import Path

import pytest_twisted

from tests.emulator.test_end_to_end import (
    closed,
    command,
    copy_stations,
    remote_start,
    start_emulated_central,
    until,
)
from tests.receiver import start_receiver, stop_receiver
from tests.web.conftest import stop_web_central


@pytest_twisted.ensureDeferred
async def test_an_emulated_station_charges_through_a_webhook(tmp_path: Path) -> None:
    """Boot, statuses, a transaction with meter values: decided by the receiver, recorded."""
    receiver = start_receiver()
    stations = copy_stations(tmp_path / "cp", MeterValueSampleInterval="1")
    (tmp_path / "cs").mkdir()
    web = await start_emulated_central(
        tmp_path / "cs", stations, webhook={"url": receiver.url, "timeout": 5.0}
    )
    try:
        identity = "EM-A0000001"
        transaction_id = await remote_start(web, identity, 1)
        assert transaction_id >= 1000  # the receiver's numbering, not the store's
        await until(
            lambda: any(
                s.body["payload"].get("transactionId") == transaction_id
                for s in receiver.requests("MeterValues")
            ),
            "MeterValues of the transaction at the receiver",
        )
        stop = {"transactionId": transaction_id}
        assert await command(web, identity, "RemoteStopTransaction", stop) == {"status": "Accepted"}
        found = await closed(web, transaction_id)
        assert found["identity"] == identity and found["meterStop"] >= found["meterStart"]
        assert any(m["source"] == "MeterValues" for m in found["meterValues"])
        booted = {s.body["identity"] for s in receiver.requests("BootNotification")}
        assert booted == {"EM-A0000001", "EM-A0000002", "EM-A0000003", "EM-A0000004"}
        assert web.service.decider is not None and web.service.decider.failures == {}
    finally:
        await stop_web_central(web)
        await stop_receiver(receiver)
