# -*- test-case-name: tests.soap.test_outbound,tests.soap.test_cp_commands -*-
"""
One OCPP-S message <-> its 1.6 JSON payload, for either service and version,
on the WSDL layer of L{ocppcs.soap.wsdl} and L{ocppcs.soap.codec}.

    Side(service, version)      the side being called: "cp" (a station's
                                Charge Point service) or "cs" (the central
                                system service), "1.5" or "1.6"
      .request(action, payload)          -> (Operation, body element)  the caller's end
      .reply(action, body element)       -> 1.6 payload
      .incoming(body element)            -> (Operation, 1.6 payload)    the callee's end
      .answer(operation, payload)        -> body element

Every element is checked against the WSDL's own XML schema (lxml), going
out and coming in, so nothing the WSDL refuses leaves or is believed; a
problem raises L{SoapDataError}. 1.6 SOAP and 1.6 JSON have the same field
names; 1.5 goes through L{ocppcs.soap.cp15} (Charge Point service, both
ways), L{ocppcs.soap.v15} (the central system's end of the central system
service) and L{ocppcs.soap.cs15} (a station's end of it). A 1.6 message
1.5 cannot carry raises L{ocppcs.soap.cp15.NotIn15}.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ocppcs.soap import codec, cp15, cs15, v15
from ocppcs.soap.wsdl import Operation, Wsdl, service

Mapper = Callable[[str, dict[str, Any]], dict[str, Any]]


class SoapDataError(ValueError):
    """
    A message does not match its WSDL.

    @ivar description: what is wrong (lxml's schema message).
    @ivar path: where, as a JSON path (C{$.status}).
    """

    def __init__(self, description: str, path: str = "$") -> None:
        super().__init__(f"{description} (at {path})")
        self.description = description
        self.path = path


def _same(action: str, data: dict[str, Any]) -> dict[str, Any]:
    return data


# (service, version) -> (request out, reply in, request in, reply out): the caller's request
# to the wire and the wire's reply to 1.6; the callee's request to 1.6 and its reply to the wire.
_MAPPERS: dict[tuple[str, str], tuple[Mapper, Mapper, Mapper, Mapper]] = {
    ("cp", "1.6"): (_same, _same, _same, _same),
    ("cs", "1.6"): (_same, _same, _same, _same),
    ("cp", "1.5"): (
        cp15.request_to_15,
        cp15.response_from_15,
        cp15.request_from_15,
        cp15.response_to_15,
    ),
    ("cs", "1.5"): (
        cs15.request_to_15,
        cs15.response_from_15,
        v15.request_to_16,
        v15.reply_from_16,
    ),
}


def _json_path(root: etree._Element, xpath: str | None) -> str:
    """The JSON path of the node lxml's schema error names (C{$.a.b[1]}), or C{$}."""
    try:
        found = root.getroottree().xpath(xpath) if xpath else []
    except etree.XPathError:
        found = []
    node = found[0] if found and isinstance(found[0], etree._Element) else None
    parts: list[str] = []
    while node is not None and node is not root:
        name = etree.QName(node).localname
        parent = node.getparent()
        same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
        parts.append(name + (f"[{same.index(node)}]" if len(same) > 1 else ""))
        node = parent
    return "$" + "".join("." + p for p in reversed(parts))


@dataclass(frozen=True)
class Side:
    """One service of one version, and how its messages map to 1.6 JSON."""

    service: str
    version: str

    @property
    def wsdl(self) -> Wsdl:
        """The service's official WSDL."""
        return service(self.service, self.version)

    @property
    def namespace(self) -> str:
        """The service's namespace (C{chargeBoxIdentity} is in it too)."""
        return self.wsdl.namespace

    def operation(self, action: str) -> Operation:
        """The operation C{action}; L{cp15.NotIn15} in 1.5 (else C{KeyError}) when none."""
        op = self.wsdl.operations.get(action)
        if op is None:
            if self.version == "1.5":
                raise cp15.NotIn15(f"{action} is not an OCPP 1.5 operation")
            raise KeyError(action)
        return op

    def _map(self, step: int, action: str, data: dict[str, Any]) -> dict[str, Any]:
        return _MAPPERS[(self.service, self.version)][step](action, data)

    def _checked(self, element: etree._Element) -> etree._Element:
        schema = self.wsdl.schema
        alone = element if element.getparent() is None else copy.deepcopy(element)
        if not schema.validate(alone):
            problem = schema.error_log.last_error
            raise SoapDataError(problem.message, _json_path(alone, problem.path))
        return element

    def request(self, action: str, payload: dict[str, Any]) -> tuple[Operation, Any]:
        """The body element of request C{action} carrying the 1.6 C{payload}."""
        op = self.operation(action)
        data = self._map(0, action, payload)
        return op, self._checked(codec.encode(self.wsdl, op.request, data))

    def reply(self, action: str, body: etree._Element) -> dict[str, Any]:
        """The 1.6 payload of the reply C{body} to C{action}."""
        op = self.operation(action)
        expected = f"{{{self.namespace}}}{op.response}"
        if body.tag != expected:
            raise SoapDataError(f"expected {expected} in the Body, not {body.tag}")
        data = codec.decode(self.wsdl, self._checked(body))
        return self._map(1, action, data)

    def incoming(self, body: etree._Element) -> tuple[Operation, dict[str, Any]]:
        """
        The operation and 1.6 payload of a request C{body} received.

        @raise KeyError: the element is not a request of this service.
        """
        q = etree.QName(body)
        op = self.wsdl.by_request.get(q.localname) if q.namespace == self.namespace else None
        if op is None:
            raise KeyError(q.text)
        data = codec.decode(self.wsdl, self._checked(body))
        return op, self._map(2, op.name, data)

    def answer(self, op: Operation, payload: dict[str, Any]) -> Any:
        """The response body of C{op} carrying the 1.6 C{payload}."""
        data = self._map(3, op.name, payload)
        return self._checked(codec.encode(self.wsdl, op.response, data))
