# -*- test-case-name: tests.test_tap -*-
"""
C{twistd ocppcs}: command-line options and the service it runs.

    twistd -n ocppcs                       built-in defaults, port 9220
    twistd -n ocppcs --config FILE         an INI file (see conf/ocppcs.conf)
    twistd -n ocppcs --listen tcp:0        override [server] listen (repeatable)

With C{[emulator] enable = true} the emulated stations of C{[emulator] path}
run in the same process; with C{central = false} they run alone.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from twisted.application.service import Service
from twisted.python import usage

from ocppcs.config import ConfigError, load_config
from ocppcs.gctune import tune_gc
from ocppcs.service import build_central_system, build_emulator


class Options(usage.Options):
    """Options of C{twistd ocppcs}."""

    optParameters = [
        ["config", "c", None, "Configuration file (INI); built-in defaults when omitted."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []

    def opt_listen(self, description: str) -> None:
        """Listen on this strports description instead of [server] listen (repeatable)."""
        self["listen"].append(description)

    def postOptions(self) -> None:
        try:
            config = load_config(self["config"])
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None
        if self["listen"]:
            server = dataclasses.replace(config.server, listen=tuple(self["listen"]))
            config = dataclasses.replace(config, server=server)
        self["parsed_config"] = config


def makeService(options: Options, reactor: Any = None) -> Service:
    """
    Build the central system from parsed C{options} (with the emulated
    stations when C{[emulator] enable}), or, with C{[emulator] central =
    false}, the emulator alone. Without C{reactor} (as twistd calls it, to
    run the service in this process) the garbage collector is tuned for
    many connections (L{ocppcs.gctune}).
    """
    config = options["parsed_config"]
    if reactor is None:
        tune_gc()
    try:
        if config.emulator.enable and not config.emulator.central:
            if reactor is None:
                from twisted.internet import reactor
            return build_emulator(config, reactor)
        return build_central_system(config, reactor)
    except ConfigError as e:
        raise usage.UsageError(str(e)) from None
