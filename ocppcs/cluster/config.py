# -*- test-case-name: tests.cluster.test_config -*-
"""
C{[cluster]}: this node's place in a cluster of nodes sharing one
PostgreSQL (C{[postgres]}).

    [cluster]
    enable = false       several nodes on one database form one central system
    node =               this node's name; empty: HOSTNAME:PORT of the first listener (L{node_of})
    heartbeat = 2        seconds between two heartbeats of this node
    missed = 3           heartbeats missed before the other nodes count it dead
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocppcs import configvalues as values


def node_name(text: str) -> str:
    """A node name: printable, at most 200 characters (empty: the default)."""
    name = text.strip()
    if len(name) > 200 or not name.isprintable():
        raise ValueError(f"must be printable and at most 200 characters, got {text!r}")
    return name


@dataclass(frozen=True)
class ClusterConfig:
    """
    C{[cluster]}: see the module.

    @ivar enable: join the cluster of the nodes on C{[postgres]}'s database.
    @ivar node: this node's name, unique in the cluster (C{""}: see L{node_of}).
    @ivar heartbeat: seconds between heartbeats.
    @ivar missed: heartbeats missed before this node counts as dead.
    """

    enable: bool = False
    node: str = ""
    heartbeat: float = 2.0
    missed: int = 3

    @property
    def dead_after(self) -> float:
        """Seconds without a heartbeat after which this node counts as dead."""
        return self.heartbeat * self.missed


#: The keys of C{[cluster]} and their parsers (for L{ocppcs.config}).
KEYS: dict[str, Callable[[str], Any]] = {
    "enable": values.boolean,
    "node": node_name,
    "heartbeat": values.positive_float,
    "missed": values.positive_int,
}


def node_of(cluster: ClusterConfig, listen: tuple[str, ...]) -> str:
    """
    This node's name: C{[cluster] node}, else C{HOSTNAME:PORT} with the
    port of the first C{tcp:PORT...} listen description, else (port 0, or
    no TCP listener) C{HOSTNAME:pPID}. The record and the cluster use it.
    """
    if cluster.node:
        return cluster.node
    host = socket.gethostname()
    for description in listen:
        kind, _, rest = description.partition(":")
        port = rest.partition(":")[0]
        if kind in ("tcp", "tcp6", "ssl") and port.isdigit() and int(port):
            return f"{host}:{port}"
    return f"{host}:p{os.getpid()}"
