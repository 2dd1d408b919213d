# -*- test-case-name: tests.emulator.test_transfers -*-
"""
How an emulated station moves files: the diagnostics it uploads after a
GetDiagnostics, the firmware it downloads after an UpdateFirmware.

L{SimulatedTransfers} (C{[emulator] transfers = simulated}, the default)
moves nothing and always succeeds. L{NetworkTransfers} (C{transfers =
network}) really talks to the location the central system gave:

    scheme        upload (GetDiagnostics)                 download (UpdateFirmware)
    http, https   PUT <location><fileName> when the       GET <location>; 2xx is success,
                  location's path ends with "/", else     the body is the firmware
                  PUT <location>; 2xx is success
    ftp           CWD <path>, STOR <fileName> (the        CWD <folder of path>,
                  location is a directory, OCPP 1.6       RETR <file name of path>
                  GetDiagnostics.req)
    anything else fails: unsupported scheme

A user and password in an http(s) URL are sent as Basic authentication; in
an ftp URL they log in (else the login is anonymous). FTP runs in passive
mode, in binary (TYPE I).

Every network transfer fails with a L{TransferError} after its timeout;
cancelling the returned L{Deferred} drops the connection.
"""

from __future__ import annotations

import posixpath
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import SplitResult, quote, unquote, urlsplit

from treq.client import HTTPClient
from twisted.internet import protocol
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool, ResponseDone
from twisted.web.http import PotentialDataLoss

if TYPE_CHECKING:
    # Imported when used: twisted.protocols.ftp installs the global reactor on import.
    from twisted.protocols.ftp import FTPClient

T = TypeVar("T")

#: Seconds a network transfer may take, connecting included.
DEFAULT_TIMEOUT = 60.0
#: Password of anonymous FTP logins.
ANONYMOUS_PASSWORD = "anonymous@"


class TransferError(Exception):
    """A transfer failed; the message says where and why."""


class Transfers(Protocol):
    """How a station uploads diagnostics and downloads firmware."""

    def upload(self, location: str, file_name: str, data: bytes) -> Deferred[None]:
        """
        Put C{data} at C{location} as C{file_name}.

        @return: fires with C{None} once stored, or fails (cancelling it
            stops the transfer).
        """

    def download(self, location: str) -> Deferred[bytes]:
        """
        Fetch the file at C{location}.

        @return: fires with its bytes, or fails (cancelling it stops the transfer).
        """


class SimulatedTransfers:
    """Transfers that move nothing and succeed at once (the download is empty)."""

    def upload(self, location: str, file_name: str, data: bytes) -> Deferred[None]:
        """Succeed at once; C{data} goes nowhere."""
        return succeed(None)

    def download(self, location: str) -> Deferred[bytes]:
        """Succeed at once with C{b""}."""
        return succeed(b"")


