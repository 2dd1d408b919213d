"""
The private parts of Autobahn and Twisted that L{ocppcs.transports.lean} uses
(L{ocppcs.transports.internals}) are there, as lean.py expects them; and when
one is not, the fast path switches itself off with one warning.

A failure here after upgrading Autobahn or Twisted means: read lean.py again
against the new release before widening the bounds in setup.cfg.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import autobahn
import autobahn.websocket.protocol as autobahn_protocol
import pytest
from autobahn.twisted.websocket import (
    WebSocketAdapterProtocol,
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.protocol import WebSocketProtocol
from twisted.internet import abstract, tcp
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, globalLogPublisher

import twisted
from ocppcs.transports import lean
from ocppcs.transports.internals import INTERNALS, Internal, instance_problems, problems
from tests.integration.test_lean_frames import _tcp_server


def recheck(what: str) -> str:
    """The failure message: what changed, and what to do about it."""
    return (
        f"{what}. ocppcs.transports.lean relies on it: re-check lean.py against Autobahn "
        f"{autobahn.__version__} / Twisted {twisted.__version__}, then update "
        "ocppcs/transports/internals.py and the bounds in setup.cfg."
    )


@pytest.mark.parametrize("internal", [i for i in INTERNALS if i.kind != "instance"], ids=str)
def test_class_and_module_internals_are_there(internal: Internal) -> None:
    problem = internal.problem()
    assert problem is None, recheck(problem or "")


def test_autobahns_own_masker_factory_is_kept() -> None:
    """What L{lean.create_xor_masker} falls back to is Autobahn's, taking (mask, length)."""
    masker = lean._autobahn_masker
    assert inspect.isfunction(masker) and masker is not lean.create_xor_masker, recheck(
        f"autobahn.websocket.protocol.create_xor_masker was {masker!r} when lean was imported"
    )
    params = tuple(inspect.signature(masker).parameters)
    assert params[:2] == ("mask", "length"), recheck(f"create_xor_masker takes {params}")


def _server() -> WebSocketServerProtocol:
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
    assert isinstance(protocol, WebSocketServerProtocol)
    protocol.makeConnection(StringTransport())
    return protocol


def _client() -> WebSocketClientProtocol:
    factory = WebSocketClientFactory("ws://127.0.0.1:1/ocpp/X")
    factory.protocol = WebSocketClientProtocol
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
    assert isinstance(protocol, WebSocketClientProtocol)
    protocol.makeConnection(StringTransport())
    return protocol


@pytest.mark.parametrize("make", [_server, _client, lambda: _tcp_server()[0]], ids=str)
def test_instance_attributes_are_there(make: Any) -> None:
    """A connected Autobahn server and client, and a Twisted TCP server connection."""
    obj = make()
    checked = [i for i in INTERNALS if i.kind == "instance" and isinstance(obj, i.resolve())]  # type: ignore[arg-type]
    assert checked
    missing = instance_problems(obj)
    assert not missing, recheck("; ".join(missing))


def test_message_begin_sets_what_message_end_reads() -> None:
    protocol = _server()
    protocol.onMessageBegin(False)
    assert protocol.message_data == [] and protocol.message_is_binary is False, recheck(
        "WebSocketProtocol.onMessageBegin no longer sets message_data = [] and message_is_binary"
    )


@pytest.mark.parametrize(
    "function, calls",
    [
        (WebSocketAdapterProtocol.dataReceived, "self._dataReceived(data)"),
        (WebSocketProtocol.onMessageEnd, "self._onMessage(payload, self.message_is_binary)"),
        (WebSocketProtocol.onMessageEnd, 'self.fire("message"'),
        (WebSocketProtocol.processData, "create_xor_masker("),
        (WebSocketProtocol.beginMessageFrame, "create_xor_masker("),
        (abstract.FileDescriptor.write, "_tempDataLen"),
        (abstract.FileDescriptor.doWrite, "self.offset"),
        (tcp.Connection.writeSomeData, "self.socket.send,"),
    ],
    ids=lambda v: getattr(v, "__qualname__", v),
)
def test_what_lean_replaces_still_does_what_it_did(function: Any, calls: str) -> None:
    """
    lean.py replaces these (or reads what they write) with the same effect:
    they must still do it the way it was written against.
    """
    source = inspect.getsource(function)
    assert calls in source, recheck(f"{function.__qualname__} no longer contains {calls!r}")


# --- the check itself, and the switch ---------------------------------------------------------

_WS = "autobahn.websocket.protocol:WebSocketProtocol"


def test_the_check_names_what_is_missing_or_changed() -> None:
    assert problems((Internal(_WS, "_gone", "method"),)) == [
        "autobahn.websocket.protocol.WebSocketProtocol._gone is missing (expected a method)"
    ]
    [wrong] = problems((Internal(_WS, "_dataReceived", "method", ("self", "payload")),))
    assert "_dataReceived takes (self, data)" in wrong
    [not_int] = problems((Internal(_WS, "sendMessage", "int"),))
    assert "sendMessage is not an int constant" in not_int
    assert problems((Internal("no.such.module", "x", "function"),)) == [
        "no.such.module.x is missing (expected a function)"
    ]


@pytest.fixture
def warnings() -> Iterator[list[dict[str, Any]]]:
    """Warnings logged meanwhile; the fast path checked afresh afterwards."""
    events: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_level") == LogLevel.warn:
            events.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(observe)
        assert lean.FAST.check()


def test_a_missing_internal_switches_the_fast_path_off_with_one_warning(
    warnings: list[dict[str, Any]],
) -> None:
    assert lean.FAST.on and autobahn_protocol.create_xor_masker is lean.create_xor_masker
    assert not lean.FAST.check((*INTERNALS, Internal(_WS, "_gone", "method")))
    assert not lean.FAST.on and not lean.FAST.ready
    assert autobahn_protocol.create_xor_masker is lean._autobahn_masker
    lean.FAST.disable(["something else"])  # still off: no second warning
    assert [e["log_format"].startswith("The fast path") for e in warnings] == [True]
    assert "WebSocketProtocol._gone is missing" in warnings[0]["problems"]
    assert "Re-check lean.py" in warnings[0]["log_format"]


def test_a_missing_instance_attribute_switches_it_off_on_first_use(
    warnings: list[dict[str, Any]],
) -> None:
    assert lean.FAST.check((*INTERNALS, Internal(_WS, "_gone_too", "instance")))
    assert lean.FAST.first_use(StringTransport())  # not an Autobahn protocol: nothing to check
    assert not lean.FAST.first_use(_server())
    assert not lean.FAST.on and len(warnings) == 1
    assert "_gone_too is missing on" in warnings[0]["problems"]
