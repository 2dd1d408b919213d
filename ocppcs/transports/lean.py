# -*- test-case-name: tests.integration.test_lean_frames,tests.transports.test_lean_internals -*-
"""
Autobahn's per-message work that OCPP-J does not need, skipped.

A profile of the central system at 10,000 calls/s (BENCHMARKS.md) showed
about a tenth of the reactor's time in three places of Autobahn that serve
features this project does not use:

  - C{dataReceived} and C{sendData} format a debug log line's arguments
    (coloured type names through C{click}) for every read and write, even
    when debug logging is off;
  - C{onMessageEnd} also fires an observable C{"message"} event for every
    message, through C{txaio} futures, for listeners registered with
    C{protocol.on("message", ...)} (nobody registers any here);
  - C{sendMessage} goes through C{sendFrame} and C{sendData}, which handle
    fragmentation, compression, masking, traffic statistics and a send queue;
    and Twisted buffers every write until the next reactor iteration.

Beside those, Autobahn creates a CFFI masker object for every frame a
client sends, which costs more than the unmasking itself for small frames;
L{install_masker} (run on import) has small frames unmasked by
L{IntXorMasker} instead.

L{LeanMessages} (for servers and clients) drops the first two;
L{LeanServerSend} writes a server's unfragmented, uncompressed text frame in
one call, straight to the socket when nothing is waiting (L{write_now}), and
falls back to C{sendMessage} whenever any of those features is
in play. Everything else (handshake, frame checks, UTF-8 validation,
unmasking, pings, close) is Autobahn's own.

All of this relies on private parts of Autobahn and Twisted
(L{ocppcs.transports.internals}); L{FAST} switches it off, with a warning,
when one of them is missing.
"""

from __future__ import annotations

from typing import Any

import autobahn.websocket.protocol as _autobahn_protocol
from autobahn.websocket.protocol import WebSocketProtocol
from twisted.internet.tcp import Client as TCPClient
from twisted.internet.tcp import Server as TCPServer
from twisted.logger import Logger

from ocppcs.transports.internals import INTERNALS, Internal, instance_problems, problems

# getattr: a missing one must not break the import (FastPath.check reports it).
_STATE_OPEN = getattr(WebSocketProtocol, "STATE_OPEN", None)
_SEND_STATE_GROUND = getattr(WebSocketProtocol, "SEND_STATE_GROUND", None)
_autobahn_masker = getattr(_autobahn_protocol, "create_xor_masker", None)


class FastPath:
    """
    Whether the fast path is on: every private part of Autobahn and Twisted it
    uses (L{ocppcs.transports.internals}) is there. Checked when this module
    is imported (L{check}) and, for what each instance carries, on the first
    use by each class (L{first_use}). When something is missing, it switches
    itself off, restores Autobahn's masker and logs one warning naming what is
    missing; L{LeanMessages}, L{LeanServerSend} and L{write_now} then leave
    everything to Autobahn and Twisted.

    @ivar ready: the classes whose instances passed L{first_use}'s check
        (empty while off).
    """

    _log = Logger()

    def __init__(self) -> None:
        self.on = False
        self.ready: set[type] = set()
        self._internals: tuple[Internal, ...] = INTERNALS
        self._warned = False

    def check(self, internals: tuple[Internal, ...] = INTERNALS) -> bool:
        """Switch on if C{internals} are all there (and install the masker), else off."""
        self._internals = internals
        self.ready.clear()
        found = problems(internals)
        if found:
            self.disable(found)
        else:
            self.on, self._warned = True, False
            install_masker()
        return self.on

    def first_use(self, obj: object) -> bool:
        """
        Whether the fast path applies to C{obj}: it is on and C{obj} has every
        instance attribute it uses (checked once per class; else switch off).
        """
        if not self.on:
            return False
        found = instance_problems(obj, self._internals)
        if found:
            self.disable(found)
            return False
        self.ready.add(type(obj))
        return True

    def disable(self, found: list[str]) -> None:
        """Switch off because of C{found} (what is missing), warning once."""
        self.on = False
        self.ready.clear()
        if _autobahn_masker is not None:
            _autobahn_protocol.create_xor_masker = _autobahn_masker
        if not self._warned:
            self._warned = True
            self._log.warn(
                "The fast path (ocppcs.transports.lean) is off, Autobahn and Twisted do all the "
                "work (slower): {problems}. Re-check lean.py against the installed versions.",
                problems="; ".join(found),
            )


#: The fast path's switch (see L{FastPath}).
FAST = FastPath()


class LeanMessages:
    """
    Mixin for an Autobahn WebSocket protocol (placed before it in the bases):
    bytes received go straight to the frame parser, and a whole message goes
    straight to C{onMessage} without the observable C{"message"} event.
    """

    message_data: Any  # Autobahn's: a list of bytes while a message is read, else None
    message_is_binary: bool
    failedByMe: bool
    trackedTimings: Any

    def dataReceived(self, data: bytes) -> None:
        """Parse C{data} (Autobahn's, without its per-read debug line)."""
        if type(self) in FAST.ready or FAST.first_use(self):
            self._dataReceived(data)  # type: ignore[attr-defined]
        else:
            super().dataReceived(data)  # type: ignore[misc]  # a mixin: Autobahn's is next

    def onMessageEnd(self) -> None:
        """Deliver the completed message to C{onMessage}."""
        if not FAST.on:
            super().onMessageEnd()  # type: ignore[misc]  # a mixin: Autobahn's is next
            return
        if not self.failedByMe:
            payload = b"".join(self.message_data or ())
            if self.trackedTimings:
                self.trackedTimings.track("onMessage")
            self._onMessage(payload, self.message_is_binary)  # type: ignore[attr-defined]
        self.message_data = None


