# -*- test-case-name: tests.backends.test_embedded_reads -*-
"""
Operator jobs of the embedded backend (stations, id tags, reservations) and
the read queries behind the REST API, run as store jobs in the store's worker
process (module-level functions, so that they pickle by reference).

Rows come back as plain dicts keyed by column name.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

ID_TAG_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid"})
RESERVATION_STATUSES = frozenset({"Reserved", "Used", "Cancelled", "Expired"})


def normalize_time(value: str | datetime) -> str:
    """
    An ISO-8601 date-time (text or aware L{datetime}) as UTC text with
    milliseconds and a C{Z}, the form the store compares as text.

    @raise ValueError: when C{value} is not a date-time with a time zone.
    """
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"a date-time with a time zone is needed, not {value!r}")
    dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    rows = _dicts(cursor)
    return rows[0] if rows else None


def is_accepted(conn: sqlite3.Connection, identity: str, open_registration: bool) -> bool:
    """
    Whether the station's last boot was Accepted and it is registered (or
    registration is open).
    """
    row = conn.execute(
        "SELECT boot_status, registered FROM station WHERE identity = ?", (identity,)
    ).fetchone()
    return row is not None and row[0] == "Accepted" and (open_registration or row[1] == 1)


def set_registered(
    conn: sqlite3.Connection, identity: str, registered: int, open_registration: bool, now: str
) -> bool:
    """
    Register (1) or unregister (0) a station, creating its row if needed.

    @return: whether the station is accepted afterwards.
    """
    conn.execute(
        "INSERT INTO station (identity, registered, created) VALUES (?, ?, ?)"
        " ON CONFLICT (identity) DO UPDATE SET registered = excluded.registered",
        (identity, registered, now),
    )
    return is_accepted(conn, identity, open_registration)


def station_connected(
    conn: sqlite3.Connection, identity: str, account: str, address: str, now: str
) -> None:
    """Note a station's new connection (creating its row if needed)."""
    conn.execute(
        "INSERT INTO station (identity, connected, last_address, account, last_seen, created)"
        " VALUES (?1, 1, ?2, ?3, ?4, ?4) ON CONFLICT (identity) DO UPDATE SET connected = 1,"
        " last_address = excluded.last_address, account = excluded.account,"
        " last_seen = excluded.last_seen",
        (identity, address, account, now),
    )


def station_disconnected(conn: sqlite3.Connection, identity: str, now: str) -> None:
    """Note that a station's connection closed."""
    conn.execute(
        "UPDATE station SET connected = 0, last_seen = ? WHERE identity = ?", (now, identity)
    )


def station_key_hash(conn: sqlite3.Connection, identity: str) -> str | None:
    """The hash of the station's AuthorizationKey, or C{None}."""
    query = "SELECT key_hash FROM station_key WHERE identity = ?"
    row = conn.execute(query, (identity,)).fetchone()
    return None if row is None else str(row[0])


def set_station_key_hash(
    conn: sqlite3.Connection, identity: str, key_hash: str | None, now: str
) -> None:
    """Store (or with C{None}, remove) the hash of the station's AuthorizationKey."""
    if key_hash is None:
        conn.execute("DELETE FROM station_key WHERE identity = ?", (identity,))
        return
    conn.execute(
        "INSERT INTO station_key (identity, key_hash, updated) VALUES (?, ?, ?)"
        " ON CONFLICT (identity) DO UPDATE SET key_hash = excluded.key_hash,"
        " updated = excluded.updated",
        (identity, key_hash, now),
    )


def put_id_tag(
    conn: sqlite3.Connection,
    id_tag: str,
    status: str,
    expiry_date: str | None,
    parent_id_tag: str | None,
) -> None:
    """Create or replace an id tag; an Accepted tag leaves the refused list."""
    conn.execute(
        "INSERT OR REPLACE INTO id_tag (id_tag, status, expiry_date, parent_id_tag)"
        " VALUES (?, ?, ?, ?)",
        (id_tag, status, expiry_date, parent_id_tag),
    )
    if status == "Accepted":
        conn.execute("DELETE FROM refused_id_tag WHERE id_tag = ?", (id_tag,))


