"""
Central-system-initiated calls through C{service.registry.call(...)} to real
WebSocket stations: results, every failure type, flow control, and a
station's connection being replaced.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import pytest_twisted
from websockets.exceptions import ConnectionClosed

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
    StationOffline,
    UnknownStation,
)
from tests.integration.conftest import Central, aio, as_future
from tests.integration.rawstation import WAIT, RawStation

RESET = {"type": "Soft"}


def call(central: Central, identity: str, action: str, payload: dict[str, Any], **kw: Any) -> Any:
    """C{registry.call(...)} as an asyncio future."""
    return as_future(central.service.registry.call(identity, action, payload, **kw))


async def expect_call(station: RawStation, action: str) -> tuple[str, dict[str, Any]]:
    """Receive the central system's next frame: a CALL of C{action}; return its id and payload."""
    frame = await station.recv()
    assert frame[0] == 2 and frame[2] == action, frame
    return frame[1], frame[3]


@pytest_twisted.ensureDeferred
async def test_call_result(central: Central) -> None:
    """The station's CALLRESULT payload is what registry.call fires with."""

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        station = await RawStation.connect(central.url, "CALL-1")
        try:
            await station.boot()
            reply = call(central, "CALL-1", "ChangeConfiguration", {"key": "K", "value": "V"})
            unique_id, payload = await expect_call(station, "ChangeConfiguration")
            await station.send([3, unique_id, {"status": "RebootRequired"}])
            return payload, await asyncio.wait_for(reply, WAIT)
        finally:
            await station.close()

    sent, result = await aio(scenario())
    assert sent == {"key": "K", "value": "V"}
    assert result == {"status": "RebootRequired"}
    frames = await central.service.backend.list_frames("CALL-1")
    assert [(f["direction"], f["message_type"], f["action"]) for f in frames[:2]] == [
        ("in", 3, "ChangeConfiguration"),
        ("out", 2, "ChangeConfiguration"),
    ]


