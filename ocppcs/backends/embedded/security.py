# -*- test-case-name: tests.integration.test_security_extensions -*-
"""
Store jobs of the OCPP 1.6 security extensions (security whitepaper
edition 3): what stations report (security events, log upload and signed
firmware statuses) and the security profile a station was raised to.

The C{copy_*} jobs have the signature of L{ocppcs.backends.embedded.copies}
(the record's copy of a call another decider answered); the C{decide_*}
ones that of L{ocppcs.backends.embedded.policy} (the embedded decider).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ocppcs.backends.embedded.copies import upsert_station_status

_INSERT_EVENT = (
    "INSERT INTO security_event (identity, type, timestamp, tech_info, received)"
    " VALUES (?, ?, ?, ?, ?)"
)
_UPSERT_LOG = upsert_station_status("log_status")
_UPSERT_SIGNED_FIRMWARE = upsert_station_status("signed_firmware_status")


def copy_security_event(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """SecurityEventNotification: one more event of the station."""
    conn.execute(_INSERT_EVENT, (identity, p["type"], p["timestamp"], p.get("techInfo"), now))
    return "stored"


def copy_log_status(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """LogStatusNotification: the latest status (and its requestId) on the station."""
    conn.execute(_UPSERT_LOG, (identity, p["status"], now))
    conn.execute(
        "UPDATE station SET log_request_id = ? WHERE identity = ?", (p.get("requestId"), identity)
    )
    return "stored"


def copy_signed_firmware_status(
    conn: sqlite3.Connection, identity: str, p: dict[str, Any], reply: dict[str, Any], now: str
) -> str:
    """SignedFirmwareStatusNotification: the latest status (and its requestId) on the station."""
    conn.execute(_UPSERT_SIGNED_FIRMWARE, (identity, p["status"], now))
    conn.execute(
        "UPDATE station SET signed_firmware_request_id = ? WHERE identity = ?",
        (p.get("requestId"), identity),
    )
    return "stored"


def decide_security_event(
    conn: sqlite3.Connection, central: Any, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """SecurityEventNotification, decided: stored, answered with an empty payload."""
    copy_security_event(conn, identity, p, {}, now)
    return {}


def decide_log_status(
    conn: sqlite3.Connection, central: Any, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """LogStatusNotification, decided: stored, answered with an empty payload."""
    copy_log_status(conn, identity, p, {}, now)
    return {}


def decide_signed_firmware_status(
    conn: sqlite3.Connection, central: Any, identity: str, p: dict[str, Any], now: str
) -> dict[str, Any]:
    """SignedFirmwareStatusNotification, decided: stored, answered with an empty payload."""
    copy_signed_firmware_status(conn, identity, p, {}, now)
    return {}


def security_event_page(
    conn: sqlite3.Connection, identity: str, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """A station's security events, newest first: C{(total, rows)}."""
    total = conn.execute(
        "SELECT count(*) FROM security_event WHERE identity = ?", (identity,)
    ).fetchone()[0]
    rows = conn.execute(
        "SELECT type, timestamp, tech_info, received FROM security_event WHERE identity = ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (identity, limit, offset),
    ).fetchall()
    return int(total), [
        {"type": r[0], "timestamp": r[1], "techInfo": r[2], "received": r[3]} for r in rows
    ]


def station_profile(conn: sqlite3.Connection, identity: str) -> int | None:
    """The security profile the station was raised to, or C{None}."""
    row = conn.execute(
        "SELECT profile FROM station_profile WHERE identity = ?", (identity,)
    ).fetchone()
    return None if row is None else int(row[0])


def set_station_profile(conn: sqlite3.Connection, identity: str, profile: int, now: str) -> None:
    """Store the security profile the station was raised to."""
    conn.execute(
        "INSERT INTO station_profile (identity, profile, updated) VALUES (?, ?, ?)"
        " ON CONFLICT (identity) DO UPDATE SET profile = excluded.profile,"
        " updated = excluded.updated",
        (identity, profile, now),
    )
