# -*- test-case-name: tests.integration.test_signals -*-
"""
C{twistd ocppcs} as a daemon: its signals, as the original's (nginx's) are.

    SIGTERM, SIGINT   fast shutdown (the reactor's own handlers; the services
                      stop in order, see L{ocppcs.service})
    SIGQUIT           graceful shutdown (L{DaemonService.graceful_stop})
    SIGHUP            reload the configuration file (L{DaemonService.reload})
    SIGUSR1           rotate the log file (L{ocppcs.logs})

A handler only hands the work to the reactor thread (C{callFromThread}), so
nothing runs inside the signal handler. A signal that arrives while twistd is
still starting waits until the reactor runs (L{ocppcs.earlystop} holds the
stop signals likewise).

L{DaemonService} is what L{ocppcs.tap.makeService} gives twistd: it holds the
central system (or the emulator alone), installs the handlers when it is
made, and makes C{[log]}'s observer the application's.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.config import Config, ConfigError
from ocppcs.confighold import Changes, ConfigHolder
from ocppcs.logs import LogSetup
from ocppcs.transports.websocket import SHUTTING_DOWN

#: A graceful shutdown waits at most this long for the calls in progress ...
DRAIN_TIMEOUT = 30.0
#: ... and this long for the stations' close handshakes.
CLOSE_TIMEOUT = 5.0


class DaemonService(MultiService):
    """
    The service twistd runs: C{child} (a L{ocppcs.service.CentralSystemService}
    or an L{ocppcs.emulator.service.EmulatorService}) with its signals.

    @param holder: the configuration in force; L{reload} replaces it.
    @param logs: the log observer to install (C{None}: twistd's own).
    """

    _log = Logger()

    def __init__(
        self, reactor: Any, child: Service, holder: ConfigHolder, logs: LogSetup | None = None
    ) -> None:
        super().__init__()
        self._reactor = reactor
        self.child = child
        self.holder = holder
        self.logs = logs
        self.stopping = False
        child.setServiceParent(self)
        self._install()

    def _install(self) -> None:
        """
        The SIGHUP and SIGQUIT handlers (main thread only), from now on: a
        signal before the reactor runs waits in its queue until it does.
        """
        if threading.current_thread() is threading.main_thread():
            call = self._reactor.callFromThread
            signal.signal(signal.SIGHUP, lambda *_: call(self.reload))
            signal.signal(signal.SIGQUIT, lambda *_: call(self.graceful_stop))

    def setServiceParent(self, parent: Any) -> None:
        """Join twistd's application, making C{[log]}'s observer its log observer."""
        if self.logs is not None and hasattr(parent, "setComponent"):
            self.logs.install(parent, self._reactor)
        super().setServiceParent(parent)

    # --- SIGHUP ------------------------------------------------------------------------------

    def reload(self) -> Deferred[Changes | None]:
        """
        Read and validate the whole configuration file (in a thread), then
        apply what can change while running; a bad file is logged, naming
        section and key, and the running configuration stays.

        @return: a Deferred firing with the L{Changes}, or C{None} when refused.
        """
        self._log.info("Reloading the configuration (SIGHUP)")
        if self.logs is not None:
            self.logs.reopen()
        pool = self._reactor.getThreadPool()
        d: Deferred[Config] = deferToThreadPool(self._reactor, pool, self.holder.load)
        return d.addCallbacks(self._apply, self._refused)

    def _refused(self, failure: Failure) -> None:
        error = failure.value
        if not isinstance(error, ConfigError):
            self._log.failure("Reloading the configuration failed", failure)
            return None
        section, key = error.path
        self._log.error(
            "Configuration not reloaded, the running one stays: {error}",
            error=str(error),
            section=section,
            key=key,
        )
        return None

    def _apply(self, config: Config) -> Changes:
        changes = self.holder.replace(config)
        self._log.info(
            "Configuration reloaded from {source}: applied {applied}",
            source=config.source,
            applied=Changes.names(changes.applied),
        )
        if changes.restart:
            self._log.warn(
                "Configuration changes that need a restart (not applied): {restart}",
                restart=Changes.names(changes.restart),
                keys=sorted(f"{s}.{k}" for s, k in changes.restart),
            )
        emulator: Any = getattr(self.child, "emulator", None)
        if emulator is None and hasattr(self.child, "links"):
            emulator = self.child  # the emulator alone
        if emulator is not None and not self.stopping:
            emulator.reload().addErrback(
                lambda f: self._log.failure("Reloading the emulated stations failed", f)
            )
        return changes

    # --- SIGQUIT -----------------------------------------------------------------------------

    @inlineCallbacks
    def graceful_stop(self) -> Any:
        """
        Stop without cutting anything short: stop the emulator and the
        listeners (no new connection), refuse new calls (CALLERROR
        InternalError: the station sends them again later), wait for the
        calls in progress to be answered and their replies sent, close the
        station connections with 1001, then stop the reactor (the backend
        writes what it still holds as it stops).
        """
        if self.stopping:
            return
        self.stopping = True
        reactor = self._reactor
        child = self.child
        self._log.info("Graceful shutdown (SIGQUIT): finishing the calls in progress")
        emulator = getattr(child, "emulator", None)
        if emulator is not None and emulator.running:
            yield emulator.stopService()
        for listener in getattr(child, "listeners", []):
            if listener.running:
                yield listener.stopService()
        central = getattr(child, "central", None)
        if central is not None:
            central.closing = SHUTTING_DOWN
            drained = central.drained()
            drained.addTimeout(DRAIN_TIMEOUT, reactor)
            drained.addErrback(
                lambda f: self._log.warn(
                    "Graceful shutdown: {count} calls still being answered after {timeout} s",
                    count=central.answering,
                    timeout=DRAIN_TIMEOUT,
                )
            )
            yield drained
            yield deferLater(reactor, 0, lambda: None)  # the replies of the last calls go out
        registry = getattr(child, "registry", None)
        factory = getattr(child, "station_factory", None)
        if registry is not None:
            for identity in registry.identities():
                child.backend.station_disconnected(identity).addErrback(  # type: ignore[attr-defined]
                    lambda f, identity=identity: self._log.failure(
                        "Recording the disconnection of {identity}", f, identity=identity
                    )
                )
            registry.close_all(SHUTTING_DOWN)
            waited = 0.0
            while factory is not None and factory.connections.total and waited < CLOSE_TIMEOUT:
                yield deferLater(reactor, 0.05, lambda: None)
                waited += 0.05
        self._log.info("Graceful shutdown: stations closed, stopping")
        reactor.stop()
