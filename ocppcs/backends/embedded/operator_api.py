# -*- test-case-name: tests.backends.test_embedded_backend_stations -*-
"""
What the operator's side (REST API, UI, tests) asks of the embedded backend:
registering stations, managing id tags and reservations, and reading what
is stored. Mixed into L{ocppcs.backends.embedded.record.EmbeddedRecord},
which provides C{store} and the C{_accepted} cache. The REST API's queries
(L{IOperatorStore}) answer typed views (L{ocppcs.backends.views}); the
conveniences for tests and tools (C{get_transaction}, C{list_transactions})
answer them as dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from twisted.internet.defer import Deferred, fail
from zope.interface import implementer

from ocppcs.backends.embedded import admin, reads, security
from ocppcs.backends.embedded.store import SQLiteStore
from ocppcs.backends.interface import IOperatorStore
from ocppcs.config import CentralConfig


@implementer(IOperatorStore)
class OperatorApi:
    """The operator methods of the embedded backend; every one returns a L{Deferred}."""

    store: SQLiteStore
    _accepted: dict[str, bool]
    _central: Callable[[], CentralConfig]
    _now: Callable[[], str]

    @property
    def _open_registration(self) -> bool:
        """Whether C{[central] registration = open} is in force."""
        return self._central().registration == "open"

    _cache_accepted: Callable[[bool, str], bool]

    def _set_registered(self, identity: str, registered: int) -> Deferred:
        d = self.store.run(
            admin.set_registered, identity, registered, self._open_registration, self._now()
        )
        d.addCallback(self._cache_accepted, identity)
        return d.addCallback(lambda _: None)

    def register_station(self, identity: str) -> Deferred:
        """
        Register a station (for C{registration = known}); creates its row if needed.

        @return: a L{Deferred} firing with C{None}.
        """
        return self._set_registered(identity, 1)

    def unregister_station(self, identity: str) -> Deferred:
        """
        Unregister a station: with C{registration = known} it is no longer
        accepted and its next BootNotification gets C{unknown_station}.

        @return: a L{Deferred} firing with C{None}.
        """
        return self._set_registered(identity, 0)

    def set_station_key_hash(self, identity: str, key_hash: str | None) -> Deferred:
        """
        See L{IOperatorStore.set_station_key_hash}.

        @return: a L{Deferred} firing with C{None}.
        """
        return self.store.run(admin.set_station_key_hash, identity, key_hash, self._now())

    def set_station_profile(self, identity: str, profile: int) -> Deferred:
        """
        Store the security profile C{identity} was raised to (its
        ChangeConfiguration C{SecurityProfile} accepted).

        @return: a L{Deferred} firing with C{None}.
        """
        return self.store.run(security.set_station_profile, identity, profile, self._now())

    def security_event_page(self, identity: str, limit: int, offset: int) -> Deferred:
        """
        A station's SecurityEventNotifications, newest first.

        @return: a L{Deferred} firing with C{(total, [{"type", "timestamp",
            "techInfo", "received"}, ...])}.
        """
        return self.store.run(security.security_event_page, identity, limit, offset)

    def put_id_tag(
        self,
        id_tag: str,
        status: str,
        expiry_date: str | datetime | None = None,
        parent_id_tag: str | None = None,
    ) -> Deferred:
        """
        Create or replace an id tag (for C{authorization = list}).

        @param status: Accepted, Blocked, Expired or Invalid.
        @param expiry_date: ISO-8601 date-time with a time zone, or an aware
            L{datetime}, or C{None} for no expiry.
        @return: a L{Deferred} firing with C{None}, or failing with
            L{ValueError} for a bad status or date.
        """
        if status not in admin.ID_TAG_STATUSES:
            return fail(ValueError(f"unknown id tag status {status!r}"))
        try:
            expiry = None if expiry_date is None else admin.normalize_time(expiry_date)
        except ValueError as e:
            return fail(e)
        return self.store.run(admin.put_id_tag, id_tag, status, expiry, parent_id_tag)

    def delete_id_tag(self, id_tag: str) -> Deferred:
        """
        @return: a L{Deferred} firing with whether the tag existed.
        """
        return self.store.run(admin.delete_id_tag, id_tag)

    def list_id_tags(self) -> Deferred:
        """
        @return: a L{Deferred} firing with every id tag as a dict.
        """
        return self.store.run(admin.list_id_tags)

    def add_reservation(
        self,
        identity: str,
        connector_id: int,
        id_tag: str,
        expiry_date: str | datetime,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
        replace: bool = False,
    ) -> Deferred:
        """
        Record a reservation (status Reserved), e.g. once a station accepted
        a ReserveNow.

        @param reservation_id: the id to use, or C{None} to get a new one.
        @param replace: replace a reservation with the same id.
        @return: a L{Deferred} firing with the reservation id.
        """
        try:
            expiry = admin.normalize_time(expiry_date)
        except ValueError as e:
            return fail(e)
        return self.store.run(
            admin.add_reservation,
            reservation_id,
            identity,
            connector_id,
            id_tag,
            expiry,
            parent_id_tag,
            self._now(),
            replace,
        )

    def set_reservation_status(self, reservation_id: int, status: str) -> Deferred:
        """
        Mark a reservation Reserved, Used, Cancelled or Expired.

        @return: a L{Deferred} firing with whether it exists.
        """
        if status not in admin.RESERVATION_STATUSES:
            return fail(ValueError(f"unknown reservation status {status!r}"))
        return self.store.run(admin.set_reservation_status, reservation_id, status, self._now())

    def get_reservation(self, reservation_id: int) -> Deferred:
        """
        @return: a L{Deferred} firing with the reservation as a dict, or C{None}.
        """
        return self.store.run(admin.get_reservation, reservation_id)

    def get_station(self, identity: str) -> Deferred:
        """
        @return: a L{Deferred} firing with the station as a dict with a
            C{connectors} list, or C{None}.
        """
        return self.store.run(admin.get_station, identity)

    def list_stations(self) -> Deferred:
        """
        @return: a L{Deferred} firing with every station as a dict.
        """
        return self.store.run(admin.list_stations)

    def get_transaction(self, transaction_id: int) -> Deferred:
        """
        @return: a L{Deferred} firing with the transaction as a dict with a
            C{meter_values} list, or C{None}.
        """
        d = self.store.run(reads.transaction_detail, transaction_id)
        return d.addCallback(lambda view: None if view is None else asdict(view))

    def list_transactions(
        self,
        identity: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 1000,
    ) -> Deferred:
        """
        Transactions, newest first.

        @param date_from: only those started at or after this (ISO text, compared as text).
        @param date_to: only those started before this.
        @return: a L{Deferred} firing with a list of dicts.
        """
        d = self.store.run(reads.transaction_page, identity, date_from, date_to, limit, 0)
        return d.addCallback(lambda page: [_dict(view) for view in page[1]])

    def list_data_transfers(self, identity: str | None = None, limit: int = 100) -> Deferred:
        """
        @return: a L{Deferred} firing with the newest DataTransfer messages kept.
        """
        return self.store.run(admin.list_data_transfers, identity, limit)

    def list_frames(self, identity: str | None = None, limit: int = 100) -> Deferred:
        """
        @return: a L{Deferred} firing with the newest frame-log rows (newest first).
        """
        return self.store.run(admin.list_frames, identity, limit)

    # --- the REST API's queries (IOperatorStore) -----------------------------------------------

    def station_page(self, limit: int, offset: int) -> Deferred:
        """See L{IOperatorStore.station_page}."""
        return self.store.run(reads.station_page, limit, offset)

    def station_detail(self, identity: str) -> Deferred:
        """See L{IOperatorStore.station_detail}."""
        return self.store.run(reads.station_detail, identity)

    def remove_station(self, identity: str) -> Deferred:
        """See L{IOperatorStore.remove_station}."""
        d = self.store.run(reads.remove_station, identity, self._open_registration)

        def done(result: tuple[str | None, bool]) -> str | None:
            outcome, accepted = result
            self._accepted.pop(identity, None)
            if outcome is not None:
                self._cache_accepted(accepted, identity)
            return outcome

        return d.addCallback(done)

    def rejected_station_page(self, limit: int, offset: int) -> Deferred:
        """See L{IOperatorStore.rejected_station_page}."""
        return self.store.run(reads.rejected_station_page, limit, offset)

    def transaction_page(
        self,
        identity: str | None,
        date_from: str | None,
        date_to: str | None,
        limit: int,
        offset: int,
        id_tag: str | None = None,
    ) -> Deferred:
        """See L{IOperatorStore.transaction_page}."""
        return self.store.run(
            reads.transaction_page, identity, date_from, date_to, limit, offset, id_tag
        )

    def transaction_detail(self, transaction_id: int) -> Deferred:
        """See L{IOperatorStore.transaction_detail}."""
        return self.store.run(reads.transaction_detail, transaction_id)

    def reservation_page(
        self,
        identity: str | None,
        date_from: str | None,
        date_to: str | None,
        limit: int,
        offset: int,
    ) -> Deferred:
        """See L{IOperatorStore.reservation_page}."""
        return self.store.run(
            reads.reservation_page, identity, date_from, date_to, limit, offset, self._now()
        )

    def id_tag_page(self, status: str | None, limit: int, offset: int) -> Deferred:
        """See L{IOperatorStore.id_tag_page}."""
        return self.store.run(reads.id_tag_page, status, limit, offset)

    def get_id_tag(self, id_tag: str) -> Deferred:
        """See L{IOperatorStore.get_id_tag}."""
        return self.store.run(reads.get_id_tag, id_tag)

    def refused_id_tag_page(self, limit: int, offset: int) -> Deferred:
        """See L{IOperatorStore.refused_id_tag_page}."""
        return self.store.run(reads.refused_id_tag_page, limit, offset)

    def accept_refused_id_tag(self, id_tag: str) -> Deferred:
        """See L{IOperatorStore.accept_refused_id_tag}."""
        return self.store.run(reads.accept_refused_id_tag, id_tag)

    def frame_page(
        self,
        identity: str | None,
        action: str | None,
        since: float | None,
        before: int | None,
        limit: int,
        offset: int,
    ) -> Deferred:
        """See L{IOperatorStore.frame_page}."""
        return self.store.run(reads.frame_page, identity, action, since, before, limit, offset)

    def count_open_transactions(self) -> Deferred:
        """
        How many transactions have started and not stopped (for a gauge).

        @return: a L{Deferred} firing with an C{int}.
        """
        return self.store.run(reads.count_open_transactions)


def _dict(view: Any) -> dict[str, Any]:
    return asdict(view)
