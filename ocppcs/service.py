# -*- test-case-name: tests.integration.test_shutdown,tests.test_tap -*-
"""
The central system as one service tree.

    CentralSystemService (MultiService)
      +- backend (the record)       started first, stopped last
      +- decider                    started after the record, stopped before it
      +- ListenerService per [server] listen description
      +- OcppMetrics                started once the backend is ready
      +- ClusterNode                with [cluster] enable; started once the backend is ready
      +- EmulatorService            with [emulator] enable; started last, stopped first

L{build_central_system} wires the objects together: it is the composition
root shared by C{twistd ocppcs} (L{ocppcs.tap}) and the tests.
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.backends.interface import BackendStartError, IDecider, IRecord
from ocppcs.backends.select import create_backend
from ocppcs.certsign import wire_security
from ocppcs.cluster.node import ClusterNode
from ocppcs.config import Config
from ocppcs.confighold import ConfigHolder, derived
from ocppcs.emulator.service import EmulatorService
from ocppcs.followup import Commands
from ocppcs.framelog import FrameFanout
from ocppcs.listeners import ListenerService, parse_endpoint
from ocppcs.locator import StationLocator
from ocppcs.metrics import OcppMetrics, build_metrics
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.onboarding import RefusalLog
from ocppcs.parts import build_cluster, build_emulator, build_soap
from ocppcs.soap.client import SoapClient, StationCaller
from ocppcs.soap.service import CentralSystemSoap
from ocppcs.stationauth import StationAuth, check_listeners
from ocppcs.stations import StationRegistry
from ocppcs.transports.websocket import SHUTTING_DOWN, OcppServerFactory
from ocppcs.v16.actions import CENTRAL_CALLS, STATION_CALLS
from ocppcs.v16.central import CentralSystem
from ocppcs.web.auth import OperatorAuth, warn_if_open
from ocppcs.web.eventfeed import build_event_feed
from ocppcs.web.firstrun import operator_api_config
from ocppcs.web.logfeed import LogFeed, build_log_feed

#: At shutdown, wait at most this many seconds for the calls being answered.
DRAIN_TIMEOUT = 10.0


class CentralSystemService(MultiService):
    """
    The running central system.

    @ivar config: the configuration in force (L{holder}'s current one).
    @ivar holder: the L{ConfigHolder} every part reads its section from.
    @ivar backend: the record: stations, connections, the frame log, the
        operator's lists, the copies of the calls answered.
    @ivar decider: answers the stations' business calls (the record's own
        rules, or the webhook).
    @ivar registry: the stations connected to this process.
    @ivar commands: the one call path to stations: C{commands.call(...)}
        calls one wherever it is connected and keeps the record in step
        with the reply (L{Commands}).
    @ivar listeners: one L{ListenerService} per listen description.
    @ivar ready: fires once the backend has started.
    @ivar frames: every frame in and out goes to its sinks.
    @ivar refusals: refused station connection attempts.
    @ivar metrics: the Prometheus metrics (served at /metrics).
    @ivar log_feed: the live log feed's sink (served at /ws/log).
    @ivar emulator: the emulated stations, when C{[emulator] enable} is set.
    @ivar cluster: this node of the cluster, when C{[cluster] enable} is set.
    @ivar station_factory: the station endpoint (its open connections).
    @ivar central: answers the stations' calls; at shutdown the backend stops
        once it has answered the calls received before.
    """

    _log = Logger()
    metrics: OcppMetrics | None = None
    log_feed: LogFeed | None = None
    emulator: EmulatorService | None = None
    central: CentralSystem | None = None
    commands: Commands | None = None
    cluster: ClusterNode | None = None
    #: Security events and certificate signings (L{ocppcs.certsign.wire_security}).
    security: Any = None
    #: The OCPP-S Central System service (C{/Ocpp}).
    soap: CentralSystemSoap | None = None
    station_factory: OcppServerFactory | None = None

    def __init__(
        self,
        config: Config | ConfigHolder,
        backend: IRecord,
        registry: StationRegistry,
        listeners: list[ListenerService],
        reactor: Any = None,
        frames: FrameFanout | None = None,
        refusals: RefusalLog | None = None,
        decider: IDecider | None = None,
    ) -> None:
        super().__init__()
        self.holder = config if isinstance(config, ConfigHolder) else ConfigHolder(config)
        self.backend = backend
        self.decider = decider
        self.registry = registry
        self.listeners = listeners
        self._reactor = reactor
        self.ready: Deferred[None] = Deferred()
        self.frames = frames if frames is not None else FrameFanout(backend.record_frame)
        self.refusals = refusals if refusals is not None else RefusalLog(reactor)
        backend.setServiceParent(self)
        for listener in listeners:
            listener.setServiceParent(self)

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self.holder.current

    def startService(self) -> None:
        """
        Listen, then start the backend. Listening is synchronous, so a port in
        use stops C{twistd} at once (one line naming the address, see
        L{ListenerService.startService}) before the store is opened; calls
        that arrive while the backend is still opening its store wait for it.
        If the backend fails to start, the error is logged and the reactor
        stopped.
        """
        Service.startService(self)
        for listener in self.listeners:
            listener.startService()
        warn_if_open(self.config)
        started = maybeDeferred(self.backend.startService)
        # Not a child (its name may be the record's): started and stopped here.
        if self.decider is not None and self.decider is not self.backend:
            self.decider.startService()
        started.addCallbacks(self._backend_ready, self._backend_failed)

    def _backend_ready(self, _: object) -> None:
        self._log.info(
            "Backend {backend} ready",
            backend=self.backend.name if self.decider is None else self.decider.name,
        )
        if self.running:
            for child in self:  # the children other than the backend and listeners
                if not child.running:
                    child.startService()
        self.ready.callback(None)

    def _backend_failed(self, failure: Failure) -> None:
        if failure.check(BackendStartError):
            self._log.error(
                "Backend {backend} cannot start: {error}",
                backend=self.backend.name,
                error=failure.getErrorMessage(),
            )
        else:
            self._log.failure(
                "Backend {backend} failed to start", failure, backend=self.backend.name
            )
        self.ready.errback(failure)
        self.ready.addErrback(lambda _: None)
        if self._reactor is not None and self._reactor.running:
            self._reactor.stop()

    def stopService(self) -> Deferred[None]:
        """
        Stop in order, so that nothing a station sent before is lost:

          1. stop the emulator, the metrics and the listeners (no new connections);
          2. record every station as disconnected and close its connection
             (what it sends from then on is dropped unanswered, and sent
             again after it reconnects; a handshake that ends from now on
             is closed with 1001, a new one refused with 503);
          3. wait until the calls received before are answered, their data stored;
          4. stop the decider, then the record (it commits what it still holds).
        """
        Service.stopService(self)
        stopping = [
            maybeDeferred(child.stopService)
            for child in reversed(list(self))
            if child is not self.backend and child.running
        ]
        # Not waited for: the backend stores what is queued when it stops, and a
        # store job that hangs must not keep the backend from being stopped.
        for identity in self.registry.identities():
            self.backend.station_disconnected(identity).addErrback(
                lambda f, identity=identity: self._log.failure(
                    "Recording the disconnection of {identity}", f, identity=identity
                )
            )
        self.registry.close_all(SHUTTING_DOWN)
        if self.central is not None:
            stopping.append(self._drain(self.central))
        done = DeferredList(stopping, consumeErrors=True)
        decider = self.decider
        if decider is not None and decider is not self.backend and decider.running:
            done.addCallback(lambda _: maybeDeferred(decider.stopService))
            done.addErrback(
                lambda f: self._log.failure("Stopping the {name} decider", f, name=decider.name)
            )
        done.addCallback(lambda _: self.backend.stopService())
        return done.addCallback(lambda _: None)

    def _drain(self, central: CentralSystem) -> Deferred[None]:
        drained = central.drained()
        if self._reactor is not None:
            drained.addTimeout(DRAIN_TIMEOUT, self._reactor)
            drained.addErrback(
                lambda f: self._log.warn(
                    "Stopping the backend with {count} calls still being answered: {error}",
                    count=central.answering,
                    error=f.getErrorMessage(),
                )
            )
        return drained


def build_central_system(
    config: Config | ConfigHolder,
    reactor: Any = None,
    backend: IRecord | None = None,
    decider: IDecider | None = None,
) -> CentralSystemService:
    """
    Build the central system described by C{config} (not started). Its parts
    read their sections at use time from C{config} when it is a
    L{ConfigHolder} (so that a reload applies), else from a new holder of it.

    @param reactor: the reactor to listen and time on; the global one if C{None}.
    @param backend: a record to use instead of the configured one (tests).
    @param decider: a decider to use with it (default: C{backend} itself).
    """
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    holder = config if isinstance(config, ConfigHolder) else ConfigHolder(config)
    config = holder.current
    # First: a bad listen description stops start-up before anything is created.
    endpoints = [(d, parse_endpoint(reactor, d)) for d in config.server.listen]
    if backend is None:
        backend, decider = create_backend(holder, reactor)
    elif decider is None:
        decider = backend  # type: ignore[assignment]
    assert decider is not None
    schemas = SchemaSet()
    schemas.preload(STATION_CALLS | CENTRAL_CALLS)
    registry = StationRegistry(backend)
    cluster = build_cluster(config, reactor, registry)
    commands = Commands(StationLocator(registry, cluster), backend)
    central = CentralSystem(decider, backend, reactor)
    frames = FrameFanout(backend.record_frame)
    refusals = RefusalLog(reactor)
    log_feed = build_log_feed(reactor, frames)
    metrics = OcppMetrics(registry, backend, reactor, log_feed=log_feed.feed, decider=decider)
    frames.add(metrics.frame)
    central.on_copy_failed = metrics.copy_failed
    registry.call_observer = metrics.outbound_done
    check_listeners(config.security, config.server.listen)
    station_auth = StationAuth(
        config.security,
        backend.station_key_hash,
        reactor,
        raised=getattr(backend, "station_profile", None),
    )
    factory = OcppServerFactory(
        reactor,
        central,
        registry,
        backend,
        schemas,
        frames,
        holder.reader("server"),
        reactor=reactor,
        refusals=refusals,
        on_refused=metrics.refused,
        station_auth=station_auth,
    )
    # Imported here: Klein imports the global reactor, which must not happen
    # before twistd or the test runner has installed the one it wants.
    from ocppcs.web.api import RestApi
    from ocppcs.web.site import build_site

    listeners: list[ListenerService] = []  # filled below, once the site exists
    emulator = build_emulator(holder, reactor, listeners) if config.emulator.enable else None
    # [api] as the operator check uses it (with the generated operator password under
    # auth = auto), made again only when [api] changes.
    auth = OperatorAuth(
        derived(holder.reader("api"), lambda api: operator_api_config(holder.current)), reactor
    )
    api = RestApi(
        registry,
        backend,
        lambda: holder.current,
        reactor,
        refusals,
        emulator=emulator,
        auth=auth,
        decider=decider,
        commands=commands,
    )
    event_feed = build_event_feed(reactor, frames, registry)
    soap = build_soap(config, reactor, central, registry, backend, schemas, frames, station_auth)
    # The central system's calls to SOAP stations (their Charge Point services).
    soap_client = SoapClient(reactor)
    soap.stations.caller = StationCaller(soap_client, frames, reactor)
    site = build_site(
        factory,
        api,
        auth.guard,
        log_feed,
        build_metrics(metrics),
        event_feed,
        soap,
    )
    listeners.extend(ListenerService(reactor, d, site, e) for d, e in endpoints)
    service = CentralSystemService(
        holder,
        backend,
        registry,
        listeners,
        reactor,
        frames=frames,
        refusals=refusals,
        decider=decider,
    )
    service.metrics, service.log_feed = metrics, log_feed.feed
    service.central = central
    service.commands = commands
    service.soap = soap
    service.station_factory = factory
    metrics.setServiceParent(service)
    soap_client.setServiceParent(service)  # closes its connections at stop
    if cluster is not None:
        cluster.setServiceParent(service)
    service.cluster = cluster
    if emulator is not None:
        # Last: its stations connect once the listeners are up.
        emulator.setServiceParent(service)
    service.emulator = emulator
    wire_security(service, config, reactor)
    return service
