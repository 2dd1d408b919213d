# -*- test-case-name: tests.emulator.test_charging_authorization -*-
"""
How an emulated station decides whether an idTag may charge (OCPP 1.6
3.4/3.5): the local list and the cache answer when C{LocalPreAuthorize} is
set or the station is offline (C{LocalAuthorizeOffline},
C{AllowOfflineTxForUnknownId}); otherwise the station sends Authorize.

Reservations (OCPP 1.6 5.13) decide where an authorized idTag may start:

    connector reserved      only its idTag, or an idTag whose idTagInfo has
                            the reservation's parentIdTag; it is consumed
    station reserved        (ReserveNow on connector 0) its idTag (or parent)
                            may use any connector and consumes it; another
                            idTag only while a connector stays Available for it
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from ocppcs.emulator.connector import Connector, Reservation

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object


class Authorization(_Base):
    """
    IdTag authorization and reservations; mixed into the station's charging flows.

    @ivar reservation0: the reservation of connector 0 (the station as a
        whole), if any.
    """

    reservation0: Reservation | None = None

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

    # --- reservations ---------------------------------------------------------------------

    def reservation_refuses(
        self, c: Connector, id_tag: str, info: dict[str, Any] | None = None
    ) -> str | None:
        """
        Why the reservations keep C{id_tag} from starting on C{c}, or L{None}.

        @param info: C{id_tag}'s idTagInfo once authorized; before that
            (L{None}) a reservation with a parentIdTag may still admit it.
        """
        parent = None if info is None else info.get("parentIdTag")
        r = c.reservation
        if r is not None:
            if r.admits(id_tag, parent) or (info is None and r.parent_id_tag is not None):
                return None
            return f"connector {c.id} is reserved for another idTag"
        r0 = self.reservation0
        if r0 is None or r0.admits(id_tag, parent):
            return None
        if info is None and r0.parent_id_tag is not None:
            return None
        if any(x is not c and x.status == "Available" for x in self.connectors.values()):
            return None
        return "the station is reserved for another idTag"

    def may_start(self, c: Connector, id_tag: str, info: dict[str, Any]) -> bool:
        """
        Whether C{id_tag}, authorized with idTagInfo C{info}, may start a
        transaction on C{c} now (the connector may have changed while the
        authorization was under way).
        """
        if info.get("status") != "Accepted":
            return False
        if c.transaction is not None or c.fault is not None or not c.operative:
            return False
        if c.remote_tag is not None:
            return False
        return self.reservation_refuses(c, id_tag, info) is None

    def claim_reservation(self, c: Connector, id_tag: str, parent_id_tag: str | None) -> int | None:
        """
        Consume the reservation (of C{c}, else of the station) that admits
        C{id_tag} starting on C{c}.

        @return: its reservationId, or L{None} when none admits it.
        """
        r = c.reservation
        if r is not None and r.admits(id_tag, parent_id_tag):
            c.reservation = None
            c.cancel_timer("reservation")
            return r.reservation_id
        r0 = self.reservation0
        if r0 is not None and r0.admits(id_tag, parent_id_tag):
            self.drop_reservation0()
            return r0.reservation_id
        return None

    def keep_reservation(self, c: Connector) -> None:
        """Expire C{c}'s reservation at its expiry date."""
        reservation = c.reservation
        if reservation is None:
            c.cancel_timer("reservation")
            return
        delay = reservation.expiry - self.now()
        self.connector_later(c, "reservation", delay, self._reservation_expired, c)

    def _reservation_expired(self, c: Connector) -> None:
        if c.reservation is not None:
            self._log.info(
                "{identity}: reservation {id} expired",
                identity=self.identity,
                id=c.reservation.reservation_id,
            )
            c.reservation = None
            self.save()
            self.changed(c)

    def reserve_station(self, reservation: Reservation) -> None:
        """Put C{reservation} on connector 0; it expires at its expiry date."""
        self.reservation0 = reservation
        self.later("reservation0", reservation.expiry - self.now(), self._reservation0_expired)
        self.save()

    def drop_reservation0(self) -> None:
        """The reservation of connector 0 is used, cancelled or replaced."""
        self.reservation0 = None
        self.cancel("reservation0")
        self.save()

    def _reservation0_expired(self) -> None:
        if self.reservation0 is not None:
            self._log.info(
                "{identity}: reservation {id} expired",
                identity=self.identity,
                id=self.reservation0.reservation_id,
            )
            self.drop_reservation0()

    def reservation0_state(self) -> dict[str, Any] | None:
        """What L{EmulatedStation.save} keeps of the reservation of connector 0."""
        r0 = self.reservation0
        return None if r0 is None else r0.to_json()

    def restore_reservation0(self, data: dict[str, Any] | None) -> None:
        """Take back what L{reservation0_state} gave, at start-up; it expires on time."""
        if data:
            self.reservation0 = Reservation.from_json(data)
            self.later(
                "reservation0",
                self.reservation0.expiry - self.now(),
                self._reservation0_expired,
            )

    # --- connector timers -----------------------------------------------------------------

    def connector_later(
        self, c: Connector, name: str, delay: float, fn: Callable[..., object], *args: Any
    ) -> None:
        """
        Run C{fn} after C{delay} seconds, replacing C{c}'s timer of that
        name; a failure is logged, as the station's own timers do.
        """
        c.cancel_timer(name)
        c.timers[name] = self.clock.callLater(
            max(delay, 0.0), self._fire_connector, c, name, fn, args
        )

    def _fire_connector(
        self, c: Connector, name: str, fn: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        c.timers.pop(name, None)
        try:
            fn(*args)
        except Exception:
            self._log.failure(
                "{identity}: connector {connector} timer {name} failed",
                identity=self.identity,
                connector=c.id,
                name=name,
            )
