# -*- test-case-name: tests.emulator.test_station -*-
"""
An emulated OCPP 1.6 charge point: its timers, connection life, status
reports, outbox hooks and what it saves.

The station does not know about WebSockets: a link (L{ocppcs.emulator.link})
hands it an L{OcppSession} when connected and tells it when the connection
is gone. Boot and heartbeat live in L{ocppcs.emulator.boot} (which defines
L{BOOT_RETRY}, re-exported here), charging flows in
L{ocppcs.emulator.charging}, the answers to the central system's 19
commands in L{ocppcs.emulator.commands}, meter values in
L{ocppcs.emulator.metering}. Transaction messages (meter values included)
are kept while offline and sent in order once Accepted again.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.callerrors import StationDisconnected
from ocppcs.emulator.boot import BOOT_RETRY, BootAndHeartbeat  # noqa: F401 - re-exported
from ocppcs.emulator.charging import ChargingFlows
from ocppcs.emulator.commands import StationCommands
from ocppcs.emulator.connector import Connector
from ocppcs.emulator.keys import ConfigurationKeys
from ocppcs.emulator.localauth import LocalAuthorization
from ocppcs.emulator.metering import MeterReports
from ocppcs.emulator.outbox import Message, Outbox
from ocppcs.emulator.persist import EmulatorStore, OutboxEntry, SavedStation
from ocppcs.emulator.smartcharging import ChargingProfiles
from ocppcs.emulator.stationconfig import StationConfig, soap_url, station_url
from ocppcs.emulator.transfers import SimulatedTransfers, Transfers
from ocppcs.emulator.view import StationView
from ocppcs.isotime import iso_time
from ocppcs.ocppj.frames import Call
from ocppcs.ocppj.session import OcppSession


class Link(Protocol):
    """What carries a station's connection (L{ocppcs.emulator.link.StationLink})."""

    def reconnect(self) -> None:
        """Drop the connection (if any) and connect again at once."""


