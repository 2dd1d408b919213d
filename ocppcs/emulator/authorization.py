# -*- test-case-name: tests.emulator.test_charging -*-
"""
How an emulated station decides whether an idTag may charge (OCPP 1.6
3.4/3.5): the local list and the cache answer when C{LocalPreAuthorize} is
set or the station is offline (C{LocalAuthorizeOffline},
C{AllowOfflineTxForUnknownId}); otherwise the station sends Authorize.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from ocppcs.emulator.station import EmulatedStation as _Base
else:
    _Base = object


class Authorization(_Base):
    """IdTag authorization; mixed into the station's charging flows."""

    def authorize(self, id_tag: str) -> Deferred[dict[str, Any]]:
        """Find C{id_tag}'s idTagInfo: locally, or by Authorize; fires with it."""
        now = self.now_dt()
        local = None
        if self.keys.get_bool("LocalAuthListEnabled", True):
            local = self.auth.lookup_list(id_tag, now)
        if local is None and self.keys.get_bool("AuthorizationCacheEnabled", True):
            local = self.auth.lookup_cache(id_tag, now)
        if not self.online:
            return succeed(self._offline_authorization(local))
        if local is not None and self.keys.get_bool("LocalPreAuthorize", False):
            if local.get("status") == "Accepted":
                return succeed(local)
        d = self.send("Authorize", {"idTag": id_tag})

        def answered(reply: dict[str, Any]) -> dict[str, Any]:
            info = reply["idTagInfo"]
            self.remember(id_tag, info)
            return info

        def failed(failure: Failure) -> dict[str, Any]:
            self._call_failed(failure, "Authorize")
            return self._offline_authorization(local)

        return d.addCallbacks(answered, failed)

    def _offline_authorization(self, local: dict[str, Any] | None) -> dict[str, Any]:
        if local is not None and self.keys.get_bool("LocalAuthorizeOffline", True):
            return local
        if self.keys.get_bool("AllowOfflineTxForUnknownId", False):
            return {"status": "Accepted"}
        return {"status": "Invalid"}

    def remember(self, id_tag: str, info: dict[str, Any]) -> None:
        """Cache an idTagInfo the central system sent."""
        if self.keys.get_bool("AuthorizationCacheEnabled", True):
            self.auth.remember(id_tag, info)
