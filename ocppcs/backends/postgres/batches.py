# -*- test-case-name: tests.backends.postgres.test_decider -*-
"""
Station calls sent to C{ocpp.Parse} in batches: the calls waiting when a
connection is free go together in one statement (one round trip, one
commit), each still one C{ocpp.Parse} call with its own answer:

    SELECT c.n, ocpp.Parse(c.x->>0, c.x->>1, c.x->>2, c.x->3, c.x->>4, '1.6')::text
    FROM jsonb_array_elements('[[identity, uniqueId, action, payload, account], ...]')
         WITH ORDINALITY AS c(x, n)

(the batch is bound as one JSON text parameter, made by one C{orjson.dumps}).

There is no timer: at most C{connections} statements are in flight, and
what arrives meanwhile waits for the next free one, so a quiet system sends
each call at once and a busy one sends fewer, larger statements. A batch is
sorted by station (so that two batches lock stations' rows in the same
order), keeping each station's calls in the order they came.

A batch is one transaction: when a function raises (an SQL error, a
deadlock), nothing of it is kept, and its calls are sent again one by one,
so that only the failing call's station gets the error. A statement timeout
or a lost connection fails the whole batch (sent again, it would wait again).
C{batch = 1} sends one statement per call.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import orjson
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from ocppcs.backends.postgres.database import classify

if TYPE_CHECKING:
    from ocppcs.backends.postgres.database import Database

PARSE_BATCH = (
    "SELECT c.n, ocpp.Parse(c.x->>0, c.x->>1, c.x->>2, c.x->3, c.x->>4, %s)::text"
    " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS c(x, n)"
)


class _Call:
    __slots__ = ("deferred", "row")

    def __init__(self, row: tuple[str, str, str, dict[str, Any], str]) -> None:
        self.row = row
        self.deferred: Deferred[str | None] = Deferred()


def _identity(call: _Call) -> str:
    return call.row[0]


class ParseBatcher:
    """
    Sends calls to C{ocpp.Parse} in batches (see the module docstring).

    @param database: the node's L{Database}.
    @param version: the OCPP version passed to C{ocpp.Parse}.
    @param connections: at most this many statements in flight.
    @param batch: at most this many calls in one statement.
    """

    def __init__(self, database: Database, version: str, connections: int, batch: int) -> None:
        self._database = database
        self._version = version
        self._connections = max(1, connections)
        self._batch = max(1, batch)
        self._waiting: deque[_Call] = deque()
        self._active = 0

    def parse(
        self, identity: str, unique_id: str, action: str, payload: dict[str, Any], account: str
    ) -> Deferred[str | None]:
        """
        @return: a L{Deferred} firing with what C{ocpp.Parse} returned for
            this call (JSON text, or C{None}), or failing with the
            statement's failure.
        """
        call = _Call((identity, unique_id, action, payload, account))
        self._waiting.append(call)
        if self._active < self._connections:
            self._send()
        return call.deferred

    def _send(self) -> None:
        waiting = self._waiting
        take = min(len(waiting), self._batch)
        batch = [waiting.popleft() for _ in range(take)]
        if take > 1:
            batch.sort(key=_identity)
        self._active += 1
        d = self._statement(batch)
        d.addCallbacks(self._answered, self._failed, callbackArgs=(batch,), errbackArgs=(batch,))
        d.addBoth(self._next)

    def _statement(self, batch: list[_Call]) -> Deferred[list[tuple[Any, ...]]]:
        rows = orjson.dumps([c.row for c in batch]).decode()
        return self._database.query(PARSE_BATCH, (self._version, rows))

    def _next(self, _: object) -> None:
        self._active -= 1
        if self._waiting and self._active < self._connections:
            self._send()

    @staticmethod
    def _answered(rows: list[tuple[Any, ...]], batch: list[_Call]) -> None:
        answers = dict(rows)
        for n, call in enumerate(batch, 1):
            call.deferred.callback(answers.get(n))

    def _failed(self, failure: Failure, batch: list[_Call]) -> None:
        if len(batch) == 1 or classify(failure).reason != "sql":
            for call in batch:
                call.deferred.errback(failure)
            return
        for call in batch:  # one by one: only the failing call's station gets the error
            one = self._statement([call])
            one.addCallbacks(self._answered, call.deferred.errback, ([call],))