def text_frame(payload: bytes) -> bytes:
    """
    One final, unmasked text frame carrying C{payload} (RFC 6455, 5.2), as a
    server sends it.
    """
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 0x10000:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


class LeanServerSend:
    """
    Mixin for an Autobahn I{server} protocol: L{send_text} writes a text
    message as one frame, straight to the transport, when nothing else is
    in play; otherwise it is Autobahn's C{sendMessage}.
    """

    state: int
    send_state: int
    send_queue: Any
    transport: Any
    _perMessageCompress: Any
    autoFragmentSize: int
    logFrames: bool
    logOctets: bool
    trackedTimings: Any
    maskServerFrames: bool
    maxMessagePayloadSize: int

    def send_text(self, payload: bytes) -> None:
        """
        Send C{payload} (UTF-8 JSON) as one text message; the state must be open.

        Whatever its size: C{[server] max_frame_size} (Autobahn's
        C{maxMessagePayloadSize}) limits what a station may send, not the
        commands and replies the central system sends, on both paths.
        """
        if (
            (type(self) in FAST.ready or FAST.first_use(self))
            and self.state == _STATE_OPEN
            and self.send_state == _SEND_STATE_GROUND
            and not self.send_queue
            and self._perMessageCompress is None
            and not self.autoFragmentSize
            and not self.maskServerFrames
            and not (self.logFrames or self.logOctets or self.trackedTimings)
        ):
            write_now(self.transport, text_frame(payload))
            return
        limit = self.maxMessagePayloadSize
        self.maxMessagePayloadSize = 0
        try:
            self.sendMessage(payload, False)  # type: ignore[attr-defined]
        finally:
            self.maxMessagePayloadSize = limit


def write_now(transport: Any, data: bytes) -> None:
    """
    Write C{data} to C{transport}; on a plain TCP connection (accepted, or
    made: the webhook's requests) with nothing waiting to be written, hand
    it to the socket at once.

    C{transport.write} always buffers and asks the reactor to tell it when
    the socket is writable, which costs two C{epoll_ctl} calls and one more
    reactor event per reply. Sending right away when the buffer is empty
    keeps the order of bytes the same, and whatever the socket does not
    take (or an error) goes through C{transport.write} as before, so the
    reactor finishes the job or reports the error as usual. TLS (a TLS
    wrapper, or TLS started on the TCP connection itself) and other
    transports always use C{transport.write}.
    """
    kind = type(transport)
    if (
        (kind is TCPServer or kind is TCPClient)
        and (kind in FAST.ready or FAST.first_use(transport))
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataLen
        and len(transport.dataBuffer) == transport.offset
    ):
        try:
            sent = transport.socket.send(data)
        except OSError:  # would block, interrupted, or broken: leave it to the reactor
            sent = 0
        if sent < len(data):
            transport.write(data[sent:] if sent else data)
    else:
        transport.write(data)


#: Frames up to this size are unmasked by L{IntXorMasker}; longer ones by Autobahn's.
SMALL_FRAME = 1024


class IntXorMasker:
    """
    A WebSocket (un)masker (RFC 6455, 5.3) with Autobahn's masker interface
    (C{process}, C{pointer}, C{reset}), XOR-ing the payload as one Python
    integer. For OCPP's frames of a few hundred bytes it costs about a third
    of creating and running Autobahn's CFFI masker (measured 0.6-1.2 µs
    against 2.3 µs per frame); from about 1 KB on, Autobahn's is faster.
    """

    __slots__ = ("_mask", "_ptr")

    def __init__(self, mask: bytes) -> None:
        self._mask = bytes(mask)
        self._ptr = 0

    def pointer(self) -> int:
        """How many payload bytes were processed so far."""
        return self._ptr

    def reset(self) -> None:
        """Start again at the first mask byte."""
        self._ptr = 0

    def process(self, data: bytes) -> bytes:
        """
        C{data}, the next part of the payload, XOR the mask (continuing at
        the mask byte where the last part ended).
        """
        n = len(data)
        if not n:
            return b""
        shift = self._ptr & 3
        mask = self._mask[shift:] + self._mask[:shift]
        key = (mask * ((n >> 2) + 1))[:n]
        self._ptr += n
        return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(
            n, "little"
        )


_autobahn_masker = _autobahn_protocol.create_xor_masker


def create_xor_masker(mask: bytes, length: int | None = None) -> Any:
    """Autobahn's C{create_xor_masker}, with L{IntXorMasker} for small frames."""
    if length is not None and length <= SMALL_FRAME:
        return IntXorMasker(mask)
    return _autobahn_masker(mask, length)  # type: ignore[misc]  # set whenever this is installed


def install_masker() -> None:
    """
    Make Autobahn's frame parser and writer use L{create_xor_masker}
    (process-wide; idempotent). Called by L{FastPath.check} when this module is
    imported.
    """
    _autobahn_protocol.create_xor_masker = create_xor_masker


FAST.check()
