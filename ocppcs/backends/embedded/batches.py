# -*- test-case-name: tests.backends.test_embedded_store_jobs -*-
"""
The bookkeeping of L{ocppcs.backends.embedded.store.SQLiteStore}'s group
commit: the work queued for the worker's next batch (jobs, bulk rows by kind,
frame-log rows) with the L{Deferred}s waiting for it, and the L{Deferred}s of
the batches in flight (sent, not answered yet; the worker answers them in
the order sent).

L{BatchQueue} only keeps the books; when to send a batch, and what to do
when the worker answers or dies, is the store's business.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from ocppcs.backends.embedded.process import encode_batch

__all__ = ["BatchQueue"]


class BatchQueue:
    """
    Work not sent to the store worker yet, and the batch in flight.

    @ivar calls: C{(fn, args)} of each job queued.
    @ivar call_ds: the L{Deferred} of each job queued, in the same order.
    @ivar bulk: for each bulk kind queued, its rows and the L{Deferred}s
        waiting for them.
    @ivar logs: the frame-log rows queued.
    @ivar inflight: for each batch sent to the worker and not answered yet,
        oldest first: its job L{Deferred}s and its bulk L{Deferred}s by kind.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.call_ds: list[Deferred] = []
        self.bulk: dict[str, tuple[list[Any], list[Deferred]]] = {}
        self.logs: list[Any] = []
        self.inflight: deque[tuple[list[Deferred], dict[str, list[Deferred]]]] = deque()

    def add_call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Deferred:
        """
        Queue the job C{fn(conn, *args)}.

        @return: the L{Deferred} the job's answer will fire.
        """
        d: Deferred = Deferred()
        self.calls.append((fn, args))
        self.call_ds.append(d)
        return d

    def add_bulk(self, kind: str, rows: list[Any]) -> Deferred:
        """
        Queue C{rows} of C{kind}, together with the rows of that kind queued
        already.

        @return: the L{Deferred} the answer for that kind will fire.
        """
        d: Deferred = Deferred()
        entry = self.bulk.get(kind)
        if entry is None:
            self.bulk[kind] = (list(rows), [d])
        else:
            entry[0].extend(rows)
            entry[1].append(d)
        return d

    def take(self) -> tuple[bytes, list[tuple[Deferred, Failure]]]:
        """
        Empty the queue into one batch message, added to L{inflight}.

        @return: the message for the worker, and the L{Deferred}s of the work
            that could not be encoded, with why (for the caller to fail once
            the message is sent).
        """
        calls, call_ds, self.calls, self.call_ds = self.calls, self.call_ds, [], []
        bulk, self.bulk = self.bulk, {}
        logs, self.logs = self.logs, []
        blob, call_ds, bulk_ds, rejected = encode_batch(calls, call_ds, bulk, logs)
        self.inflight.append((call_ds, bulk_ds))
        return blob, rejected

    def fail_all(self, error: BaseException, keep_logs: bool = False) -> None:
        """
        Fail every L{Deferred} in flight or queued with C{error}; the queue is
        emptied first, so their callbacks may queue new work.

        @param keep_logs: keep the frame-log rows queued (nobody waits for
            them) rather than drop them.
        """
        taken = list(self.call_ds)
        for batch_call_ds, batch_bulk_ds in self.inflight:
            taken.extend(batch_call_ds)
            taken.extend(d for ds in batch_bulk_ds.values() for d in ds)
        taken.extend(d for _, ds in self.bulk.values() for d in ds)
        self.inflight, self.calls, self.call_ds, self.bulk = deque(), [], [], {}
        if not keep_logs:
            self.logs = []
        failure = Failure(error)
        for d in taken:
            d.errback(failure)
