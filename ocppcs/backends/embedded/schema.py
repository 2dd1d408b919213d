# -*- test-case-name: tests.backends.test_embedded_store_schema -*-
"""
The embedded store's database: opening it, its versioned schema, the bulk
statements of the hot path and the frame-log pruning job.

Only the store worker process (L{ocppcs.backends.embedded.worker}) opens the
database for writing.

The schema is versioned with C{PRAGMA user_version} and the numbered
C{migrations/NNNN_*.sql} files of this package, applied in order on start.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from pathlib import Path

from twisted.logger import Logger

log = Logger()

_MIGRATION_NAME = re.compile(r"^(\d{4})_[A-Za-z0-9_\-]+\.sql$")

_PRUNE_ROWS = (
    "DELETE FROM frame_log WHERE id < (SELECT id FROM frame_log ORDER BY id DESC LIMIT 1 OFFSET ?)"
)
_PRUNE_AGE = "DELETE FROM frame_log WHERE ts < ?"

#: Bulk kinds: one statement writes all rows of a kind in a batch. The rows
#: come as one JSON array of arrays; C{j.value ->> N} is a row's N-th element.
BULK_SQL: dict[str, str] = {
    "frame_log": (
        "INSERT INTO frame_log (ts, identity, direction, message_type, unique_id, action, raw)"
        " SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,"
        " j.value->>6 FROM json_each(?) AS j"
    ),
    "meter_value": (
        "INSERT INTO meter_value (identity, connector_id, transaction_id, timestamp, value,"
        " context, format, measurand, phase, location, unit, source)"
        " SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,"
        " j.value->>6, j.value->>7, j.value->>8, j.value->>9, j.value->>10, j.value->>11"
        " FROM json_each(?) AS j"
    ),
    "connector": (
        "INSERT INTO connector (identity, connector_id, status, error_code, info, vendor_id,"
        " vendor_error_code, timestamp, updated, seq)"
        " SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,"
        " j.value->>6, j.value->>7, j.value->>8,"
        " (SELECT coalesce(max(seq), 0) FROM connector) + j.key + 1"
        " FROM json_each(?) AS j WHERE true"
        " ON CONFLICT (identity, connector_id) DO UPDATE SET"
        " status = excluded.status, error_code = excluded.error_code, info = excluded.info,"
        " vendor_id = excluded.vendor_id, vendor_error_code = excluded.vendor_error_code,"
        " timestamp = excluded.timestamp, updated = excluded.updated, seq = excluded.seq"
    ),
    "last_seen": (
        "UPDATE station SET last_seen = j.value->>1 FROM json_each(?) AS j"
        " WHERE station.identity = j.value->>0"
    ),
}


#: The package whose C{migrations/} folder holds the central system's schema.
CENTRAL_SCHEMA = __name__.rpartition(".")[0]


def migrations(package: str = CENTRAL_SCHEMA) -> list[tuple[int, str, str]]:
    """
    The schema migrations shipped in C{package}'s C{migrations/} folder
    (by default the central system's embedded store).

    @return: C{(version, file name, SQL text)} for every C{NNNN_*.sql} file,
        in version order.
    @raise ValueError: when two files have the same number.
    """
    folder = resources.files(package).joinpath("migrations")
    found: dict[int, tuple[int, str, str]] = {}
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version}: {entry.name}")
        found[version] = (version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def apply_migrations(conn: sqlite3.Connection, package: str = CENTRAL_SCHEMA) -> int:
    """
    Bring the schema of C{conn} up to date, one transaction per migration.

    @param conn: a connection in autocommit mode (C{isolation_level=None}).
    @param package: the package whose migrations make the schema.
    @return: the schema version afterwards.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, name, sql in migrations(package):
        if number <= version:
            continue
        log.info("Applying schema migration {name}", name=name)
        try:
            conn.executescript(f"BEGIN;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version = number
    return version


def connect(path: str, synchronous: str) -> tuple[sqlite3.Connection, str]:
    """
    Open the database for the store: autocommit mode (the store issues BEGIN
    and COMMIT itself), WAL journal, the given durability, a large page cache.
    The parent directory is created if missing.

    @param path: the database file, or C{":memory:"}.
    @param synchronous: C{"FULL"} or C{"NORMAL"}.
    @return: the connection and the journal mode SQLite agreed to (C{"wal"}
        unless the file system refused it).
    """
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=512)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
    except BaseException:
        conn.close()
        raise
    return conn, mode


def prune_log(conn: sqlite3.Connection, max_rows: int, max_age: float, now: float) -> int:
    """
    A store job: delete frame-log rows beyond the newest C{max_rows} and
    older than C{now - max_age} (a limit of 0 is no limit).

    @return: the number of rows deleted.
    """
    deleted = 0
    if max_rows > 0:
        deleted += conn.execute(_PRUNE_ROWS, (max_rows - 1,)).rowcount
    if max_age > 0:
        deleted += conn.execute(_PRUNE_AGE, (now - max_age,)).rowcount
    return deleted
