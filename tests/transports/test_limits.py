"""Unit tests for L{ocppcs.transports.limits}: the token bucket and the connection counts."""

from __future__ import annotations

import dataclasses

import pytest
from twisted.internet.task import Clock

from ocppcs.config import ConfigError, ServerConfig, parse_config
from ocppcs.transports.limits import ConnectionCounts, MessageRate, host_of


def test_token_bucket() -> None:
    """A burst, then the rate; refused in a row until a token is back; no rate, no limit."""
    server = [ServerConfig(message_rate=2.0, message_burst=3, rate_close_after=2)]
    clock = Clock()
    bucket = MessageRate(lambda: server[0], clock.seconds)
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    assert bucket.refused == 1 and not bucket.abusive
    assert not bucket.allow() and bucket.abusive
    clock.advance(0.5)  # one token back at 2 per second
    assert bucket.allow() and bucket.refused == 0
    assert not bucket.allow()
    clock.advance(100)  # never more than the burst
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    assert "at most 2 messages/s (bursts of 3)" in bucket.description()
    server[0] = dataclasses.replace(server[0], message_rate=0.0)  # read at use time
    assert all(bucket.allow() for _ in range(100))


def test_connection_counts() -> None:
    counts = ConnectionCounts()
    limits = ServerConfig(max_connections=3, max_connections_per_address=2)
    for address in ("10.0.0.1", "10.0.0.1"):
        assert counts.refusal(limits, address) is None
        counts.opened(address)
    status, reason = counts.refusal(limits, "10.0.0.1") or (0, "")
    assert status == 429 and "10.0.0.1" in reason
    assert counts.refusal(limits, "10.0.0.2") is None
    counts.opened("10.0.0.2")
    assert (counts.refusal(limits, "10.0.0.3") or (0,))[0] == 503
    counts.closed("10.0.0.1")
    assert counts.refusal(limits, "10.0.0.1") is None and counts.total == 2
    assert counts.refusal(ServerConfig(), "10.0.0.1") is None  # 0: no limits


def test_host_of() -> None:
    assert host_of("tcp4:127.0.0.1:5000") == "127.0.0.1"
    assert host_of("tcp6:::1:5000") == "::1"
    assert host_of("unix") == "unix"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[server]\nmax_connections = -1\n", "server.max_connections"),
        ("[server]\nmax_connections_per_address = many\n", "server.max_connections_per_address"),
        ("[server]\nmessage_rate = -2\n", "server.message_rate"),
        ("[server]\nmessage_burst = 0\n", "server.message_burst"),
        ("[server]\nrate_close_after = 0\n", "server.rate_close_after"),
        ("[server]\nhandshake_timeout = 0\n", "server.handshake_timeout"),
        ("[api]\nallowed_origins = ftp://x.example\n", "api.allowed_origins"),
        ("[api]\nallowed_origins = https://x.example/path\n", "api.allowed_origins"),
        ("[log]\nlevel = loud\n", "log.level"),
    ],
)
def test_bad_limits_name_their_key(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert f"at '{where}'" in str(error.value)


def test_origins_are_normalized() -> None:
    api = parse_config("[api]\nallowed_origins = HTTPS://UI.example.com/, http://x:8080\n").api
    assert api.allowed_origins == ("https://ui.example.com", "http://x:8080")
