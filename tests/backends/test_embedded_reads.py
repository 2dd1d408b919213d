"""The embedded store's REST queries, on a migrated in-process database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocppcs.backends.embedded import reads, schema

SAME_MS = "2026-11-25T08:00:00.000Z"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A migrated database with one station."""
    db = sqlite3.connect(tmp_path / "r.sqlite3", isolation_level=None)
    schema.apply_migrations(db)
    db.execute("INSERT INTO station (identity) VALUES ('S1')")
    yield db
    db.close()


def _status(conn: sqlite3.Connection, *rows: tuple[int, str]) -> None:
    """Write StatusNotifications (connector, status), all stamped in the same millisecond."""
    batch = [["S1", c, s, "NoError", None, None, None, SAME_MS, SAME_MS] for c, s in rows]
    conn.execute(schema.BULK_SQL["connector"], (json.dumps(batch),))


def _newest(conn: sqlite3.Connection) -> tuple[int, str]:
    _, rows = reads.station_page(conn, 10, 0)
    return rows[0]["sn_connector_id"], rows[0]["sn_status"]


def test_newest_status_is_the_last_written_in_a_batch(conn: sqlite3.Connection) -> None:
    """Equal timestamps: the row that came last in the batch is the newest."""
    _status(conn, (0, "Available"), (1, "Charging"))
    assert _newest(conn) == (1, "Charging")


def test_newest_status_across_batches(conn: sqlite3.Connection) -> None:
    """Equal timestamps: a later batch beats an earlier one, also on a lower connector."""
    _status(conn, (0, "Available"))
    _status(conn, (2, "Preparing"))
    assert _newest(conn) == (2, "Preparing")
    _status(conn, (0, "Unavailable"))
    assert _newest(conn) == (0, "Unavailable")
    _status(conn, (2, "Charging"))
    assert _newest(conn) == (2, "Charging")
