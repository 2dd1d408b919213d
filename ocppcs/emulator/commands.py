# -*- test-case-name: tests.emulator.test_commands_core,tests.emulator.test_commands_remote -*-
"""
How an emulated station answers the central system's 19 OCPP 1.6 commands,
each with its real effect. The reply goes out first; what follows from a
command (StatusNotification, StartTransaction, the message TriggerMessage
asks for, a reboot) is sent after it, via C{after_reply}.

    Reset                   stop transactions (SoftReset/HardReset), reboot
    ChangeAvailability      Unavailable/Available now, or Scheduled until the
                            connector's transaction ends
    Change/GetConfiguration the keys (L{ocppcs.emulator.keys}); changes persist
    ClearCache              the authorization cache
    UnlockConnector         stops a transaction (UnlockCommand), unplugs
    RemoteStart/Stop        as a driver would, through authorization; a remote start
                            waits for the vehicle (ConnectionTimeOut), which the demo
                            driver plugs in by itself with plugInOnRemoteStart
    ReserveNow/Cancel...    reservations with expiry, of a connector or (with
                            ReserveConnectorZeroSupported) of the station
    SendLocalList/GetLocal  the local authorization list
    Set/Clear/GetComposite  charging profiles (L{ocppcs.emulator.smartcharging})
    TriggerMessage          sends the requested message
    GetDiagnostics          DiagnosticsStatusNotification Uploading -> Uploaded
    UpdateFirmware          FirmwareStatusNotification Downloading -> ... -> Installed, reboot
    DataTransfer            this vendor's messages; UnknownVendorId otherwise

and the 7 of the security whitepaper (L{ocppcs.emulator.security}).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, maybeDeferred, succeed

from ocppcs.emulator.charging import LocalActionError
from ocppcs.emulator.connector import Connector, Reservation
from ocppcs.emulator.credentials import hide_write_only
from ocppcs.emulator.maintenance import MaintenanceCommands
from ocppcs.emulator.security import SecurityCommands
from ocppcs.emulator.smartcharging import parse_time
from ocppcs.ocppj.errors import ErrorCode, OcppError

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object

#: The transactionId a RemoteStartTransaction's TxProfile is checked against: the
#: transaction it starts has none yet, and the profile may not name one.
NEW_TRANSACTION = -1

#: Seconds after a Reset before the station reboots when transaction messages are still queued.
RESET_WAIT = 10.0


class StationCommands(MaintenanceCommands, SecurityCommands, _Base):
    """
    The answers to central-system commands; mixed into the station (smart
    charging, remote trigger and firmware management in
    L{ocppcs.emulator.maintenance}).
    """

    # The station's (set in EmulatedStation.__init__), typed here for the mixin.
    operative0: bool
    scheduled0: bool | None

    def answer(self, action: str, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """Answer command C{action}; fires with the reply payload."""
        method: Callable[[dict[str, Any]], Any] | None = getattr(self, f"on_{action}", None)
        if method is None:
            return maybeDeferred(_not_implemented, action)
        return maybeDeferred(method, payload)

    # --- core -----------------------------------------------------------------------------

    def on_Reset(self, payload: dict[str, Any]) -> dict[str, Any]:
        reason = "HardReset" if payload["type"] == "Hard" else "SoftReset"
        self.after_reply(self._reset, reason)
        return {"status": "Accepted"}

    def _reset(self, reason: str) -> None:
        self.security_event("ResetOrReboot", reason, after_boot=True)
        for c in self.connectors.values():
            self.stop_transaction(c, reason)
            c.waiting_tag = c.waiting_parent = c.remote_tag = None
            c.cancel_timer("waiting")
        self._reboot_when_sent(self.now() + RESET_WAIT)

    def _reboot_when_sent(self, deadline: float) -> None:
        if self.outbox.kept() and self.online and self.now() < deadline:
            self.later("reset", 0.1, self._reboot_when_sent, deadline)
            return
        self.reboot()

    def on_ChangeAvailability(self, payload: dict[str, Any]) -> dict[str, Any]:
        connector_id = payload["connectorId"]
        operative = payload["type"] == "Operative"
        if connector_id == 0:
            targets = list(self.connectors.values())
        elif connector_id in self.connectors:
            targets = [self.connectors[connector_id]]
        else:
            return {"status": "Rejected"}
        scheduled = False
        for c in targets:
            if c.transaction is not None and c.operative != operative:
                c.scheduled = operative
                scheduled = True
            else:
                c.operative = operative
                c.scheduled = None
                self.after_reply(self.changed, c)
        if connector_id == 0:
            self._station_availability(operative, scheduled)
        self.save()
        return {"status": "Scheduled" if scheduled else "Accepted"}

    def _station_availability(self, operative: bool, scheduled: bool) -> None:
        """Connector 0 follows once no transaction runs (at once when none does)."""
        if scheduled:
            self.scheduled0 = operative
            return
        self.scheduled0 = None
        if self.operative0 != operative:
            self.operative0 = operative
            self.after_reply(self.report_status, 0, True)

    def on_ChangeConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        key, value = payload["key"], payload["value"]
        status = self.keys.change(key, value)
        if status in ("Accepted", "RebootRequired"):
            self.save()
        if status == "Accepted":
            if key == "HeartbeatInterval":
                self.heartbeat_interval = float(self.keys.get_int(key, 60))
                self.after_reply(self.schedule_heartbeat)
            elif key == "MeterValueSampleInterval":
                self.after_reply(self.schedule_sampling)
            elif key in ("ClockAlignedDataInterval", "MeterValuesAlignedData"):
                self.after_reply(self.schedule_aligned)
            elif key == "SecurityProfile":
                self.after_reply(self.reboot)  # reconnect with the new profile (whitepaper 2.4)
        return {"status": status}

    def on_GetConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        return hide_write_only(self.keys.configuration(payload.get("key")))

    def on_ClearCache(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.keys.get_bool("AuthorizationCacheEnabled", True):
            return {"status": "Rejected"}
        self.auth.clear_cache()
        self.save()
        return {"status": "Accepted"}

    def on_UnlockConnector(self, payload: dict[str, Any]) -> dict[str, Any]:
        c = self.connectors.get(payload["connectorId"])
        if c is None:
            return {"status": "NotSupported"}
        if c.transaction is not None:
            self.after_reply(self.stop_transaction, c, "UnlockCommand", None, True)
        elif c.plugged:
            self.after_reply(self._leave, c)
        return {"status": "Unlocked"}

    def on_RemoteStartTransaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        id_tag = payload["idTag"]
        connector_id = payload.get("connectorId")
        if connector_id is not None:
            c = self.connectors.get(connector_id)
            if c is None or not self._can_start(c, id_tag):
                return {"status": "Rejected"}
        else:
            free = [c for c in self.connectors.values() if self._can_start(c, id_tag)]
            if not free:
                return {"status": "Rejected"}
            c = min(free, key=lambda x: self._preference(x, id_tag))
        profile = payload.get("chargingProfile")
        if profile is not None and not self._fits_new_transaction(c, profile):
            return {"status": "Rejected"}
        c.remote_tag = id_tag  # holds the connector until authorized
        self.after_reply(self._remote_start, c, id_tag, profile)
        return {"status": "Accepted"}

    def _can_start(self, c: Connector, id_tag: str) -> bool:
        if c.transaction is not None or c.fault is not None or not c.operative:
            return False
        if c.waiting_tag is not None or c.remote_tag is not None or c.finishing:
            return False
        return self.reservation_refuses(c, id_tag) is None

    def _preference(self, c: Connector, id_tag: str) -> tuple[bool, bool, bool]:
        """
        How a RemoteStartTransaction without connectorId ranks C{c} (lowest
        first): the idTag's own reservation, then a connector no parentIdTag
        check may refuse, then one with a vehicle plugged in.
        """
        own = c.reservation is not None and c.reservation.id_tag == id_tag
        uncertain = self.reservation_refuses(c, id_tag, {"status": "Accepted"}) is not None
        return (not own, uncertain, not c.plugged)

    def _fits_new_transaction(self, c: Connector, profile: dict[str, Any]) -> bool:
        """Whether C{profile} is a valid TxProfile for a transaction not started yet."""
        if profile.get("chargingProfilePurpose") != "TxProfile" or "transactionId" in profile:
            return False
        trial = copy.deepcopy(self.profiles)
        return trial.set(c.id, profile, NEW_TRANSACTION) == "Accepted"

    def _remote_start(self, c: Connector, id_tag: str, profile: dict[str, Any] | None) -> None:
        self.changed(c)  # Preparing
        # a reservation for another idTag admits this one only by the parentIdTag
        # of its idTagInfo: then it is authorized whatever AuthorizeRemoteTxRequests says
        needs_parent = self.reservation_refuses(c, id_tag, {"status": "Accepted"}) is not None
        d: Deferred[dict[str, Any]]
        if needs_parent or self.keys.get_bool("AuthorizeRemoteTxRequests", True):
            d = self.authorize(id_tag)
        else:
            d = succeed({"status": "Accepted"})

        def authorized(info: dict[str, Any]) -> None:
            if c.remote_tag != id_tag:
                return  # given up meanwhile (Reset)
            c.remote_tag = None
            if not self.may_start(c, id_tag, info):
                self.changed(c)
                return
            if profile is not None:  # in force from the start of the transaction
                self.profiles.set(c.id, profile, NEW_TRANSACTION)
            if c.plugged:
                self.start_transaction(c, id_tag, info.get("parentIdTag"))
                return
            self.wait_for_vehicle(c, id_tag, info.get("parentIdTag"))
            delay = self.config.plug_in_on_remote_start
            if delay is not None:  # the demo driver plugs in by themselves
                self.connector_later(c, "driver", delay, self._driver_plugs_in, c, id_tag)

        d.addCallback(authorized).addErrback(self._call_failed, "RemoteStartTransaction")

    def _driver_plugs_in(self, c: Connector, id_tag: str) -> None:
        """The driver of a remote start plugs in (C{plugInOnRemoteStart}), if still waited for."""
        if c.waiting_tag == id_tag and not c.plugged and c.fault is None and c.operative:
            self.plug_in(c.id)

    def on_RemoteStopTransaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        transaction_id = payload["transactionId"]
        for c in self.connectors.values():
            tx = c.transaction
            if tx is not None and self.transaction_ids.get(tx.local_id) == transaction_id:
                self.after_reply(self.stop_transaction, c, "Remote")
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def on_DataTransfer(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["vendorId"] != self.config.boot.get("chargePointVendor"):
            return {"status": "UnknownVendorId"}
        if payload.get("messageId") is not None:
            return {"status": "UnknownMessageId"}
        reply: dict[str, Any] = {"status": "Accepted"}
        if "data" in payload:
            reply["data"] = payload["data"]
        return reply

    # --- reservation ----------------------------------------------------------------------

    def on_ReserveNow(self, payload: dict[str, Any]) -> dict[str, Any]:
        connector_id = payload["connectorId"]
        expiry = parse_time(payload["expiryDate"]).timestamp()
        reservation = Reservation(
            payload["reservationId"], payload["idTag"], payload.get("parentIdTag"), expiry
        )
        if connector_id == 0:
            return {"status": self._reserve_station(reservation)}
        c = self.connectors.get(connector_id)
        if c is None:
            return {"status": "Rejected"}
        same = _reserved_as(c, reservation.reservation_id)
        status = c.status
        if status in ("Faulted", "Unavailable"):
            return {"status": status}
        if status != "Available" and not (same and status == "Reserved"):
            return {"status": "Occupied"}
        r0 = self.reservation0
        if r0 is not None and r0.reservation_id != reservation.reservation_id and not same:
            if not any(x is not c and x.status == "Available" for x in self.connectors.values()):
                return {"status": "Occupied"}  # the last connector the station's reservation has
        self._drop_reservation(reservation.reservation_id, c)
        c.reservation = reservation
        self.keep_reservation(c)
        self.save()
        self.after_reply(self.changed, c)
        return {"status": "Accepted"}

    def _reserve_station(self, reservation: Reservation) -> str:
        """
        ReserveNow for connector 0: the station keeps a connector Available
        for the idTag, whichever it takes (one such reservation at a time).
        """
        if not self.keys.get_bool("ReserveConnectorZeroSupported", False):
            return "Rejected"
        rid = reservation.reservation_id
        r0 = self.reservation0
        if r0 is not None and r0.reservation_id != rid:
            return "Occupied"
        # a connector with the same reservation is free: the reservation moves from it
        statuses = [
            "Available" if _reserved_as(c, rid) else c.status for c in self.connectors.values()
        ]
        if "Available" not in statuses:
            for refusal in ("Faulted", "Unavailable"):
                if all(s == refusal for s in statuses):
                    return refusal
            return "Occupied"
        self._drop_reservation(rid, None)
        self.reserve_station(reservation)
        return "Accepted"

    def _drop_reservation(self, reservation_id: int, kept: Connector | None) -> None:
        """A reservation with this id elsewhere than on C{kept} is replaced: drop it."""
        for c in self.connectors.values():
            if c is not kept and _reserved_as(c, reservation_id):
                c.reservation = None
                c.cancel_timer("reservation")
                self.after_reply(self.changed, c)
        r0 = self.reservation0
        if kept is not None and r0 is not None and r0.reservation_id == reservation_id:
            self.drop_reservation0()

    def on_CancelReservation(self, payload: dict[str, Any]) -> dict[str, Any]:
        reservation_id = payload["reservationId"]
        r0 = self.reservation0
        if r0 is not None and r0.reservation_id == reservation_id:
            self.drop_reservation0()
            return {"status": "Accepted"}
        for c in self.connectors.values():
            if _reserved_as(c, reservation_id):
                c.reservation = None
                c.cancel_timer("reservation")
                self.save()
                self.after_reply(self.changed, c)
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    # --- local list -----------------------------------------------------------------------

    def on_SendLocalList(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.keys.get_bool("LocalAuthListEnabled", True):
            return {"status": "NotSupported"}
        status = self.auth.send_local_list(
            payload["listVersion"], payload["updateType"], payload.get("localAuthorizationList")
        )
        if status == "Accepted":
            self.save()
        return {"status": status}

    def on_GetLocalListVersion(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.keys.get_bool("LocalAuthListEnabled", True):
            return {"listVersion": -1}
        return {"listVersion": self.auth.list_version}


def _reserved_as(c: Connector, reservation_id: int) -> bool:
    """Whether C{c} holds the reservation with this id."""
    return c.reservation is not None and c.reservation.reservation_id == reservation_id


def _not_implemented(action: str) -> dict[str, Any]:
    raise OcppError(f"Action '{action}' is not supported", code=ErrorCode.NotImplemented)


__all__ = ["LocalActionError", "StationCommands"]
