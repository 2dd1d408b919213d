# -*- test-case-name: tests.ocppj.test_frames -*-
"""
OCPP-J message framing (version independent).

    CALL        [2, "<uniqueId>", "<Action>", {payload}]
    CALLRESULT  [3, "<uniqueId>", {payload}]
    CALLERROR   [4, "<uniqueId>", "<errorCode>", "<errorDescription>", {errorDetails}]

L{parse} turns one WebSocket text frame into a L{Call}, L{CallResult} or
L{CallError}, or raises L{FrameError} with the uniqueId when it could be read
(so the caller can still answer with a CALLERROR); L{serialize} does the reverse.

Beside the shape, L{parse} refuses (L{ocppcs.ocppj.jsontext}):
  - a frame nested deeper than 64 levels: FormationViolation;
  - a string holding a lone UTF-16 surrogate (C{"\\ud800"}, valid JSON grammar
    but no Unicode text; OCPP-J 1.6, 4.1.2: messages are UTF-8 JSON): in a
    CALL's payload PropertyConstraintViolation naming the field
    (C{{"path": "$.info"}}), in its action FormationViolation, in its uniqueId
    FormationViolation for uniqueId C{"-1"} (that id cannot be sent back).
    Such a string is rejected rather than repaired (U+FFFD), as a changed
    idTag or meter value would be stored as if the station had sent it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from ocppcs.ocppj import jsontext
from ocppcs.ocppj.errors import ErrorCode
from ocppcs.ocppj.jsontext import MAX_DEPTH

CALL = 2
CALLRESULT = 3
CALLERROR = 4

#: The uniqueId used in a CALLERROR when the offending frame's id can't be read.
UNKNOWN_ID = "-1"

#: The longest uniqueId OCPP-J allows.
MAX_UNIQUE_ID = 36


# NamedTuples rather than dataclasses: one is built for every frame, and a
# tuple is several times cheaper to create than a frozen dataclass. (A
# NamedTuple's body holds only fields and methods: message_type is a property.)


class Call(NamedTuple):
    """A request: C{[2, uniqueId, action, payload]}."""

    unique_id: str
    action: str
    payload: dict[str, Any]

    @property
    def message_type(self) -> int:
        """C{CALL} (2)."""
        return CALL


class CallResult(NamedTuple):
    """A successful reply: C{[3, uniqueId, payload]}."""

    unique_id: str
    payload: dict[str, Any]

    @property
    def message_type(self) -> int:
        """C{CALLRESULT} (3)."""
        return CALLRESULT


class CallError(NamedTuple):
    """An error reply: C{[4, uniqueId, errorCode, errorDescription, errorDetails]}."""

    unique_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = {}  # never mutated

    @property
    def message_type(self) -> int:
        """C{CALLERROR} (4)."""
        return CALLERROR


Frame = Call | CallResult | CallError

MESSAGE_TYPE_NAMES = {CALL: "Call", CALLRESULT: "CallResult", CALLERROR: "CallError"}


class FrameError(Exception):
    """
    A text frame that is not a valid OCPP-J message.

    @ivar unique_id: the uniqueId if it could be read, else L{UNKNOWN_ID}.
    @ivar code: the error code to answer with.
    @ivar message_type: the frame's message type id if it could be read.
    @ivar details: the CALLERROR's errorDetails, e.g. C{{"path": "$.info"}}.
    @ivar action: a CALL's action if it could be read, else C{""} (for the frame log).
    """

    def __init__(
        self,
        description: str,
        unique_id: str = UNKNOWN_ID,
        code: ErrorCode = ErrorCode.FormationViolation,
        message_type: int | None = None,
        details: dict[str, Any] | None = None,
        action: str = "",
    ) -> None:
        super().__init__(description)
        self.description = description
        self.unique_id = unique_id
        self.code = code
        self.message_type = message_type
        self.details = details if details is not None else {}
        self.action = action


NOT_TEXT = "is not valid Unicode text (it holds a lone UTF-16 surrogate)"


def _readable_id(message: list[Any]) -> str:
    if len(message) > 1 and isinstance(message[1], str) and 0 < len(message[1]) <= MAX_UNIQUE_ID:
        return message[1]
    return UNKNOWN_ID


def _fallback(data: bytes | str, error: orjson.JSONDecodeError) -> Any:
    """What orjson refused to read, read otherwise (L{jsontext.fallback}) or refused."""
    try:
        return jsontext.fallback(data, error)
    except jsontext.JsonRefused as e:
        if e.head is not None:
            raise FrameError(e.description, e.head[1], message_type=e.head[0]) from None
        raise FrameError(e.description) from None


def parse(data: bytes | str) -> Frame:
    """
    Parse one OCPP-J text frame.

    @raise FrameError: when C{data} is not JSON, not an array, not shaped
        like one of the three message types, nested deeper than
        L{jsontext.MAX_DEPTH}, or holding a string that is not Unicode text.
    """
    slow = False  # read by the stdlib parser: strings may hold lone surrogates
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        message = _fallback(data, e)
        slow = True
    if not isinstance(message, list):
        raise FrameError("Frame is not a JSON array")
    if not message:
        raise FrameError("Frame is an empty array")
    kind = message[0]
    unique_id = _readable_id(message)
    if slow and unique_id is not UNKNOWN_ID and jsontext.lone_surrogate_path(unique_id):
        raise FrameError(f"uniqueId {NOT_TEXT}", message_type=kind if kind in (2, 3, 4) else None)
    if type(kind) is not int or kind not in MESSAGE_TYPE_NAMES:
        raise FrameError(f"Unknown message type id {kind!r}", unique_id)
    # The depth check, cheap on the hot path: nesting deeper than MAX_DEPTH takes
    # more than 2 * MAX_DEPTH bytes, and more than MAX_DEPTH opening brackets.
    if len(data) > 2 * MAX_DEPTH and jsontext.too_deep(data, message):
        raise FrameError(jsontext.TOO_DEEP, unique_id, message_type=kind)
    if len(message) < 2 or not isinstance(message[1], str):
        raise FrameError("uniqueId must be a string", unique_id, message_type=kind)
    if not 0 < len(message[1]) <= MAX_UNIQUE_ID:
        raise FrameError(
            f"uniqueId must be 1 to {MAX_UNIQUE_ID} characters", unique_id, message_type=kind
        )
    frame: Frame
    if kind == CALL:
        if len(message) != 4:
            raise FrameError("CALL must have 4 elements", unique_id, message_type=kind)
        _, uid, action, payload = message
        if not isinstance(action, str) or not action:
            raise FrameError("CALL action must be a non-empty string", uid, message_type=kind)
        if not isinstance(payload, dict):
            raise FrameError("CALL payload must be a JSON object", uid, message_type=kind)
        frame = Call(uid, action, payload)
    elif kind == CALLRESULT:
        if len(message) != 3:
            raise FrameError("CALLRESULT must have 3 elements", unique_id, message_type=kind)
        if not isinstance(message[2], dict):
            raise FrameError(
                "CALLRESULT payload must be a JSON object", unique_id, message_type=kind
            )
        frame = CallResult(message[1], message[2])
    else:
        frame = _call_error(message, unique_id)
    if slow:
        _refuse_surrogates(frame)
    return frame


def _call_error(message: list[Any], unique_id: str) -> CallError:
    # Be lenient about a missing description/details, strict on types.
    if not 3 <= len(message) <= 5:
        raise FrameError("CALLERROR must have 5 elements", unique_id, message_type=CALLERROR)
    code = message[2]
    description = message[3] if len(message) > 3 else ""
    details = message[4] if len(message) > 4 else {}
    if (
        not isinstance(code, str)
        or not isinstance(description, str)
        or not isinstance(details, dict)
    ):
        raise FrameError("CALLERROR fields have the wrong types", unique_id, message_type=CALLERROR)
    return CallError(message[1], code, description, details)


def _refuse_surrogates(frame: Frame) -> None:
    """Raise L{FrameError} for the first string of C{frame} holding a lone surrogate."""
    kind, uid = frame.message_type, frame.unique_id
    if type(frame) is Call:
        if jsontext.lone_surrogate_path(frame.action):
            raise FrameError(f"CALL action {NOT_TEXT}", uid, message_type=kind)
        path = jsontext.lone_surrogate_path(frame.payload)
        code = ErrorCode.PropertyConstraintViolation
        action = frame.action
    elif type(frame) is CallResult:
        path = jsontext.lone_surrogate_path(frame.payload)
        code, action = ErrorCode.FormationViolation, ""
    else:
        assert type(frame) is CallError
        path = jsontext.lone_surrogate_path(
            {
                "errorCode": frame.error_code,
                "errorDescription": frame.error_description,
                "errorDetails": frame.error_details,
            }
        )
        code, action = ErrorCode.FormationViolation, ""
    if path is not None:
        raise FrameError(f"{path} {NOT_TEXT}", uid, code, kind, {"path": path}, action)


def serialize(frame: Frame) -> bytes:
    """Encode a frame as the UTF-8 bytes of one text frame."""
    if type(frame) is Call:
        return orjson.dumps([CALL, frame.unique_id, frame.action, frame.payload])
    if type(frame) is CallResult:
        return orjson.dumps([CALLRESULT, frame.unique_id, frame.payload])
    assert type(frame) is CallError
    return orjson.dumps(
        [CALLERROR, frame.unique_id, frame.error_code, frame.error_description, frame.error_details]
    )
