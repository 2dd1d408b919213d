# -*- test-case-name: tests.cluster.test_routing,tests.cluster.test_nodes -*-
"""
This node's part in a cluster of C{twistd ocppcs} nodes on one PostgreSQL
(C{[cluster] enable}): the other nodes as the L{StationLocator} sees them
(L{IRemoteNodes}).

    node A  --+                    +-- station X (its WebSocket is on A)
              |    PostgreSQL      |
    node B  --+--  ocpp.cluster_*  |    REST POST .../X/Reset sent to B:
              |    LISTEN/NOTIFY   |    B queues it for A, A calls X,
    node C  --+                    |    B answers with X's reply

  - B{heartbeats}: every C{[cluster] heartbeat} seconds a node updates its
    row; a node without one for C{heartbeat * missed} seconds (its
    C{dead_after}, in the database's clock) is dead: its stations are shown
    offline on every node and commands for them answer 503, until they
    reconnect to a live node. A node that stops cleanly is dead at once.
  - B{connections}: the registry's connection observer records which node
    holds each station (C{ocpp.cluster_connection}); a station that connects
    to another node moves there, and the node it was on closes the stale
    connection (a NOTIFY C{close IDENTITY}).
  - B{commands}: L{ocppcs.cluster.routing}.

Each heartbeat also claims queued commands and collects outcomes, so a
missed NOTIFY (channel reconnecting) delays a command by one heartbeat at
most. While the database is unreachable the heartbeats fail (logged once),
the other nodes count this one dead, and commands routed through it fail
503 (L{ocppcs.backends.postgres.pool}).
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.postgres.pool import PostgresPool, is_unavailable
from ocppcs.callerrors import StationOffline
from ocppcs.channel import StationChannel
from ocppcs.cluster.channel import NotifyChannel
from ocppcs.cluster.config import ClusterConfig
from ocppcs.cluster.queries import ClusterQueries
from ocppcs.cluster.routing import Router
from ocppcs.locator import Live
from ocppcs.stations import StationRegistry

#: Connections of the node's own pool (the channel has one more).
POOL_SIZE = 4
#: Routed commands older than this many seconds are dropped (their origin died).
PURGE_AFTER = 3600.0
#: Seconds between two warnings that the database is unreachable (per request otherwise).
WARN_EVERY = 10.0
#: Purge every this many heartbeats.
PURGE_EVERY = 100
#: Look for connections here that moved elsewhere (a missed NOTIFY) every this many.
STALE_EVERY = 10


class ClusterUnavailable(StationOffline):
    """A command for a station not connected here while the cluster's database is unreachable."""

    def __init__(self, identity: str, action: str) -> None:
        super().__init__(identity, action)
        self.message = (
            f"Charge point '{identity}' is not connected to this node, and the cluster's"
            " database is unreachable"
        )
        self.args = (self.message,)


