# -*- test-case-name: tests.web.test_api_stations,tests.web.test_api_records -*-
"""
What the REST API answers, built from the record's views
(L{ocppcs.backends.views}, read through L{IOperatorStore}) and the live
connections (L{ocppcs.locator.Live}): the JSON shapes of C{openapi.yaml}, with the original's field
names where it had them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ocppcs.backends.views import (
    ConnectorView,
    FrameView,
    IdTagView,
    MeterValueView,
    RefusedIdTagView,
    ReservationView,
    StationView,
    TransactionView,
)
from ocppcs.channel import SOAP
from ocppcs.locator import Live
from ocppcs.ocppj import jsontext
from ocppcs.web.http import iso_time

#: BootNotification payload field -> station view attribute.
BOOT_FIELDS = {
    "chargePointVendor": "vendor",
    "chargePointModel": "model",
    "chargePointSerialNumber": "charge_point_serial",
    "chargeBoxSerialNumber": "charge_box_serial",
    "firmwareVersion": "firmware_version",
    "iccid": "iccid",
    "imsi": "imsi",
    "meterType": "meter_type",
    "meterSerialNumber": "meter_serial",
}

#: StatusNotification payload field -> connector view attribute.
STATUS_FIELDS = {
    "connectorId": "connector_id",
    "status": "status",
    "errorCode": "error_code",
    "info": "info",
    "vendorId": "vendor_id",
    "vendorErrorCode": "vendor_error_code",
    "timestamp": "timestamp",
}

_MESSAGE_TYPES = {2: "Call", 3: "CallResult", 4: "CallError"}


def _fields(view: Any, fields: dict[str, str]) -> dict[str, Any]:
    """The non-null C{fields} of C{view}, renamed."""
    out = {}
    for name, attribute in fields.items():
        value = getattr(view, attribute)
        if value is not None:
            out[name] = value
    return out


def peer_address(peer: str) -> tuple[str, int | None]:
    """
    Split an Autobahn peer (C{"tcp4:127.0.0.1:5000"}, C{"tcp6:::1:5000"}) into
    host and port; anything else is returned whole, without a port.
    """
    kind, sep, rest = peer.partition(":")
    if sep and kind.startswith("tcp"):
        host, sep, port = rest.rpartition(":")
        if sep and port.isdigit():
            return host, int(port)
    return peer, None


def address(station: StationView | None, live: Live | None) -> str | None:
    """The station's (last) peer address as C{host:port}: the live one, else the stored one."""
    peer: str | None
    if live is not None:
        peer = live.address
    else:
        peer = station.last_address if station is not None else None
    if not peer:
        return None
    host, port = peer_address(peer)
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connection(live: Live | None) -> dict[str, Any] | None:
    """The live connection of a station (for SOAP: its endpoint's host and port), or C{None}."""
    if live is None:
        return None
    if live.address.startswith(("http://", "https://")):
        url = urlsplit(live.address)
        return {"ip": url.hostname or "", "port": url.port, "account": live.account}
    host, port = peer_address(live.address)
    return {"ip": host, "port": port, "account": live.account}


def node(station: StationView, live: Live | None) -> str | None:
    """
    The node holding the station's connection: the cluster's (which knows
    whether that node is alive), else the record's; C{None} when offline.
    """
    if live is None:
        return None
    return live.node if live.node is not None else station.node


def protocol(station: StationView | None, live: Live | None) -> dict[str, str]:
    """
    C{protocol} (C{JSON} or C{SOAP}) and C{ocppVersion}: the live
    connection's; for a station offline, SOAP when its last address is its
    own URL (a SOAP station's endpoint), and 1.6.
    """
    if live is not None:
        return {
            "protocol": "SOAP" if live.transport == SOAP else "JSON",
            "ocppVersion": live.version,
        }
    last = station.last_address if station is not None else None
    soap = last is not None and last.startswith(("http://", "https://"))
    return {"protocol": "SOAP" if soap else "JSON", "ocppVersion": "1.6"}


def boot_notification(station: StationView) -> dict[str, Any] | None:
    """The last BootNotification's payload fields, or C{None} if it never booted."""
    return _fields(station, BOOT_FIELDS) if station.vendor is not None else None


def connector(view: ConnectorView) -> dict[str, Any]:
    """A connector's last StatusNotification, and when it arrived."""
    out = _fields(view, STATUS_FIELDS)
    out["connectorId"] = view.connector_id
    out["updated"] = view.updated
    return out


def station_list_entry(station: StationView, live: Live | None) -> dict[str, Any]:
    """
    An element of the original's ChargePointList (of C{station_page}): its
    fields, with C{statusNotification} the newest status of any connector,
    and C{connectors}, every connector's last status.
    """
    entry: dict[str, Any] = {
        "identity": station.identity,
        "address": address(station, live),
        **protocol(station, live),
        "node": node(station, live),
    }
    connected = connection(live)
    if connected is not None:
        entry["connection"] = connected
    boot = boot_notification(station)
    if boot is not None:
        entry["bootNotification"] = boot
    if station.latest is not None:
        entry["statusNotification"] = _fields(station.latest, STATUS_FIELDS)
    entry["connectors"] = [connector(c) for c in station.connectors]
    return entry


def _status_time(status: str | None, time: str | None) -> dict[str, Any] | None:
    return None if status is None else {"status": status, "time": time}


