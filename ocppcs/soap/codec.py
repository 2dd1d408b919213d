# -*- test-case-name: tests.soap.test_codec -*-
"""
SOAP body elements to dicts and back, driven by the WSDL's own types
(L{ocppcs.soap.wsdl}), so the element names, their order and namespace are
the official ones.

    decode(wsdl, element)           -> {"chargePointVendor": "V", "connectorId": 1, ...}
    encode(wsdl, "bootNotificationResponse", {...}) -> the element

Values: C{s:int} <-> int, C{s:decimal} <-> float (an int when whole),
C{s:boolean} <-> bool, C{s:dateTime} -> ISO-8601 UTC text (C{...Z}, an offset
converted, no zone taken as UTC), the rest text. Repeated elements
(C{maxOccurs > 1}) are lists. Simple content with attributes (the 1.5 meter
C{value}) decodes to its attributes and C{"_text"}. The element must have
passed L{Wsdl.schema} first: decoding trusts its shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lxml import etree

from ocppcs.soap.wsdl import ComplexType, Wsdl

TEXT = "_text"


def decode(wsdl: Wsdl, element: etree._Element) -> dict[str, Any]:
    """The dict of a top-level body element of C{wsdl}'s service."""
    name = etree.QName(element).localname
    return _decode_complex(wsdl, element, wsdl.types[wsdl.elements[name]])


def _decode_complex(wsdl: Wsdl, element: etree._Element, ctype: ComplexType) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ctype.text is not None:
        out[TEXT] = _decode_value(ctype.text, element.text or "")
        for attribute, type_name in ctype.attributes:
            text = element.get(attribute)
            if text is not None:
                out[attribute] = _decode_value(type_name, text)
        return out
    for child in element:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        name = etree.QName(child).localname
        field = ctype.field(name)
        if field is None:
            continue
        nested = wsdl.types.get(field.type)
        if nested is not None:
            value: Any = _decode_complex(wsdl, child, nested)
        else:
            value = _decode_value(field.type, child.text or "")
        if field.many:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _decode_value(type_name: str, text: str) -> Any:
    text = text.strip() if type_name != "string" else text
    if type_name == "int":
        return int(text)
    if type_name == "decimal":
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if type_name == "boolean":
        return text in ("true", "1")
    if type_name == "dateTime":
        return utc_text(text)
    return text


def utc_text(text: str) -> str:
    """An XML dateTime as ISO-8601 UTC text: C{2026-11-24T13:45:00Z} (milliseconds kept)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(wsdl: Wsdl, name: str, value: dict[str, Any]) -> etree._Element:
    """The top-level body element C{name} of C{wsdl}'s service holding C{value}."""
    element = etree.Element(f"{{{wsdl.namespace}}}{name}", nsmap={None: wsdl.namespace})
    _encode_complex(wsdl, element, wsdl.types[wsdl.elements[name]], value)
    return element


def _encode_complex(
    wsdl: Wsdl, element: etree._Element, ctype: ComplexType, value: dict[str, Any]
) -> None:
    if ctype.text is not None:
        element.text = _encode_value(value.get(TEXT, ""))
        for attribute, _ in ctype.attributes:
            if value.get(attribute) is not None:
                element.set(attribute, _encode_value(value[attribute]))
        return
    for field in ctype.fields:
        item = value.get(field.name)
        if item is None:
            continue
        nested = wsdl.types.get(field.type)
        for one in item if field.many else [item]:
            child = etree.SubElement(element, f"{{{wsdl.namespace}}}{field.name}")
            if nested is not None:
                _encode_complex(wsdl, child, nested, one)
            else:
                child.text = _encode_value(one)


def _encode_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
