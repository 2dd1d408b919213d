# -*- test-case-name: tests.emulator.test_charging_sessions -*-
"""
Charging sessions of an emulated station: the driver's local actions, id tag
authorization, StartTransaction / StopTransaction and the meter.

    plug in ----------------+--> Preparing --(idTag authorized)--> StartTransaction
    idTag (authorized) -----+                                     -> Charging
    RemoteStartTransaction --> Preparing --(authorized, plugged in)--> StartTransaction
        (plugging in meanwhile starts nothing: the authorization decides)
    authorized, no vehicle --> Preparing --(plug in within ConnectionTimeOut)--> StartTransaction
                                         --(ConnectionTimeOut)--> Available, no transaction
    Charging --(vehicle full)--> SuspendedEV; --(limit 0)--> SuspendedEVSE
    StartTransaction.conf idTag not Accepted --> StopTransaction (DeAuthorized),
        or SuspendedEVSE until it ends when StopTransactionOnInvalidId is false
    stop (Local, Remote, EVDisconnected, DeAuthorized, ...) --> StopTransaction
        --> Finishing while the vehicle is plugged (FinishingTimeout) --> Available

Authorization (OCPP 1.6 3.4/3.5): the local list and the cache answer when
C{LocalPreAuthorize} is set or the station is offline (C{LocalAuthorizeOffline},
C{AllowOfflineTxForUnknownId}); otherwise the station sends Authorize. An
authorization answered late counts only if the connector is still free, in
service and not reserved for another idTag (L{ocppcs.emulator.authorization}).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, succeed

from ocppcs.emulator.authorization import Authorization
from ocppcs.emulator.connector import Connector, Transaction
from ocppcs.emulator.limits import PowerLimits
from ocppcs.emulator.outbox import Message
from ocppcs.emulator.physics import ChargingSession
from ocppcs.isotime import iso_time

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object

#: StopTransaction reasons of OCPP 1.6.
STOP_REASONS = frozenset(
    {
        "EmergencyStop",
        "EVDisconnected",
        "HardReset",
        "Local",
        "Other",
        "PowerLoss",
        "Reboot",
        "Remote",
        "SoftReset",
        "UnlockCommand",
        "DeAuthorized",
    }
)

#: StatusNotification error codes of OCPP 1.6 (for raising a fault).
ERROR_CODES = frozenset(
    {
        "ConnectorLockFailure",
        "EVCommunicationError",
        "GroundFailure",
        "HighTemperature",
        "InternalError",
        "LocalListConflict",
        "NoError",
        "OtherError",
        "OverCurrentFailure",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "UnderVoltage",
        "OverVoltage",
        "WeakSignal",
    }
)


class LocalActionError(Exception):
    """A local action that can't be done now; C{str()} says why."""


class UnknownConnector(LocalActionError):
    """The station has no such connector."""


