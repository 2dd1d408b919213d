# -*- test-case-name: tests.backends.postgres.test_record -*-
"""
The PostgreSQL record: what every deployment keeps, in the C{ocpp} schema
of a PostgreSQL database shared by every node of a cluster
(C{[backend] type = postgres}).

At start it connects the pool, applies the shipped migrations when
C{[postgres] migrate} is on (the default; they are idempotent and take an
advisory lock, so nodes starting together apply each once; with it off, run
C{ocppcs-init-db} first), refuses to start with one line naming
C{ocppcs-init-db} when the schema is still behind, and hands the node's
C{[central]} to C{ocpp.Configure}. Its decider (L{rules}, the
L{PostgresDecider}) answers through C{ocpp.Parse}, which decides and keeps
the record in one statement; the copies of another decider's answers go to
C{ocpp.RecordCall}. Connections are noted with this node's name (C{node}),
so that every node sees where each station is. The frame log is written in
batches (L{FrameBatcher}) and pruned to C{[postgres] log_max_rows} and
C{log_max_age} every C{prune_interval} seconds (C{ocpp.PruneFrames}).

L{is_accepted} asks the database each time (it is asked once per new
connection, not per call), so that a registration changed on another node
counts at once.
"""

from __future__ import annotations

import socket
from typing import Any

import orjson
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ocppcs.backends.interface import BackendStartError, CallContext, FrameRecord, IRecord
from ocppcs.backends.postgres import migrate
from ocppcs.backends.postgres.conninfo import conninfo, redacted
from ocppcs.backends.postgres.database import Database
from ocppcs.backends.postgres.decider import PostgresDecider
from ocppcs.backends.postgres.framelog import FrameBatcher
from ocppcs.backends.postgres.operator import PostgresOperatorApi
from ocppcs.config import CentralConfig, PostgresConfig
from ocppcs.ocppj.schemas import SchemaSet

log = Logger()

#: At shutdown, wait at most this many seconds for the statements in flight.
STOP_TIMEOUT = 5.0


def settings(central: CentralConfig) -> dict[str, Any]:
    """The C{[central]} keys as C{ocpp.Configure} takes them."""
    return {
        "heartbeat_interval": central.heartbeat_interval,
        "registration": central.registration,
        "unknown_station": central.unknown_station,
        "retry_interval": central.retry_interval,
        "authorization": central.authorization,
        "concurrent_tx": central.concurrent_tx,
        "known_vendors": list(central.known_vendors),
    }


