"""
Tests for L{ocppcs.transports.quiet_debug}: Autobahn's debug-line arguments
are formatted only while debug logging is on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pprint import pformat as real_pformat

import autobahn.twisted.websocket as twisted_websocket
import autobahn.websocket.protocol as protocol
import pytest
import txaio
from autobahn.util import hltype as real_hltype

from ocppcs.transports import quiet_debug, websocket  # noqa: F401 - websocket installs it


@pytest.fixture
def log_level() -> Iterator[None]:
    """Restore txaio's global log level afterwards."""
    level = txaio.get_global_log_level()
    yield
    txaio.set_global_log_level(level)


def test_installed_in_autobahn() -> None:
    """The server's WebSocket module puts both functions into Autobahn's modules."""
    assert protocol.pformat is quiet_debug.pformat
    assert protocol.hltype is quiet_debug.hltype
    assert twisted_websocket.hltype is quiet_debug.hltype


def test_not_formatted_while_debug_is_off(log_level: None) -> None:
    """At the default (info) level, a connection's config list is not pretty-printed."""
    txaio.set_global_log_level("info")
    config = [("autoPingInterval", 60, "OcppServerFactory")] * 29
    assert protocol.pformat(config) == quiet_debug.NOT_FORMATTED
    assert protocol.hltype(test_installed_in_autobahn) == quiet_debug.NOT_FORMATTED


@pytest.mark.parametrize("level", ["debug", "trace"])
def test_formatted_while_debug_is_on(log_level: None, level: str) -> None:
    """With Autobahn's debug logging on, its lines carry the same text as before."""
    txaio.set_global_log_level(level)
    config = [("autoPingInterval", 60, "OcppServerFactory")] * 29
    assert protocol.pformat(config) == real_pformat(config)
    assert protocol.hltype(test_installed_in_autobahn) == real_hltype(test_installed_in_autobahn)


def test_timing_tracker_text_is_real(log_level: None) -> None:
    """Autobahn's timing tracker (its other use of pformat) prints its timings as before."""
    txaio.set_global_log_level("info")
    tracker = protocol.Timings()
    tracker.track("onOpen")
    assert str(tracker) == real_pformat(tracker._timings)
