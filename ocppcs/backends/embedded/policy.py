# -*- test-case-name: tests.backends.test_embedded_backend_transactions -*-
"""
What the embedded backend answers to the station-initiated CALLs that read
before they write, and what it stores: one store job per CALL, run in the
store worker inside the batch's transaction (so all of a CALL's reads and
writes are atomic). Heartbeat, MeterValues and StatusNotification need no
reads and are written in bulk by the backend instead.

Every job is a module-level function (so that it pickles by reference) taking
the connection, the C{[central]} policy, the station identity, the (already
schema-validated) payload and C{now}, the central system's time as ISO-8601
UTC text, and returns the CALLRESULT payload. Timestamps sent by stations are
stored as the text received.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ocppcs.backends.embedded.abandon import abandon_open_on_connector
from ocppcs.config import CentralConfig

ACCEPTED = "Accepted"

_SELECT_REGISTERED = "SELECT registered FROM station WHERE identity = ?"
_UPSERT_BOOT = """
INSERT INTO station (identity, registered, boot_status, vendor, model, charge_point_serial,
    charge_box_serial, firmware_version, iccid, imsi, meter_type, meter_serial, last_boot,
    last_seen, created)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13)
ON CONFLICT (identity) DO UPDATE SET
    registered = excluded.registered, boot_status = excluded.boot_status,
    vendor = excluded.vendor, model = excluded.model,
    charge_point_serial = excluded.charge_point_serial,
    charge_box_serial = excluded.charge_box_serial,
    firmware_version = excluded.firmware_version, iccid = excluded.iccid,
    imsi = excluded.imsi, meter_type = excluded.meter_type,
    meter_serial = excluded.meter_serial, last_boot = excluded.last_boot,
    last_seen = excluded.last_seen
"""
_SELECT_ID_TAG = "SELECT status, expiry_date, parent_id_tag FROM id_tag WHERE id_tag = ?"
_SELECT_REPLAY = (
    "SELECT id, id_tag_status, id_tag_expiry, id_tag_parent FROM txn WHERE identity = ?"
    " AND connector_id = ? AND id_tag = ? AND start_timestamp = ? AND meter_start = ?"
)
#: An Accepted transaction of the tag still open elsewhere than on (identity, connector).
_SELECT_RUNNING_ELSEWHERE = (
    "SELECT 1 FROM txn WHERE id_tag = ? AND stop_timestamp IS NULL"
    " AND id_tag_status = 'Accepted' AND NOT (identity = ? AND connector_id = ?) LIMIT 1"
)
_INSERT_TXN = """
INSERT INTO txn (identity, connector_id, id_tag, meter_start, start_timestamp, reservation_id,
    id_tag_status, id_tag_expiry, id_tag_parent, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?10, ?10)
"""
_USE_RESERVATION = (
    "UPDATE reservation SET status = 'Used', transaction_id = ? WHERE id = ? AND identity = ?"
)
_SELECT_TXN_STOP = (
    "SELECT identity, connector_id, stop_timestamp, abandoned_by FROM txn WHERE id = ?"
)
_STOP_TXN = (
    "UPDATE txn SET meter_stop = ?, stop_timestamp = ?, stop_reason = ?, stop_id_tag = ?,"
    " abandoned_by = NULL, updated = ? WHERE id = ?"
)
_INSERT_METER_VALUE = (
    "INSERT INTO meter_value (identity, connector_id, transaction_id, timestamp, value, context,"
    " format, measurand, phase, location, unit, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _upsert_station_status(column: str) -> str:
    """SQL keeping the latest C{column} (and C{column}_time) of a station, creating it if new."""
    return (
        f"INSERT INTO station (identity, {column}, {column}_time, created) VALUES (?1, ?2, ?3, ?3)"
        f" ON CONFLICT (identity) DO UPDATE SET {column} = excluded.{column},"
        f" {column}_time = excluded.{column}_time"
    )


_UPSERT_DIAGNOSTICS = _upsert_station_status("diagnostics_status")
_UPSERT_FIRMWARE = _upsert_station_status("firmware_status")
_NOTE_REFUSED = """
INSERT INTO refused_id_tag (id_tag, status, identity, action, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?5)
ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, identity = excluded.identity,
    action = excluded.action, last_seen = excluded.last_seen, count = count + 1
