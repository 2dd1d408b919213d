# -*- test-case-name: tests.web.test_logfeed_service,tests.web.test_logfeed_encoding -*-
"""
The live log feed: every OCPP frame in and out, as it happens, over WebSocket.

    ws://HOST:PORT/ws/log                        every station
    ws://HOST:PORT/ws/log?identity=CP1           only CP1
    ws://HOST:PORT/ws/log?identity=CP1&identity=CP2

The filter is the C{identity} query parameter (repeat it for several
stations); other query parameters are ignored. Any path below /ws/log
(C{/ws/log/CP1}) is refused with 404.

Each frame becomes one JSON text message, with no history replayed::

    {"ts": "2024-05-01T12:00:00.123Z", "identity": "CP1", "direction": "in",
     "messageType": "Call", "uniqueId": "42", "action": "Heartbeat", "payload": {}}

C{direction} is C{in} (from the station) or C{out} (to the station);
C{messageType} is C{Call}, C{CallResult} or C{CallError}, and replies carry
the action of the call they answer. A CALLERROR also has C{errorCode} and
C{errorDescription}, its C{payload} being the errorDetails. A frame that
could not be parsed has C{messageType} C{Invalid} and its text as C{payload}.
Messages from clients are ignored.

Slow readers: before each message the bytes the connection has not yet
written to its socket are checked; beyond C{max_buffer} the client is sent a
close frame (1008, "too slow") and gets nothing more, so memory never grows
with a reader that doesn't keep up. If it doesn't answer the close, the
connection is dropped after C{close_timeout} seconds.

Cost: one frame sink on the central system's L{FrameFanout}; with no
subscriber it returns at once. Otherwise each frame is encoded once
(orjson) and sent to the matching subscribers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.logger import Logger

from ocppcs.backends.interface import FrameRecord
from ocppcs.framelog import FrameFanout
from ocppcs.isotime import iso_time
from ocppcs.ocppj import jsontext

#: The default bound on a subscriber's unsent bytes.
MAX_BUFFER = 1_048_576

#: The WebSocket close code sent to a reader that is too slow (policy violation).
TOO_SLOW = 1008

_PATHS = ("/ws/log", "/ws/log/")
OPEN = WebSocketServerProtocol.STATE_OPEN


def encode_frame(record: FrameRecord) -> bytes:
    """One frame as the feed's JSON message."""
    entry: dict[str, Any] = {
        "ts": iso_time(record.ts),
        "identity": record.identity,
        "direction": record.direction,
        "messageType": "Invalid",
        "uniqueId": record.unique_id,
        "action": record.action,
    }
    raw = record.raw
    frame = jsontext.read(raw)  # None when not JSON or too deep to send on
    kind = record.message_type
    if type(frame) is list and frame and frame[0] == kind:
        n = len(frame)
        if kind == 2 and n == 4 and record.action and type(frame[3]) is dict:
            entry["messageType"] = "Call"
            entry["payload"] = frame[3]
        elif kind == 3 and n == 3 and type(frame[2]) is dict:
            entry["messageType"] = "CallResult"
            entry["payload"] = frame[2]
        elif kind == 4 and n == 5 and type(frame[4]) is dict:
            entry["messageType"] = "CallError"
            entry["errorCode"] = frame[2]
            entry["errorDescription"] = frame[3]
            entry["payload"] = frame[4]
    if "payload" not in entry:
        entry["messageType"] = "Invalid"
        entry["payload"] = raw.decode("utf-8", "replace")
    return orjson.dumps(entry)


def unsent_bytes(transport: Any) -> int:
    """
    The bytes written to C{transport} that it has not yet handed to the
    kernel: a Twisted TCP transport's buffers, looked up through wrapping
    transports (TLS). C{0} when no buffer can be found.
    """
    for _ in range(4):
        if transport is None:
            break
        buffered = getattr(transport, "dataBuffer", None)
        if buffered is not None:
            return (
                len(buffered)
                - getattr(transport, "offset", 0)
                + getattr(transport, "_tempDataLen", 0)
            )
        transport = getattr(transport, "transport", None)
    return 0


class LogFeedProtocol(WebSocketServerProtocol):
    """
    One log feed client.

    @ivar identities: the stations it wants, or C{None} for all.
    """

    factory: LogFeedFactory
    _log = Logger()
    identities: frozenset[str] | None = None

    def onConnect(self, request: ConnectionRequest) -> None:
        paths = self.factory.paths
        if request.path not in paths:
            raise ConnectionDeny(404, f"Not found: the feed is {paths[0]}[?identity=ID]")
        wanted = request.params.get("identity")
        if wanted:
            self.identities = frozenset(wanted)
        return None

    def onOpen(self) -> None:
        self.factory.feed.subscribe(self)

    def onMessageFrameData(self, payload: bytes) -> None:
        # Client messages are ignored: drop their data as it arrives rather
        # than collecting a whole message (however many fragments) first.
        return None

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        return None

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.feed.unsubscribe(self)

    def too_slow(self) -> None:
        """Stop feeding this reader and close its connection."""
        self.factory.feed.unsubscribe(self)
        self._log.warn("Log feed reader {peer} is too slow; closing its connection", peer=self.peer)
        self.sendCloseFrame(code=TOO_SLOW, reasonUtf8=b"too slow", isReply=False)


