# -*- test-case-name: tests.backends.test_embedded_store_jobs -*-
"""
The store worker: a child process that owns the SQLite database of an
L{ocppcs.backends.embedded.store.SQLiteStore}, so that SQLite's work never
competes with the reactor thread for the parent's GIL.

Started by the store as C{python -m ocppcs.backends.embedded.worker}, it
talks over its stdin and stdout in messages, each a 4-byte big-endian length
and a pickle (protocol 5) of a tuple:

    parent -> worker                        worker -> parent
    ("open", path, synchronous, schema)     ("ready", schema version) or
                                            ("error", exception), then it exits
    ("batch", bulk, logs, calls)            ("done", bulk errors, results) or
                                            ("failed", exception)
    ("stop",) or end of file                (exits with status 0)

Batches are run and answered in the order they arrive; the parent may send
the next ones before the answer to the one before (its pipeline). A batch is
one transaction: C{bulk} maps a kind of L{BULK_SQL} to the JSON
text (UTF-8 bytes) of all its rows, written by one statement; C{logs} is the
JSON of the frame-log rows (or C{b""}); C{calls} is a pickle of a list of
C{(fn, args)} jobs, each run as C{fn(conn, *args)} in its own SAVEPOINT so
that a job that raises is rolled back alone; then one COMMIT. The answer
gives the error of each bulk kind that failed and C{(ok, value)} per job:
what it returned, or the exception it raised (pickled, so it arrives as the
same type; as L{StoreJobError} when it can't be). When the jobs can't be
unpickled at all, a L{StoreJobError} stands for all their results.

The worker ignores SIGINT and SIGTERM (a Ctrl-C or a stop of the whole
process group must not cut a batch short): it ends when told to, or when its
stdin closes because the parent has gone. Its log events are written to
stderr as JSON lines, which the parent hands on to its own log.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import signal
import sqlite3
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any

from twisted.logger import Logger, globalLogBeginner, jsonFileLogObserver

from ocppcs.backends.embedded.errors import StoreJobError
from ocppcs.backends.embedded.schema import BULK_SQL, apply_migrations, connect

log = Logger()

#: Pipes are made this large (Linux) so that a batch is one write and one read.
PIPE_SIZE = 1 << 20

_Message = tuple[Any, ...]


def encode(message: _Message) -> bytes:
    """
    @return: C{message} pickled (protocol 5), without its length prefix.
    """
    return pickle.dumps(message, 5)


def portable(exc: BaseException) -> BaseException:
    """
    An exception to send to the parent: C{exc} itself, with the worker's
    traceback added as a note, when it survives a pickle round trip;
    otherwise a L{StoreJobError} saying what it was.
    """
    text = "".join(traceback.format_exception(exc))
    try:
        exc.add_note(f"Raised in the store worker (pid {os.getpid()}):\n{text}")
        pickle.loads(pickle.dumps(exc, 5))
    except Exception:
        return StoreJobError(f"{exc!r} (not picklable), raised in the store worker:\n{text}")
    return exc


def run_batch(
    conn: sqlite3.Connection, bulk: dict[str, bytes], logs: bytes, calls: bytes
) -> _Message:
    """
    Run one batch as one transaction (see the module docstring).

    @return: C{("done", {kind: exception}, [(ok, value), ...])} (a
        L{StoreJobError} instead of the list when C{calls} can't be
        unpickled), or
        C{("failed", exception)} when BEGIN, a SAVEPOINT statement or the
        COMMIT failed and nothing of the batch stands.
    """
    execute = conn.execute
    try:
        jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = pickle.loads(calls)
        unpickled: BaseException | None = None
    except Exception as e:
        jobs = []
        unpickled = StoreJobError(f"the batch's jobs could not be unpickled: {e!r}")
    try:
        execute("BEGIN IMMEDIATE")
        if logs:
            try:
                execute(BULK_SQL["frame_log"], (logs.decode(),))
            except Exception:
                log.failure("Writing a batch of frame-log rows failed")
        errors: dict[str, BaseException] = {}
        for kind, rows in bulk.items():
            # No savepoint needed: SQLite undoes a failed statement by itself.
            try:
                execute(BULK_SQL[kind], (rows.decode(),))
            except Exception as e:
                errors[kind] = portable(e)
        results: list[tuple[bool, Any]] = []
        append = results.append
        for fn, args in jobs:
            execute("SAVEPOINT job")
            try:
                value = fn(conn, *args)
            except Exception as e:
                execute("ROLLBACK TO job")
                execute("RELEASE job")
                append((False, portable(e)))
            else:
                execute("RELEASE job")
                append((True, value))
        execute("COMMIT")
    except Exception as e:
        if conn.in_transaction:
            try:
                execute("ROLLBACK")
            except sqlite3.Error:
                pass
        return ("failed", portable(e))
    return ("done", errors, results if unpickled is None else unpickled)


def answer(message: _Message) -> bytes:
    """
    Pickle a batch's answer; a job result that can't be pickled becomes a
    L{StoreJobError} (the job's writes are committed all the same).
    """
    try:
        return encode(message)
    except Exception:
        if message[0] != "done" or not isinstance(message[2], list):
            raise
    fixed: list[tuple[bool, Any]] = []
    for ok, value in message[2]:
        if ok:
            try:
                pickle.dumps(value, 5)
            except Exception as e:
                ok, value = False, StoreJobError(f"the job's result can't be pickled: {e!r}")
        fixed.append((ok, value))
    return encode(("done", message[1], fixed))


def read_message(stream: IO[bytes]) -> _Message | None:
    """
    @return: the next message, or C{None} at the end of C{stream}.
    """
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def write_message(fd: int, blob: bytes) -> None:
    """Write one pickled message, with its length, to C{fd} (blocking)."""
    data = memoryview(len(blob).to_bytes(4, "big") + blob)
    while data:
        data = data[os.write(fd, data) :]


def serve(conn: sqlite3.Connection, stream: IO[bytes], write: Callable[[bytes], None]) -> None:
    """Run batches until told to stop or until C{stream} ends."""
    while True:
        message = read_message(stream)
        if message is None or message[0] == "stop":
            return
        if message[0] == "batch":
            write(answer(run_batch(conn, *message[1:])))
        else:
            log.error("Unknown message {kind!r} ignored", kind=message[0])


def _grow_pipe(fd: int) -> None:
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is not None:
        try:
            fcntl.fcntl(fd, setsize, PIPE_SIZE)
        except OSError:
            pass


def main() -> int:
    """
    The worker process: take over stdin and stdout for messages (stray
    output goes to stderr), open the database and serve batches.

    @return: the exit status.
    """
    # The central system stops its worker itself, after its last writes: a
    # signal sent to the whole process group (Ctrl-C, Ctrl-\, systemd's
    # control group, a reload's SIGHUP) must not end it first.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    stream = os.fdopen(os.dup(0), "rb", buffering=PIPE_SIZE)
    out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    _grow_pipe(stream.fileno())
    _grow_pipe(out)
    globalLogBeginner.beginLoggingTo([jsonFileLogObserver(sys.stderr)], redirectStandardIO=False)

    def write(blob: bytes) -> None:
        write_message(out, blob)

    message = read_message(stream)
    if message is None or message[0] != "open":
        return 2
    _, path, synchronous, schema = message
    try:
        conn, mode = connect(path, synchronous)
        version = apply_migrations(conn, schema)
    except Exception as e:
        write(encode(("error", portable(e))))
        return 1
    if mode.lower() != "wal" and path != ":memory:":
        log.warn("SQLite refused WAL journal mode for {path}: {mode}", path=path, mode=mode)
    write(encode(("ready", version)))
    try:
        serve(conn, stream, write)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    # Run the module under its own name, not as __main__ (its log namespace).
    from ocppcs.backends.embedded import worker

    sys.exit(worker.main())
