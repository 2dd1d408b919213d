# -*- test-case-name: tests.backends.test_embedded_backend_abandoned -*-
"""
Transactions that never got their StopTransaction. A station that loses
power, is reset or is replaced forgets its transaction; its next
StartTransaction on that connector is proof that the old one is over (a
connector runs one transaction at a time). So a
StartTransaction closes every transaction still open on the same connector
of the same station as I{abandoned}: C{abandoned_by} is the new
transaction's id, and the stop is estimated from the newest data known for
the old one:

  - C{meter_stop}: its latest stored reading of the energy register
    (C{Energy.Active.Import.Register}, the default measurand, in Wh or kWh,
    not per phase), else its C{meterStart};
  - C{stop_timestamp}: its latest meter value's timestamp, else the new
    transaction's start.

C{stop_reason} and C{stop_id_tag} stay empty: the station never said them.
A late StopTransaction still completes it
(L{ocppcs.backends.embedded.policy.stop_transaction}): the station's data
replace the estimate and C{abandoned_by} is cleared, so an abandoned
transaction is always one whose stop is an estimate.

These run inside the StartTransaction's store job (same SQL transaction).
"""

from __future__ import annotations

import sqlite3
from typing import Any

_SELECT_OPEN_ON_CONNECTOR = (
    "SELECT id, id_tag, meter_start FROM txn WHERE identity = ? AND connector_id = ?"
    " AND stop_timestamp IS NULL AND id <> ? ORDER BY id"
)
#: Readings of the energy register, newest stored first.
_SELECT_ENERGY = (
    "SELECT value, unit FROM meter_value WHERE transaction_id = ?"
    " AND (measurand IS NULL OR measurand = 'Energy.Active.Import.Register')"
    " AND phase IS NULL AND (format IS NULL OR format = 'Raw') ORDER BY id DESC"
)
_SELECT_LATEST_TIME = (
    "SELECT timestamp FROM meter_value WHERE transaction_id = ?"
    " ORDER BY julianday(timestamp) DESC, id DESC LIMIT 1"
)
_ABANDON = (
    "UPDATE txn SET meter_stop = ?, stop_timestamp = ?, abandoned_by = ?, updated = ? WHERE id = ?"
)

#: Energy units (OCPP 1.6 UnitOfMeasure) -> Wh; no unit means Wh.
_WH = {None: 1.0, "Wh": 1.0, "kWh": 1000.0}


def latest_energy(conn: sqlite3.Connection, transaction_id: int) -> int | None:
    """The newest stored energy register reading of a transaction in Wh, or C{None}."""
    for value, unit in conn.execute(_SELECT_ENERGY, (transaction_id,)):
        factor = _WH.get(unit)
        if factor is None:
            continue
        try:
            return round(float(value) * factor)
        except (ValueError, OverflowError):
            continue
    return None


def abandon_open_on_connector(
    conn: sqlite3.Connection,
    identity: str,
    connector_id: int,
    new_id: int,
    new_start: str,
    now: str,
) -> list[dict[str, Any]]:
    """
    Close, as abandoned by transaction C{new_id} (which started at
    C{new_start}), every other transaction still open on C{connector_id} of
    C{identity}.

    @return: what was closed, for the log: C{transaction_id}, C{id_tag},
        C{meter_stop}, C{stop_timestamp} of each.
    """
    closed = []
    open_ones = conn.execute(_SELECT_OPEN_ON_CONNECTOR, (identity, connector_id, new_id))
    for transaction_id, id_tag, meter_start in open_ones.fetchall():
        meter_stop = latest_energy(conn, transaction_id)
        if meter_stop is None:
            meter_stop = meter_start
        latest = conn.execute(_SELECT_LATEST_TIME, (transaction_id,)).fetchone()
        stop_timestamp = latest[0] if latest is not None else new_start
        conn.execute(_ABANDON, (meter_stop, stop_timestamp, new_id, now, transaction_id))
        closed.append(
            {
                "transaction_id": transaction_id,
                "id_tag": id_tag,
                "meter_stop": meter_stop,
                "stop_timestamp": stop_timestamp,
            }
        )
    return closed
