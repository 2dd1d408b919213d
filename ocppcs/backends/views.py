# -*- test-case-name: tests.web.test_api_stations,tests.web.test_api_records -*-
"""
What the record (L{ocppcs.backends.interface.IOperatorStore}) answers the
operators' side: typed views of stations, connectors, transactions, meter
values, reservations, id tags, refusals and frames, independent of how a
store keeps them. L{ocppcs.web.api_views} turns them into the REST API's JSON.

Times are ISO-8601 text as received or stored, except L{FrameView.ts}
(seconds since the epoch). The views are plain dataclasses, so that they
pickle (the embedded store builds them in its worker process).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


@cache
def _field_names(cls: Any) -> tuple[str, ...]:
    """The names of the dataclass C{cls}'s fields that its constructor takes."""
    return tuple(f.name for f in fields(cls) if f.init)


def from_row(cls: type[T], row: Any, **extra: Any) -> T:
    """
    A view of C{cls} from a mapping with (at least) its scalar fields'
    names; names it lacks take their defaults, C{extra} overrides.
    """
    names = _field_names(cast(Hashable, cls))
    values = {name: row[name] for name in names if name in row.keys()}
    values.update(extra)
    return cls(**values)


@dataclass(slots=True)
class ConnectorView:
    """A connector's last StatusNotification, and when it arrived (C{updated})."""

    identity: str
    connector_id: int
    status: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: str | None = None
    updated: str | None = None


@dataclass(slots=True)
class MeterValueView:
    """One sampled value, from a MeterValues or a StopTransaction's transactionData."""

    identity: str
    connector_id: int
    transaction_id: int | None
    timestamp: str
    value: str
    source: str
    context: str | None = None
    format: str | None = None
    measurand: str | None = None
    phase: str | None = None
    location: str | None = None
    unit: str | None = None
    id: int | None = None


@dataclass(slots=True)
class TransactionView:
    """
    A transaction: its start, its stop once known, the idTagInfo status it
    was answered with, and C{abandoned_by} (the transaction that closed it
    as abandoned, its stop then being an estimate).
    """

    id: int
    identity: str
    connector_id: int
    id_tag: str
    meter_start: int
    start_timestamp: str
    id_tag_status: str | None = None
    id_tag_expiry: str | None = None
    id_tag_parent: str | None = None
    reservation_id: int | None = None
    meter_stop: int | None = None
    stop_timestamp: str | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    abandoned_by: int | None = None
    created: str | None = None
    updated: str | None = None
    serial_number: str | None = None
    meter_values: list[MeterValueView] | None = None


@dataclass(slots=True)
class StationView:
    """
    A station as the record keeps it: registration, its last boot's status
    and data, its connection, statuses and connectors. C{latest} is its
    newest connector status; C{open_transactions} is filled only for one
    station's detail. C{node} is the cluster node holding its connection
    (PostgreSQL record; C{None} when offline or with the embedded store).
    """

    identity: str
    registered: bool = False
    boot_status: str | None = None
    vendor: str | None = None
    model: str | None = None
    charge_point_serial: str | None = None
    charge_box_serial: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial: str | None = None
    last_boot: str | None = None
    last_seen: str | None = None
    connected: bool = False
    last_address: str | None = None
    account: str | None = None
    diagnostics_status: str | None = None
    diagnostics_status_time: str | None = None
    firmware_status: str | None = None
    firmware_status_time: str | None = None
    log_status: str | None = None
    log_status_time: str | None = None
    log_request_id: int | None = None
    signed_firmware_status: str | None = None
    signed_firmware_status_time: str | None = None
    signed_firmware_request_id: int | None = None
    created: str | None = None
    node: str | None = None
    connectors: list[ConnectorView] = field(default_factory=list)
    latest: ConnectorView | None = None
    open_transactions: list[TransactionView] = field(default_factory=list)


@dataclass(slots=True)
class ReservationView:
    """A reservation; C{date_stop} is when it ended (or the transaction using it started)."""

    id: int
    identity: str
    connector_id: int
    id_tag: str
    expiry_date: str
    status: str
    parent_id_tag: str | None = None
    transaction_id: int | None = None
    created: str | None = None
    ended: str | None = None
    serial_number: str | None = None
    date_stop: str | None = None


@dataclass(slots=True)
class IdTagView:
    """An id tag of the operator's list."""

    id_tag: str
    status: str
    expiry_date: str | None = None
    parent_id_tag: str | None = None


@dataclass(slots=True)
class RefusedIdTagView:
    """An id tag answered Invalid, Blocked or Expired: its last refusal and how many."""

    id_tag: str
    status: str
    identity: str
    action: str
    first_seen: str
    last_seen: str
    count: int


@dataclass(slots=True)
class FrameView:
    """A frame-log row: C{raw} is the frame as sent on the wire."""

    id: int
    ts: float
    identity: str
    direction: str
    message_type: int
    unique_id: str
    action: str
    raw: str


#: A page: the total (when counted) and one page of views.
Page = tuple[int, list[Any]]