@implementer(IRecord)
class PostgresRecord(PostgresOperatorApi, Service):
    """
    The PostgreSQL record.

    @param reactor: for the connections, the frame-log timer and the
        migration thread.
    @param central: the policy handed to C{ocpp.Configure} at start.
    @param postgres: C{[postgres]}.
    @param node: this node's name in the cluster (default: the host name).
    @param dsn: a libpq conninfo to use instead of C{postgres}'s.
    @param schemas: the 1.6 schemas the decider checks its answers with.
    @param prune_interval: seconds between two prunings of the frame log.
    @ivar database: the L{Database}.
    @ivar rules: the L{PostgresDecider} answering through C{ocpp.Parse}.
    @ivar ready: fires once started (or fails with why it could not).
    @ivar frames: the L{FrameBatcher} of the frame log.
    """

    name = "postgres"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None

    def __init__(
        self,
        reactor: Any,
        central: CentralConfig,
        postgres: PostgresConfig,
        node: str | None = None,
        dsn: str | None = None,
        schemas: SchemaSet | None = None,
        prune_interval: float = 60.0,
    ) -> None:
        self._reactor = reactor
        self.central = central
        self.postgres = postgres
        self.node = node or socket.gethostname()
        self.dsn = dsn if dsn is not None else conninfo(postgres, f"ocppcs {self.node}")
        self.database = Database(reactor, self.dsn, postgres.pool_size)
        self.rules = PostgresDecider(self.database, schemas, postgres.batch)
        self.frames = FrameBatcher(self.database, reactor)
        self.ready: Deferred[None] = Deferred()
        self._prune = LoopingCall(self.prune_frames)
        self._prune.clock = reactor
        self._prune_interval = prune_interval

    # --- IService ----------------------------------------------------------------------------

    def startService(self) -> Deferred[None]:
        """
        Connect, migrate (C{[postgres] migrate}), check the schema version and
        configure the policy, then let the queries through.

        @return: L{ready}.
        """
        super().startService()
        d: Deferred[Any] = self.database.start()
        if self.postgres.migrate:
            d.addCallback(lambda _: self._migrate())
        d.addCallback(lambda _: migrate.check_version(self.database.pool))
        d.addCallback(self._configure)
        d.addCallbacks(self._started, self._not_started)
        return self.ready

    def _migrate(self) -> Deferred[None]:
        pool = self._reactor.getThreadPool()
        d = deferToThreadPool(self._reactor, pool, migrate.apply_migrations, self.dsn)

        def applied(done: list[migrate.Migration]) -> None:
            for migration in done:
                log.info(
                    "Applied the migration {version:04d}_{name} to {dsn}",
                    version=migration.version,
                    name=migration.name,
                    dsn=redacted(self.dsn),
                )

        def failed(f: Failure) -> None:
            raise BackendStartError(
                f"cannot migrate the ocpp schema at {redacted(self.dsn)}:"
                f" {f.getErrorMessage().strip()} (run ocppcs-init-db to see why)"
            )

        return d.addCallbacks(applied, failed)

    def _configure(self, version: int) -> Deferred[Any]:
        log.info(
            "PostgreSQL {dsn}: ocpp schema version {version}, node {node}",
            dsn=redacted(self.dsn),
            version=version,
            node=self.node,
        )
        text = orjson.dumps(settings(self.central)).decode()
        return self.database.pool.runQuery("SELECT ocpp.Configure(%s::jsonb)", (text,))

    def _started(self, _: object) -> None:
        self.database.open()
        if self.postgres.log_max_rows or self.postgres.log_max_age:
            self._prune.start(self._prune_interval, now=False)
        self.ready.callback(None)

    def prune_frames(self) -> Deferred[None]:
        """Delete the frames beyond the bounds now (a failure is logged, not raised)."""
        d = self.database.value(
            "SELECT ocpp.PruneFrames(%s, %s)",
            (self.postgres.log_max_rows, self.postgres.log_max_age),
        )

        def failed(f: Failure) -> None:
            log.error("Pruning the frame log failed: {error}", error=f.getErrorMessage().strip())

        return d.addCallbacks(lambda _: None, failed)

    def _not_started(self, failure: Failure) -> None:
        self.database.close()
        self.ready.errback(failure)

    def stopService(self) -> Deferred[None]:
        """
        Write the frames still waiting, wait (at most L{STOP_TIMEOUT}
        seconds) for the statements in flight (the disconnections noted at
        shutdown), then close the connections.
        """
        super().stopService()
        if self._prune.running:
            self._prune.stop()
        d = self.frames.flush()
        d.addBoth(lambda _: self.database.idle(self._reactor, STOP_TIMEOUT))
        d.addBoth(lambda _: self.database.close())
        return d

    # --- IRecord -----------------------------------------------------------------------------

    def record_call(
        self, ctx: CallContext, payload: dict[str, Any], reply: dict[str, Any]
    ) -> Deferred[None]:
        """Keep the copy of a call another decider answered (C{ocpp.RecordCall})."""
        d = self.database.query(
            "SELECT ocpp.RecordCall(%s, %s, %s, %s::jsonb, %s::jsonb, %s)",
            (
                ctx.identity,
                ctx.unique_id,
                ctx.action,
                orjson.dumps(payload).decode(),
                orjson.dumps(reply).decode(),
                ctx.account,
            ),
        )
        return d.addCallback(lambda _: None)

    def is_accepted(self, identity: str) -> Deferred[bool]:
        """Whether the station is registered and its last boot Accepted (C{ocpp.IsAccepted})."""
        d = self.database.value("SELECT ocpp.IsAccepted(%s)", (identity,))
        return d.addCallback(bool)

    def station_connected(self, identity: str, account: str, address: str) -> Deferred[None]:
        """Note the connection, on this node (C{ocpp.StationConnected})."""
        d = self.database.query(
            "SELECT ocpp.StationConnected(%s, %s, %s, %s)", (identity, account, address, self.node)
        )
        return d.addCallback(lambda _: None)

    def station_disconnected(self, identity: str) -> Deferred[None]:
        """Note the disconnection, if this node still holds it (C{ocpp.StationDisconnected})."""
        d = self.database.query("SELECT ocpp.StationDisconnected(%s, %s)", (identity, self.node))
        return d.addCallback(lambda _: None)

    def get_station(self, identity: str) -> Deferred[dict[str, Any] | None]:
        """The station's item (as C{ocpp.GetStation} answers it), or C{None}."""
        return self.database.json("SELECT ocpp.GetStation(%s)::text", (identity,))

    def station_key_hash(self, identity: str) -> Deferred[str | None]:
        """The hash of the station's AuthorizationKey, or C{None} (C{ocpp.StationKeyHash})."""
        d: Deferred[str | None] = self.database.value("SELECT ocpp.StationKeyHash(%s)", (identity,))
        return d

    def station_profile(self, identity: str) -> Deferred[int | None]:
        """
        The security profile C{identity} was raised to (C{ocpp.StationProfile}),
        or C{None}: the floor below which it may no longer connect.
        """
        d: Deferred[int | None] = self.database.value("SELECT ocpp.StationProfile(%s)", (identity,))
        return d

    def record_frame(self, record: FrameRecord) -> None:
        """Buffer one frame for the next batch; never raises."""
        self.frames.append(record)

    @property
    def frames_dropped(self) -> dict[str, int]:
        """Frames the frame log lost, by reason (for C{/metrics})."""
        return self.frames.dropped
