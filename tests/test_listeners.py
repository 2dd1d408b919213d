"""Tests for L{ocppcs.listeners}: the listen backlog of the listeners."""

from __future__ import annotations

import socket
import struct
import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol

from ocppcs.listeners import DEFAULT_BACKLOG, ListenerService, with_backlog


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("tcp:9220:interface=0.0.0.0", f"tcp:9220:interface=0.0.0.0:backlog={DEFAULT_BACKLOG}"),
        ("tcp:0", f"tcp:0:backlog={DEFAULT_BACKLOG}"),
        ("TCP6:9220", f"TCP6:9220:backlog={DEFAULT_BACKLOG}"),
        ("ssl:9221:privateKey=k.pem", f"ssl:9221:privateKey=k.pem:backlog={DEFAULT_BACKLOG}"),
        ("unix:/run/a\\:b.sock", f"unix:/run/a\\:b.sock:backlog={DEFAULT_BACKLOG}"),
        ("tcp:9220:backlog=128", "tcp:9220:backlog=128"),
        ("tcp:9220:interface=127.0.0.1:backlog=7", "tcp:9220:interface=127.0.0.1:backlog=7"),
        ("tcp:port=9220:backlog = 7", "tcp:port=9220:backlog = 7"),
        ("systemd:domain=INET:index=0", "systemd:domain=INET:index=0"),
        ("unix:/tmp/backlog\\:x", f"unix:/tmp/backlog\\:x:backlog={DEFAULT_BACKLOG}"),
    ],
)
def test_with_backlog(description: str, expected: str) -> None:
    """The default backlog is added to TCP, TLS and UNIX listeners that name none."""
    assert with_backlog(description) == expected


def listen_backlog(sock: socket.socket) -> int:
    """The kernel's accept-queue limit of a listening socket (Linux C{tcp_info.tcpi_sacked})."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int(struct.unpack_from("I", info, 28)[0])


@pytest.mark.skipif(sys.platform != "linux", reason="reads the backlog from Linux's tcp_info")
@pytest_twisted.ensureDeferred
async def test_listener_backlog_is_raised() -> None:
    """
    A listener without a backlog in its description gets L{DEFAULT_BACKLOG}
    (capped by the kernel's somaxconn), not Twisted's 50; one that names it
    keeps its own.
    """
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    factory = Factory.forProtocol(Protocol)
    default = ListenerService(reactor, "tcp:0:interface=127.0.0.1", factory)
    own = ListenerService(reactor, "tcp:0:interface=127.0.0.1:backlog=7", factory)
    default.startService()
    own.startService()
    try:
        assert default.port is not None and own.port is not None
        assert listen_backlog(default.port.socket) == min(DEFAULT_BACKLOG, somaxconn)
        assert listen_backlog(own.port.socket) == 7
    finally:
        await default.stopService()
        await own.stopService()
