# -*- test-case-name: tests.soap.test_session,tests.soap.test_bad_input -*-
"""
The OCPP-S Central System service: what SOAP stations call.

    POST /Ocpp[/...]    SOAP 1.2 (application/soap+xml); OCPP 1.5 or 1.6 by the
                        namespace of the body element (urn://Ocpp/Cs/2012/06/,
                        urn://Ocpp/Cs/2015/10/)
    GET  /Ocpp?wsdl     the official 1.6 Central System WSDL, its address this endpoint
    GET  /Ocpp/15?wsdl  the official 1.5 one (/Ocpp/16?wsdl: 1.6 again)

A request goes the way of a JSON station's CALL:

    envelope (hardened parse, L{ocppcs.soap.envelope}) --> operation by body element
    --> the WSDL's XML schema --> dict (L{ocppcs.soap.codec}; 1.5 mapped to the 1.6
    JSON shape, L{ocppcs.soap.v15}) --> the official 1.6 JSON schema
    --> the station's channel (L{ocppcs.soap.station}) --> CentralSystem.receive_call
    (registration rules, decider, record) --> reply schema --> 1.5 mapping --> envelope

Every refusal is a SOAP 1.2 Fault with the OCPP error code as subcode (never
an HTML error): FormationViolation (bad XML, DTD, size, schema), NotSupported
(a namespace that is not an OCPP Central System service), NotImplemented
(an unknown operation), ProtocolError (no chargeBoxIdentity), the rules'
SecurityError (a station not Accepted, e.g. unknown under the C{known}
registration policy), and the 1.6 JSON schema's codes. Each request and
reply is kept in the frame log (message type 2, 3 or 4, the MessageID as
uniqueId, the XML as sent).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from ocppcs.backends.interface import FrameRecord
from ocppcs.ocppj.errors import ErrorCode, OcppError
from ocppcs.ocppj.frames import Call
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation
from ocppcs.ocppj.session import CallReceiver, FrameSink
from ocppcs.soap import codec, envelope, v15, wsdl
from ocppcs.soap.envelope import SoapFault
from ocppcs.soap.station import SoapStation, SoapStations
from ocppcs.stationauth import CHALLENGE, StationAuth, StationVerdict
from ocppcs.stations import StationRegistry
from ocppcs.transports.stationpath import MAX_IDENTITY

#: Body element namespace -> OCPP version.
VERSIONS = {wsdl.service("cs", v).namespace: v for v in ("1.5", "1.6")}
#: The path after /Ocpp -> the version of the WSDL served there.
WSDL_PATHS = {b"": "1.6", b"16": "1.6", b"15": "1.5"}
_DEFAULT_NS = wsdl.service("cs", "1.6").namespace


class CentralSystemSoap(Resource):
    """
    C{/Ocpp}: the Central System service of OCPP-S 1.5 and 1.6.

    @param receiver: answers the calls (the central system's rules).
    @param stations: keeps the SOAP stations in the registry while they call.
    @param max_body: the largest request accepted, in bytes.
    @param station_auth: the stations' security profiles (L{StationAuth}),
        checked on every request as on the WebSocket upgrade: the same
        AuthorizationKey (profiles 1 and 2) or client certificate (3).
    """

    isLeaf = True
    _log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        receiver: CallReceiver,
        registry: StationRegistry,
        stations: SoapStations,
        schemas: SchemaSet,
        frame_sink: FrameSink,
        max_body: int = 65536,
        station_auth: StationAuth | None = None,
    ) -> None:
        super().__init__()
        self.station_auth = station_auth
        self._clock = clock
        self._receiver = receiver
        self._registry = registry
        self.stations = stations
        self._schemas = schemas
        self._frame_sink = frame_sink
        self.max_body = max_body

    # --- WSDL --------------------------------------------------------------------------------

    def render_GET(self, request: Request) -> bytes:
        """The WSDL (with C{?wsdl}), its service address set to this endpoint."""
        rest = b"/".join(request.postpath or []).strip(b"/")
        version = WSDL_PATHS.get(rest)
        query = request.uri.partition(b"?")[2].lower().split(b"&")
        if not (b"wsdl" in query or b"wsdl=" in query) or version is None:
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"OCPP-S endpoint: POST SOAP 1.2 here; WSDL at /Ocpp?wsdl (1.6), /Ocpp/15?wsdl\n"
        location = request.prePathURL().decode("ascii")
        if rest:
            location = f"{location}/{rest.decode('ascii')}"
        request.setHeader(b"Content-Type", b"text/xml; charset=utf-8")
        return wsdl.service("cs", version).published(location)

    # --- requests ----------------------------------------------------------------------------

    def render_POST(self, request: Request) -> Any:
        """Answer one SOAP request (asynchronously)."""
        assert request.content is not None
        data = request.content.read()
        peer = request.getClientAddress()
        peer_text = f"tcp:{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda f: gone.append(True))
        credentials = (request.getHeader(b"authorization"), request.transport)
        d = maybeDeferred(self._handle, data, peer_text, credentials)
        d.addErrback(self._unexpected)
        d.addCallback(self._write, request, gone)
        return NOT_DONE_YET

    @staticmethod
    def _write(answer: tuple[int, bytes], request: Request, gone: list[bool]) -> None:
        if gone:
            return
        status, body = answer
        request.setResponseCode(status)
        if status == 401:
            request.setHeader(b"WWW-Authenticate", CHALLENGE.encode())
        request.setHeader(b"Content-Type", envelope.CONTENT_TYPE.encode())
        request.write(body)
        request.finish()

    def _unexpected(self, failure: Failure) -> tuple[int, bytes]:
        self._log.failure("Bug answering a SOAP request", failure)
        error = OcppError("Could not answer", code=ErrorCode.InternalError)
        return 500, envelope.fault(error, _DEFAULT_NS)

    def _handle(self, data: bytes, peer: str, credentials: tuple[bytes | None, Any]) -> Any:
        try:
            message = envelope.parse(data, self.max_body)
        except SoapFault as e:
            self._log.warn("Refused a SOAP request from {peer}: {error}", peer=peer, error=e)
            return e.status, envelope.fault(e, _DEFAULT_NS)
        namespace = message.namespace if message.namespace in VERSIONS else _DEFAULT_NS
        try:
            return self._dispatch(message, peer, data, credentials).addErrback(
                self._refused, message, namespace, peer
            )
        except Exception:
            return self._refused(Failure(), message, namespace, peer)

    def _refused(
        self, failure: Failure, message: envelope.Request, namespace: str, peer: str
    ) -> tuple[int, bytes]:
        error = failure.value
        if not isinstance(error, OcppError):
            self._log.failure("Error answering a SOAP request from {peer}", failure, peer=peer)
            error = OcppError("Could not answer", code=ErrorCode.InternalError)
        else:
            self._log.warn(
                "SOAP request from {identity} ({peer}) refused: {code} {error}",
                identity=message.identity,
                peer=peer,
                code=error.code.value,
                error=error.description,
            )
        status = getattr(error, "status", None)
        if status is None:
            status = 400 if envelope.sender_or_receiver(error.code) == "Sender" else 500
        body = envelope.fault(error, namespace, message)
        if message.identity:
            self._record(message.identity, 4, message.message_id, "", body)
        return status, body

    def _dispatch(
        self,
        message: envelope.Request,
        peer: str,
        data: bytes,
        credentials: tuple[bytes | None, Any] = (None, None),
    ) -> Deferred[tuple[int, bytes]]:
        version = VERSIONS.get(message.namespace)
        if version is None:
            raise SoapFault(
                f"Namespace {message.namespace!r} is not an OCPP Central System service"
                " (urn://Ocpp/Cs/2015/10/ or urn://Ocpp/Cs/2012/06/)",
                ErrorCode.NotSupported,
            )
        service = wsdl.service("cs", version)
        name = message.body.tag.rpartition("}")[2]
        operation = service.by_request.get(name)
        if operation is None:
            raise SoapFault(f"Unknown operation {name!r}", ErrorCode.NotImplemented)
        identity = message.identity
        if not identity:
            raise SoapFault("The chargeBoxIdentity header is missing", ErrorCode.ProtocolError)
        if len(identity) > MAX_IDENTITY or not identity.isprintable():
            raise SoapFault(
                f"chargeBoxIdentity must be at most {MAX_IDENTITY} printable characters",
                ErrorCode.PropertyConstraintViolation,
            )
        if self._registry.closed:
            raise SoapFault(
                "The central system is shutting down",
                ErrorCode.InternalError,
                soap_code="Receiver",
                status=503,
            )
        auth = self.station_auth
        if auth is None:
            return self._run(message, peer, data, version, service, operation)
        verdict = auth.check_transport(identity, *credentials)
        checked = verdict if isinstance(verdict, Deferred) else succeed(verdict)
        return checked.addCallback(
            self._authorized, message, peer, data, version, service, operation
        )

    def _authorized(
        self,
        verdict: StationVerdict,
        message: envelope.Request,
        peer: str,
        data: bytes,
        version: str,
        service: wsdl.Wsdl,
        operation: wsdl.Operation,
    ) -> Deferred[tuple[int, bytes]]:
        """Go on with a station that passed its security profile's check (else a Fault)."""
        if not verdict.ok:
            raise SoapFault(
                f"Station authentication failed: {verdict.reason}",
                ErrorCode.SecurityError,
                status=verdict.status,
            )
        return self._run(message, peer, data, version, service, operation)

    def _run(
        self,
        message: envelope.Request,
        peer: str,
        data: bytes,
        version: str,
        service: wsdl.Wsdl,
        operation: wsdl.Operation,
    ) -> Deferred[tuple[int, bytes]]:
        identity = message.identity or ""  # checked by _dispatch
        name = message.body.tag.rpartition("}")[2]
        self._record(identity, 2, message.message_id, operation.name, data)
        if not service.schema.validate(message.body):
            problem = service.schema.error_log.last_error
            raise SoapFault(f"{name} does not match the WSDL: {problem.message}")
        try:
            payload = codec.decode(service, message.body)
        except ValueError as e:  # what the schema allows but Python cannot hold (year 10000)
            raise SoapFault(f"{name}: {e}") from None
        if version == "1.5":
            payload = v15.request_to_16(operation.name, payload)
        self._schemas.validate_request(operation.name, payload)
        station = self.stations.seen(identity, version, _endpoint(message.from_address), peer)
        call = Call(message.message_id, operation.name, payload)
        d: Deferred[dict[str, Any]] = maybeDeferred(self._receiver.receive_call, station, call)
        return d.addCallback(self._answer, message, station, operation, service)

    def _answer(
        self,
        reply: dict[str, Any],
        message: envelope.Request,
        station: SoapStation,
        operation: wsdl.Operation,
        service: wsdl.Wsdl,
    ) -> tuple[int, bytes]:
        try:
            self._schemas.validate_response(operation.name, reply)
        except SchemaViolation as e:
            self._log.error(
                "Reply to {action} for {identity} fails its schema: {error} ({path})",
                action=operation.name,
                identity=station.identity,
                error=e.description,
                path=e.path,
            )
            raise OcppError("Could not answer", code=ErrorCode.InternalError) from None
        if operation.name == "BootNotification" and reply.get("interval"):
            station.interval = float(reply["interval"])
        if station.version == "1.5":
            reply = v15.reply_from_16(operation.name, reply)
        element = codec.encode(service, operation.response, reply)
        body = envelope.reply(message, operation.response_action, element)
        self._record(station.identity, 3, message.message_id, operation.name, body)
        return 200, body

    def _record(self, identity: str, kind: int, unique_id: str, action: str, raw: bytes) -> None:
        try:
            direction = "in" if kind == 2 else "out"
            ts = self._clock.seconds()
            self._frame_sink(FrameRecord(ts, identity, direction, kind, unique_id, action, raw))
        except Exception:
            self._log.failure("Frame sink failed")


def _endpoint(address: str | None) -> str | None:
    """The station's own endpoint: an http(s) URL, not WS-Addressing's anonymous or none."""
    if address and address.startswith(("http://", "https://")):
        return address
    return None
