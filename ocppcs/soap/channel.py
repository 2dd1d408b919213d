# -*- test-case-name: tests.soap.test_cp_commands -*-
"""
An OCPP-S station as a L{ocppcs.channel.StationChannel}: the central
system's commands go to the station's own Charge Point service, at the
address it last sent as WS-Addressing C{From}.

    registry.call(identity, "Reset", {"type": "Hard"})
      --> SoapChannel.call --> CallQueue (one in flight, the timeout)
      --> SoapClient.call: POST resetRequest to channel.address
      <-- resetResponse, as 1.6 JSON --> CallQueue.result (1.6 response schema)

So C{POST /api/v1/ChargePoint/{id}/{Operation}} works for a SOAP station as
for a JSON one, with the same answers (L{ocppcs.soap.client} lists how
each failure maps). A 1.5 station is refused the 1.6-only commands before
anything is queued.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from ocppcs.callerrors import InvalidCommand
from ocppcs.callqueue import CallQueue, Outbound
from ocppcs.channel import SOAP
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.soap import cp15
from ocppcs.soap.client import SoapClient
from ocppcs.soap.messages import Side
from ocppcs.v16.actions import CENTRAL_ACTIONS


class SoapChannel:
    """
    One OCPP-S station the central system can call.

    @ivar identity: its chargeBoxIdentity.
    @ivar address: its Charge Point service URL (WS-Addressing C{From});
        the central system service updates it when the station sends another.
    @ivar version: C{"1.5"} or C{"1.6"}.
    @ivar account: the account its requests came with, or C{""}.
    """

    transport = SOAP

    def __init__(
        self,
        identity: str,
        address: str,
        version: str,
        clock: IReactorTime,
        client: SoapClient,
        schemas: SchemaSet,
        account: str = "",
        default_timeout: float = 30.0,
    ) -> None:
        """
        @param client: posts the requests (shared by every SOAP station).
        @param schemas: the 1.6 JSON schemas commands and replies are checked against.
        @param default_timeout: seconds to wait for a reply when the caller gives none.
        """
        self.identity = identity
        self.address = address
        self.version = version
        self.account = account
        self.accepted: bool | None = None
        self.triggered: set[str] = set()
        self._side = Side("cp", version)
        self._client = client
        self._calls = CallQueue(
            identity, clock, self._send, schemas, CENTRAL_ACTIONS, default_timeout
        )

    @property
    def closed(self) -> bool:
        """Whether the channel has gone."""
        return self._calls.closed_because is not None

    @property
    def queued(self) -> int:
        """How many commands wait behind the one in flight."""
        return self._calls.queued

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        """Send command C{action} (1.6 JSON shape); see L{ocppcs.channel.StationChannel.call}."""
        if self.version == "1.5" and action in CENTRAL_ACTIONS:
            try:
                cp15.request_to_15(action, payload)
            except cp15.NotIn15 as e:
                why = f"{e.description} (station {self.identity} speaks OCPP 1.5)"
                return fail(InvalidCommand(self.identity, action, why, e.path))
        return self._calls.call(action, payload, timeout)

    def _send(self, pending: Outbound) -> Deferred[Any]:
        d = self._client.call(
            self._side,
            self.address,
            self.identity,
            pending.action,
            pending.payload,
            msg_id=f"urn:uuid:{pending.unique_id}",
        )
        d.addCallbacks(self._replied, self._failed, callbackArgs=(pending,), errbackArgs=(pending,))
        return d

    def _replied(self, payload: dict[str, Any], pending: Outbound) -> None:
        self._calls.result(pending.unique_id, payload)

    def _failed(self, failure: Failure, pending: Outbound) -> None:
        if failure.check(CancelledError):
            return  # timed out, withdrawn or closed: the queue has failed it already
        taken = self._calls.take(pending.unique_id)
        if taken is not None:
            taken.deferred.errback(failure)

    def close(self, reason: str) -> None:
        """Fail the pending calls (a SOAP station has no connection to close)."""
        self._calls.close(reason)

    def connection_lost(self, why: str) -> None:
        """The station is gone (offline): fail the pending calls, refuse new ones."""
        self._calls.close(why)