def delete_id_tag(conn: sqlite3.Connection, id_tag: str) -> bool:
    """@return: whether the tag existed."""
    return conn.execute("DELETE FROM id_tag WHERE id_tag = ?", (id_tag,)).rowcount > 0


def list_id_tags(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """All id tags, by tag."""
    return _dicts(conn.execute("SELECT * FROM id_tag ORDER BY id_tag"))


def add_reservation(
    conn: sqlite3.Connection,
    reservation_id: int | None,
    identity: str,
    connector_id: int,
    id_tag: str,
    expiry_date: str,
    parent_id_tag: str | None,
    now: str | None = None,
    replace: bool = False,
) -> int:
    """
    Add a reservation (status Reserved).

    @param now: when it was made.
    @param replace: replace a reservation with the same id (as a station
        does for a ReserveNow with the id of an existing reservation).
    @return: its id (C{reservation_id}, or a new one when that is C{None}).
    """
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    cursor = conn.execute(
        f"{verb} INTO reservation (id, identity, connector_id, id_tag, parent_id_tag,"
        " expiry_date, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (reservation_id, identity, connector_id, id_tag, parent_id_tag, expiry_date, now),
    )
    if reservation_id is not None:
        return reservation_id
    assert cursor.lastrowid is not None  # set by a successful INSERT
    return cursor.lastrowid


def set_reservation_status(
    conn: sqlite3.Connection, reservation_id: int, status: str, now: str | None = None
) -> bool:
    """
    @param now: when it ended (for a status other than Reserved).
    @return: whether the reservation exists.
    """
    ended = None if status == "Reserved" else now
    return (
        conn.execute(
            "UPDATE reservation SET status = ?, ended = ? WHERE id = ?",
            (status, ended, reservation_id),
        ).rowcount
        > 0
    )


def get_reservation(conn: sqlite3.Connection, reservation_id: int) -> dict[str, Any] | None:
    """One reservation, or C{None}."""
    return _one(conn.execute("SELECT * FROM reservation WHERE id = ?", (reservation_id,)))


def get_station(conn: sqlite3.Connection, identity: str) -> dict[str, Any] | None:
    """A station with its C{connectors} (by connector id), or C{None}."""
    station = _one(conn.execute("SELECT * FROM station WHERE identity = ?", (identity,)))
    if station is not None:
        station["connectors"] = _dicts(
            conn.execute(
                "SELECT * FROM connector WHERE identity = ? ORDER BY connector_id", (identity,)
            )
        )
    return station


def list_stations(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """All stations, by identity (without connectors)."""
    return _dicts(conn.execute("SELECT * FROM station ORDER BY identity"))


def list_data_transfers(
    conn: sqlite3.Connection, identity: str | None, limit: int
) -> list[dict[str, Any]]:
    """DataTransfer messages kept, newest first."""
    if identity is None:
        cursor = conn.execute("SELECT * FROM data_transfer ORDER BY id DESC LIMIT ?", (limit,))
    else:
        cursor = conn.execute(
            "SELECT * FROM data_transfer WHERE identity = ? ORDER BY id DESC LIMIT ?",
            (identity, limit),
        )
    return _dicts(cursor)


def list_frames(conn: sqlite3.Connection, identity: str | None, limit: int) -> list[dict[str, Any]]:
    """
    The newest frame-log rows, newest first; C{ts} as ISO-8601 UTC text.
    """
    if identity is None:
        cursor = conn.execute("SELECT * FROM frame_log ORDER BY id DESC LIMIT ?", (limit,))
    else:
        cursor = conn.execute(
            "SELECT * FROM frame_log WHERE identity = ? ORDER BY id DESC LIMIT ?",
            (identity, limit),
        )
    rows = _dicts(cursor)
    for row in rows:
        row["ts"] = normalize_time(datetime.fromtimestamp(row["ts"], UTC))
    return rows
