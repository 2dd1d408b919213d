# -*- test-case-name: tests.backends.postgres.test_record -*-
"""
What the operators' REST API reads and changes in PostgreSQL
(L{IOperatorStore}), one C{ocpp.*} function per method. The functions
answer C{jsonb} whose keys are the field names of L{ocppcs.backends.views};
this module turns them into those views (pages as C{(total, views)}).
Mixed into L{ocppcs.backends.postgres.record.PostgresRecord}, which
provides C{database}.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, fail
from zope.interface import implementer

from ocppcs.backends.embedded.admin import ID_TAG_STATUSES, RESERVATION_STATUSES, normalize_time
from ocppcs.backends.interface import IOperatorStore
from ocppcs.backends.postgres.database import bad_argument
from ocppcs.backends.views import (
    ConnectorView,
    FrameView,
    IdTagView,
    MeterValueView,
    Page,
    RefusedIdTagView,
    ReservationView,
    StationView,
    TransactionView,
    from_row,
)

if TYPE_CHECKING:
    from ocppcs.backends.postgres.database import Database


def station(item: dict[str, Any]) -> StationView:
    """A L{StationView} of a station item (with its connectors, latest and open transactions)."""
    latest = item.get("latest")
    return from_row(
        StationView,
        item,
        connectors=[from_row(ConnectorView, c) for c in item.get("connectors") or ()],
        latest=None if latest is None else from_row(ConnectorView, latest),
        open_transactions=[transaction(t) for t in item.get("open_transactions") or ()],
    )


def transaction(item: dict[str, Any]) -> TransactionView:
    """A L{TransactionView} of a transaction item (with its meter values, if any)."""
    values = item.get("meter_values")
    return from_row(
        TransactionView,
        item,
        meter_values=None if values is None else [from_row(MeterValueView, v) for v in values],
    )


def frame(item: dict[str, Any]) -> FrameView:
    """A L{FrameView} of a frame item (C{ts} in seconds, also from ISO text)."""
    ts = item["ts"]
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    return from_row(FrameView, item, ts=float(ts))


def _page(make: Any) -> Any:
    def read(page: dict[str, Any] | None) -> Page:
        page = page or {}
        return int(page.get("total") or 0), [make(item) for item in page.get("items") or ()]

    return read


def _maybe(make: Any) -> Any:
    return lambda item: None if item is None else make(item)


def _time(value: str | datetime | None) -> str | None:
    return None if value is None else normalize_time(value)


@implementer(IOperatorStore)
class PostgresOperatorApi:
    """The REST API's queries in PostgreSQL; every method returns a L{Deferred}."""

    database: Database

    def station_page(self, limit: int, offset: int) -> Deferred[Page]:
        """See L{IOperatorStore.station_page}."""
        d = self.database.json("SELECT ocpp.ChargePointList(%s, %s)::text", (limit, offset))
        return d.addCallback(_page(station))

    def station_detail(self, identity: str) -> Deferred[StationView | None]:
        """See L{IOperatorStore.station_detail}."""
        d = self.database.json("SELECT ocpp.ChargePoint(%s)::text", (identity,))
        return d.addCallback(_maybe(station))

    def register_station(self, identity: str) -> Deferred[None]:
        """See L{IOperatorStore.register_station}."""
        d = self.database.query("SELECT ocpp.RegisterStation(%s)", (identity,))
        return d.addCallback(lambda _: None)

    def set_station_key_hash(self, identity: str, key_hash: str | None) -> Deferred[None]:
        """See L{IOperatorStore.set_station_key_hash} (C{ocpp.SetStationKeyHash})."""
        d = self.database.query("SELECT ocpp.SetStationKeyHash(%s, %s)", (identity, key_hash))
        return d.addCallback(lambda _: None)

    def set_station_profile(self, identity: str, profile: int) -> Deferred[None]:
        """
        Store the security profile C{identity} was raised to (its
        ChangeConfiguration C{SecurityProfile} accepted; C{ocpp.SetStationProfile}).
        """
        d = self.database.query("SELECT ocpp.SetStationProfile(%s, %s)", (identity, profile))
        return d.addCallback(lambda _: None)

    def security_event_page(
        self, identity: str, limit: int, offset: int
    ) -> Deferred[tuple[int, list[dict[str, Any]]]]:
        """
        A station's SecurityEventNotifications, newest first: C{(total, rows)},
        rows with C{type}, C{timestamp}, C{techInfo}, C{received} (C{ocpp.SecurityEventList}).
        """
        d = self.database.json(
            "SELECT ocpp.SecurityEventList(%s, %s, %s)::text", (identity, limit, offset)
        )
        return d.addCallback(_page(dict))

    def remove_station(self, identity: str) -> Deferred[str | None]:
        """See L{IOperatorStore.remove_station}."""
        return self.database.value("SELECT ocpp.RemoveStation(%s)", (identity,))

    def rejected_station_page(self, limit: int, offset: int) -> Deferred[Page]:
        """See L{IOperatorStore.rejected_station_page}."""
        d = self.database.json("SELECT ocpp.RejectedStationList(%s, %s)::text", (limit, offset))
        return d.addCallback(_page(station))

    def transaction_page(
        self,
        identity: str | None,
        date_from: str | None,
        date_to: str | None,
        limit: int,
        offset: int,
        id_tag: str | None = None,
    ) -> Deferred[Page]:
        """See L{IOperatorStore.transaction_page}."""
        d = self.database.json(
            "SELECT ocpp.TransactionList(%s, %s::timestamptz, %s::timestamptz, %s, %s, %s)::text",
            (identity, date_from, date_to, limit, offset, id_tag),
        )
        return d.addCallback(_page(transaction))

    def transaction_detail(self, transaction_id: int) -> Deferred[TransactionView | None]:
        """See L{IOperatorStore.transaction_detail}."""
        d = self.database.json("SELECT ocpp.Transaction(%s)::text", (transaction_id,))
        return d.addCallback(_maybe(transaction))

    def reservation_page(
        self,
        identity: str | None,
        date_from: str | None,
        date_to: str | None,
        limit: int,
        offset: int,
    ) -> Deferred[Page]:
        """See L{IOperatorStore.reservation_page}."""
        d = self.database.json(
            "SELECT ocpp.ReservationList(%s, %s::timestamptz, %s::timestamptz, %s, %s)::text",
            (identity, date_from, date_to, limit, offset),
        )
        return d.addCallback(_page(lambda item: from_row(ReservationView, item)))

    def add_reservation(
        self,
        identity: str,
        connector_id: int,
        id_tag: str,
        expiry_date: str | datetime,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
        replace: bool = False,
    ) -> Deferred[int]:
        """See L{IOperatorStore.add_reservation}."""
        try:
            expiry = _time(expiry_date)
        except ValueError as e:
            return fail(e)
        d = self.database.value(
            "SELECT ocpp.AddReservation(%s, %s, %s, %s::timestamptz, %s, %s, %s)",
            (identity, connector_id, id_tag, expiry, parent_id_tag, reservation_id, replace),
        )
        return d.addErrback(bad_argument)

    def set_reservation_status(self, reservation_id: int, status: str) -> Deferred[bool]:
        """See L{IOperatorStore.set_reservation_status}."""
        if status not in RESERVATION_STATUSES:
            return fail(ValueError(f"unknown reservation status {status!r}"))
        d = self.database.value(
            "SELECT ocpp.SetReservationStatus(%s, %s)", (reservation_id, status)
        )
        return d.addCallback(bool)

    def id_tag_page(self, status: str | None, limit: int, offset: int) -> Deferred[Page]:
        """See L{IOperatorStore.id_tag_page}."""
        d = self.database.json("SELECT ocpp.IdTagList(%s, %s, %s)::text", (status, limit, offset))
        return d.addCallback(_page(lambda item: from_row(IdTagView, item)))

    def get_id_tag(self, id_tag: str) -> Deferred[IdTagView | None]:
        """See L{IOperatorStore.get_id_tag}."""
        d = self.database.json("SELECT ocpp.IdTag(%s)::text", (id_tag,))
        return d.addCallback(_maybe(lambda item: from_row(IdTagView, item)))

    def put_id_tag(
        self,
        id_tag: str,
        status: str,
        expiry_date: str | datetime | None = None,
        parent_id_tag: str | None = None,
    ) -> Deferred[None]:
        """See L{IOperatorStore.put_id_tag}."""
        if status not in ID_TAG_STATUSES:
            return fail(ValueError(f"unknown id tag status {status!r}"))
        try:
            expiry = _time(expiry_date)
        except ValueError as e:
            return fail(e)
        d = self.database.query(
            "SELECT ocpp.PutIdTag(%s, %s, %s::timestamptz, %s)",
            (id_tag, status, expiry, parent_id_tag),
        )
        return d.addCallbacks(lambda _: None, bad_argument)

    def delete_id_tag(self, id_tag: str) -> Deferred[bool]:
        """See L{IOperatorStore.delete_id_tag}."""
        return self.database.value("SELECT ocpp.DeleteIdTag(%s)", (id_tag,)).addCallback(bool)

    def refused_id_tag_page(self, limit: int, offset: int) -> Deferred[Page]:
        """See L{IOperatorStore.refused_id_tag_page}."""
        d = self.database.json("SELECT ocpp.RefusedIdTagList(%s, %s)::text", (limit, offset))
        return d.addCallback(_page(lambda item: from_row(RefusedIdTagView, item)))

    def accept_refused_id_tag(self, id_tag: str) -> Deferred[IdTagView | None]:
        """See L{IOperatorStore.accept_refused_id_tag}."""
        d = self.database.json("SELECT ocpp.AcceptRefusedIdTag(%s)::text", (id_tag,))
        return d.addCallback(_maybe(lambda item: from_row(IdTagView, item)))

    def frame_page(
        self,
        identity: str | None,
        action: str | None,
        since: float | None,
        before: int | None,
        limit: int,
        offset: int,
    ) -> Deferred[list[FrameView]]:
        """See L{IOperatorStore.frame_page}."""
        d = self.database.json(
            "SELECT ocpp.FrameList(%s, %s, %s::double precision, %s::bigint, %s, %s)::text",
            (identity, action, since, before, limit, offset),
        )
        return d.addCallback(lambda items: [frame(item) for item in items or ()])

    def count_open_transactions(self) -> Deferred[int]:
        """See L{IOperatorStore.count_open_transactions}."""
        return self.database.value("SELECT ocpp.CountOpenTransactions()").addCallback(int)
