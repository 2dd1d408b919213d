# -*- test-case-name: tests.backends.test_embedded_store_jobs -*-
"""
The reactor's end of the store worker's pipes
(L{ocppcs.backends.embedded.worker}): spawning it, framing the messages both
ways without blocking, and handing what it writes on stderr to the log.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

import orjson
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IProcessTransport
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger, eventFromJSON
from twisted.python.failure import Failure

from ocppcs.backends.embedded.errors import StoreJobError
from ocppcs.backends.embedded.worker import encode

log = Logger()

_Call = tuple[Callable[..., Any], tuple[Any, ...]]

WORKER_MODULE = "ocppcs.backends.embedded.worker"

#: While a message waits for room in the pipe, every this many pieces of work
#: queued try to write more of it (L{WorkerProtocol.nudge}).
NUDGE_EVERY = 32

#: A stderr line longer than this is logged in pieces.
_MAX_LINE = 1 << 16


def environment() -> dict[str, str]:
    """
    The worker's environment: ours, with C{PYTHONPATH} set to our
    C{sys.path}, so that the worker can import every module whose functions
    we send it as jobs.
    """
    env = dict(os.environ)
    paths: list[str] = []
    for entry in sys.path:
        folder = os.path.abspath(entry or os.curdir)
        if folder not in paths and os.path.isdir(folder):
            paths.append(folder)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def encode_batch(
    calls: list[_Call],
    call_ds: list[Deferred],
    bulk: dict[str, tuple[list[Any], list[Deferred]]],
    logs: list[Any],
) -> tuple[bytes, list[Deferred], dict[str, list[Deferred]], list[tuple[Deferred, Failure]]]:
    """
    One batch message: the rows of each bulk kind and the frame-log rows as
    JSON, the jobs as one pickle. What can't be encoded is left out.

    @param calls: C{(fn, args)} of each job.
    @param call_ds: the Deferred of each job.
    @param bulk: the rows of each kind and the Deferreds waiting for them.
    @param logs: the frame-log rows (dropped, and logged, if they can't be encoded).
    @return: the message, the Deferreds of the jobs and of the bulk kinds
        sent, and those left out with why.
    """
    rejected: list[tuple[Deferred, Failure]] = []
    rows: dict[str, bytes] = {}
    bulk_ds: dict[str, list[Deferred]] = {}
    for kind, (kind_rows, ds) in bulk.items():
        try:
            rows[kind] = orjson.dumps(kind_rows)
        except Exception:
            failure = Failure()
            rejected.extend((d, failure) for d in ds)
        else:
            bulk_ds[kind] = ds
    log_rows = b""
    if logs:
        try:
            log_rows = orjson.dumps(logs)
        except Exception:
            log.failure("Encoding {count} frame-log rows failed", count=len(logs))
    try:
        pickled = pickle.dumps(calls, 5)
    except Exception:
        # Some job can't be pickled: leave it out alone.
        kept: list[_Call] = []
        kept_ds: list[Deferred] = []
        for call, d in zip(calls, call_ds, strict=True):
            try:
                pickle.dumps(call, 5)
            except Exception as e:
                error = StoreJobError(
                    f"the job {call[0]!r} can't be sent to the store worker (jobs are module-level"
                    f" functions with picklable arguments): {e!r}"
                )
                error.__cause__ = e
                rejected.append((d, Failure(error)))
            else:
                kept.append(call)
                kept_ds.append(d)
        pickled, call_ds = pickle.dumps(kept, 5), kept_ds
    return encode(("batch", rows, log_rows, pickled)), call_ds, bulk_ds, rejected


def deliver_answer(
    message: tuple[Any, ...], call_ds: list[Deferred], bulk_ds: dict[str, list[Deferred]]
) -> None:
    """
    Fire the Deferreds of a batch with the worker's answer to it.

    @param message: C{("done", bulk errors, results)} or C{("failed", exception)}.
    @param call_ds: the Deferreds of the batch's jobs, in order.
    @param bulk_ds: the Deferreds of the batch's bulk rows, by kind.
    """
    if message[0] != "done":
        failure = Failure(message[1])
        for ds in (call_ds, *bulk_ds.values()):
            for d in ds:
                d.errback(failure)
        return
    _, errors, results = message
    for kind, ds in bulk_ds.items():
        error = errors.get(kind)
        if error is None:
            for d in ds:
                d.callback(None)
        else:
            failure = Failure(error)
            for d in ds:
                d.errback(failure)
    if isinstance(results, BaseException):
        failure = Failure(results)
        for d in call_ds:
            d.errback(failure)
    else:
        for d, (ok, value) in zip(call_ds, results, strict=True):
            if ok:
                d.callback(value)
            else:
                d.errback(Failure(value))


def describe_exit(reason: Failure) -> str:
    """
    @param reason: what C{processEnded} was given.
    @return: how the process ended, in words.
    """
    signal = getattr(reason.value, "signal", None)
    if signal is not None:
        return f"killed by signal {signal}"
    return f"exit status {getattr(reason.value, 'exitCode', None)}"


class WorkerProtocol(ProcessProtocol):
    """
    One store worker process.

    @ivar pid: its process id, once spawned.
    @ivar ready: whether it has opened the database.
    @ivar stopping: whether it was told to stop.
    @ivar error: the exception it could not open the database with, if any.
    @ivar backlog: whether part of a message sent is still waiting for room
        in the pipe.
    """

    transport: IProcessTransport  # spawnProcess sets it before connectionMade

    def __init__(
        self,
        received: Callable[[WorkerProtocol, tuple[Any, ...]], None],
        ended: Callable[[WorkerProtocol, Failure], None],
    ) -> None:
        """
        @param received: called with this protocol and each message from the worker.
        @param ended: called with this protocol and the reason once the
            worker has exited and its pipes are closed.
        """
        self._received = received
        self._ended = ended
        self._out = bytearray()
        self._err = bytearray()
        self._open = b""
        self.pid: int | None = None
        self.ready = False
        self.stopping = False
        self.error: BaseException | None = None
        self.backlog = False
        self._nudges = 0

    def spawn(self, reactor: Any, path: str, synchronous: str, schema: str) -> None:
        """
        Start the worker with this Python, and ask it to open C{path}.

        @param reactor: an L{IReactorProcess}.
        @param schema: the package whose migrations make the schema.
        """
        self._open = encode(("open", path, synchronous, schema))
        argv = [sys.executable, "-m", WORKER_MODULE]
        reactor.spawnProcess(self, sys.executable, argv, env=environment())

    def connectionMade(self) -> None:
        """Send the open message first."""
        self.pid = self.transport.pid
        self.send(self._open)

    def send(self, blob: bytes) -> None:
        """
        Send one pickled message, never blocking: as much of it as the pipe
        takes at once (one system call), the rest when the pipe drains or
        L{nudge} pushes it.
        """
        self.transport.writeSequence((len(blob).to_bytes(4, "big"), blob))
        # Without this the write waits for the next poll; the worker idles meanwhile.
        self._push()

    def nudge(self) -> None:
        """
        Called for each piece of work the store queues: while a message is
        only partly in the pipe, push more of it every L{NUDGE_EVERY} calls.

        A batch larger than the pipe (1 MB) would otherwise advance one pipe
        full per reactor iteration, and with thousands of busy connections an
        iteration takes a good part of a second while the worker waits for
        the rest of its message.
        """
        if self.backlog:
            self._nudges += 1
            if self._nudges >= NUDGE_EVERY:
                self._push()

    def _push(self) -> None:
        # Errors are left to the reactor, which calls doWrite again.
        self._nudges = 0
        writer = getattr(self.transport, "pipes", {}).get(0)
        if writer is None:
            self.backlog = False
            return
        writer.doWrite()
        # doWrite moves everything to dataBuffer when little is left, and
        # empties it once all is written.
        self.backlog = bool(writer.dataBuffer)

    def stop(self) -> None:
        """Tell the worker to stop once it has answered everything sent."""
        self.stopping = True
        self.send(encode(("stop",)))
        self.transport.closeStdin()

    def kill(self) -> None:
        """End the worker at once (SIGKILL), whatever it is doing."""
        try:
            self.transport.signalProcess("KILL")
        except ProcessExitedAlready:
            pass

    def outReceived(self, data: bytes) -> None:
        """Cut the worker's stdout into messages."""
        buf = self._out
        if not buf and len(data) >= 4 and int.from_bytes(data[:4], "big") == len(data) - 4:
            self._message(memoryview(data)[4:])  # the usual case: one whole answer
            return
        buf += data
        while len(buf) >= 4:
            end = 4 + int.from_bytes(buf[:4], "big")
            if len(buf) < end:
                break
            body = bytes(buf[4:end])
            del buf[:end]
            self._message(body)

    def _message(self, body: bytes | memoryview) -> None:
        try:
            message = pickle.loads(body)
        except Exception as e:
            log.failure("Could not unpickle an answer of store worker {pid}", pid=self.pid)
            error = StoreJobError(f"the store worker's answer could not be unpickled: {e!r}")
            message = ("failed", error)
        self._received(self, message)

    def errReceived(self, data: bytes) -> None:
        """Log the worker's stderr, line by line."""
        buf = self._err
        buf += data
        while (end := buf.find(b"\n")) >= 0:
            line = bytes(buf[:end])
            del buf[: end + 1]
            self._log_line(line)
        if len(buf) > _MAX_LINE:
            self._log_line(bytes(buf))
            buf.clear()

    def _log_line(self, line: bytes) -> None:
        if line.startswith(b"\x1e"):
            # A log event of the worker (jsonFileLogObserver): emit it here.
            try:
                event = eventFromJSON(line[1:].decode("utf-8", "replace"))
            except Exception:
                pass
            else:
                event["worker_pid"] = self.pid
                log.observer(event)
                return
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            log.warn("Store worker {pid} wrote: {line}", pid=self.pid, line=text)

    def processEnded(self, reason: Failure) -> None:
        """The worker has exited and its pipes are closed."""
        if self._err:
            self._log_line(bytes(self._err))
            self._err.clear()
        self._ended(self, reason)