"""
#: idTagInfo statuses that L{note_refused} records.
REFUSED = frozenset({"Invalid", "Blocked", "Expired"})
_INSERT_DATA_TRANSFER = (
    "INSERT INTO data_transfer (identity, vendor_id, message_id, data, received)"
    " VALUES (?, ?, ?, ?, ?)"
)


def meter_rows(
    identity: str,
    connector_id: int,
    transaction_id: int | None,
    meter_values: list[dict[str, Any]],
    source: str,
) -> list[tuple[Any, ...]]:
    """The C{meter_value} rows (L{BULK_SQL} column order) of OCPP C{meterValue} items."""
    return [
        (
            identity,
            connector_id,
            transaction_id,
            mv["timestamp"],
            sv["value"],
            sv.get("context"),
            sv.get("format"),
            sv.get("measurand"),
            sv.get("phase"),
            sv.get("location"),
            sv.get("unit"),
            source,
        )
        for mv in meter_values
        for sv in mv["sampledValue"]
    ]


def id_tag_info(
    conn: sqlite3.Connection, central: CentralConfig, id_tag: str, now: str
) -> dict[str, Any]:
    """
    The idTagInfo for C{id_tag} under the authorization policy.

    @return: C{{"status", "expiryDate"?, "parentIdTag"?}}.
    """
    if central.authorization == "open":
        return {"status": ACCEPTED}
    row = conn.execute(_SELECT_ID_TAG, (id_tag,)).fetchone()
    if row is None:
        return {"status": "Invalid"}
    status, expiry, parent = row
    if status == ACCEPTED and expiry is not None and expiry < now:
        status = "Expired"
    info: dict[str, Any] = {"status": status}
    if expiry is not None:
        info["expiryDate"] = expiry
    if parent is not None:
        info["parentIdTag"] = parent
    return info


def note_refused(
    conn: sqlite3.Connection, id_tag: str, status: str, identity: str, action: str, now: str
) -> None:
    """
    Remember that C{id_tag} was refused (C{status} Invalid, Blocked or
    Expired), so that operators can list and accept it; other statuses are
    ignored.
    """
    if status in REFUSED:
        conn.execute(_NOTE_REFUSED, (id_tag, status, identity, action, now))


def boot_notification(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """BootNotification: record the boot data and decide the registration status."""
    if central.registration == "open":
        registered = 1
        status = ACCEPTED
    else:
        row = conn.execute(_SELECT_REGISTERED, (identity,)).fetchone()
        registered = row[0] if row is not None else 0
        status = ACCEPTED if registered else central.unknown_station
    get = p.get
    conn.execute(
        _UPSERT_BOOT,
        (
            identity,
            registered,
            status,
            p["chargePointVendor"],
            p["chargePointModel"],
            get("chargePointSerialNumber"),
            get("chargeBoxSerialNumber"),
            get("firmwareVersion"),
            get("iccid"),
            get("imsi"),
            get("meterType"),
            get("meterSerialNumber"),
            now,
        ),
    )
    interval = central.heartbeat_interval if status == ACCEPTED else central.retry_interval
    return {"status": status, "currentTime": now, "interval": interval}


def authorize(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """Authorize: the idTagInfo of the tag (a refusal is noted)."""
    info = id_tag_info(conn, central, p["idTag"], now)
    note_refused(conn, p["idTag"], info["status"], identity, "Authorize", now)
    return {"idTagInfo": info}


def start_transaction(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """
    StartTransaction: always a new transaction id, except for a replay of a
    transaction already started, which gets the same id and idTagInfo. A
    refused tag is noted (not again for a replay).

    A new transaction closes, as abandoned, any other still open on the same
    connector of the station (L{abandon_open_on_connector}), whatever its
    own idTagInfo. Under C{concurrent_tx = refuse} (with either
    authorization policy), an Accepted tag still in an Accepted transaction
    open on another connector or station gets ConcurrentTx.

    @return: the reply, and the transactions closed as abandoned (for the log).
    """
    id_tag = p["idTag"]
    connector_id = p["connectorId"]
    key = (identity, connector_id, id_tag, p["timestamp"], p["meterStart"])
    row = conn.execute(_SELECT_REPLAY, key).fetchone()
    if row is not None:
        info: dict[str, Any] = {"status": row[1]}
        if row[2] is not None:
            info["expiryDate"] = row[2]
        if row[3] is not None:
            info["parentIdTag"] = row[3]
        return {"idTagInfo": info, "transactionId": row[0]}, []
    info = id_tag_info(conn, central, id_tag, now)
    if (
        central.concurrent_tx == "refuse"
        and info["status"] == ACCEPTED
        and conn.execute(_SELECT_RUNNING_ELSEWHERE, (id_tag, identity, connector_id)).fetchone()
        is not None
    ):
        info["status"] = "ConcurrentTx"
    note_refused(conn, id_tag, info["status"], identity, "StartTransaction", now)
    reservation_id = p.get("reservationId")
    cursor = conn.execute(
        _INSERT_TXN,
        (
            *key[:3],
            key[4],
            key[3],
            reservation_id,
            info["status"],
            info.get("expiryDate"),
            info.get("parentIdTag"),
            now,
        ),
    )
    transaction_id = cursor.lastrowid
    assert transaction_id is not None
    if reservation_id is not None:
        conn.execute(_USE_RESERVATION, (transaction_id, reservation_id, identity))
    abandoned = abandon_open_on_connector(
        conn, identity, connector_id, transaction_id, p["timestamp"], now
    )
    return {"idTagInfo": info, "transactionId": transaction_id}, abandoned


def stop_transaction(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> tuple[dict[str, Any], str]:
    """
    StopTransaction: close the transaction and keep its transactionData.
    A replay of a stopped transaction changes nothing. A transaction closed
    as abandoned is completed: the station's stop data replace the estimate
    and it is no longer abandoned (its C{abandoned_by} is cleared).

    @return: the reply, and what happened: C{"stopped"}, C{"completed"} (an
        abandoned transaction), C{"replay"} or C{"unknown"} (no such id).
    """
    transaction_id = p["transactionId"]
    id_tag = p.get("idTag")
    reply: dict[str, Any] = {}
    if id_tag is not None:
        reply["idTagInfo"] = id_tag_info(conn, central, id_tag, now)
    row = conn.execute(_SELECT_TXN_STOP, (transaction_id,)).fetchone()
    if row is None:
        return reply, "unknown"
    if row[2] is not None and row[3] is None:
        return reply, "replay"
    conn.execute(
        _STOP_TXN,
        (p["meterStop"], p["timestamp"], p.get("reason"), id_tag, now, transaction_id),
    )
    data = p.get("transactionData")
    if data:
        conn.executemany(
            _INSERT_METER_VALUE,
            meter_rows(row[0], row[1], transaction_id, data, "StopTransaction"),
        )
    return reply, "stopped" if row[3] is None else "completed"


def diagnostics_status_notification(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """DiagnosticsStatusNotification: keep the latest status on the station."""
    conn.execute(_UPSERT_DIAGNOSTICS, (identity, p["status"], now))
    return {}


def firmware_status_notification(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """FirmwareStatusNotification: keep the latest status on the station."""
    conn.execute(_UPSERT_FIRMWARE, (identity, p["status"], now))
    return {}


def data_transfer(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """DataTransfer from a known vendor (the backend checks the vendor): keep the message."""
    conn.execute(
        _INSERT_DATA_TRANSFER,
        (identity, p["vendorId"], p.get("messageId"), p.get("data"), now),
    )
    return {"status": ACCEPTED}
