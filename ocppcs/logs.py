# -*- test-case-name: tests.integration.test_signals,tests.test_logs -*-
"""
Where C{twistd ocppcs} logs: the file twistd's own options name (C{--logfile
FILE}, C{--logfile -} for standard output, C{twistd.log} for a daemon by
default), as text (twistd's format) or, with C{[log] format = json}, one JSON
object a line (L{twisted.logger.eventAsJSON}: every named field of the event,
e.g. C{identity} and C{unique_id} on the lines about a station's call), only
the events at C{[log] level} or above. The level follows a reload (SIGHUP),
which also reopens the log file (after logrotate moved it); SIGUSR1 rotates
it, as twistd does.

Installed as the application's L{ILogObserver} (L{LogSetup.install}); with
twistd's C{--logger} or C{--syslog} twistd's choice wins and C{[log]} does
not apply.
"""

from __future__ import annotations

import signal
import sys
from typing import IO, Any

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    jsonFileLogObserver,
    textFileLogObserver,
)
from twisted.python import logfile

from ocppcs.config import LogConfig
from ocppcs.confighold import Changes, ConfigHolder

#: C{[log] level} -> the Twisted level.
LEVELS = {
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warn": LogLevel.warn,
    "error": LogLevel.error,
    "critical": LogLevel.critical,
}


def open_log(logfilename: str | None, nodaemon: bool) -> IO[str] | logfile.LogFile:
    """The file twistd would log to for C{--logfile} and C{--nodaemon}."""
    if logfilename == "-":
        if not nodaemon:
            sys.exit("Daemons cannot log to stdout, exiting!")
        return sys.stdout
    if nodaemon and not logfilename:
        return sys.stdout
    return logfile.LogFile.fromFullPath(logfilename or "twistd.log")


class LogSetup:
    """
    The log observer of C{[log]}, on C{out}.

    @ivar predicate: the level filter (changed by a reload).
    """

    def __init__(self, holder: ConfigHolder, out: IO[str] | logfile.LogFile) -> None:
        self.out = out
        config: LogConfig = holder.current.log
        self.predicate = LogLevelFilterPredicate(defaultLogLevel=LEVELS[config.level])
        base: ILogObserver
        if config.format == "json":
            base = jsonFileLogObserver(out, recordSeparator="")  # type: ignore[arg-type]
        else:
            base = textFileLogObserver(out)  # type: ignore[arg-type]
        self.observer = FilteringLogObserver(base, [self.predicate])
        holder.observe(self._changed)

    def _changed(self, changes: Changes) -> None:
        if changes.touches("log", "level"):
            self.predicate.setLogLevelForNamespace("", LEVELS[changes.new.log.level])

    def reopen(self) -> None:
        """Reopen the log file (a reload: logrotate may have moved it)."""
        if isinstance(self.out, logfile.LogFile):
            self.out.reopen()

    def install(self, application: Any, reactor: Any) -> None:
        """Make this the observer twistd starts logging to, and rotate the file on SIGUSR1."""
        application.setComponent(ILogObserver, self.observer)
        out = self.out
        if isinstance(out, logfile.LogFile) and not signal.getsignal(signal.SIGUSR1):
            signal.signal(signal.SIGUSR1, lambda *_: reactor.callFromThread(out.rotate))
