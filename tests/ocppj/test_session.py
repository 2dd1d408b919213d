"""
Tests for L{ocppcs.ocppj.session}: inbound dispatch and CALLERRORs, and the
per-station outbound call queue, on a L{Clock} without sockets.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationDisconnected,
)
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.ocppj.session import OcppSession
from ocppcs.testing import MemoryBackend
from ocppcs.v16.central import CentralSystem

SCHEMAS = SchemaSet()
BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


class Harness:
    """A session wired to a MemoryBackend, capturing what it sends."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.backend = MemoryBackend()
        self.sent: list[list[Any]] = []
        self.session = OcppSession(
            "CP1",
            "acct",
            "tcp:127.0.0.1:5000",
            lambda data: self.sent.append(orjson.loads(data)),
            self.clock,
            CentralSystem(self.backend, self.backend, self.clock),
            SCHEMAS,
            self.backend.record_frame,
            default_timeout=30,
        )

    def receive(self, message: Any) -> list[Any]:
        """Feed one frame; return the frame sent in answer (if any)."""
        before = len(self.sent)
        data = message if isinstance(message, bytes) else orjson.dumps(message)
        self.session.text_received(data)
        return self.sent[before] if len(self.sent) > before else []

    def boot(self) -> None:
        assert self.receive([2, "b", "BootNotification", BOOT])[0] == 3


