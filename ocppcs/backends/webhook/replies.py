# -*- test-case-name: tests.backends.test_webhook_replies -*-
"""
What the webhook's receiver answers, read and checked before anything
reaches a station (section 4c of the original's behaviour):

    2xx {"payload": {...}}                          -> the CALLRESULT payload
    2xx {"messageTypeId": 3 | "CallResult", ...}    -> the same
    2xx {"messageTypeId": 4 | "CallError", "errorCode", "errorDescription",
         "errorDetails"}                           -> that CALLERROR, relayed

Anything else is a L{WebhookFailure} with the reason it is counted under
and the description the station gets with its InternalError.

L{read_answer} checks an answer already parsed; the PostgreSQL decider
uses it for what C{ocpp.Parse} returns (there the payload may also come
bare, without C{messageTypeId}), with its own L{DeciderFailure} subclass.
"""

from __future__ import annotations

from typing import Any

import orjson
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import CallContext
from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation

_CODES = frozenset(code.value for code in ErrorCode)
_RESULT = (3, "CallResult")
_ERROR = (4, "CallError")


class DeciderFailure(OcppError):
    """
    A decider's system of record could not answer: CALLERROR InternalError
    to the station.

    @cvar source: what could not answer, in the descriptions (C{"Webhook"}).
    @ivar reason: the metrics label (for the webhook: C{status}, C{parse},
        C{invalid}, C{timeout}, C{fetch}, C{busy}).
    @ivar detail: what went wrong, for the log (never sent to the station).
    """

    code = ErrorCode.InternalError
    source = "Decider"

    def __init__(self, reason: str, description: str, detail: str = "") -> None:
        super().__init__(description)
        self.reason = reason
        self.detail = detail or description


class WebhookFailure(DeciderFailure):
    """The webhook's receiver could not answer."""

    source = "Webhook"


def read_reply(action: str, body: bytes, schemas: SchemaSet) -> dict[str, Any]:
    """
    The CALLRESULT payload of a 2xx answer C{body} to a call of C{action}.

    @raise OcppError: the receiver's CALLERROR, to relay.
    @raise WebhookFailure: for a body that is not a JSON object, an unknown
        C{messageTypeId}, an errorCode OCPP-J does not have, or a payload
        that fails the action's 1.6 response schema.
    """
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise WebhookFailure("parse", "Webhook response parse error", f"not JSON: {e}") from None
    return read_answer(action, answer, schemas)


def read_answer(
    action: str,
    answer: Any,
    schemas: SchemaSet,
    failure: type[DeciderFailure] = WebhookFailure,
    bare: bool = False,
) -> dict[str, Any]:
    """
    The CALLRESULT payload of a parsed C{answer} to a call of C{action}.

    @param failure: the L{DeciderFailure} raised for a malformed answer.
    @param bare: whether an answer without C{messageTypeId} is the payload
        itself (rather than C{{"payload": ...}}).
    @raise OcppError: the answer's CALLERROR, to relay.
    @raise DeciderFailure: (of class C{failure}) as L{read_reply}.
    """
    if not isinstance(answer, dict):
        raise failure("parse", f"{failure.source} response parse error", "not a JSON object")
    kind = answer.get("messageTypeId", 3)
    if kind in _ERROR and not isinstance(kind, bool):
        raise _call_error(answer, failure)
    if kind not in _RESULT or isinstance(kind, bool):
        raise _invalid(failure, f"messageTypeId {kind!r} is neither 3/CallResult nor 4/CallError")
    payload = answer if bare and "messageTypeId" not in answer else answer.get("payload", {})
    if not isinstance(payload, dict):
        raise _invalid(failure, "payload is not a JSON object", "$")
    try:
        schemas.validate_response(action, payload)
    except SchemaViolation as e:
        raise _invalid(failure, e.description, e.path) from None
    return payload


def _call_error(answer: dict[str, Any], failure: type[DeciderFailure]) -> OcppError:
    code = answer.get("errorCode", "InternalError")
    if code not in _CODES:
        return _invalid(failure, f"errorCode {code!r} is not an OCPP-J error code", "errorCode")
    description = answer.get("errorDescription", "")
    if not isinstance(description, str):
        return _invalid(failure, "errorDescription is not a string", "errorDescription")
    details = answer.get("errorDetails") or answer.get("payload") or {}
    if not isinstance(details, dict):
        return _invalid(failure, "errorDetails is not a JSON object", "errorDetails")
    return OcppError(description, details, ErrorCode(code))


def _invalid(
    failure: type[DeciderFailure], problem: str, field: str = "messageTypeId"
) -> DeciderFailure:
    return failure(
        "invalid",
        f"{failure.source} response invalid",
        f"{problem} (field {field})",
    )


def note_failure(
    log: Logger,
    failure: Failure,
    ctx: CallContext,
    failures: dict[str, int],
    source: str,
    answerer: str,
) -> Failure:
    """
    Log (and count in C{failures}, by reason) C{failure} of the call C{ctx}
    to a remote decider: a L{DeciderFailure} as an error naming C{source}
    (e.g. the receiver's URL), a relayed CALLERROR as information naming
    C{answerer}.

    @return: C{failure}, for the station's answer.
    """
    error = failure.value
    if isinstance(error, DeciderFailure):
        failures[error.reason] = failures.get(error.reason, 0) + 1
        log.error(
            "{source} could not answer {action} {unique_id} of {identity} ({reason}): {detail}",
            source=source,
            action=ctx.action,
            unique_id=ctx.unique_id,
            identity=ctx.identity,
            reason=error.reason,
            detail=error.detail,
        )
    elif isinstance(error, OcppError):
        log.info(
            "{answerer} answered {action} {unique_id} of {identity} with CALLERROR"
            " {code}: {description}",
            answerer=answerer,
            action=ctx.action,
            unique_id=ctx.unique_id,
            identity=ctx.identity,
            code=error.code.value,
            description=error.description,
        )
    return failure
