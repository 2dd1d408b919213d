# -*- test-case-name: tests.backends.postgres.test_foundation -*-
"""C{[postgres]}: the PostgreSQL server of C{[backend] type = postgres}."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocppcs import configvalues as values


@dataclass(frozen=True)
class PostgresConfig:
    """
    C{[postgres]}: the PostgreSQL server of C{[backend] type = postgres}.

    @ivar conninfo: a libpq connection string or URI; the separate keys below
        are added to it (and win). Keys left empty fall back to libpq's C{PG*}
        environment variables (C{PGHOST}, C{PGPASSWORD}, ...).
    @ivar pool_size: connections kept open (queries beyond wait their turn).
    @ivar statement_timeout: seconds a statement may run (0: no limit).
    @ivar migrate: whether the service applies the shipped migrations at
        start (as C{ocppcs-init-db} does); without, it refuses to start
        while the schema is behind.
    @ivar batch: at most this many station calls share one C{ocpp.Parse}
        statement (1: a statement, a transaction per call).
    @ivar log_max_rows: the frame log keeps at most this many frames (0: no bound).
    @ivar log_max_age: and none older than this many seconds (0: no bound).
    """

    conninfo: str = ""
    host: str = ""
    port: int = 0
    dbname: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    sslmode: str = ""
    pool_size: int = 8
    statement_timeout: float = 10.0
    migrate: bool = True
    batch: int = 64
    log_max_rows: int = 1_000_000
    log_max_age: float = 7 * 24 * 3600.0


#: C{[postgres]} key -> its parser.
POSTGRES_KEYS: dict[str, Callable[[str], Any]] = {
    "conninfo": str,
    "host": str,
    "port": values.port,
    "dbname": str,
    "user": str,
    "password": str,
    "sslmode": values.choice(
        "", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"
    ),
    "pool_size": values.positive_int,
    "statement_timeout": values.non_negative_float,
    "migrate": values.boolean,
    "batch": values.positive_int,
    "log_max_rows": values.non_negative_int,
    "log_max_age": values.non_negative_float,
}
