"""
The webhook backend's requests and what it relays, with a real receiver
(twisted.web on a free port) and real stations over WebSocket: method,
headers for each authorization scheme, the JSON body, the receiver's
CALLRESULT and CALLERROR relayed, and the record's copies in the REST API.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import orjson
import pytest
import pytest_twisted
from twisted.logger import globalLogPublisher

from tests.backends.webhooktools import eventually
from tests.integration.conftest import aio
from tests.integration.rawstation import now
from tests.receiver import Receiver, start_receiver


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, None),
        ({"authorization": "Basic", "username": "op", "password": "pw:1"}, "Basic "),
        ({"authorization": "Bearer", "token": "t0ken"}, "Bearer t0ken"),
        ({"authorization": "Off", "token": "unused"}, None),
    ],
)
async def test_post_json_with_the_configured_authorization(
    make_hooked: Any, settings: dict[str, Any], expected: str | None
) -> None:
    """Each call is a JSON POST with the action's fields and the configured Authorization."""
    hooked = await make_hooked(**settings)
    station = await hooked.central.station("WH-REQ", boot=False)
    try:
        reply = await aio(
            station.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"})
        )
    finally:
        await aio(station.close())
    assert reply[0] == 3 and reply[2]["status"] == "Accepted"
    [seen] = hooked.receiver.seen
    assert (seen.method, seen.path) == ("POST", "/hook")
    assert seen.header("content-type") == "application/json"
    assert seen.header("x-ocpp-version") == "1.6"
    assert seen.body == {
        "identity": "WH-REQ",
        "uniqueId": reply[1],
        "action": "BootNotification",
        "payload": {"chargePointVendor": "A", "chargePointModel": "M"},
        "account": "",
        "ocppVersion": "1.6",
        "transport": "json",
        "stationVersion": "1.6",
    }
    auth = seen.header("authorization")
    if expected is None:
        assert auth is None
    elif expected == "Basic ":
        assert auth == "Basic " + base64.b64encode(b"op:pw:1").decode()
    else:
        assert auth == expected


@pytest_twisted.ensureDeferred
async def test_account_from_the_path(make_hooked: Any) -> None:
    """The account of C{/ocpp/{identity}/{account}} is sent to the receiver."""
    hooked = await make_hooked()
    station = await hooked.central.station("WH-ACC/acct-7", boot=True)
    await aio(station.close())
    [seen] = hooked.receiver.seen
    assert (seen.body["identity"], seen.body["account"]) == ("WH-ACC", "acct-7")


def _call_error(body: dict[str, Any], kind: Any) -> tuple[int, bytes]:
    return 200, orjson.dumps(
        {
            "identity": body["identity"],
            "uniqueId": body["uniqueId"],
            "action": body["action"],
            "messageTypeId": kind,
            "errorCode": "SecurityError",
            "errorDescription": "not for you",
            "errorDetails": {"why": "unknown"},
        }
    )


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("kind", [4, "CallError"])
async def test_a_call_error_is_relayed(make_hooked: Any, kind: Any) -> None:
    """The receiver's CALLERROR reaches the station as it sent it."""
    receiver = start_receiver(Receiver())
    receiver.handler = lambda body: _call_error(body, kind)
    hooked = await make_hooked(receiver)
    station = await hooked.central.station("WH-ERR")
    try:
        frame = await aio(
            station.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"})
        )
    finally:
        await aio(station.close())
    assert frame == [4, frame[1], "SecurityError", "not for you", {"why": "unknown"}]


@pytest_twisted.ensureDeferred
async def test_a_charging_session_is_recorded_with_the_receivers_ids(make_hooked: Any) -> None:
    """
    The receiver decides (its transactionId reaches the station); the record
    keeps the copies, so the REST API lists the station, its connector, the
    transaction under the receiver's id and its meter values.
    """
    hooked = await make_hooked()
    api = hooked.central.api
    station = await hooked.central.station("WH-SESSION", boot=True)
    try:
        start = await aio(
            station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "T1", "meterStart": 10, "timestamp": now()},
            )
        )
        tid = start["transactionId"]
        assert tid == 1000  # the receiver's, not the store's
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        await aio(station.result("StatusNotification", status))
        value = {"timestamp": now(), "sampledValue": [{"value": "20", "unit": "Wh"}]}
        mv = {"connectorId": 1, "transactionId": tid, "meterValue": [value]}
        await aio(station.result("MeterValues", mv))
        stop = {"transactionId": tid, "meterStop": 30, "timestamp": now(), "idTag": "T1"}
        assert await aio(station.result("StopTransaction", stop)) == {
            "idTagInfo": {"status": "Accepted"}
        }
    finally:
        await aio(station.close())

    async def stored() -> bool:
        reply = await api.get(f"/Transaction/{tid}")
        return reply.status == 200 and reply.json["meterStop"] == 30

    await eventually(stored)
    from tests.emulator.test_end_to_end import conforms

    txn = conforms(await api.get(f"/Transaction/{tid}"), "/Transaction/{id}", "get")
    assert (txn["id"], txn["identity"], txn["meterStart"], txn["meterStop"]) == (
        1000,
        "WH-SESSION",
        10,
        30,
    )
    assert [m["value"] for m in txn["meterValues"]] == ["20"]
    [entry] = conforms(await api.get("/ChargePointList"), "/ChargePointList", "get")
    assert entry["identity"] == "WH-SESSION"
    assert entry["bootNotification"] == {"chargePointVendor": "Acme", "chargePointModel": "Raw"}
    assert entry["statusNotification"]["status"] == "Charging"
    listed = (await api.get("/CentralSystem/TransactionList")).json
    assert [t["id"] for t in listed["TransactionList"]] == [1000]
    assert [r.body["action"] for r in hooked.receiver.seen] == [
        "BootNotification",
        "StartTransaction",
        "StatusNotification",
        "MeterValues",
        "StopTransaction",
    ]


