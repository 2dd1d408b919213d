"""Unit tests of L{ocppcs.backends.webhook.replies.read_reply}: what the receiver may answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ocppcs.backends.webhook.replies import WebhookFailure, read_reply
from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.schemas import SchemaSet

SCHEMAS = SchemaSet()
NOW = "2026-12-03T08:00:00.000Z"


def _read(answer: Any, action: str = "Heartbeat") -> dict[str, Any]:
    return read_reply(action, orjson.dumps(answer), SCHEMAS)


@pytest.mark.parametrize("kind", [3, "CallResult", None])
def test_a_call_result(kind: Any) -> None:
    """messageTypeId 3, "CallResult" or none: the payload is the CALLRESULT."""
    answer: dict[str, Any] = {"identity": "X", "uniqueId": "1", "payload": {"currentTime": NOW}}
    if kind is not None:
        answer["messageTypeId"] = kind
    assert _read(answer) == {"currentTime": NOW}


def test_no_payload_is_an_empty_one() -> None:
    """An answer without payload answers {} (valid for StatusNotification)."""
    assert _read({"uniqueId": "1"}, "StatusNotification") == {}


def test_call_error_details_default_to_the_payload() -> None:
    """Without errorDetails, the payload is the details (as the original)."""
    with pytest.raises(OcppError) as caught:
        _read({"messageTypeId": "CallError", "errorCode": "NotSupported", "payload": {"a": 1}})
    error = caught.value
    assert not isinstance(error, WebhookFailure)
    assert (error.code, error.description, error.details) == (ErrorCode.NotSupported, "", {"a": 1})


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (b"[1, 2]", "parse", "not a JSON object"),
        (b"", "parse", "not JSON"),
        (orjson.dumps({"messageTypeId": 2}), "invalid", "messageTypeId"),
        (orjson.dumps({"messageTypeId": True}), "invalid", "messageTypeId"),
        (orjson.dumps({"payload": []}), "invalid", "not a JSON object"),
        (orjson.dumps({"payload": {"currentTime": 5}}), "invalid", "$.currentTime"),
        (orjson.dumps({"payload": {"currentTime": NOW, "x": 1}}), "invalid", "x"),
        (orjson.dumps({"messageTypeId": 4, "errorCode": "Bad"}), "invalid", "errorCode"),
        (
            orjson.dumps({"messageTypeId": 4, "errorDescription": 7}),
            "invalid",
            "errorDescription",
        ),
        (orjson.dumps({"messageTypeId": 4, "errorDetails": [1]}), "invalid", "errorDetails"),
    ],
)
def test_what_is_not_relayed(body: bytes, reason: str, detail: str) -> None:
    """Anything malformed is a WebhookFailure (InternalError) naming what is wrong."""
    with pytest.raises(WebhookFailure) as caught:
        read_reply("Heartbeat", body, SCHEMAS)
    assert caught.value.code == ErrorCode.InternalError
    assert caught.value.reason == reason and detail in caught.value.detail, caught.value.detail