class EmulatedStation(ChargingFlows, StationCommands, MeterReports, BootAndHeartbeat, StationView):
    """
    One emulated charge point.

    @ivar identity: its identity at the central system.
    @ivar boot_status: the last BootNotification status (C{""} before any).
    @ivar connectors: its connectors by connectorId.
    """

    _log = Logger()

    def __init__(
        self,
        config: StationConfig,
        clock: IReactorTime,
        store: EmulatorStore,
        saved: SavedStation | None = None,
        url: str = "",
        rng: random.Random | None = None,
        transfers: Transfers | None = None,
    ) -> None:
        """
        @param config: the station's C{configuration.json}.
        @param clock: time for every timer.
        @param store: where state and transaction messages are kept.
        @param saved: what the station stored before a restart.
        @param url: a central system URL replacing the configured one.
        @param rng: randomness for the vehicles (seeded for repeatable runs).
        @param transfers: how diagnostics are uploaded and firmware is
            downloaded (default: simulated, nothing moves).
        """
        saved = saved or SavedStation({}, [])
        state = saved.state
        self.config = config
        self.identity = config.identity
        self.clock = clock
        self.store = store
        self.rng = rng or random.Random(config.identity)
        self.url_override = url
        self.transfers: Transfers = transfers or SimulatedTransfers()
        self.keys = ConfigurationKeys(config.keys, len(config.connectors), state.get("keys"))
        self.auth = LocalAuthorization(
            max_list_length=self.keys.get_int("LocalAuthListMaxLength", 1000),
            max_send_length=self.keys.get_int("SendLocalListMaxLength", 100),
            state=state.get("auth"),
        )
        self.profiles = ChargingProfiles(
            [c.id for c in config.connectors],
            max_stack_level=self.keys.get_int("ChargeProfileMaxStackLevel", 8),
            max_profiles=self.keys.get_int("MaxChargingProfilesInstalled", 20),
            allowed_units=_units(self.keys.get_list("ChargingScheduleAllowedChargingRateUnit")),
            max_periods=self.keys.get_int("ChargingScheduleMaxPeriods", 48),
            installed=state.get("profiles"),
        )
        self.connectors: dict[int, Connector] = {}
        saved_connectors = state.get("connectors", {})
        for spec in config.connectors:
            connector = Connector(spec, register_wh=spec.meter_start_wh)
            connector.restore(saved_connectors.get(str(spec.id), {}))
            self.connectors[spec.id] = connector
        self.operative0 = bool(state.get("operative0", True))
        self.scheduled0: bool | None = state.get("scheduled0")
        #: When the last run saved its state (a PowerLoss stop happened then).
        self.last_seen: float | None = state.get("lastSeen")
        self.transaction_ids: dict[str, int] = dict(state.get("transactionIds", {}))
        self.firmware_version: str | None = state.get("firmwareVersion")
        self.diagnostics_status = "Idle"
        self.firmware_status = "Idle"
        self.log_status = self.signed_firmware_status = "Idle"
        self.certificates: dict[str, Any] = dict(state.get("certificates", {}))
        #: StartupOfTheDevice waits for the first Accepted boot (L{SecurityCommands}).
        self.security_events: list[dict[str, Any]] = [
            {"type": "StartupOfTheDevice", "timestamp": self.timestamp()}
        ]
        self.boot_status = ""
        self.session: OcppSession | None = None
        self.link: Link | None = None
        self.heartbeat_interval = float(self.keys.get_int("HeartbeatInterval", 60))
        self.timers: dict[str, Any] = {}
        self.outbox = Outbox(
            self.identity,
            clock,
            store,
            self._prepare,
            self._answered,
            lambda: self.keys.get_int("TransactionMessageAttempts", 3),
            lambda: float(self.keys.get_int("TransactionMessageRetryInterval", 60)),
        )
        for entry in saved.outbox:
            self.outbox.restore(_message(entry))
        self.restore_reservation0(state.get("reservation0"))
        self._power_loss()
        self.schedule_sampling()
        self.schedule_aligned()

    # --- time -----------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the epoch, on the station's clock."""
        return self.clock.seconds()

    def now_dt(self) -> datetime:
        """The time now, as an aware datetime."""
        return datetime.fromtimestamp(self.clock.seconds(), UTC)

    def timestamp(self) -> str:
        """The time now as OCPP text."""
        return iso_time(self.clock.seconds())

    def later(self, name: str, delay: float, fn: Any, *args: Any) -> None:
        """Run C{fn} after C{delay} seconds, replacing the timer of that name."""
        self.cancel(name)
        self.timers[name] = self.clock.callLater(max(delay, 0.0), self._fire, name, fn, args)

    def _fire(self, name: str, fn: Any, args: tuple[Any, ...]) -> None:
        self.timers.pop(name, None)
        try:
            fn(*args)
        except Exception:
            self._log.failure("{identity}: timer {name} failed", identity=self.identity, name=name)

    def cancel(self, name: str) -> None:
        """Cancel the named timer, if pending."""
        timer = self.timers.pop(name, None)
        if timer is not None and timer.active():
            timer.cancel()

    def after_reply(self, fn: Any, *args: Any) -> None:
        """Run C{fn} once the reply to the command being answered is on its way."""
        self.clock.callLater(0, self._fire, "after reply", fn, args)

    # --- connection -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """
        Where the station connects: C{CentralSystemURL}/identity (or the
        override); for OCPP-S, the central system service (L{soap_url}).
        """
        base = self.url_override or self.keys.get("CentralSystemURL") or ""
        if self.config.protocol != "ocpp1.6j":
            return soap_url(base)
        return station_url(base, self.identity)

    @property
    def online(self) -> bool:
        """Whether the station is connected and accepted."""
        return self.session is not None and self.boot_status == "Accepted"

    def connected(self, session: OcppSession) -> None:
        """The link is up: boot."""
        self.session = session
        self.boot_status = ""
        self._boot()

    def disconnected(self) -> None:
        """The link is gone: stop reporting, keep transaction messages for later."""
        self.session = None
        self.boot_status = ""
        for name in ("boot", "heartbeat"):
            self.cancel(name)
        self.outbox.go_offline()

    def shutdown(self) -> None:
        """Cancel every timer (the emulator is stopping)."""
        for name in list(self.timers):
            self.cancel(name)
        for c in self.connectors.values():
            for name in list(c.timers):
                c.cancel_timer(name)

    def reboot(self) -> None:
        """Restart the station: reconnect and boot again."""
        self._log.info("{identity}: rebooting", identity=self.identity)
        if self.link is not None:
            self.link.reconnect()

    def send(self, action: str, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """Send a station-initiated CALL now (not through the outbox)."""
        session = self.session
        if session is None:
            return fail(StationDisconnected(self.identity, action, "not connected"))
        return session.call(action, payload)

    def receive_call(self, session: OcppSession, call: Call) -> Deferred[dict[str, Any]]:
        """Answer a command of the central system (the session's receiver)."""
        return self.answer(call.action, call.payload)

    def deliver(self, action: str, payload: dict[str, Any]) -> None:
        """
        Send a message the central system asked for (TriggerMessage): in
        order through the outbox once Accepted, straight away while Pending.
        """
        if self.online:
            self.outbox.put(action, payload)
        elif self.session is not None:
            self.send(action, payload).addErrback(self._call_failed, action)

    def _call_failed(self, failure: Failure, action: str) -> None:
        self._log.warn(
            "{identity}: {action} failed: {error}",
            identity=self.identity,
            action=action,
            error=failure.getErrorMessage(),
        )

    # --- status ---------------------------------------------------------------------------

    def status0(self) -> str:
        """The status of connector 0 (the station as a whole)."""
        return "Available" if self.operative0 else "Unavailable"

    def report_status(self, connector_id: int, force: bool = False) -> None:
        """Send a StatusNotification if the status changed (or C{force})."""
        if connector_id != 0:
            c = self.connectors[connector_id]
            if c.status == c.reported and not force:
                return
            c.reported = c.status
        self.outbox.put("StatusNotification", self.status_payload(connector_id))

    def status_payload(self, connector_id: int) -> dict[str, Any]:
        """The StatusNotification of connector C{connector_id} (0: the station) now."""
        if connector_id == 0:
            status, error, info = self.status0(), "NoError", None
        else:
            c = self.connectors[connector_id]
            status, error = c.status, c.error_code
            info = c.fault[1] if c.fault is not None else None
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "errorCode": error,
            "status": status,
            "timestamp": self.timestamp(),
        }
        if info:
            payload["info"] = info[:50]
        return payload

    def report_all_statuses(self) -> None:
        """A StatusNotification for connector 0 and every connector."""
        self.report_status(0, force=True)
        for connector_id in self.connectors:
            self.report_status(connector_id, force=True)

    # --- outbox hooks ---------------------------------------------------------------------

    def _prepare(self, message: Message) -> dict[str, Any] | None:
        if not message.local_tx or message.action == "StartTransaction":
            return message.payload
        transaction_id = self.transaction_ids.get(message.local_tx)
        if transaction_id is None:
            if message.action == "MeterValues":
                return message.payload  # still worth sending, without the transaction
            return None
        return {**message.payload, "transactionId": transaction_id}

    def _answered(self, message: Message, reply: dict[str, Any]) -> None:
        if message.action == "StartTransaction":
            self.transaction_started(message, reply)
        elif message.action == "StopTransaction":
            self.transaction_stopped(message, reply)

    # --- saving ---------------------------------------------------------------------------

    def save(self) -> Deferred[None]:
        """Store what must survive a restart."""
        state = {
            "keys": self.keys.overrides(),
            "auth": self.auth.to_json(),
            "profiles": self.profiles.to_json(),
            "connectors": {str(i): c.to_json() for i, c in self.connectors.items()},
            "operative0": self.operative0,
            "lastSeen": self.now(),
            "scheduled0": self.scheduled0,
            "reservation0": self.reservation0_state(),
            "transactionIds": self.transaction_ids,
            "firmwareVersion": self.firmware_version,
            "certificates": self.certificates,
        }
        d = self.store.save_state(self.identity, state)
        d.addErrback(self._save_failed)
        return d

    def _save_failed(self, failure: Failure) -> None:
        self._log.failure("{identity}: could not save state", failure, identity=self.identity)


def _units(names: list[str]) -> tuple[str, ...]:
    """C{ChargingScheduleAllowedChargingRateUnit} (Current, Power) as A and W."""
    units = tuple({"Current": "A", "Power": "W"}[n] for n in names if n in ("Current", "Power"))
    return units or ("A", "W")


def _message(entry: OutboxEntry) -> Message:
    message = Message(entry.action, entry.payload, entry.local_tx, kept=True)
    message.row_id = entry.id
    return message
