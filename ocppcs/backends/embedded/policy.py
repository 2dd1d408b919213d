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

from ocppcs.backends.embedded import copies
from ocppcs.backends.embedded.abandon import abandon_open_on_connector
from ocppcs.backends.embedded.copies import (
    REFUSED,
    SELECT_REPLAY,
    insert_transaction,
    meter_rows,
    note_refused,
    record_stop,
    upsert_boot,
)
from ocppcs.config import CentralConfig

__all__ = ["REFUSED", "meter_rows", "note_refused"]

ACCEPTED = "Accepted"

_SELECT_REGISTERED = "SELECT registered FROM station WHERE identity = ?"
_SELECT_ID_TAG = "SELECT status, expiry_date, parent_id_tag FROM id_tag WHERE id_tag = ?"
#: An Accepted transaction of the tag still open elsewhere than on (identity, connector).
_SELECT_RUNNING_ELSEWHERE = (
    "SELECT 1 FROM txn WHERE id_tag = ? AND stop_timestamp IS NULL"
    " AND id_tag_status = 'Accepted' AND NOT (identity = ? AND connector_id = ?) LIMIT 1"
)


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
    upsert_boot(conn, identity, p, registered, status, now)
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
    row = conn.execute(SELECT_REPLAY, key).fetchone()
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
    transaction_id = insert_transaction(conn, None, identity, p, info, now)
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
    id_tag = p.get("idTag")
    reply: dict[str, Any] = {}
    if id_tag is not None:
        reply["idTagInfo"] = id_tag_info(conn, central, id_tag, now)
    return reply, record_stop(conn, identity, p, now)


def diagnostics_status_notification(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """DiagnosticsStatusNotification: keep the latest status on the station."""
    copies.copy_diagnostics_status(conn, identity, p, {}, now)
    return {}


def firmware_status_notification(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """FirmwareStatusNotification: keep the latest status on the station."""
    copies.copy_firmware_status(conn, identity, p, {}, now)
    return {}


def data_transfer(
    conn: sqlite3.Connection, central: CentralConfig, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """DataTransfer from a known vendor (the decider checks the vendor): keep the message."""
    copies.copy_data_transfer(conn, identity, p, {}, now)
    return {"status": ACCEPTED}
