"""Tests for L{ocppcs.transports.directwrite} over a real loopback TCP connection."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import protocol
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.testing import StringTransport

from ocppcs.transports.directwrite import send_directly


class Collect(protocol.Protocol):
    """Collects bytes until C{expected} have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.data = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if len(self.data) >= self.expected and not self.done.called:
            self.done.callback(self.data)


class Hold(protocol.Protocol):
    """The server side: hands its transport to the test."""

    connected: Deferred[Any]

    def connectionMade(self) -> None:
        self.factory.connected.callback(self.transport)  # type: ignore[attr-defined]


def test_other_transports_are_left_alone() -> None:
    """Only plain TCP connections are wrapped."""
    transport = StringTransport()
    original = transport.write
    assert send_directly(transport) is False
    assert transport.write == original


@pytest_twisted.ensureDeferred
async def test_direct_write_keeps_order_and_content() -> None:
    """Small and large writes, direct and buffered, arrive complete and in order."""
    from twisted.internet import reactor

    factory = protocol.Factory.forProtocol(Hold)
    factory.connected = Deferred()  # type: ignore[attr-defined]
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
    chunks = [b"a" * 10, b"b" * 3_000_000, b"c" * 5, b"d" * 100_000, b"e"]
    client = Collect(sum(len(c) for c in chunks))
    client_factory = protocol.Factory.forProtocol(lambda: client)
    client_proto = await TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port).connect(
        client_factory
    )
    server_transport = await factory.connected  # type: ignore[attr-defined]
    try:
        assert send_directly(server_transport) is True
        server_transport.write(chunks[0])
        # The first write went out at once: nothing is left in Twisted's buffer.
        assert not server_transport._tempDataBuffer
        for chunk in chunks[1:]:
            server_transport.write(chunk)
        received = await client.done
        assert received == b"".join(chunks)
    finally:
        client_proto.transport.loseConnection()
        server_transport.loseConnection()
        await port.stopListening()
