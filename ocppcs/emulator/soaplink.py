# -*- test-case-name: tests.soap.test_emulator_soap -*-
"""
The OCPP-S link of an emulated station: beside the WebSocket one
(L{ocppcs.emulator.link}), with the same life for the station.

    SoapLink.start --> listen on 127.0.0.1:soapPort (0: any free port): the
        station's Charge Point service (L{ocppcs.emulator.soapcp})
    --> a SoapSession --> station.connected: it boots
    SoapSession.call(action, payload): one call in flight (CallQueue), POSTed
        to the central system service with chargeBoxIdentity and
        WS-Addressing (From: the station's own service URL)
    the central system unreachable, or gone mid-call --> station.disconnected,
        a new session after a backoff (1 s doubling to 30 s, with jitter)
    reconnect() (a reboot): a new session at once, which boots again

An OCPP 1.5 station maps every message (L{ocppcs.soap.cs15},
L{ocppcs.soap.cp15}); a status report 1.5 has no value for (firmware
Downloading, diagnostics Uploading, ...) is not sent.
"""

from __future__ import annotations

import random
from typing import Any

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Site

from ocppcs.callerrors import StationDisconnected, StationUnreachable
from ocppcs.callqueue import CallQueue, Outbound
from ocppcs.emulator.link import FIRST_DELAY, MAX_DELAY
from ocppcs.emulator.soapcp import ChargePointResource
from ocppcs.emulator.station import EmulatedStation
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.soap import cs15
from ocppcs.soap.client import SoapClient
from ocppcs.soap.cp15 import NotIn15
from ocppcs.soap.messages import Side
from ocppcs.v16.actions import STATION_ACTIONS

#: The emulator's protocol setting -> the OCPP version of a SOAP station.
SOAP_VERSIONS = {"ocpp1.6s": "1.6", "ocpp1.5s": "1.5"}


class SoapSession:
    """
    The station's side of its OCPP-S link: what L{EmulatedStation.session}
    holds (L{call} and L{identity}, as the WebSocket session).
    """

    _log = Logger()

    def __init__(self, link: SoapLink) -> None:
        self.link = link
        station = link.station
        self.identity = station.identity
        self._side = Side("cs", link.version)
        self._calls = CallQueue(
            station.identity,
            link.clock,
            self._send,
            link.schemas,
            STATION_ACTIONS,
            link.call_timeout,
        )

    @property
    def closed(self) -> bool:
        """Whether this session has ended."""
        return self._calls.closed_because is not None

    def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> Deferred[dict[str, Any]]:
        """Send a station-initiated request (1.6 shape); fires with the 1.6 reply."""
        if self._side.version == "1.5":
            try:
                cs15.request_to_15(action, payload)
            except NotIn15 as e:
                self._log.debug(
                    "{identity}: {action} not sent: {why}",
                    identity=self.identity,
                    action=action,
                    why=e.description,
                )
                return succeed({})  # the .conf of a status report is empty
        return self._calls.call(action, payload, timeout)

    def _send(self, pending: Outbound) -> Deferred[Any]:
        link = self.link
        d = link.client.call(
            self._side,
            link.central_url,
            self.identity,
            pending.action,
            pending.payload,
            msg_id=f"urn:uuid:{pending.unique_id}",
            from_address=link.address,
        )
        d.addCallbacks(self._replied, self._failed, callbackArgs=(pending,), errbackArgs=(pending,))
        return d

    def _replied(self, payload: dict[str, Any], pending: Outbound) -> None:
        self.link.reached()
        self._calls.result(pending.unique_id, payload)

    def _failed(self, failure: Failure, pending: Outbound) -> None:
        if failure.check(CancelledError):
            return
        taken = self._calls.take(pending.unique_id)
        if failure.check(StationUnreachable, StationDisconnected):
            why = failure.getErrorMessage()
            if taken is not None:
                taken.deferred.errback(StationDisconnected(self.identity, pending.action, why))
            self.link.lost(self, why)
        elif taken is not None:
            taken.deferred.errback(failure)

    def close(self, why: str) -> None:
        """End the session: pending calls fail with L{StationDisconnected}."""
        self._calls.close(why)