@pytest_twisted.ensureDeferred
async def test_calls_cross_on_the_wire(central: Central) -> None:
    """
    With a central-system CALL in flight the station may send its own CALLs:
    they are answered, and its reply to the CALL in flight still completes it.
    """

    async def scenario() -> dict[str, Any]:
        station = await RawStation.connect(central.url, "CALL-X")
        try:
            await station.boot()
            reply = call(central, "CALL-X", "TriggerMessage", {"requestedMessage": "Heartbeat"})
            unique_id, _ = await expect_call(station, "TriggerMessage")
            heartbeat = await station.heartbeat()
            status = await station.result(
                "StatusNotification",
                {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
            )
            await station.send([3, unique_id, {"status": "Accepted"}])
            return {
                "heartbeat": heartbeat,
                "status": status,
                "reply": await asyncio.wait_for(reply, WAIT),
            }
        finally:
            await station.close()

    out = await aio(scenario())
    assert "currentTime" in out["heartbeat"] and out["status"] == {}
    assert out["reply"] == {"status": "Accepted"}


@pytest_twisted.ensureDeferred
async def test_call_error_from_station(central: Central) -> None:
    """A CALLERROR from the station fails the call with StationCallError carrying its fields."""

    async def scenario() -> BaseException:
        station = await RawStation.connect(central.url, "CALL-ERR")
        try:
            reply = call(central, "CALL-ERR", "Reset", RESET)
            unique_id, _ = await expect_call(station, "Reset")
            await station.send([4, unique_id, "NotSupported", "no resets here", {"why": "test"}])
            with pytest.raises(StationCallError) as caught:
                await asyncio.wait_for(reply, WAIT)
            return caught.value
        finally:
            await station.close()

    error = await aio(scenario())
    assert isinstance(error, StationCallError)
    assert (error.identity, error.action) == ("CALL-ERR", "Reset")
    assert error.error_code == "NotSupported"
    assert error.error_description == "no resets here"
    assert error.error_details == {"why": "test"}


@pytest_twisted.ensureDeferred
async def test_invalid_reply_from_station(central: Central) -> None:
    """A CALLRESULT that fails the response schema fails the call with InvalidReply."""

    async def scenario() -> BaseException:
        station = await RawStation.connect(central.url, "CALL-BADREPLY")
        try:
            reply = call(central, "CALL-BADREPLY", "Reset", RESET)
            unique_id, _ = await expect_call(station, "Reset")
            await station.send([3, unique_id, {"status": "Maybe"}])
            with pytest.raises(InvalidReply) as caught:
                await asyncio.wait_for(reply, WAIT)
            return caught.value
        finally:
            await station.close()

    error = await aio(scenario())
    assert isinstance(error, InvalidReply)
    assert error.path == "$.status"


@pytest_twisted.ensureDeferred
async def test_call_timeout(central: Central) -> None:
    """
    No reply within the timeout argument fails the call with CallTimeout; a
    late reply is ignored and the next call goes out.
    """

    async def scenario() -> tuple[BaseException, float, dict[str, Any]]:
        station = await RawStation.connect(central.url, "CALL-SLOW")
        try:
            started = time.monotonic()
            reply = call(central, "CALL-SLOW", "Reset", RESET, timeout=0.3)
            late_id, _ = await expect_call(station, "Reset")
            with pytest.raises(CallTimeout) as caught:
                await asyncio.wait_for(reply, WAIT)
            elapsed = time.monotonic() - started
            await station.send([3, late_id, {"status": "Accepted"}])
            following = call(central, "CALL-SLOW", "ClearCache", {})
            next_id, _ = await expect_call(station, "ClearCache")
            assert next_id != late_id
            await station.send([3, next_id, {"status": "Accepted"}])
            return caught.value, elapsed, await asyncio.wait_for(following, WAIT)
        finally:
            await station.close()

    error, elapsed, following = await aio(scenario())
    assert isinstance(error, CallTimeout)
    assert error.timeout == 0.3 and error.action == "Reset"
    assert 0.25 <= elapsed < 2
    assert following == {"status": "Accepted"}


@pytest_twisted.ensureDeferred
async def test_disconnect_while_in_flight(central: Central) -> None:
    """
    The station closing with a call in flight (and one queued) fails both with
    StationDisconnected; afterwards the station is StationOffline.
    """

    async def scenario() -> list[BaseException]:
        station = await RawStation.connect(central.url, "CALL-GONE")
        in_flight = call(central, "CALL-GONE", "Reset", RESET)
        queued = call(central, "CALL-GONE", "ClearCache", {})
        try:
            await expect_call(station, "Reset")
        finally:
            await station.close()
        errors = []
        for reply in (in_flight, queued):
            with pytest.raises(StationDisconnected) as caught:
                await asyncio.wait_for(reply, WAIT)
            errors.append(caught.value)
        with pytest.raises(StationOffline) as caught:
            await asyncio.wait_for(call(central, "CALL-GONE", "Reset", RESET), WAIT)
        errors.append(caught.value)
        return errors

    errors = await aio(scenario())
    assert [(type(e), e.action) for e in errors] == [
        (StationDisconnected, "Reset"),
        (StationDisconnected, "ClearCache"),
        (StationOffline, "Reset"),
    ]
    assert "CALL-GONE" not in central.service.registry


@pytest_twisted.ensureDeferred
async def test_unknown_station(central: Central) -> None:
    """A call to an identity never seen fails with UnknownStation."""
    with pytest.raises(UnknownStation) as caught:
        await central.service.registry.call("NEVER-SEEN", "Reset", RESET)
    assert caught.value.identity == "NEVER-SEEN"


@pytest_twisted.ensureDeferred
async def test_known_station_offline(central: Central) -> None:
    """A call to a station that booted once but is not connected fails with StationOffline."""

    async def scenario() -> None:
        station = await RawStation.connect(central.url, "CALL-OFF")
        try:
            await station.boot()
        finally:
            await station.close()

    await aio(scenario())
    assert "CALL-OFF" not in central.service.registry
    with pytest.raises(StationOffline) as caught:
        await central.service.registry.call("CALL-OFF", "Reset", RESET)
    assert caught.value.identity == "CALL-OFF"


@pytest.mark.parametrize(
    ("action", "payload", "path"),
    [
        ("Reset", {"type": "Medium"}, "$.type"),
        ("Reset", {}, ""),
        ("Reset", {"type": "Soft", "when": "now"}, ""),
        ("ChangeAvailability", {"connectorId": "1", "type": "Operative"}, "$.connectorId"),
        ("Heartbeat", {}, ""),
        ("FooBar", {}, ""),
    ],
    ids=["bad enum", "missing type", "extra property", "wrong type", "station action", "unknown"],
)
@pytest_twisted.ensureDeferred
async def test_invalid_command_not_sent(
    central: Central, action: str, payload: dict[str, Any], path: str
) -> None:
    """An unknown action or a payload failing its schema: InvalidCommand, and nothing is sent."""

    async def scenario() -> tuple[BaseException, dict[str, Any]]:
        station = await RawStation.connect(central.url, "CALL-INVALID")
        try:
            with pytest.raises(InvalidCommand) as caught:
                await asyncio.wait_for(call(central, "CALL-INVALID", action, payload), WAIT)
            await station.expect_nothing(0.2)
            # The next valid command is the first frame the station sees.
            reply = call(central, "CALL-INVALID", "ClearCache", {})
            unique_id, _ = await expect_call(station, "ClearCache")
            await station.send([3, unique_id, {"status": "Accepted"}])
            return caught.value, await asyncio.wait_for(reply, WAIT)
        finally:
            await station.close()

    error, following = await aio(scenario())
    assert isinstance(error, InvalidCommand)
    assert error.action == action
    if path:
        assert error.path == path
    assert following == {"status": "Accepted"}
    frames = await central.service.backend.list_frames("CALL-INVALID")
    assert [f["action"] for f in frames if f["direction"] == "out"] == ["ClearCache"]


@pytest_twisted.ensureDeferred
async def test_queued_calls_one_at_a_time_in_order(central: Central) -> None:
    """Queued calls go out one at a time, in order: the next CALL only after the previous reply."""

    async def scenario() -> list[Any]:
        station = await RawStation.connect(central.url, "CALL-Q")
        seen: list[Any] = []
        try:
            replies = [
                call(central, "CALL-Q", "Reset", RESET),
                call(central, "CALL-Q", "ClearCache", {}),
                call(central, "CALL-Q", "GetLocalListVersion", {}),
            ]
            session = central.service.registry.get("CALL-Q")
            assert session is not None
            seen.append(("queued", session.queued))
            answers: list[dict[str, Any]] = [
                {"status": "Accepted"},
                {"status": "Rejected"},
                {"listVersion": 7},
            ]
            for action, answer in zip(
                ["Reset", "ClearCache", "GetLocalListVersion"], answers, strict=True
            ):
                unique_id, _ = await expect_call(station, action)
                await station.expect_nothing(0.2)
                seen.append([r.done() for r in replies])
                await station.send([3, unique_id, answer])
            seen.append([await asyncio.wait_for(r, WAIT) for r in replies])
        finally:
            await station.close()
        return seen

    seen = await aio(scenario())
    assert seen == [
        ("queued", 2),
        [False, False, False],
        [True, False, False],
        [True, True, False],
        [{"status": "Accepted"}, {"status": "Rejected"}, {"listVersion": 7}],
    ]


@pytest_twisted.ensureDeferred
async def test_second_connection_replaces_first(central: Central) -> None:
    """
    A second connection with the same identity replaces the first: the old one
    is closed by the server, its pending call fails at once with
    StationDisconnected, and new calls go to the new connection.
    """

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        old = await RawStation.connect(central.url, "CALL-DUP")
        new: RawStation | None = None
        try:
            await old.boot()
            pending = call(central, "CALL-DUP", "Reset", RESET)
            await expect_call(old, "Reset")
            old_session = central.service.registry.get("CALL-DUP")
            new = await RawStation.connect(central.url, "CALL-DUP")
            with pytest.raises(StationDisconnected) as caught:
                await asyncio.wait_for(pending, 0.5)
            out["pending"] = caught.value
            with pytest.raises(ConnectionClosed) as closed:
                await old.recv()
            out["old_close"] = closed.value.rcvd
            out["replaced"] = central.service.registry.get("CALL-DUP") is not old_session
            out["count"] = len(central.service.registry)
            reply = call(central, "CALL-DUP", "ClearCache", {})
            unique_id, _ = await expect_call(new, "ClearCache")
            await new.send([3, unique_id, {"status": "Accepted"}])
            out["new_reply"] = await asyncio.wait_for(reply, WAIT)
            out["heartbeat"] = await new.heartbeat()  # accepted from the store, no new boot
            # The old connection closing did not mark the (still connected) station offline.
            station = await as_future(central.service.backend.get_station("CALL-DUP"))
            out["connected"] = station["connected"]
        finally:
            await old.close()
            if new is not None:
                await new.close()
        return out

    out = await aio(scenario())
    assert isinstance(out["pending"], StationDisconnected)
    assert "replaced" in str(out["pending"])
    assert out["old_close"] is not None and out["old_close"].code == 1000
    assert out["replaced"] is True and out["count"] == 1
    assert out["new_reply"] == {"status": "Accepted"}
    assert "currentTime" in out["heartbeat"]
    assert out["connected"] == 1
