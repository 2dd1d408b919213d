"""
Bad input over the wire, from real WebSocket clients against the real
central system: every CALLERROR case, handshake refusals, oversized frames,
dead connections, and the frame log. Nothing a station sends may break its
connection's handler.
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import websockets
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from ocppcs.callerrors import StationDisconnected
from tests.integration.conftest import Central, aio, as_future, start_central, stop_central
from tests.integration.rawstation import WAIT, RawStation, call_error

FV = "FormationViolation"

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
        "a security whitepaper action",
        '[2, "sec", "SecurityEventNotification",'
        ' {"type": "x", "timestamp": "2026-01-01T00:00:00Z"}]',
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
]


async def expect_alive(station: RawStation) -> None:
    """The connection still answers: boot Accepted, then a Heartbeat."""
    assert (await station.boot())["status"] == "Accepted"
    assert "currentTime" in await station.heartbeat()


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


# --- the handshake --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ocpp/" + "A" * 49, 400),
        ("/ocpp/", 400),
        ("/ocpp/AB%01CD", 400),
        ("/ocpp/AB%0ACD", 400),
        ("/ocpp/%FF%FE", 400),
        ("/ocpp/ST/%01", 400),
        ("/ocpp/a/b/c", 404),
        ("/foo", 404),
        ("/", 404),
    ],
)
@pytest_twisted.ensureDeferred
async def test_handshake_refused(central: Central, path: str, status: int) -> None:
    """A path that names no valid station is refused with an HTTP error, not upgraded."""

    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as caught:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{central.port}{path}", subprotocols=["ocpp1.6"], open_timeout=WAIT
            )
            await ws.close()
        return caught.value.response.status_code

    assert await aio(scenario()) == status
    assert len(central.service.registry) == 0


@pytest_twisted.ensureDeferred
async def test_longest_identity_and_account_accepted(central: Central) -> None:
    """A 48-character identity with an account path segment connects; the account is stored."""
    identity = "B" * 48

    async def scenario() -> str | None:
        ws = await websockets.connect(
            f"{central.url}/{identity}/acct-7", subprotocols=["ocpp1.6"], open_timeout=WAIT
        )
        try:
            station = RawStation(ws, identity)
            await expect_alive(station)
            return ws.subprotocol
        finally:
            await ws.close()

    assert await aio(scenario()) == "ocpp1.6"
    station = await central.service.backend.get_station(identity)
    assert station["account"] == "acct-7"


@pytest.mark.parametrize("offered", [[], ["ocpp2.0.1"]], ids=["none", "ocpp2.0.1"])
@pytest_twisted.ensureDeferred
async def test_no_supported_subprotocol_closed_1002(central: Central, offered: list[str]) -> None:
    """Without ocpp1.6 offered the handshake completes with no subprotocol, then closes (1002)."""

    async def scenario() -> tuple[str | None, int | None]:
        try:
            ws = await websockets.connect(
                f"{central.url}/NOPROTO", subprotocols=offered or None, open_timeout=WAIT
            )
        except InvalidMessage as e:
            pytest.fail(f"the server aborted the connection instead of a 101 then 1002: {e!r}")
        try:
            with pytest.raises(ConnectionClosed) as caught:
                await asyncio.wait_for(ws.recv(), WAIT)
            assert caught.value.rcvd is not None, "the server sent no close frame"
            return ws.subprotocol, caught.value.rcvd.code
        finally:
            await ws.close()

    assert await aio(scenario()) == (None, 1002)
    assert "NOPROTO" not in central.service.registry


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fragmented", [False, True], ids=["one frame", "fragmented message"])
@pytest_twisted.ensureDeferred
async def test_oversized_frame_closes_1009(tmp_path: Path, fragmented: bool) -> None:
    """
    A frame (or a message in several smaller frames) larger than [server]
    max_frame_size closes the connection with 1009; a smaller one is answered.
    """
    central = await start_central(
        tmp_path, server={"max_frame_size": 1024}, known_vendors=("acme",)
    )

    def transfer(size: int) -> str:
        frame = '[2, "dt", "DataTransfer", {"vendorId": "acme", "data": "%s"}]'
        return frame % ("x" * (size - len(frame) + 2))

    async def scenario() -> tuple[dict[str, Any], int | None]:
        station = await RawStation.connect(central.url, "BIG-1", compression=None)
        try:
            await station.boot()
            await station.send(transfer(1000))
            small = await station.recv()
            assert "BIG-1" in central.service.registry
            big = transfer(2000)
            if fragmented:  # three frames of at most 700 bytes
                await station.ws.send(iter([big[:700], big[700:1400], big[1400:]]))
            else:
                await station.send(big)
            with pytest.raises(ConnectionClosed) as caught:
                await station.recv()
            assert caught.value.rcvd is not None, (
                "the server dropped the TCP connection without a close frame (expected 1009)"
            )
            return small[2], caught.value.rcvd.code
        finally:
            await station.close()

    try:
        assert len(transfer(1000)) == 1000
        small, code = await aio(scenario())
        assert small == {"status": "Accepted"}
        assert code == 1009
        assert "BIG-1" not in central.service.registry
    finally:
        await stop_central(central)


async def raw_upgrade(
    port: int, identity: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand: the connection then never answers a ping."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), WAIT)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ocpp/{identity} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"ocpp1.6" in head.lower(), head
    return reader, writer


async def read_until_dropped(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes or resets the connection."""
    received = b""
    try:
        while chunk := await reader.read(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


async def wait_until(predicate: Any, timeout: float) -> None:
    """Poll C{predicate} every 50 ms until it is true, at most C{timeout} seconds."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


@pytest_twisted.ensureDeferred
async def test_dead_connection_dropped(tmp_path: Path) -> None:
    """
    With 2 s pings and a 2 s pong timeout, a peer that never answers pings is
    dropped and leaves the registry; a live peer on the same server stays.
    (Client and server share one event loop here, so the bounds leave room
    for a busy machine.)
    """
    central = await start_central(
        tmp_path, server={"ping_interval": 2, "ping_timeout": 2, "call_timeout": 15}
    )
    registry = central.service.registry

    async def scenario() -> bytes:
        live = await RawStation.connect(central.url, "LIVE-1")
        reader, writer = await raw_upgrade(central.port, "DEAD-1")
        try:
            await expect_alive(live)
            await wait_until(lambda: "DEAD-1" in registry, WAIT)
            # A command to the dead station (call_timeout is 15 s, longer than the drop).
            pending = as_future(registry.call("DEAD-1", "Reset", {"type": "Soft"}))
            # Read (but never answer) until the server gives up on us.
            received = await asyncio.wait_for(read_until_dropped(reader), 10)
            await wait_until(lambda: "DEAD-1" not in registry, WAIT)
            with pytest.raises(StationDisconnected):
                await asyncio.wait_for(pending, WAIT)
            assert "LIVE-1" in registry
            assert "currentTime" in await live.heartbeat()
            return received
        finally:
            writer.close()
            await live.close()

    try:
        received = await aio(scenario())
        # The server sent the Reset CALL (a text frame) and pinged (opcode 9)
        # before dropping the connection.
        assert received[:1] == b"\x81", received
        assert b"Reset" in received and b"\x89" in received[1:], received
        station = await central.service.backend.get_station("DEAD-1")
        assert station["connected"] == 0
    finally:
        await stop_central(central)
