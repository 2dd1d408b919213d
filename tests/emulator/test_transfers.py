"""
Tests for L{ocppcs.emulator.transfers}: L{NetworkTransfers} against a real
Twisted HTTP server and a real Twisted FTP server on free loopback ports
(uploads arrive, downloads return the bytes, errors and timeouts fail), the
simulated transfers, and a station with network transfers that uploads its
diagnostics and installs downloaded firmware after the central system's
commands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.cred.checkers import AllowAnonymousAccess, InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import Portal
from twisted.internet.defer import CancelledError
from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock
from twisted.protocols.ftp import FTPFactory, FTPRealm
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from ocppcs.emulator import maintenance
from ocppcs.emulator.transfers import (
    NetworkTransfers,
    SimulatedTransfers,
    TransferError,
    make_transfers,
)
from ocppcs.isotime import iso_time
from tests.emulator.harness import T0, attach_link, make_rig
from tests.emulator.test_end_to_end import command, copy_stations, cs_station, station, until
from tests.web.conftest import start_web_central, stop_web_central

#: The example station the end-to-end test commands.
CP = "EM-A0000001"

#: Seconds the network transfers under test may take (the timeout tests use less).
TIMEOUT = 5.0


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class Files(Resource):
    """
    Serves C{files} by path on GET, keeps what is PUT; C{/readonly/...}
    refuses PUTs, C{/stall} sends a few bytes of its body and then nothing.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[bytes, bytes] = {}
        self.puts: list[tuple[bytes, str | None, bytes]] = []
        self.dropped: list[Any] = []
        self.users: list[tuple[bytes, bytes]] = []

    def render_GET(self, request: Request) -> bytes | int:
        assert request.path is not None
        if request.path == b"/stall":
            request.setHeader(b"content-length", b"1000")
            request.write(b"partial")
            request.notifyFinish().addErrback(self.dropped.append)
            return NOT_DONE_YET
        if request.path not in self.files:
            request.setResponseCode(404)
            return b"not found"
        return self.files[request.path]

    def render_PUT(self, request: Request) -> bytes:
        assert request.path is not None and request.content is not None
        if request.path.startswith(b"/readonly/"):
            request.setResponseCode(403)
            return b"forbidden"
        body = request.content.read()
        if request.getUser():
            self.users.append((request.getUser(), request.getPassword()))
        self.puts.append((request.path, request.getHeader("content-type"), body))
        self.files[request.path] = body
        request.setResponseCode(201)
        return b""


@dataclass
class Servers:
    """The local servers: HTTP (C{files}), FTP (rooted at C{ftp_root}) and a silent one."""

    http: str
    files: Files
    ftp: str
    ftp_root: Path
    silent: str
    refused: str


@pytest_twisted.async_yield_fixture
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    """
    An HTTP server, an FTP server (anonymous read-only access to C{pub/},
    user alice with password s3cret in C{home/alice/}), a server that
    accepts connections and never says anything, and a port nobody listens on.
    """
    reactor = _reactor()
    endpoint = serverFromString(reactor, "tcp:0:interface=127.0.0.1")
    files = Files()
    http = await endpoint.listen(Site(files))
    root = tmp_path / "ftp"
    (root / "pub" / "fw").mkdir(parents=True)
    (root / "home" / "alice" / "diag").mkdir(parents=True)
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    checker.addUser("alice", "s3cret")  # type: ignore[arg-type]  # the FTP server sends text
    realm = FTPRealm(str(root / "pub"), str(root / "home"))
    ftp = await endpoint.listen(FTPFactory(Portal(realm, [AllowAnonymousAccess(), checker])))
    silent = await endpoint.listen(Factory.forProtocol(Protocol))
    gone = await endpoint.listen(Factory.forProtocol(Protocol))
    refused = gone.getHost().port
    await gone.stopListening()
    host = "127.0.0.1"
    yield Servers(
        http=f"http://{host}:{http.getHost().port}",
        files=files,
        ftp=f"ftp://{host}:{ftp.getHost().port}",
        ftp_root=root,
        silent=f"{host}:{silent.getHost().port}",
        refused=f"{host}:{refused}",
    )
    for port in (http, ftp, silent):
        await port.stopListening()


