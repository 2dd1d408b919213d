# -*- test-case-name: tests.integration.test_station_profiles -*-
"""
A station's AuthorizationKey, the password of security profiles 1 and 2
(L{ocppcs.stationauth}):

    PUT /api/v1/ChargePoint/{identity}/AuthorizationKey[?timeout=SECONDS]   {"key": "..."}

The key is 16 to 40 printable ASCII characters (the whitepaper's 16-20 byte
password or, in 32-40 hex digits, its hex form). For a connected station the
key goes to the station first, as ChangeConfiguration C{AuthorizationKey}
(the station must know it before the central system asks for it), and its
hash is stored only when the station answers Accepted; any other answer, a
CALLERROR or no answer keeps the old key (409, 502, 504). An offline
station's key is just stored (set it on the station by other means). The key
itself is never stored, logged or shown: only its scrypt hash.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.threads import deferToThreadPool
from twisted.web.iweb import IRequest

from ocppcs.callerrors import StationCallError
from ocppcs.stationauth import MAX_KEY, check_key, hash_station_key
from ocppcs.web.api_base import app
from ocppcs.web.api_commands import MAX_TIMEOUT, MIN_TIMEOUT, CommandRoutes
from ocppcs.web.api_stations import check_identity
from ocppcs.web.http import (
    ApiError,
    check_members,
    float_arg,
    json_body,
    query_args,
    read_object,
    str_member,
)


class StationKeyRoutes(CommandRoutes):
    """Set a station's AuthorizationKey."""

    async def _hash(self, key: str) -> str:
        reactor: Any = self.clock
        pool = getattr(reactor, "getThreadPool", None)
        if pool is None:  # a plain clock (unit tests): hash here
            return hash_station_key(key)
        hashed: str = await deferToThreadPool(reactor, pool(), hash_station_key, key)
        return hashed

    @app.route("/v1/ChargePoint/<identity>/AuthorizationKey", methods=["PUT"])
    async def put_authorization_key(self, request: IRequest, identity: str) -> bytes:
        """Send the key to a connected station (ChangeConfiguration), then store its hash."""
        args = query_args(request, {"timeout"})
        timeout = float_arg(
            args, "timeout", self.config.server.call_timeout, MIN_TIMEOUT, MAX_TIMEOUT
        )
        check_identity(identity)
        body = read_object(request, self.config.api.max_body)
        assert body is not None
        check_members(body, {"key"}, {"key"})
        key = str_member(body, "key", MAX_KEY * 4, nullable=False) or ""
        try:
            check_key(key)
        except ValueError as e:
            raise ApiError(400, str(e)) from None
        store = self.store()
        hashed = await self._hash(key)
        status = None
        if self.registry.get(identity) is not None:
            change = {"key": "AuthorizationKey", "value": key}
            try:
                reply = await self.call_station(identity, "ChangeConfiguration", change, timeout)
            except StationCallError as e:
                raise ApiError(
                    502,
                    f"The station answered ChangeConfiguration with {e.error_code}; "
                    "the old key stays",
                ) from None
            status = reply["status"]
            if status != "Accepted":
                raise ApiError(
                    409,
                    f"The station answered ChangeConfiguration {status}; the old key stays",
                    extra={"status": status},
                )
        await store.set_station_key_hash(identity, hashed)
        self._log.info(
            "AuthorizationKey of {identity} changed ({how})",
            identity=identity,
            how="accepted by the station" if status else "station offline",
        )
        return json_body(
            request, {"identity": identity, "stored": True, "changeConfiguration": status}
        )
