# -*- test-case-name: tests.web.test_api_records,tests.web.test_api_stations -*-
"""
The paged read queries (and the few writes of the onboarding calls) behind
the REST API, run as store jobs in the store's worker process: module-level
functions taking the connection first, so that they pickle by reference.

What they read comes back as the typed views of L{ocppcs.backends.views},
built here from the rows (so the REST API never sees a column name). A page
is C{(total, views)}; the frame log, which can be large, is not counted.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ocppcs.backends.embedded.admin import is_accepted
from ocppcs.backends.views import (
    ConnectorView,
    FrameView,
    IdTagView,
    MeterValueView,
    RefusedIdTagView,
    ReservationView,
    StationView,
    TransactionView,
    from_row,
)

#: The newest status of a station's connectors, as C{sn_*} columns beside C{s.*}.
_LATEST_STATUS = """
SELECT s.*, c.connector_id AS sn_connector_id, c.status AS sn_status,
    c.error_code AS sn_error_code, c.info AS sn_info, c.vendor_id AS sn_vendor_id,
    c.vendor_error_code AS sn_vendor_error_code, c.timestamp AS sn_timestamp,
    c.updated AS sn_updated
FROM ({stations}) AS s
LEFT JOIN connector AS c ON c.identity = s.identity AND c.connector_id = (
    SELECT connector_id FROM connector WHERE identity = s.identity
    ORDER BY seq DESC LIMIT 1)