class NetworkTransfers:
    """
    Real transfers over HTTP(S) (with treq) and FTP (passive mode), each
    bounded by a timeout; nothing blocks the reactor.
    """

    _log = Logger()

    def __init__(self, reactor: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        """
        @param reactor: connections and the timeout run on it.
        @param timeout: seconds a transfer may take before it fails.
        """
        self._reactor = reactor
        self.timeout = timeout
        pool = HTTPConnectionPool(reactor, persistent=False)
        self._http = HTTPClient(Agent(reactor, pool=pool))

    def upload(self, location: str, file_name: str, data: bytes) -> Deferred[None]:
        """See L{Transfers.upload}."""
        try:
            parts = _split(location)
        except TransferError as e:
            return fail(e)
        d: Deferred[None]
        if parts.scheme in ("http", "https"):
            if parts.path.endswith("/"):
                parts = parts._replace(path=parts.path + quote(file_name, safe=""))
            d = Deferred.fromCoroutine(self._put(parts, data))
        else:
            directory = unquote(parts.path).strip("/")
            d = _FtpSession(self._reactor, parts).run(
                lambda client: _store(client, directory, file_name, data)
            )
        return self._bounded(d, f"upload of {file_name} to {_safe(parts)}")

    def download(self, location: str) -> Deferred[bytes]:
        """See L{Transfers.download}."""
        try:
            parts = _split(location)
        except TransferError as e:
            return fail(e)
        d: Deferred[bytes]
        if parts.scheme in ("http", "https"):
            d = Deferred.fromCoroutine(self._get(parts))
        else:
            directory, name = posixpath.split(unquote(parts.path).strip("/"))
            if not name:
                return fail(TransferError(f"{_safe(parts)}: no file name in the location"))
            d = _FtpSession(self._reactor, parts).run(
                lambda client: _retrieve(client, directory, name)
            )
        return self._bounded(d, f"download of {_safe(parts)}")

    async def _put(self, parts: SplitResult, data: bytes) -> None:
        url, auth = _http_target(parts)
        headers: dict[bytes | str, list[bytes | str]] = {
            "Content-Type": ["text/plain; charset=utf-8"]
        }
        response = await self._http.put(url, data=data, headers=headers, auth=auth, unbuffered=True)
        await _body(response)
        if not 200 <= response.code < 300:
            raise TransferError(f"HTTP {response.code} from PUT")

    async def _get(self, parts: SplitResult) -> bytes:
        url, auth = _http_target(parts)
        response = await self._http.get(url, auth=auth, unbuffered=True)
        body = await _body(response)
        if not 200 <= response.code < 300:
            raise TransferError(f"HTTP {response.code} from GET")
        return body

    def _bounded(self, d: Deferred[T], what: str) -> Deferred[T]:
        """
        C{d}, failing with a L{TransferError} naming C{what} (also after the
        timeout); cancelling it cancels C{d} and fails with L{CancelledError}.
        """
        why: list[str] = []

        def stop(reason: str) -> None:
            why.append(reason)
            d.cancel()

        result: Deferred[T] = Deferred(lambda _: stop("cancelled"))
        timer = self._reactor.callLater(self.timeout, stop, "timeout")

        def finished(outcome: Any) -> None:
            if timer.active():
                timer.cancel()
            if isinstance(outcome, Failure):
                outcome = self._explain(outcome, what, why)
            else:
                size = len(outcome) if isinstance(outcome, bytes) else None
                self._log.info("{what}: done", what=what, size=size)
            if not result.called:
                result.callback(outcome)

        d.addBoth(finished)
        return result

    def _explain(self, failure: Failure, what: str, why: list[str]) -> Failure:
        """A L{TransferError} naming C{what}, or L{CancelledError} when the caller cancelled."""
        if why == ["timeout"]:
            return Failure(TransferError(f"{what}: timed out after {self.timeout:g}s"))
        if why:
            return Failure(CancelledError())
        message = _message(failure)
        if failure.check(TransferError) and what in message:
            return failure
        return Failure(TransferError(f"{what}: {message}"))


def make_transfers(kind: str, reactor: Any, timeout: float = DEFAULT_TIMEOUT) -> Transfers:
    """
    The transfers C{[emulator] transfers} names.

    @param kind: C{"simulated"} or C{"network"}.
    @raise ValueError: for another C{kind}.
    """
    if kind == "simulated":
        return SimulatedTransfers()
    if kind == "network":
        return NetworkTransfers(reactor, timeout)
    raise ValueError(f"unknown transfers {kind!r}")


# --- helpers -----------------------------------------------------------------------------------


def _split(location: str) -> SplitResult:
    """C{location} split; only http, https and ftp URLs with a host pass."""
    try:
        parts = urlsplit(location)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise TransferError(f"{location!r} is not a URL: {e}") from None
    if parts.scheme not in ("http", "https", "ftp"):
        raise TransferError(f"unsupported scheme {parts.scheme!r} in {_safe(parts)}")
    if not parts.hostname:
        raise TransferError(f"no host in {_safe(parts)}")
    return parts


def _message(failure: Failure) -> str:
    """What went wrong, with the FTP server's reply lines as text."""
    from twisted.protocols import ftp

    error = failure.value
    if isinstance(error, ftp.ConnectionLost) and len(error.args) > 1:
        if isinstance(error.args[1], Failure):
            return f"{error.args[0]}: {_message(error.args[1])}"
    if isinstance(error, ftp.CommandFailed | ftp.BadResponse) and error.args:
        if isinstance(error.args[0], list):
            return " / ".join(str(line) for line in error.args[0])
    return failure.getErrorMessage() or failure.type.__name__


def _http_target(parts: SplitResult) -> tuple[str, tuple[str, str] | None]:
    """The URL to request (without user and password) and the Basic credentials, if any."""
    if not parts.username:
        return parts.geturl(), None
    netloc = parts.netloc.rsplit("@", 1)[1]
    auth = (unquote(parts.username), unquote(parts.password or ""))
    return parts._replace(netloc=netloc).geturl(), auth


def _safe(parts: SplitResult) -> str:
    """The URL without its password (for messages and logs)."""
    if parts.password is None:
        return parts.geturl()
    netloc = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{netloc}").geturl()


class _Body(protocol.Protocol):
    """Collects an HTTP response body into C{finished}."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.finished: Deferred[bytes] = Deferred(self._stop)

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.finished.called:
            return  # cancelled
        # PotentialDataLoss: no length and no chunks, the body ends with the connection.
        if reason.check(ResponseDone, PotentialDataLoss):
            self.finished.callback(b"".join(self.chunks))
        else:
            self.finished.errback(reason)

    def _stop(self, _: Deferred[bytes]) -> None:
        if self.transport is not None:
            self.transport.loseConnection()


def _body(response: Any) -> Deferred[bytes]:
    """The whole body of C{response}; cancelling it drops the connection."""
    body = _Body()
    response.deliverBody(body)
    return body.finished


class _Collect(protocol.Protocol):
    """Keeps what an FTP data connection brings."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)


async def _store(client: FTPClient, directory: str, name: str, data: bytes) -> None:
    if directory:
        await client.cwd(directory)
    opened, done = client.storeFile(name)

    def send(consumer: Any) -> None:
        consumer.write(data)
        consumer.finish()

    opened.addCallback(send)
    await done


async def _retrieve(client: FTPClient, directory: str, name: str) -> bytes:
    if directory:
        await client.cwd(directory)
    collect = _Collect()
    await client.retrieveFile(name, collect)
    return b"".join(collect.chunks)


class _FtpSession:
    """One FTP control connection: log in, do the work, quit."""

    def __init__(self, reactor: Any, parts: SplitResult) -> None:
        self._reactor = reactor
        self._host = parts.hostname or ""
        self._port = parts.port or 21
        if parts.username:
            self._user = unquote(parts.username)
            self._password = unquote(parts.password or "")
        else:
            self._user, self._password = "anonymous", ANONYMOUS_PASSWORD
        self._connecting: Deferred[Any] | None = None
        self._client: FTPClient | None = None

    def run(self, work: Callable[[FTPClient], Awaitable[T]]) -> Deferred[T]:
        """
        Do C{work} once logged in.

        @return: its result; cancelling it aborts the connection.
        """
        result: Deferred[T] = Deferred(self._abort)

        def settle(outcome: Any) -> None:
            if result.called:
                return  # cancelled: the connection was aborted meanwhile
            if isinstance(outcome, Failure):
                result.errback(outcome)
            else:
                result.callback(outcome)

        Deferred.fromCoroutine(self._session(work)).addBoth(settle)
        return result

    async def _session(self, work: Callable[[FTPClient], Awaitable[T]]) -> T:
        from twisted.protocols.ftp import FTPClient

        client = FTPClient(self._user, self._password, passive=1)
        # Not the global reactor (FTPClient's hook, a method mypy will not let us replace).
        client.connectFactory = self._reactor.connectTCP  # type: ignore[method-assign]
        endpoint = HostnameEndpoint(self._reactor, self._host, self._port)
        self._connecting = connectProtocol(endpoint, client)
        await self._connecting
        self._client = client
        try:
            result = await work(client)
            await client.quit()
            return result
        finally:
            client.transport.loseConnection()  # type: ignore[union-attr]  # connected: set

    def _abort(self, _: Deferred[Any]) -> None:
        if self._client is not None:
            self._client.transport.abortConnection()  # type: ignore[union-attr]  # TCP, connected
        elif self._connecting is not None:
            self._connecting.cancel()
