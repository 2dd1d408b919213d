# -*- test-case-name: tests.emulator.test_station -*-
"""
How an emulated station boots and keeps its heartbeat:

    connected --BootNotification--> Accepted --> StatusNotification 0..n,
        heartbeat every interval, queued transaction messages sent in order
    Pending / Rejected --> BootNotification again after the interval
    CALLERROR / timeout --> BootNotification again after BOOT_RETRY seconds

The interval of an Accepted boot becomes the heartbeat interval, and the
C{HeartbeatInterval} key shows it (OCPP 1.6 4.2). A BootNotification the
central system asks for (TriggerMessage) while Accepted only changes that
interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from ocppcs.ocppj.session import OcppSession

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object

#: Seconds before a BootNotification that failed (CALLERROR, timeout) is sent again.
BOOT_RETRY = 30.0


class BootAndHeartbeat(_Base):
    """BootNotification and Heartbeat; mixed into L{ocppcs.emulator.station.EmulatedStation}."""

    def boot_payload(self) -> dict[str, Any]:
        """The BootNotification request."""
        payload = dict(self.config.boot)
        if self.firmware_version:
            payload["firmwareVersion"] = self.firmware_version
        return payload

    def _boot(self, triggered: bool = False) -> None:
        session = self.session
        if session is None:
            return
        d = session.call("BootNotification", self.boot_payload())
        args = (session, triggered)
        d.addCallbacks(self._booted, self._boot_failed, args, None, args)

    def trigger_boot(self) -> None:
        """Send a BootNotification the central system asked for (TriggerMessage)."""
        self._boot(triggered=True)

    def _booted(self, reply: dict[str, Any], session: OcppSession, triggered: bool) -> None:
        if session is not self.session:
            return
        interval = float(reply["interval"])
        if triggered and self.online:
            # Already Accepted: only a new heartbeat interval can follow from it.
            if reply["status"] == "Accepted" and interval > 0:
                self._heartbeat_from_boot(interval)
            return
        self.cancel("boot")
        self.boot_status = reply["status"]
        self._log.info(
            "{identity}: boot {status}, interval {interval}s",
            identity=self.identity,
            status=self.boot_status,
            interval=interval,
        )
        if self.boot_status != "Accepted":
            self.later("boot", interval if interval > 0 else BOOT_RETRY, self._boot)
            return
        if interval > 0:
            self._heartbeat_from_boot(interval)
        self.outbox.go_online(self.send)
        self.schedule_heartbeat()
        self.report_all_statuses()
        self.flush_security_events()

    def _boot_failed(self, failure: Failure, session: OcppSession, triggered: bool) -> None:
        if session is not self.session:
            return
        self._log.warn(
            "{identity}: BootNotification failed: {error}",
            identity=self.identity,
            error=failure.getErrorMessage(),
        )
        if not (triggered and self.online):
            self.later("boot", BOOT_RETRY, self._boot)

    def _heartbeat_from_boot(self, interval: float) -> None:
        """Use the interval of an Accepted boot; HeartbeatInterval shows it (OCPP 1.6 4.2)."""
        self.heartbeat_interval = interval
        if self.keys.get_int("HeartbeatInterval", 0) != int(interval):
            self.keys.change("HeartbeatInterval", str(int(interval)))
            self.save()

    def schedule_heartbeat(self) -> None:
        """(Re)start the heartbeat at the current interval."""
        if self.heartbeat_interval > 0 and self.online:
            self.later("heartbeat", self.heartbeat_interval, self.heartbeat)
        else:
            self.cancel("heartbeat")

    def heartbeat(self) -> None:
        """Send a Heartbeat and schedule the next one."""
        if self.online:
            self.send("Heartbeat", {}).addErrback(self._call_failed, "Heartbeat")
        self.schedule_heartbeat()
