# -*- test-case-name: tests.backends.test_embedded_copies -*-
"""
The embedded record: what every deployment keeps, in a local SQLite
database (L{SQLiteStore}) written by a worker process with group commit.

It keeps the stations' connections, the frame log and the operator's lists
(L{OperatorApi}), and copies of the business calls answered by a decider
that keeps no record itself (L{record_call}, for the webhook). Its own
rules (L{rules}, the L{EmbeddedDecider}) decide and record a call in one
store job, so they need no copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from zope.interface import implementer

from ocppcs.backends.embedded import admin, copies, security
from ocppcs.backends.embedded.decider import EmbeddedDecider
from ocppcs.backends.embedded.operator_api import OperatorApi
from ocppcs.backends.embedded.store import SQLiteStore
from ocppcs.backends.interface import CallContext, FrameRecord, IRecord
from ocppcs.config import CentralConfig, EmbeddedConfig
from ocppcs.confighold import reading
from ocppcs.isotime import IsoClock

log = Logger()

#: Forget the is_accepted cache when it grows beyond this many stations.
_CACHE_LIMIT = 100_000

_Copy = Callable[..., Any]

#: The store job keeping the copy of each action that needs one (the rest are bulk rows).
_COPY_JOBS: dict[str, _Copy] = {
    "BootNotification": copies.copy_boot,
    "Authorize": copies.copy_authorize,
    "StartTransaction": copies.copy_start,
    "StopTransaction": copies.copy_stop,
    "DataTransfer": copies.copy_data_transfer,
    "DiagnosticsStatusNotification": copies.copy_diagnostics_status,
    "FirmwareStatusNotification": copies.copy_firmware_status,
    "SecurityEventNotification": security.copy_security_event,
    "LogStatusNotification": security.copy_log_status,
    "SignedFirmwareStatusNotification": security.copy_signed_firmware_status,
}


@implementer(IRecord)
class EmbeddedRecord(OperatorApi, Service):
    """
    The embedded record.

    @ivar store: the L{SQLiteStore}.
    @ivar ready: a L{Deferred} firing once the database is open and migrated
        (after L{startService}).
    @ivar rules: the L{EmbeddedDecider} deciding with the C{[central]} policy
        in this store.
    """

    name = "embedded"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None

    def __init__(
        self,
        reactor: Any,
        central: CentralConfig | Callable[[], CentralConfig],
        embedded: EmbeddedConfig,
        prune_interval: float = 10.0,
        clock: Any = None,
    ) -> None:
        """
        @param reactor: the reactor (also the clock for the times stored).
        @param central: the answering policy of L{rules}, or a reader of the
            current one (L{ocppcs.confighold.ConfigHolder.reader}), read at use time.
        @param embedded: the database path, durability and frame-log bounds.
        @param prune_interval: seconds between frame-log prunings.
        @param clock: an L{IReactorTime} for the pruning timer (default: C{reactor}).
        """
        self._central = reading(central)
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
        self._now = IsoClock(reactor.seconds)
        self._accepted: dict[str, bool] = {}
        self.rules = EmbeddedDecider(self, self._central, self._now)

    @property
    def central(self) -> CentralConfig:
        """The C{[central]} policy in force now."""
        return self._central()

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

    # --- IRecord -----------------------------------------------------------------------------

    def record_call(
        self, ctx: CallContext, payload: dict[str, Any], reply: dict[str, Any]
    ) -> Deferred:
        """
        Keep the copy of a call another decider answered (L{IRecord.record_call}):
        Heartbeat, MeterValues and StatusNotification as bulk rows, the others
        as one store job each (L{ocppcs.backends.embedded.copies}).

        @return: a L{Deferred} firing with what the copy did (C{"stored"},
            C{"replay"}, or L{copies.record_stop}'s outcome), or failing
            (L{ocppcs.backends.embedded.errors.RecordConflict}, a store error).
        """
        action = ctx.action
        identity = ctx.identity
        now = self._now()
        if action == "Heartbeat":
            return self.note_seen(identity, now).addCallback(_stored)
        if action == "MeterValues":
            rows = copies.meter_rows(
                identity,
                payload["connectorId"],
                payload.get("transactionId"),
                payload["meterValue"],
                "MeterValues",
            )
            return self.store.bulk("meter_value", rows).addCallback(_stored)
        if action == "StatusNotification":
            row = copies.status_row(identity, payload, now)
            return self.store.bulk("connector", [row]).addCallback(_stored)
        job = _COPY_JOBS.get(action)
        if job is None:
            return fail(ValueError(f"no copy is kept of {action}"))
        d = self.store.run(job, identity, payload, reply, now)
        if action == "BootNotification":
            self._accepted.pop(identity, None)
            d.addCallback(self._boot_copied, identity, reply)
        return d

    def note_seen(self, identity: str, now: str) -> Deferred:
        """Keep C{now} as the station's last_seen (a Heartbeat), in bulk."""
        return self.store.bulk("last_seen", [(identity, now)])

    def _boot_copied(self, outcome: str, identity: str, reply: dict[str, Any]) -> str:
        self.cache_accepted(reply["status"] == "Accepted", identity)
        return outcome

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
        d.addCallback(self.cache_accepted, identity)
        return d

    def cache_accepted(self, accepted: bool, identity: str) -> bool:
        """Remember whether C{identity} is accepted (after a boot or a registration)."""
        if len(self._accepted) >= _CACHE_LIMIT:
            self._accepted.clear()
        self._accepted[identity] = accepted
        return accepted

    _cache_accepted = cache_accepted

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

    def station_key_hash(self, identity: str) -> Deferred:
        """
        See L{IRecord.station_key_hash}.

        @return: a L{Deferred} firing with the hash line or C{None}.
        """
        return self.store.run(admin.station_key_hash, identity)

    def station_profile(self, identity: str) -> Deferred:
        """
        The security profile C{identity} was raised to (L{set_station_profile}),
        below which it may no longer connect (L{ocppcs.stationauth}).

        @return: a L{Deferred} firing with the profile or C{None}.
        """
        return self.store.run(security.station_profile, identity)

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


def _stored(_: object) -> str:
    return "stored"