ORDER BY s.identity
"""

_REJECTED = "registered = 0 AND boot_status IN ('Rejected', 'Pending')"

_TXN_COLUMNS = "t.*, s.charge_point_serial AS serial_number"


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _station(row: dict[str, Any], **extra: Any) -> StationView:
    """A station row (C{sn_*} columns: its newest connector status) as a view."""
    latest = None
    if row.get("sn_connector_id") is not None:
        latest = ConnectorView(
            row["identity"],
            row["sn_connector_id"],
            row["sn_status"],
            row["sn_error_code"],
            row["sn_info"],
            row["sn_vendor_id"],
            row["sn_vendor_error_code"],
            row["sn_timestamp"],
            row["sn_updated"],
        )
    return from_row(
        StationView,
        row,
        registered=bool(row["registered"]),
        connected=bool(row["connected"]),
        latest=latest,
        **extra,
    )


def _connectors(cursor: sqlite3.Cursor) -> list[ConnectorView]:
    return [from_row(ConnectorView, row) for row in _dicts(cursor)]


def _transactions(cursor: sqlite3.Cursor) -> list[TransactionView]:
    return [from_row(TransactionView, row) for row in _dicts(cursor)]


def _count(conn: sqlite3.Connection, table: str, where: str, args: list[Any]) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}{where}", args).fetchone()[0]


def _where(conditions: list[str]) -> str:
    return " WHERE " + " AND ".join(conditions) if conditions else ""


_PAGE = "SELECT * FROM station ORDER BY identity LIMIT ? OFFSET ?"


def station_page(
    conn: sqlite3.Connection, limit: int, offset: int
) -> tuple[int, list[StationView]]:
    """
    Stations by identity, each with the newest connector status (C{sn_*}
    columns) and every connector's last status (C{connectors}, by connector id).
    """
    total = _count(conn, "station", "", [])
    rows = _dicts(conn.execute(_LATEST_STATUS.format(stations=_PAGE), (limit, offset)))
    connectors: dict[str, list[ConnectorView]] = {row["identity"]: [] for row in rows}
    if rows:
        cursor = conn.execute(
            f"SELECT c.* FROM connector AS c JOIN ({_PAGE}) AS s ON s.identity = c.identity"
            " ORDER BY c.identity, c.connector_id",
            (limit, offset),
        )
        for connector in _connectors(cursor):
            connectors[connector.identity].append(connector)
    return total, [_station(row, connectors=connectors[row["identity"]]) for row in rows]


def rejected_station_page(
    conn: sqlite3.Connection, limit: int, offset: int
) -> tuple[int, list[StationView]]:
    """Stations whose last boot was Rejected or Pending and that are not registered."""
    total = _count(conn, "station", f" WHERE {_REJECTED}", [])
    rows = conn.execute(
        f"SELECT * FROM station WHERE {_REJECTED} ORDER BY last_boot DESC, identity"
        " LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return total, [_station(row) for row in _dicts(rows)]


def station_detail(conn: sqlite3.Connection, identity: str) -> StationView | None:
    """
    A station with its C{connectors} and its C{open_transactions}, or C{None}.
    """
    rows = _dicts(conn.execute("SELECT * FROM station WHERE identity = ?", (identity,)))
    if not rows:
        return None
    connectors = _connectors(
        conn.execute(
            "SELECT * FROM connector WHERE identity = ? ORDER BY connector_id", (identity,)
        )
    )
    open_transactions = _transactions(
        conn.execute(
            f"SELECT {_TXN_COLUMNS} FROM txn AS t JOIN station AS s ON s.identity = t.identity"
            " WHERE t.identity = ? AND t.stop_timestamp IS NULL ORDER BY t.id",
            (identity,),
        )
    )
    return _station(rows[0], connectors=connectors, open_transactions=open_transactions)


def remove_station(
    conn: sqlite3.Connection, identity: str, open_registration: bool
) -> tuple[str | None, bool]:
    """
    Undo a registration: a station that never connected, booted or charged
    (registered ahead of time) is deleted; any other is unregistered and
    keeps its history.

    @return: C{"removed"}, C{"unregistered"} or C{None} (unknown station), and
        whether the station is accepted afterwards.
    """
    row = conn.execute(
        "SELECT last_boot IS NULL AND last_seen IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM txn WHERE identity = ?1) FROM station WHERE identity = ?1",
        (identity,),
    ).fetchone()
    if row is None:
        return None, False
    if row[0]:
        conn.execute("DELETE FROM connector WHERE identity = ?", (identity,))
        conn.execute("DELETE FROM station WHERE identity = ?", (identity,))
        return "removed", False
    conn.execute("UPDATE station SET registered = 0 WHERE identity = ?", (identity,))
    return "unregistered", is_accepted(conn, identity, open_registration)


def _station_and_dates(
    table: str, column: str, identity: str | None, date_from: str | None, date_to: str | None
) -> tuple[str, list[Any]]:
    """
    The WHERE clause and arguments of the lists filtered by station and by
    C{[date_from, date_to)} of C{table.column}.
    """
    where: list[str] = []
    args: list[Any] = []
    for condition, value in (
        (f"{table}.identity = ?", identity),
        (f"{table}.{column} >= ?", date_from),
        (f"{table}.{column} < ?", date_to),
    ):
        if value is not None:
            where.append(condition)
            args.append(value)
    return _where(where), args


def transaction_page(
    conn: sqlite3.Connection,
    identity: str | None,
    date_from: str | None,
    date_to: str | None,
    limit: int,
    offset: int,
    id_tag: str | None = None,
) -> tuple[int, list[TransactionView]]:
    """
    Transactions, newest first, of one station or all, started in
    C{[date_from, date_to)} (UTC texts C{YYYY-MM-DDTHH:MM:SS.mmmZ}, compared
    with the start time in UTC whatever offset the station used), of the
    idTag C{id_tag} if given.
    """
    clause, args = _station_and_dates("t", "start_utc", identity, date_from, date_to)
    if id_tag is not None:
        clause += " AND t.id_tag = ?" if clause else " WHERE t.id_tag = ?"
        args.append(id_tag)
    total = _count(conn, "txn AS t", clause, args)
    rows = conn.execute(
        f"SELECT {_TXN_COLUMNS} FROM txn AS t LEFT JOIN station AS s ON s.identity = t.identity"
        f"{clause} ORDER BY t.id DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return total, _transactions(rows)


def transaction_detail(conn: sqlite3.Connection, transaction_id: int) -> TransactionView | None:
    """A transaction with its C{meter_values} (in arrival order), or C{None}."""
    rows = _transactions(
        conn.execute(
            f"SELECT {_TXN_COLUMNS} FROM txn AS t LEFT JOIN station AS s"
            " ON s.identity = t.identity WHERE t.id = ?",
            (transaction_id,),
        )
    )
    if not rows:
        return None
    txn = rows[0]
    txn.meter_values = [
        from_row(MeterValueView, row)
        for row in _dicts(
            conn.execute(
                "SELECT * FROM meter_value WHERE transaction_id = ? ORDER BY id",
                (transaction_id,),
            )
        )
    ]
    return txn


#: Reservations whose expiryDate has passed become Expired (and end at their expiry).
_EXPIRE_RESERVATIONS = (
    "UPDATE reservation SET status = 'Expired', ended = coalesce(ended, expiry_date)"
    " WHERE status = 'Reserved' AND julianday(expiry_date) < julianday(?)"
)


def reservation_page(
    conn: sqlite3.Connection,
    identity: str | None,
    date_from: str | None,
    date_to: str | None,
    limit: int,
    offset: int,
    now: str | None = None,
) -> tuple[int, list[ReservationView]]:
    """
    Reservations, newest first, of one station or all, made in
    C{[date_from, date_to)}; C{date_stop} is when it ended (or was used).
    Reservations past their expiryDate at C{now} are marked Expired first.
    """
    if now is not None:
        conn.execute(_EXPIRE_RESERVATIONS, (now,))
    clause, args = _station_and_dates("r", "created", identity, date_from, date_to)
    total = _count(conn, "reservation AS r", clause, args)
    rows = conn.execute(
        "SELECT r.*, s.charge_point_serial AS serial_number,"
        " coalesce(r.ended, t.start_timestamp) AS date_stop FROM reservation AS r"
        " LEFT JOIN station AS s ON s.identity = r.identity"
        " LEFT JOIN txn AS t ON t.id = r.transaction_id"
        f"{clause} ORDER BY r.id DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return total, [from_row(ReservationView, row) for row in _dicts(rows)]


def id_tag_page(
    conn: sqlite3.Connection, status: str | None, limit: int, offset: int
) -> tuple[int, list[IdTagView]]:
    """Id tags by tag, optionally of one status."""
    where, args = (" WHERE status = ?", [status]) if status is not None else ("", [])
    total = _count(conn, "id_tag", where, args)
    rows = conn.execute(
        f"SELECT * FROM id_tag{where} ORDER BY id_tag LIMIT ? OFFSET ?", [*args, limit, offset]
    )
    return total, [from_row(IdTagView, row) for row in _dicts(rows)]


def get_id_tag(conn: sqlite3.Connection, id_tag: str) -> IdTagView | None:
    """One id tag, or C{None}."""
    rows = _dicts(conn.execute("SELECT * FROM id_tag WHERE id_tag = ?", (id_tag,)))
    return from_row(IdTagView, rows[0]) if rows else None


def refused_id_tag_page(
    conn: sqlite3.Connection, limit: int, offset: int
) -> tuple[int, list[RefusedIdTagView]]:
    """Refused id tags, most recently refused first."""
    total = _count(conn, "refused_id_tag", "", [])
    rows = conn.execute(
        "SELECT * FROM refused_id_tag ORDER BY last_seen DESC, id_tag LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return total, [from_row(RefusedIdTagView, row) for row in _dicts(rows)]


def accept_refused_id_tag(conn: sqlite3.Connection, id_tag: str) -> IdTagView | None:
    """
    Make a refused tag Accepted (keeping its parent, dropping its expiry) and
    take it off the refused list.

    @return: the tag as stored now, or C{None} when it was not refused.
    """
    if conn.execute("DELETE FROM refused_id_tag WHERE id_tag = ?", (id_tag,)).rowcount == 0:
        return None
    conn.execute(
        "INSERT INTO id_tag (id_tag, status) VALUES (?, 'Accepted') ON CONFLICT (id_tag)"
        " DO UPDATE SET status = 'Accepted', expiry_date = NULL",
        (id_tag,),
    )
    return get_id_tag(conn, id_tag)


def frame_page(
    conn: sqlite3.Connection,
    identity: str | None,
    action: str | None,
    since: float | None,
    before: int | None,
    limit: int,
    offset: int,
) -> list[FrameView]:
    """
    Frame-log rows, newest first (by id): of one station and/or action, at
    or after C{since} (seconds since the epoch), with an id below C{before}.
    C{ts} stays seconds since the epoch.
    """
    where: list[str] = []
    args: list[Any] = []
    if identity is not None:
        where.append("identity = ?")
        args.append(identity)
    if action is not None:
        where.append("action = ?")
        args.append(action)
    if since is not None:
        # Rows are appended in time order: the first row at or after `since`
        # (found with the ts index) bounds the id range to scan.
        first = conn.execute(
            "SELECT id FROM frame_log WHERE ts >= ? ORDER BY ts LIMIT 1", (since,)
        ).fetchone()
        if first is None:
            return []
        where.append("id >= ? AND ts >= ?")
        args.extend((first[0], since))
    if before is not None:
        where.append("id < ?")
        args.append(before)
    rows = conn.execute(
        "SELECT id, ts, identity, direction, message_type, unique_id, action, raw"
        f" FROM frame_log{_where(where)} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return [FrameView(*row) for row in rows]


def count_open_transactions(conn: sqlite3.Connection) -> int:
    """How many transactions have started and not stopped."""
    return conn.execute("SELECT count(*) FROM txn WHERE stop_timestamp IS NULL").fetchone()[0]
