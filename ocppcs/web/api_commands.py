# -*- test-case-name: tests.web.test_api_commands -*-
"""
Commands to stations, as in the original:

    POST /api/v1/ChargePoint/{identity}/{Operation}[?timeout=SECONDS]

The body is the OCPP 1.6 request payload itself (empty for ClearCache and
GetLocalListVersion). It is checked against the official schema before it
is sent; the answer is the station's reply payload.

    200  the station's CALLRESULT payload, or for a CALLERROR
         {"error": true, "errorCode", "errorDescription", "errorDetails"}
    400  unknown operation, a payload that fails its schema (with its JSON path)
    404  unknown station          503  station not connected, or it disconnected
    502  invalid reply            504  no reply within the timeout

The station may be connected to this node or another of the cluster
(L{ocppcs.locator}); the answers are the same. An accepted ReserveNow is
recorded as a reservation, an accepted CancelReservation marks it
Cancelled (for the ReservationList): L{ocppcs.followup}.
"""

from __future__ import annotations

from typing import Any

from twisted.web.iweb import IRequest

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
    StationOffline,
    UnknownStation,
)
from ocppcs.web.api_base import ApiBase, app
from ocppcs.web.http import ApiError, float_arg, json_body, query_args, read_object

#: Bounds of the C{timeout} query parameter, in seconds.
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 600.0


class CommandRoutes(ApiBase):
    """Central-system-initiated OCPP 1.6 commands."""

    @app.route("/v1/ChargePoint/<identity>/<operation>", methods=["POST"])
    async def command(self, request: IRequest, identity: str, operation: str) -> bytes:
        """Send one of the 19 commands and answer with the station's reply."""
        args = query_args(request, {"timeout"})
        timeout = float_arg(
            args, "timeout", self.config.server.call_timeout, MIN_TIMEOUT, MAX_TIMEOUT
        )
        body = read_object(request, self.config.api.max_body, required=False)
        payload = body if body is not None else {}
        try:
            reply = await self.call_station(identity, operation, payload, timeout)
        except StationCallError as e:
            return json_body(
                request,
                {
                    "error": True,
                    "errorCode": e.error_code,
                    "errorDescription": e.error_description,
                    "errorDetails": e.error_details,
                },
            )
        return json_body(request, reply)

    async def call_station(
        self, identity: str, operation: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """
        The station's reply to C{operation}.

        @raise StationCallError: for the station's CALLERROR.
        @raise ApiError: 404 unknown, 503 offline or disconnected, 400 invalid
            command, 504 no reply in time, 502 invalid reply.
        """
        try:
            reply: dict[str, Any] = await self.commands.call(identity, operation, payload, timeout)
        except UnknownStation as e:
            raise ApiError(404, e.message) from None
        except StationOffline as e:
            raise ApiError(503, e.message) from None
        except InvalidCommand as e:
            if not e.path:
                raise ApiError(400, e.description) from None
            raise ApiError(
                400,
                f"Invalid {operation} request at {e.path}: {e.description}",
                extra={"path": e.path},
            ) from None
        except StationDisconnected as e:
            raise ApiError(503, f"{e.message}; the command may or may not have run") from None
        except CallTimeout as e:
            raise ApiError(504, e.message) from None
        except InvalidReply as e:
            raise ApiError(502, f"{e.message} (at {e.path})", extra={"path": e.path}) from None
        return reply
