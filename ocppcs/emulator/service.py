# -*- test-case-name: tests.emulator.test_end_to_end,tests.emulator.test_end_to_end_offline -*-
"""
The emulator as a service: every station of C{[emulator] path}, each with
its link to the central system, their saved state opened first.

    startService --> load conf/cp/*/configuration.json (bad ones logged, skipped)
                 --> open the state database --> stations --> links connect
                     (a WebSocket link, or for C{protocol} ocpp1.6s / ocpp1.5s
                     an OCPP-S one, L{ocppcs.emulator.soaplink})
    stopService  --> links close --> the database writes what is queued

A stop that comes while the start is still opening the database waits for
that step, then the start goes no further (no station is created) and the
database is closed: a SIGTERM during start-up is as quiet as any other.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, inlineCallbacks
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger

from ocppcs.config import EmulatorConfig
from ocppcs.emulator.auto import AutoDriver
from ocppcs.emulator.link import StationLink
from ocppcs.emulator.persist import EmulatorStore
from ocppcs.emulator.soaplink import SOAP_VERSIONS, SoapLink
from ocppcs.emulator.station import EmulatedStation
from ocppcs.emulator.stationconfig import StationConfig, StationConfigError, load_stations
from ocppcs.emulator.transfers import make_transfers
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.soap.client import SoapClient
from ocppcs.v16.actions import CENTRAL_CALLS, STATION_CALLS


class EmulatorService(Service):
    """
    Runs the emulated stations.

    @ivar stations: the running stations by identity.
    @ivar links: their connections by identity.
    @ivar errors: the station folders that could not be loaded.
    @ivar ready: fires once every station has been started.
    @ivar transfers: how every station moves diagnostics and firmware
        (C{[emulator] transfers}).
    """

    _log = Logger()
    name = "emulator"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None

    def __init__(
        self,
        config: EmulatorConfig,
        reactor: Any,
        call_timeout: float = 30.0,
        stations: list[StationConfig] | None = None,
        url: str | Callable[[], str] = "",
    ) -> None:
        """
        @param config: the C{[emulator]} section.
        @param reactor: the reactor (connections, timers, the store worker).
        @param call_timeout: seconds stations wait for the central system's replies.
        @param stations: station configurations to run instead of those in
            C{config.path} (benchmarks and tests).
        @param url: the central system URL for every station (instead of
            C{config.url}), or a callable giving it at start-up; C{""} keeps
            each station's C{CentralSystemURL}.
        """
        self.config = config
        self._reactor = reactor
        self._call_timeout = call_timeout
        self._given = stations
        self._url = url or config.url
        self.store = EmulatorStore(reactor, config.state)
        self.transfers = make_transfers(config.transfers, reactor)
        self.schemas = SchemaSet()
        self.stations: dict[str, EmulatedStation] = {}
        self.links: dict[str, StationLink | SoapLink] = {}
        self._soap: SoapClient | None = None
        self.drivers: dict[str, AutoDriver] = {}
        self.errors: list[StationConfigError] = []
        self.ready: Deferred[None] = Deferred()
        self._starting: Deferred[None] | None = None

    def startService(self) -> None:
        """
        Load the stations and connect them (asynchronously; see L{ready},
        which also fires when a stop cut the start short).
        """
        super().startService()
        d = self._starting = self._start()
        d.addCallbacks(self.ready.callback, self._failed)

    def _failed(self, failure: Any) -> None:
        self._log.failure("The emulator failed to start", failure)
        self.ready.errback(failure)
        self.ready.addErrback(lambda _: None)

    @inlineCallbacks
    def _start(self) -> Any:
        if self._given is not None:
            configs = list(self._given)
        else:
            configs, self.errors = load_stations(Path(self.config.path))
        for error in self.errors:
            self._log.error("Emulated station skipped: {error}", error=str(error))
        self.schemas.preload(STATION_CALLS | CENTRAL_CALLS)
        yield self.store.start()
        if not self.running:
            return  # stopped while the database opened: stopService closes it
        saved = yield self.store.load_all()
        if not self.running:
            return
        self._url = self._url() if callable(self._url) else self._url
        soap = sum(1 for c in configs if c.protocol in SOAP_VERSIONS)
        if soap:
            # Every OCPP-S station posts to the central system: keep a connection for each.
            self._soap = SoapClient(self._reactor, per_host=soap)
        for config in configs:
            self._add(config, saved.get(config.identity))
        for link in self.links.values():
            link.start()
        for driver in self.drivers.values():
            driver.start()
        self._log.info(
            "Emulator: {count} stations started, {skipped} skipped",
            count=len(self.stations),
            skipped=len(self.errors),
        )

    def _link(self, station: EmulatedStation) -> StationLink | SoapLink:
        """The station's link: WebSocket, or OCPP-S for a SOAP protocol."""
        config = station.config
        version = SOAP_VERSIONS.get(config.protocol)
        if version is None:
            return StationLink(
                station, self._reactor, self.schemas, call_timeout=self._call_timeout
            )
        if self._soap is None:  # the first OCPP-S station, added by a reload
            self._soap = SoapClient(self._reactor, per_host=4)
        return SoapLink(
            station,
            self._reactor,
            self.schemas,
            self._soap,
            version,
            port=config.soap_port,
            call_timeout=self._call_timeout,
        )

    def _add(self, config: StationConfig, saved: Any) -> None:
        """Make the station of C{config}, its link and its driver (not started)."""
        station = EmulatedStation(
            config,
            self._reactor,
            self.store,
            saved,
            url=self._url,  # type: ignore[arg-type]  # resolved by _start
            rng=random.Random(f"{config.identity}"),
            transfers=self.transfers,
        )
        self.stations[config.identity] = station
        self.links[config.identity] = self._link(station)
        if config.auto is not None and config.auto.enable:
            self.drivers[config.identity] = AutoDriver(station, config.auto, self._reactor)

    @inlineCallbacks
    def reload(self) -> Any:
        """
        Read the station folders again (in a thread): start the stations
        added since, stop and forget those removed (their saved state stays).
        Stations still there keep running as they are.

        @return: a Deferred firing with C{(added, removed)} identities.
        """
        if self._given is not None or not self.running or self._starting is None:
            return [], []
        yield self._starting
        configs, errors = yield deferToThreadPool(
            self._reactor, self._reactor.getThreadPool(), load_stations, Path(self.config.path)
        )
        for error in errors:
            self._log.error("Emulated station skipped: {error}", error=str(error))
        wanted = {config.identity: config for config in configs}
        removed = [identity for identity in self.stations if identity not in wanted]
        added = [config for identity, config in wanted.items() if identity not in self.stations]
        for identity in removed:
            driver = self.drivers.pop(identity, None)
            if driver is not None:
                driver.stop()
            yield self.links.pop(identity).stop()
            station = self.stations.pop(identity)
            station.shutdown()
            station.save()
        saved = (yield self.store.load_all()) if added else {}
        for config in added:
            self._add(config, saved.get(config.identity))
            self.links[config.identity].start()
            if config.identity in self.drivers:
                self.drivers[config.identity].start()
        names = [config.identity for config in added]
        self._log.info(
            "Emulator reloaded: {added} added, {removed} removed",
            added=", ".join(names) or "none",
            removed=", ".join(removed) or "none",
        )
        return names, removed

    def stopService(self) -> Deferred[None]:
        """
        Disconnect every station, then close the database (once a start
        still in progress has finished the step it is in).
        """
        super().stopService()
        starting = self._starting
        if starting is not None and not starting.called:
            waited: Deferred[None] = Deferred()

            def started(result: object) -> object:
                waited.callback(None)
                return result

            starting.addBoth(started)
            return waited.addCallback(lambda _: self._stop())
        return self._stop()

    def _stop(self) -> Deferred[None]:
        for driver in self.drivers.values():
            driver.stop()
        closing = [link.stop() for link in self.links.values()]

        def closed(_: Any) -> Deferred[None]:
            for station in self.stations.values():
                station.shutdown()
                station.save()
            if self._soap is not None:
                self._soap.close()
            return self.store.stop()

        return DeferredList(closing, consumeErrors=True).addCallback(closed)

    def station(self, identity: str) -> EmulatedStation | None:
        """The emulated station C{identity}, if it runs here."""
        return self.stations.get(identity)
