# -*- test-case-name: tests.emulator.test_commands_smart -*-
"""
The emulated station's answers to the Smart Charging, Remote Trigger and
Firmware Management commands of OCPP 1.6 (mixed into
L{ocppcs.emulator.commands.StationCommands}).

    SetChargingProfile        stored by purpose and stack level; limits apply at once
    ClearChargingProfile      by id or criteria; limits apply at once
    GetCompositeSchedule      computed from the installed profiles
    TriggerMessage            the requested message, after the reply
    GetDiagnostics            DiagnosticsStatusNotification Uploading -> Uploaded
    UpdateFirmware            at retrieveDate: Downloading -> Downloaded ->
                              Installing -> Installed, then a reboot with the
                              new firmwareVersion
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ocppcs.emulator.connector import Connector
from ocppcs.emulator.smartcharging import parse_time

if TYPE_CHECKING:
    from ocppcs.emulator.station import EmulatedStation as _Base
else:
    _Base = object

#: Seconds between the steps of a diagnostics upload or a firmware update.
PROGRESS_STEP = 2.0

DIAGNOSTICS = "DiagnosticsStatusNotification"
FIRMWARE = "FirmwareStatusNotification"
#: Their statuses while the station is still at work (a trigger reports Idle otherwise).
BUSY = frozenset({"Uploading", "Downloading", "Downloaded", "Installing"})


class MaintenanceCommands(_Base):
    """Smart charging, remote trigger and firmware management commands."""

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
        self._progress(DIAGNOSTICS, ["Uploading", "Uploaded"], 0.0)
        return {"fileName": file_name}

    def on_UpdateFirmware(self, payload: dict[str, Any]) -> dict[str, Any]:
        wait = max(parse_time(payload["retrieveDate"]).timestamp() - self.now(), 0.0)
        steps = ["Downloading", "Downloaded", "Installing", "Installed"]
        version = posixpath.basename(urlsplit(payload["location"]).path) or "firmware"
        self._progress(FIRMWARE, steps, wait, version.rsplit(".", 1)[0][:50])
        return {}

    def _progress(
        self, action: str, steps: list[str], first_delay: float, version: str | None = None
    ) -> None:
        """Report C{steps} with C{action} (the timer's name too); install C{version} at the end."""

        def step(i: int) -> None:
            status = steps[i]
            if action == DIAGNOSTICS:
                self.diagnostics_status = status
            else:
                self.firmware_status = status
            self._notify(action, status)
            if i + 1 < len(steps):
                self.later(action, PROGRESS_STEP, step, i + 1)
            elif version is not None:
                self.firmware_version = version
                self.save()
                self.later(action, PROGRESS_STEP, self._reset, "Reboot")  # not a Reset command

        self.later(action, max(first_delay, 0.0), step, 0)
