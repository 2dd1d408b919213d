# -*- test-case-name: tests.backends.postgres.test_decider -*-
"""
The PostgreSQL database of a node: the L{PostgresPool} with what the
record and the decider ask of it, and the classification of what fails.

    db = Database(reactor, dsn, size=8)
    yield db.start()
    reply = yield db.json("SELECT ocpp.Parse(%s, ...)::text", (...))

Queries sent before L{Database.start} has connected wait for it (the
listeners open before the backend is ready). Every statement is
parameterised; results of C{jsonb} functions are read as text (C{::text})
and parsed with orjson, faster than psycopg2's own jsonb parsing.
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg2
from psycopg2.extensions import QueryCanceledError
from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.python.failure import Failure

from ocppcs.backends.interface import BackendStartError
from ocppcs.backends.postgres.conninfo import redacted
from ocppcs.backends.postgres.pool import PostgresPool, is_unavailable

#: The SQLSTATE the operator functions raise for a bad argument (invalid_parameter_value).
BAD_ARGUMENT = "22023"
#: SQLSTATE prefixes meaning the server is not there to answer: connection
#: exceptions, shutting down or starting, out of resources.
_UNAVAILABLE = ("08", "57P", "53")


class DatabaseFailure(Exception):
    """
    A statement did not answer.

    @ivar reason: C{unavailable} (no connection), C{timeout} (the statement
        timeout cancelled it) or C{sql} (the statement failed).
    @ivar detail: what went wrong, for the log.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def classify(failure: Failure) -> DatabaseFailure:
    """The L{DatabaseFailure} of a failed statement's C{failure}."""
    error = failure.value
    if isinstance(error, DatabaseFailure):
        return error
    message = failure.getErrorMessage().strip() or type(error).__name__
    if isinstance(error, QueryCanceledError | CancelledError):
        # txpostgres turns the server's query_canceled into CancelledError;
        # nothing here cancels a statement, so it is the statement timeout.
        return DatabaseFailure("timeout", "canceling statement due to statement timeout")
    code = getattr(error, "pgcode", None)
    # psycopg2 files deadlocks and serialization failures (40xxx) under
    # OperationalError too: only the connection classes mean "unreachable".
    if (code is None or code.startswith(_UNAVAILABLE)) and is_unavailable(failure):
        return DatabaseFailure("unavailable", message)
    return DatabaseFailure("sql", f"SQLSTATE {code}: {message}" if code else message)


def bad_argument(failure: Failure) -> Any:
    """Turn an C{invalid_parameter_value} raised by a function into L{ValueError}."""
    error = failure.value
    if isinstance(error, psycopg2.Error) and error.pgcode == BAD_ARGUMENT:
        diag = error.diag.message_primary or str(error).strip()
        raise ValueError(diag)
    return failure


class Database:
    """
    A node's connections to PostgreSQL.

    @ivar pool: the L{PostgresPool}.
    """

    def __init__(self, reactor: Any, dsn: str, size: int = 8) -> None:
        self.dsn = dsn
        self.pool = PostgresPool(reactor, dsn, size=size)
        self._waiting: list[Deferred[None]] | None = []
        self._run = self._wait_then_query
        self._in_flight = 0
        self._idle: list[Deferred[None]] = []

    def start(self) -> Deferred[None]:
        """
        Connect every connection of the pool.

        @return: a L{Deferred} failing with L{BackendStartError} (one line
            naming the server) when PostgreSQL can't be reached.
        """
        d: Deferred[Any] = self.pool.start()

        def failed(f: Failure) -> None:
            raise BackendStartError(
                f"cannot connect to PostgreSQL at {redacted(self.dsn)}:"
                f" {f.getErrorMessage().strip()}"
            )

        return d.addCallbacks(lambda _: None, failed)

    def open(self) -> None:
        """Let the queries through (those waiting go now)."""
        waiting, self._waiting = self._waiting, None
        self._run = self._counted
        for d in waiting or ():
            d.callback(None)

    def close(self) -> None:
        """Close the connections; queries waiting for L{open} fail."""
        waiting, self._waiting = self._waiting, None
        self._run = self._closed
        for d in waiting or ():
            d.errback(DatabaseFailure("unavailable", "the database is closed"))
        self.pool.close()

    def _counted(self, sql: str, args: tuple[Any, ...]) -> Deferred[Any]:
        self._in_flight += 1
        return self.pool.runQuery(sql, args).addBoth(self._finished)

    def _finished(self, result: Any) -> Any:
        self._in_flight -= 1
        if not self._in_flight and self._idle:
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)
        return result

    def idle(self, clock: Any, timeout: float) -> Deferred[None]:
        """
        A L{Deferred} firing once no statement is in flight, or after
        C{timeout} seconds (at shutdown, before L{close}).
        """
        d: Deferred[None] = Deferred()
        if not self._in_flight:
            d.callback(None)
            return d
        self._idle.append(d)
        d.addTimeout(timeout, clock)
        return d.addErrback(lambda _: None)

    def _wait_then_query(self, sql: str, args: tuple[Any, ...]) -> Deferred[Any]:
        d: Deferred[None] = Deferred()
        assert self._waiting is not None
        self._waiting.append(d)
        return d.addCallback(lambda _: self._run(sql, args))

    def _closed(self, sql: str, args: tuple[Any, ...]) -> Deferred[Any]:
        return fail(DatabaseFailure("unavailable", "the database is closed"))

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> Deferred[list[tuple[Any, ...]]]:
        """The rows of C{sql} run with C{args} bound."""
        return self._run(sql, args)

    def value(self, sql: str, args: tuple[Any, ...] = ()) -> Deferred[Any]:
        """The first column of the first row of C{sql}."""
        return self._run(sql, args).addCallback(_first)

    def json(self, sql: str, args: tuple[Any, ...] = ()) -> Deferred[Any]:
        """The JSON text C{sql} returns (first column, first row) parsed, or C{None}."""
        return self._run(sql, args).addCallback(_parsed)


def _first(rows: list[tuple[Any, ...]]) -> Any:
    return rows[0][0] if rows else None


def _parsed(rows: list[tuple[Any, ...]]) -> Any:
    text = rows[0][0] if rows else None
    return None if text is None else orjson.loads(text)