# --- HTTP --------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_http_upload_into_a_folder(servers: Servers) -> None:
    """A location ending with / gets a PUT of the file name under it, with the bytes."""
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    await transfers.upload(f"{servers.http}/diag/", "diagnostics CP1.log", b"hello\n")
    assert servers.files.puts == [
        (b"/diag/diagnostics%20CP1.log", "text/plain; charset=utf-8", b"hello\n")
    ]


@pytest_twisted.ensureDeferred
async def test_http_upload_to_the_location_itself(servers: Servers) -> None:
    """
    A location not ending with / is the URL the file is PUT to; a user and
    password in it are sent as Basic authentication.
    """
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    location = servers.http.replace("//", "//bob:p%40ss@") + "/upload/here?token=1"
    await transfers.upload(location, "d.log", b"x" * 100_000)
    [(path, _, body)] = servers.files.puts
    assert (path, len(body)) == (b"/upload/here", 100_000)
    assert servers.files.users == [(b"bob", b"p@ss")]


@pytest_twisted.ensureDeferred
async def test_http_download(servers: Servers) -> None:
    """A GET of the location returns the body."""
    servers.files.files[b"/fw/cp-2.0.bin"] = bytes(range(256)) * 10
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    assert await transfers.download(f"{servers.http}/fw/cp-2.0.bin") == bytes(range(256)) * 10


@pytest_twisted.ensureDeferred
async def test_http_errors_fail(servers: Servers) -> None:
    """A 404 download and a 403 upload fail, naming the status."""
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    with pytest.raises(TransferError, match="HTTP 404"):
        await transfers.download(f"{servers.http}/fw/missing.bin")
    with pytest.raises(TransferError, match="HTTP 403"):
        await transfers.upload(f"{servers.http}/readonly/", "d.log", b"x")


# --- FTP ---------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_ftp_upload_with_user_and_password(servers: Servers) -> None:
    """STOR of the file name into the location's folder, logged in as the URL's user."""
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    location = servers.ftp.replace("ftp://", "ftp://alice:s3cret@") + "/diag/"
    await transfers.upload(location, "diagnostics-CP1.log", b"line 1\nline 2\n")
    stored = servers.ftp_root / "home" / "alice" / "diag" / "diagnostics-CP1.log"
    assert stored.read_bytes() == b"line 1\nline 2\n"


@pytest_twisted.ensureDeferred
async def test_ftp_download_anonymous(servers: Servers) -> None:
    """RETR of the location's path, logged in anonymously."""
    (servers.ftp_root / "pub" / "fw" / "cp-2.0.bin").write_bytes(b"\x00firmware\xff" * 1000)
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    assert await transfers.download(f"{servers.ftp}/fw/cp-2.0.bin") == b"\x00firmware\xff" * 1000


@pytest_twisted.ensureDeferred
async def test_ftp_errors_fail(servers: Servers) -> None:
    """A missing file, a missing folder and a wrong password fail (the password stays secret)."""
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    with pytest.raises(TransferError, match="download of .*: 550 fw/missing.bin"):
        await transfers.download(f"{servers.ftp}/fw/missing.bin")
    with pytest.raises(TransferError, match="upload of"):
        await transfers.upload(f"{servers.ftp.replace('//', '//alice:s3cret@')}/nope/", "d", b"x")
    with pytest.raises(TransferError) as info:
        await transfers.upload(f"{servers.ftp.replace('//', '//alice:wrong@')}/diag/", "d", b"x")
    assert "wrong" not in str(info.value) and "alice:***@" in str(info.value)
    assert "530" in str(info.value)


