# -*- test-case-name: tests.backends.test_embedded_copies -*-
"""
The record's copy of a business call answered by a decider that keeps no
record itself (the webhook): store jobs writing what the station reported
with what the decider answered (its transactionId, idTagInfo, registration
status). They run in the store worker, like the jobs of
L{ocppcs.backends.embedded.policy}, which shares their writes
(L{insert_transaction}, L{record_stop}).

A copy never overwrites what is kept with something else: a transactionId
the receiver reuses for another transaction, or a new id for a transaction
already kept, raises L{RecordConflict} and changes nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ocppcs.backends.embedded.errors import RecordConflict

_INSERT_TXN = """
INSERT INTO txn (id, identity, connector_id, id_tag, meter_start, start_timestamp,
    reservation_id, id_tag_status, id_tag_expiry, id_tag_parent, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?11, ?11)
"""
_USE_RESERVATION = (
    "UPDATE reservation SET status = 'Used', transaction_id = ? WHERE id = ? AND identity = ?"
)
SELECT_REPLAY = (
    "SELECT id, id_tag_status, id_tag_expiry, id_tag_parent FROM txn WHERE identity = ?"
    " AND connector_id = ? AND id_tag = ? AND start_timestamp = ? AND meter_start = ?"
)
_SELECT_TXN_KEY = (
    "SELECT identity, connector_id, id_tag, start_timestamp, meter_start FROM txn WHERE id = ?"
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


def status_row(identity: str, p: dict[str, Any], now: str) -> tuple[Any, ...]:
    """The C{connector} bulk row of a StatusNotification payload."""
    get = p.get
    return (
        identity,
        p["connectorId"],
        p["status"],
        p["errorCode"],
        get("info"),
        get("vendorId"),
        get("vendorErrorCode"),
        get("timestamp"),
        now,
    )


def upsert_boot(
    conn: sqlite3.Connection,
    identity: str,
    p: dict[str, Any],
    registered: int,
    status: str,
    now: str,
) -> None:
    """Keep a BootNotification's data and the registration status answered."""
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


def note_refused(
    conn: sqlite3.Connection, id_tag: str, status: str, identity: str, action: str, now: str
) -> None:
    """
    Remember that C{id_tag} was refused (C{status} Invalid, Blocked or
    Expired), so that operators can list it; other statuses are ignored.
    """
    if status in REFUSED:
        conn.execute(_NOTE_REFUSED, (id_tag, status, identity, action, now))


def insert_transaction(
    conn: sqlite3.Connection,
    transaction_id: int | None,
    identity: str,
    p: dict[str, Any],
    info: dict[str, Any],
    now: str,
) -> int:
    """
    Keep a started transaction with the idTagInfo answered (and mark its
    reservation Used).

    @param transaction_id: its id, or C{None} for a new one.
    @return: its id.
    """
    reservation_id = p.get("reservationId")
    cursor = conn.execute(
        _INSERT_TXN,
        (
            transaction_id,
            identity,
            p["connectorId"],
            p["idTag"],
            p["meterStart"],
            p["timestamp"],
            reservation_id,
            info["status"],
            info.get("expiryDate"),
            info.get("parentIdTag"),
            now,
        ),
    )
    new_id = cursor.lastrowid
    assert new_id is not None
    if reservation_id is not None:
        conn.execute(_USE_RESERVATION, (new_id, reservation_id, identity))
    return new_id


def record_stop(conn: sqlite3.Connection, identity: str, p: dict[str, Any], now: str) -> str:
    """
    Close the transaction of a StopTransaction and keep its
    transactionData. A replay of a stopped transaction changes nothing. A
    transaction closed as abandoned is completed (its C{abandoned_by} cleared).

    @return: C{"stopped"}, C{"completed"} (an abandoned transaction),
        C{"replay"} or C{"unknown"} (no such id: nothing is kept).
    """
    transaction_id = p["transactionId"]
    row = conn.execute(_SELECT_TXN_STOP, (transaction_id,)).fetchone()
    if row is None:
        return "unknown"
    if row[2] is not None and row[3] is None:
        return "replay"
    id_tag = p.get("idTag")
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
    return "stopped" if row[3] is None else "completed"


# --- the copies' jobs (C{fn(conn, identity, payload, reply, now)}) ----------------------------


def copy_boot(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """BootNotification: the boot data; registered when the decider Accepted it."""
    status = reply["status"]
    upsert_boot(conn, identity, p, int(status == "Accepted"), status, now)
    return "stored"


def copy_authorize(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """Authorize: a refused tag goes on the refused list."""
    note_refused(conn, p["idTag"], reply["idTagInfo"]["status"], identity, "Authorize", now)
    return "stored"


def copy_start(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """
    StartTransaction: the transaction with the decider's transactionId and
    idTagInfo. The same transaction again with the same id is a replay.

    @raise RecordConflict: the id is another transaction's, or the
        transaction is kept under another id.
    """
    transaction_id = reply["transactionId"]
    info = reply["idTagInfo"]
    key = (identity, p["connectorId"], p["idTag"], p["timestamp"], p["meterStart"])
    row = conn.execute(_SELECT_TXN_KEY, (transaction_id,)).fetchone()
    if row is not None:
        if tuple(row) == key:
            return "replay"
        raise RecordConflict(
            f"transactionId {transaction_id} is already the transaction of {row[0]}"
            f" connector {row[1]} started at {row[3]}: this one is not kept"
        )
    same = conn.execute(SELECT_REPLAY, key).fetchone()
    if same is not None:
        raise RecordConflict(
            f"this transaction is kept as {same[0]}; the decider answered {transaction_id}"
        )
    insert_transaction(conn, transaction_id, identity, p, info, now)
    note_refused(conn, p["idTag"], info["status"], identity, "StartTransaction", now)
    return "stored"


def copy_stop(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """StopTransaction: the stop data (see L{record_stop})."""
    return record_stop(conn, identity, p, now)


def copy_data_transfer(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """DataTransfer: the message, whatever the decider answered."""
    conn.execute(
        _INSERT_DATA_TRANSFER,
        (identity, p["vendorId"], p.get("messageId"), p.get("data"), now),
    )
    return "stored"


def upsert_station_status(column: str) -> str:
    """SQL keeping the latest C{column} (and C{column}_time) of a station, creating it if new."""
    return (
        f"INSERT INTO station (identity, {column}, {column}_time, created) VALUES (?1, ?2, ?3, ?3)"
        f" ON CONFLICT (identity) DO UPDATE SET {column} = excluded.{column},"
        f" {column}_time = excluded.{column}_time"
    )


_UPSERT_DIAGNOSTICS = upsert_station_status("diagnostics_status")
_UPSERT_FIRMWARE = upsert_station_status("firmware_status")


def copy_diagnostics_status(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """DiagnosticsStatusNotification: the latest status on the station."""
    conn.execute(_UPSERT_DIAGNOSTICS, (identity, p["status"], now))
    return "stored"


def copy_firmware_status(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """FirmwareStatusNotification: the latest status on the station."""
    conn.execute(_UPSERT_FIRMWARE, (identity, p["status"], now))
    return "stored"
