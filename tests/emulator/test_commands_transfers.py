"""
Tests for L{ocppcs.emulator.maintenance} with transfers that fail or take
their time (a fake L{ocppcs.emulator.transfers.Transfers} on a L{Clock}):
GetDiagnostics and UpdateFirmware retry as their C{retries} and
C{retryInterval} ask, then report UploadFailed or DownloadFailed; a failed
download installs nothing; a transfer under way is cancelled by the next
command or a shutdown; the diagnostics file describes the station.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock

from ocppcs.emulator.maintenance import DEFAULT_RETRIES, PROGRESS_STEP
from ocppcs.emulator.transfers import TransferError
from ocppcs.isotime import iso_time
from tests.emulator.harness import T0, Rig, attach_link, make_rig, start_charging

FIRMWARE = "https://fw.example.com/images/cp-2.0.1.bin"


@dataclass
class FakeTransfers:
    """
    Records each transfer with the time it started; the first C{failures}
    fail, the rest succeed at once (or stay pending with C{hold}).
    """

    clock: Clock
    failures: int = 0
    hold: bool = False
    image: bytes = b"image"
    started: list[tuple[float, str, str, bytes]] = field(default_factory=list)
    pending: list[Deferred[Any]] = field(default_factory=list)

    def _outcome(self, value: Any) -> Deferred[Any]:
        if len(self.started) <= self.failures:
            return fail(TransferError(f"attempt {len(self.started)} failed"))
        if self.hold:
            d: Deferred[Any] = Deferred()
            self.pending.append(d)
            return d
        return succeed(value)

    def upload(self, location: str, file_name: str, data: bytes) -> Deferred[None]:
        self.started.append((self.clock.seconds(), location, file_name, data))
        return self._outcome(None)

    def download(self, location: str) -> Deferred[bytes]:
        self.started.append((self.clock.seconds(), location, "", b""))
        return self._outcome(self.image)

    def times(self) -> list[float]:
        """When each transfer started, relative to T0."""
        return [t - T0 for t, *_ in self.started]


def _rig(**kwargs: Any) -> tuple[Rig, FakeTransfers]:
    clock = Clock()
    clock.advance(T0)
    transfers = FakeTransfers(clock, **kwargs)
    rig = make_rig("CP1", clock=clock, transfers=transfers)
    rig.central.clear()
    return rig, transfers


def _statuses(rig: Rig, action: str) -> list[str]:
    return [p["status"] for p in rig.central.sent(action)]


def _trigger(rig: Rig, message: str) -> str:
    rig.central.clear()
    rig.command("TriggerMessage", {"requestedMessage": message})
    [payload] = rig.central.sent(message)
    return str(payload["status"])


def _advance(rig: Rig, *steps: float) -> None:
    for step in steps:
        rig.clock.advance(step)


# --- GetDiagnostics ----------------------------------------------------------------------


def test_upload_retries_then_fails() -> None:
    """
    A failing upload is tried 1 + retries times, retryInterval apart, while
    the status stays Uploading; then UploadFailed is reported (a trigger
    says Idle after it).
    """
    rig, transfers = _rig(failures=99)
    payload = {"location": "ftp://logs.example.com/", "retries": 2, "retryInterval": 30}
    file_name = rig.command("GetDiagnostics", payload)["fileName"]
    _advance(rig, PROGRESS_STEP, 30)
    assert transfers.times() == [PROGRESS_STEP, PROGRESS_STEP + 30]
    assert _statuses(rig, "DiagnosticsStatusNotification") == ["Uploading"]
    assert _trigger(rig, "DiagnosticsStatusNotification") == "Uploading"
    rig.central.clear()
    _advance(rig, 29)
    assert len(transfers.started) == 2
    _advance(rig, 1)
    assert transfers.times() == [PROGRESS_STEP, PROGRESS_STEP + 30, PROGRESS_STEP + 60]
    assert {name for _, _, name, _ in transfers.started} == {file_name}
    assert _statuses(rig, "DiagnosticsStatusNotification") == ["UploadFailed"]
    assert rig.station.diagnostics_status == "UploadFailed"
    _advance(rig, 3600)
    assert len(transfers.started) == 3
    assert _trigger(rig, "DiagnosticsStatusNotification") == "Idle"


def test_upload_succeeds_on_a_retry() -> None:
    """An upload that fails once and then works ends in Uploaded."""
    rig, transfers = _rig(failures=1)
    payload = {"location": "ftp://logs.example.com/", "retries": 1, "retryInterval": 10}
    rig.command("GetDiagnostics", payload)
    _advance(rig, PROGRESS_STEP, 10)
    assert transfers.times() == [PROGRESS_STEP, PROGRESS_STEP + 10]
    assert _statuses(rig, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]


def test_upload_without_retries_fails_at_once() -> None:
    """Without retries in the command the station retries DEFAULT_RETRIES times."""
    rig, transfers = _rig(failures=99)
    rig.command("GetDiagnostics", {"location": "ftp://logs.example.com/"})
    _advance(rig, PROGRESS_STEP, *[60.0] * DEFAULT_RETRIES)
    assert len(transfers.started) == 1 + DEFAULT_RETRIES
    assert _statuses(rig, "DiagnosticsStatusNotification") == ["Uploading", "UploadFailed"]


def test_diagnostics_file() -> None:
    """
    The uploaded file names the station and its firmware, notes the
    requested period, and lists the connectors and recent events.
    """
    rig, transfers = _rig()
    start_charging(rig, 1)
    rig.central.clear()
    payload = {
        "location": "https://cs.example.com/diag/",
        "startTime": "2026-11-24T00:00:00Z",
        "stopTime": "2026-11-25T00:00:00Z",
    }
    rig.command("GetDiagnostics", payload)
    _advance(rig, PROGRESS_STEP)
    [(_, location, file_name, data)] = transfers.started
    assert (location, file_name.endswith(".log")) == (payload["location"], True)
    text = data.decode("utf-8")
    boot = rig.station.config.boot
    assert text.startswith("# ocppcs emulated charge point: diagnostics\n")
    assert f"# station: {rig.station.identity}\n" in text
    assert f"# firmware: {boot.get('firmwareVersion', 'unknown')}\n" in text
    assert "# requested period: 2026-11-24T00:00:00Z .. 2026-11-25T00:00:00Z" in text
    assert "connector 1: Charging, error NoError, register " in text
    assert "transaction 101" in text
    assert "connector 1: transaction started, idTag TAG-1" in text
    assert text.rstrip().endswith("diagnostics requested")


def test_new_get_diagnostics_cancels_the_upload_under_way() -> None:
    """
    A second GetDiagnostics cancels the upload of the first, which then
    reports nothing; a shutdown cancels the second.
    """
    rig, transfers = _rig(hold=True)
    rig.command("GetDiagnostics", {"location": "ftp://logs.example.com/"})
    _advance(rig, PROGRESS_STEP)
    [first] = transfers.pending
    rig.command("GetDiagnostics", {"location": "ftp://logs.example.com/"})
    assert first.called  # cancelled
    _advance(rig, PROGRESS_STEP)
    [_, second] = transfers.pending
    assert _statuses(rig, "DiagnosticsStatusNotification") == ["Uploading", "Uploading"]
    rig.station.shutdown()
    assert second.called
    _advance(rig, 3600)
    assert _statuses(rig, "DiagnosticsStatusNotification") == ["Uploading", "Uploading"]


# --- UpdateFirmware ----------------------------------------------------------------------


def test_download_retries_then_fails_without_install_or_reboot() -> None:
    """
    A failing download is retried, then DownloadFailed is reported; nothing
    is installed, no transaction stops and the station does not reboot.
    """
    rig, transfers = _rig(failures=99)
    link = attach_link(rig)
    start_charging(rig, 1)
    rig.central.clear()
    update = {"location": FIRMWARE, "retrieveDate": iso_time(T0), "retries": 3}
    update["retryInterval"] = 20
    rig.command("UpdateFirmware", update)
    _advance(rig, PROGRESS_STEP, 20, 20, 20)
    assert transfers.times() == [PROGRESS_STEP + 20 * i for i in range(4)]
    assert _statuses(rig, "FirmwareStatusNotification") == ["Downloading", "DownloadFailed"]
    _advance(rig, 3600)
    assert _statuses(rig, "FirmwareStatusNotification") == ["Downloading", "DownloadFailed"]
    assert (link.reconnects, rig.central.sent("StopTransaction")) == (0, [])
    assert rig.station.firmware_version is None
    assert _trigger(rig, "FirmwareStatusNotification") == "Idle"


def test_download_succeeds_on_a_retry_then_installs() -> None:
    """A download that works on its retry goes on: Downloaded, Installing, Installed, reboot."""
    rig, transfers = _rig(failures=1)
    link = attach_link(rig, reboot=True)
    update = {"location": FIRMWARE, "retrieveDate": iso_time(T0 + 60), "retries": 1}
    update["retryInterval"] = 15
    rig.command("UpdateFirmware", update)
    _advance(rig, 60, PROGRESS_STEP, 15)
    assert transfers.times() == [60 + PROGRESS_STEP, 60 + PROGRESS_STEP + 15]
    assert _statuses(rig, "FirmwareStatusNotification") == ["Downloading", "Downloaded"]
    _advance(rig, PROGRESS_STEP, PROGRESS_STEP)
    assert _statuses(rig, "FirmwareStatusNotification")[2:] == ["Installing", "Installed"]
    assert link.reconnects == 0
    _advance(rig, PROGRESS_STEP)
    assert link.reconnects == 1
    assert rig.central.sent("BootNotification")[-1]["firmwareVersion"] == "cp-2.0.1"


def test_new_update_firmware_cancels_the_download_under_way() -> None:
    """A second UpdateFirmware cancels the download of the first; only the second installs."""
    rig, transfers = _rig(hold=True)
    attach_link(rig)
    rig.command("UpdateFirmware", {"location": FIRMWARE, "retrieveDate": iso_time(T0)})
    _advance(rig, PROGRESS_STEP)
    [first] = transfers.pending
    newer = "https://fw.example.com/images/cp-2.0.2.bin"
    rig.command("UpdateFirmware", {"location": newer, "retrieveDate": iso_time(T0)})
    assert first.called  # cancelled
    _advance(rig, PROGRESS_STEP)
    [_, second] = transfers.pending
    second.callback(b"image")
    _advance(rig, PROGRESS_STEP, PROGRESS_STEP)
    assert _statuses(rig, "FirmwareStatusNotification") == [
        "Downloading",
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert rig.station.firmware_version == "cp-2.0.2"