# --- every scheme ------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("scheme", ["http", "ftp"])
async def test_refused_fails(servers: Servers, scheme: str) -> None:
    """Nobody listening: both directions fail."""
    transfers = NetworkTransfers(_reactor(), TIMEOUT)
    with pytest.raises(TransferError):
        await transfers.download(f"{scheme}://{servers.refused}/fw/x.bin")
    with pytest.raises(TransferError):
        await transfers.upload(f"{scheme}://{servers.refused}/diag/", "d.log", b"x")


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("scheme", ["http", "ftp"])
async def test_timeout_fails(servers: Servers, scheme: str) -> None:
    """A server that never answers: the transfer fails after the timeout."""
    reactor = _reactor()
    transfers = NetworkTransfers(reactor, timeout=0.3)
    started = reactor.seconds()
    with pytest.raises(TransferError, match="timed out after 0.3s"):
        await transfers.download(f"{scheme}://{servers.silent}/fw/x.bin")
    with pytest.raises(TransferError, match="timed out"):
        await transfers.upload(f"{scheme}://{servers.silent}/diag/", "d.log", b"x")
    assert 0.5 <= reactor.seconds() - started < 3


@pytest_twisted.ensureDeferred
async def test_stalled_body_times_out(servers: Servers) -> None:
    """A response body that stops coming fails after the timeout; the connection is dropped."""
    transfers = NetworkTransfers(_reactor(), timeout=0.3)
    with pytest.raises(TransferError, match="timed out"):
        await transfers.download(f"{servers.http}/stall")
    await until(lambda: servers.files.dropped, "the server to see the connection go")


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("scheme", ["http", "ftp"])
async def test_cancel_stops_the_transfer(servers: Servers, scheme: str) -> None:
    """Cancelling a transfer under way fails it with CancelledError, not a TransferError."""
    d = NetworkTransfers(_reactor(), TIMEOUT).download(f"{scheme}://{servers.silent}/x.bin")
    await deferLater(_reactor(), 0.1, lambda: None)
    d.cancel()
    with pytest.raises(CancelledError):
        await d


@pytest.mark.parametrize(
    "location",
    ["sftp://example.com/diag/", "file:///tmp/diag/", "mailto:ops@example.com", "/diag/"],
)
def test_unsupported_scheme_fails(location: str) -> None:
    """Other schemes fail at once, naming the problem; nothing is connected."""
    reactor = MemoryReactorClock()
    transfers = NetworkTransfers(reactor)
    for d in (transfers.upload(location, "d.log", b"x"), transfers.download(location)):
        failures: list[Any] = []
        d.addErrback(failures.append)
        [failure] = failures
        assert failure.check(TransferError)
        assert "unsupported scheme" in failure.getErrorMessage()
    assert reactor.tcpClients == []


def test_simulated_transfers_succeed_at_once() -> None:
    """Simulated transfers succeed at once; a download is empty."""
    transfers = SimulatedTransfers()
    results: list[Any] = []
    transfers.upload("ftp://example.com/", "d.log", b"x").addCallback(results.append)
    transfers.download("https://example.com/fw.bin").addCallback(results.append)
    assert results == [None, b""]


def test_make_transfers() -> None:
    """C{[emulator] transfers} names the kind; another name is an error."""
    reactor = MemoryReactorClock()
    assert isinstance(make_transfers("simulated", reactor), SimulatedTransfers)
    network = make_transfers("network", reactor, timeout=7)
    assert isinstance(network, NetworkTransfers) and network.timeout == 7
    with pytest.raises(ValueError):
        make_transfers("pigeon", reactor)


