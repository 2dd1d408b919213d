# -*- test-case-name: tests.cluster.test_routing -*-
"""
The cluster's SQL (C{sql/0100_cluster.sql}): every statement one node
sends about itself, its connections and the commands it routes or runs.
All are parameterised and run on a txpostgres pool (never blocking).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from twisted.internet.defer import Deferred

from ocppcs.locator import Live

_JOIN = "SELECT ocpp.cluster_join(%s, %s)"
_LEAVE = "SELECT ocpp.cluster_leave(%s)"
_BEAT = (
    "UPDATE ocpp.cluster_node SET heartbeat = now() WHERE node = %s AND stopped IS NULL"
    " RETURNING node"
)
_ATTACH = "SELECT ocpp.cluster_attach(%s, %s, %s, %s, %s)"
#: After the database lost rows (a crash with synchronous_commit off, a restore):
#: this node's connections, unless another node holds the station now.
_REASSERT = (
    "INSERT INTO ocpp.cluster_connection (identity, node, address, account, seq)"
    " SELECT i, %s, a, c, s FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[])"
    " AS t(i, a, c, s) ON CONFLICT (identity) DO NOTHING"
)
_DETACH = "DELETE FROM ocpp.cluster_connection WHERE identity = %s AND node = %s AND seq <= %s"
_HOLDER = "SELECT node FROM ocpp.cluster_connection WHERE identity = %s"
_STALE = "SELECT identity FROM ocpp.cluster_connection WHERE identity = ANY(%s) AND node <> %s"
_SEND = "SELECT command_id, target FROM ocpp.cluster_send(%s, %s, %s, %s::jsonb, %s)"
_CLAIM_ONE = (
    "UPDATE ocpp.cluster_command SET state = 'running'"
    " WHERE id = %s AND node = %s AND state = 'queued'"
    " RETURNING id, identity, action, payload, timeout"
)
_CLAIM_ALL = (
    "UPDATE ocpp.cluster_command SET state = 'running'"
    " WHERE node = %s AND state = 'queued'"
    " RETURNING id, identity, action, payload, timeout"
)
_REPLY = "SELECT ocpp.cluster_reply(%s, %s::jsonb)"
_COLLECT = (
    "DELETE FROM ocpp.cluster_command"
    " WHERE origin = %s AND state = 'done' AND id = ANY(%s) RETURNING id, outcome"
)
_FORGET = "DELETE FROM ocpp.cluster_command WHERE id = ANY(%s)"
_ALIVE = (
    "SELECT DISTINCT n.node FROM ocpp.cluster_node n WHERE n.node = ANY(%s)"
    " AND n.stopped IS NULL AND n.heartbeat > now() - make_interval(secs => n.dead_after)"
)
_LIVE = (
    "SELECT identity, address, account, node FROM ocpp.cluster_live_connection"
    " WHERE identity = ANY(%s) AND node <> %s"
)
_COUNT = "SELECT count(*) FROM ocpp.cluster_live_connection WHERE node <> %s"
#: Commands nobody will read any more (their origin died while waiting).
_PURGE = "DELETE FROM ocpp.cluster_command WHERE created < now() - make_interval(secs => %s)"


class Command(NamedTuple):
    """A command another node routed to this one."""

    id: int
    identity: str
    action: str
    payload: dict[str, Any]
    timeout: float


def _commands(rows: list[tuple[Any, ...]]) -> list[Command]:
    return [Command(int(r[0]), r[1], r[2], r[3], float(r[4])) for r in rows]


class ClusterQueries:
    """
    One node's statements on C{pool}.

    @param pool: a started txpostgres pool (C{runQuery}, C{runOperation}).
    @param node: this node's name.
    """

    def __init__(self, pool: Any, node: str) -> None:
        self.pool = pool
        self.node = node

    def join(self, dead_after: float) -> Deferred[Any]:
        """This node is alive (again) and holds no connection yet."""
        return self.pool.runQuery(_JOIN, (self.node, dead_after))

    def leave(self) -> Deferred[Any]:
        """This node stops: dead at once, its connections gone."""
        return self.pool.runQuery(_LEAVE, (self.node,))

    def beat(self) -> Deferred[bool]:
        """A heartbeat; C{False} when this node's row is gone or stopped (join again)."""
        return self.pool.runQuery(_BEAT, (self.node,)).addCallback(bool)

    def attach(self, identity: str, address: str, account: str, seq: int) -> Deferred[Any]:
        """The station's connection is on this node now (a previous node is told to close)."""
        return self.pool.runQuery(_ATTACH, (identity, self.node, address, account, seq))

    def reassert(self, connections: list[tuple[str, str, str, int]]) -> Deferred[Any]:
        """Record C{(identity, address, account, seq)} here where no node holds the station."""
        columns = [list(c) for c in zip(*connections, strict=True)] if connections else [[]] * 4
        return self.pool.runOperation(_REASSERT, (self.node, *columns))

    def detach(self, identity: str, seq: int) -> Deferred[Any]:
        """The station's connection to this node (as of C{seq}) closed."""
        return self.pool.runOperation(_DETACH, (identity, self.node, seq))

    def holder(self, identity: str) -> Deferred[str | None]:
        """The node the station's connection is recorded on, or C{None}."""
        d = self.pool.runQuery(_HOLDER, (identity,))
        return d.addCallback(lambda rows: rows[0][0] if rows else None)

    def stale(self, identities: list[str]) -> Deferred[list[str]]:
        """Those of C{identities} (connected here) whose connection moved to another node."""
        d = self.pool.runQuery(_STALE, (identities, self.node))
        return d.addCallback(lambda rows: [r[0] for r in rows])

    def send(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Deferred[tuple[int, str] | None]:
        """Queue a command for the live other node holding the station: C{(id, node)}."""
        args = (self.node, identity, action, json.dumps(payload), timeout)
        d = self.pool.runQuery(_SEND, args)
        return d.addCallback(lambda rows: (int(rows[0][0]), rows[0][1]) if rows else None)

    def claim(self, command_id: int | None = None) -> Deferred[list[Command]]:
        """Take one queued command for this node (or every one), to run it."""
        if command_id is None:
            d = self.pool.runQuery(_CLAIM_ALL, (self.node,))
        else:
            d = self.pool.runQuery(_CLAIM_ONE, (command_id, self.node))
        return d.addCallback(_commands)

    def reply(self, command_id: int, outcome: dict[str, Any]) -> Deferred[Any]:
        """Store a command's outcome and wake its origin."""
        return self.pool.runQuery(_REPLY, (command_id, json.dumps(outcome)))

    def collect(self, ids: list[int]) -> Deferred[list[tuple[int, dict[str, Any]]]]:
        """The outcomes in among the commands C{ids} this node sent (read once)."""
        d = self.pool.runQuery(_COLLECT, (self.node, ids))
        return d.addCallback(lambda rows: [(int(i), o) for i, o in rows])

    def forget(self, ids: list[int]) -> Deferred[Any]:
        """Drop commands whose outcome this node no longer waits for."""
        return self.pool.runOperation(_FORGET, (ids,))

    def alive(self, nodes: list[str]) -> Deferred[set[str]]:
        """Those of C{nodes} that are alive."""
        return self.pool.runQuery(_ALIVE, (nodes,)).addCallback(lambda rows: {r[0] for r in rows})

    def live(self, identities: list[str]) -> Deferred[dict[str, Live]]:
        """The stations among C{identities} connected to live other nodes."""
        d = self.pool.runQuery(_LIVE, (identities, self.node))
        return d.addCallback(lambda rows: {r[0]: Live(r[1], r[2], r[3]) for r in rows})

    def online_count(self) -> Deferred[int]:
        """How many stations are connected to live other nodes."""
        return self.pool.runQuery(_COUNT, (self.node,)).addCallback(lambda rows: int(rows[0][0]))

    def purge(self, older_than: float) -> Deferred[Any]:
        """Drop commands older than C{older_than} seconds (whoever sent them)."""
        return self.pool.runOperation(_PURGE, (older_than,))