class ClusterNode(Service):
    """
    This node in the cluster on the database at C{dsn}.

    @param config: C{[cluster]}.
    @param registry: this node's connected stations.
    @param call_timeout: the timeout of commands routed without one.
    @param node: this node's name (L{ocppcs.cluster.config.node_of}).
    @ivar node: this node's name.
    @ivar ready: fires once the node has joined the cluster.
    """

    _log = Logger()
    name = "cluster"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None

    def __init__(
        self,
        reactor: Any,
        config: ClusterConfig,
        dsn: str,
        registry: StationRegistry,
        call_timeout: float,
        node: str,
    ) -> None:
        self._reactor = reactor
        self._config = config
        self._dsn = dsn
        self._registry = registry
        self._call_timeout = call_timeout
        self.node = node
        self.ready: Deferred[None] = Deferred()
        self._joined = False
        self._seq = 0
        self._beats = 0
        self._failing = False
        self._warned = -WARN_EVERY
        self._pool: PostgresPool | None = None
        self._channel: NotifyChannel | None = None
        self._router: Router | None = None
        self._loop = LoopingCall(self._tick)
        self._loop.clock = reactor
        registry.connection_observers.append(self._connection_changed)

    # --- life ----------------------------------------------------------------------------------

    def startService(self) -> None:
        """Join the cluster (fails the reactor's start-up log if the database is unreachable)."""
        super().startService()
        d = Deferred.fromCoroutine(self._start())
        d.addCallbacks(self.ready.callback, self._start_failed)

    def _start_failed(self, failure: Failure) -> None:
        self._log.failure("Node {node} could not join the cluster", failure, node=self.node)
        self.ready.errback(failure)
        self.ready.addErrback(lambda _: None)

    async def _start(self) -> None:
        self._pool = PostgresPool(self._reactor, self._dsn, size=POOL_SIZE)
        await self._pool.start()
        queries = ClusterQueries(self._pool, self.node)
        self._router = Router(queries, self._registry, self._reactor, self._call_timeout)
        await self._join()
        self._channel = NotifyChannel(
            self._reactor, self._dsn, self.node, self._notified, self._recovered
        )
        await self._channel.start()
        self._loop.start(self._config.heartbeat, now=False)
        self._log.info(
            "Node {node} joined the cluster ({stations} stations here; dead after {dead:g}s"
            " without a heartbeat)",
            node=self.node,
            stations=len(self._registry),
            dead=self._config.dead_after,
        )
        await self._poll()

    async def _join(self) -> None:
        assert self._router is not None
        await self._router.queries.join(self._config.dead_after)
        self._joined = True
        for identity in self._registry.identities():
            session = self._registry.get(identity)
            if session is not None:
                self._connection_changed(session, True)

    def stopService(self) -> Deferred[None]:
        """Leave the cluster: dead at once for the others, no connection held."""
        super().stopService()
        if self._loop.running:
            self._loop.stop()
        if self._channel is not None:
            self._channel.stop()
        self._joined = False
        router, pool = self._router, self._pool
        if router is None or pool is None:
            return succeed(None)
        router.fail_all(f"node {self.node} is stopping")

        def close(_: object) -> None:
            pool.close()

        d: Deferred[Any] = router.queries.leave()
        d.addErrback(lambda f: self._log.warn("Leaving the cluster: {error}", error=f.value))
        return d.addCallback(close)

    # --- IRemoteNodes --------------------------------------------------------------------------

    def call(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float | None
    ) -> Deferred[dict[str, Any] | None]:
        """
        See L{ocppcs.locator.IRemoteNodes.call}; with the database
        unreachable, L{ClusterUnavailable} (503).
        """
        if self._router is None or not self._joined:
            return succeed(None)
        d = Deferred.fromCoroutine(self._router.call(identity, action, payload, timeout))

        def unavailable(f: Failure) -> Failure:
            if is_unavailable(f):
                self._warn_unavailable(f)
                raise ClusterUnavailable(identity, action)
            return f

        return d.addErrback(unavailable)

    def live(self, identities: list[str]) -> Deferred[dict[str, Live]]:
        """
        See L{ocppcs.locator.IRemoteNodes.live}; with the database
        unreachable, none (only this node's stations are shown online).
        """
        if self._router is None or not self._joined or not identities:
            return succeed({})
        return self._router.queries.live(identities).addErrback(self._degraded, {})

    def online_count(self) -> Deferred[int]:
        """See L{ocppcs.locator.IRemoteNodes.online_count} (0 when the database is unreachable)."""
        if self._router is None or not self._joined:
            return succeed(0)
        return self._router.queries.online_count().addErrback(self._degraded, 0)

    def _degraded(self, failure: Failure, instead: Any) -> Any:
        if not is_unavailable(failure):
            return failure
        self._warn_unavailable(failure)
        return instead

    def _warn_unavailable(self, failure: Failure) -> None:
        now = self._reactor.seconds()
        if now - self._warned < WARN_EVERY:
            return
        self._warned = now
        self._log.warn(
            "Node {node} cannot reach the cluster's database: {error}",
            node=self.node,
            error=failure.getErrorMessage().strip() or failure.type.__name__,
        )

    # --- connections ---------------------------------------------------------------------------

    def _connection_changed(self, session: StationChannel, online: bool) -> None:
        router = self._router
        if router is None or not self._joined:
            return  # recorded when the node joins (or left with it)
        self._seq += 1
        identity = session.identity
        if online:
            d = router.queries.attach(identity, session.address, session.account, self._seq)
        else:
            d = router.queries.detach(identity, self._seq)
        d.addErrback(
            lambda f: self._log.warn(
                "Recording that {identity} {what} {node}: {error}",
                identity=identity,
                what="connected to" if online else "disconnected from",
                node=self.node,
                error=f.getErrorMessage().strip(),
            )
        )

    async def _close_moved(self) -> None:
        """
        Record this node's connections again where no node holds the station
        (the database may have lost rows), then close every connection here
        whose station is recorded on another node.
        """
        assert self._router is not None
        identities = self._registry.identities()
        sessions = [s for s in map(self._registry.get, identities) if s is not None]
        if sessions:
            self._seq += 1
            rows = [(s.identity, s.address, s.account, self._seq) for s in sessions]
            await self._router.queries.reassert(rows)
        if identities:
            for identity in await self._router.queries.stale(identities):
                await self._close_stale(identity)

    async def _close_stale(self, identity: str) -> None:
        """The station connected to another node: close its connection here, if still open."""
        assert self._router is not None
        if identity not in self._registry:
            return
        holder = await self._router.queries.holder(identity)
        if holder is not None and holder != self.node:
            why = f"connected to node {holder}"
            if self._registry.close(identity, why):
                self._log.info(
                    "{identity} {why}; its connection here closed", identity=identity, why=why
                )

    # --- notifications and heartbeats ----------------------------------------------------------

    def _notified(self, payload: str) -> None:
        # Not returned: txpostgres would hold the next notification until it fires.
        router = self._router
        if router is None or not self._joined:
            return
        kind, _, rest = payload.partition(" ")
        if kind == "command":
            work = router.claim(int(rest))
        elif kind == "reply":
            work = router.replied(int(rest))
        elif kind == "close":
            work = self._close_stale(rest)
        else:
            self._log.warn("Unknown cluster notification {payload!r}", payload=payload)
            return
        Deferred.fromCoroutine(work).addErrback(
            lambda f: self._log.warn(
                "Cluster notification {payload!r}: {error}", payload=payload, error=f.value
            )
        )

    async def _poll(self) -> None:
        """Claim what is queued for this node, collect what it waits for."""
        router = self._router
        if router is None or not self._joined:
            return
        await router.claim()
        await router.check_pending()

    def _recovered(self) -> Deferred[None]:
        async def catch_up() -> None:
            await self._poll()
            await self._close_moved()

        # The pool may reconnect later than the channel: the next heartbeat polls too.
        return Deferred.fromCoroutine(catch_up()).addErrback(
            lambda f: self._log.info("Catching up after reconnecting: {error}", error=f.value)
        )

    def _tick(self) -> Deferred[None]:
        d = Deferred.fromCoroutine(self._beat())
        d.addErrback(self._beat_failed)
        return d

    async def _beat(self) -> None:
        router = self._router
        assert router is not None
        if not await router.queries.beat():
            self._log.warn("Node {node} was marked stopped; joining again", node=self.node)
            await self._join()
        if self._failing:
            self._failing = False
            self._log.info("Node {node} heartbeats again", node=self.node)
            await self._close_moved()
        await self._poll()
        if self._channel is not None:
            await self._channel.check()
        self._beats += 1
        if self._beats % STALE_EVERY == 0:
            await self._close_moved()
        if self._beats % PURGE_EVERY == 0:
            await router.queries.purge(PURGE_AFTER)

    def _beat_failed(self, failure: Failure) -> None:
        if not self._failing:
            self._failing = True
            self._log.warn(
                "Node {node} cannot heartbeat ({error}); the other nodes will count it dead"
                " after {dead:g}s",
                node=self.node,
                error=failure.getErrorMessage().strip(),
                dead=self._config.dead_after,
            )
