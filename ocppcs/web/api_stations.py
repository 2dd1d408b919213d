# -*- test-case-name: tests.web.test_api_stations -*-
"""
REST routes about stations: the original's ChargePointList, one station
(inspect, register, remove) and onboarding (refused connections, stations
waiting to be accepted).

    GET    /api/v1/ChargePointList                    (also /CentralSystem/ChargePointList)
    GET    /api/v1/ChargePoint/{identity}
    PUT    /api/v1/ChargePoint/{identity}             register
    DELETE /api/v1/ChargePoint/{identity}             remove or unregister (204)
    GET    /api/v1/Onboarding/RefusedConnections
    GET    /api/v1/Onboarding/RejectedStations
    POST   /api/v1/Onboarding/RejectedStations/{identity}/accept
"""

from __future__ import annotations

from typing import Any

from twisted.web.iweb import IRequest

from ocppcs.web import api_views as views
from ocppcs.web.api_base import ApiBase, app
from ocppcs.web.http import ApiError, json_body, page, query_args, read_object

#: The longest station identity (as on the station endpoint).
MAX_IDENTITY = 48


def check_identity(identity: str) -> None:
    """
    @raise ApiError: 400 when C{identity} could not connect to the station endpoint.
    """
    if len(identity) > MAX_IDENTITY:
        raise ApiError(400, f"A station identity is at most {MAX_IDENTITY} characters")
    if not identity.isprintable():
        raise ApiError(400, "A station identity must be printable")


class StationRoutes(ApiBase):
    """Routes about stations."""

    async def _charge_point_list(self, request: IRequest) -> bytes:
        _, limit, offset = self.paged_args(request)
        total, rows = await self.store().station_page(limit, offset)
        live = await self.locator.live(s.identity for s in rows)
        entries = [views.station_list_entry(s, live.get(s.identity)) for s in rows]
        request.setHeader(b"X-Total-Count", str(total).encode())
        if offset + len(rows) < total and rows:
            request.setHeader(b"X-Next-Offset", str(offset + len(rows)).encode())
        return json_body(request, entries)

    @app.route("/v1/ChargePointList", methods=["GET"])
    async def charge_point_list(self, request: IRequest) -> bytes:
        """The original's station list: a bare JSON array (paged; total in X-Total-Count)."""
        return await self._charge_point_list(request)

    @app.route("/v1/CentralSystem/ChargePointList", methods=["GET"])
    async def central_system_charge_point_list(self, request: IRequest) -> bytes:
        """The same list under the original's other path."""
        return await self._charge_point_list(request)

    async def _detail(self, identity: str) -> dict[str, Any] | None:
        row = await self.store().station_detail(identity)
        if row is None:
            return None
        live = await self.locator.live([identity])
        return views.station_detail(row, live.get(identity))

    @app.route("/v1/ChargePoint/<identity>", methods=["GET"])
    async def get_charge_point(self, request: IRequest, identity: str) -> bytes:
        """One station: boot data, connection, connectors, open transactions, statuses."""
        query_args(request, set())
        detail = await self._detail(identity)
        if detail is None:
            raise ApiError(404, f"Charge point '{identity}' not found")
        return json_body(request, detail)

    async def _register(self, request: IRequest, identity: str) -> bytes:
        await self.rules().register_station(identity)
        return json_body(request, await self._detail(identity))

    @app.route("/v1/ChargePoint/<identity>", methods=["PUT"])
    async def put_charge_point(self, request: IRequest, identity: str) -> bytes:
        """
        Register a station (creating it if unknown): the C{known} registration
        policy accepts it at its next BootNotification. Idempotent.
        """
        query_args(request, set())
        check_identity(identity)
        body = read_object(request, self.config.api.max_body, required=False)
        if body:
            raise ApiError(400, "PUT /ChargePoint/{identity} takes no request body (or {})")
        return await self._register(request, identity)

    @app.route("/v1/ChargePoint/<identity>", methods=["DELETE"])
    async def delete_charge_point(self, request: IRequest, identity: str) -> bytes:
        """
        Remove a station: one registered ahead of time that never connected
        is forgotten; any other is unregistered and keeps its history (its
        live connection stays; its next BootNotification is answered as for
        an unknown station under the C{known} policy). 204, or 404.
        """
        query_args(request, set())
        outcome = await self.rules().remove_station(identity)
        if outcome is None:
            raise ApiError(404, f"Charge point '{identity}' not found")
        request.setResponseCode(204)
        return b""

    # --- onboarding --------------------------------------------------------------------------

    @app.route("/v1/Onboarding/RefusedConnections", methods=["GET"])
    def refused_connections(self, request: IRequest) -> bytes:
        """Refused connection attempts, newest first (kept in memory, bounded)."""
        args, limit, offset = self.paged_args(request, frozenset({"identity"}))
        identity = args.get("identity")
        entries = self.refusals.entries(identity, len(self.refusals), 0)
        rows = [views.refusal(e) for e in entries[offset : offset + limit]]
        return json_body(request, page("RefusedConnections", rows, len(entries), limit, offset))

    @app.route("/v1/Onboarding/RejectedStations", methods=["GET"])
    async def rejected_stations(self, request: IRequest) -> bytes:
        """Unregistered stations whose last boot was answered Rejected or Pending."""
        _, limit, offset = self.paged_args(request)
        total, rows = await self.store().rejected_station_page(limit, offset)
        live = await self.locator.live(s.identity for s in rows)
        stations = [views.rejected_station(s, live.get(s.identity)) for s in rows]
        return json_body(request, page("RejectedStations", stations, total, limit, offset))

    @app.route("/v1/Onboarding/RejectedStations/<identity>/accept", methods=["POST"])
    async def accept_rejected_station(self, request: IRequest, identity: str) -> bytes:
        """
        Register a station that booted Rejected or Pending: it is accepted
        at its next BootNotification. 404 when the central system never saw it.
        """
        query_args(request, set())
        read_object(request, self.config.api.max_body, required=False)
        if await self.rules().station_detail(identity) is None:
            raise ApiError(404, f"Charge point '{identity}' not found")
        return await self._register(request, identity)
