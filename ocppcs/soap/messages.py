# -*- test-case-name: tests.soap.test_mapping,tests.soap.test_cp_client -*-
"""
One OCPP-S message <-> its 1.6 JSON payload, for either service and version.

    Side(service, version)      the side being called: "cp" (a station's
                                Charge Point service) or "cs" (the central
                                system service), "1.5" or "1.6"
      .request(action, payload)          -> (Operation, body element)
      .reply(action, body element)       -> 1.6 payload     (the caller's end)
      .incoming(body element)            -> (Operation, 1.6 payload)
      .answer(operation, payload)        -> body element    (the callee's end)

1.6 SOAP and 1.6 JSON have the same field names; 1.5 goes through
L{ocppcs.soap.cp15} or L{ocppcs.soap.cs15}. A message that does not fit its
schema raises L{ocppcs.soap.codec.SoapDataError}; a 1.6 message 1.5 cannot
carry raises L{ocppcs.soap.cp15.NotIn15}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ocppcs.soap import cp15, cs15
from ocppcs.soap.codec import SoapDataError, from_xml, to_xml
from ocppcs.soap.contract import NAMESPACES, Contract, Operation, contract

Mapper = Callable[[str, dict[str, Any]], dict[str, Any]]


def _same(action: str, data: dict[str, Any]) -> dict[str, Any]:
    return data


# (service, version) -> (request out, reply in, request in, reply out): the caller's
# request to the wire, the wire's reply to 1.6; the callee's request to 1.6, its reply to the wire.
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
        cs15.request_from_15,
        cs15.response_to_15,
    ),
}


@dataclass(frozen=True)
class Side:
    """One service of one version, and how its messages map to 1.6 JSON."""

    service: str
    version: str

    @property
    def contract(self) -> Contract:
        """The service's WSDL contract."""
        return contract(self.service, self.version)

    @property
    def namespace(self) -> str:
        """The service's namespace (C{chargeBoxIdentity} is in it too)."""
        return self.contract.namespace

    def operation(self, action: str) -> Operation:
        """The operation C{action}, or L{cp15.NotIn15} / C{KeyError}."""
        op = self.contract.operations.get(action)
        if op is None:
            if self.version == "1.5":
                raise cp15.NotIn15(f"{action} is not an OCPP 1.5 operation")
            raise KeyError(action)
        return op

    def request(self, action: str, payload: dict[str, Any]) -> tuple[Operation, etree._Element]:
        """The body element of request C{action} carrying the 1.6 C{payload}."""
        op = self.operation(action)
        data = _MAPPERS[(self.service, self.version)][0](action, payload)
        return op, to_xml(self.contract, op.request, data)

    def reply(self, action: str, body: etree._Element) -> dict[str, Any]:
        """The 1.6 payload of the reply C{body} to C{action}."""
        op = self.operation(action)
        expected = f"{{{self.namespace}}}{op.response}"
        if body.tag != expected:
            raise SoapDataError(f"expected {expected} in the Body, got {body.tag}", "$")
        data = from_xml(self.contract, body)
        return _MAPPERS[(self.service, self.version)][1](action, data)

    def incoming(self, body: etree._Element) -> tuple[Operation, dict[str, Any]]:
        """
        The operation and 1.6 payload of a request C{body} received.

        @raise KeyError: the element is not a request of this service (the
            caller answers NotImplemented or NotSupported).
        """
        q = etree.QName(body)
        found = self.contract.by_element(q.localname) if q.namespace == self.namespace else None
        if found is None or found[1]:
            raise KeyError(q.text)
        op = found[0]
        data = from_xml(self.contract, body)
        return op, _MAPPERS[(self.service, self.version)][2](op.name, data)

    def answer(self, op: Operation, payload: dict[str, Any]) -> etree._Element:
        """The response body of C{op} carrying the 1.6 C{payload}."""
        data = _MAPPERS[(self.service, self.version)][3](op.name, payload)
        return to_xml(self.contract, op.response, data)


#: The namespace of each service and version -> its L{Side}.
BY_NAMESPACE = {ns: Side(*key) for key, ns in NAMESPACES.items()}
