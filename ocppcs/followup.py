# -*- test-case-name: tests.web.test_api_commands,tests.test_locator -*-
"""
Commands to stations, with what the central system keeps in step with
their replies: the one call path of the REST API (and so the web UI) and
SOAP.

    commands.call(identity, action, payload, timeout) -> Deferred[reply payload]

calls the station through the L{StationLocator} (on this node or another)
and then, for an accepted reply:

    ReserveNow          the reservation is recorded (replacing one with its id)
    CancelReservation   the reservation is marked Cancelled

before the Deferred fires, so a list read after the reply shows it. A
failure to record is logged, and the station's reply still returned (the
station did accept the command).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from ocppcs.backends.interface import IOperatorStore, IRecord
from ocppcs.locator import StationLocator


class Commands:
    """
    Calls stations and keeps the record in step with accepted commands.

    @param locator: finds and calls the station.
    @param record: where reservations are kept (when it is an
        L{IOperatorStore}; otherwise nothing is kept).
    """

    _log = Logger()

    def __init__(self, locator: StationLocator, record: IRecord) -> None:
        self.locator = locator
        self._record = record

    def call(
        self,
        identity: str,
        action: str,
        payload: dict[str, Any],
        timeout: float | None = None,
    ) -> Deferred[dict[str, Any]]:
        """
        Send a central-system-initiated OCPP 1.6 command to a station; see
        L{ocppcs.stations.StationRegistry.call} for the failures.

        @return: a Deferred firing with the station's reply payload, once
            its follow-up is recorded.
        """
        return Deferred.fromCoroutine(self._call(identity, action, payload, timeout))

    async def _call(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float | None
    ) -> dict[str, Any]:
        reply = await self.locator.call(identity, action, payload, timeout)
        if reply.get("status") == "Accepted" and IOperatorStore.providedBy(self._record):
            try:
                await self._follow(identity, action, payload)
            except Exception:
                self._log.failure(
                    "Recording {action} accepted by {identity}", action=action, identity=identity
                )
        return reply

    async def _follow(self, identity: str, action: str, payload: dict[str, Any]) -> None:
        store: Any = self._record
        if action == "ReserveNow":
            await store.add_reservation(
                identity,
                payload["connectorId"],
                payload["idTag"],
                payload["expiryDate"],
                payload.get("parentIdTag"),
                payload["reservationId"],
                replace=True,
            )
        elif action == "CancelReservation":
            await store.set_reservation_status(payload["reservationId"], "Cancelled")