@pytest_twisted.ensureDeferred
async def test_operator_rules_have_no_meaning_in_webhook_mode(make_hooked: Any) -> None:
    """Id-tag and registration changes are the receiver's: 409 with a JSON message."""
    from tests.emulator.test_end_to_end import conforms

    hooked = await make_hooked()
    api = hooked.central.api
    for reply, path, method in [
        (await api.put("/IdTag/T9", {"status": "Accepted"}), "/IdTag/{idTag}", "put"),
        (await api.delete("/IdTag/T9"), "/IdTag/{idTag}", "delete"),
        (
            await api.post("/Onboarding/RefusedIdTags/T9/accept"),
            "/Onboarding/RefusedIdTags/{idTag}/accept",
            "post",
        ),
        (await api.put("/ChargePoint/CP-9"), "/ChargePoint/{identity}", "put"),
        (await api.delete("/ChargePoint/CP-9"), "/ChargePoint/{identity}", "delete"),
        (
            await api.post("/Onboarding/RejectedStations/CP-9/accept"),
            "/Onboarding/RejectedStations/{identity}/accept",
            "post",
        ),
    ]:
        assert "decided by the webhook backend" in reply.error(409)
        conforms(reply, path, method)  # documented in openapi.yaml
    assert (await api.get("/IdTagList")).status == 200  # reading stays possible


@pytest_twisted.ensureDeferred
async def test_secrets_never_appear_in_the_log(make_hooked: Any) -> None:
    """Neither the token nor the password is logged, even when the receiver fails."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        receiver = start_receiver(Receiver())
        receiver.handler = lambda body: (500, b"{}")
        hooked = await make_hooked(receiver, authorization="Bearer", token="s3cr3t-T0KEN")
        station = await hooked.central.station("WH-SECRET")
        frame = await aio(
            station.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"})
        )
        await aio(station.close())
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert frame[2] == "InternalError"
    from twisted.logger import formatEvent

    text = "\n".join(formatEvent(e) + repr(e) for e in events)
    assert "s3cr3t-T0KEN" not in text
    assert "Webhook" in text


@pytest_twisted.ensureDeferred
async def test_at_most_max_concurrent_requests(make_hooked: Any) -> None:
    """With max_concurrent = 2, the third station's call waits for a free slot, then goes."""
    from twisted.internet.defer import Deferred

    receiver = start_receiver(Receiver())
    hooked = await make_hooked(receiver, max_concurrent=2)
    stations = [await hooked.central.station(f"WH-CONC{n}", boot=True) for n in range(3)]
    held: list[Deferred[Any]] = []

    def hold(body: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        held.append(d)
        return d

    receiver.handler = hold
    for station in stations:
        await aio(station.send([2, "c1", "Heartbeat", {}]))

    async def two_held() -> bool:
        return len(held) == 2

    await eventually(two_held)
    await aio(stations[2].expect_nothing(0.3))
    assert len(held) == 2  # the third waits for a slot
    held[0].callback((200, orjson.dumps({"payload": {"currentTime": now()}})))

    async def three_held() -> bool:
        return len(held) == 3

    await eventually(three_held)
    for d in held[1:]:
        d.callback((200, orjson.dumps({"payload": {"currentTime": now()}})))
    for station in stations:
        frame = await aio(station.recv())
        assert frame[0] == 3, frame
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_new_credentials_apply_to_the_next_call(make_hooked: Any) -> None:
    """[webhook] read at use time: a replaced token goes with the next call, same station."""
    hooked = await make_hooked(authorization="Bearer", token="old")
    holder = hooked.central.service.holder
    station = await hooked.central.station("WH-NEW", boot=False)
    try:
        boot = {"chargePointVendor": "A", "chargePointModel": "M"}
        await aio(station.call("BootNotification", boot))
        webhook = dataclasses.replace(holder.current.webhook, token="new")
        holder.replace(dataclasses.replace(holder.current, webhook=webhook))
        await aio(station.call("Heartbeat", {}))
    finally:
        await aio(station.close())
    assert [s.header("authorization") for s in hooked.receiver.seen] == [
        "Bearer old",
        "Bearer new",
    ]
