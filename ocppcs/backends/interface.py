# -*- test-case-name: tests.backends.contract -*-
"""
The seam between the central system and what stores and decides for it.

A deployment has one B{record} (L{IRecord}) and one B{decider}
(L{IDecider}). The connection layer validates frames and enforces the
protocol; the decider answers each station-initiated business CALL (the
embedded C{[central]} rules, or the operator's webhook); the record keeps
what every deployment keeps: stations, their connections, boot data,
connector statuses, the frame log, the onboarding lists, and a copy of each
business call with the answer the decider gave, so that transactions, meter
values, reservations and refused id tags stay listable whoever decided.
L{IOperatorStore} is what the REST API reads from the record, as typed views
(L{ocppcs.backends.views}).

Both are L{IService}s: the central system starts the record, then the
decider, before listening, and stops them in the reverse order after the
listeners are closed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from twisted.application.service import IService
from zope.interface import Attribute, Interface


class CallContext(NamedTuple):
    """
    Where a station-initiated CALL came from.

    @ivar identity: the station's chargeBoxIdentity.
    @ivar account: the optional account from C{/ocpp/{identity}/{account}}, or C{""}.
    @ivar unique_id: the CALL's uniqueId.
    @ivar action: the OCPP action name.
    @ivar received: when the central system received the CALL (seconds since the epoch).
    @ivar version: the OCPP version the station speaks: C{"1.6"} or C{"1.5"}
        (the payload is in the 1.6 JSON shape either way).
    @ivar transport: C{"json"} (OCPP-J, WebSocket) or C{"soap"} (OCPP-S).
    """

    identity: str
    account: str
    unique_id: str
    action: str
    received: float
    version: str = "1.6"
    transport: str = "json"


class BackendStartError(Exception):
    """
    A record or decider cannot start, for a reason its message says in one
    line (the central system logs that line, no traceback, and stops).
    """


class FrameRecord(NamedTuple):
    """
    One OCPP frame in or out, for the bounded frame log.

    @ivar ts: when it was sent or received (seconds since the epoch).
    @ivar identity: the station.
    @ivar direction: C{"in"} (from the station) or C{"out"} (to the station).
    @ivar message_type: 2, 3 or 4 (CALL, CALLRESULT, CALLERROR), or 0 when unparseable.
    @ivar unique_id: the uniqueId, or C{"-1"}.
    @ivar action: the action (for replies: the action of the CALL answered), or C{""}.
    @ivar raw: the frame as sent on the wire.
    """

    ts: float
    identity: str
    direction: str
    message_type: int
    unique_id: str
    action: str
    raw: bytes


class IDecider(IService):
    """
    Answers the station-initiated business calls. Every method that returns
    a L{Deferred} must not block the reactor thread.
    """

    name = Attribute("A short name for logs and metrics, e.g. 'embedded' or 'webhook'.")
    keeps_record = Attribute(
        "True when deciding already writes the record's copy of the call (the"
        " embedded rules decide and record in one store transaction); False when"
        " the central system must hand the record a copy (L{IRecord.record_call})."
    )
    local_rules = Attribute(
        "True when the decisions follow what the operator keeps in the record (id"
        " tags, station registrations); False when they are made elsewhere, so the"
        " REST API refuses to change those (409)."
    )

    def decide(ctx: CallContext, payload: dict[str, Any]) -> Any:
        """
        Answer a station-initiated CALL whose payload already passed schema
        validation.

        @return: a L{Deferred} firing with the CALLRESULT payload (a dict that
            passes the action's response schema), or failing with an
            L{ocppcs.ocppj.errors.OcppError} to answer with that CALLERROR.
            It fires only once whatever the reply acknowledges is durably
            stored by the system of record (this decider's store, or the
            webhook's receiver).
        """


class IRecord(IService):
    """
    What every deployment keeps about its stations. Every method that returns
    a L{Deferred} must not block the reactor thread.
    """

    name = Attribute("A short name for logs and metrics, e.g. 'embedded'.")

    def record_call(ctx: CallContext, payload: dict[str, Any], reply: dict[str, Any]) -> Any:
        """
        Keep a copy of a business call answered by a decider that does not
        keep the record itself: the station's payload as reported, with the
        decider's C{reply} (its transactionId, idTagInfo, registration status).
        A copy that conflicts with what is kept (a transactionId reused for
        another transaction) changes nothing and fails.

        @return: a L{Deferred} firing with C{None} once stored, or failing.
        """

    def is_accepted(identity: str) -> Any:
        """
        Whether C{identity} is registered and its registration is Accepted, so
        that it may send other calls than BootNotification on a new connection
        without booting first (stations don't reboot when the central system
        restarts).

        @return: a L{Deferred} firing with a C{bool}.
        """

    def station_connected(identity: str, account: str, address: str) -> Any:
        """
        Note that C{identity} connected from C{address}.

        @return: a L{Deferred} firing with C{None}.
        """

    def station_disconnected(identity: str) -> Any:
        """
        Note that C{identity}'s connection closed.

        @return: a L{Deferred} firing with C{None}.
        """

    def get_station(identity: str) -> Any:
        """
        What is stored about C{identity}.

        @return: a L{Deferred} firing with a dict (boot data, status, connectors,
            ...) or C{None} when the station is unknown.
        """

    def station_key_hash(identity: str) -> Any:
        """
        The hash of C{identity}'s AuthorizationKey (security profiles 1 and
        2, L{ocppcs.stationauth}): the text line L{set_station_key_hash
        <IOperatorStore.set_station_key_hash>} stored, as it was stored.

        @return: a L{Deferred} firing with a C{str}, or C{None} when the
            station has no key.
        """

    def record_frame(record: FrameRecord) -> None:
        """
        Append one frame to the bounded frame log. Fire and forget: it must
        return at once and never raise.
        """


class IOperatorStore(Interface):
    """
    What the operators' REST API reads and changes in the record. A record
    without it still serves stations; the API then answers 501 for these
    routes.

    Every method returns a L{Deferred}. What it reads comes as the views of
    L{ocppcs.backends.views}; times are ISO-8601 text, except
    L{FrameView.ts<ocppcs.backends.views.FrameView>} (seconds since the
    epoch). A page is C{(total, views)}.
    """

    def station_page(limit: int, offset: int) -> Any:
        """
        L{StationView}s by identity, each with its newest connector status as
        C{latest} (C{None} when it never sent one) and C{connectors}: every
        connector's last status, by connector id.

        @return: a L{Deferred} firing with a page.
        """

    def station_detail(identity: str) -> Any:
        """
        A L{StationView} with its C{connectors} and C{open_transactions}
        (as in L{transaction_page}).

        @return: a L{Deferred} firing with the view, or C{None} when unknown.
        """

    def register_station(identity: str) -> Any:
        """
        Register a station (the C{known} registration policy accepts it at
        its next BootNotification); creates it if needed.

        @return: a L{Deferred} firing with C{None}.
        """

    def remove_station(identity: str) -> Any:
        """
        Undo a registration: a station that never connected, booted or charged
        is forgotten; any other is unregistered and keeps its history.

        @return: a L{Deferred} firing with C{"removed"}, C{"unregistered"} or
            C{None} when the station is unknown.
        """

    def set_station_key_hash(identity: str, key_hash: str | None) -> Any:
        """
        Store the hash line of C{identity}'s AuthorizationKey (made by
        L{ocppcs.stationauth.hash_station_key}; kept as opaque text, at most
        200 characters), replacing any; C{None} removes it. The station need
        not be known yet.

        @return: a L{Deferred} firing with C{None}.
        """

    def rejected_station_page(limit: int, offset: int) -> Any:
        """
        Stations whose last BootNotification was answered Rejected or Pending
        and that are not registered, most recent boot first.

        @return: a L{Deferred} firing with a page.
        """

    def transaction_page(
        identity: str | None,
        date_from: str | None,
        date_to: str | None,
        limit: int,
        offset: int,
        id_tag: str | None = None,
    ) -> Any:
        """
        Transactions, newest first, optionally of one station and started in
        C{[date_from, date_to)} (ISO-8601 UTC text), and of one C{id_tag}, as
        L{TransactionView}s with C{serial_number} (the station's
        chargePointSerialNumber).

        @return: a L{Deferred} firing with a page.
        """

    def transaction_detail(transaction_id: int) -> Any:
        """
        A transaction (as in L{transaction_page}) with its C{meter_values}.

        @return: a L{Deferred} firing with the view, or C{None} when unknown.
        """

    def reservation_page(
        identity: str | None, date_from: str | None, date_to: str | None, limit: int, offset: int
    ) -> Any:
        """
        Reservations, newest first, optionally of one station and made in
        C{[date_from, date_to)}; with C{serial_number} and C{date_stop}.

        @return: a L{Deferred} firing with a page.
        """

    def add_reservation(
        identity: str,
        connector_id: int,
        id_tag: str,
        expiry_date: str,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
        replace: bool = False,
    ) -> Any:
        """
        Record a reservation (status Reserved).

        @return: a L{Deferred} firing with its id.
        """

    def set_reservation_status(reservation_id: int, status: str) -> Any:
        """
        Mark a reservation Reserved, Used, Cancelled or Expired.

        @return: a L{Deferred} firing with whether it exists.
        """

    def id_tag_page(status: str | None, limit: int, offset: int) -> Any:
        """
        Id tags by tag, optionally of one status.

        @return: a L{Deferred} firing with a page.
        """

    def get_id_tag(id_tag: str) -> Any:
        """
        @return: a L{Deferred} firing with the tag, or C{None}.
        """

    def put_id_tag(
        id_tag: str, status: str, expiry_date: str | None = None, parent_id_tag: str | None = None
    ) -> Any:
        """
        Create or replace an id tag; an Accepted one leaves the refused list.

        @return: a L{Deferred} firing with C{None}, or failing with
            L{ValueError} for a bad status or date.
        """

    def delete_id_tag(id_tag: str) -> Any:
        """
        @return: a L{Deferred} firing with whether the tag existed.
        """

    def refused_id_tag_page(limit: int, offset: int) -> Any:
        """
        Id tags answered Invalid, Blocked or Expired to an Authorize or a
        StartTransaction, most recently refused first: C{id_tag}, C{status},
        C{identity} and C{action} of the last refusal, C{first_seen},
        C{last_seen}, C{count}.

        @return: a L{Deferred} firing with a page.
        """

    def accept_refused_id_tag(id_tag: str) -> Any:
        """
        Make a refused tag Accepted and take it off the refused list.

        @return: a L{Deferred} firing with the tag, or C{None} when it was not
            refused.
        """

    def frame_page(
        identity: str | None,
        action: str | None,
        since: float | None,
        before: int | None,
        limit: int,
        offset: int,
    ) -> Any:
        """
        L{FrameView}s, newest first, filtered by station, action, time
        (seconds since the epoch) and id (below C{before}).

        @return: a L{Deferred} firing with a list (not a page).
        """

    def count_open_transactions() -> Any:
        """
        @return: a L{Deferred} firing with how many transactions are open.
        """
