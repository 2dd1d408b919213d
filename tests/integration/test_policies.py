"""
The C{[central]} policies over the wire with the real embedded backend:
registration (open / known), authorization (open / list), StartTransaction
replays and DataTransfer vendors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from tests.integration.conftest import Central, aio, start_central, stop_central
from tests.integration.rawstation import RawStation, call_error, now


async def run_station(central: Central, identity: str, steps: Any) -> Any:
    """Connect C{identity}, run C{await steps(station)}, always close."""

    async def scenario() -> Any:
        station = await RawStation.connect(central.url, identity)
        try:
            return await steps(station)
        finally:
            await station.close()

    return await aio(scenario())


def start_payload(id_tag: str, connector: int = 1, meter: int = 0, ts: str | None = None) -> dict:
    return {
        "connectorId": connector,
        "idTag": id_tag,
        "meterStart": meter,
        "timestamp": ts or now(),
    }


@pytest.mark.parametrize("unknown_station", ["Rejected", "Pending"])
@pytest_twisted.ensureDeferred
async def test_registration_known(tmp_path: Path, unknown_station: str) -> None:
    """
    With registration = known an unregistered station gets unknown_station
    (and the retry interval), then SecurityError on other calls; once
    registered, a new boot is Accepted and its calls are answered.
    """
    central = await start_central(
        tmp_path,
        registration="known",
        unknown_station=unknown_station,
        retry_interval=17,
        heartbeat_interval=42,
    )
    try:

        async def refused(station: RawStation) -> dict[str, Any]:
            return {
                "boot": await station.boot(),
                "heartbeat": await station.call("Heartbeat", {}),
                "status": await station.call(
                    "StatusNotification",
                    {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
                ),
            }

        out = await run_station(central, "REG-1", refused)
        assert out["boot"]["status"] == unknown_station
        assert out["boot"]["interval"] == 17
        assert call_error(out["heartbeat"])[1] == "SecurityError"
        assert call_error(out["status"])[1] == "SecurityError"
        stored = await central.service.backend.get_station("REG-1")
        assert stored["boot_status"] == unknown_station and stored["registered"] == 0
        assert stored["connectors"] == []

        # A new connection without a boot is still refused.
        async def heartbeat_only(station: RawStation) -> list[Any]:
            return await station.call("Heartbeat", {})

        assert call_error(await run_station(central, "REG-1", heartbeat_only))[1] == "SecurityError"

        await central.service.backend.register_station("REG-1")

        async def accepted(station: RawStation) -> dict[str, Any]:
            return {"boot": await station.boot(), "heartbeat": await station.heartbeat()}

        out = await run_station(central, "REG-1", accepted)
        assert out["boot"]["status"] == "Accepted"
        assert out["boot"]["interval"] == 42
        assert "currentTime" in out["heartbeat"]
        stored = await central.service.backend.get_station("REG-1")
        assert stored["boot_status"] == "Accepted" and stored["registered"] == 1

        # Another unregistered station is still refused.
        out = await run_station(central, "REG-2", refused)
        assert out["boot"]["status"] == unknown_station
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_registration_open(central: Central) -> None:
    """With registration = open any station is Accepted and registered on its first boot."""

    async def steps(station: RawStation) -> dict[str, Any]:
        return {"boot": await station.boot(), "heartbeat": await station.heartbeat()}

    out = await run_station(central, "OPEN-1", steps)
    assert out["boot"]["status"] == "Accepted" and out["boot"]["interval"] == 60
    stored = await central.service.backend.get_station("OPEN-1")
    assert stored["registered"] == 1 and stored["boot_status"] == "Accepted"


@pytest_twisted.ensureDeferred
async def test_authorization_list(tmp_path: Path) -> None:
    """
    With authorization = list: an unknown tag is Invalid, stored tags answer
    their status (Accepted with its expiry, Blocked, past expiry -> Expired,
    parentIdTag passed on), for Authorize, StartTransaction and StopTransaction.
    """
    central = await start_central(tmp_path, authorization="list")
    backend = central.service.backend
    try:
        await backend.put_id_tag("GOOD", "Accepted", "2099-01-01T00:00:00Z", "PARENT")
        await backend.put_id_tag("BLOCKED", "Blocked")
        await backend.put_id_tag("OLD", "Accepted", "2001-01-01T00:00:00+00:00")
        await backend.put_id_tag("INVALID", "Invalid")

        async def steps(station: RawStation) -> dict[str, Any]:
            await station.boot()
            out: dict[str, Any] = {}
            for tag in ["NOBODY", "GOOD", "BLOCKED", "OLD", "INVALID"]:
                out[tag] = (await station.result("Authorize", {"idTag": tag}))["idTagInfo"]
            start = await station.result("StartTransaction", start_payload("BLOCKED"))
            out["start_blocked"] = start
            out["stop_blocked"] = await station.result(
                "StopTransaction",
                {
                    "transactionId": start["transactionId"],
                    "meterStop": 0,
                    "timestamp": now(),
                    "idTag": "BLOCKED",
                    "reason": "DeAuthorized",
                },
            )
            return out

        out = await run_station(central, "AUTH-1", steps)
        assert out["NOBODY"] == {"status": "Invalid"}
        assert out["GOOD"] == {
            "status": "Accepted",
            "expiryDate": "2099-01-01T00:00:00.000Z",
            "parentIdTag": "PARENT",
        }
        assert out["BLOCKED"] == {"status": "Blocked"}
        assert out["OLD"] == {"status": "Expired", "expiryDate": "2001-01-01T00:00:00.000Z"}
        assert out["INVALID"] == {"status": "Invalid"}
        # Even a refused tag gets a transaction id (the station then stops it).
        assert out["start_blocked"]["idTagInfo"] == {"status": "Blocked"}
        assert isinstance(out["start_blocked"]["transactionId"], int)
        assert out["stop_blocked"] == {"idTagInfo": {"status": "Blocked"}}
        txn = await backend.get_transaction(out["start_blocked"]["transactionId"])
        assert txn["id_tag_status"] == "Blocked" and txn["stop_reason"] == "DeAuthorized"
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_concurrent_tx_and_replay(tmp_path: Path) -> None:
    """
    With authorization = list a tag already in a running transaction gets
    ConcurrentTx on a second StartTransaction (still with a new id); a replay
    of the first StartTransaction gets the same id and status; once stopped,
    the tag may start again.
    """
    central = await start_central(tmp_path, authorization="list")
    backend = central.service.backend
    try:
        await backend.put_id_tag("TAG-C", "Accepted")

        async def steps(station: RawStation) -> dict[str, Any]:
            await station.boot()
            first_payload = start_payload("TAG-C", connector=1, meter=100)
            first = await station.result("StartTransaction", first_payload)
            second = await station.result("StartTransaction", start_payload("TAG-C", connector=2))
            replay = await station.result("StartTransaction", first_payload)
            stop = await station.result(
                "StopTransaction",
                {
                    "transactionId": first["transactionId"],
                    "meterStop": 900,
                    "timestamp": now(),
                    "idTag": "TAG-C",
                },
            )
            # A replayed StopTransaction changes nothing and is answered the same.
            stop_again = await station.result(
                "StopTransaction",
                {
                    "transactionId": first["transactionId"],
                    "meterStop": 999,
                    "timestamp": now(),
                    "idTag": "TAG-C",
                },
            )
            third = await station.result("StartTransaction", start_payload("TAG-C", connector=1))
            return {
                "first": first,
                "second": second,
                "replay": replay,
                "stop": stop,
                "stop_again": stop_again,
                "third": third,
            }

        out = await run_station(central, "CONC-1", steps)
        first_id = out["first"]["transactionId"]
        assert out["first"]["idTagInfo"] == {"status": "Accepted"}
        assert out["second"]["idTagInfo"] == {"status": "ConcurrentTx"}
        assert out["second"]["transactionId"] > first_id
        assert out["replay"] == out["first"]
        assert out["stop"] == out["stop_again"] == {"idTagInfo": {"status": "Accepted"}}
        assert out["third"]["idTagInfo"] == {"status": "Accepted"}
        assert out["third"]["transactionId"] > out["second"]["transactionId"]
        txn = await backend.get_transaction(first_id)
        assert (txn["meter_start"], txn["meter_stop"]) == (100, 900)
        assert len(await backend.list_transactions("CONC-1")) == 3
    finally:
        await stop_central(central)


@pytest_twisted.ensureDeferred
async def test_open_authorization_replay(central: Central) -> None:
    """
    With authorization = open every tag is Accepted by Authorize; a
    StartTransaction replay keeps its id; the default concurrent_tx = refuse
    still answers ConcurrentTx for the tag on another connector (issue 14).
    """

    async def steps(station: RawStation) -> dict[str, Any]:
        await station.boot()
        payload = start_payload("ANY", meter=5)
        return {
            "auth": await station.result("Authorize", {"idTag": "ANY"}),
            "first": await station.result("StartTransaction", payload),
            "again": await station.result("StartTransaction", payload),
            "other": await station.result("StartTransaction", start_payload("ANY", connector=2)),
        }

    out = await run_station(central, "OPEN-TX", steps)
    assert out["auth"] == {"idTagInfo": {"status": "Accepted"}}
    assert out["again"] == out["first"]
    assert out["first"]["idTagInfo"] == {"status": "Accepted"}
    assert out["other"]["idTagInfo"] == {"status": "ConcurrentTx"}
    assert out["other"]["transactionId"] != out["first"]["transactionId"]
    assert len(await central.service.backend.list_transactions("OPEN-TX")) == 2


@pytest_twisted.ensureDeferred
async def test_data_transfer_vendors(tmp_path: Path) -> None:
    """DataTransfer from a known vendor is Accepted and kept; others get UnknownVendorId."""
    central = await start_central(tmp_path, known_vendors=("acme",))
    try:

        async def steps(station: RawStation) -> dict[str, Any]:
            await station.boot()
            return {
                "known": await station.result(
                    "DataTransfer", {"vendorId": "acme", "messageId": "m1", "data": "hello"}
                ),
                "unknown": await station.result(
                    "DataTransfer", {"vendorId": "other", "messageId": "m2", "data": "x"}
                ),
            }

        out = await run_station(central, "DT-1", steps)
        assert out["known"] == {"status": "Accepted"}
        assert out["unknown"] == {"status": "UnknownVendorId"}
        kept = await central.service.backend.list_data_transfers("DT-1")
        assert [(k["vendor_id"], k["message_id"], k["data"]) for k in kept] == [
            ("acme", "m1", "hello")
        ]
    finally:
        await stop_central(central)
