# -*- test-case-name: tests.integration.test_station_calls,tests.soap -*-
"""
One connected station, whatever carries its messages.

    StationChannel
      identity, account, address      who it is and where it is
      version    "1.6" | "1.5"         the OCPP version it speaks
      transport  "json" | "soap"       OCPP-J over WebSocket, or OCPP-S over HTTP
      accepted, triggered              kept by the central system's rules
      call(action, payload, timeout)   a central-system-initiated command
      close(reason), connection_lost(why), closed, queued

The registry (L{ocppcs.stations}) holds channels, the central system's rules
(L{ocppcs.v16.central}) answer the calls of channels, and the REST API reads
them: the WebSocket session (L{ocppcs.ocppj.session.OcppSession}) and a SOAP
station both are one. Payloads are always in the OCPP 1.6 JSON shape: a SOAP
channel converts at its edge. The one-call-in-flight queue and its timeouts
are L{ocppcs.callqueue.CallQueue}, shared by both.
"""

from __future__ import annotations

from typing import Any, Protocol

from twisted.internet.defer import Deferred

#: The transports a channel may have.
JSON = "json"
SOAP = "soap"


class StationChannel(Protocol):
    """
    A station the central system can talk to.

    @ivar identity: the station's chargeBoxIdentity.
    @ivar account: the optional account (C{/ocpp/{identity}/{account}}), or C{""}.
    @ivar address: where it is: the WebSocket peer (C{tcp4:host:port}), or
        for SOAP the station's own endpoint URL (WS-Addressing C{From}).
    @ivar version: C{"1.6"} or C{"1.5"}.
    @ivar transport: C{"json"} or C{"soap"}.
    @ivar accepted: whether the station may send calls other than
        BootNotification (C{None} until known); kept by the central system.
    @ivar triggered: actions asked for with TriggerMessage that the station
        may send once even when not Accepted.
    """

    identity: str
    account: str
    address: str
    version: str
    transport: str
    accepted: bool | None
    triggered: set[str]

    @property
    def closed(self) -> bool:
        """Whether the channel has gone (its calls fail with StationDisconnected)."""

    @property
    def queued(self) -> int:
        """How many commands wait behind the one in flight."""

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        """
        Send a central-system-initiated command (1.6 JSON shape), after the
        ones already queued: at most one is in flight.

        @return: a Deferred firing with the reply payload (1.6 JSON shape), or
            failing with an L{ocppcs.callerrors} exception.
        """

    def close(self, reason: str) -> None:
        """Fail the pending calls with C{reason}, then close the connection (if any)."""

    def connection_lost(self, why: str) -> None:
        """The connection has gone: fail the pending calls, refuse new ones."""
