# -*- test-case-name: tests.emulator.test_station -*-
"""What an emulated station shows the REST API: its state and its connectors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocppcs.emulator.connector import Connector, Reservation
from ocppcs.isotime import iso_time

if TYPE_CHECKING:
    # mypy cannot resolve a base that inherits from this mixin: _Base is Any to it.
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object


class StationView(_Base):
    """The REST views of a station; mixed into L{ocppcs.emulator.station.EmulatedStation}."""

    def snapshot(self) -> dict[str, Any]:
        """What the station is doing, for the REST API."""
        return {
            "identity": self.identity,
            "url": self.url,
            "protocol": self.config.protocol,
            "connected": self.session is not None,
            "bootStatus": self.boot_status or None,
            "status": self.status0(),
            "firmwareStatus": self.firmware_status,
            "diagnosticsStatus": self.diagnostics_status,
            "queued": len(self.outbox.kept()),
            "reservation": _reservation(self.reservation0),
            "connectors": [self.connector_view(c) for c in self.connectors.values()],
        }

    def connector_view(self, c: Connector) -> dict[str, Any]:
        """One connector, for the REST API."""
        tx = c.transaction
        vehicle = c.vehicle
        return {
            "connectorId": c.id,
            "status": c.status,
            "errorCode": c.error_code,
            "type": c.spec.current_type,
            "interface": c.spec.interface,
            "maxPowerW": c.spec.max_power_w,
            "plugged": c.plugged,
            "registerWh": round(c.register_wh),
            "powerW": round(vehicle.power_w, 1) if vehicle is not None and tx else 0.0,
            "soc": round(vehicle.soc_percent, 1) if vehicle is not None else None,
            "limitW": c.limit_w,
            "transaction": None
            if tx is None
            else {
                "transactionId": tx.transaction_id or self.transaction_ids.get(tx.local_id),
                "idTag": tx.id_tag,
                "meterStart": tx.meter_start,
                "start": iso_time(tx.start),
            },
            "reservation": _reservation(c.reservation),
        }


def _reservation(r: Reservation | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"reservationId": r.reservation_id, "idTag": r.id_tag, "expiryDate": iso_time(r.expiry)}
