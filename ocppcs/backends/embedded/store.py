# -*- test-case-name: tests.backends.test_embedded_store -*-
"""
An SQLite database owned by one writer thread, with group commit.

The reactor thread never touches the database: L{SQLiteStore.run} puts a job
on a queue and returns a L{Deferred}. The writer thread takes every job queued
so far, runs them in one transaction (each in its own SAVEPOINT, so a job that
raises is rolled back alone), commits once, and hands all the results back to
the reactor with one C{callFromThread}. A job's L{Deferred} therefore fires
only once the COMMIT that contains it has returned.

Hot-path writes that need no reads (meter values, connector status, last
seen, frame-log rows) skip the per-job machinery: L{SQLiteStore.bulk} buffers
their rows, and each batch writes every row of a kind with ONE statement over
C{json_each(?)}. SQLite then runs the whole insert in C with the GIL released
once, instead of once per row, so the writer thread hardly competes with the
reactor thread for the GIL. Frame-log rows (L{SQLiteStore.append_log}) travel
the same way; nobody waits for them. The frame log is kept
bounded by L{SQLiteStore.prune_log}, run every C{prune_interval} seconds.

The schema is versioned with C{PRAGMA user_version} and the numbered
C{migrations/NNNN_*.sql} files of this package, applied in order on start.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from twisted.internet.defer import Deferred, fail
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

log = Logger()

_MIGRATION_NAME = re.compile(r"^(\d{4})_[A-Za-z0-9_\-]+\.sql$")

_PRUNE_ROWS = (
    "DELETE FROM frame_log WHERE id < (SELECT id FROM frame_log ORDER BY id DESC LIMIT 1 OFFSET ?)"
)
_PRUNE_AGE = "DELETE FROM frame_log WHERE ts < ?"

#: Bulk kinds: one statement writes all rows of a kind in a batch. Each row is a
#: JSON array; C{j.value ->> N} is its N-th element.
BULK_SQL: dict[str, str] = {
    "frame_log": (
        "INSERT INTO frame_log (ts, identity, direction, message_type, unique_id, action, raw)"
        " SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,"
        " j.value->>6 FROM json_each(?) AS j"
    ),
    "meter_value": (
        "INSERT INTO meter_value (identity, connector_id, transaction_id, timestamp, value,"
        " context, format, measurand, phase, location, unit, source)"
        " SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,"
        " j.value->>6, j.value->>7, j.value->>8, j.value->>9, j.value->>10, j.value->>11"
        " FROM json_each(?) AS j"
    ),
    "connector": (
        "INSERT INTO connector (identity, connector_id, status, error_code, info, vendor_id,"
        " vendor_error_code, timestamp, updated)"
        " SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,"
        " j.value->>6, j.value->>7, j.value->>8 FROM json_each(?) AS j WHERE true"
        " ON CONFLICT (identity, connector_id) DO UPDATE SET"
        " status = excluded.status, error_code = excluded.error_code, info = excluded.info,"
        " vendor_id = excluded.vendor_id, vendor_error_code = excluded.vendor_error_code,"
        " timestamp = excluded.timestamp, updated = excluded.updated"
    ),
    "last_seen": (
        "UPDATE station SET last_seen = j.value->>1 FROM json_each(?) AS j"
        " WHERE station.identity = j.value->>0"
    ),
}

#: A queued job: the function, its extra arguments, and the Deferred to fire.
_Job = tuple[Callable[..., Any], tuple[Any, ...], Deferred]


class StoreStopped(Exception):
    """The store is not running (not started yet, stopped, or failed to start)."""


def migrations() -> list[tuple[int, str, str]]:
    """
    The schema migrations shipped with this package.

    @return: C{(version, file name, SQL text)} for every C{NNNN_*.sql} file,
        in version order.
    @raise ValueError: when two files have the same number.
    """
    folder = resources.files(__package__).joinpath("migrations")
    found: dict[int, tuple[int, str, str]] = {}
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version}: {entry.name}")
        found[version] = (version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def apply_migrations(conn: sqlite3.Connection) -> int:
    """
    Bring the schema of C{conn} up to date, one transaction per migration.

    @param conn: a connection in autocommit mode (C{isolation_level=None}).
    @return: the schema version afterwards.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, name, sql in migrations():
        if number <= version:
            continue
        log.info("Applying schema migration {name}", name=name)
        try:
            conn.executescript(f"BEGIN;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version = number
    return version


class SQLiteStore:
    """
    An SQLite database written by one dedicated thread, with group commit.

    @ivar path: the database file.
    @ivar commits: how many batches (transactions) were committed so far.
    @ivar jobs_done: how many jobs have run so far.
    @ivar ready: a L{Deferred} firing with the schema version once the database
        is open and migrated (or failing if that went wrong).
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
    ) -> None:
        """
        @param reactor: the reactor results are handed back to
            (C{callFromThread}).
        @param path: the database file; its parent directory is created if
            missing. C{":memory:"} works too.
        @param synchronous: C{"full"} or C{"normal"} (SQLite C{PRAGMA synchronous}).
        @param log_max_rows: keep at most this many frame-log rows (0: no limit).
        @param log_max_age: drop frame-log rows older than this many seconds
            (0: no limit).
        @param prune_interval: seconds between frame-log prunings (0: never
            automatically).
        @param clock: an L{IReactorTime} for the pruning timer (default: C{reactor}).
        @param log_flush_delay: how long buffered frame-log rows may wait for a
            batch of jobs before they are written on their own.
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
        self._cond = threading.Condition(threading.Lock())
        self._jobs: deque[_Job] = deque()
        self._logs: list[tuple[Any, ...]] = []
        # kind -> (rows, Deferreds waiting for them); "frame_log" rows are self._logs.
        self._bulk: dict[str, tuple[list[Any], list[Deferred]]] = {}
        # Reactor-thread buffers, handed to the writer by _flush().
        self._pending_jobs: list[_Job] = []
        self._pending_bulk: dict[str, tuple[list[Any], list[Deferred]]] = {}
        self._pending_logs: list[tuple[Any, ...]] = []
        self._flush_scheduled = False
        self._writer_idle = False
        self._stopping = False
        self._running = False
        self._finished = False
        self._thread: threading.Thread | None = None
        self._stopped: Deferred | None = None
        self._pruner: LoopingCall | None = None
        self.ready: Deferred = Deferred()
        self.commits = 0
        self.jobs_done = 0

    # --- reactor thread --------------------------------------------------------------------

    def start(self) -> Deferred:
        """
        Start the writer thread, which opens the database and applies the
        migrations before any job.

        @return: L{ready}.
        """
        if self._thread is not None:
            raise RuntimeError("SQLiteStore.start() called twice")
        self._running = True
        self._thread = threading.Thread(
            target=self._writer, name=f"ocppcs-sqlite-writer:{self.path}", daemon=True
        )
        self._thread.start()
        if self._prune_interval > 0 and (self.log_max_rows or self.log_max_age):
            self._pruner = LoopingCall(self._prune_tick)
            self._pruner.clock = self._clock
            self._pruner.start(self._prune_interval, now=False)
        return self.ready

    def stop(self) -> Deferred:
        """
        Stop accepting jobs, let the writer run and commit everything queued,
        close the database and end the thread.

        @return: a L{Deferred} firing with C{None} once the thread is done.
        """
        if self._stopped is not None:
            return self._stopped
        if self._pruner is not None and self._pruner.running:
            self._pruner.stop()
        self._stopped = Deferred()
        if self._thread is None or self._finished:
            self._running = False
            self._stopped.callback(None)
            return self._stopped
        with self._cond:
            self._stopping = True
        self.flush()  # what was accepted before stop() is still written
        self._running = False
        with self._cond:
            self._cond.notify()
        return self._stopped

    def run(self, fn: Callable[..., Any], *args: Any) -> Deferred:
        """
        Run C{fn(conn, *args)} on the writer thread in the next batch.

        @param fn: a function of an L{sqlite3.Connection} and C{args}; it must
            not commit, roll back or begin a transaction itself.
        @return: a L{Deferred} firing with what C{fn} returned once the batch
            is committed, or failing with what it raised (its changes are then
            rolled back) or with the COMMIT's error.
        """
        if not self._running:
            return fail(StoreStopped(f"the store {self.path} is not running"))
        d: Deferred = Deferred()
        self._pending_jobs.append((fn, args, d))
        self._schedule_flush()
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
        d: Deferred = Deferred()
        entry = self._pending_bulk.get(kind)
        if entry is None:
            entry = self._pending_bulk[kind] = ([], [])
        entry[0].extend(rows)
        entry[1].append(d)
        self._schedule_flush()
        return d

    def append_log(self, row: tuple[Any, ...]) -> None:
        """
        Buffer one frame-log row, written in the next batch. Never waits,
        never raises.

        @param row: C{(ts, identity, direction, message_type, unique_id,
            action, raw)}, C{ts} in seconds since the epoch.
        """
        if self._running:
            self._pending_logs.append(row)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        # Work is handed to the writer once per reactor iteration, not once per
        # call: one lock and at most one wake-up for everything that arrived.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._reactor.callLater(0, self.flush)

    def flush(self) -> None:
        """
        Hand the work buffered so far to the writer thread now (it is also
        handed over once per reactor iteration by itself).
        """
        self._flush_scheduled = False
        jobs, self._pending_jobs = self._pending_jobs, []
        bulk, self._pending_bulk = self._pending_bulk, {}
        logs, self._pending_logs = self._pending_logs, []
        if not (jobs or bulk or logs):
            return
        with self._cond:
            if self._running or self._stopping:
                self._jobs.extend(jobs)
                for kind, (rows, waiting) in bulk.items():
                    entry = self._bulk.get(kind)
                    if entry is None:
                        self._bulk[kind] = (rows, waiting)
                    else:
                        entry[0].extend(rows)
                        entry[1].extend(waiting)
                self._logs.extend(logs)
                if self._writer_idle and (jobs or bulk):
                    self._writer_idle = False
                    self._cond.notify()
                return
        failure = Failure(StoreStopped(f"the store {self.path} is not running"))
        self._deliver([(d, False, failure) for _, _, d in jobs])
        self._deliver([(d, False, failure) for _, ds in bulk.values() for d in ds])

    def prune_log(self) -> Deferred:
        """
        Delete frame-log rows beyond C{log_max_rows} and older than
        C{log_max_age} now.

        @return: a L{Deferred} firing with the number of rows deleted.
        """
        return self.run(self._prune, self.log_max_rows, self.log_max_age, time.time())

    def _prune_tick(self) -> None:
        if self._running:
            self.prune_log().addErrback(lambda f: log.failure("Pruning the frame log failed", f))

    @staticmethod
    def _prune(conn: sqlite3.Connection, max_rows: int, max_age: float, now: float) -> int:
        deleted = 0
        if max_rows > 0:
            deleted += conn.execute(_PRUNE_ROWS, (max_rows - 1,)).rowcount
        if max_age > 0:
            deleted += conn.execute(_PRUNE_AGE, (now - max_age,)).rowcount
        return deleted

    def _deliver(self, results: list[tuple[Deferred, bool, Any]]) -> None:
        for d, ok, value in results:
            if ok:
                d.callback(value)
            else:
                d.errback(value)

    def _done(self, error: Failure | None) -> None:
        # The writer thread has ended (after stop(), or because it could not start).
        self._running = False
        self._finished = True
        if not self.ready.called:
            self.ready.errback(error or Failure(StoreStopped("stopped before it was ready")))
        if self._stopped is not None and not self._stopped.called:
            self._stopped.callback(None)

    # --- writer thread ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=512
        )
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and self.path != ":memory:":
            log.warn(
                "SQLite refused WAL journal mode for {path}: {mode}", path=self.path, mode=mode
            )
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
        return conn

    def _writer(self) -> None:
        call = self._reactor.callFromThread
        try:
            conn = self._connect()
            version = apply_migrations(conn)
        except BaseException:
            failure = Failure()
            self._fail_queued(failure)
            call(self._done, failure)
            return
        call(self.ready.callback, version)
        cond = self._cond
        try:
            while True:
                with cond:
                    if not self._jobs and not self._bulk and not self._stopping:
                        # Wait for jobs; frame-log rows alone wait at most this long.
                        self._writer_idle = True
                        cond.wait(self._log_flush_delay)
                        self._writer_idle = False
                    jobs = self._jobs
                    self._jobs = deque()
                    logs = self._logs
                    self._logs = []
                    bulk = self._bulk
                    self._bulk = {}
                    stopping = self._stopping
                if jobs or logs or bulk:
                    results = self._batch(conn, jobs, logs, bulk)
                    if results:
                        call(self._deliver, results)
                elif stopping:
                    break
        finally:
            try:
                conn.close()
            except Exception:
                log.failure("Closing {path} failed", path=self.path)
            self._fail_queued(Failure(StoreStopped(f"the store {self.path} stopped")))
            call(self._done, None)

    def _batch(
        self,
        conn: sqlite3.Connection,
        jobs: deque[_Job],
        logs: list[tuple[Any, ...]],
        bulk: dict[str, tuple[list[Any], list[Deferred]]],
    ) -> list[tuple[Deferred, bool, Any]]:
        results: list[tuple[Deferred, bool, Any]] = []
        append = results.append
        execute = conn.execute
        try:
            execute("BEGIN IMMEDIATE")
            if logs:
                try:
                    self._write_bulk(conn, "frame_log", logs)
                except Exception:
                    log.failure("Writing {count} frame-log rows failed", count=len(logs))
            for kind, (rows, waiting) in bulk.items():
                try:
                    self._write_bulk(conn, kind, rows)
                except BaseException:
                    failure = Failure()
                    results.extend((d, False, failure) for d in waiting)
                else:
                    results.extend((d, True, None) for d in waiting)
            for fn, args, d in jobs:
                execute("SAVEPOINT job")
                try:
                    value = fn(conn, *args)
                except BaseException:
                    append((d, False, Failure()))
                    execute("ROLLBACK TO job")
                    execute("RELEASE job")
                else:
                    execute("RELEASE job")
                    append((d, True, value))
            execute("COMMIT")
        except BaseException:
            # BEGIN, a SAVEPOINT statement or COMMIT failed: nothing of this batch stands.
            failure = Failure()
            if conn.in_transaction:
                try:
                    execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            waiting = [d for _, ds in bulk.values() for d in ds] + [d for _, _, d in jobs]
            return [(d, False, failure) for d in waiting]
        self.commits += 1
        self.jobs_done += len(jobs)
        return results

    @staticmethod
    def _write_bulk(conn: sqlite3.Connection, kind: str, rows: list[Any]) -> None:
        """
        Write every row of C{kind} with one statement. No savepoint is needed:
        SQLite undoes a failed statement by itself, leaving the transaction.
        """
        conn.execute(BULK_SQL[kind], (orjson.dumps(rows).decode(),))

    def _fail_queued(self, failure: Failure) -> None:
        with self._cond:
            self._running = False
            jobs = self._jobs
            self._jobs = deque()
            bulk = self._bulk
            self._bulk = {}
        waiting = [(d, False, failure) for _, _, d in jobs]
        waiting.extend((d, False, failure) for _, ds in bulk.values() for d in ds)
        if waiting:
            self._reactor.callFromThread(self._deliver, waiting)
