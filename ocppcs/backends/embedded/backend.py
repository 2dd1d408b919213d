# -*- test-case-name: tests.backends.test_embedded_backend -*-
"""
The embedded backend: decides with the C{[central]} policy and keeps
everything in a local SQLite database (L{SQLiteStore}).

Each station-initiated CALL becomes one job of the store (run in its worker
process), or rows of a bulk write, so its reads and writes are atomic and its
reply fires only once they are committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from zope.interface import implementer

from ocppcs.backends.embedded import admin, policy
from ocppcs.backends.embedded.policy import IsoClock, meter_rows
from ocppcs.backends.embedded.store import SQLiteStore
from ocppcs.backends.interface import CallContext, FrameRecord, IBackend
from ocppcs.config import CentralConfig, EmbeddedConfig
from ocppcs.ocppj.errors import NotSupportedError

log = Logger()

#: Forget the is_accepted cache when it grows beyond this many stations.
_CACHE_LIMIT = 100_000


@implementer(IBackend)
class EmbeddedBackend(Service):
    """
    The embedded backend.

    @ivar store: the L{SQLiteStore}.
    @ivar ready: a L{Deferred} firing once the database is open and migrated
        (after L{startService}).
    """

    name = "embedded"

    def __init__(
        self,
        reactor: Any,
        central: CentralConfig,
        embedded: EmbeddedConfig,
        prune_interval: float = 10.0,
        clock: Any = None,
    ) -> None:
        """
        @param reactor: the reactor (also the clock for replies' C{currentTime}).
        @param central: the answering policy.
        @param embedded: the database path, durability and frame-log bounds.
        @param prune_interval: seconds between frame-log prunings.
        @param clock: an L{IReactorTime} for the pruning timer (default: C{reactor}).
        """
        self._reactor = reactor
        self.central = central
        self.embedded = embedded
        self.store = SQLiteStore(
            reactor,
            embedded.path,
            synchronous=embedded.synchronous,
            log_max_rows=embedded.log_max_rows,
            log_max_age=embedded.log_max_age,
            prune_interval=prune_interval,
            clock=clock,
        )
        self.ready: Deferred = self.store.ready
        self._open_registration = central.registration == "open"
        self._known_vendors = frozenset(central.known_vendors)
        self._now = IsoClock(reactor.seconds)
        self._accepted: dict[str, bool] = {}
        run = self.store.run
        now = self._now

        def job(fn: Callable[..., Any]) -> Callable[[CallContext, dict[str, Any]], Deferred]:
            return lambda ctx, payload: run(fn, central, ctx.identity, payload, now())

        self._handlers: dict[str, Callable[[CallContext, dict[str, Any]], Deferred]] = {
            "Heartbeat": self._heartbeat,
            "MeterValues": self._meter_values,
            "StatusNotification": self._status_notification,
            "Authorize": job(policy.authorize),
            "StartTransaction": job(policy.start_transaction),
            "StopTransaction": self._stop_transaction,
            "BootNotification": self._boot_notification,
            "DiagnosticsStatusNotification": job(policy.diagnostics_status_notification),
            "FirmwareStatusNotification": job(policy.firmware_status_notification),
            "DataTransfer": self._data_transfer,
        }

    # --- IService ----------------------------------------------------------------------------

    def startService(self) -> Deferred:  # type: ignore[override]
        """
        Start the store's worker process, which opens the database (applying
        migrations).

        @return: L{ready}.
        """
        super().startService()
        return self.store.start()

    def stopService(self) -> Deferred:  # type: ignore[override]
        """
        Commit everything queued and close the database.

        @return: a L{Deferred} firing once the store's worker has exited.
        """
        super().stopService()
        return self.store.stop()

    # --- IBackend ----------------------------------------------------------------------------

    def handle_call(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        """
        Answer a station-initiated CALL (see L{IBackend.handle_call}).

        @return: a L{Deferred} firing with the CALLRESULT payload once stored,
            or failing with L{NotSupportedError} for an action not handled here.
        """
        handler = self._handlers.get(ctx.action)
        if handler is None:
            return fail(NotSupportedError(f"{ctx.action} is not supported by this central system"))
        return handler(ctx, payload)

    def is_accepted(self, identity: str) -> Deferred:
        """
        Whether the station's last boot was Accepted and it is registered (or
        registration is open). Answered from memory once known.

        @return: a L{Deferred} firing with a C{bool}.
        """
        cached = self._accepted.get(identity)
        if cached is not None:
            return succeed(cached)
        d = self.store.run(admin.is_accepted, identity, self._open_registration)
        d.addCallback(self._cache_accepted, identity)
        return d

    def station_connected(self, identity: str, account: str, address: str) -> Deferred:
        """
        Note a station's connection: connected flag, address, account, last seen.

        @return: a L{Deferred} firing with C{None}.
        """
        return self.store.run(admin.station_connected, identity, account, address, self._now())

    def station_disconnected(self, identity: str) -> Deferred:
        """
        Note that a station's connection closed.

        @return: a L{Deferred} firing with C{None}.
        """
        return self.store.run(admin.station_disconnected, identity, self._now())

    def record_frame(self, record: FrameRecord) -> None:
        """
        Append one frame to the bounded frame log; never raises.
        """
        try:
            self.store.append_log(
                (
                    record.ts,
                    record.identity,
                    record.direction,
                    record.message_type,
                    record.unique_id,
                    record.action,
                    record.raw.decode("utf-8", "replace"),
                )
            )
        except Exception:
            log.failure(
                "Could not log a frame of {identity}", identity=getattr(record, "identity", None)
            )

    # --- hot path: bulk writes, no reads ------------------------------------------------------

    def _heartbeat(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        now = self._now()
        d = self.store.bulk("last_seen", [(ctx.identity, now)])
        return d.addCallback(lambda _: {"currentTime": now})

    def _meter_values(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        rows = meter_rows(
            ctx.identity,
            payload["connectorId"],
            payload.get("transactionId"),
            payload["meterValue"],
            "MeterValues",
        )
        return self.store.bulk("meter_value", rows).addCallback(lambda _: {})

    def _status_notification(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        get = payload.get
        row = (
            ctx.identity,
            payload["connectorId"],
            payload["status"],
            payload["errorCode"],
            get("info"),
            get("vendorId"),
            get("vendorErrorCode"),
            get("timestamp"),
            self._now(),
        )
        return self.store.bulk("connector", [row]).addCallback(lambda _: {})

    # --- calls with more than a job ----------------------------------------------------------

    def _cache_accepted(self, accepted: bool, identity: str) -> bool:
        if len(self._accepted) >= _CACHE_LIMIT:
            self._accepted.clear()
        self._accepted[identity] = accepted
        return accepted

    def _boot_notification(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        identity = ctx.identity
        d = self.store.run(policy.boot_notification, self.central, identity, payload, self._now())

        def cache(reply: dict[str, Any]) -> dict[str, Any]:
            self._cache_accepted(reply["status"] == "Accepted", identity)
            return reply

        return d.addCallback(cache)

    def _stop_transaction(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        d = self.store.run(
            policy.stop_transaction, self.central, ctx.identity, payload, self._now()
        )

        def done(result: tuple[dict[str, Any], bool]) -> dict[str, Any]:
            reply, known = result
            if not known:
                log.warn(
                    "StopTransaction for unknown transaction {transaction_id} from {identity}",
                    transaction_id=payload["transactionId"],
                    identity=ctx.identity,
                )
            return reply

        return d.addCallback(done)

    def _data_transfer(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        if payload["vendorId"] not in self._known_vendors:
            return succeed({"status": "UnknownVendorId"})
        return self.store.run(
            policy.data_transfer, self.central, ctx.identity, payload, self._now()
        )

    # --- operator API ------------------------------------------------------------------------

    def _set_registered(self, identity: str, registered: int) -> Deferred:
        d = self.store.run(
            admin.set_registered, identity, registered, self._open_registration, self._now()
        )
        d.addCallback(self._cache_accepted, identity)
        return d.addCallback(lambda _: None)

    def register_station(self, identity: str) -> Deferred:
        """
        Register a station (for C{registration = known}); creates its row if needed.

        @return: a L{Deferred} firing with C{None}.
        """
        return self._set_registered(identity, 1)

    def unregister_station(self, identity: str) -> Deferred:
        """
        Unregister a station: with C{registration = known} it is no longer
        accepted and its next BootNotification gets C{unknown_station}.

        @return: a L{Deferred} firing with C{None}.
        """
        return self._set_registered(identity, 0)

    def put_id_tag(
        self,
        id_tag: str,
        status: str,
        expiry_date: str | datetime | None = None,
        parent_id_tag: str | None = None,
    ) -> Deferred:
        """
        Create or replace an id tag (for C{authorization = list}).

        @param status: Accepted, Blocked, Expired or Invalid.
        @param expiry_date: ISO-8601 date-time with a time zone, or an aware
            L{datetime}, or C{None} for no expiry.
        @return: a L{Deferred} firing with C{None}, or failing with
            L{ValueError} for a bad status or date.
        """
        if status not in admin.ID_TAG_STATUSES:
            return fail(ValueError(f"unknown id tag status {status!r}"))
        try:
            expiry = None if expiry_date is None else admin.normalize_time(expiry_date)
        except ValueError as e:
            return fail(e)
        return self.store.run(admin.put_id_tag, id_tag, status, expiry, parent_id_tag)

    def delete_id_tag(self, id_tag: str) -> Deferred:
        """
        @return: a L{Deferred} firing with whether the tag existed.
        """
        return self.store.run(admin.delete_id_tag, id_tag)

    def list_id_tags(self) -> Deferred:
        """
        @return: a L{Deferred} firing with every id tag as a dict.
        """
        return self.store.run(admin.list_id_tags)

    def add_reservation(
        self,
        identity: str,
        connector_id: int,
        id_tag: str,
        expiry_date: str | datetime,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
    ) -> Deferred:
        """
        Record a reservation (status Reserved), e.g. before sending ReserveNow.

        @param reservation_id: the id to use, or C{None} to get a new one.
        @return: a L{Deferred} firing with the reservation id.
        """
        try:
            expiry = admin.normalize_time(expiry_date)
        except ValueError as e:
            return fail(e)
        return self.store.run(
            admin.add_reservation,
            reservation_id,
            identity,
            connector_id,
            id_tag,
            expiry,
            parent_id_tag,
        )

    def set_reservation_status(self, reservation_id: int, status: str) -> Deferred:
        """
        Mark a reservation Reserved, Used, Cancelled or Expired.

        @return: a L{Deferred} firing with whether it exists.
        """
        if status not in admin.RESERVATION_STATUSES:
            return fail(ValueError(f"unknown reservation status {status!r}"))
        return self.store.run(admin.set_reservation_status, reservation_id, status)

    def get_reservation(self, reservation_id: int) -> Deferred:
        """
        @return: a L{Deferred} firing with the reservation as a dict, or C{None}.
        """
        return self.store.run(admin.get_reservation, reservation_id)

    def get_station(self, identity: str) -> Deferred:
        """
        @return: a L{Deferred} firing with the station as a dict with a
            C{connectors} list, or C{None}.
        """
        return self.store.run(admin.get_station, identity)

    def list_stations(self) -> Deferred:
        """
        @return: a L{Deferred} firing with every station as a dict.
        """
        return self.store.run(admin.list_stations)

    def get_transaction(self, transaction_id: int) -> Deferred:
        """
        @return: a L{Deferred} firing with the transaction as a dict with a
            C{meter_values} list, or C{None}.
        """
        return self.store.run(admin.get_transaction, transaction_id)

    def list_transactions(
        self,
        identity: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 1000,
    ) -> Deferred:
        """
        Transactions, newest first.

        @param date_from: only those started at or after this (ISO text, compared as text).
        @param date_to: only those started before this.
        @return: a L{Deferred} firing with a list of dicts.
        """
        return self.store.run(admin.list_transactions, identity, date_from, date_to, limit)

    def list_data_transfers(self, identity: str | None = None, limit: int = 100) -> Deferred:
        """
        @return: a L{Deferred} firing with the newest DataTransfer messages kept.
        """
        return self.store.run(admin.list_data_transfers, identity, limit)

    def list_frames(self, identity: str | None = None, limit: int = 100) -> Deferred:
        """
        @return: a L{Deferred} firing with the newest frame-log rows (newest first).
        """
        return self.store.run(admin.list_frames, identity, limit)
