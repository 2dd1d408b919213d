"""
Tests for L{ocppcs.transports.lean}: the frames the server writes itself are
read correctly by an independent WebSocket client (C{websockets}) at every
length encoding, and Autobahn's own path is used whenever it must be.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import autobahn.websocket.protocol as autobahn_protocol
import pytest
import pytest_twisted
from autobahn.exception import PayloadExceededError
from autobahn.websocket.protocol import WebSocketProtocol
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import Protocol
from twisted.internet.ssl import PrivateCertificate
from twisted.internet.tcp import Server as TCPServer
from twisted.internet.testing import MemoryReactor

from ocppcs.transports.lean import (
    IntXorMasker,
    LeanServerSend,
    _autobahn_masker,
    create_xor_masker,
    text_frame,
    write_now,
)
from tests.integration.conftest import Central, aio, as_future
from tests.integration.rawstation import WAIT, RawStation
from tests.integration.tlscert import self_signed


@pytest.mark.parametrize(
    "length, header",
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_text_frame_uses_the_shortest_length_encoding(length: int, header: bytes) -> None:
    payload = b"x" * length
    assert text_frame(payload) == header + payload


@pytest_twisted.ensureDeferred
async def test_an_independent_client_reads_every_length_encoding(central: Central) -> None:
    """
    Commands of 1 byte to 1.1 MB of data reach a C{websockets} station intact
    (over the default C{max_frame_size} of 1 MiB: that limits what stations send).
    """
    sizes = [1, 60, 61, 62, 100, 65_000, 70_000, 1_100_000]

    async def scenario() -> list[str]:
        station = await RawStation.connect(central.url, "LEAN-1", max_size=None)
        received = []
        try:
            await station.boot()
            close = central.service.registry._sessions["LEAN-1"]._close_connection  # type: ignore[attr-defined]
            # A real station connection is the plain TCP transport write_now sends on.
            assert type(close.__self__.transport) is TCPServer  # type: ignore[attr-defined]
            for size in sizes:
                payload = {"vendorId": "v", "data": "é" * (size // 2) + "x" * (size % 2)}
                reply = as_future(central.service.registry.call("LEAN-1", "DataTransfer", payload))
                frame = await station.recv()
                assert frame[0] == 2 and frame[2] == "DataTransfer", frame[:3]
                received.append(frame[3]["data"])
                await station.send([3, frame[1], {"status": "Accepted"}])
                assert await asyncio.wait_for(reply, WAIT) == {"status": "Accepted"}
        finally:
            await station.close()
        return received

    received = await aio(scenario())
    assert [len(d.encode()) for d in received] == [(s // 2) * 2 + s % 2 for s in sizes]


class _Protocol(LeanServerSend):
    """The attributes L{LeanServerSend} reads, as an open Autobahn server has them."""

    def __init__(self, **changes: Any) -> None:
        self.state = WebSocketProtocol.STATE_OPEN
        self.send_state = WebSocketProtocol.SEND_STATE_GROUND
        self.send_queue: list[Any] = []
        self._perMessageCompress = None
        self.autoFragmentSize = 0
        self.logFrames = self.logOctets = False
        self.trackedTimings = None
        self.maskServerFrames = False
        self.maxMessagePayloadSize = 16  # [server] max_frame_size: what stations may send
        self.__dict__.update(changes)
        self.written: list[bytes] = []
        self.transport = SimpleNamespace(write=self.written.append)
        self.via_autobahn: list[bytes] = []

    def sendMessage(self, payload: bytes, isBinary: bool) -> None:
        assert not isBinary
        if 0 < self.maxMessagePayloadSize < len(payload):  # as Autobahn does
            raise PayloadExceededError("too big")
        self.via_autobahn.append(payload)


def test_writes_the_frame_itself_when_nothing_else_is_in_play() -> None:
    p = _Protocol()
    p.send_text(b"[3]")
    assert p.written == [b"\x81\x03[3]"] and p.via_autobahn == []


@pytest.mark.parametrize(
    "changes",
    [
        {"state": WebSocketProtocol.STATE_CLOSING},
        {"send_state": WebSocketProtocol.SEND_STATE_INSIDE_MESSAGE},
        {"send_queue": [(b"x", False)]},
        {"_perMessageCompress": object()},
        {"autoFragmentSize": 100},
        {"logFrames": True},
        {"trackedTimings": object()},
        {"maskServerFrames": True},
    ],
)
def test_leaves_it_to_autobahn_when_a_feature_is_in_play(changes: dict[str, Any]) -> None:
    p = _Protocol(**changes)
    p.send_text(b"[3]")
    assert p.written == [] and p.via_autobahn == [b"[3]"]


def test_the_station_frame_limit_does_not_apply_to_what_the_central_system_sends() -> None:
    """On both paths a message over C{maxMessagePayloadSize} goes out; the limit stays set."""
    fast, slow = _Protocol(), _Protocol(logFrames=True)
    big = b"[2," + b"0" * 100 + b"]"
    fast.send_text(big)
    slow.send_text(big)
    assert fast.written == [text_frame(big)] and slow.via_autobahn == [big]
    assert fast.maxMessagePayloadSize == slow.maxMessagePayloadSize == 16


# --- write_now on a real socket --------------------------------------------------------------


def _tcp_server() -> tuple[Any, socket.socket, MemoryReactor]:
    """A Twisted TCP server connection over one end of a socket pair, and the other end."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    reactor = MemoryReactor()
    transport = TCPServer(ours, Protocol(), ("127.0.0.1", 1), None, 1, reactor)
    return transport, theirs, reactor


