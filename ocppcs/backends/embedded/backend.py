# -*- test-case-name: tests.backends.test_embedded_backend_stations -*-
"""
The embedded backend: decides with the C{[central]} policy and keeps
everything in a local SQLite database (L{SQLiteStore}).

Each station-initiated CALL becomes one job of the store (run in its worker
process), or rows of a bulk write, so its reads and writes are atomic and its
reply fires only once they are committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from zope.interface import implementer

from ocppcs.backends.embedded import admin, policy
from ocppcs.backends.embedded.operator_api import OperatorApi
from ocppcs.backends.embedded.policy import meter_rows
from ocppcs.backends.embedded.store import SQLiteStore
from ocppcs.backends.interface import CallContext, FrameRecord, IBackend
from ocppcs.config import CentralConfig, EmbeddedConfig
from ocppcs.isotime import IsoClock
from ocppcs.ocppj.errors import NotSupportedError

log = Logger()

#: Forget the is_accepted cache when it grows beyond this many stations.
_CACHE_LIMIT = 100_000


@implementer(IBackend)
class EmbeddedBackend(OperatorApi, Service):
    """
    The embedded backend.

    @ivar store: the L{SQLiteStore}.
    @ivar ready: a L{Deferred} firing once the database is open and migrated
        (after L{startService}).
    """

    name = "embedded"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None

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
            "StartTransaction": self._start_transaction,
            "StopTransaction": self._stop_transaction,
            "BootNotification": self._boot_notification,
            "DiagnosticsStatusNotification": job(policy.diagnostics_status_notification),
            "FirmwareStatusNotification": job(policy.firmware_status_notification),
            "DataTransfer": self._data_transfer,
        }

    # --- IService ----------------------------------------------------------------------------

    def startService(self) -> Deferred:
        """
        Start the store's worker process, which opens the database (applying
        migrations).

        @return: L{ready}.
        """
        super().startService()
        return self.store.start()

    def stopService(self) -> Deferred:
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

    def _start_transaction(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        d = self.store.run(
            policy.start_transaction, self.central, ctx.identity, payload, self._now()
        )

        def done(result: tuple[dict[str, Any], list[dict[str, Any]]]) -> dict[str, Any]:
            reply, abandoned = result
            for closed in abandoned:
                log.warn(
                    "Transaction {transaction_id} of {identity} connector {connector_id} never"
                    " got its StopTransaction: closed as abandoned by transaction"
                    " {abandoned_by} (estimated meterStop {meter_stop} at {stop_timestamp})",
                    identity=ctx.identity,
                    connector_id=payload["connectorId"],
                    abandoned_by=reply["transactionId"],
                    **closed,
                )
            return reply

        return d.addCallback(done)

    def _stop_transaction(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        d = self.store.run(
            policy.stop_transaction, self.central, ctx.identity, payload, self._now()
        )

        def done(result: tuple[dict[str, Any], str]) -> dict[str, Any]:
            reply, outcome = result
            if outcome == "unknown":
                log.warn(
                    "StopTransaction for unknown transaction {transaction_id} from {identity}",
                    transaction_id=payload["transactionId"],
                    identity=ctx.identity,
                )
            elif outcome == "completed":
                log.info(
                    "Late StopTransaction from {identity} completes the abandoned transaction"
                    " {transaction_id}",
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
