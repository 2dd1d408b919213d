"""
Tests for L{ocppcs.v16.central}: counting the calls being answered, and
dropping what a station sends once its connection is closing (shutdown).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from tests.ocppj.test_session import Harness

STATUS = {"connectorId": 1, "status": "Available", "errorCode": "NoError"}


def test_drained_fires_once_every_call_being_answered_is_answered() -> None:
    h = Harness()
    h.boot()
    central = h.session._receiver  # the CentralSystem
    first: Deferred[dict[str, Any]] = Deferred()
    h.backend.hold["StatusNotification"] = first
    assert h.receive([2, "s1", "StatusNotification", STATUS]) == []
    second: Deferred[dict[str, Any]] = Deferred()
    h.backend.hold["Heartbeat"] = second
    assert h.receive([2, "h1", "Heartbeat", {}]) == []
    assert central.answering == 2
    drained: list[None] = []
    central.drained().addCallback(drained.append)
    first.callback({})
    assert drained == [] and central.answering == 1
    second.errback(RuntimeError("store gone"))  # failures count as answered too
    assert drained == [None] and central.answering == 0
    assert [frame[1] for frame in h.sent[1:]] == ["s1", "h1"]
    assert h.sent[2][0] == 4 and h.sent[2][2] == "InternalError"


def test_drained_fires_at_once_when_nothing_is_being_answered() -> None:
    h = Harness()
    drained: list[None] = []
    h.session._receiver.drained().addCallback(drained.append)
    assert drained == [None]


def test_frames_arriving_once_the_connection_is_closing_are_dropped_unanswered() -> None:
    h = Harness()
    h.boot()
    calls = len(h.backend.calls)
    h.session.connection_lost("central system shutting down")
    assert h.receive([2, "s1", "StatusNotification", STATUS]) == []
    assert h.receive(b"not json") == []
    h.session.binary_received()
    assert len(h.sent) == 1  # only the BootNotification's answer
    assert len(h.backend.calls) == calls
