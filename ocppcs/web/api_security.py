# -*- test-case-name: tests.integration.test_security_extensions -*-
"""
REST routes of the OCPP 1.6 security extensions (security whitepaper
edition 3) beside the commands themselves (which go through
C{POST /api/v1/ChargePoint/{identity}/{Operation}} like the core ones):

    GET /api/v1/ChargePoint/{identity}/SecurityEvents          its SecurityEventNotifications
    PUT /api/v1/ChargePoint/{identity}/SecurityProfile[?timeout=SECONDS]   {"profile": N}

Raising a station's security profile follows the whitepaper's migration
(section 2.4, "Migrating to a higher security profile"): first give the
station what the new profile needs (an AuthorizationKey for 1 and 2, PUT
.../AuthorizationKey; a certificate for 3, SignCertificate or
InstallCertificate), then send ChangeConfiguration C{SecurityProfile}; the
station answers and reconnects with the new profile. On Accepted the central
system stores the new profile as the station's floor: from then on a
connection with a lower profile is refused (L{ocppcs.stationauth}). A
profile not higher than the station's current one is refused (409, a
downgrade is not allowed: section 2.4), as is any answer but Accepted
(409), a CALLERROR (502) or no answer (504), which keep the old profile.
"""

from __future__ import annotations

from twisted.web.iweb import IRequest

from ocppcs.callerrors import StationCallError
from ocppcs.web.api_base import app
from ocppcs.web.api_commands import MAX_TIMEOUT, MIN_TIMEOUT, CommandRoutes
from ocppcs.web.api_stations import check_identity
from ocppcs.web.http import (
    ApiError,
    check_members,
    float_arg,
    int_member,
    json_body,
    page,
    query_args,
    read_object,
)


class SecurityRoutes(CommandRoutes):
    """A station's security events and its security profile."""

    def _security_store(self) -> object:
        store = self.store()
        if getattr(store, "security_event_page", None) is None:
            raise ApiError(501, f"The {self.backend.name} backend keeps no security events")
        return store

    @app.route("/v1/ChargePoint/<identity>/SecurityEvents", methods=["GET"])
    async def security_events(self, request: IRequest, identity: str) -> bytes:
        """The station's SecurityEventNotifications, newest first (paged)."""
        _, limit, offset = self.paged_args(request)
        store: object = self._security_store()
        total, rows = await store.security_event_page(identity, limit, offset)  # type: ignore[attr-defined]
        return json_body(request, page("SecurityEvents", rows, total, limit, offset))

    async def current_profile(self, identity: str) -> int:
        """The station's profile now: the configured one, or the stored floor if higher."""
        security = self.config.security
        configured = security.overrides().get(identity, security.profile)
        store: object = self._security_store()
        raised = await store.station_profile(identity)  # type: ignore[attr-defined]
        return max(configured, raised or 0)

    @app.route("/v1/ChargePoint/<identity>/SecurityProfile", methods=["PUT"])
    async def put_security_profile(self, request: IRequest, identity: str) -> bytes:
        """Raise a connected station's security profile (ChangeConfiguration SecurityProfile)."""
        args = query_args(request, {"timeout"})
        timeout = float_arg(
            args, "timeout", self.config.server.call_timeout, MIN_TIMEOUT, MAX_TIMEOUT
        )
        check_identity(identity)
        body = read_object(request, self.config.api.max_body)
        assert body is not None
        check_members(body, {"profile"}, {"profile"})
        profile = int_member(body, "profile", 0, 1, 3)
        current = await self.current_profile(identity)
        if profile <= current:
            raise ApiError(
                409,
                f"The station has security profile {current}; only a higher one can be set"
                " (the whitepaper's section 2.4 allows no downgrade)",
                extra={"profile": current},
            )
        change = {"key": "SecurityProfile", "value": str(profile)}
        try:
            reply = await self.call_station(identity, "ChangeConfiguration", change, timeout)
        except StationCallError as e:
            raise ApiError(
                502,
                f"The station answered ChangeConfiguration with {e.error_code}; the profile stays",
            ) from None
        status = reply["status"]
        if status != "Accepted":
            raise ApiError(
                409,
                f"The station answered ChangeConfiguration {status}; the profile stays",
                extra={"status": status},
            )
        store: object = self._security_store()
        await store.set_station_profile(identity, profile)  # type: ignore[attr-defined]
        self._log.info(
            "Security profile of {identity} raised from {old} to {new}",
            identity=identity,
            old=current,
            new=profile,
        )
        return json_body(request, {"identity": identity, "profile": profile, "previous": current})
