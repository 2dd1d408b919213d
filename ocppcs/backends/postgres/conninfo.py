# -*- test-case-name: tests.backends.postgres.test_foundation -*-
"""
The libpq connection string of a C{[postgres]} section.

Keys left empty are not written, so libpq's own C{PG*} environment variables
(C{PGHOST}, C{PGPORT}, C{PGDATABASE}, C{PGUSER}, C{PGPASSWORD},
C{PGSSLMODE}, ...) apply to them, as for C{psql}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg2.extensions import make_dsn

if TYPE_CHECKING:
    from ocppcs.config import PostgresConfig


def conninfo(config: PostgresConfig, application_name: str = "ocppcs") -> str:
    """
    The DSN for C{config}: its C{conninfo} with the separate keys added
    (a separate key wins), and the statement timeout as a server option.
    """
    keys: dict[str, str] = {}
    for name in ("host", "port", "dbname", "user", "password", "sslmode"):
        value = getattr(config, name)
        if value not in ("", 0, None):
            keys[name] = str(value)
    keys["application_name"] = application_name
    if config.statement_timeout > 0:
        keys["options"] = f"-c statement_timeout={int(config.statement_timeout * 1000)}"
    return make_dsn(config.conninfo or None, **keys)


def redacted(dsn: str) -> str:
    """C{dsn} with any password replaced, for logs and errors."""
    from psycopg2.extensions import parse_dsn

    try:
        parts = parse_dsn(dsn)
    except Exception:
        return "<unparsable conninfo>"
    if "password" in parts:
        parts["password"] = "***"
    return make_dsn(**parts)
