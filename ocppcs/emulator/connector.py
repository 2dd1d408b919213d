# -*- test-case-name: tests.emulator.test_charging_sessions -*-
"""
The state of one connector of an emulated station, and the part of it that
is saved across restarts.

Status (OCPP 1.6 ChargePointStatus) follows from the facts kept here:

    fault set                       -> Faulted
    Inoperative (no transaction)    -> Unavailable
    transaction                     -> Charging, SuspendedEV (vehicle full,
                                       or unplugged when
                                       StopTransactionOnEVSideDisconnect
                                       is false) or SuspendedEVSE (limit 0)
    plugged, no transaction         -> Finishing after a transaction,
                                       else Preparing
    authorized idTag waiting, or a
    RemoteStartTransaction being
    authorized                      -> Preparing
    reserved                        -> Reserved
    otherwise                       -> Available
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocppcs.emulator.physics import ChargingSession
from ocppcs.emulator.spec import ConnectorSpec


@dataclass(slots=True)
class Transaction:
    """
    A charging session the station has started.

    @ivar local_id: the station's own id, known before the central system's.
    @ivar transaction_id: the central system's id, once StartTransaction is answered.
    @ivar start: seconds since the epoch when it started.
    @ivar deauthorized: the central system did not accept the idTag in its
        StartTransaction.conf and C{StopTransactionOnInvalidId} is false: the
        transaction goes on without energy (SuspendedEVSE) until it ends.
    """

    local_id: str
    id_tag: str
    meter_start: int
    start: float
    reservation_id: int | None = None
    transaction_id: int | None = None
    deauthorized: bool = False

    def to_json(self) -> dict[str, Any]:
        """What is saved."""
        return {
            "localId": self.local_id,
            "idTag": self.id_tag,
            "meterStart": self.meter_start,
            "start": self.start,
            "reservationId": self.reservation_id,
            "transactionId": self.transaction_id,
            "deauthorized": self.deauthorized,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transaction:
        """The transaction L{to_json} saved."""
        return cls(
            data["localId"],
            data["idTag"],
            int(data["meterStart"]),
            float(data["start"]),
            data.get("reservationId"),
            data.get("transactionId"),
            bool(data.get("deauthorized", False)),
        )


@dataclass(slots=True)
class Reservation:
    """
    A ReserveNow in force on a connector, or on the station (connector 0);
    C{expiry} in seconds since the epoch.
    """

    reservation_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: float

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """
        Whether the reservation lets C{id_tag} charge (OCPP 1.6 5.13): it is
        the reserved idTag, or its C{parent_id_tag} (from its idTagInfo) is
        the reservation's parentIdTag.
        """
        if id_tag == self.id_tag:
            return True
        return self.parent_id_tag is not None and parent_id_tag == self.parent_id_tag

    def to_json(self) -> dict[str, Any]:
        """What is saved."""
        return {
            "reservationId": self.reservation_id,
            "idTag": self.id_tag,
            "parentIdTag": self.parent_id_tag,
            "expiry": self.expiry,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reservation:
        """The reservation L{to_json} saved."""
        return cls(
            int(data["reservationId"]), data["idTag"], data.get("parentIdTag"), data["expiry"]
        )


@dataclass(slots=True)
class Connector:
    """
    One connector: the vehicle, the meter, the transaction and the status
    last reported.

    @ivar register_wh: the energy register; it never goes backwards.
    @ivar operative: the availability the central system set.
    @ivar scheduled: an availability to apply when the transaction ends.
    @ivar reported: the status last sent in a StatusNotification.
    @ivar finishing: the last transaction ended and the vehicle is still plugged.
    @ivar waiting_tag: an idTag authorized locally, waiting for the vehicle.
    @ivar waiting_parent: the parentIdTag of L{waiting_tag}'s idTagInfo.
    @ivar remote_tag: the idTag of a RemoteStartTransaction being authorized;
        it holds the connector, and the transaction starts (or not) when the
        authorization is known, whether a vehicle is plugged in meanwhile or not.
    @ivar last_advance: when the meter was last brought up to date.
    """

    spec: ConnectorSpec
    register_wh: float = 0.0
    operative: bool = True
    scheduled: bool | None = None
    plugged: bool = False
    vehicle: ChargingSession | None = None
    transaction: Transaction | None = None
    reservation: Reservation | None = None
    fault: tuple[str, str | None] | None = None
    finishing: bool = False
    waiting_tag: str | None = None
    waiting_parent: str | None = None
    remote_tag: str | None = None
    limit_w: float | None = None
    last_advance: float = 0.0
    reported: str = ""
    timers: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        """The connectorId."""
        return self.spec.id

    @property
    def status(self) -> str:
        """The OCPP 1.6 status that follows from the state."""
        if self.fault is not None:
            return "Faulted"
        if self.transaction is not None:
            if self.vehicle is None or self.vehicle.full:
                return "SuspendedEV"
            if self.limit_w is not None and self.limit_w <= 0:
                return "SuspendedEVSE"
            return "Charging"
        if not self.operative:
            return "Unavailable"
        if self.plugged:
            return "Finishing" if self.finishing else "Preparing"
        if self.waiting_tag is not None or self.remote_tag is not None:
            return "Preparing"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    @property
    def error_code(self) -> str:
        """The errorCode of the status."""
        return self.fault[0] if self.fault is not None else "NoError"

    def cancel_timer(self, name: str) -> None:
        """Cancel the named pending timer, if any."""
        timer = self.timers.pop(name, None)
        if timer is not None and timer.active():
            timer.cancel()

    def to_json(self) -> dict[str, Any]:
        """What is saved across restarts."""
        return {
            "registerWh": self.register_wh,
            "operative": self.operative,
            "scheduled": self.scheduled,
            "transaction": self.transaction.to_json() if self.transaction else None,
            "reservation": self.reservation.to_json() if self.reservation else None,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what L{to_json} saved (the register only ever grows)."""
        self.register_wh = max(self.register_wh, float(data.get("registerWh", 0.0)))
        self.operative = bool(data.get("operative", True))
        self.scheduled = data.get("scheduled")
        tx = data.get("transaction")
        self.transaction = Transaction.from_json(tx) if tx else None
        reservation = data.get("reservation")
        self.reservation = Reservation.from_json(reservation) if reservation else None