class SoapLink:
    """
    Keeps one emulated OCPP-S station in touch with its central system.

    @ivar address: the URL of the station's Charge Point service (once started).
    @ivar attempts: sessions started so far (as the WebSocket link's attempts).
    @ivar connections: the same (a SOAP station has no connection to fail).
    """

    _log = Logger()

    def __init__(
        self,
        station: EmulatedStation,
        reactor: Any,
        schemas: SchemaSet,
        client: SoapClient,
        version: str,
        port: int = 0,
        call_timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        """
        @param client: posts the station's requests (shared by the emulator's stations).
        @param version: C{"1.5"} or C{"1.6"}.
        @param port: the loopback port of its Charge Point service (0: any free one).
        """
        self.station = station
        self.clock = reactor
        self._reactor = reactor
        self.schemas = schemas
        self.client = client
        self.version = version
        self.call_timeout = call_timeout
        self._port_number = port
        self._rng = rng or random.Random()
        self._delay = FIRST_DELAY
        self._listening: IListeningPort | None = None
        self._session: SoapSession | None = None
        self._retry: Any = None
        self._running = False
        self.address = ""
        self.attempts = 0
        self.connections = 0
        station.link = self

    @property
    def running(self) -> bool:
        """Whether the link is between start and stop."""
        return self._running

    @property
    def connected(self) -> bool:
        """Whether a session is up."""
        return self._session is not None

    @property
    def central_url(self) -> str:
        """The central system service the station posts to (L{EmulatedStation.url})."""
        return self.station.url

    def start(self) -> None:
        """Serve the Charge Point service, then start a session (the station boots)."""
        self._running = True
        if self._listening is None:
            site = Site(ChargePointResource(self.station, self.version, self.schemas))
            site.noisy = False
            self._listening = self._reactor.listenTCP(
                self._port_number, site, interface="127.0.0.1"
            )
            port = self._listening.getHost().port  # type: ignore[union-attr]
            self.address = f"http://127.0.0.1:{port}/"
        self._open()

    def _open(self) -> None:
        self._retry = None
        if not self._running or self._session is not None:
            return
        self.attempts += 1
        self.connections += 1
        session = self._session = SoapSession(self)
        try:
            self.station.connected(session)  # type: ignore[arg-type]
        except Exception:
            self._log.failure("{identity}: bug on connect", identity=self.station.identity)

    def reached(self) -> None:
        """The central system answered: the next backoff starts from FIRST_DELAY again."""
        self._delay = FIRST_DELAY

    def lost(self, session: SoapSession, why: str) -> None:
        """The central system could not be reached: the station is offline for a while."""
        if session is not self._session:
            return
        self._log.info(
            "{identity}: central system {url} unreachable: {why}",
            identity=self.station.identity,
            url=self.central_url,
            why=why,
        )
        self._end(why)
        self._schedule(self._delay * (0.5 + self._rng.random() / 2))
        self._delay = min(self._delay * 2, MAX_DELAY)

    def _end(self, why: str) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        session.close(why)
        try:
            self.station.disconnected()
        except Exception:
            self._log.failure("{identity}: bug on disconnect", identity=self.station.identity)

    def _schedule(self, delay: float) -> None:
        if self._running and self._retry is None:
            self._retry = self.clock.callLater(delay, self._open)

    def reconnect(self) -> None:
        """A reboot: end the session and start a new one at once."""
        self._delay = FIRST_DELAY
        self._end("rebooting")
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        self._schedule(0.0)

    def stop(self) -> Deferred[None]:
        """End the session, stop serving; fires once the port is closed."""
        self._running = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        self._end("station stopping")
        listening, self._listening = self._listening, None
        if listening is None:
            return succeed(None)
        d = listening.stopListening()
        return d if isinstance(d, Deferred) else succeed(None)
