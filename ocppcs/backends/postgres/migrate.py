# -*- test-case-name: tests.backends.postgres.test_foundation -*-
"""
The versioned C{ocpp} schema: the files C{sql/NNNN_name.sql} of this
package, applied in order, each once, each in its own transaction, and
recorded in C{ocpp.migration}.

    ocppcs-init-db [-c conf/ocppcs.conf] [--dsn CONNINFO] [--check]

is the documented command (also C{python -m ocppcs.backends.postgres.migrate}).
It runs outside the reactor (plain psycopg2) and takes an advisory lock, so
several nodes starting at once apply each file once. A running node only
checks, without blocking the reactor, that the database is not behind
(L{check_version}).
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import resources
from typing import Any, NamedTuple

import psycopg2
from twisted.internet.defer import Deferred

from ocppcs.backends.interface import BackendStartError

#: The advisory lock held while migrating (any constant shared by all nodes).
LOCK_KEY = 0x6F637070  # "ocpp"

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Migration(NamedTuple):
    """One file of C{sql/}."""

    version: int
    name: str
    sql: str


class SchemaBehind(BackendStartError):
    """The database lacks migrations this version of ocppcs needs."""


def migrations() -> list[Migration]:
    """Every migration shipped with this package, in version order."""
    found = []
    folder = resources.files("ocppcs.backends.postgres") / "sql"
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


def latest_version() -> int:
    """The version the shipped schema ends at."""
    return migrations()[-1].version


def apply_migrations(dsn: str) -> list[Migration]:
    """
    Bring the database at C{dsn} up to date (blocking; not for the reactor thread).

    @return: the migrations applied now (empty when it already was).
    """
    applied_now = []
    with psycopg2.connect(dsn) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            try:
                done = _applied(cur)
                for migration in migrations():
                    if migration.version in done:
                        continue
                    cur.execute("BEGIN")
                    try:
                        cur.execute(migration.sql)
                        cur.execute(
                            "INSERT INTO ocpp.migration (version, name) VALUES (%s, %s)",
                            (migration.version, migration.name),
                        )
                    except Exception:
                        cur.execute("ROLLBACK")
                        raise
                    cur.execute("COMMIT")
                    applied_now.append(migration)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    conn.close()
    return applied_now


def _applied(cur: Any) -> set[int]:
    cur.execute("SELECT to_regclass('ocpp.migration') IS NOT NULL")
    if not cur.fetchone()[0]:
        return set()
    cur.execute("SELECT version FROM ocpp.migration")
    return {row[0] for row in cur.fetchall()}


def check_version(pool: Any) -> Deferred[int]:
    """
    Fire with the database's schema version, or fail with L{SchemaBehind}
    naming the command to run when it lacks a shipped migration.
    """
    d: Deferred[Any] = pool.runQuery(
        "SELECT coalesce(array_agg(version), '{}') FROM ocpp.migration"
    )

    def compare(rows: Any) -> int:
        have = set(rows[0][0])
        missing = [m.version for m in migrations() if m.version not in have]
        if missing:
            raise SchemaBehind(
                f"the ocpp schema lacks migrations {missing}: run ocppcs-init-db first"
            )
        return max(have)

    def no_schema(f: Any) -> Any:
        if f.check(psycopg2.ProgrammingError):
            raise SchemaBehind("the database has no ocpp schema: run ocppcs-init-db first")
        return f

    return d.addCallbacks(compare, no_schema)


def main(argv: list[str] | None = None) -> int:
    """The C{ocppcs-init-db} command."""
    from ocppcs.backends.postgres.conninfo import conninfo, redacted
    from ocppcs.config import ConfigError, load_config

    parser = argparse.ArgumentParser(
        prog="ocppcs-init-db",
        description="Create or upgrade the ocpp schema in PostgreSQL ([postgres] of the config).",
    )
    parser.add_argument("-c", "--config", help="the configuration file (default: built-in)")
    parser.add_argument("--dsn", help="a libpq conninfo, instead of the file's [postgres]")
    parser.add_argument(
        "--check", action="store_true", help="only report whether the schema is up to date"
    )
    args = parser.parse_args(argv)
    try:
        dsn = args.dsn if args.dsn is not None else conninfo(load_config(args.config).postgres)
    except ConfigError as e:
        print(f"ocppcs-init-db: {e}", file=sys.stderr)
        return 2
    try:
        if args.check:
            with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
                have = _applied(cur)
            conn.close()
            missing = [m.version for m in migrations() if m.version not in have]
            print(f"missing migrations: {missing}" if missing else "the ocpp schema is up to date")
            return 1 if missing else 0
        for migration in apply_migrations(dsn):
            print(f"applied {migration.version:04d}_{migration.name}")
    except psycopg2.Error as e:
        print(f"ocppcs-init-db: {redacted(dsn)}: {str(e).strip()}", file=sys.stderr)
        return 1
    print(f"the ocpp schema is at version {latest_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