def station_detail(station: StationView, live: Live | None) -> dict[str, Any]:
    """Everything about one station (of C{station_detail})."""
    return {
        "identity": station.identity,
        "online": live is not None,
        "address": address(station, live),
        **protocol(station, live),
        "connection": connection(live),
        "account": station.account,
        "registered": station.registered,
        "bootStatus": station.boot_status,
        "lastBoot": station.last_boot,
        "lastSeen": station.last_seen,
        "created": station.created,
        "node": node(station, live),
        "bootNotification": boot_notification(station),
        "connectors": [connector(c) for c in station.connectors],
        "openTransactions": [transaction(t) for t in station.open_transactions],
        "firmwareStatus": _status_time(station.firmware_status, station.firmware_status_time),
        "diagnosticsStatus": _status_time(
            station.diagnostics_status, station.diagnostics_status_time
        ),
        "logStatus": _request_status(
            station.log_status, station.log_status_time, station.log_request_id
        ),
        "signedFirmwareStatus": _request_status(
            station.signed_firmware_status,
            station.signed_firmware_status_time,
            station.signed_firmware_request_id,
        ),
    }


def _request_status(
    status: str | None, time: str | None, request_id: int | None
) -> dict[str, Any] | None:
    """A security-extension status (GetLog's, SignedUpdateFirmware's) with its requestId."""
    entry = _status_time(status, time)
    if entry is not None:
        entry["requestId"] = request_id
    return entry


def rejected_station(station: StationView, live: Live | None) -> dict[str, Any]:
    """A station waiting to be accepted."""
    return {
        "identity": station.identity,
        "bootStatus": station.boot_status,
        "lastBoot": station.last_boot,
        "lastSeen": station.last_seen,
        "online": live is not None,
        "address": address(station, live),
        "bootNotification": boot_notification(station),
    }


def transaction(txn: TransactionView) -> dict[str, Any]:
    """
    A transaction with the original's TransactionList field names (and a few
    more): C{abandoned} when the station started another transaction on the
    connector without stopping this one (C{abandonedBy}: that one's id; the
    stop is then the central system's estimate, until a late StopTransaction).
    """
    meter_stop = txn.meter_stop
    out = {
        "id": txn.id,
        "idTag": txn.id_tag,
        "identity": txn.identity,
        "serialNumber": txn.serial_number,
        "connectorId": txn.connector_id,
        "meterStart": txn.meter_start,
        "meterStop": meter_stop,
        "value": meter_stop - txn.meter_start if meter_stop is not None else None,
        "reservationId": txn.reservation_id,
        "reason": txn.stop_reason,
        "dateStart": txn.start_timestamp,
        "dateStop": txn.stop_timestamp,
        "idTagStatus": txn.id_tag_status,
        "stopIdTag": txn.stop_id_tag,
        "abandoned": txn.abandoned_by is not None,
        "abandonedBy": txn.abandoned_by,
    }
    if txn.meter_values is not None:
        out["meterValues"] = [meter_value(m) for m in txn.meter_values]
    return out


_SAMPLE_FIELDS = ("context", "format", "measurand", "phase", "location", "unit")


def meter_value(view: MeterValueView) -> dict[str, Any]:
    """One sampled value of a transaction, with its timestamp."""
    out = {"timestamp": view.timestamp, "value": view.value, "source": view.source}
    for name in _SAMPLE_FIELDS:
        value = getattr(view, name)
        if value is not None:
            out[name] = value
    return out


def reservation(view: ReservationView) -> dict[str, Any]:
    """A reservation with the original's ReservationList field names (and a few more)."""
    return {
        "id": view.id,
        "idTag": view.id_tag,
        "parentIdTag": view.parent_id_tag,
        "identity": view.identity,
        "serialNumber": view.serial_number,
        "connectorId": view.connector_id,
        "expiryDate": view.expiry_date,
        "status": view.status,
        "transactionId": view.transaction_id,
        "dateStart": view.created,
        "dateStop": view.date_stop,
    }


def id_tag(view: IdTagView) -> dict[str, Any]:
    """An id tag."""
    return {
        "idTag": view.id_tag,
        "status": view.status,
        "expiryDate": view.expiry_date,
        "parentIdTag": view.parent_id_tag,
    }


def refused_id_tag(view: RefusedIdTagView) -> dict[str, Any]:
    """A refused id tag: its last refusal and how many there were."""
    return {
        "idTag": view.id_tag,
        "status": view.status,
        "identity": view.identity,
        "action": view.action,
        "firstSeen": view.first_seen,
        "lastSeen": view.last_seen,
        "count": view.count,
    }


def refusal(entry: dict[str, Any]) -> dict[str, Any]:
    """A refused connection attempt (from L{ocppcs.onboarding.RefusalLog})."""
    return {
        "ts": iso_time(entry["ts"]),
        "identity": entry["identity"],
        "path": entry["path"],
        "address": entry["address"],
        "reason": entry["reason"],
    }


def frame(view: FrameView) -> dict[str, Any]:
    """
    A frame-log row in the live log feed's shape (C{ts, identity, direction,
    messageType, uniqueId, action, payload}, plus C{errorCode} and
    C{errorDescription} for a CALLERROR) with its C{id}; a frame that can't
    be read has C{raw} (its text) instead of a payload.
    """
    out: dict[str, Any] = {
        "id": view.id,
        "ts": iso_time(view.ts),
        "identity": view.identity,
        "direction": view.direction,
        "messageType": _MESSAGE_TYPES.get(view.message_type, "Unknown"),
        "uniqueId": view.unique_id,
        "action": view.action,
    }
    parsed = jsontext.read(view.raw)  # None when not JSON or too deep to send on
    kind = view.message_type
    if kind == 2 and isinstance(parsed, list) and len(parsed) == 4:
        out["payload"] = parsed[3]
    elif kind == 3 and isinstance(parsed, list) and len(parsed) == 3:
        out["payload"] = parsed[2]
    elif kind == 4 and isinstance(parsed, list) and len(parsed) == 5:
        out["errorCode"] = parsed[2]
        out["errorDescription"] = parsed[3]
        out["payload"] = parsed[4]
    else:
        out["raw"] = view.raw
    return out
