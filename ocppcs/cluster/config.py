# -*- test-case-name: tests.cluster.test_config -*-
"""
C{[cluster]}: this node's place in a cluster of nodes sharing one
PostgreSQL (C{[postgres]}).

    [cluster]
    enable = false       several nodes on one database form one central system
    node =               this node's name; empty: HOSTNAME:PORT of the first listener
    heartbeat = 2        seconds between two heartbeats of this node
    missed = 3           heartbeats missed before the other nodes count it dead
"""

from __future__ import annotations

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
    @ivar node: this node's name, unique in the cluster (C{""}: L{default_node}).
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


def default_node(port: int | None) -> str:
    """C{HOSTNAME:PORT} (the port of this node's first TCP listener), or C{HOSTNAME}."""
    host = socket.gethostname()
    return f"{host}:{port}" if port else host