class LogFeed:
    """
    The frame sink that feeds the subscribers.

    @ivar max_buffer: a subscriber with more unsent bytes than this is dropped.
    @ivar dropped: how many subscribers were dropped for being too slow.
    """

    _log = Logger()

    def __init__(
        self,
        max_buffer: int = MAX_BUFFER,
        frames: FrameFanout | None = None,
        encode: Callable[[FrameRecord], bytes | None] = encode_frame,
    ) -> None:
        """
        @param max_buffer: a subscriber with more unsent bytes than this is dropped.
        @param frames: the frame fan-out; the feed is on it only while it has
            subscribers, so it costs nothing otherwise.
        @param encode: a frame as the feed's message, or C{None} to send nothing
            (the event feed, L{ocppcs.web.eventfeed}, sends only some frames).
        """
        self._encode = encode
        self.max_buffer = max_buffer
        self.dropped = 0
        self._frames = frames
        self._subscribers: dict[LogFeedProtocol, None] = {}

    @property
    def subscriber_count(self) -> int:
        """How many clients are subscribed."""
        return len(self._subscribers)

    def subscribe(self, subscriber: LogFeedProtocol) -> None:
        """Send C{subscriber} every frame from now on (that its filter wants)."""
        if not self._subscribers and self._frames is not None:
            self._frames.add(self)
        self._subscribers[subscriber] = None

    def unsubscribe(self, subscriber: LogFeedProtocol) -> None:
        """Stop sending frames to C{subscriber}."""
        if self._subscribers.pop(subscriber, False) is None and not self._subscribers:
            if self._frames is not None and self in self._frames.sinks:
                self._frames.remove(self)

    def __call__(self, record: FrameRecord) -> None:
        if not self._subscribers:
            return
        identity = record.identity
        targets = [s for s in self._subscribers if s.identities is None or identity in s.identities]
        if not targets:
            return
        data = self._encode(record)
        if data is not None:
            self._send(targets, data)

    def publish(self, identity: str, data: bytes) -> None:
        """Send C{data} (one JSON message about C{identity}) to the subscribers that want it."""
        targets = [s for s in self._subscribers if s.identities is None or identity in s.identities]
        if targets:
            self._send(targets, data)

    def _send(self, targets: list[LogFeedProtocol], data: bytes) -> None:
        limit = self.max_buffer
        for subscriber in targets:
            if subscriber.state != OPEN:
                continue  # closing: onClose will unsubscribe it
            try:
                if unsent_bytes(subscriber.transport) > limit:
                    self.dropped += 1
                    subscriber.too_slow()
                else:
                    subscriber.sendMessage(data, False)
            except Exception:
                self._log.failure("Feeding log reader {peer} failed", peer=subscriber.peer)
                self.unsubscribe(subscriber)


class LogFeedFactory(WebSocketServerFactory):
    """Builds L{LogFeedProtocol}s fed by one L{LogFeed}."""

    protocol = LogFeedProtocol  # type: ignore[assignment]  # Autobahn's factory: Twisted's generic unbound

    def __init__(
        self,
        feed: LogFeed,
        reactor: Any,
        close_timeout: float = 5.0,
        paths: tuple[str, ...] = _PATHS,
    ) -> None:
        super().__init__(reactor=reactor)
        self.feed = feed
        #: The request paths it accepts (the first is named in the 404).
        self.paths = paths
        # The frame limit applies to what clients send (ignored anyway); messages
        # sent are only limited by the station endpoint's max_frame_size.
        self.setProtocolOptions(
            maxFramePayloadSize=4096,
            openHandshakeTimeout=30,
            closeHandshakeTimeout=close_timeout,
            failByDrop=False,
            webStatus=False,
        )


class LogFeedResource(WebSocketResource):
    """
    The C{/ws/log} resource.

    @ivar feed: the L{LogFeed} it serves (its sink is on the frame fan-out).
    """

    def __init__(self, factory: LogFeedFactory) -> None:
        super().__init__(factory)
        self.feed = factory.feed


def build_log_feed(
    reactor: Any,
    frames: FrameFanout,
    max_buffer: int = MAX_BUFFER,
    close_timeout: float = 5.0,
) -> LogFeedResource:
    """
    Build the live log feed; its sink is on C{frames} while it has subscribers.

    @param reactor: the reactor its connections run on.
    @param frames: the central system's frame fan-out.
    @param max_buffer: unsent bytes beyond which a reader is dropped.
    @param close_timeout: seconds a dropped reader has to answer the close.
    """
    feed = LogFeed(max_buffer, frames)
    return LogFeedResource(LogFeedFactory(feed, reactor, close_timeout))