def _drain(peer: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = peer.recv(1 << 20)
        except BlockingIOError:
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def test_write_now_sends_at_once_when_nothing_is_waiting() -> None:
    transport, peer, reactor = _tcp_server()
    write_now(transport, b"first")
    assert _drain(peer) == b"first"
    assert transport not in reactor.getWriters()  # nothing buffered, no writability wait


def test_write_now_keeps_the_order_behind_buffered_data() -> None:
    transport, peer, reactor = _tcp_server()
    transport.write(b"buffered ")  # waits for the reactor, as Autobahn's pings do
    write_now(transport, b"then this")
    assert _drain(peer) == b""
    assert transport in reactor.getWriters()
    transport.doWrite()
    assert _drain(peer) == b"buffered then this"


def test_write_now_buffers_what_the_socket_does_not_take() -> None:
    transport, peer, reactor = _tcp_server()
    big = bytes(range(256)) * 40_000  # 10 MB: more than a socket buffer holds
    write_now(transport, big)
    assert transport in reactor.getWriters()
    received = _drain(peer)
    assert 0 < len(received) < len(big)
    while len(received) < len(big):
        transport.doWrite()
        received += _drain(peer)
    assert received == big


def test_write_now_leaves_tls_started_on_the_connection_to_it(tmp_path: Path) -> None:
    """
    After C{startTLS} the transport is still a C{tcp.Server}, but its bytes
    must go through TLS: nothing reaches the socket in the clear.
    """
    transport, peer, reactor = _tcp_server()
    pem = self_signed(tmp_path).read_text()
    transport.startTLS(PrivateCertificate.loadPEM(pem).options())
    assert ISSLTransport.providedBy(transport)
    write_now(transport, b"secret frame")
    assert b"secret" not in _drain(peer)


def test_write_now_leaves_other_transports_to_their_write() -> None:
    written: list[bytes] = []
    write_now(SimpleNamespace(write=written.append), b"tls or other")
    assert written == [b"tls or other"]


# --- the small-frame masker ------------------------------------------------------------------


@given(
    mask=st.binary(min_size=4, max_size=4),
    payload=st.binary(max_size=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=5),
)
def test_int_masker_matches_autobahns_in_any_chunking(
    mask: bytes, payload: bytes, cuts: list[int]
) -> None:
    ours, theirs = IntXorMasker(mask), _autobahn_masker(mask, len(payload))
    bounds = [0, *sorted(c for c in cuts if c <= len(payload)), len(payload)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        assert ours.process(payload[start:end]) == theirs.process(payload[start:end])
        assert ours.pointer() == theirs.pointer() == end
    ours.reset()
    assert ours.pointer() == 0 and ours.process(payload) == _autobahn_masker(mask).process(payload)


def test_autobahn_uses_the_int_masker_for_small_frames_only() -> None:
    assert autobahn_protocol.create_xor_masker is create_xor_masker
    assert type(create_xor_masker(b"abcd", 200)) is IntXorMasker
    assert type(create_xor_masker(b"abcd", 5000)) is not IntXorMasker
    assert type(create_xor_masker(b"abcd")) is not IntXorMasker
