# -*- test-case-name: tests.emulator.test_commands_smart,tests.emulator.test_commands_transfers -*-
"""
The emulated station's answers to the Smart Charging, Remote Trigger and
Firmware Management commands of OCPP 1.6 (mixed into
L{ocppcs.emulator.commands.StationCommands}).

    SetChargingProfile        stored by purpose and stack level; limits apply at once
    ClearChargingProfile      by id or criteria; limits apply at once
    GetCompositeSchedule      computed from the installed profiles
    TriggerMessage            the requested message, after the reply
    GetDiagnostics            the fileName; then DiagnosticsStatusNotification
                              Uploading, the upload of a text diagnostics file,
                              Uploaded (or UploadFailed once retries are spent)
    UpdateFirmware            at retrieveDate: Downloading, the download,
                              Downloaded (or DownloadFailed once retries are
                              spent: nothing more) -> Installing -> Installed,
                              then a reboot with the new firmwareVersion

The station's L{ocppcs.emulator.transfers.Transfers} moves the files. Steps
are L{PROGRESS_STEP} apart (the transfer runs one step after Uploading or
Downloading; with the default simulated transfers it succeeds at once). A
failed transfer is tried again retries times, retryInterval apart (OCPP 1.6
5.9, 5.19), the status staying Uploading or Downloading meanwhile. A new
GetDiagnostics or UpdateFirmware replaces the one under way, cancelling it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure

from ocppcs.emulator.connector import Connector
from ocppcs.emulator.smartcharging import parse_time
from ocppcs.isotime import iso_time

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object

#: Seconds between the steps of a diagnostics upload or a firmware update.
PROGRESS_STEP = 2.0
#: Retries of a failed transfer when the command gives none (the station decides).
DEFAULT_RETRIES = 0
#: Seconds between those retries when the command gives no retryInterval.
DEFAULT_RETRY_INTERVAL = 60.0
#: Most lines of recent events in a diagnostics file.
DIAGNOSTICS_LINES = 100

DIAGNOSTICS = "DiagnosticsStatusNotification"
FIRMWARE = "FirmwareStatusNotification"
#: Their statuses while the station is still at work (a trigger reports Idle otherwise).
BUSY = frozenset({"Uploading", "Downloading", "Downloaded", "Installing"})
#: Each one's transfer (for the log), and its status once every attempt failed.
_TRANSFER = {
    DIAGNOSTICS: ("diagnostics upload", "UploadFailed"),
    FIRMWARE: ("firmware download", "DownloadFailed"),
}


@dataclass(frozen=True)
class Retry:
    """How often a failed transfer is tried again, and after how long."""

    retries: int
    interval: float

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Retry:
        """The C{retries} and C{retryInterval} of a command (defaults when absent)."""
        retries = payload.get("retries")
        interval = payload.get("retryInterval")
        return cls(
            DEFAULT_RETRIES if retries is None else max(int(retries), 0),
            DEFAULT_RETRY_INTERVAL if interval is None else max(float(interval), 0.0),
        )


class _InFlight:
    """A transfer under way, kept among the timers so a new command or shutdown cancels it."""

    def __init__(self, d: Deferred[Any]) -> None:
        self._d = d

    def active(self) -> bool:
        return not self._d.called

    def cancel(self) -> None:
        self._d.cancel()


class MaintenanceCommands(_Base):
    """Smart charging, remote trigger and firmware management commands."""

    firmware_version: str | None  # set in EmulatedStation.__init__; typed for the mixin

    # --- smart charging -------------------------------------------------------------------

    def on_SetChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        connector_id = payload["connectorId"]
        c = self.connectors.get(connector_id)
        tx = c.transaction if c is not None else None
        active = None
        if tx is not None:
            active = self.transaction_ids.get(tx.local_id, -1)
        status = self.profiles.set(connector_id, payload["csChargingProfiles"], active)
        if status == "Accepted":
            self.save()
            self.after_reply(self._limits_changed)
        return {"status": status}

    def on_ClearChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        criteria = ("id", "connectorId", "chargingProfilePurpose", "stackLevel")
        status = self.profiles.clear(*(payload.get(name) for name in criteria))
        if status == "Accepted":
            self.save()
            self.after_reply(self._limits_changed)
        return {"status": status}

    def _limits_changed(self) -> None:
        self.update_limits()  # the meters first run up to now at the old limits

    def on_GetCompositeSchedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        connector_id = payload["connectorId"]
        unit = payload.get("chargingRateUnit")
        c = self.connectors.get(connector_id)
        start = None
        if c is not None and c.transaction is not None:
            start = datetime.fromtimestamp(c.transaction.start, UTC)
        specs = {i: x.spec for i, x in self.connectors.items()}
        duration = payload["duration"]
        schedule = self.profiles.composite(
            connector_id, duration, unit, self.now_dt(), start, specs
        )
        if schedule is None:
            return {"status": "Rejected"}
        return {
            "status": "Accepted",
            "connectorId": connector_id,
            "scheduleStart": schedule.get("startSchedule", self.timestamp()),
            "chargingSchedule": schedule,
        }

    # --- remote trigger -------------------------------------------------------------------

    def on_TriggerMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        known = {*self.connectors, 0} if message == "StatusNotification" else set(self.connectors)
        if message in ("StatusNotification", "MeterValues") and connector_id not in (None, *known):
            return {"status": "Rejected"}  # other messages ignore the connectorId (5.17)
        send: Callable[[], None]
        if message == "BootNotification":
            send = self.trigger_boot
        elif message == "Heartbeat":
            send = lambda: self.deliver("Heartbeat", {})  # noqa: E731
        elif message == "StatusNotification":
            ids = [0, *self.connectors] if connector_id is None else [connector_id]
            send = lambda: self._trigger_statuses(ids)  # noqa: E731
        elif message == "MeterValues":
            targets = [self.connectors[connector_id]] if connector_id else self.connectors.values()
            send = lambda: self._trigger_meter_values(list(targets))  # noqa: E731
        elif message in (DIAGNOSTICS, FIRMWARE):
            send = lambda: self._notify(message, self._progress_status(message))  # noqa: E731
        else:
            return {"status": "NotImplemented"}
        self.after_reply(send)
        return {"status": "Accepted"}

    def _trigger_statuses(self, connector_ids: list[int]) -> None:
        for connector_id in connector_ids:
            if connector_id:
                self.connectors[connector_id].reported = self.connectors[connector_id].status
            self.deliver("StatusNotification", self.status_payload(connector_id))

    def _trigger_meter_values(self, targets: list[Connector]) -> None:
        """Transaction values are kept (sent once Accepted); others go now, even while Pending."""
        for c in targets:
            self.advance(c)
            if c.transaction is not None:
                self.send_meter_values(c, "Trigger")
            else:
                value = self.meter_value(c, "Trigger", self.keys.get_list("MeterValuesSampledData"))
                self.deliver("MeterValues", {"connectorId": c.id, "meterValue": [value]})

    def _progress_status(self, action: str) -> str:
        """The status a triggered C{action} reports: Idle unless busy (OCPP 1.6 4.4, 4.5)."""
        status = self.diagnostics_status if action == DIAGNOSTICS else self.firmware_status
        return status if status in BUSY else "Idle"

    def _notify(self, action: str, status: str) -> None:
        if self.session is not None:
            self.send(action, {"status": status}).addErrback(self._call_failed, action)

    # --- firmware management --------------------------------------------------------------

    def on_GetDiagnostics(self, payload: dict[str, Any]) -> dict[str, Any]:
        stamp = self.timestamp().replace(":", "").replace("-", "")[:15]
        file_name = f"diagnostics-{self.identity}-{stamp}.log"[:255]
        self.later(DIAGNOSTICS, 0.0, self._begin_upload, payload, file_name)
        return {"fileName": file_name}

    def on_UpdateFirmware(self, payload: dict[str, Any]) -> dict[str, Any]:
        wait = max(parse_time(payload["retrieveDate"]).timestamp() - self.now(), 0.0)
        version = posixpath.basename(urlsplit(payload["location"]).path) or "firmware"
        self.later(FIRMWARE, wait, self._begin_download, payload, version.rsplit(".", 1)[0][:50])
        return {}

    def _set_progress(self, action: str, status: str) -> None:
        if action == DIAGNOSTICS:
            self.diagnostics_status = status
        else:
            self.firmware_status = status
        self._notify(action, status)

    def _begin_upload(self, payload: dict[str, Any], file_name: str) -> None:
        self._set_progress(DIAGNOSTICS, "Uploading")
        self.later(DIAGNOSTICS, PROGRESS_STEP, self._upload, payload, file_name, 0)

    def _upload(self, payload: dict[str, Any], file_name: str, attempt: int) -> None:
        data = self.diagnostics_file(payload.get("startTime"), payload.get("stopTime"))
        self._await_transfer(
            DIAGNOSTICS,
            self.transfers.upload(payload["location"], file_name, data),
            lambda _: self._set_progress(DIAGNOSTICS, "Uploaded"),
            lambda: self._upload(payload, file_name, attempt + 1),
            attempt,
            Retry.of(payload),
        )

    def _begin_download(self, payload: dict[str, Any], version: str) -> None:
        self._set_progress(FIRMWARE, "Downloading")
        self.later(FIRMWARE, PROGRESS_STEP, self._download, payload, version, 0)

    def _download(self, payload: dict[str, Any], version: str, attempt: int) -> None:
        self._await_transfer(
            FIRMWARE,
            self.transfers.download(payload["location"]),
            lambda image: self._downloaded(image, version),
            lambda: self._download(payload, version, attempt + 1),
            attempt,
            Retry.of(payload),
        )

    def _downloaded(self, image: bytes, version: str) -> None:
        self._log.info(
            "{identity}: firmware {version} downloaded ({size} bytes)",
            identity=self.identity,
            version=version,
            size=len(image),
        )
        self._set_progress(FIRMWARE, "Downloaded")
        self.later(FIRMWARE, PROGRESS_STEP, self._install, version)

    def _install(self, version: str) -> None:
        self._set_progress(FIRMWARE, "Installing")
        self.later(FIRMWARE, PROGRESS_STEP, self._installed, version)

    def _installed(self, version: str) -> None:
        self._set_progress(FIRMWARE, "Installed")
        self.firmware_version = version
        self.save()
        self.later(FIRMWARE, PROGRESS_STEP, self._reset, "Reboot")  # not a Reset command

    def _await_transfer(
        self,
        action: str,
        d: Deferred[Any],
        done: Callable[[Any], None],
        again: Callable[[], None],
        attempt: int,
        retry: Retry,
    ) -> None:
        """
        Wait for the transfer C{d} of C{action}: C{done} with its result, or
        C{again} after the retry interval while retries are left, else
        UploadFailed or DownloadFailed. Nothing happens once it was replaced
        or cancelled.
        """
        flight = _InFlight(d)
        self.timers[action] = flight

        def current() -> bool:
            if self.timers.get(action) is not flight:
                return False
            del self.timers[action]
            return True

        def succeeded(result: Any) -> None:
            if current():
                done(result)

        def failed(failure: Failure) -> None:
            if failure.check(CancelledError) or not current():
                return
            left = retry.retries - attempt
            self._log.warn(
                "{identity}: {transfer} failed ({left} retries left): {error}",
                identity=self.identity,
                transfer=_TRANSFER[action][0],
                left=left,
                error=failure.getErrorMessage(),
            )
            if left > 0:
                self.later(action, retry.interval, again)
            else:
                self._set_progress(action, _TRANSFER[action][1])

        d.addCallbacks(succeeded, failed)
        d.addErrback(self._transfer_bug, action)

    def _transfer_bug(self, failure: Failure, action: str) -> None:
        msg = "{identity}: after the {transfer}"
        self._log.failure(msg, failure, identity=self.identity, transfer=_TRANSFER[action][0])

    # --- the diagnostics file -------------------------------------------------------------

    def diagnostics_file(
        self, start_time: str | None = None, stop_time: str | None = None
    ) -> bytes:
        """
        The text diagnostics file: who the station is, its state now and its
        recent events (the last L{DIAGNOSTICS_LINES}).

        @param start_time: GetDiagnostics' startTime, noted in the header only.
        @param stop_time: its stopTime, likewise (the emulator keeps no log
            history to filter).
        """
        boot = self.config.boot
        firmware = self.firmware_version or boot.get("firmwareVersion") or "unknown"
        lines = [
            "# ocppcs emulated charge point: diagnostics",
            f"# station: {self.identity}",
            f"# vendor, model, serial: {boot.get('chargePointVendor', '-')},"
            f" {boot.get('chargePointModel', '-')}, {boot.get('chargePointSerialNumber', '-')}",
            f"# firmware: {firmware}",
            f"# created: {self.timestamp()}",
        ]
        if start_time or stop_time:
            lines.append(
                f"# requested period: {start_time or '-'} .. {stop_time or '-'}"
                " (noted only: the events below are not filtered)"
            )
        lines += [
            "",
            "[station]",
            f"url = {self.url}",
            f"connected = {'yes' if self.session is not None else 'no'}",
            f"boot status = {self.boot_status or '-'}",
            f"status = {self.status0()}",
            f"heartbeat interval = {self.heartbeat_interval:g} s",
            f"queued messages = {len(self.outbox.kept())}",
            "",
            "[connectors]",
        ]
        for c in self.connectors.values():
            tx = c.transaction
            tx_id = (
                "-" if tx is None else tx.transaction_id or self.transaction_ids.get(tx.local_id)
            )
            lines.append(
                f"connector {c.id}: {c.status}, error {c.error_code},"
                f" register {round(c.register_wh)} Wh, plugged {'yes' if c.plugged else 'no'},"
                f" transaction {tx_id}"
            )
        events = self._recent_events()[-DIAGNOSTICS_LINES:]
        lines += ["", f"[events] (last {DIAGNOSTICS_LINES} at most)", *events]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _recent_events(self) -> list[str]:
        """What the station's state tells of its recent past, oldest first."""
        now = self.timestamp()
        events: list[tuple[str, str]] = []
        if self.last_seen is not None:
            events.append((iso_time(self.last_seen), "previous run: state last saved"))
        for c in self.connectors.values():
            tx = c.transaction
            if tx is not None:
                text = f"connector {c.id}: transaction started, idTag {tx.id_tag}"
                events.append((iso_time(tx.start), f"{text}, meterStart {tx.meter_start} Wh"))
            if c.reservation is not None:
                r = c.reservation
                text = f"connector {c.id}: reserved ({r.reservation_id}) for {r.id_tag}"
                events.append((now, f"{text} until {iso_time(r.expiry)}"))
        for message in self.outbox.kept():
            stamp = message.payload.get("timestamp")
            events.append((stamp if isinstance(stamp, str) else now, f"queued {message.action}"))
        events.append((now, f"boot status {self.boot_status or '-'}, status {self.status0()}"))
        events.append((now, f"firmware status {self.firmware_status}"))
        events.append((now, "diagnostics requested"))
        events.sort(key=lambda e: e[0])
        return [f"{stamp} {text}" for stamp, text in events]
