# -*- test-case-name: tests.test_tap,tests.integration.test_startup_errors -*-
"""
C{twistd ocppcs}: command-line options and the service it runs.

    twistd -n ocppcs                       built-in defaults, port 9220
    twistd -n ocppcs --config FILE         an INI file (see conf/ocppcs.conf)
    twistd -n ocppcs --listen tcp:0        override [server] listen (repeatable)
    twistd ocppcs --config FILE --check-config   check the file and exit (systemd ExecStartPre)

With C{[emulator] enable = true} the emulated stations of C{[emulator] path}
run in the same process; with C{central = false} they run alone.

Run by twistd, the service installs the daemon's signal handlers
(L{ocppcs.daemon}: SIGQUIT graceful shutdown, SIGHUP reload) and logs as
C{[log]} says (L{ocppcs.logs}) to twistd's C{--logfile}.

A configuration or start-up error stops twistd with one line naming the
section and key (C{SystemExit}, so twistd prints neither its usage text nor
a traceback).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from twisted.application.service import Service
from twisted.python import usage

import ocppcs
from ocppcs.config import Config, ConfigError, load_config
from ocppcs.confighold import ConfigHolder
from ocppcs.daemon import DaemonService
from ocppcs.earlystop import defer_early_stop
from ocppcs.gctune import tune_gc
from ocppcs.logs import LogSetup, open_log
from ocppcs.parts import build_emulator
from ocppcs.service import build_central_system
from twisted import copyright


class Options(usage.Options):
    """Options of C{twistd ocppcs}."""

    optParameters = [
        ["config", "c", None, "Configuration file (INI); built-in defaults when omitted."],
    ]
    optFlags = [
        ["check-config", None, "Check the configuration file, print OK and exit (0, else 1)."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []

    def opt_listen(self, description: str) -> None:
        """Listen on this strports description instead of [server] listen (repeatable)."""
        self["listen"].append(description)

    def opt_version(self) -> None:
        """Display the versions of ocppcs and Twisted and exit."""
        print(f"ocppcs {ocppcs.__version__} (Twisted {copyright.version})")
        sys.exit(0)

    def postOptions(self) -> None:
        """
        Read the configuration file.

        @raise SystemExit: with the one-line L{ConfigError} message.
        """
        try:
            config = self.load()
        except ConfigError as e:
            raise SystemExit(str(e)) from None
        if self["check-config"]:
            print(f"Configuration {config.source} OK")
            sys.exit(0)
        self["parsed_config"] = config

    def load(self) -> Config:
        """
        Read the configuration file (again, for a reload), with the command
        line's C{--listen} overrides.

        @raise ConfigError: for a bad file.
        """
        config = load_config(self["config"])
        if self["listen"]:
            server = dataclasses.replace(config.server, listen=tuple(self["listen"]))
            config = dataclasses.replace(config, server=server)
        return config


def makeService(options: Options, reactor: Any = None) -> Service:
    """
    Build the central system from parsed C{options} (with the emulated
    stations when C{[emulator] enable}), or, with C{[emulator] central =
    false}, the emulator alone. Without C{reactor} (as twistd calls it, to
    run the service in this process) the garbage collector is tuned for
    many connections (L{ocppcs.gctune}), and a stop signal that arrives
    before the reactor runs is held until it does (L{ocppcs.earlystop}).

    @raise SystemExit: with the one-line L{ConfigError} message.
    """
    config = options["parsed_config"]
    holder = ConfigHolder(config, options.load)
    daemon = reactor is None
    if reactor is None:  # as twistd calls it: services start before the reactor runs
        from twisted.internet import reactor

        tune_gc()
        defer_early_stop(reactor)
    try:
        service: Service
        if config.emulator.enable and not config.emulator.central:
            service = build_emulator(holder, reactor)
        else:
            service = build_central_system(holder, reactor)
    except ConfigError as e:
        raise SystemExit(str(e)) from None
    if not daemon:
        return service
    parent = getattr(options, "parent", None)  # twistd's own options (--logfile, --nodaemon, ...)
    logs = None
    if parent is not None and not parent.get("logger") and not parent.get("syslog"):
        logs = LogSetup(holder, open_log(parent.get("logfile"), bool(parent.get("nodaemon"))))
    return DaemonService(reactor, service, holder, logs)