# --- a station with network transfers ----------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_station_uploads_diagnostics_over_http(servers: Servers) -> None:
    """
    After GetDiagnostics an emulated station with network transfers PUTs
    its diagnostics file to the central system's HTTP location, then
    reports Uploaded.
    """
    rig = make_rig("CP1", transfers=NetworkTransfers(_reactor(), TIMEOUT))
    payload = {"location": f"{servers.http}/diag/", "startTime": "2026-11-24T00:00:00Z"}
    file_name = rig.command("GetDiagnostics", payload)["fileName"]
    rig.clock.advance(maintenance.PROGRESS_STEP)
    await until(lambda: rig.station.diagnostics_status == "Uploaded", "Uploaded")
    statuses = [p["status"] for p in rig.central.sent("DiagnosticsStatusNotification")]
    assert statuses == ["Uploading", "Uploaded"]
    [(path, _, body)] = servers.files.puts
    assert path == f"/diag/{file_name}".encode()
    text = body.decode()
    assert f"# station: {rig.station.identity}" in text
    assert "# requested period: 2026-11-24T00:00:00Z .. -" in text
    assert "connector 1: Available" in text


@pytest_twisted.ensureDeferred
async def test_station_installs_firmware_from_ftp(servers: Servers) -> None:
    """
    After UpdateFirmware a station with network transfers downloads the
    image over FTP, installs it and reboots with the new version; a
    missing image ends in DownloadFailed and no reboot.
    """
    (servers.ftp_root / "pub" / "fw" / "cp-3.1.bin").write_bytes(b"image")
    rig = make_rig("CP1", transfers=NetworkTransfers(_reactor(), TIMEOUT))
    link = attach_link(rig, reboot=True)
    update = {"location": f"{servers.ftp}/fw/cp-3.1.bin", "retrieveDate": iso_time(T0)}
    rig.command("UpdateFirmware", update)
    rig.clock.advance(maintenance.PROGRESS_STEP)
    await until(lambda: rig.station.firmware_status == "Downloaded", "Downloaded")
    for _ in range(3):
        rig.clock.advance(maintenance.PROGRESS_STEP)
    assert link.reconnects == 1
    assert rig.central.sent("BootNotification")[-1]["firmwareVersion"] == "cp-3.1"
    rig.central.clear()
    update["location"] = f"{servers.ftp}/fw/missing.bin"
    rig.command("UpdateFirmware", update)
    rig.clock.advance(maintenance.PROGRESS_STEP)
    await until(lambda: rig.station.firmware_status == "DownloadFailed", "DownloadFailed")
    rig.clock.advance(100)
    statuses = [p["status"] for p in rig.central.sent("FirmwareStatusNotification")]
    assert statuses == ["Downloading", "DownloadFailed"]
    assert link.reconnects == 1
    rig.station.shutdown()


@pytest_twisted.ensureDeferred
async def test_central_system_sees_the_upload(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    End to end: with C{[emulator] transfers = network}, a GetDiagnostics
    sent through the REST API makes the emulated station upload its file to
    the HTTP server, and the central system sees Uploaded; an UpdateFirmware
    from a missing location ends in DownloadFailed there.
    """
    monkeypatch.setattr(maintenance, "PROGRESS_STEP", 0.1)
    stations = copy_stations(tmp_path / "cp")
    emulator = {"enable": True, "path": str(stations), "state": str(tmp_path / "emu.db")}
    web = await start_web_central(tmp_path, emulator={**emulator, "transfers": "network"})
    try:
        service = web.service.emulator
        assert service is not None and isinstance(service.transfers, NetworkTransfers)
        await service.ready
        await until(lambda: station(web, CP).online, "the station online")
        reply = await command(web, CP, "GetDiagnostics", {"location": f"{servers.http}/diag/"})

        async def cs_sees(kind: str, status: str) -> bool:
            found = (await cs_station(web, CP))[kind]
            return bool(found) and found["status"] == status

        await until(lambda: cs_sees("diagnosticsStatus", "Uploaded"), "Uploaded at the CS")
        [(path, _, body)] = servers.files.puts
        assert path == f"/diag/{reply['fileName']}".encode() and CP.encode() in body
        update = {"location": f"{servers.http}/fw/missing.bin", "retrieveDate": iso_time(0)}
        await command(web, CP, "UpdateFirmware", update)
        await until(lambda: cs_sees("firmwareStatus", "DownloadFailed"), "DownloadFailed at the CS")
    finally:
        await stop_web_central(web)
