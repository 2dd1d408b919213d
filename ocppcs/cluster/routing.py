# -*- test-case-name: tests.cluster.test_routing -*-
"""
Commands routed between nodes, both ends.

The node that received a command for a station held by another node (the
origin) queues it in C{ocpp.cluster_command} and waits; the holding node
is woken by a NOTIFY, claims it, calls its station through its own
L{StationRegistry} and stores the outcome (L{ocppcs.cluster.outcome});
the origin is woken in turn, reads the outcome, deletes the row and
answers its caller as on one node.

Nothing depends on a NOTIFY arriving: each heartbeat also claims the
commands queued for this node and collects the outcomes this node waits
for. A command whose holding node dies before answering fails with
L{StationDisconnected} (503) once that node counts as dead; one not
answered within its timeout plus L{GRACE} fails with L{CallTimeout} (504).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.callerrors import CallTimeout, StationCallFailed, StationDisconnected
from ocppcs.cluster import outcome
from ocppcs.cluster.queries import ClusterQueries, Command
from ocppcs.stations import StationRegistry

#: Seconds an origin waits beyond a command's timeout for the holding node's
#: outcome (the station's own call may first wait behind earlier ones).
GRACE = 30.0
#: At most this many outcomes announced ahead of their command are remembered.
MAX_EARLY = 10_000


@dataclass
class _Pending:
    node: str
    identity: str
    action: str
    done: Deferred[dict[str, Any]]
    deadline: IDelayedCall | None = None


class Router:
    """
    One node's end of the routed commands.

    @param queries: this node's statements.
    @param registry: this node's connected stations.
    @param clock: for the origin's deadlines.
    @param call_timeout: the timeout of a command sent without one.
    """

    _log = Logger()

    def __init__(
        self, queries: ClusterQueries, registry: StationRegistry, clock: Any, call_timeout: float
    ) -> None:
        self.queries = queries
        self.registry = registry
        self.clock = clock
        self.call_timeout = call_timeout
        self._pending: dict[int, _Pending] = {}
        #: Outcomes announced before this node saw its own queued command's id
        #: (the NOTIFY came before the query's result on a busy reactor).
        self._early: set[int] = set()
        #: The commands being run here for other nodes.
        self.serving = 0

    # --- origin --------------------------------------------------------------------------------

    async def call(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float | None
    ) -> dict[str, Any] | None:
        """Route a command to the live other node holding C{identity}; C{None}: no such node."""
        wait = timeout if timeout is not None else self.call_timeout
        sent = await self.queries.send(identity, action, payload, wait)
        if sent is None:
            return None
        command_id, node = sent
        pending = _Pending(node, identity, action, Deferred())
        self._pending[command_id] = pending
        pending.deadline = self.clock.callLater(wait + GRACE, self._expire, command_id, wait)
        if command_id in self._early:
            self._early.discard(command_id)
            Deferred.fromCoroutine(self._collect([command_id])).addErrback(
                lambda f: self._log.warn("Collecting command {id}: {error}", id=command_id, error=f)
            )
        self._log.debug(
            "{action} for {identity} routed to {node} (command {id})",
            action=action,
            identity=identity,
            node=node,
            id=command_id,
        )
        return await pending.done

    def _settle(self, command_id: int, result: dict[str, Any] | StationCallFailed) -> None:
        pending = self._pending.pop(command_id, None)
        if pending is None:
            return
        if pending.deadline is not None and pending.deadline.active():
            pending.deadline.cancel()
        if isinstance(result, StationCallFailed):
            pending.done.errback(Failure(result))
        else:
            pending.done.callback(result)

    def _expire(self, command_id: int, wait: float) -> None:
        pending = self._pending.get(command_id)
        if pending is None:
            return
        pending.deadline = None
        self._settle(command_id, CallTimeout(pending.identity, pending.action, wait))
        self._forget([command_id])

    def _forget(self, ids: list[int]) -> None:
        self.queries.forget(ids).addErrback(
            lambda f: self._log.warn("Dropping routed commands {ids}: {error}", ids=ids, error=f)
        )

    async def replied(self, command_id: int) -> None:
        """The holding node stored the outcome of C{command_id} (a NOTIFY said so)."""
        if command_id in self._pending:
            await self._collect([command_id])
        else:
            if len(self._early) >= MAX_EARLY:
                self._early.clear()  # ids of commands that are long gone; heartbeats collect
            self._early.add(command_id)

    async def _collect(self, ids: list[int]) -> None:
        for command_id, data in await self.queries.collect(ids):
            pending = self._pending.get(command_id)
            if pending is not None:
                decoded = outcome.decode(data, pending.identity, pending.action, pending.node)
                self._settle(command_id, decoded)

    async def check_pending(self) -> None:
        """
        Collect the outcomes missed, and fail the commands whose node is dead
        (L{StationDisconnected}: it may or may not have run them).
        """
        if not self._pending:
            return
        await self._collect(list(self._pending))
        nodes = sorted({p.node for p in self._pending.values()})
        if not nodes:
            return
        alive = await self.queries.alive(nodes)
        gone = [i for i, p in self._pending.items() if p.node not in alive]
        for command_id in gone:
            pending = self._pending[command_id]
            why = f"its node {pending.node} is gone"
            self._settle(command_id, StationDisconnected(pending.identity, pending.action, why))
        if gone:
            self._forget(gone)

    def fail_all(self, why: str) -> None:
        """This node stops: every command it waits for fails."""
        for command_id in list(self._pending):
            pending = self._pending[command_id]
            self._settle(command_id, StationDisconnected(pending.identity, pending.action, why))

    @property
    def waiting(self) -> int:
        """How many routed commands this node waits for."""
        return len(self._pending)

    # --- holding node --------------------------------------------------------------------------

    async def claim(self, command_id: int | None = None) -> None:
        """Run a command queued for this node (a NOTIFY said so), or every queued one."""
        for command in await self.queries.claim(command_id):
            self.serving += 1
            Deferred.fromCoroutine(self._run(command)).addErrback(self._run_failed, command)

    def _run_failed(self, failure: Failure, command: Command) -> None:
        self._log.failure(
            "Answering routed command {id} ({action} for {identity})",
            failure,
            id=command.id,
            action=command.action,
            identity=command.identity,
        )

    async def _run(self, command: Command) -> None:
        try:
            if command.identity not in self.registry:
                data = outcome.MOVED
            else:
                data = await self._call(command)
            await self.queries.reply(command.id, data)
        finally:
            self.serving -= 1

    async def _call(self, command: Command) -> dict[str, Any]:
        try:
            reply = await self.registry.call(
                command.identity, command.action, command.payload, command.timeout
            )
        except StationCallFailed as e:
            return outcome.encode(e)
        except Exception:
            self._log.failure(
                "Running routed {action} for {identity}",
                action=command.action,
                identity=command.identity,
            )
            return outcome.encode(
                StationDisconnected(command.identity, command.action, "internal error")
            )
        return outcome.encode(reply)
