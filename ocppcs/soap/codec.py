# -*- test-case-name: tests.soap.test_codec -*-
"""
JSON-shaped dicts <-> the XML elements of an OCPP-S message, by its
L{ocppcs.soap.contract.Contract} alone.

    to_xml(contract, "resetRequest", {"type": "Hard"})
        -> <resetRequest xmlns="urn://Ocpp/Cp/2015/10/"><type>Hard</type></resetRequest>
    from_xml(contract, element) -> {"type": "Hard"}

Fields go out in the WSDL's sequence order, qualified in the service's
namespace (C{elementFormDefault="qualified"}), attributes unqualified;
C{maxOccurs > 1} is a JSON list; C{s:int} is an int, C{s:decimal} a float,
C{s:boolean} a bool, everything else text. Both directions check what the
schema says (required fields, unknown fields, enumerations, lengths,
numbers) and raise L{SoapDataError} with the JSON path of the first
problem, so neither a bad command leaves nor a bad reply comes in.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from lxml import etree

from ocppcs.soap.contract import ComplexType, Contract, SimpleType

#: The key holding the text of a simple-content element (1.5 meter values).
TEXT = "value"

_INT = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")
_INT32 = (-(2**31), 2**31 - 1)


class SoapDataError(ValueError):
    """
    A message does not match its schema.

    @ivar description: what is wrong.
    @ivar path: where, as a JSON path (C{$.connectorId}).
    @ivar code: the OCPP error code that fits (C{FormationViolation},
        C{OccurenceConstraintViolation}, C{TypeConstraintViolation},
        C{PropertyConstraintViolation}).
    """

    def __init__(self, description: str, path: str, code: str = "FormationViolation") -> None:
        super().__init__(f"{description} (at {path})")
        self.description = description
        self.path = path
        self.code = code


# --- out -------------------------------------------------------------------------------------


def to_xml(contract: Contract, element: str, data: dict[str, Any]) -> etree._Element:
    """The global element C{element} of C{contract} holding C{data}."""
    kind = contract.elements[element]
    node = etree.Element(f"{{{contract.namespace}}}{element}", nsmap={None: contract.namespace})
    if isinstance(kind, SimpleType):
        node.text = _text(kind, data, "$")
    else:
        _fill(node, kind, data, "$", contract.namespace)
    return node


def _fill(node: etree._Element, kind: ComplexType, data: Any, path: str, ns: str) -> None:
    if not isinstance(data, dict):
        raise SoapDataError("expected an object", path, "TypeConstraintViolation")
    names = {f.name for f in kind.fields}
    if kind.text is not None:
        names.add(TEXT)
        if TEXT not in data:
            raise SoapDataError(f"'{TEXT}' is required", path, "OccurenceConstraintViolation")
        node.text = _text(kind.text, data[TEXT], f"{path}.{TEXT}")
    for key in data:
        if key not in names:
            raise SoapDataError(f"'{key}' is not a field of {kind.name}", f"{path}.{key}")
    for f in kind.fields:
        where = f"{path}.{f.name}"
        if f.name not in data:
            if f.required:
                raise SoapDataError(
                    f"'{f.name}' is required", where, "OccurenceConstraintViolation"
                )
            continue
        value = data[f.name]
        if f.attribute:
            assert isinstance(f.type, SimpleType)
            node.set(f.name, _text(f.type, value, where))
            continue
        items = value if f.many else [value]
        if f.many and not isinstance(value, list):
            raise SoapDataError("expected a list", where, "TypeConstraintViolation")
        if f.many and f.required and not items:
            raise SoapDataError(
                f"'{f.name}' needs at least one item", where, "OccurenceConstraintViolation"
            )
        for i, item in enumerate(items):
            child = etree.SubElement(node, f"{{{ns}}}{f.name}")
            at = f"{where}[{i}]" if f.many else where
            if isinstance(f.type, SimpleType):
                child.text = _text(f.type, item, at)
            else:
                _fill(child, f.type, item, at, ns)


def _text(kind: SimpleType, value: Any, path: str) -> str:
    base = kind.base
    if base == "boolean":
        if not isinstance(value, bool):
            raise SoapDataError("expected a boolean", path, "TypeConstraintViolation")
        return "true" if value else "false"
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SoapDataError("expected an integer", path, "TypeConstraintViolation")
        _int_range(value, path)
        return str(value)
    if base == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SoapDataError("expected a number", path, "TypeConstraintViolation")
        if not math.isfinite(value):
            raise SoapDataError("expected a finite number", path, "TypeConstraintViolation")
        return format(Decimal(str(value)), "f")
    if not isinstance(value, str):
        raise SoapDataError("expected a string", path, "TypeConstraintViolation")
    _check(kind, value, path)
    return value


def _int_range(value: int, path: str) -> None:
    if not _INT32[0] <= value <= _INT32[1]:
        raise SoapDataError("integer out of range", path, "PropertyConstraintViolation")


def _check(kind: SimpleType, value: str, path: str) -> None:
    if kind.enum is not None and value not in kind.enum:
        raise SoapDataError(
            f"{value!r} is not one of {sorted(kind.enum)}", path, "PropertyConstraintViolation"
        )
    if kind.max_length is not None and len(value) > kind.max_length:
        raise SoapDataError(
            f"longer than {kind.max_length} characters", path, "PropertyConstraintViolation"
        )


# --- in --------------------------------------------------------------------------------------


def from_xml(contract: Contract, node: etree._Element) -> dict[str, Any]:
    """
    The JSON shape of C{node}, a global element of C{contract} (its name is
    not checked here: the caller picked the operation by it).
    """
    local = etree.QName(node).localname
    kind = contract.elements.get(local)
    if not isinstance(kind, ComplexType):
        raise SoapDataError(f"unexpected element {local}", "$")
    result = _read(node, kind, "$", contract.namespace)
    assert isinstance(result, dict)
    return result


def _read(node: etree._Element, kind: ComplexType, path: str, ns: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if kind.text is not None:
        data[TEXT] = _value(kind.text, node.text or "", f"{path}.{TEXT}")
    for f in kind.fields:
        if f.attribute and f.name in node.attrib:
            assert isinstance(f.type, SimpleType)
            data[f.name] = _value(f.type, node.attrib[f.name], f"{path}.{f.name}")
    for child in node:
        if not isinstance(child.tag, str):
            continue  # a processing instruction
        q = etree.QName(child)
        one = kind.get(q.localname)
        where = f"{path}.{q.localname}"
        if one is None or one.attribute or q.namespace != ns:
            raise SoapDataError(f"unexpected element {{{q.namespace}}}{q.localname}", where)
        if isinstance(one.type, SimpleType):
            value: Any = _value(one.type, child.text or "", where)
        else:
            value = _read(child, one.type, where, ns)
        if one.many:
            data.setdefault(one.name, []).append(value)
        elif one.name in data:
            raise SoapDataError(
                f"'{one.name}' may occur only once", where, "OccurenceConstraintViolation"
            )
        else:
            data[one.name] = value
    for f in kind.fields:
        if f.required and f.name not in data:
            raise SoapDataError(
                f"'{f.name}' is required", f"{path}.{f.name}", "OccurenceConstraintViolation"
            )
    return data


def _value(kind: SimpleType, text: str, path: str) -> Any:
    base = kind.base
    if base == "string":
        _check(kind, text, path)
        return text
    text = text.strip()
    if base == "int":
        if not _INT.match(text):
            raise SoapDataError(f"{text!r} is not an integer", path, "TypeConstraintViolation")
        value = int(text)
        _int_range(value, path)
        return value
    if base == "decimal":
        if not _DECIMAL.match(text):
            raise SoapDataError(f"{text!r} is not a decimal", path, "TypeConstraintViolation")
        return float(text)
    if base == "boolean":
        if text not in ("true", "false", "1", "0"):
            raise SoapDataError(f"{text!r} is not a boolean", path, "TypeConstraintViolation")
        return text in ("true", "1")
    _check(kind, text, path)
    return text
