# -*- test-case-name: tests.web.test_api_stations,tests.web.test_api_records -*-
"""
What the REST API answers, built from the store's rows (L{IOperatorStore})
and the live sessions: the JSON shapes of C{openapi.yaml}, with the
original's field names where it had them.
"""

from __future__ import annotations

from typing import Any

from ocppcs.ocppj import jsontext
from ocppcs.ocppj.session import OcppSession
from ocppcs.web.http import iso_time

#: BootNotification payload field -> station column.
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

#: StatusNotification payload field -> connector column.
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


def _fields(row: dict[str, Any], fields: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """The non-null C{fields} of C{row}, renamed."""
    out = {}
    for name, column in fields.items():
        value = row.get(prefix + column)
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


def address(row: dict[str, Any], session: OcppSession | None) -> str | None:
    """The station's (last) peer address as C{host:port}."""
    peer = session.address if session is not None else row.get("last_address")
    if not peer:
        return None
    host, port = peer_address(peer)
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connection(session: OcppSession | None) -> dict[str, Any] | None:
    """The live connection of a station, or C{None}."""
    if session is None:
        return None
    host, port = peer_address(session.address)
    return {"ip": host, "port": port, "account": session.account}


def boot_notification(row: dict[str, Any]) -> dict[str, Any] | None:
    """The last BootNotification's payload fields, or C{None} if it never booted."""
    return _fields(row, BOOT_FIELDS) if row.get("vendor") is not None else None


def connector(row: dict[str, Any]) -> dict[str, Any]:
    """A connector's last StatusNotification, and when it arrived."""
    out = _fields(row, STATUS_FIELDS)
    out["connectorId"] = row["connector_id"]
    out["updated"] = row.get("updated")
    return out


def station_list_entry(row: dict[str, Any], session: OcppSession | None) -> dict[str, Any]:
    """
    An element of the original's ChargePointList (a row of C{station_page}):
    its fields, with C{statusNotification} the newest status of any
    connector, and C{connectors}, every connector's last status.
    """
    entry: dict[str, Any] = {
        "identity": row["identity"],
        "address": address(row, session),
        "protocol": "JSON",
        "ocppVersion": "1.6",
    }
    live = connection(session)
    if live is not None:
        entry["connection"] = live
    boot = boot_notification(row)
    if boot is not None:
        entry["bootNotification"] = boot
    if row.get("sn_connector_id") is not None:
        entry["statusNotification"] = _fields(row, STATUS_FIELDS, "sn_")
    entry["connectors"] = [connector(c) for c in row.get("connectors", [])]
    return entry


def _status_time(row: dict[str, Any], column: str) -> dict[str, Any] | None:
    if row.get(column) is None:
        return None
    return {"status": row[column], "time": row.get(column + "_time")}


def station_detail(row: dict[str, Any], session: OcppSession | None) -> dict[str, Any]:
    """Everything about one station (a row of C{station_detail})."""
    return {
        "identity": row["identity"],
        "online": session is not None,
        "address": address(row, session),
        "connection": connection(session),
        "account": row.get("account"),
        "registered": bool(row.get("registered")),
        "bootStatus": row.get("boot_status"),
        "lastBoot": row.get("last_boot"),
        "lastSeen": row.get("last_seen"),
        "created": row.get("created"),
        "bootNotification": boot_notification(row),
        "connectors": [connector(c) for c in row.get("connectors", [])],
        "openTransactions": [transaction(t) for t in row.get("open_transactions", [])],
        "firmwareStatus": _status_time(row, "firmware_status"),
        "diagnosticsStatus": _status_time(row, "diagnostics_status"),
    }


def rejected_station(row: dict[str, Any], session: OcppSession | None) -> dict[str, Any]:
    """A station waiting to be accepted."""
    return {
        "identity": row["identity"],
        "bootStatus": row["boot_status"],
        "lastBoot": row.get("last_boot"),
        "lastSeen": row.get("last_seen"),
        "online": session is not None,
        "address": address(row, session),
        "bootNotification": boot_notification(row),
    }


def transaction(row: dict[str, Any]) -> dict[str, Any]:
    """
    A transaction with the original's TransactionList field names (and a few
    more): C{abandoned} when the station started another transaction on the
    connector without stopping this one (C{abandonedBy}: that one's id; the
    stop is then the central system's estimate, until a late StopTransaction).
    """
    meter_stop = row.get("meter_stop")
    out = {
        "id": row["id"],
        "idTag": row["id_tag"],
        "identity": row["identity"],
        "serialNumber": row.get("serial_number"),
        "connectorId": row["connector_id"],
        "meterStart": row["meter_start"],
        "meterStop": meter_stop,
        "value": meter_stop - row["meter_start"] if meter_stop is not None else None,
        "reservationId": row.get("reservation_id"),
        "reason": row.get("stop_reason"),
        "dateStart": row["start_timestamp"],
        "dateStop": row.get("stop_timestamp"),
        "idTagStatus": row.get("id_tag_status"),
        "stopIdTag": row.get("stop_id_tag"),
        "abandoned": row.get("abandoned_by") is not None,
        "abandonedBy": row.get("abandoned_by"),
    }
    if "meter_values" in row:
        out["meterValues"] = [meter_value(m) for m in row["meter_values"]]
    return out


def meter_value(row: dict[str, Any]) -> dict[str, Any]:
    """One sampled value of a transaction, with its timestamp."""
    out = {"timestamp": row["timestamp"], "value": row["value"], "source": row["source"]}
    for name in ("context", "format", "measurand", "phase", "location", "unit"):
        if row.get(name) is not None:
            out[name] = row[name]
    return out


def reservation(row: dict[str, Any]) -> dict[str, Any]:
    """A reservation with the original's ReservationList field names (and a few more)."""
    return {
        "id": row["id"],
        "idTag": row["id_tag"],
        "parentIdTag": row.get("parent_id_tag"),
        "identity": row["identity"],
        "serialNumber": row.get("serial_number"),
        "connectorId": row["connector_id"],
        "expiryDate": row["expiry_date"],
        "status": row["status"],
        "transactionId": row.get("transaction_id"),
        "dateStart": row.get("created"),
        "dateStop": row.get("date_stop"),
    }


def id_tag(row: dict[str, Any]) -> dict[str, Any]:
    """An id tag."""
    return {
        "idTag": row["id_tag"],
        "status": row["status"],
        "expiryDate": row.get("expiry_date"),
        "parentIdTag": row.get("parent_id_tag"),
    }


def refused_id_tag(row: dict[str, Any]) -> dict[str, Any]:
    """A refused id tag: its last refusal and how many there were."""
    return {
        "idTag": row["id_tag"],
        "status": row["status"],
        "identity": row["identity"],
        "action": row["action"],
        "firstSeen": row["first_seen"],
        "lastSeen": row["last_seen"],
        "count": row["count"],
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


def frame(row: dict[str, Any]) -> dict[str, Any]:
    """
    A frame-log row in the live log feed's shape (C{ts, identity, direction,
    messageType, uniqueId, action, payload}, plus C{errorCode} and
    C{errorDescription} for a CALLERROR) with its C{id}; a frame that can't
    be read has C{raw} (its text) instead of a payload.
    """
    out: dict[str, Any] = {
        "id": row["id"],
        "ts": iso_time(row["ts"]),
        "identity": row["identity"],
        "direction": row["direction"],
        "messageType": _MESSAGE_TYPES.get(row["message_type"], "Unknown"),
        "uniqueId": row["unique_id"],
        "action": row["action"],
    }
    parsed = jsontext.read(row["raw"])  # None when not JSON or too deep to send on
    kind = row["message_type"]
    if kind == 2 and isinstance(parsed, list) and len(parsed) == 4:
        out["payload"] = parsed[3]
    elif kind == 3 and isinstance(parsed, list) and len(parsed) == 3:
        out["payload"] = parsed[2]
    elif kind == 4 and isinstance(parsed, list) and len(parsed) == 5:
        out["errorCode"] = parsed[2]
        out["errorDescription"] = parsed[3]
        out["payload"] = parsed[4]
    else:
        out["raw"] = row["raw"]
    return out
