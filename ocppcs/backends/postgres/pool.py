# -*- test-case-name: tests.backends.postgres.test_foundation -*-
"""
A pool of txpostgres connections that reconnect by themselves.

    pool = PostgresPool(reactor, dsn, size=4)
    yield pool.start()
    rows = yield pool.runQuery("SELECT ocpp.parse(%s, %s)", (a, b))

Every query is parameterised (psycopg2 binds the values; no SQL is built
from strings) and runs without blocking the reactor thread. When the server
goes away, the query in flight and those sent while it is down fail at once
with L{ConnectionDead} (the caller answers the station InternalError), and
each connection reconnects with a growing delay (L{backoff}) until the
server is back; the log says both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from txpostgres import txpostgres
from txpostgres.reconnection import ConnectionDead, DeadConnectionDetector, defaultDeathChecker

from ocppcs.backends.postgres.conninfo import redacted

__all__ = ["Connection", "ConnectionDead", "PostgresPool", "backoff", "is_unavailable"]

_log = Logger()


def backoff(first: float = 0.5, factor: float = 2.0, cap: float = 10.0) -> Iterator[float]:
    """Reconnection delays: C{first}, then C{factor} times more, never above C{cap}."""
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * factor)


def is_unavailable(failure: Failure) -> bool:
    """Whether C{failure} means "the database is not reachable" (not "the query failed")."""
    return bool(
        failure.check(ConnectionDead, psycopg2.OperationalError, psycopg2.InterfaceError)
        or defaultDeathChecker(failure)
    )


class Connection(txpostgres.Connection):
    """
    txpostgres' connection, closed cleanly also while a query runs: its
    cursor is unregistered from the reactor before the socket closes (else
    the asyncio reactor keeps the closed descriptor, and the next socket
    that gets its number cannot be registered).
    """

    def close(self) -> None:
        if self._connection is None:  # never connected
            return
        for cursor in set(self._cursors):
            self.reactor.removeReader(cursor)
            self.reactor.removeWriter(cursor)
        super().close()


class _Detector(DeadConnectionDetector):
    """txpostgres' detector, with the loss and the recovery logged."""

    def __init__(self, reactor: Any, dsn: str, first_delay: float, max_delay: float) -> None:
        super().__init__(
            reconnectionIterator=lambda: backoff(first_delay, 2.0, max_delay), reactor=reactor
        )
        self._dsn = dsn
        self.addRecoveryHandler(self._recovered)

    def startReconnecting(self, f: Failure) -> None:
        _log.warn(
            "PostgreSQL connection lost ({error}); reconnecting to {dsn}",
            error=f.getErrorMessage().strip(),
            dsn=redacted(self._dsn),
        )
        super().startReconnecting(f)

    def _recovered(self) -> None:
        _log.info("PostgreSQL connection to {dsn} re-established", dsn=redacted(self._dsn))


class PostgresPool(txpostgres.ConnectionPool):
    """
    C{size} reconnecting txpostgres connections to C{dsn}.

    @param first_delay: seconds before the first reconnection attempt.
    @param max_delay: the longest wait between two attempts.
    """

    def __init__(
        self,
        reactor: Any,
        dsn: str,
        size: int = 4,
        first_delay: float = 0.5,
        max_delay: float = 10.0,
    ) -> None:
        self.reactor = reactor
        self._dsn = dsn
        self._delays = (first_delay, max_delay)
        super().__init__(None, dsn, min=size)
        self._closing = False

    def close(self) -> None:
        """
        Close the idle connections now, and each one running a query as soon
        as its query ends (txpostgres' own close forgets those: they stayed
        open, registered with the reactor).
        """
        self._closing = True
        for connection in list(self.connections):
            connection.close()

    def _putBackAndPassthrough(self, result: Any, connection: Any) -> Any:  # noqa: N802
        if self._closing:
            connection.close()
            return result
        return super()._putBackAndPassthrough(result, connection)

    def connectionFactory(self, reactor: Any, cooperator: Any) -> Connection:  # noqa: N802
        """A connection with its own L{_Detector} (named as txpostgres expects)."""
        detector = _Detector(reactor, self._dsn, *self._delays)
        return Connection(reactor, cooperator, detector=detector)

    def start(self) -> Deferred[Any]:
        """Connect every connection; fails (with the DSN redacted in the log) if one can't."""
        d: Deferred[Any] = super().start()

        def failed(f: Failure) -> Failure:
            _log.error(
                "Cannot connect to PostgreSQL at {dsn}: {error}",
                dsn=redacted(self._dsn),
                error=f.getErrorMessage().strip(),
            )
            return f

        return d.addErrback(failed)

    @property
    def size(self) -> int:
        """The number of connections."""
        return int(self.min)
