# -*- test-case-name: tests.soap.test_codec -*-
"""
The official OCA WSDLs (C{ocppcs/soap/wsdl/}, unchanged), read once: their
XML schema (to validate messages with), their types (to convert messages to
and from dicts, L{ocppcs.soap.codec}) and their operations.

    service("cs", "1.6")   the Central System service of OCPP 1.6 (urn://Ocpp/Cs/2015/10/)
    service("cs", "1.5")   ... of OCPP 1.5 (urn://Ocpp/Cs/2012/06/)
    service("cp", ...)     the Charge Point services (urn://Ocpp/Cp/...)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

WSDL_DIR = Path(__file__).parent / "wsdl"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
NS_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"

FILES = {
    ("cs", "1.5"): "ocpp_centralsystemservice_1.5_final.wsdl",
    ("cs", "1.6"): "OCPP_CentralSystemService_1.6.wsdl",
    ("cp", "1.5"): "ocpp_chargepointservice_1.5_final.wsdl",
    ("cp", "1.6"): "OCPP_ChargePointService_1.6.wsdl",
}
#: The XML schema types the WSDLs use, as themselves (the rest are restrictions of them).
BUILTINS = frozenset({"string", "int", "decimal", "boolean", "dateTime", "anyURI"})


@dataclass(frozen=True, slots=True)
class Field:
    """
    One element of a complex type's sequence.

    @ivar type: a builtin (L{BUILTINS}) or the name of a complex type.
    @ivar many: C{maxOccurs} is more than 1 (a list in the dict).
    """

    name: str
    type: str
    many: bool
    required: bool


@dataclass(frozen=True, slots=True)
class ComplexType:
    """
    A complex type: its fields in sequence order; for simple content (the
    1.5 meter C{value}), the text's builtin type and the attributes.
    """

    fields: tuple[Field, ...]
    text: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    def field(self, name: str) -> Field | None:
        """The field called C{name}, if any."""
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation: its action, body elements and WS-Addressing actions."""

    name: str
    request: str
    response: str
    request_action: str
    response_action: str


class Wsdl:
    """
    One parsed WSDL.

    @ivar namespace: its target namespace.
    @ivar text: the document as published (served as the service's WSDL).
    @ivar schema: validates a body element of this service.
    @ivar types: complex types by name (anonymous ones as C{element/name}).
    @ivar elements: top-level element name -> its type name.
    @ivar operations: by operation name (= OCPP action).
    @ivar by_request: operations by their request element's name.
    """

    def __init__(self, kind: str, version: str, text: bytes) -> None:
        self.kind = kind
        self.version = version
        self.text = text
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(text, parser)
        self.namespace: str = root.get("targetNamespace")
        xsd = root.find(f"{{{NS_WSDL}}}types/{{{NS_XSD}}}schema")
        assert xsd is not None
        self.schema = etree.XMLSchema(etree.fromstring(etree.tostring(xsd)))
        self._simple: dict[str, str] = {}
        self.types: dict[str, ComplexType] = {}
        self.elements: dict[str, str] = {}
        for simple in xsd.iterfind(f"{{{NS_XSD}}}simpleType"):
            restriction = simple.find(f"{{{NS_XSD}}}restriction")
            assert restriction is not None
            self._simple[simple.get("name")] = _local(restriction.get("base"))
        for complex_ in xsd.iterfind(f"{{{NS_XSD}}}complexType"):
            self.types[complex_.get("name")] = self._complex(complex_, complex_.get("name"))
        for element in xsd.iterfind(f"{{{NS_XSD}}}element"):
            self.elements[element.get("name")] = self._resolve(element.get("type"))
        self.operations: dict[str, Operation] = {}
        messages = {
            m.get("name"): _local(m.find(f"{{{NS_WSDL}}}part").get("element"))
            for m in root.iterfind(f"{{{NS_WSDL}}}message")
        }
        for op in root.iterfind(f"{{{NS_WSDL}}}portType/{{{NS_WSDL}}}operation"):
            inp, out = op.find(f"{{{NS_WSDL}}}input"), op.find(f"{{{NS_WSDL}}}output")
            assert inp is not None and out is not None
            name = op.get("name")
            self.operations[name] = Operation(
                name,
                messages[_local(inp.get("message"))],
                messages[_local(out.get("message"))],
                inp.get(f"{{{NS_WSAW}}}Action") or f"/{name}",
                out.get(f"{{{NS_WSAW}}}Action") or f"/{name}Response",
            )
        self.by_request = {op.request: op for op in self.operations.values()}
        address = root.find(f"{{{NS_WSDL}}}service/{{{NS_WSDL}}}port/{{{NS_SOAP12}}}address")
        #: The placeholder service address the published document has.
        self.location: str = address.get("location") if address is not None else ""

    def published(self, location: str) -> bytes:
        """The document with its service address set to C{location}."""
        old = f'location="{self.location}"'.encode()
        return self.text.replace(old, f'location="{location}"'.encode(), 1)

    def _resolve(self, qname: str | None) -> str:
        name = _local(qname or "string")
        while name in self._simple:
            name = self._simple[name]
        return name

    def _complex(self, node: etree._Element, name: str) -> ComplexType:
        simple = node.find(f"{{{NS_XSD}}}simpleContent/{{{NS_XSD}}}extension")
        if simple is not None:
            attributes = tuple(
                (a.get("name"), self._resolve(a.get("type")))
                for a in simple.iterfind(f"{{{NS_XSD}}}attribute")
            )
            return ComplexType((), self._resolve(simple.get("base")), attributes)
        fields = []
        for element in node.iterfind(f"{{{NS_XSD}}}sequence/{{{NS_XSD}}}element"):
            field_name = element.get("name")
            inline = element.find(f"{{{NS_XSD}}}complexType")
            if inline is not None:
                type_name = f"{name}/{field_name}"
                self.types[type_name] = self._complex(inline, type_name)
            else:
                type_name = self._resolve(element.get("type"))
            fields.append(
                Field(
                    field_name,
                    type_name,
                    element.get("maxOccurs", "1") not in ("0", "1"),
                    element.get("minOccurs", "1") != "0",
                )
            )
        return ComplexType(tuple(fields))


def _local(qname: str) -> str:
    return qname.rpartition(":")[2]


@functools.cache
def service(kind: str, version: str) -> Wsdl:
    """The WSDL of the C{"cs"} or C{"cp"} service of OCPP C{version} (C{"1.5"}, C{"1.6"})."""
    return Wsdl(kind, version, (WSDL_DIR / FILES[kind, version]).read_bytes())


def by_namespace(namespace: str) -> Wsdl | None:
    """The WSDL whose target namespace is C{namespace}, if any."""
    for kind, version in FILES:
        wsdl = service(kind, version)
        if wsdl.namespace == namespace:
            return wsdl
    return None
