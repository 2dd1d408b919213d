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
    latest = rows[0].latest
    assert latest is not None
    return latest.connector_id, latest.status


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


def test_reservations_past_expiry_are_listed_expired(conn: sqlite3.Connection) -> None:
    """A Reserved reservation past its expiryDate (any UTC offset) is Expired; others stay."""
    rows = [
        (1, "2026-11-25T09:00:00Z"),  # past
        (2, "2026-11-25T11:30:00+02:00"),  # 09:30Z, past
        (3, "2026-11-25T12:00:00Z"),  # future
    ]
    for rid, expiry in rows:
        conn.execute(
            "INSERT INTO reservation (id, identity, connector_id, id_tag, expiry_date)"
            " VALUES (?, 'S1', 1, 'T', ?)",
            (rid, expiry),
        )
    conn.execute("UPDATE reservation SET status = 'Cancelled' WHERE id = 1")
    _, page = reads.reservation_page(conn, None, None, None, 10, 0, "2026-11-25T10:00:00.000Z")
    status = {r.id: r.status for r in page}
    assert status == {1: "Cancelled", 2: "Expired", 3: "Reserved"}
    assert {r.id: r.date_stop for r in page}[2] == "2026-11-25T11:30:00+02:00"


def test_transaction_dates_are_compared_in_utc(conn: sqlite3.Connection) -> None:
    """dateFrom/dateTo select by the start time in UTC, whatever offset the station wrote."""
    starts = {
        1: "2026-11-25T10:30:00+02:00",  # 08:30Z: before the window, though its text sorts after
        2: "2026-11-25T09:00:00Z",  # 09:00:00.000Z: the window's first instant
        3: "2026-11-25T09:59:59.999Z",
        4: "2026-11-25T05:15:00-05:00",  # 10:15Z: after the window
        5: "2026-11-25T09:30:00.5-00:30",  # 10:00:00.500Z: after the window
    }
    for tid, start in starts.items():
        conn.execute(
            "INSERT INTO txn (id, identity, connector_id, id_tag, meter_start, start_timestamp,"
            " id_tag_status, created, updated) VALUES (?, 'S1', 1, 'T', 0, ?, 'Accepted', ?, ?)",
            (tid, start, SAME_MS, SAME_MS),
        )
    window = ("2026-11-25T09:00:00.000Z", "2026-11-25T10:00:00.000Z")
    total, rows = reads.transaction_page(conn, None, *window, 10, 0)
    assert total == 2 and [r.id for r in rows] == [3, 2]
    assert [r.start_timestamp for r in rows] == [starts[3], starts[2]]  # the station's text
    _, rows = reads.transaction_page(conn, "S1", "2026-11-25T10:00:00.000Z", None, 10, 0)
    assert [r.id for r in rows] == [5, 4]
