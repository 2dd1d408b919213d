# -*- test-case-name: tests.backends.test_embedded_store_jobs -*-
"""
An SQLite database owned by a child process, with group commit.

The reactor thread never touches the database and never shares its GIL with
SQLite: the store worker (L{ocppcs.backends.embedded.worker}), started with
C{spawnProcess}, owns the connection. L{SQLiteStore.run} and
L{SQLiteStore.bulk} buffer work (in a L{BatchQueue}) and return a L{Deferred};
it is sent as a batch once per reactor iteration while fewer than C{pipeline}
batches are in flight, else when the worker answers one. The worker runs
batches in order, each one transaction with one COMMIT, so a L{Deferred}
fires only once the COMMIT that contains its work has returned.

Hot-path writes that need no reads (meter values, connector status, last
seen) go through L{SQLiteStore.bulk}: each batch carries all rows of a kind as
one JSON text, written by ONE statement over C{json_each(?)}. Frame-log rows
(L{SQLiteStore.append_log}) travel the same way; nobody waits for them, and
when there is nothing else to send they wait at most C{log_flush_delay}. The
frame log is kept bounded by L{SQLiteStore.prune_log}, run every
C{prune_interval} seconds.

Jobs cross a process boundary: C{fn} must be a module-level function (pickled
by reference, importable by the worker) and its arguments and result
picklable. If the worker dies, the work in flight and queued fails with
L{StoreStopped} and a new worker is started after C{restart_delay} seconds
(doubling, up to a minute, while restarts keep failing).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ProcessDone
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.embedded.batches import BatchQueue
from ocppcs.backends.embedded.errors import StoreJobError, StoreStartError, StoreStopped
from ocppcs.backends.embedded.process import WorkerProtocol, deliver_answer, describe_exit
from ocppcs.backends.embedded.schema import BULK_SQL, CENTRAL_SCHEMA, prune_log

__all__ = ["SQLiteStore", "StoreJobError", "StoreStartError", "StoreStopped"]

log = Logger()

_MAX_RESTART_DELAY = 60.0


class SQLiteStore:
    """
    An SQLite database written by one worker process, with group commit.

    @ivar path: the database file.
    @ivar commits: how many batches (transactions) were committed so far.
    @ivar jobs_done: how many jobs have run so far.
    @ivar ready: a L{Deferred} firing with the schema version once the database
        is open and migrated (or failing with L{StoreStartError}).
    """

    def __init__(
        self,
        reactor: Any,
        path: str | Path,
        synchronous: str = "full",
        log_max_rows: int = 0,
        log_max_age: float = 0.0,
        prune_interval: float = 10.0,
        clock: Any = None,
        log_flush_delay: float = 0.5,
        restart_delay: float = 1.0,
        schema: str = CENTRAL_SCHEMA,
        stop_timeout: float = 30.0,
        pipeline: int = 2,
    ) -> None:
        """
        @param reactor: an L{IReactorProcess} and L{IReactorTime}.
        @param path: the database file; its parent directory is created if
            missing. C{":memory:"} works too (lost when the worker restarts).
        @param synchronous: C{"full"} or C{"normal"} (SQLite C{PRAGMA synchronous}).
        @param log_max_rows: keep at most this many frame-log rows (0: no limit).
        @param log_max_age: drop frame-log rows older than this many s (0: no limit).
        @param prune_interval: seconds between frame-log prunings (0: never).
        @param clock: an L{IReactorTime} for the pruning timer and the restart
            delay (default: C{reactor}).
        @param log_flush_delay: how long buffered frame-log rows may wait for a
            batch of jobs before they are written on their own.
        @param restart_delay: seconds before a worker that died is replaced.
        @param schema: the package whose C{migrations/} make the schema.
        @param stop_timeout: after L{stop}, seconds to wait for the worker to
            finish its work and exit before it is killed (a job that hangs
            must not hang the shutdown).
        @param pipeline: at most this many batches in flight to the worker.
        """
        if synchronous.lower() not in ("full", "normal"):
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self._reactor = reactor
        self.path = path
        self._synchronous = synchronous.upper()
        self.log_max_rows = log_max_rows
        self.log_max_age = log_max_age
        self._prune_interval = prune_interval
        self._clock = clock if clock is not None else reactor
        self._log_flush_delay = log_flush_delay
        self._restart_delay = self._backoff = restart_delay
        self._schema = schema
        self._stop_timeout = stop_timeout
        self._pipeline = max(1, pipeline)
        self._kill_call: Any = None
        # Work not sent yet (jobs, bulk rows by kind, log rows) and the batch in flight.
        self._queue = BatchQueue()
        self._worker: WorkerProtocol | None = None
        self._flush_scheduled = False
        self._log_timer: Any = None
        self._restart_call: Any = None
        self._started = False
        self._running = False
        self._stopping = False
        self._stopped: Deferred | None = None
        self._pruner: LoopingCall | None = None
        self.ready: Deferred = Deferred()
        self.commits = 0
        self.jobs_done = 0

    @property
    def worker_pid(self) -> int | None:
        """The process id of the current worker, if there is one."""
        worker = self._worker
        return worker.pid if worker is not None else None

    # --- public API --------------------------------------------------------------------------

    def start(self) -> Deferred:
        """
        Start the worker, which opens the database and applies the
        migrations before any job.

        @return: L{ready}.
        """
        if self._started:
            raise RuntimeError("SQLiteStore.start() called twice")
        self._started = self._running = True
        self._spawn()
        if self._prune_interval > 0 and (self.log_max_rows or self.log_max_age):
            self._pruner = LoopingCall(self._prune_tick)
            self._pruner.clock = self._clock
            self._pruner.start(self._prune_interval, now=False)
        return self.ready

    def stop(self) -> Deferred:
        """
        Stop accepting work, let the worker run and commit everything queued,
        then end it.

        @return: a L{Deferred} firing with C{None} once the worker has exited.
        """
        if self._stopped is not None:
            return self._stopped
        if self._pruner is not None and self._pruner.running:
            self._pruner.stop()
        self._stopped = Deferred()
        self._running = False
        self._stopping = True
        if self._restart_call is not None:
            self._restart_call.cancel()
            self._restart_call = None
        if self._worker is None:
            self._maybe_stopped()
        else:
            self._kill_call = self._clock.callLater(self._stop_timeout, self._kill, self._worker)
            self._advance(logs_now=True)
        return self._stopped

    def _kill(self, worker: WorkerProtocol) -> None:
        self._kill_call = None
        if worker is not self._worker:
            return
        log.critical(
            "Store worker for {path} (pid {pid}) did not stop within {timeout} s; killing it",
            path=self.path,
            pid=worker.pid,
            timeout=self._stop_timeout,
        )
        worker.kill()

    def run(self, fn: Callable[..., Any], *args: Any) -> Deferred:
        """
        Run C{fn(conn, *args)} in the worker, in the next batch.

        @param fn: a module-level function of an L{sqlite3.Connection} and
            C{args} (all picklable); it must not commit, roll back or begin a
            transaction itself.
        @return: a L{Deferred} firing with what C{fn} returned once the batch
            is committed, or failing with what it raised (its changes are then
            rolled back), with the COMMIT's error, or with L{StoreStopped}.
        """
        if not self._running:
            return fail(StoreStopped(f"the store {self.path} is not running"))
        d = self._queue.add_call(fn, args)
        self._schedule()
        return d

    def bulk(self, kind: str, rows: list[Any]) -> Deferred:
        """
        Write C{rows} of C{kind} (a key of L{BULK_SQL}) in the next batch,
        together with every other row of that kind, by one statement.

        @param rows: each a tuple or list in the column order of that kind's SQL.
        @return: a L{Deferred} firing with C{None} once the batch is committed,
            or failing with the statement's error (every row of that kind in
            that batch then failed together).
        """
        if kind not in BULK_SQL or kind == "frame_log":
            raise KeyError(kind)
        if not self._running:
            return fail(StoreStopped(f"the store {self.path} is not running"))
        d = self._queue.add_bulk(kind, rows)
        self._schedule()
        return d

    def append_log(self, row: tuple[Any, ...]) -> None:
        """
        Buffer one frame-log row, written with the next batch. Never waits,
        never raises.

        @param row: C{(ts, identity, direction, message_type, unique_id,
            action, raw)}, C{ts} in seconds since the epoch.
        """
        if self._running:
            self._queue.logs.append(row)
            self._schedule()

    def flush(self) -> None:
        """
        Send the work buffered so far (frame-log rows included) to the worker
        now, if it is idle; otherwise it goes as soon as the worker answers.
        """
        self._advance(logs_now=True)

    def prune_log(self) -> Deferred:
        """
        Delete frame-log rows beyond C{log_max_rows} and older than
        C{log_max_age} now.

        @return: a L{Deferred} firing with the number of rows deleted.
        """
        return self.run(prune_log, self.log_max_rows, self.log_max_age, time.time())

    # --- sending batches ---------------------------------------------------------------------

    def _prune_tick(self) -> None:
        if self._running:
            self.prune_log().addErrback(lambda f: log.failure("Pruning the frame log failed", f))

    def _schedule(self) -> None:
        # Work goes to the worker once per reactor iteration, not once per call;
        # with the pipeline full, the next answer sends the next batch.
        if self._worker is not None:
            self._worker.nudge()
        if not self._flush_scheduled and len(self._queue.inflight) < self._pipeline:
            self._flush_scheduled = True
            self._reactor.callLater(0, self._flush_tick)

    def _flush_tick(self) -> None:
        self._flush_scheduled = False
        self._advance()

    def _logs_due(self) -> None:
        self._log_timer = None
        self._advance(logs_now=True)

    def _advance(self, logs_now: bool = False) -> None:
        # Send the next batch if the pipeline has room, or "stop" once all is answered.
        worker, queue = self._worker, self._queue
        if worker is None or not worker.ready or worker.stopping:
            return
        if len(queue.inflight) >= self._pipeline:
            return
        if queue.calls or queue.bulk or (queue.logs and (logs_now or self._stopping)):
            self._send()
        elif queue.logs:
            if self._log_timer is None and not queue.inflight:
                self._log_timer = self._reactor.callLater(self._log_flush_delay, self._logs_due)
        elif self._stopping and not queue.inflight:
            worker.stop()

    def _send(self) -> None:
        assert self._worker is not None
        if self._log_timer is not None and self._log_timer.active():
            self._log_timer.cancel()
        self._log_timer = None
        blob, rejected = self._queue.take()
        self._worker.send(blob)
        for d, failure in rejected:
            d.errback(failure)

    # --- the worker's answers ----------------------------------------------------------------

    def _spawn(self) -> None:
        self._restart_call = None
        worker = self._worker = WorkerProtocol(self._received, self._ended)
        try:
            worker.spawn(self._reactor, str(self.path), self._synchronous, self._schema)
        except Exception as e:
            self._worker = None
            log.failure("Starting the store worker for {path} failed", path=self.path)
            self._start_failed(e, "could not be started")

    def _received(self, worker: WorkerProtocol, message: tuple[Any, ...]) -> None:
        if worker is not self._worker:
            return
        if message[0] == "ready":
            worker.ready = True
            self._backoff = self._restart_delay
            if self.ready.called:
                log.info("Store worker for {path} restarted", path=self.path, pid=worker.pid)
            else:
                self.ready.callback(message[1])
            self._advance()
        elif message[0] == "error":
            worker.error = message[1]  # the worker exits next: see _ended
        elif self._queue.inflight:
            self._batch_done(message, *self._queue.inflight.popleft())

    def _batch_done(
        self, message: tuple[Any, ...], call_ds: list[Deferred], bulk_ds: dict[str, list[Deferred]]
    ) -> None:
        # Keep the worker busy: the next batch goes before the replies of this one.
        self._advance()
        if message[0] == "done":
            self.commits += 1
            self.jobs_done += len(call_ds)
        deliver_answer(message, call_ds, bulk_ds)
        self._advance()

    def _ended(self, worker: WorkerProtocol, reason: Failure) -> None:
        # The worker has exited. State changes first, then the Deferreds fire:
        # their callbacks may call us back.
        if worker is not self._worker:
            return
        self._worker = None
        status = describe_exit(reason)
        if not worker.ready:
            self._start_failed(worker.error, f"exited ({status}) before it was ready")
            return
        if self._stopping and worker.stopping and reason.check(ProcessDone):
            error = StoreStopped(f"the store {self.path} stopped")
        else:
            what = "ended while stopping" if self._stopping else "died"
            text = "Store worker for {path} (pid {pid}) {what} ({status}); work in flight fails"
            if self._stopping:
                log.error(text, path=self.path, pid=worker.pid, what=what, status=status)
            else:
                self._restart_later(text, pid=worker.pid, what=what, status=status)
            error = StoreStopped(
                f"the store worker for {self.path} {what} ({status}); work in flight may or"
                " may not have been committed"
            )
        self._queue.fail_all(error, keep_logs=not self._stopping)
        self._maybe_stopped()

    def _start_failed(self, error: BaseException | None, what: str) -> None:
        message = f"the store worker for {self.path} {what}"
        if error is not None:
            message = f"could not open the store {self.path}: {type(error).__name__}: {error}"
        exc = StoreStartError(message)
        exc.__cause__ = error
        first = not self.ready.called
        if first:
            # The first start: the store is unusable (a configuration problem).
            self._running = False
        else:
            self._backoff = min(self._backoff * 2, _MAX_RESTART_DELAY)
            self._restart_later(
                "Restarting the store worker for {path} failed: {error}", error=message
            )
        self._queue.fail_all(exc, keep_logs=not first and not self._stopping)
        if first:
            self.ready.errback(Failure(exc))
        self._maybe_stopped()

    def _restart_later(self, text: str, **fields: Any) -> None:
        delay = self._backoff
        log.critical(text + "; restarting in {delay} s", path=self.path, delay=delay, **fields)
        if not self._stopping:
            self._restart_call = self._clock.callLater(delay, self._spawn)

    def _maybe_stopped(self) -> None:
        if self._stopping and self._stopped is not None and not self._stopped.called:
            if self._kill_call is not None and self._kill_call.active():
                self._kill_call.cancel()
            self._kill_call = None
            if self._log_timer is not None and self._log_timer.active():
                self._log_timer.cancel()
            self._queue.fail_all(StoreStopped(f"the store {self.path} stopped"))
            self._stopped.callback(None)
