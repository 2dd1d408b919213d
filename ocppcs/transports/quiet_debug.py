# -*- test-case-name: tests.transports.test_quiet_debug -*-
"""
Autobahn's per-connection debug formatting, skipped while debug logging is off.

Autobahn formats the arguments of its debug log lines before it calls the
logger, which drops them when debug logging is off. For every new
connection, C{WebSocketProtocol._connectionMade} pretty-prints its 29
configuration options (C{pprint.pformat}: about 290 µs, 13 % of the
reactor's time in a storm of 10,000 stations connecting at once), and
about six lines per connection colour a method name with C{hltype}
(8 µs each). L{install} (run on import) replaces the two names in
Autobahn's WebSocket modules with versions that format only while Autobahn's
(txaio's) log level is C{debug} or C{trace}, and otherwise return
L{NOT_FORMATTED}, which nobody sees since those lines are dropped.
Autobahn's C{Timings} (of C{trackTimings}), the one other user of
C{pformat} there, keeps the real one.
"""

from __future__ import annotations

from pprint import pformat as _pformat
from typing import Any

import autobahn.twisted.websocket as _twisted_websocket
import autobahn.websocket.protocol as _protocol
import txaio
from autobahn.util import hltype as _hltype

#: What the replaced functions return while debug logging is off.
NOT_FORMATTED = "(not formatted: debug logging is off)"

_DEBUG_LEVELS = frozenset({"debug", "trace"})


def debug_on() -> bool:
    """Whether Autobahn's (txaio's) log level lets debug lines through."""
    return txaio.get_global_log_level() in _DEBUG_LEVELS  # type: ignore[attr-defined]


def pformat(obj: Any, *args: Any, **kwargs: Any) -> str:
    """C{pprint.pformat} while debug logging is on; else L{NOT_FORMATTED}."""
    return _pformat(obj, *args, **kwargs) if debug_on() else NOT_FORMATTED


def hltype(obj: Any) -> str:
    """Autobahn's C{hltype} while debug logging is on; else L{NOT_FORMATTED}."""
    return str(_hltype(obj)) if debug_on() else NOT_FORMATTED


def _timings_text(self: Any) -> str:
    return _pformat(self._timings)


def install() -> None:
    """Put L{pformat} and L{hltype} into Autobahn's WebSocket modules (idempotent)."""
    _protocol.pformat = pformat  # type: ignore[assignment]
    _protocol.hltype = hltype
    _twisted_websocket.hltype = hltype
    _protocol.Timings.__str__ = _timings_text  # type: ignore[method-assign]


install()
