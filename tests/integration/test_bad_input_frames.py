"""
Bad frames over the wire, from real WebSocket clients against the real
central system: every CALLERROR case, one at a time and all on one connection,
and the frame log of them. Nothing a station sends may break its connection's
handler.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import websockets

from tests.integration.conftest import Central, aio, as_future
from tests.integration.peers import expect_alive, wait_until
from tests.integration.rawstation import RawStation, call_error

FV = "FormationViolation"
PCV = "PropertyConstraintViolation"


def nested(uid: str, depth: int) -> str:
    """A CALL whose arrays and objects nest C{depth} levels in all (the frame is level 1)."""
    inner = depth - 2
    return f'[2, "{uid}", "FooBar", {{"a": ' + "[" * inner + "]" * inner + "}]"


#: A StatusNotification whose info is a lone UTF-16 surrogate escape: valid JSON, not text.
LONE = (
    '[2, "lone", "StatusNotification",'
    ' {"connectorId": 1, "errorCode": "NoError", "status": "Faulted", "info": "\\ud800 lone"}]'
)

#: (what it is, the text frame, the uniqueId and error code of the CALLERROR answering it)
BAD_FRAMES: list[tuple[str, str, str, str]] = [
    ("not JSON", "this is {not json", "-1", FV),
    ("truncated JSON", '[2, "t1", "Heartbeat", {', "-1", FV),
    ("a JSON object", '{"messageTypeId": 2}', "-1", FV),
    ("a JSON string", '"Heartbeat"', "-1", FV),
    ("an empty array", "[]", "-1", FV),
    ("an unknown message type", '[9, "mt-9", "Heartbeat", {}]', "mt-9", FV),
    ("a string message type", '["2", "mt-s", "Heartbeat", {}]', "mt-s", FV),
    ("a CALL without payload", '[2, "no-payload", "Heartbeat"]', "no-payload", FV),
    ("a CALL with extra parts", '[2, "extra", "Heartbeat", {}, {}]', "extra", FV),
    ("a CALL with an array payload", '[2, "arr", "Heartbeat", []]', "arr", FV),
    ("a CALL with a numeric action", '[2, "num-action", 7, {}]', "num-action", FV),
    ("a CALL with an empty action", '[2, "empty-action", "", {}]', "empty-action", FV),
    ("a CALL with a numeric id", '[2, 17, "Heartbeat", {}]', "-1", FV),
    ("a CALL with an empty id", '[2, "", "Heartbeat", {}]', "-1", FV),
    ("a CALL with a 37-character id", f'[2, "{"i" * 37}", "Heartbeat", {{}}]', "-1", FV),
    ("an unknown action", '[2, "unknown", "FooBar", {}]', "unknown", "NotImplemented"),
    ("a CS-initiated action", '[2, "reset", "Reset", {"type": "Hard"}]', "reset", "NotSupported"),
    (
        "a CS-initiated security whitepaper action",
        '[2, "sec", "CertificateSigned", {"certificateChain": "x"}]',
        "sec",
        "NotSupported",
    ),
    (
        "a wrong type",
        '[2, "type", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "M"}]',
        "type",
        "TypeConstraintViolation",
    ),
    (
        "a missing required property",
        '[2, "required", "BootNotification", {"chargePointVendor": "Acme"}]',
        "required",
        "OccurenceConstraintViolation",
    ),
    (
        "a string longer than its maxLength",
        f'[2, "long", "BootNotification", {{"chargePointVendor": "{"v" * 21}",'
        ' "chargePointModel": "M"}]',
        "long",
        "PropertyConstraintViolation",
    ),
    (
        "an additional property",
        '[2, "extra-prop", "BootNotification",'
        ' {"chargePointVendor": "A", "chargePointModel": "M", "colour": "red"}]',
        "extra-prop",
        FV,
    ),
    ("a call before BootNotification", '[2, "early", "Heartbeat", {}]', "early", "SecurityError"),
    ("nested 65 levels", nested("deep-65", 65), "deep-65", FV),
    ("nested 5,000 levels (past orjson's limit)", nested("deep-5k", 5000), "deep-5k", FV),
    ("a lone surrogate in a string", LONE, "lone", PCV),
    ("a lone surrogate in the uniqueId", '[2, "\\udc00", "Heartbeat", {}]', "-1", FV),
]


@pytest.mark.parametrize(
    ("frame", "unique_id", "code"),
    [case[1:] for case in BAD_FRAMES],
    ids=[case[0] for case in BAD_FRAMES],
)
@pytest_twisted.ensureDeferred
async def test_bad_frame_answered(central: Central, frame: str, unique_id: str, code: str) -> None:
    """Each bad frame gets a CALLERROR with the right uniqueId and code; the connection lives on."""

    async def scenario() -> list[Any]:
        station = await RawStation.connect(central.url, "BAD-1")
        try:
            await station.send(frame)
            reply = await station.recv()
            await expect_alive(station)
            assert "BAD-1" in central.service.registry
            return reply
        finally:
            await station.close()

    reply = await aio(scenario())
    assert call_error(reply) == (unique_id, code)
    assert reply[3], "errorDescription should say what is wrong"


@pytest_twisted.ensureDeferred
async def test_all_bad_input_on_one_connection(central: Central) -> None:
    """
    Every bad frame, a binary frame, stray and malformed replies, schema
    failures after the boot: all answered (or ignored) on one connection,
    which still answers a Heartbeat afterwards.
    """

    async def scenario() -> dict[str, Any]:
        station = await RawStation.connect(central.url, "BAD-ALL")
        out: dict[str, Any] = {"errors": []}
        try:
            for _, frame, _, _ in BAD_FRAMES:
                await station.send(frame)
                out["errors"].append(call_error(await station.recv()))
            await station.ws.send(b"\x00\x01binary")
            out["binary"] = call_error(await station.recv())
            # Replies to calls the central system never made are not answered.
            await station.send([3, "nobody-asked", {}])
            await station.send([4, "nobody-asked", "GenericError", "", {}])
            await station.send('[3, "malformed-result"]')
            await station.send('[4, "malformed-error", 5]')
            await station.expect_nothing()
            out["boot"] = await station.boot()
            # Schema failures of a station action after the boot.
            out["bad_status"] = await station.call(
                "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Boom"}
            )
            out["bad_connector"] = await station.call(
                "StartTransaction",
                {"connectorId": "1", "idTag": "T", "meterStart": 0, "timestamp": "x"},
            )
            out["heartbeat"] = await station.heartbeat()
        finally:
            await station.close()
        return out

    out = await aio(scenario())
    assert out["errors"] == [(case[2], case[3]) for case in BAD_FRAMES]
    assert out["binary"] == ("-1", FV)
    assert out["boot"]["status"] == "Accepted"
    assert call_error(out["bad_status"])[1] == "PropertyConstraintViolation"
    assert out["bad_status"][4] == {"path": "$.status"}
    assert call_error(out["bad_connector"])[1] == "TypeConstraintViolation"
    assert out["bad_connector"][4] == {"path": "$.connectorId"}
    assert "currentTime" in out["heartbeat"]


@pytest_twisted.ensureDeferred
async def test_bad_frames_are_in_the_frame_log(central: Central) -> None:
    """Bad frames from a station and the CALLERRORs answering them are in the frame log."""

    async def scenario() -> None:
        station = await RawStation.connect(central.url, "LOG-1")
        try:
            await station.send("garbage!")
            await station.recv()
            await station.send([2, "u-foo", "FooBar", {"x": 1}])
            await station.recv()
            await station.ws.send(b"\xff\xfe")
            await station.recv()
        finally:
            await station.close()

    await aio(scenario())
    rows = await central.service.backend.list_frames("LOG-1")
    seen = [
        (r["direction"], r["message_type"], r["unique_id"], r["action"], r["raw"])
        for r in reversed(rows)
    ]
    assert ("in", 0, "-1", "", "garbage!") in seen
    assert ("in", 2, "u-foo", "FooBar", '[2, "u-foo", "FooBar", {"x": 1}]') in seen
    assert ("in", 0, "-1", "", "<binary frame>") in seen
    out = [s for s in seen if s[0] == "out"]
    assert [(s[1], s[2], s[3]) for s in out] == [
        (4, "-1", ""),
        (4, "u-foo", "FooBar"),
        (4, "-1", ""),
    ]
    assert '"NotImplemented"' in out[1][4]


# --- text that is not Unicode ---------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_a_lone_surrogate_is_answered_under_its_unique_id_and_not_stored(
    central: Central,
) -> None:
    """
    A StatusNotification with a lone surrogate escape gets a CALLERROR for
    its own uniqueId naming the field; nothing of it is stored, the frame log
    holds valid text, and the same call without it (or with a surrogate
    pair) is answered and stored.
    """

    async def scenario() -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        station = await RawStation.connect(central.url, "LONE-1")
        try:
            await station.boot()
            await station.send(LONE)
            refused = await station.recv()
            await expect_alive(station)
            detail = await as_future(central.service.backend.station_detail("LONE-1"))  # type: ignore[attr-defined]
            status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
            good = await station.result("StatusNotification", {**status, "info": "\U0001f600"})
            return refused, detail, good
        finally:
            await station.close()

    refused, before, good = await aio(scenario())
    assert call_error(refused) == ("lone", PCV)
    assert refused[4] == {"path": "$.info"} and "surrogate" in refused[3]
    assert [c for c in before.connectors if c.connector_id == 1] == []
    assert good == {}
    after = await central.service.backend.station_detail("LONE-1")  # type: ignore[attr-defined]
    assert [c.status for c in after.connectors if c.connector_id == 1] == ["Available"]
    rows = await central.service.backend.list_frames("LONE-1")
    logged = {(r["direction"], r["unique_id"]): r for r in rows}
    assert logged[("in", "lone")]["raw"] == LONE  # the escape as sent: valid UTF-8 text
    assert logged[("in", "lone")]["action"] == "StatusNotification"
    assert '"path":"$.info"' in logged[("out", "lone")]["raw"]
    for row in rows:
        row["raw"].encode("utf-8")  # no surrogate anywhere in the log


@pytest.mark.parametrize(
    "data",
    [b'[2, "u8", "Heartbeat", {"x": "\xff"}]', b'[2, "u8", "Heartbeat", {"x": "\xed\xa0\x80"}]'],
    ids=["invalid byte", "UTF-8 encoded surrogate"],
)
@pytest_twisted.ensureDeferred
async def test_a_text_frame_that_is_not_utf8_closes_1007(central: Central, data: bytes) -> None:
    """
    A text frame whose bytes are not UTF-8 fails the WebSocket connection
    with 1007 (RFC 6455, 8.1), as Autobahn does before any OCPP handling;
    nothing of it reaches the frame log.
    """

    async def scenario() -> int | None:
        station = await RawStation.connect(central.url, "UTF8-1")
        try:
            await station.boot()
            await station.ws.send(data, text=True)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await station.recv()
            await wait_until(lambda: "UTF8-1" not in central.service.registry, 3)
            return closed.value.rcvd.code if closed.value.rcvd else None
        finally:
            await station.close()

    assert await aio(scenario()) == 1007
    rows = await central.service.backend.list_frames("UTF8-1")
    assert [r["action"] for r in rows if r["direction"] == "in"] == ["BootNotification"]
