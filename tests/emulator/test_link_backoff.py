"""
L{StationLink}'s reconnect backoff on a L{Clock} (through a URL that can't be
used, so no sockets), and its retries when nothing listens at the URL.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from ocppcs.emulator.link import MAX_DELAY, StationLink
from tests.emulator.linkservers import (
    SCHEMAS,
    FakeStation,
    FixedRandom,
    Logged,
    Server,
    delays,
    own_calls,
    wait_for,
)
from tests.integration.conftest import aio


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, [1, 2, 4, 8, 16, 30, 30, 30]), (0.0, [0.5, 1, 2, 4, 8, 15, 15, 15])],
)
def test_backoff_grows_and_is_capped(value: float, expected: list[float], logged: Logged) -> None:
    """
    A link that can't connect tries again after 1 s, then twice as long each
    time up to 30 s; jitter takes up to half of each delay off.
    """
    clock = Clock()
    station = FakeStation("http://example.com/ocpp/LINK-1")
    link = StationLink(station, clock, SCHEMAS, rng=FixedRandom(value))  # type: ignore[arg-type]
    link.start()
    seen = []
    for _ in expected:
        [delay] = delays(clock)
        seen.append(delay)
        clock.advance(delay)
    assert seen == expected and MAX_DELAY == 30
    assert link.attempts == 0 and not link.connected


def test_bad_url_logged_and_retried(logged: Logged) -> None:
    """
    A URL that is not ws:// or wss:// is logged as an error on each try and
    tried again (the key may be changed meanwhile); stop() ends the retries.
    """
    clock = Clock()
    station = FakeStation("http://example.com/ocpp/LINK-1")
    link = StationLink(station, clock, SCHEMAS, rng=FixedRandom(1.0))  # type: ignore[arg-type]
    link.start()
    clock.advance(1)
    clock.advance(2)
    errors = logged.matching("LINK-1: bad URL http://example.com/ocpp/LINK-1")
    assert len(errors) == 3 and "expected ws://host" in errors[0]
    assert link.running and len(clock.getDelayedCalls()) == 1
    stopped = link.stop()
    assert stopped.called and clock.getDelayedCalls() == [] and not link.running


@pytest_twisted.ensureDeferred
async def test_refused_connection_logged_and_retried(logged: Logged) -> None:
    """Nothing listening: each refused connection is logged and tried again."""
    from twisted.internet import reactor

    closed = Server(subprotocols=["ocpp1.6"])
    await aio(closed.start())
    url = closed.url()
    await aio(closed.stop())
    station = FakeStation(url)
    link = StationLink(station, reactor, SCHEMAS)  # type: ignore[arg-type]
    link.start()
    try:
        await wait_for(lambda: link.attempts >= 2, timeout=5)
        assert logged.matching(f"LINK-1: cannot connect to {url}")
    finally:
        await link.stop()
    assert own_calls(link) == []