def result(d: Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "Deferred has not fired"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


def failure_of(d: Deferred[Any]) -> Failure:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out and isinstance(out[0], Failure), out
    return out[0]


# --- inbound ------------------------------------------------------------------------------


def test_boot_then_heartbeat() -> None:
    """An Accepted BootNotification lets other calls through; replies carry the uniqueId."""
    h = Harness()
    reply = h.receive([2, "1", "BootNotification", BOOT])
    assert reply[:2] == [3, "1"] and reply[2]["status"] == "Accepted"
    assert h.receive([2, "2", "Heartbeat", {}])[:2] == [3, "2"]
    assert [c[0].action for c in h.backend.calls] == ["BootNotification", "Heartbeat"]
    ctx = h.backend.calls[0][0]
    assert (ctx.identity, ctx.account, ctx.unique_id) == ("CP1", "acct", "1")


def test_security_error_before_accepted() -> None:
    """A station never Accepted gets SecurityError for anything but BootNotification."""
    h = Harness()
    reply = h.receive([2, "1", "Heartbeat", {}])
    assert reply[:3] == [4, "1", "SecurityError"]
    assert h.backend.calls == []


def test_security_error_after_rejected_boot() -> None:
    """After a Rejected BootNotification, calls are refused with SecurityError."""
    h = Harness()
    h.backend.boot_status = "Rejected"
    assert h.receive([2, "1", "BootNotification", BOOT])[2]["status"] == "Rejected"
    assert h.receive([2, "2", "Heartbeat", {}])[2] == "SecurityError"


def test_previously_accepted_station_needs_no_new_boot() -> None:
    """A station Accepted before (e.g. before a restart) may call without booting again."""
    h = Harness()
    h.backend.accepted.add("CP1")
    assert h.receive([2, "1", "Heartbeat", {}])[0] == 3


@pytest.mark.parametrize(
    "message, code",
    [
        ([2, "1", "Teleport", {}], "NotImplemented"),
        ([2, "1", "RemoteStartTransaction", {"idTag": "x"}], "NotSupported"),
        ([2, "1", "CertificateSigned", {"certificateChain": "x"}], "NotSupported"),
        ([2, "1", "StatusNotification", {"connectorId": 1}], "OccurenceConstraintViolation"),
        (
            [
                2,
                "1",
                "StatusNotification",
                {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
            ],
            "TypeConstraintViolation",
        ),
        (
            [
                2,
                "1",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "On"},
            ],
            "PropertyConstraintViolation",
        ),
        ([2, "1", "Heartbeat", {"extra": True}], "FormationViolation"),
    ],
)
def test_bad_calls_get_the_right_callerror(message: list[Any], code: str) -> None:
    """Unknown actions, wrong direction and schema failures each get their CALLERROR code."""
    h = Harness()
    h.boot()
    reply = h.receive(message)
    assert reply[:3] == [4, "1", code]
    assert isinstance(reply[3], str) and reply[3]


def test_unparseable_frames_get_formation_violation() -> None:
    """A frame that is not a JSON array gets CALLERROR "-1"; a readable id is used."""
    h = Harness()
    assert h.receive(b"{{{")[:3] == [4, "-1", "FormationViolation"]
    assert h.receive(b'[2, "abc", "Heartbeat"]')[:3] == [4, "abc", "FormationViolation"]
    h.session.binary_received()
    assert h.sent[-1][:3] == [4, "-1", "FormationViolation"]


def test_backend_bug_becomes_internal_error() -> None:
    """An unexpected exception in the backend is answered with InternalError, not a crash."""
    h = Harness()
    h.boot()

    def broken(ctx: Any, payload: Any) -> Any:
        raise RuntimeError("disk on fire")

    h.backend.decide = broken  # type: ignore[method-assign]
    assert h.receive([2, "9", "Heartbeat", {}])[:3] == [4, "9", "InternalError"]


def test_invalid_backend_reply_becomes_internal_error() -> None:
    """A reply that fails the response schema is never sent; InternalError is."""
    h = Harness()
    h.boot()
    h.backend.hold["Heartbeat"] = succeed({"currentTime": 5})
    assert h.receive([2, "9", "Heartbeat", {}])[:3] == [4, "9", "InternalError"]


def test_reply_waits_for_backend() -> None:
    """The reply is sent only when the backend's Deferred fires (after storing)."""
    h = Harness()
    h.boot()
    pending: Deferred[dict[str, Any]] = Deferred()
    h.backend.hold["StatusNotification"] = pending
    assert (
        h.receive(
            [
                2,
                "5",
                "StatusNotification",
                {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
            ]
        )
        == []
    )
    pending.callback({})
    assert h.sent[-1] == [3, "5", {}]


def test_frames_are_recorded_both_ways() -> None:
    """Every frame in and out reaches the frame sink with its direction and action."""
    h = Harness()
    h.boot()
    kinds = [(f.direction, f.message_type, f.unique_id, f.action) for f in h.backend.frames]
    assert kinds == [("in", 2, "b", "BootNotification"), ("out", 3, "b", "BootNotification")]


# --- outbound -----------------------------------------------------------------------------


def test_call_result() -> None:
    """A CALL is sent; the station's CALLRESULT fires the Deferred with its payload."""
    h = Harness()
    d = h.session.call("Reset", {"type": "Soft"})
    call = h.sent[-1]
    assert call[0] == 2 and call[2:] == ["Reset", {"type": "Soft"}]
    h.receive([3, call[1], {"status": "Accepted"}])
    assert result(d) == {"status": "Accepted"}


def test_one_call_in_flight_rest_queued_in_order() -> None:
    """Only one CALL is outstanding; the others are sent in order as replies arrive."""
    h = Harness()
    d1 = h.session.call("ClearCache", {})
    d2 = h.session.call("Reset", {"type": "Hard"})
    d3 = h.session.call("GetLocalListVersion", {})
    assert [m[2] for m in h.sent] == ["ClearCache"]
    assert h.session.queued == 2
    h.receive([3, h.sent[-1][1], {"status": "Accepted"}])
    assert [m[2] for m in h.sent] == ["ClearCache", "Reset"]
    h.receive([3, h.sent[-1][1], {"status": "Accepted"}])
    h.receive([3, h.sent[-1][1], {"listVersion": 3}])
    assert [m[2] for m in h.sent] == ["ClearCache", "Reset", "GetLocalListVersion"]
    assert (result(d1), result(d2), result(d3)) == (
        {"status": "Accepted"},
        {"status": "Accepted"},
        {"listVersion": 3},
    )


def test_timeout_then_next_call() -> None:
    """A call with no reply fails with CallTimeout at its deadline; the next one goes out."""
    h = Harness()
    d1 = h.session.call("ClearCache", {}, timeout=5)
    d2 = h.session.call("ClearCache", {}, timeout=5)
    first_id = h.sent[-1][1]
    h.clock.advance(4.9)
    assert len(h.sent) == 1
    h.clock.advance(0.2)
    assert failure_of(d1).check(CallTimeout)
    assert len(h.sent) == 2
    # A late reply to the timed-out call is ignored, not taken for the second.
    h.receive([3, first_id, {"status": "Accepted"}])
    h.receive([3, h.sent[-1][1], {"status": "Rejected"}])
    assert result(d2) == {"status": "Rejected"}


def test_callerror_from_station() -> None:
    """A CALLERROR reply fails the call with StationCallError carrying its fields."""
    h = Harness()
    d = h.session.call("ClearCache", {})
    h.receive([4, h.sent[-1][1], "NotSupported", "nope", {"x": 1}])
    error = failure_of(d).value
    assert isinstance(error, StationCallError)
    assert (error.error_code, error.error_description, error.error_details) == (
        "NotSupported",
        "nope",
        {"x": 1},
    )


def test_invalid_reply() -> None:
    """A CALLRESULT that fails the response schema fails the call with InvalidReply."""
    h = Harness()
    d = h.session.call("ClearCache", {})
    h.receive([3, h.sent[-1][1], {"status": "Perhaps"}])
    assert failure_of(d).check(InvalidReply)


def test_invalid_command_is_not_sent() -> None:
    """An unknown action or a payload failing its schema fails at once; nothing is sent."""
    h = Harness()
    assert failure_of(h.session.call("Teleport", {})).check(InvalidCommand)
    assert failure_of(h.session.call("BootNotification", BOOT)).check(InvalidCommand)
    error = failure_of(h.session.call("Reset", {"type": "Gentle"})).value
    assert isinstance(error, InvalidCommand) and error.path == "$.type"
    assert h.sent == []


def test_disconnect_fails_in_flight_and_queued() -> None:
    """Losing the connection fails the call in flight and every queued call at once."""
    h = Harness()
    d1 = h.session.call("ClearCache", {})
    d2 = h.session.call("ClearCache", {})
    h.session.connection_lost("gone")
    assert failure_of(d1).check(StationDisconnected)
    assert failure_of(d2).check(StationDisconnected)
    assert failure_of(h.session.call("ClearCache", {})).check(StationDisconnected)
    assert h.clock.getDelayedCalls() == []


def test_cancel_withdraws_queued_call() -> None:
    """Cancelling a queued call removes it; it is never sent."""
    h = Harness()
    h.session.call("ClearCache", {})
    d2 = h.session.call("Reset", {"type": "Soft"})
    d2.cancel()
    h.receive([3, h.sent[-1][1], {"status": "Accepted"}])
    assert [m[2] for m in h.sent] == ["ClearCache"]


def test_crossing_calls() -> None:
    """A station CALL arriving while a central CALL is in flight is answered independently."""
    h = Harness()
    h.boot()
    d = h.session.call("ClearCache", {})
    out_id = h.sent[-1][1]
    assert h.receive([2, "hb", "Heartbeat", {}])[:2] == [3, "hb"]
    h.receive([3, out_id, {"status": "Accepted"}])
    assert result(d) == {"status": "Accepted"}
