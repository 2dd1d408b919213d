# -*- test-case-name: tests.ocppj.test_schemas -*-
"""
Validation of OCPP-J payloads against the official JSON schemas.

The schemas are the Open Charge Alliance's files shipped in the C{ocpp}
package (C{ocpp/v16/schemas/*.json}, draft-04). Each is compiled once with
C{fastjsonschema} (about 9 ms each) and cached; validating a typical payload
then costs a few microseconds.

A schema failure maps to the OCPP-J error code that describes it:

    type                        -> TypeConstraintViolation
    required, minItems, maxItems -> OccurenceConstraintViolation
    additionalProperties        -> FormationViolation
    enum, maxLength, format,
    minimum, maximum, ...       -> PropertyConstraintViolation
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import fastjsonschema

from ocppcs.ocppj.errors import ErrorCode, OcppError

Validator = Callable[[Any], Any]

_RULE_CODES = {
    "type": ErrorCode.TypeConstraintViolation,
    "required": ErrorCode.OccurenceConstraintViolation,
    "minItems": ErrorCode.OccurenceConstraintViolation,
    "maxItems": ErrorCode.OccurenceConstraintViolation,
    "additionalProperties": ErrorCode.FormationViolation,
}


class SchemaViolation(OcppError):
    """
    A payload that does not match its schema.

    @ivar path: the JSON path of the offending value, e.g. C{"$.meterValue[0].timestamp"}.
    """

    def __init__(self, code: ErrorCode, description: str, path: str) -> None:
        super().__init__(description, {"path": path}, code)
        self.path = path


def _json_path(parts: list[Any]) -> str:
    path = "$"
    for part in parts[1:]:  # parts[0] is fastjsonschema's "data"
        # fastjsonschema gives array indexes as ints or as digit strings.
        index = isinstance(part, int) or (isinstance(part, str) and part.isdigit())
        path += f"[{part}]" if index else f".{part}"
    return path


def _describe(error: fastjsonschema.JsonSchemaValueException) -> str:
    message = str(error.message)
    # fastjsonschema names the root "data"; name it like the JSON path instead.
    if message.startswith("data."):
        return message[5:]
    if message.startswith("data["):
        return "$" + message[4:]
    if message.startswith("data "):
        return "payload " + message[5:]
    return message


class SchemaSet:
    """
    The compiled schemas of one OCPP version.

    @param package: the package holding the schema files, e.g. C{"ocpp.v16.schemas"}.
    """

    def __init__(self, package: str = "ocpp.v16.schemas") -> None:
        self._package = package
        self._validators: dict[str, Validator | None] = {}

    def _load(self, name: str) -> Validator | None:
        try:
            validator = self._validators[name]
        except KeyError:
            resource = files(self._package).joinpath(f"{name}.json")
            if resource.is_file():
                schema = json.loads(resource.read_text(encoding="utf-8"))
                validator = fastjsonschema.compile(schema)
            else:
                validator = None
            self._validators[name] = validator
        return validator

    def has(self, action: str) -> bool:
        """Whether there is a request schema for C{action}."""
        return self._load(action) is not None

    def preload(self, actions: list[str] | tuple[str, ...] | frozenset[str]) -> None:
        """Compile the request and response schemas of C{actions} now rather than on first use."""
        for action in actions:
            self._load(action)
            self._load(action + "Response")

    def validate_request(self, action: str, payload: Any) -> None:
        """
        Check a CALL payload.

        @raise SchemaViolation: when it does not match.
        @raise KeyError: when there is no schema for C{action}.
        """
        self._check(action, payload)

    def validate_response(self, action: str, payload: Any) -> None:
        """
        Check a CALLRESULT payload answering C{action}.

        @raise SchemaViolation: when it does not match.
        @raise KeyError: when there is no schema for C{action}.
        """
        self._check(action + "Response", payload)

    def _check(self, name: str, payload: Any) -> None:
        validator = self._validators.get(name) or self._load(name)
        if validator is None:
            raise KeyError(name)
        try:
            validator(payload)
        except fastjsonschema.JsonSchemaValueException as e:
            code = _RULE_CODES.get(e.rule or "", ErrorCode.PropertyConstraintViolation)
            raise SchemaViolation(
                code, _describe(e), _json_path(list(e.path or ["data"]))
            ) from None
