# -*- test-case-name: tests.transports.test_lean_internals -*-
"""
What L{ocppcs.transports.lean} uses of Autobahn and Twisted beyond their
public API, and the check that it is still there.

These are private methods and attributes; a new release of either library
may rename or remove them without notice. C{setup.cfg} bounds both libraries
to the releases the fast path was measured and tested with; beyond that,
L{problems} runs when C{lean} is imported (and the test suite checks every
entry, instance attributes included), so that a changed library makes the
fast path step aside, with a warning, instead of failing connections.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Literal

Kind = Literal["function", "method", "int", "attribute", "instance"]

_KINDS = {
    "function": "a function",
    "method": "a method",
    "int": "an int constant",
    "attribute": "a class attribute",
    "instance": "an instance attribute",
}


@dataclass(frozen=True)
class Internal:
    """
    One private name C{lean} relies on.

    @ivar owner: C{module} or C{module:Class} where it lives.
    @ivar name: the attribute's name.
    @ivar kind: C{function} (module level) or C{method}, with the leading
        parameter names C{params}; C{int}; C{attribute} (set on the class);
        C{instance} (set on each instance, so only an instance can be checked:
        L{instance_problems}).
    """

    owner: str
    name: str
    kind: Kind
    params: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.owner.replace(':', '.')}.{self.name}"

    def expected(self) -> str:
        """What it should be, in words."""
        text = _KINDS[self.kind]
        if self.params:
            text += f" taking ({', '.join(self.params)}, ...)"
        return text

    def resolve(self) -> object:
        """The module or class named by C{owner}."""
        module, _, qualname = self.owner.partition(":")
        found: object = importlib.import_module(module)
        for part in qualname.split(".") if qualname else ():
            found = getattr(found, part)
        return found

    def problem(self) -> str | None:
        """C{None} when it is there as expected (instance attributes: always), else why not."""
        if self.kind == "instance":
            return None
        try:
            value = getattr(self.resolve(), self.name)
        except (ImportError, AttributeError):
            return f"{self} is missing (expected {self.expected()})"
        if self.kind in ("function", "method"):
            if not inspect.isfunction(value):
                return f"{self} is not {self.expected()}: {value!r}"
            names = tuple(inspect.signature(value).parameters)
            if names[: len(self.params)] != self.params:
                return f"{self} takes ({', '.join(names)}), expected {self.expected()}"
        elif self.kind == "int" and type(value) is not int:
            return f"{self} is not {self.expected()}: {value!r}"
        return None


_WS = "autobahn.websocket.protocol:WebSocketProtocol"
_ADAPTER = "autobahn.twisted.websocket:WebSocketAdapterProtocol"
_TCP = "twisted.internet.tcp:Connection"  # what tcp.Server and tcp.Client share

#: Autobahn's: the frame parser, message delivery, send state and masker factory.
#: (C{message_data} and C{message_is_binary}, which C{onMessageBegin} sets, are
#: checked by the test suite only.)
AUTOBAHN: tuple[Internal, ...] = (
    Internal(_WS, "_dataReceived", "method", ("self", "data")),
    Internal(_ADAPTER, "_onMessage", "method", ("self", "payload", "isBinary")),
    Internal(_WS, "onMessageEnd", "method", ("self",)),
    Internal(_WS, "sendMessage", "method", ("self", "payload", "isBinary")),
    Internal(_WS, "STATE_OPEN", "int"),
    Internal(_WS, "SEND_STATE_GROUND", "int"),
    Internal("autobahn.websocket.protocol", "create_xor_masker", "function", ("mask", "length")),
    Internal("autobahn.websocket.xormasker", "create_xor_masker", "function", ("mask", "length")),
    Internal(_WS, "state", "instance"),
    Internal(_WS, "send_state", "instance"),
    Internal(_WS, "send_queue", "instance"),
    Internal(_WS, "_perMessageCompress", "instance"),
    Internal(_WS, "trackedTimings", "instance"),
    Internal(_WS, "failedByMe", "instance"),
    Internal(_WS, "autoFragmentSize", "instance"),
    Internal(_WS, "logFrames", "instance"),
    Internal(_WS, "logOctets", "instance"),
    Internal("autobahn.websocket.protocol:WebSocketServerProtocol", "maskServerFrames", "instance"),
    Internal(_WS, "maxMessagePayloadSize", "instance"),
)

#: Twisted's: a TCP connection's write buffer (server or client side), which C{write_now} looks at.
TWISTED: tuple[Internal, ...] = (
    Internal(_TCP, "connected", "attribute"),
    Internal(_TCP, "disconnecting", "attribute"),
    Internal(_TCP, "_writeDisconnected", "attribute"),
    Internal(_TCP, "TLS", "attribute"),
    Internal(_TCP, "dataBuffer", "attribute"),
    Internal(_TCP, "offset", "attribute"),
    Internal(_TCP, "_tempDataLen", "instance"),
    Internal(_TCP, "socket", "instance"),
)

INTERNALS = AUTOBAHN + TWISTED


def problems(internals: tuple[Internal, ...] = INTERNALS) -> list[str]:
    """Why each of C{internals} that is not as expected is not (empty when all are)."""
    return [p for p in (i.problem() for i in internals) if p is not None]


def instance_problems(obj: object, internals: tuple[Internal, ...] = INTERNALS) -> list[str]:
    """
    The C{instance} attributes among C{internals}, of the class C{obj} is an
    instance of, that C{obj} lacks.
    """
    return [
        f"{i} is missing on {obj!r} (expected {i.expected()})"
        for i in internals
        if i.kind == "instance" and isinstance(obj, _class(i)) and not hasattr(obj, i.name)
    ]


def _class(internal: Internal) -> type:
    owner = internal.resolve()
    assert isinstance(owner, type), internal.owner
    return owner
