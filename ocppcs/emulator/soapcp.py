# -*- test-case-name: tests.soap.test_emulator_soap -*-
"""
An emulated OCPP-S station's own Charge Point service: the central system's
commands arrive here as SOAP 1.2 requests (C{POST}, any path) and are
answered by the same behaviour as a JSON station's
(L{ocppcs.emulator.commands.StationCommands.answer}).

    POST envelope --parse (hardened)--> chargeBoxIdentity is ours?
      --Side("cp", version).incoming--> operation, 1.6 payload (1.5 mapped)
      --1.6 request schema--> station.answer(action, payload)
      --1.6 response schema--> Side.answer --> envelope: RelatesTo, Action
    a problem --> SOAP 1.2 Fault with the OCPP error code as its Subcode
                  (Sender: HTTP 400, Receiver: HTTP 500)
"""

from __future__ import annotations

from typing import Any, Protocol

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation
from ocppcs.soap import envelope
from ocppcs.soap.codec import SoapDataError
from ocppcs.soap.contract import Operation
from ocppcs.soap.messages import Side

#: Fault codes whose Code is Sender (the request was wrong); the others are Receiver.
_SENDER = frozenset(
    {
        ErrorCode.FormationViolation,
        ErrorCode.PropertyConstraintViolation,
        ErrorCode.OccurenceConstraintViolation,
        ErrorCode.TypeConstraintViolation,
        ErrorCode.ProtocolError,
        ErrorCode.SecurityError,
        ErrorCode.NotImplemented,
        ErrorCode.NotSupported,
    }
)


class Answerer(Protocol):
    """What answers the commands (the emulated station)."""

    identity: str

    def answer(self, action: str, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """Answer command C{action}; fires with the 1.6 reply payload."""


class ChargePointResource(Resource):
    """
    The Charge Point service of one emulated station.

    @param station: answers the commands.
    @param version: C{"1.5"} or C{"1.6"}: the namespace it serves.
    @param schemas: the 1.6 JSON schemas requests and replies are checked against.
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, station: Answerer, version: str, schemas: SchemaSet) -> None:
        super().__init__()
        self._station = station
        self._side = Side("cp", version)
        self._schemas = schemas

    def render_GET(self, request: Any) -> bytes:
        """Only POST carries SOAP."""
        request.setResponseCode(405)
        request.setHeader(b"allow", b"POST")
        return b""

    def render_POST(self, request: Any) -> bytes | int:
        """Answer one command (asynchronously: the station may take its time)."""
        ns = self._side.namespace
        try:
            parsed = envelope.parse(request.content.read())
        except envelope.EnvelopeError as e:
            return self._fault(request, ErrorCode.FormationViolation, str(e))
        msg_id = parsed.headers.get("MessageID", "")
        identity = parsed.headers.get("chargeBoxIdentity", "")
        if parsed.body is None:
            return self._fault(request, ErrorCode.FormationViolation, "a Fault is no request")
        if identity != self._station.identity:
            why = f"chargeBoxIdentity {identity!r} is not {self._station.identity!r}"
            return self._fault(request, ErrorCode.SecurityError, why, msg_id)
        try:
            op, payload = self._side.incoming(parsed.body)
        except KeyError:
            code = (
                ErrorCode.NotSupported
                if parsed.body.tag.startswith(f"{{{ns}}}")
                else (ErrorCode.NotImplemented)
            )
            why = f"{parsed.body.tag} is not a request of this service ({ns})"
            return self._fault(request, code, why, msg_id)
        except SoapDataError as e:
            return self._fault(request, ErrorCode(e.code), str(e), msg_id)
        try:
            self._schemas.validate_request(op.name, payload)
        except SchemaViolation as e:
            return self._fault(request, e.code, f"{e.description} (at {e.path})", msg_id)
        finished = [False]
        request.notifyFinish().addBoth(lambda _: finished.__setitem__(0, True))
        d: Deferred[Any] = maybeDeferred(self._station.answer, op.name, payload)
        d.addCallback(self._reply, op, identity, msg_id)
        d.addErrback(self._failed, op, msg_id)
        d.addCallback(self._write, request, finished)
        return NOT_DONE_YET

    def _reply(self, payload: dict[str, Any], op: Operation, identity: str, msg_id: str) -> Any:
        self._schemas.validate_response(op.name, payload)
        body = self._side.answer(op, payload)
        return 200, envelope.build(
            body, self._side.namespace, identity, op.reply_action, relates_to=msg_id
        )

    def _failed(self, failure: Failure, op: Operation, msg_id: str) -> Any:
        error = failure.value
        if not isinstance(error, OcppError) or isinstance(error, SchemaViolation):
            # A schema violation here is our own reply's: the station's bug, not the request's.
            self._log.failure(
                "{identity}: answering {action} failed",
                failure,
                identity=self._station.identity,
                action=op.name,
            )
            error = OcppError("Could not answer", code=ErrorCode.InternalError)
        return self._fault_body(error.code, error.description, msg_id)

    @staticmethod
    def _write(answer: tuple[int, bytes], request: Any, finished: list[bool]) -> None:
        if finished[0]:
            return  # the central system has gone
        status, data = answer
        request.setResponseCode(status)
        request.setHeader(b"content-type", envelope.CONTENT_TYPE.encode())
        request.write(data)
        request.finish()

    def _fault_body(self, code: ErrorCode, reason: str, msg_id: str = "") -> tuple[int, bytes]:
        sender = code in _SENDER
        data = envelope.build_fault(
            self._side.namespace, "Sender" if sender else "Receiver", code.value, reason, msg_id
        )
        return (400 if sender else 500), data

    def _fault(self, request: Any, code: ErrorCode, reason: str, msg_id: str = "") -> bytes:
        self._log.warn(
            "{identity}: refused a request: {code} {reason}",
            identity=self._station.identity,
            code=code.value,
            reason=reason,
        )
        status, data = self._fault_body(code, reason, msg_id)
        request.setResponseCode(status)
        request.setHeader(b"content-type", envelope.CONTENT_TYPE.encode())
        return data
