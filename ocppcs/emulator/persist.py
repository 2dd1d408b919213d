# -*- test-case-name: tests.emulator.test_persist -*-
"""
Where emulated stations keep what must survive a restart: one JSON state
document per station and an ordered outbox of transaction messages, in an
SQLite database owned by a store worker process (the same
L{SQLiteStore} as the embedded backend, with the emulator's schema).

Jobs run in the worker, so they are module-level functions of a connection.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, NamedTuple

from twisted.internet.defer import Deferred

from ocppcs.backends.embedded.store import SQLiteStore

#: The package whose C{migrations/} folder makes the emulator's schema.
EMULATOR_SCHEMA = __name__.rpartition(".")[0]


class OutboxEntry(NamedTuple):
    """A stored transaction message waiting to be acknowledged."""

    id: int
    action: str
    payload: dict[str, Any]
    local_tx: str


class SavedStation(NamedTuple):
    """What a station had stored: its state document and its outbox."""

    state: dict[str, Any]
    outbox: list[OutboxEntry]


def _load_all(conn: sqlite3.Connection) -> dict[str, SavedStation]:
    saved: dict[str, SavedStation] = {}
    for identity, state in conn.execute("SELECT identity, state FROM station_state"):
        saved[identity] = SavedStation(json.loads(state), [])
    rows = conn.execute("SELECT id, identity, action, payload, local_tx FROM outbox ORDER BY id")
    for row_id, identity, action, payload, local_tx in rows:
        entry = OutboxEntry(row_id, action, json.loads(payload), local_tx)
        saved.setdefault(identity, SavedStation({}, [])).outbox.append(entry)
    return saved


def _save_state(conn: sqlite3.Connection, identity: str, state: str) -> None:
    conn.execute(
        "INSERT INTO station_state (identity, state) VALUES (?, ?)"
        " ON CONFLICT (identity) DO UPDATE SET state = excluded.state",
        (identity, state),
    )


def _add(conn: sqlite3.Connection, identity: str, action: str, payload: str, local_tx: str) -> int:
    cursor = conn.execute(
        "INSERT INTO outbox (identity, action, payload, local_tx) VALUES (?, ?, ?, ?)",
        (identity, action, payload, local_tx),
    )
    return int(cursor.lastrowid or 0)


def _remove(conn: sqlite3.Connection, row_id: int) -> None:
    conn.execute("DELETE FROM outbox WHERE id = ?", (row_id,))


class EmulatorStore:
    """
    The emulator's database.

    @ivar store: the underlying L{SQLiteStore}.
    """

    def __init__(self, reactor: Any, path: str | Path, synchronous: str = "normal") -> None:
        """
        @param reactor: an L{IReactorProcess} and L{IReactorTime}.
        @param path: the database file (C{":memory:"} for tests that need no restart).
        @param synchronous: SQLite durability, C{"full"} or C{"normal"}; with
            WAL, C{"normal"} survives a crash of the process, not of the machine.
        """
        self.store = SQLiteStore(
            reactor, path, synchronous=synchronous, prune_interval=0, schema=EMULATOR_SCHEMA
        )

    def start(self) -> Deferred:
        """Start the worker; fires once the database is open and migrated."""
        return self.store.start()

    def stop(self) -> Deferred:
        """Write what is queued and stop the worker."""
        return self.store.stop()

    def load_all(self) -> Deferred[dict[str, SavedStation]]:
        """Every station's saved state and outbox, by identity."""
        return self.store.run(_load_all)

    def save_state(self, identity: str, state: dict[str, Any]) -> Deferred[None]:
        """Replace C{identity}'s state document."""
        return self.store.run(_save_state, identity, json.dumps(state))

    def add(
        self, identity: str, action: str, payload: dict[str, Any], local_tx: str
    ) -> Deferred[int]:
        """Append a message to C{identity}'s outbox; fires with its row id once stored."""
        return self.store.run(_add, identity, action, json.dumps(payload), local_tx)

    def remove(self, row_id: int) -> Deferred[None]:
        """Drop an acknowledged (or abandoned) outbox message."""
        return self.store.run(_remove, row_id)
