"""
Tests for the live log feed L{ocppcs.web.logfeed} without the service: the
encoding of each kind of frame, and how the feed hands frames to its readers
(skipping closing, slow and broken ones, and staying off the frame fan-out
while nobody reads).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ocppcs.backends.interface import FrameRecord
from ocppcs.framelog import FrameFanout
from ocppcs.web import logfeed
from ocppcs.web.logfeed import LogFeed, encode_frame, iso_time, unsent_bytes


def record(direction: str, message_type: int, raw: bytes, action: str = "", uid: str = "1") -> Any:
    """A frame of station CP1, logged at 1700000000.5."""
    return FrameRecord(1700000000.5, "CP1", direction, message_type, uid, action, raw)


def test_iso_time() -> None:
    """Milliseconds, UTC, with a Z."""
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1700000000.5) == "2023-11-14T22:13:20.500Z"
    assert iso_time(1700000000.0999) == "2023-11-14T22:13:20.099Z"


def test_encode_call() -> None:
    """A CALL gives every field: its time, identity, direction, type, uniqueId, action, payload."""
    entry = orjson.loads(encode_frame(record("in", 2, b'[2,"1","Heartbeat",{}]', "Heartbeat")))
    assert entry == {
        "ts": "2023-11-14T22:13:20.500Z",
        "identity": "CP1",
        "direction": "in",
        "messageType": "Call",
        "uniqueId": "1",
        "action": "Heartbeat",
        "payload": {},
    }


def test_encode_call_result() -> None:
    """A CALLRESULT carries the action of its CALL and its payload, and no errorCode."""
    raw = b'[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]'
    entry = orjson.loads(encode_frame(record("out", 3, raw, "Heartbeat")))
    assert entry["messageType"] == "CallResult"
    assert entry["action"] == "Heartbeat"
    assert entry["payload"] == {"currentTime": "2024-01-01T00:00:00Z"}
    assert "errorCode" not in entry


def test_encode_call_error() -> None:
    """errorCode and errorDescription are added; the payload is errorDetails."""
    raw = b'[4,"1","NotSupported","nope",{"why":1}]'
    entry = orjson.loads(encode_frame(record("in", 4, raw, "Reset")))
    assert entry["messageType"] == "CallError"
    assert (entry["errorCode"], entry["errorDescription"]) == ("NotSupported", "nope")
    assert entry["payload"] == {"why": 1}


@pytest.mark.parametrize(
    "message_type, raw, action",
    [
        (0, b"not json", ""),
        (0, b"<binary frame>", ""),
        (2, b'[2,"1","Heartbeat",[]]', ""),  # parsed by the session as a bad CALL
        (3, b'[3,"1"]', ""),
        (4, b'[4,"1","X"]', ""),
        (0, b"\xff\xfe", ""),
        # JSON orjson reads but could not write back inside the entry (over 254 levels)
        (2, b'[2,"d","FooBar",{"a":' + b"[" * 300 + b"]" * 300 + b"}]", "FooBar"),
        (2, b'[2,"s","FooBar",{"a":"\\ud800"}]', "FooBar"),  # a lone surrogate escape
    ],
)
def test_encode_invalid(message_type: int, raw: bytes, action: str) -> None:
    """A frame that isn't a well-formed CALL, CALLRESULT or CALLERROR is Invalid, as text."""
    entry = orjson.loads(encode_frame(record("in", message_type, raw, action)))
    assert entry["messageType"] == "Invalid"
    assert entry["payload"] == raw.decode("utf-8", "replace")


def test_no_subscribers_no_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nobody subscribed (or nobody wanting the station), no frame is encoded."""

    def fail(record: FrameRecord) -> bytes:
        raise AssertionError("encoded")

    monkeypatch.setattr(logfeed, "encode_frame", fail)
    feed = LogFeed()
    feed(record("in", 2, b'[2,"1","Heartbeat",{}]', "Heartbeat"))

    class Other:
        identities = frozenset({"CP2"})

    feed.subscribe(Other())  # type: ignore[arg-type]
    feed(record("in", 2, b'[2,"1","Heartbeat",{}]', "Heartbeat"))


class FakeReader:
    """A subscriber as the feed sees it."""

    identities = None
    peer = "tcp4:127.0.0.1:1"

    def __init__(self, state: int = logfeed.OPEN, unsent: int = 0, broken: bool = False) -> None:
        self.state = state
        self.transport = type("T", (), {"dataBuffer": b"x" * unsent, "offset": 0})()
        self.broken = broken
        self.sent: list[bytes] = []
        self.dropped = False

    def sendMessage(self, data: bytes, isBinary: bool) -> None:
        if self.broken:
            raise RuntimeError("gone")
        self.sent.append(data)

    def too_slow(self) -> None:
        self.dropped = True


def test_feed_skips_closing_slow_and_broken_readers() -> None:
    """One bad reader never keeps a frame from the others."""
    feed = LogFeed(max_buffer=100)
    good, closing = FakeReader(), FakeReader(state=logfeed.OPEN + 1)
    slow, broken = FakeReader(unsent=101), FakeReader(broken=True)
    for reader in (broken, slow, closing, good):
        feed.subscribe(reader)  # type: ignore[arg-type]
    feed(record("in", 2, b'[2,"1","Heartbeat",{}]', "Heartbeat"))
    assert len(good.sent) == 1 and orjson.loads(good.sent[0])["action"] == "Heartbeat"
    assert closing.sent == [] and slow.sent == []
    assert slow.dropped and feed.dropped == 1
    assert feed.subscriber_count == 3  # the broken one is gone; too_slow() unsubscribes itself


def test_sink_only_while_subscribed() -> None:
    """The feed is on the frame fan-out only while it has subscribers (free otherwise)."""
    frames = FrameFanout()
    resource = logfeed.build_log_feed(None, frames)
    assert frames.sinks == []
    first, second = object(), object()
    resource.feed.subscribe(first)  # type: ignore[arg-type]
    resource.feed.subscribe(second)  # type: ignore[arg-type]
    assert frames.sinks == [resource.feed]
    resource.feed.unsubscribe(first)  # type: ignore[arg-type]
    assert frames.sinks == [resource.feed]
    resource.feed.unsubscribe(second)  # type: ignore[arg-type]
    resource.feed.unsubscribe(second)  # type: ignore[arg-type]
    assert frames.sinks == []


def test_unsent_bytes() -> None:
    """A TCP transport's unsent bytes, found through a wrapping transport; 0 when unknown."""

    class Tcp:
        dataBuffer = b"x" * 100
        offset = 30
        _tempDataLen = 5

    class Wrapper:
        transport = Tcp()

    assert unsent_bytes(Tcp()) == 75
    assert unsent_bytes(Wrapper()) == 75
    assert unsent_bytes(object()) == 0
    assert unsent_bytes(None) == 0