class ChargingFlows(Authorization, PowerLimits, _Base):
    """Charging sessions; mixed into L{ocppcs.emulator.station.EmulatedStation}."""

    # The station's (set in EmulatedStation.__init__), typed here for the mixin.
    operative0: bool
    scheduled0: bool | None

    # --- lookup ---------------------------------------------------------------------------

    def connector(self, connector_id: int) -> Connector:
        """The connector, or L{LocalActionError}."""
        c = self.connectors.get(connector_id)
        if c is None:
            raise UnknownConnector(f"{self.identity} has no connector {connector_id}")
        return c

    def changed(self, c: Connector) -> None:
        """Report C{c}'s status if it changed."""
        self.report_status(c.id)

    # --- local actions (REST) -------------------------------------------------------------

    def plug_in(self, connector_id: int) -> dict[str, Any]:
        """A vehicle is plugged into the connector."""
        c = self.connector(connector_id)
        if c.plugged:
            raise LocalActionError(f"connector {connector_id} already has a vehicle")
        if c.fault is not None or not c.operative:
            raise LocalActionError(f"connector {connector_id} is {c.status}")
        c.plugged = True
        c.finishing = False
        c.vehicle = ChargingSession(c.spec, self.rng)
        tag, parent = c.waiting_tag, c.waiting_parent
        if tag is not None:  # authorized before; a remote start decides itself
            c.waiting_tag = c.waiting_parent = None
            c.cancel_timer("waiting")
            self.changed(c)
            self.start_transaction(c, tag, parent)
        else:
            self.changed(c)
        return self.connector_view(c)

    def unplug(self, connector_id: int) -> dict[str, Any]:
        """The vehicle is unplugged; a running transaction stops (EVDisconnected)."""
        c = self.connector(connector_id)
        if not c.plugged:
            raise LocalActionError(f"connector {connector_id} has no vehicle")
        if c.transaction is not None and self.keys.get_bool(
            "StopTransactionOnEVSideDisconnect", True
        ):
            self.stop_transaction(c, "EVDisconnected", unplug=True)
        else:
            self._leave(c)
        return self.connector_view(c)

    def present_id_tag(self, connector_id: int, id_tag: str) -> Deferred[dict[str, Any]]:
        """
        A driver presents an idTag at the connector: it stops the connector's
        transaction when it is the tag that started it, else it starts one
        once authorized (and plugged in).

        @return: a Deferred firing with C{{"status": idTag status, "connector": view}}.
        """
        c = self.connector(connector_id)
        tx = c.transaction
        if tx is not None:
            if tx.id_tag != id_tag:
                raise LocalActionError(f"connector {connector_id} is charging for another idTag")
            self.stop_transaction(c, "Local", id_tag=id_tag)
            return succeed({"status": "Accepted", "connector": self.connector_view(c)})
        if c.fault is not None or not c.operative:
            raise LocalActionError(f"connector {connector_id} is {c.status}")
        if c.remote_tag is not None:
            raise LocalActionError(f"connector {connector_id} is held for a remote start")
        refused = self.reservation_refuses(c, id_tag)
        if refused is not None:
            raise LocalActionError(refused)
        d = self.authorize(id_tag)

        def authorized(info: dict[str, Any]) -> dict[str, Any]:
            if self.may_start(c, id_tag, info):
                parent = info.get("parentIdTag")
                if c.plugged:
                    self.start_transaction(c, id_tag, parent)
                else:
                    self.wait_for_vehicle(c, id_tag, parent)
            return {"status": info.get("status"), "connector": self.connector_view(c)}

        return d.addCallback(authorized)

    def wait_for_vehicle(self, c: Connector, id_tag: str, parent_id_tag: str | None) -> None:
        """
        C{id_tag} is authorized on C{c} but no vehicle is plugged in: stay
        Preparing; plugging in within C{ConnectionTimeOut} seconds starts the
        transaction, else the connector is Available again (OCPP 1.6 5.11,
        the ConnectionTimeOut key of 9.1).
        """
        c.waiting_tag, c.waiting_parent = id_tag, parent_id_tag
        timeout = self.keys.get_int("ConnectionTimeOut", 60)
        self.connector_later(c, "waiting", timeout, self._plug_timeout, c)
        self.changed(c)

    def set_fault(self, connector_id: int, error_code: str, info: str | None) -> dict[str, Any]:
        """Raise a fault on the connector; a running transaction stops (reason Other)."""
        if error_code not in ERROR_CODES or error_code == "NoError":
            raise LocalActionError(f"unknown errorCode {error_code!r}")
        c = self.connector(connector_id)
        c.fault = (error_code, info)
        if c.transaction is not None:
            self.stop_transaction(c, "Other")
        else:
            self.changed(c)
        return self.connector_view(c)

    def clear_fault(self, connector_id: int) -> dict[str, Any]:
        """The fault is gone."""
        c = self.connector(connector_id)
        if c.fault is None:
            raise LocalActionError(f"connector {connector_id} has no fault")
        c.fault = None
        self.changed(c)
        return self.connector_view(c)

    def _plug_timeout(self, c: Connector) -> None:
        if c.waiting_tag is not None and not c.plugged:
            c.waiting_tag = c.waiting_parent = None
            self.profiles.transaction_ended(c.id)  # a remote start's TxProfile: no transaction
            self.save()
            self.changed(c)

    def _leave(self, c: Connector) -> None:
        """The vehicle drives away."""
        c.plugged = False
        c.finishing = False
        c.vehicle = None
        c.cancel_timer("finishing")
        self.changed(c)

    # --- transactions ---------------------------------------------------------------------

    def start_transaction(
        self, c: Connector, id_tag: str, parent_id_tag: str | None = None
    ) -> None:
        """
        Start charging on C{c} for C{id_tag} (already authorized, with
        C{parent_id_tag} in its idTagInfo); the reservation that admits it
        (of C{c} or of the station) is consumed.
        """
        if c.vehicle is None:
            c.vehicle = ChargingSession(c.spec, self.rng)
        c.plugged = True
        c.finishing = False
        c.cancel_timer("finishing")
        now = self.now()
        tx = Transaction(uuid.uuid4().hex, id_tag, _wh(c.register_wh), now)
        tx.reservation_id = self.claim_reservation(c, id_tag, parent_id_tag)
        c.transaction = tx
        c.last_advance = now
        self.update_limit(c, report=False)
        self.save()
        payload: dict[str, Any] = {
            "connectorId": c.id,
            "idTag": id_tag,
            "meterStart": tx.meter_start,
            "timestamp": self.timestamp(),
        }
        if tx.reservation_id is not None:
            payload["reservationId"] = tx.reservation_id
        self.outbox.put("StartTransaction", payload, tx.local_id, kept=True)
        self.changed(c)

    def transaction_started(self, message: Message, reply: dict[str, Any]) -> None:
        """The central system answered a StartTransaction."""
        transaction_id = int(reply["transactionId"])
        self.transaction_ids[message.local_tx] = transaction_id
        info = reply["idTagInfo"]
        self.remember(message.payload["idTag"], info)
        c = self._by_local_tx(message.local_tx)
        if c is not None and c.transaction is not None:
            c.transaction.transaction_id = transaction_id
        self.save()
        if c is not None and c.transaction is not None and info.get("status") != "Accepted":
            if self.keys.get_bool("StopTransactionOnInvalidId", True):
                self.stop_transaction(c, "DeAuthorized")
            else:
                self._deauthorize(c)

    def _deauthorize(self, c: Connector) -> None:
        """Energy delivery stops (SuspendedEVSE); the transaction lasts until it ends."""
        tx = c.transaction
        if tx is None or tx.deauthorized:
            return
        self.advance(c)  # the energy so far
        tx.deauthorized = True
        self._log.info(
            "{identity}: connector {connector} deauthorized, energy delivery stopped",
            identity=self.identity,
            connector=c.id,
        )
        self.update_limit(c)
        self.save()

    def stop_transaction(
        self,
        c: Connector,
        reason: str,
        id_tag: str | None = None,
        unplug: bool = False,
        at: float | None = None,
    ) -> None:
        """
        Stop C{c}'s transaction with C{reason}.

        @param at: when it stopped, if not now (seconds since the epoch).
        """
        tx = c.transaction
        if tx is None:
            return
        self.advance(c)
        stop_measurands = self.keys.get_list("StopTxnSampledData")
        end = self.meter_value(c, "Transaction.End", stop_measurands)
        stopped = self.timestamp() if at is None else iso_time(at)
        end["timestamp"] = stopped
        begin = {
            "timestamp": iso_time(tx.start),
            "sampledValue": [
                {
                    "value": str(tx.meter_start),
                    "context": "Transaction.Begin",
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                }
            ],
        }
        payload: dict[str, Any] = {
            "meterStop": _wh(c.register_wh),
            "timestamp": stopped,
            "reason": reason if reason in STOP_REASONS else "Other",
            "transactionData": [begin, end],
        }
        if id_tag is not None:
            payload["idTag"] = id_tag
        c.transaction = None
        c.limit_w = None
        self.profiles.transaction_ended(c.id)
        if c.scheduled is not None:
            c.operative = c.scheduled
            c.scheduled = None
        station_changed = self._apply_scheduled0()
        self.save()
        self.outbox.put("StopTransaction", payload, tx.local_id, kept=True)
        if station_changed:
            self.report_status(0, force=True)
        if unplug or not c.plugged:
            self._leave(c)
        else:
            c.finishing = True
            self.changed(c)
            timeout = self.keys.get_int("FinishingTimeout", 5)
            self.connector_later(c, "finishing", timeout, self._finished, c)
        self.update_limits()  # the others may take what this one drew

    def _apply_scheduled0(self) -> bool:
        """Apply a Scheduled availability of connector 0 once no transaction runs."""
        if self.scheduled0 is None or any(x.transaction for x in self.connectors.values()):
            return False
        changed = self.operative0 != self.scheduled0
        self.operative0, self.scheduled0 = self.scheduled0, None
        return changed

    def _finished(self, c: Connector) -> None:
        if c.finishing and c.transaction is None and c.plugged:
            self._leave(c)

    def transaction_stopped(self, message: Message, reply: dict[str, Any]) -> None:
        """The central system answered a StopTransaction: forget the local id."""
        info = reply.get("idTagInfo")
        if info is not None and "idTag" in message.payload:
            self.remember(message.payload["idTag"], info)
        if not any(m.local_tx == message.local_tx for m in self.outbox.kept()):
            self.transaction_ids.pop(message.local_tx, None)
            self.save()

    def _by_local_tx(self, local_tx: str) -> Connector | None:
        for c in self.connectors.values():
            if c.transaction is not None and c.transaction.local_id == local_tx:
                return c
        return None

    def _power_loss(self) -> None:
        """On start-up, transactions of the last run end with reason PowerLoss."""
        for c in self.connectors.values():
            if c.transaction is not None:
                c.plugged = True
                c.vehicle = ChargingSession(c.spec, self.rng)
                c.last_advance = self.now()  # no energy flowed while the power was off
                # It ended when the last run was last seen, not now.
                at = max(self.last_seen or self.now(), c.transaction.start)
                self.stop_transaction(c, "PowerLoss", unplug=True, at=at)
            if c.reservation is not None:
                self.keep_reservation(c)


def _wh(register_wh: float) -> int:
    """The register in whole Wh, rounded as the meter values report it."""
    return int(round(register_wh))
