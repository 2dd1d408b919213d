"""Tests for L{ocppcs.ocppj.frames}."""

from __future__ import annotations

import orjson
import pytest

from ocppcs.ocppj import frames
from ocppcs.ocppj.errors import ErrorCode
from ocppcs.ocppj.frames import Call, CallError, CallResult, FrameError, parse, serialize


def test_parse_call() -> None:
    """A CALL frame parses into its uniqueId, action and payload."""
    frame = parse(b'[2, "abc", "Heartbeat", {}]')
    assert frame == Call("abc", "Heartbeat", {})


def test_parse_call_result_and_error() -> None:
    """CALLRESULT and CALLERROR frames parse into their parts."""
    assert parse('[3, "1", {"status": "Accepted"}]') == CallResult("1", {"status": "Accepted"})
    assert parse('[4, "1", "NotSupported", "no", {"a": 1}]') == CallError(
        "1", "NotSupported", "no", {"a": 1}
    )


def test_call_error_missing_details_is_tolerated() -> None:
    """A CALLERROR without description and details still parses (stations omit them)."""
    assert parse('[4, "1", "GenericError"]') == CallError("1", "GenericError", "", {})


def test_round_trip() -> None:
    """serialize() is the inverse of parse() for every message type."""
    for frame in (
        Call("u1", "Reset", {"type": "Soft"}),
        CallResult("u2", {"currentTime": "2026-11-24T13:45:00Z"}),
        CallError("u3", "InternalError", "boom", {"why": "x"}),
    ):
        assert parse(serialize(frame)) == frame


@pytest.mark.parametrize(
    "data, unique_id, message",
    [
        (b"not json", "-1", "not valid JSON"),
        (b'{"a": 1}', "-1", "not a JSON array"),
        (b"[]", "-1", "empty array"),
        (b'[9, "x1", "Heartbeat", {}]', "x1", "Unknown message type"),
        (b'["2", "x2", "Heartbeat", {}]', "x2", "Unknown message type"),
        (b'[2, 17, "Heartbeat", {}]', "-1", "uniqueId must be a string"),
        (b'[2, "", "Heartbeat", {}]', "-1", "uniqueId must be"),
        (b'[2, "' + b"x" * 37 + b'", "Heartbeat", {}]', "-1", "uniqueId must be"),
        (b'[2, "x3", "Heartbeat"]', "x3", "4 elements"),
        (b'[2, "x4", "Heartbeat", {}, 1]', "x4", "4 elements"),
        (b'[2, "x5", 5, {}]', "x5", "action"),
        (b'[2, "x6", "Heartbeat", []]', "x6", "JSON object"),
        (b'[3, "x7", []]', "x7", "JSON object"),
        (b'[4, "x8", 1, "d", {}]', "x8", "wrong types"),
    ],
)
def test_malformed_frames(data: bytes, unique_id: str, message: str) -> None:
    """Malformed frames raise FrameError carrying the uniqueId when it is readable."""
    with pytest.raises(FrameError) as info:
        parse(data)
    assert info.value.unique_id == unique_id
    assert message in info.value.description
    assert info.value.code is ErrorCode.FormationViolation


def test_serialize_is_compact_json() -> None:
    """serialize() produces the exact OCPP-J array."""
    data = serialize(CallError("1", "NotImplemented", "Unknown action", {}))
    assert orjson.loads(data) == [frames.CALLERROR, "1", "NotImplemented", "Unknown action", {}]


def _deep(uid: str, depth: int, kind: int = 2) -> bytes:
    head = f'[{kind}, "{uid}", "FooBar", ' if kind == 2 else f'[{kind}, "{uid}", '
    inner = depth - 2
    return head.encode() + b'{"a": ' + b"[" * inner + b"]" * inner + b"}]"


@pytest.mark.parametrize("depth", [65, 1000, 5000])
def test_frames_nested_too_deep_are_refused_under_their_unique_id(depth: int) -> None:
    """Deeper than 64 levels: FormationViolation, for the uniqueId (also past orjson's limit)."""
    with pytest.raises(FrameError) as info:
        parse(_deep("deep", depth))
    assert (info.value.unique_id, info.value.message_type) == ("deep", 2)
    assert info.value.code is ErrorCode.FormationViolation
    assert "deeper than 64 levels" in info.value.description
    with pytest.raises(FrameError) as info:
        parse(_deep("deep-result", depth, kind=3))
    assert (info.value.unique_id, info.value.message_type) == ("deep-result", 3)


def test_a_frame_nested_64_levels_parses() -> None:
    assert parse(_deep("ok", 64)).action == "FooBar"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "data, unique_id, code, path",
    [
        (
            b'[2, "s1", "StatusNotification", {"connectorId": 1, "info": "\\ud800 lone"}]',
            "s1",
            ErrorCode.PropertyConstraintViolation,
            "$.info",
        ),
        (
            b'[2, "s2", "MeterValues", {"meterValue": [{"sampledValue": [{"value": "\\udfff"}]}]}]',
            "s2",
            ErrorCode.PropertyConstraintViolation,
            "$.meterValue[0].sampledValue[0].value",
        ),
        (b'[2, "s3", "Heart\\ud800beat", {}]', "s3", ErrorCode.FormationViolation, None),
        (b'[2, "\\ud800", "Heartbeat", {}]', "-1", ErrorCode.FormationViolation, None),
        (b'[3, "s4", {"key": ["\\ud800"]}]', "s4", ErrorCode.FormationViolation, "$.key[0]"),
        (
            b'[4, "s5", "X", "\\udc00", {}]',
            "s5",
            ErrorCode.FormationViolation,
            "$.errorDescription",
        ),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(
    data: bytes, unique_id: str, code: ErrorCode, path: str | None
) -> None:
    """A lone surrogate escape (valid JSON, not text) is refused under the readable uniqueId."""
    with pytest.raises(FrameError) as info:
        parse(data)
    assert (info.value.unique_id, info.value.code) == (unique_id, code)
    assert info.value.details == ({"path": path} if path else {})
    assert "lone UTF-16 surrogate" in info.value.description
    # What answers it can be sent: no surrogate in the CALLERROR.
    serialize(CallError(unique_id, code.value, info.value.description, info.value.details))


def test_surrogate_pairs_and_a_station_unique_id_of_minus_one_parse() -> None:
    assert parse(b'[2, "-1", "DataTransfer", {"data": "\\ud83d\\ude00"}]') == Call(
        "-1", "DataTransfer", {"data": "\U0001f600"}
    )
