# -*- test-case-name: tests.integration.test_station_calls -*-
"""
The registry of the stations connected to this process (L{StationChannel}s:
JSON over WebSocket or SOAP), and how to call one.

    registry.call(identity, action, payload, timeout) -> Deferred[reply payload]

REST, SOAP and the UI call stations through L{ocppcs.followup.Commands},
which finds them with L{ocppcs.locator.StationLocator} (this process,
another node, nowhere); for this process it comes here. Failures are
L{ocppcs.callerrors} exceptions:
L{UnknownStation}, L{StationOffline}, L{InvalidCommand}, L{StationCallError},
L{InvalidReply}, L{CallTimeout}, L{StationDisconnected}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger

from ocppcs.backends.interface import IRecord
from ocppcs.callerrors import StationOffline, UnknownStation
from ocppcs.channel import StationChannel

#: Sees the outcome of each call sent to a connected station: called with the
#: reply payload or the L{Failure} and the action; must return its first argument.
CallObserver = Callable[[Any, str], Any]
#: Told C{(session, online)} when a station connects (C{True}) or disconnects.
ConnectionObserver = Callable[[StationChannel, bool], None]


class StationRegistry:
    """
    Identity -> the live channel of that station (at most one).

    @param backend: used to tell an unknown station from an offline one.
    @ivar call_observer: if set, added to the Deferred of every call made to a
        connected station (metrics).
    """

    _log = Logger()
    call_observer: CallObserver | None = None

    def __init__(self, backend: IRecord) -> None:
        self._backend = backend
        self._sessions: dict[str, StationChannel] = {}
        #: Set by L{close_all}: the central system is shutting down.
        self.closed = False
        #: Told of every connection and disconnection (the web UI's event feed).
        self.connection_observers: list[ConnectionObserver] = []

    def _tell(self, session: StationChannel, online: bool) -> None:
        for observer in self.connection_observers:
            try:
                observer(session, online)
            except Exception:
                self._log.failure("Connection observer {observer!r} failed", observer=observer)

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, identity: object) -> bool:
        return identity in self._sessions

    def identities(self) -> list[str]:
        """The identities of the connected stations."""
        return list(self._sessions)

    def get(self, identity: str) -> StationChannel | None:
        """The live channel of C{identity}, if connected."""
        return self._sessions.get(identity)

    def attach(self, session: StationChannel) -> None:
        """
        Make C{session} the station's live channel. A previous connection with
        the same identity is closed (L{StationChannel.close}) and its pending
        calls fail at once.
        """
        old = self._sessions.get(session.identity)
        self._sessions[session.identity] = session
        if old is not None:
            self._log.info(
                "{identity} reconnected from {address}; closing its previous connection",
                identity=session.identity,
                address=session.address,
            )
            old.close("replaced by a new connection")
        self._tell(session, True)

    @staticmethod
    def _triggered(
        reply: dict[str, Any], session: StationChannel, payload: dict[str, Any]
    ) -> dict[str, Any]:
        # A station not (yet) Accepted may still send a message the central
        # system asked for with TriggerMessage (OCPP 1.6, 4.2: Pending).
        if reply.get("status") == "Accepted":
            session.triggered.add(payload["requestedMessage"])
        return reply

    def close_all(self, reason: str) -> None:
        """
        Close every station connection (at shutdown); their pending calls
        fail, and from now on L{closed} is set: connections still completing
        their handshake are to be closed, not attached.
        """
        self.closed = True
        entries = list(self._sessions.values())
        self._sessions.clear()
        for session in entries:
            session.close(reason)
            self._tell(session, False)

    def close(self, identity: str, reason: str) -> bool:
        """
        Close the connection of C{identity} and forget it at once (it
        connected to another node of the cluster); its pending calls fail.

        @return: whether it was connected here.
        """
        session = self._sessions.pop(identity, None)
        if session is None:
            return False
        session.close(reason)
        self._tell(session, False)
        return True

    def detach(self, session: StationChannel) -> bool:
        """
        Forget C{session} if it is still the live one.

        @return: whether it was (False when a newer connection replaced it).
        """
        if self._sessions.get(session.identity) is session:
            del self._sessions[session.identity]
            self._tell(session, False)
            return True
        return False

    def call(
        self,
        identity: str,
        action: str,
        payload: dict[str, Any],
        timeout: float | None = None,
    ) -> Deferred[dict[str, Any]]:
        """
        Send a central-system-initiated command to a station, whatever its
        transport and version (payloads in the OCPP 1.6 JSON shape).

        @param identity: the station.
        @param action: one of the 19 central-system-initiated 1.6 actions (a
            1.5 station knows 15 of them).
        @param payload: the request payload (checked against the official 1.6 schema).
        @param timeout: seconds to wait for the reply once sent; the server's
            C{call_timeout} when C{None}.
        @return: a Deferred firing with the station's reply payload. At most one
            call is in flight per station; later ones wait in order.
        """
        session = self._sessions.get(identity)
        if session is not None:
            d = session.call(action, payload, timeout)
            if self.call_observer is not None:
                d.addBoth(self.call_observer, action)
            if action == "TriggerMessage":
                d.addCallback(self._triggered, session, payload)
            return d
        d = maybeDeferred(self._backend.get_station, identity)

        def offline(station: Any) -> Any:
            if station is None:
                raise UnknownStation(identity, action)
            raise StationOffline(identity, action)

        return d.addCallback(offline)
