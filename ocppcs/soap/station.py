# -*- test-case-name: tests.soap.test_station -*-
"""
A SOAP station as a L{StationChannel}, and when it counts as online.

A SOAP station has no connection: it is online from its first request and
stays online while it keeps calling. Each request restarts its window of
C{2 x heartbeat interval + grace} seconds (the interval the central system
last gave it in a BootNotification reply, else C{[central]
heartbeat_interval}; grace L{GRACE} = 60 s); when the window passes without
a request, it goes offline (detached from the registry, its pending
commands fail, the record notes the disconnection).

Its commands (C{call()}) go through the same L{CallQueue} as a WebSocket
station's: one in flight, the rest in order, each with its timeout. The
queue's C{send} is L{SoapStation.caller}: it posts the command to the
station's own endpoint (L{SoapStation.endpoint}, the WS-Addressing C{From}
of its requests) and fires with the reply in the 1.6 JSON shape. Until one
is set, commands fail with L{InvalidCommand} (nothing is sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail, maybeDeferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import IRecord
from ocppcs.callerrors import InvalidCommand
from ocppcs.callqueue import CallQueue, Outbound
from ocppcs.channel import SOAP
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.soap import cp15
from ocppcs.stations import StationRegistry
from ocppcs.v16.actions import CENTRAL_ACTIONS

#: Seconds added to twice the heartbeat interval before a silent SOAP station is offline.
GRACE = 60.0

#: Posts one command to a SOAP station; fires with the reply (1.6 JSON shape).
Caller = Callable[["SoapStation", Outbound], "Deferred[dict[str, Any]]"]


def not_supported(station: SoapStation, pending: Outbound) -> Deferred[dict[str, Any]]:
    """The default caller: nothing is sent (L{InvalidCommand})."""
    return fail(
        InvalidCommand(
            station.identity,
            pending.action,
            "This central system cannot call OCPP-S stations yet (no SOAP caller)",
        )
    )


class SoapStation:
    """
    One OCPP-S station (a L{StationChannel} with transport C{"soap"}).

    @ivar endpoint: the station's Charge Point service URL (the C{From} of
        its last request that had one), or C{None}.
    @ivar address: the endpoint, else the HTTP peer of its last request.
    @ivar interval: the heartbeat interval it was last given (seconds).
    @ivar caller: posts its commands (see the module docstring).
    """

    transport = SOAP

    def __init__(
        self,
        identity: str,
        version: str,
        address: str,
        clock: IReactorTime,
        schemas: SchemaSet,
        interval: float,
        default_timeout: float = 30.0,
    ) -> None:
        self.identity = identity
        self.account = ""
        self.version = version
        self.address = address
        self.endpoint: str | None = None
        self.accepted: bool | None = None
        self.triggered: set[str] = set()
        self.interval = interval
        self.expiry: IDelayedCall | None = None
        self.caller: Caller = not_supported
        self._calls = CallQueue(
            identity, clock, self._send, schemas, CENTRAL_ACTIONS, default_timeout
        )

    @property
    def closed(self) -> bool:
        """Whether it went offline."""
        return self._calls.closed_because is not None

    @property
    def queued(self) -> int:
        """How many commands wait behind the one in flight."""
        return self._calls.queued

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        """
        Queue a command (1.6 JSON shape; see L{CallQueue.call}). To a 1.5
        station, a 1.6-only command (or field, L{cp15.request_to_15}) fails
        at once with an L{InvalidCommand} that says so.
        """
        if self.version == "1.5" and action in CENTRAL_ACTIONS:
            try:
                cp15.request_to_15(action, payload)
            except cp15.NotIn15 as e:
                why = f"{e.description} (station {self.identity} speaks OCPP 1.5)"
                return fail(InvalidCommand(self.identity, action, why, e.path))
        return self._calls.call(action, payload, timeout)

    def _send(self, pending: Outbound) -> Deferred[Any]:
        d: Deferred[Any] = maybeDeferred(self.caller, self, pending)
        d.addCallbacks(self._replied, self._failed, callbackArgs=(pending,), errbackArgs=(pending,))
        return d

    def _replied(self, reply: dict[str, Any], pending: Outbound) -> None:
        self._calls.result(pending.unique_id, reply)

    def _failed(self, failure: Failure, pending: Outbound) -> None:
        if self._calls.in_flight is not pending:
            return None  # timed out, withdrawn or closed: already failed
        self._calls.take(pending.unique_id)
        pending.deferred.errback(failure)
        return None

    def connection_lost(self, why: str) -> None:
        """Offline: its pending commands fail, new ones are refused."""
        if self.expiry is not None and self.expiry.active():
            self.expiry.cancel()
        self.expiry = None
        self._calls.close(why)

    def close(self, reason: str) -> None:
        """As L{connection_lost}: there is no connection to close."""
        self.connection_lost(reason)


class SoapStations:
    """
    Keeps the SOAP stations in the registry while they call (see the module docstring).

    @param interval: the heartbeat interval before a station was told one.
    @ivar caller: given to each new station as its L{SoapStation.caller}.
    """

    _log = Logger()

    def __init__(
        self,
        registry: StationRegistry,
        backend: IRecord,
        clock: IReactorTime,
        schemas: SchemaSet,
        interval: float,
        call_timeout: float = 30.0,
        grace: float = GRACE,
    ) -> None:
        self._registry = registry
        self._backend = backend
        self._clock = clock
        self._schemas = schemas
        self._interval = interval
        self._call_timeout = call_timeout
        self.grace = grace
        self.caller: Caller = not_supported

    def seen(self, identity: str, version: str, endpoint: str | None, peer: str) -> SoapStation:
        """A request from C{identity} arrived: its channel, attached if it was offline."""
        current = self._registry.get(identity)
        if isinstance(current, SoapStation) and current.version == version and not current.closed:
            station = current
        else:
            station = SoapStation(
                identity,
                version,
                endpoint or peer,
                self._clock,
                self._schemas,
                self._interval,
                self._call_timeout,
            )
            station.caller = self.caller
            if isinstance(current, SoapStation) and not current.closed:
                station.accepted = current.accepted  # same station, other version
            self._registry.attach(station)
            self._log.info(
                "{identity} (OCPP-S {version}) online at {address}",
                identity=identity,
                version=version,
                address=station.address,
            )
            self._backend.station_connected(identity, "", station.address).addErrback(
                lambda f: self._log.failure(
                    "Recording the connection of {identity}", f, identity=identity
                )
            )
        if endpoint:
            station.endpoint = station.address = endpoint
        self._restart(station)
        return station

    def window(self, station: SoapStation) -> float:
        """Seconds of silence after which C{station} is offline."""
        return 2 * station.interval + self.grace

    def _restart(self, station: SoapStation) -> None:
        if station.expiry is not None and station.expiry.active():
            station.expiry.reset(self.window(station))
        else:
            station.expiry = self._clock.callLater(self.window(station), self._silent, station)

    def _silent(self, station: SoapStation) -> None:
        station.expiry = None
        why = f"no request for {self.window(station):g}s"
        station.connection_lost(why)
        if self._registry.detach(station):
            self._log.info("{identity} (OCPP-S) offline: {why}", identity=station.identity, why=why)
            self._backend.station_disconnected(station.identity).addErrback(
                lambda f: self._log.failure(
                    "Recording the disconnection of {identity}", f, identity=station.identity
                )
            )
