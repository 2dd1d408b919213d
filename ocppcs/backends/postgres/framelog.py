# -*- test-case-name: tests.backends.postgres.test_framelog -*-
"""
The frame log written to PostgreSQL in batches: frames are buffered in
memory and written by one C{SELECT ocpp.LogFrames(%s::jsonb)} per batch
(a JSON array of rows), every C{interval} seconds or as soon as C{batch}
frames wait, one batch in flight at a time, so that their ids keep the
order the frames came in.

Appending never blocks and never fails: at most C{bound} frames wait (more
are dropped), and a batch that fails is dropped too; both are logged (once
per outage, with the count when writing works again) and counted in
L{FrameBatcher.dropped} (for C{/metrics}). A station's answer never waits
for its frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import FrameRecord
from ocppcs.backends.postgres.database import classify

if TYPE_CHECKING:
    from ocppcs.backends.postgres.database import Database

LOG_FRAMES = "SELECT ocpp.LogFrames(%s::jsonb)"

_log = Logger()


class FrameBatcher:
    """
    Batches frames for C{ocpp.LogFrames}.

    @param clock: an L{IReactorTime} for the flush timer.
    @param interval: the longest a frame waits before its batch is sent.
    @param batch: the most frames in one statement (a full batch goes at once).
    @param bound: the most frames waiting; beyond, frames are dropped.
    @ivar dropped: frames dropped, by reason (C{overflow}, C{failed}).
    """

    def __init__(
        self,
        database: Database,
        clock: Any,
        interval: float = 0.02,
        batch: int = 1000,
        bound: int = 100_000,
    ) -> None:
        self._database = database
        self._clock = clock
        self._interval = interval
        self._batch = batch
        self._bound = bound
        self._rows: list[dict[str, Any]] = []
        self._timer: Any = None
        self._flushing: Deferred[None] | None = None
        self._lost_since_ok = 0
        self.dropped: dict[str, int] = {}

    def append(self, record: FrameRecord) -> None:
        """Buffer one frame (see the module docstring). Never raises."""
        try:
            rows = self._rows
            if len(rows) >= self._bound:
                self._drop("overflow", 1, None)
                return
            rows.append(
                {
                    "ts": record.ts,
                    "identity": record.identity,
                    "direction": record.direction,
                    "message_type": record.message_type,
                    "unique_id": record.unique_id,
                    "action": record.action,
                    "raw": record.raw.decode("utf-8", "replace"),
                }
            )
            if self._flushing is None:
                if len(rows) >= self._batch:
                    self._send()
                elif self._timer is None:
                    self._timer = self._clock.callLater(self._interval, self._due)
        except Exception:
            _log.failure(
                "Could not log a frame of {identity}", identity=getattr(record, "identity", None)
            )

    def _due(self) -> None:
        self._timer = None
        if self._flushing is None and self._rows:
            self._send()

    def _send(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        rows = self._rows[: self._batch]
        del self._rows[: self._batch]
        d = self._database.query(LOG_FRAMES, (orjson.dumps(rows).decode(),))
        self._flushing = d.addCallbacks(self._written, self._failed, errbackArgs=(len(rows),))
        self._flushing.addBoth(self._next)

    def _written(self, _: object) -> None:
        if self._lost_since_ok:
            _log.info(
                "The frame log is written again ({count} frames were lost)",
                count=self._lost_since_ok,
            )
            self._lost_since_ok = 0

    def _failed(self, failure: Failure, count: int) -> None:
        self._drop("failed", count, failure)

    def _drop(self, reason: str, count: int, failure: Failure | None) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + count
        if not self._lost_since_ok:
            cause = "too many frames wait" if failure is None else classify(failure).detail
            _log.error(
                "Frames are not being logged ({reason}: {cause}); counting the losses",
                reason=reason,
                cause=cause,
            )
        self._lost_since_ok += count

    def _next(self, _: object) -> None:
        self._flushing = None
        if len(self._rows) >= self._batch:
            self._send()
        elif self._rows and self._timer is None:
            self._timer = self._clock.callLater(self._interval, self._due)

    def flush(self) -> Deferred[None]:
        """
        Send every frame waiting now.

        @return: a L{Deferred} firing once they are written (or dropped).
        """
        waiting = self._flushing
        if waiting is not None:
            done: Deferred[None] = Deferred()
            waiting.addBoth(lambda _: done.callback(None))
            return done.addCallback(lambda _: self.flush())
        if not self._rows:
            timer, self._timer = self._timer, None
            if timer is not None and timer.active():
                timer.cancel()
            return succeed(None)
        self._send()
        return self.flush()
