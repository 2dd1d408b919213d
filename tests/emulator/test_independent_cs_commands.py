"""
The emulator answering the commands of a central system it shares no code
with (L{tests.emulator.independent}): a remote session from start to stop,
GetConfiguration / ChangeConfiguration and TriggerMessage, every frame checked
against the official OCPP 1.6 schemas by the C{ocpp} package.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from ocpp.v16 import call

from tests.emulator.independent import (
    CP1,
    CP4,
    IndependentCentral,
    Received,
    Start,
    gaps,
    wait_for,
)
from tests.integration.conftest import aio


@pytest.mark.parametrize(
    ("folder", "identity", "authorize"), [("CP1", CP1, True), ("CP4", CP4, False)]
)
@pytest_twisted.ensureDeferred
async def test_remote_session(
    cs: IndependentCentral, emulator: Start, folder: str, identity: str, authorize: bool
) -> None:
    """
    RemoteStartTransaction: Authorize (only with AuthorizeRemoteTxRequests),
    StartTransaction, Preparing then Charging, MeterValues with the
    transactionId every second (MeterValueSampleInterval changed to 1), then
    RemoteStopTransaction gives StopTransaction with reason Remote.
    """
    await emulator(folder)
    # connector 1's status at boot (CP4 reports connector 0 first)
    await wait_for(
        lambda: [
            r for r in cs.received(identity, "StatusNotification") if r.payload["connectorId"] == 1
        ]
    )
    first = len(cs.calls)
    sample = call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")
    assert (await aio(cs.command(identity, sample))).status == "Accepted"
    start = call.RemoteStartTransaction(id_tag="TAG-1", connector_id=1)
    assert (await aio(cs.command(identity, start))).status == "Accepted"
    await wait_for(lambda: len(cs.received(identity, "MeterValues")) >= 3)
    tx = cs.next_transaction
    stop = call.RemoteStopTransaction(transaction_id=tx)
    assert (await aio(cs.command(identity, stop))).status == "Accepted"
    await wait_for(lambda: cs.received(identity, "StopTransaction"))

    sent = [r for r in cs.calls[first:] if r.identity == identity and r.action != "Heartbeat"]
    actions = [r.action for r in sent]
    assert ("Authorize" in actions) is authorize
    if authorize:
        assert sent[actions.index("Authorize")].payload == {"idTag": "TAG-1"}
        assert actions.index("Authorize") < actions.index("StartTransaction")
    assert actions.index("StartTransaction") < actions.index("MeterValues")
    started = sent[actions.index("StartTransaction")].payload
    assert (started["connectorId"], started["idTag"]) == (1, "TAG-1")
    statuses = [r.payload for r in sent if r.action == "StatusNotification"]
    assert [s["status"] for s in statuses if s["connectorId"] == 1][:2] == [
        "Preparing",
        "Charging",
    ]
    meter = [r for r in sent if r.action == "MeterValues"]
    assert all(r.payload["transactionId"] == tx for r in meter)
    assert all(0.7 <= gap <= 1.6 for gap in gaps(meter)), gaps(meter)
    values = meter[-1].payload["meterValue"][0]["sampledValue"]
    assert {v["measurand"] for v in values} >= {"Energy.Active.Import.Register", "Voltage"}
    assert {v["context"] for v in values} == {"Sample.Periodic"}
    stopped = sent[actions.index("StopTransaction")].payload
    assert stopped["reason"] == "Remote" and stopped["transactionId"] == tx
    assert stopped["meterStop"] > started["meterStart"]


@pytest_twisted.ensureDeferred
async def test_get_and_change_configuration(cs: IndependentCentral, emulator: Start) -> None:
    """GetConfiguration reads keys, ChangeConfiguration changes them (or says why not)."""
    await emulator("CP1")
    await wait_for(lambda: cs.received(CP1, "StatusNotification"))
    some = await aio(
        cs.command(CP1, call.GetConfiguration(key=["HeartbeatInterval", "ChargePointVendor", "X"]))
    )
    assert some.configuration_key == [
        # the file says 600; the interval of the Accepted boot (1 s here) replaced it
        {"key": "HeartbeatInterval", "readonly": False, "value": "1"},
        {"key": "ChargePointVendor", "readonly": True, "value": "Emulator"},
    ]
    assert some.unknown_key == ["X"]
    every = await aio(cs.command(CP1, call.GetConfiguration()))
    keys = {k["key"]: k["value"] for k in every.configuration_key}
    assert keys["MeterValueSampleInterval"] == "60" and keys["NumberOfConnectors"] == "1"
    changes = [
        ("HeartbeatInterval", "2", "Accepted"),
        ("ChargePointVendor", "Other", "Rejected"),
        ("HeartbeatInterval", "soon", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
        ("WebSocketPingInterval", "20", "RebootRequired"),
    ]
    for key, value, expected in changes:
        reply = await aio(cs.command(CP1, call.ChangeConfiguration(key=key, value=value)))
        assert (key, value, reply.status) == (key, value, expected)
    after = await aio(cs.command(CP1, call.GetConfiguration(key=["HeartbeatInterval"])))
    assert after.configuration_key[0]["value"] == "2"
    first = len(cs.received(CP1, "Heartbeat"))
    await wait_for(lambda: len(cs.received(CP1, "Heartbeat")) >= first + 2)
    assert all(1.7 <= gap <= 2.6 for gap in gaps(cs.received(CP1, "Heartbeat")[first:]))


@pytest_twisted.ensureDeferred
async def test_trigger_message(cs: IndependentCentral, emulator: Start) -> None:
    """Each TriggerMessage is Accepted and followed by the message it asked for."""
    await emulator("CP4")
    await wait_for(lambda: len(cs.received(CP4, "StatusNotification")) >= 5)

    async def trigger(message: str, **kwargs: Any) -> Received:
        before = len(cs.received(CP4, message))
        reply = await aio(cs.command(CP4, call.TriggerMessage(requested_message=message, **kwargs)))
        assert reply.status == "Accepted"
        return (await wait_for(lambda: cs.received(CP4, message)[before:]))[0]

    status = await trigger("StatusNotification", connector_id=3)
    assert (status.payload["connectorId"], status.payload["status"]) == (3, "Available")
    meter = await trigger("MeterValues", connector_id=2)
    assert meter.payload["connectorId"] == 2 and "transactionId" not in meter.payload
    assert {v["context"] for v in meter.payload["meterValue"][0]["sampledValue"]} == {"Trigger"}
    assert (await trigger("BootNotification")).payload["chargePointModel"] == "KK Quad AC"
    assert (await trigger("DiagnosticsStatusNotification")).payload == {"status": "Idle"}
    assert (await trigger("FirmwareStatusNotification")).payload == {"status": "Idle"}
    beat = await trigger("Heartbeat")
    assert beat.payload == {}
    wrong = await aio(
        cs.command(CP4, call.TriggerMessage(requested_message="StatusNotification", connector_id=9))
    )
    assert wrong.status == "Rejected"
