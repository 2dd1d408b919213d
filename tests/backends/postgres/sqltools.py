"""
A plain (blocking) client of the C{ocpp} schema's functions for the
C{test_sql_*} tests: every station call goes through C{SELECT ocpp.Parse(...)}
with its request checked against the official OCPP 1.6 request schema and its
result (unless a CallError) against the response schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extras import Json

from tests.backends.calls import T0, _validator

__all__ = ["T0", "Db", "db"]


class Db:
    """One autocommit connection to a database with the C{ocpp} schema."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True

    @property
    def notices(self) -> list[str]:
        """The NOTICEs the server sent (the functions' log lines)."""
        return list(self.conn.notices)

    def fn(self, name: str, *args: Any) -> Any:
        """The result of C{SELECT ocpp.name(args...)} (dicts and lists passed as jsonb)."""
        values = [Json(a) if isinstance(a, dict | list) else a for a in args]
        query = sql.SQL("SELECT ocpp.{}({})").format(
            sql.Identifier(name.lower()), sql.SQL(", ").join([sql.Placeholder()] * len(values))
        )
        with self.conn.cursor() as cur:
            cur.execute(query, values)
            row = cur.fetchone()
        assert row is not None
        return row[0]

    def parse(
        self,
        action: str,
        payload: dict[str, Any],
        identity: str = "CS1",
        version: str = "1.6",
        check: bool = True,
    ) -> dict[str, Any]:
        """A station's CALL through ocpp.Parse; its result, schema-checked."""
        if check:
            _validator(action)(payload)
        reply: dict[str, Any] = self.fn("Parse", identity, "u1", action, payload, "", version)
        if check and reply.get("messageTypeId") != 4:
            _validator(f"{action}Response")(reply)
        return reply

    def configure(self, **settings: Any) -> None:
        """ocpp.Configure with C{settings} (known_vendors a list)."""
        self.fn("Configure", settings)

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of a query (none for a statement that returns none)."""
        with self.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description is not None else []

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


@pytest.fixture
def db(ocpp_dsn: str) -> Iterator[Db]:
    """A client of a new database with the whole schema."""
    client = Db(ocpp_dsn)
    yield client
    client.close()


def start(
    id_tag: str = "TAG", connector: int = 1, ts: str = T0, meter: int = 100, **kw: Any
) -> dict[str, Any]:
    """A StartTransaction request; C{kw} adds optional fields (C{reservationId})."""
    return {"connectorId": connector, "idTag": id_tag, "meterStart": meter, "timestamp": ts, **kw}


def boot(vendor: str = "acme", model: str = "M1", **kw: Any) -> dict[str, Any]:
    """A BootNotification request."""
    return {"chargePointVendor": vendor, "chargePointModel": model, **kw}
