# -*- test-case-name: tests.soap.test_cp_commands -*-
"""
Calling an OCPP-S service: one request, its reply as the HTTP response.

    SoapClient.call(side, address, identity, action, payload, msg_id)
        1.6 payload --Side.request (1.5 mapping, WSDL schema)--> body
        --envelope: chargeBoxIdentity, MessageID, ReplyTo, To, Action-->
        POST address (application/soap+xml; charset=utf-8; action="/Reset")
        --> reply envelope --Side.reply--> 1.6 payload

The central system calls stations' Charge Point services with it
(L{StationCaller}, for L{ocppcs.soap.station.SoapStation}); emulated OCPP-S
stations call the central system service with it. Each failure is an
L{ocppcs.callerrors} exception, so the REST API answers a SOAP station as it
does a JSON one:

    connection refused, DNS, TLS (bad cert)    StationUnreachable   503
    connection lost once sent                  StationDisconnected  503
    a SOAP Fault (any HTTP status)             StationCallError     200 {"error": true, ...}
    HTTP error without a Fault, not SOAP,      InvalidReply         502
      a reply that fails the WSDL schema
    a 1.6-only command to a 1.5 station        InvalidCommand       400
    (no reply in time: the call queue's CallTimeout, 504; the request is cancelled)

HTTP goes through treq over Twisted's Agent with the client's own
L{HTTPConnectionPool} (persistent connections per station, closed by
L{SoapClient.close}); HTTPS verifies the peer's certificate and host name
(L{BrowserLikePolicyForHTTPS}: the system's trust roots and
service-identity) unless another policy is given. Why not the webhook's
lean client: that pool serves one URL with fixed headers on the hot path;
here every station is its own URL, the action is a per-request header, and
commands are rare operator actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import treq
from OpenSSL import SSL
from treq.client import HTTPClient
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool, ResponseFailed
from twisted.web.iweb import IResponse

from ocppcs.backends.interface import FrameRecord
from ocppcs.callerrors import (
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
    StationUnreachable,
)
from ocppcs.ocppj.errors import ErrorCode
from ocppcs.ocppj.session import FrameSink
from ocppcs.soap import outbound
from ocppcs.soap.cp15 import NotIn15
from ocppcs.soap.envelope import CONTENT_TYPE
from ocppcs.soap.messages import Side, SoapDataError

#: Sees the bytes on the wire: C{(direction, message type, data)} (the frame log).
Wire = Callable[[str, int, bytes], None]
#: The largest reply body read, in bytes (as C{[server] soap_max_body}'s default).
MAX_REPLY = 1_048_576
#: Fault subcodes that are OCPP error codes, passed through as the error code.
_OCPP_CODES = frozenset(code.value for code in ErrorCode)


class _TooLarge(Exception):
    pass


class SoapClient(Service):
    """
    Posts OCPP-S requests and reads their replies; as a service, stopping
    closes its kept-alive connections.

    @param reactor: connections and timers.
    @param tls_policy: an L{IPolicyForHTTPS} for C{https://} addresses
        (default: verify against the system's trust roots).
    @param max_reply: the largest reply body read, in bytes.
    @param connect_timeout: seconds to wait for a TCP connection.
    @param per_host: idle connections kept per host and port: 1 for the
        central system (each station is its own host, one call in flight),
        more for emulated stations that all post to one central system.
    """

    _log = Logger()
    name = "soap-client"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None

    def __init__(
        self,
        reactor: Any,
        tls_policy: Any = None,
        max_reply: int = MAX_REPLY,
        connect_timeout: float = 30.0,
        per_host: int = 1,
    ) -> None:
        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = per_host
        self._pool.retryAutomatically = False  # a command is never sent twice
        policy = tls_policy if tls_policy is not None else BrowserLikePolicyForHTTPS()
        agent = Agent(
            reactor, contextFactory=policy, connectTimeout=connect_timeout, pool=self._pool
        )
        self._http = HTTPClient(agent)
        self.max_reply = max_reply

    def close(self) -> Deferred[None]:
        """Close the kept-alive connections."""
        return self._pool.closeCachedConnections()

    def stopService(self) -> Deferred[None]:
        """Stop: close the connections."""
        super().stopService()
        return self.close()

    def call(
        self,
        side: Side,
        address: str,
        identity: str,
        action: str,
        payload: dict[str, Any],
        msg_id: str = "",
        from_address: str = "",
        wire: Wire | None = None,
    ) -> Deferred[dict[str, Any]]:
        """
        Send request C{action} (1.6 C{payload}) to the service C{side} at
        C{address}; fires with the reply's 1.6 payload (not yet checked
        against the 1.6 response schema: the call queue does that).
        Cancelling it aborts the request.

        @param msg_id: the WS-Addressing MessageID (a fresh one when C{""}).
        @param from_address: this side's own endpoint, sent as C{wsa:From}
            (an emulated station's Charge Point service); C{""}: none.
        @param wire: told C{("out", 2, request)} when it is sent and
            C{("in", 3 | 4 | 0, reply)} (a reply, a Fault, neither) when one comes.
        """
        try:
            op, body = side.request(action, payload)
        except NotIn15 as e:
            why = f"{e.description} (station {identity} speaks OCPP 1.5)"
            return fail(InvalidCommand(identity, action, why, e.path))
        except SoapDataError as e:
            return fail(InvalidCommand(identity, action, e.description, e.path))
        except KeyError:
            return fail(InvalidCommand(identity, action, f"Unknown operation: '{action}'"))
        msg_id = msg_id or outbound.message_id()
        data = outbound.build_request(
            body, side.namespace, identity, op.request_action, address, msg_id, from_address
        )
        headers: dict[bytes | str, bytes | str] = {
            "Content-Type": f'{CONTENT_TYPE}; action="{op.request_action}"',
            "Accept": "application/soap+xml",
        }
        if wire is not None:
            wire("out", 2, data)
        try:
            d: Deferred[Any] = self._http.post(address, data=data, headers=headers)
        except Exception as e:  # a URL the Agent refuses (no scheme, bad port, ...)
            return fail(StationUnreachable(identity, action, address, str(e)))
        d.addCallbacks(
            self._read,
            self._not_sent,
            callbackArgs=(side, address, identity, action, wire),
            errbackArgs=(address, identity, action),
        )
        return d

    def _not_sent(self, failure: Failure, address: str, identity: str, action: str) -> Failure:
        if failure.check(CancelledError):
            return failure
        if failure.check(ConnectError, DNSLookupError):
            raise StationUnreachable(identity, action, address, failure.getErrorMessage())
        if failure.check(ResponseFailed):
            reasons = getattr(failure.value, "reasons", [])
            why = "; ".join(r.getErrorMessage() for r in reasons) or "connection lost"
            if any(r.check(SSL.Error) for r in reasons):  # the handshake: nothing was sent
                raise StationUnreachable(identity, action, address, why)
            raise StationDisconnected(identity, action, why)
        raise StationUnreachable(identity, action, address, failure.getErrorMessage())

    def _read(
        self,
        response: IResponse,
        side: Side,
        address: str,
        identity: str,
        action: str,
        wire: Wire | None,
    ) -> Any:
        chunks: list[bytes] = []
        size = [0]

        def collect(data: bytes) -> None:
            size[0] += len(data)
            if size[0] > self.max_reply:
                raise _TooLarge()
            chunks.append(data)

        d: Deferred[Any] = treq.collect(response, collect)

        def done(_: Any) -> dict[str, Any]:
            return self._reply(response.code, b"".join(chunks), side, identity, action, wire)

        def lost(failure: Failure) -> Any:
            if failure.check(_TooLarge):
                raise InvalidReply(
                    identity, action, f"the reply is larger than {self.max_reply} bytes", "$"
                )
            if failure.check(CancelledError):
                return failure
            raise StationDisconnected(identity, action, failure.getErrorMessage())

        return d.addCallbacks(done, lost)

    def _reply(
        self, code: int, body: bytes, side: Side, identity: str, action: str, wire: Wire | None
    ) -> dict[str, Any]:
        try:
            parsed = outbound.read_reply(body, self.max_reply)
        except outbound.ReplyError as e:
            if wire is not None:
                wire("in", 0, body)
            what = f"HTTP {code}" if not 200 <= code < 300 else "the reply"
            raise InvalidReply(identity, action, f"{what}: {e}", "$") from None
        if wire is not None:
            wire("in", 4 if isinstance(parsed, outbound.Fault) else 3, body)
        if isinstance(parsed, outbound.Fault):
            f = parsed
            error = f.subcode if f.subcode in _OCPP_CODES else _default_code(f.code)
            details: dict[str, Any] = {"soapCode": f.code, "httpStatus": code}
            if f.subcode:
                details["soapSubcode"] = f.subcode
            if f.detail:
                details["detail"] = f.detail
            raise StationCallError(identity, action, error, f.reason, details)
        if not 200 <= code < 300:
            raise InvalidReply(identity, action, f"HTTP {code} without a SOAP Fault", "$")
        try:
            return side.reply(action, parsed)
        except SoapDataError as e:
            raise InvalidReply(identity, action, e.description, e.path) from None


def _default_code(soap_code: str) -> str:
    """The OCPP error code of a Fault without an OCPP subcode."""
    return "FormationViolation" if soap_code == "Sender" else "InternalError"


class StationCaller:
    """
    Posts a SOAP station's commands (L{ocppcs.soap.station.SoapStation.caller}):
    to its Charge Point service at its C{endpoint}, in its version; the
    request and reply XML go to the frame log (as the station's requests do).

    @param frame_sink: takes a L{FrameRecord} of each request and reply, if given.
    @param clock: dates them.
    """

    _log = Logger()

    def __init__(
        self, client: SoapClient, frame_sink: FrameSink | None = None, clock: Any = None
    ) -> None:
        self.client = client
        self._frame_sink = frame_sink
        self._clock = clock

    def __call__(self, station: Any, pending: Any) -> Deferred[dict[str, Any]]:
        """Send C{pending} (an L{ocppcs.callqueue.Outbound}) to C{station}."""
        if not station.endpoint:
            why = "it sent no WS-Addressing From address to call it back on"
            return fail(StationUnreachable(station.identity, pending.action, "(none)", why))
        msg_id = f"urn:uuid:{pending.unique_id}"

        def record(direction: str, kind: int, data: bytes) -> None:
            if self._frame_sink is None:
                return
            try:
                record = FrameRecord(
                    self._clock.seconds(),
                    station.identity,
                    direction,
                    kind,
                    msg_id,
                    pending.action,
                    data,
                )
                self._frame_sink(record)
            except Exception:
                self._log.failure("Frame sink failed")

        return self.client.call(
            Side("cp", station.version),
            station.endpoint,
            station.identity,
            pending.action,
            pending.payload,
            msg_id=msg_id,
            wire=record,
        )
