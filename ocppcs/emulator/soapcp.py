# -*- test-case-name: tests.soap.test_emulator_soap -*-
"""
An emulated OCPP-S station's own Charge Point service: the central system's
commands arrive here as SOAP 1.2 requests (C{POST}, any path) and are
answered by the same behaviour as a JSON station's
(L{ocppcs.emulator.commands.StationCommands.answer}).

    POST envelope --parse (hardened, L{ocppcs.soap.envelope})--> chargeBoxIdentity ours?
      --Side("cp", version).incoming: the WSDL's schema--> operation, 1.6 payload
      --1.6 request schema--> station.answer(action, payload)
      --1.6 response schema--> Side.answer --> envelope: Action, MessageID, RelatesTo
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
from ocppcs.soap.envelope import SoapFault
from ocppcs.soap.messages import Side, SoapDataError
from ocppcs.soap.wsdl import Operation

#: The largest request read, in bytes.
MAX_BODY = 1_048_576


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
        message: envelope.Request | None = None
        try:
            message = envelope.parse(request.content.read(), MAX_BODY)
            op, payload = self._command(message)
        except OcppError as e:
            return self._refuse(request, e, message)
        gone = [False]
        request.notifyFinish().addBoth(lambda _: gone.__setitem__(0, True))
        d: Deferred[Any] = maybeDeferred(self._station.answer, op.name, payload)
        d.addCallback(self._reply, op, message)
        d.addErrback(self._failed, op, message)
        d.addCallback(self._write, request, gone)
        return NOT_DONE_YET

    def _command(self, message: envelope.Request) -> tuple[Operation, dict[str, Any]]:
        ns = self._side.namespace
        if message.identity != self._station.identity:
            why = f"chargeBoxIdentity {message.identity!r} is not {self._station.identity!r}"
            raise SoapFault(why, ErrorCode.SecurityError)
        try:
            op, payload = self._side.incoming(message.body)
        except KeyError:
            ours = message.namespace == ns
            why = f"{message.body.tag} is not a request of this service ({ns})"
            raise SoapFault(
                why, ErrorCode.NotSupported if ours else ErrorCode.NotImplemented
            ) from None
        except SoapDataError as e:
            raise SoapFault(str(e)) from None
        self._schemas.validate_request(op.name, payload)
        return op, payload

    def _reply(
        self, payload: dict[str, Any], op: Operation, message: envelope.Request
    ) -> tuple[int, bytes]:
        self._schemas.validate_response(op.name, payload)
        return 200, envelope.reply(message, op.response_action, self._side.answer(op, payload))

    def _failed(
        self, failure: Failure, op: Operation, message: envelope.Request
    ) -> tuple[int, bytes]:
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
        return _status(error), envelope.fault(error, self._side.namespace, message)

    @staticmethod
    def _write(answer: tuple[int, bytes], request: Any, gone: list[bool]) -> None:
        if gone[0]:
            return  # the central system has gone
        status, data = answer
        request.setResponseCode(status)
        request.setHeader(b"content-type", envelope.CONTENT_TYPE.encode())
        request.write(data)
        request.finish()

    def _refuse(self, request: Any, error: OcppError, message: envelope.Request | None) -> bytes:
        self._log.warn(
            "{identity}: refused a request: {code} {reason}",
            identity=self._station.identity,
            code=error.code.value,
            reason=error.description,
        )
        request.setResponseCode(_status(error))
        request.setHeader(b"content-type", envelope.CONTENT_TYPE.encode())
        return envelope.fault(error, self._side.namespace, message)


def _status(error: OcppError) -> int:
    """SOAP 1.2 Part 2, 7.5.1.2: 400 for a Sender fault, 500 for the others."""
    status = getattr(error, "status", None)
    if status is not None:
        return int(status)
    return 400 if envelope.sender_or_receiver(error.code) == "Sender" else 500
