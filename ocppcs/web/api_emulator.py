# -*- test-case-name: tests.web.test_api_emulator -*-
"""
REST routes that act on the emulated stations of this process, as a driver
standing at the station would (C{[emulator] enable = true}).

    GET  /api/v1/Emulator/StationList                     every emulated station (paged)
    GET  /api/v1/Emulator/Station/{identity}              one station, its connectors
    POST /api/v1/Emulator/Station/{identity}/PlugIn       {"connectorId"}
    POST /api/v1/Emulator/Station/{identity}/Unplug       {"connectorId"}
    POST /api/v1/Emulator/Station/{identity}/PresentIdTag {"connectorId", "idTag"}
    POST /api/v1/Emulator/Station/{identity}/Fault        {"connectorId", "errorCode", "info"?}
    POST /api/v1/Emulator/Station/{identity}/ClearFault   {"connectorId"}

Unknown stations and connectors are 404, an action the connector's state
does not allow (plugging into a Faulted connector, ...) 409; a body that
does not fit (connectorId below 1, an idTag of more than 20 characters, an
errorCode that is not an OCPP 1.6 one, info of more than 50) 400.
"""

from __future__ import annotations

from typing import Any

from twisted.web.iweb import IRequest

from ocppcs.emulator.charging import ERROR_CODES, LocalActionError, UnknownConnector
from ocppcs.web.api_base import ApiBase, app
from ocppcs.web.http import ApiError, check_members, json_body, query_args, read_object

_CONNECTOR = frozenset({"connectorId"})
#: The errorCodes a fault may have (C{NoError} is no fault).
_FAULTS = ERROR_CODES - {"NoError"}
#: The longest C{info} of a StatusNotification (CiString50).
_MAX_INFO = 50


class EmulatorRoutes(ApiBase):
    """Routes for the emulated stations' local actions."""

    def _station(self, identity: str) -> Any:
        emulator = self.emulator
        if emulator is None:
            raise ApiError(404, "The emulator is not enabled ([emulator] enable = false)")
        station = emulator.station(identity)
        if station is None:
            raise ApiError(404, f"No emulated station {identity!r}")
        return station

    def _body(self, request: IRequest, allowed: frozenset[str], required: frozenset[str]) -> Any:
        query_args(request, set())
        body = read_object(request, self.config.api.max_body)
        assert body is not None
        check_members(body, allowed, required)
        connector_id = body["connectorId"]
        if not isinstance(connector_id, int) or isinstance(connector_id, bool):
            raise ApiError(400, "connectorId must be an integer")
        if connector_id < 1:
            raise ApiError(400, "connectorId must be at least 1")
        for name in allowed - _CONNECTOR:
            if name in body and not isinstance(body[name], str):
                raise ApiError(400, f"{name} must be a string")
        return body

    async def _act(self, request: IRequest, action: Any) -> bytes:
        try:
            result = action()
            if hasattr(result, "addCallback"):
                result = await result
        except UnknownConnector as e:
            raise ApiError(404, str(e)) from None
        except LocalActionError as e:
            raise ApiError(409, str(e)) from None
        return json_body(request, result)

    @app.route("/v1/Emulator/StationList", methods=["GET"])
    def emulator_station_list(self, request: IRequest) -> bytes:
        """Every emulated station with its connectors (paged; total in X-Total-Count)."""
        _, limit, offset = self.paged_args(request)
        stations = [] if self.emulator is None else list(self.emulator.stations.values())
        request.setHeader(b"X-Total-Count", str(len(stations)).encode())
        chosen = stations[offset : offset + limit]
        if offset + len(chosen) < len(stations) and chosen:
            request.setHeader(b"X-Next-Offset", str(offset + len(chosen)).encode())
        return json_body(request, [s.snapshot() for s in chosen])

    @app.route("/v1/Emulator/Station/<identity>", methods=["GET"])
    def emulator_station(self, request: IRequest, identity: str) -> bytes:
        """One emulated station."""
        query_args(request, set())
        return json_body(request, self._station(identity).snapshot())

    @app.route("/v1/Emulator/Station/<identity>/PlugIn", methods=["POST"])
    async def emulator_plug_in(self, request: IRequest, identity: str) -> bytes:
        """Plug a vehicle into a connector."""
        station = self._station(identity)
        body = self._body(request, _CONNECTOR, _CONNECTOR)
        return await self._act(request, lambda: station.plug_in(body["connectorId"]))

    @app.route("/v1/Emulator/Station/<identity>/Unplug", methods=["POST"])
    async def emulator_unplug(self, request: IRequest, identity: str) -> bytes:
        """Unplug the vehicle (a transaction stops with EVDisconnected)."""
        station = self._station(identity)
        body = self._body(request, _CONNECTOR, _CONNECTOR)
        return await self._act(request, lambda: station.unplug(body["connectorId"]))

    @app.route("/v1/Emulator/Station/<identity>/PresentIdTag", methods=["POST"])
    async def emulator_present_id_tag(self, request: IRequest, identity: str) -> bytes:
        """Present an idTag: starts a transaction once authorized, or stops the tag's own."""
        station = self._station(identity)
        fields = frozenset({"connectorId", "idTag"})
        body = self._body(request, fields, fields)
        id_tag = body["idTag"]
        if not 1 <= len(id_tag) <= 20:
            raise ApiError(400, "idTag must be 1 to 20 characters")
        return await self._act(request, lambda: station.present_id_tag(body["connectorId"], id_tag))

    @app.route("/v1/Emulator/Station/<identity>/Fault", methods=["POST"])
    async def emulator_fault(self, request: IRequest, identity: str) -> bytes:
        """Raise a fault (StatusNotification Faulted with the errorCode)."""
        station = self._station(identity)
        body = self._body(
            request,
            frozenset({"connectorId", "errorCode", "info"}),
            frozenset({"connectorId", "errorCode"}),
        )
        if body["errorCode"] not in _FAULTS:
            raise ApiError(400, f"errorCode must be one of {', '.join(sorted(_FAULTS))}")
        if len(body.get("info") or "") > _MAX_INFO:
            raise ApiError(400, f"info must be at most {_MAX_INFO} characters")
        return await self._act(
            request,
            lambda: station.set_fault(body["connectorId"], body["errorCode"], body.get("info")),
        )

    @app.route("/v1/Emulator/Station/<identity>/ClearFault", methods=["POST"])
    async def emulator_clear_fault(self, request: IRequest, identity: str) -> bytes:
        """Clear the connector's fault."""
        station = self._station(identity)
        body = self._body(request, _CONNECTOR, _CONNECTOR)
        return await self._act(request, lambda: station.clear_fault(body["connectorId"]))
