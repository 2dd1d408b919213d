# -*- test-case-name: tests.cluster.test_routing -*-
"""
The NOTIFY channel of one node: a connection of its own that LISTENs on
C{ocpp.cluster_channel(node)} and hands every notification's payload
(C{"command ID"}, C{"reply ID"}, C{"close IDENTITY"}) to a callback.

When the connection is lost it reconnects with a growing delay
(L{ocppcs.backends.postgres.pool.backoff}), LISTENs again and calls
C{recovered} (the node then polls for what it missed). L{check} sends a
query through it, so that a connection that died silently is noticed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from txpostgres.reconnection import DeadConnectionDetector

from ocppcs.backends.postgres.conninfo import redacted
from ocppcs.backends.postgres.pool import Connection, backoff

_LISTEN = "SELECT ocpp.cluster_listen(%s)"


class _Detector(DeadConnectionDetector):
    """txpostgres' reconnection, which ends once the channel is stopped."""

    stopped = False

    def reconnect(self) -> Any:
        if self.stopped:
            return succeed(None)
        return super().reconnect()


class NotifyChannel:
    """
    Listens on C{node}'s channel of the database at C{dsn}.

    @param received: called with each notification's payload.
    @param recovered: called after a lost connection is back and listening.
    """

    _log = Logger()

    def __init__(
        self,
        reactor: Any,
        dsn: str,
        node: str,
        received: Callable[[str], Any],
        recovered: Callable[[], Any],
    ) -> None:
        self._dsn = dsn
        self._node = node
        self._received = received
        self._recovered = recovered
        self._detector = _Detector(
            reconnectionIterator=lambda: backoff(0.5, 2.0, 10.0), reactor=reactor
        )
        self._detector.addRecoveryHandler(self._listen_again)
        self._connection = Connection(reactor, detector=self._detector)
        self._connection.addNotifyObserver(self._notified)

    async def start(self) -> None:
        """Connect and LISTEN."""
        await self._connection.connect(self._dsn)
        await self._connection.runQuery(_LISTEN, (self._node,))

    def _notified(self, notify: Any) -> None:
        try:
            self._received(notify.payload)
        except Exception:
            self._log.failure("Handling cluster notification {payload!r}", payload=notify.payload)

    def _listen_again(self) -> Deferred[Any]:
        self._log.info(
            "Cluster channel of {node} re-established ({dsn})",
            node=self._node,
            dsn=redacted(self._dsn),
        )
        d: Deferred[Any] = self._connection.runQuery(_LISTEN, (self._node,))
        return d.addCallback(lambda _: self._recovered())

    def check(self) -> Deferred[Any]:
        """A round trip through the connection (starts reconnecting if it is dead)."""
        d: Deferred[Any] = self._connection.runQuery("SELECT 1")

        def lost(f: Failure) -> None:
            self._log.debug("Cluster channel check failed: {error}", error=f.getErrorMessage())

        return d.addErrback(lost)

    def stop(self) -> None:
        """Stop listening (closes the connection; no reconnection)."""
        self._detector.stopped = True
        self._detector.removeRecoveryHandler(self._listen_again)
        self._connection.removeNotifyObserver(self._notified)
        try:
            self._connection.close()
        except Exception:  # already closed by a lost connection
            pass
