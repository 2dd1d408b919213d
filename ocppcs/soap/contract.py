# -*- test-case-name: tests.soap.test_codec -*-
"""
The official OCPP-S service descriptions, read into what a codec needs.

The four WSDLs of the Open Charge Alliance ship unchanged in
C{ocppcs/soap/wsdl/}. L{contract} reads one (once) into a L{Contract}: its
operations (name, request and response element, WS-Addressing actions) and
the XML Schema types of its messages (each complex type's sequence in order,
with occurrence bounds; simple types with their base, enumeration and
maximum length). L{ocppcs.soap.codec} turns JSON-shaped dicts into elements
and back by that description alone, so the wire follows the WSDL exactly.

    contract("cp", "1.6").operations["Reset"].request  == "resetRequest"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"

#: (service, version) -> the WSDL file.
FILES = {
    ("cs", "1.5"): "ocpp_centralsystemservice_1.5_final.wsdl",
    ("cp", "1.5"): "ocpp_chargepointservice_1.5_final.wsdl",
    ("cs", "1.6"): "OCPP_CentralSystemService_1.6.wsdl",
    ("cp", "1.6"): "OCPP_ChargePointService_1.6.wsdl",
}

#: (service, version) -> the target namespace.
NAMESPACES = {
    ("cs", "1.5"): "urn://Ocpp/Cs/2012/06/",
    ("cp", "1.5"): "urn://Ocpp/Cp/2012/06/",
    ("cs", "1.6"): "urn://Ocpp/Cs/2015/10/",
    ("cp", "1.6"): "urn://Ocpp/Cp/2015/10/",
}


@dataclass(frozen=True, slots=True)
class SimpleType:
    """
    An XML Schema simple type, reduced to its built-in base.

    @ivar base: the XML Schema built-in type (C{string}, C{int}, C{decimal},
        C{dateTime}, C{boolean}, C{anyURI}).
    @ivar enum: the allowed values, or C{None}.
    @ivar max_length: the longest allowed text, or C{None}.
    """

    base: str
    enum: frozenset[str] | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """
    One child element (or attribute) of a complex type.

    @ivar name: its local name (the JSON key).
    @ivar type: a L{SimpleType} or the L{ComplexType} it holds.
    @ivar required: C{minOccurs >= 1} (or C{use="required"}).
    @ivar many: C{maxOccurs > 1}: a JSON list.
    @ivar attribute: an XML attribute rather than an element.
    """

    name: str
    type: SimpleType | ComplexType
    required: bool
    many: bool = False
    attribute: bool = False


@dataclass(eq=False, slots=True)
class ComplexType:
    """
    A complex type: its fields in sequence order, and for simple content
    (1.5 meter values) the type of its text, which the JSON shape holds
    under the key C{"value"}.
    """

    name: str
    fields: list[Field] = field(default_factory=list)
    text: SimpleType | None = None

    def get(self, name: str) -> Field | None:
        """The field called C{name}, if any."""
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class Operation:
    """
    One WSDL operation.

    @ivar name: the operation (the OCPP action, e.g. C{Reset}).
    @ivar request: the local name of its input element (C{resetRequest}).
    @ivar response: the local name of its output element (C{resetResponse}).
    @ivar action: the input's WS-Addressing action (C{/Reset}).
    @ivar reply_action: the output's (C{/ResetResponse}).
    """

    name: str
    request: str
    response: str
    action: str
    reply_action: str


@dataclass(eq=False)
class Contract:
    """
    One service of one OCPP version, as its WSDL describes it.

    @ivar service: C{"cs"} (central system service) or C{"cp"} (charge point).
    @ivar version: C{"1.5"} or C{"1.6"}.
    @ivar namespace: the target namespace of its messages.
    @ivar operations: by operation name.
    @ivar elements: global element local name -> its type.
    """

    service: str
    version: str
    namespace: str
    operations: dict[str, Operation]
    elements: dict[str, ComplexType | SimpleType]

    def by_element(self, local: str) -> tuple[Operation, bool] | None:
        """The operation whose request (C{False}) or response (C{True}) is C{local}."""
        for op in self.operations.values():
            if op.request == local:
                return op, False
            if op.response == local:
                return op, True
        return None


_BUILTIN = {"string", "int", "decimal", "dateTime", "boolean", "anyURI"}


class _Reader:
    """Reads the XML Schema of one WSDL (only the constructs the OCPP WSDLs use)."""

    def __init__(self, schema: etree._Element) -> None:
        self.schema = schema
        self.tns = schema.get("targetNamespace", "")
        self.complex = {e.get("name"): e for e in schema.findall(f"{{{XS}}}complexType")}
        self.simple = {e.get("name"): e for e in schema.findall(f"{{{XS}}}simpleType")}
        self.done: dict[str, ComplexType | SimpleType] = {}

    def resolve(self, qname: str, where: etree._Element) -> ComplexType | SimpleType:
        prefix, _, local = qname.rpartition(":")
        ns = where.nsmap.get(prefix or None, "")
        if ns == XS:
            if local not in _BUILTIN:
                raise ValueError(f"unsupported XML Schema type {qname}")
            return SimpleType(local)
        if ns != self.tns:
            raise ValueError(f"type {qname} is not in {self.tns}")
        if local in self.done:
            return self.done[local]
        if local in self.simple:
            result: ComplexType | SimpleType = self.simple_type(self.simple[local])
            self.done[local] = result
            return result
        ct = ComplexType(local)
        self.done[local] = ct  # before its fields: types may nest
        self.fill(ct, self.complex[local])
        return ct

    def simple_type(self, node: etree._Element) -> SimpleType:
        r = node.find(f"{{{XS}}}restriction")
        if r is None:
            raise ValueError(f"simple type {node.get('name')} is no restriction")
        base = self.resolve(r.get("base", ""), r)
        assert isinstance(base, SimpleType)
        enum = [e.get("value", "") for e in r.findall(f"{{{XS}}}enumeration")]
        length = r.find(f"{{{XS}}}maxLength")
        return SimpleType(
            base.base,
            frozenset(enum) if enum else base.enum,
            int(length.get("value", "0")) if length is not None else base.max_length,
        )

    def fill(self, ct: ComplexType, node: etree._Element) -> None:
        content = node.find(f"{{{XS}}}simpleContent")
        if content is not None:
            ext = content.find(f"{{{XS}}}extension")
            assert ext is not None
            text = self.resolve(ext.get("base", ""), ext)
            assert isinstance(text, SimpleType)
            ct.text = text
            node = ext
        seq = node.find(f"{{{XS}}}sequence")
        for e in seq.findall(f"{{{XS}}}element") if seq is not None else ():
            ct.fields.append(
                Field(
                    e.get("name", ""),
                    self.element_type(e, f"{ct.name}.{e.get('name')}"),
                    int(e.get("minOccurs", "1")) >= 1,
                    e.get("maxOccurs", "1") not in ("0", "1"),
                )
            )
        for a in node.findall(f"{{{XS}}}attribute"):
            kind = self.resolve(a.get("type", ""), a)
            required = a.get("use") == "required"
            ct.fields.append(Field(a.get("name", ""), kind, required, False, True))

    def element_type(self, e: etree._Element, name: str) -> ComplexType | SimpleType:
        if e.get("type"):
            return self.resolve(e.get("type", ""), e)
        inner = e.find(f"{{{XS}}}complexType")
        if inner is None:
            raise ValueError(f"element {name} has no type")
        ct = ComplexType(name)
        self.fill(ct, inner)
        return ct


def _parse(text: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(text, parser)


@cache
def contract(service: str, version: str) -> Contract:
    """
    The L{Contract} of C{service} (C{"cs"} or C{"cp"}) in OCPP C{version}
    (C{"1.5"} or C{"1.6"}), read from its official WSDL once.
    """
    name = FILES[(service, version)]
    root = _parse(resources.files("ocppcs.soap").joinpath("wsdl", name).read_bytes())
    schema = root.find(f"{{{WSDL}}}types/{{{XS}}}schema")
    assert schema is not None
    reader = _Reader(schema)
    elements: dict[str, ComplexType | SimpleType] = {}
    for e in schema.findall(f"{{{XS}}}element"):
        elements[e.get("name", "")] = reader.element_type(e, e.get("name", ""))
    messages = {}
    for m in root.findall(f"{{{WSDL}}}message"):
        part = m.find(f"{{{WSDL}}}part")
        if part is not None:
            messages[m.get("name")] = part.get("element", "").rpartition(":")[2]
    operations = {}
    port = root.find(f"{{{WSDL}}}portType")
    assert port is not None
    for op in port.findall(f"{{{WSDL}}}operation"):
        i, o = op.find(f"{{{WSDL}}}input"), op.find(f"{{{WSDL}}}output")
        assert i is not None and o is not None
        name_ = op.get("name", "")
        operations[name_] = Operation(
            name_,
            messages[i.get("message", "").rpartition(":")[2]],
            messages[o.get("message", "").rpartition(":")[2]],
            i.get(f"{{{WSAW}}}Action") or f"/{name_}",
            o.get(f"{{{WSAW}}}Action") or f"/{name_}Response",
        )
    return Contract(service, version, NAMESPACES[(service, version)], operations, elements)
