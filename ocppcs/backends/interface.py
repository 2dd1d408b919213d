# -*- test-case-name: tests.backends.test_embedded_backend -*-
"""
The one interface every backend (embedded, webhook, postgres) implements.

The connection layer validates frames and enforces the protocol; a backend
decides what a station-initiated CALL means and what to answer. Backends are
also L{IService}s: the central system starts them before listening and stops
them after the listeners are closed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from twisted.application.service import IService
from zope.interface import Attribute


class CallContext(NamedTuple):
    """
    Where a station-initiated CALL came from.

    @ivar identity: the station's chargeBoxIdentity.
    @ivar account: the optional account from C{/ocpp/{identity}/{account}}, or C{""}.
    @ivar unique_id: the CALL's uniqueId.
    @ivar action: the OCPP action name.
    @ivar received: when the central system received the CALL (seconds since the epoch).
    """

    identity: str
    account: str
    unique_id: str
    action: str
    received: float


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


class IBackend(IService):
    """
    Stores and decides for the central system. Every method that returns a
    L{Deferred} must not block the reactor thread.
    """

    name = Attribute("A short name for logs and metrics, e.g. 'embedded'.")

    def handle_call(ctx: CallContext, payload: dict[str, Any]) -> Any:
        """
        Answer a station-initiated CALL whose payload already passed schema
        validation.

        @return: a L{Deferred} firing with the CALLRESULT payload (a dict that
            must itself pass the action's response schema), or failing with an
            L{ocppcs.ocppj.errors.OcppError} to answer with that CALLERROR.
            It fires only once whatever the reply acknowledges is durably stored.
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

    def record_frame(record: FrameRecord) -> None:
        """
        Append one frame to the bounded frame log. Fire and forget: it must
        return at once and never raise.
        """
