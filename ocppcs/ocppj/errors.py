# -*- test-case-name: tests.ocppj.test_frames -*-
"""
OCPP-J error codes and the exceptions that become CALLERROR frames.

Raising L{OcppError} (or a subclass) anywhere while answering a station's
CALL makes the connection answer with a CALLERROR carrying that code,
description and details.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """The CALLERROR error codes of OCPP-J 1.6 (spellings as in the spec)."""

    NotImplemented = "NotImplemented"
    NotSupported = "NotSupported"
    InternalError = "InternalError"
    ProtocolError = "ProtocolError"
    SecurityError = "SecurityError"
    FormationViolation = "FormationViolation"
    PropertyConstraintViolation = "PropertyConstraintViolation"
    OccurenceConstraintViolation = "OccurenceConstraintViolation"
    TypeConstraintViolation = "TypeConstraintViolation"
    GenericError = "GenericError"


class OcppError(Exception):
    """
    An error that is answered (or was answered) with a CALLERROR.

    @ivar code: the OCPP-J error code.
    @ivar description: human-readable text, sent as errorDescription.
    @ivar details: a JSON object, sent as errorDetails.
    """

    code: ErrorCode = ErrorCode.GenericError

    def __init__(
        self,
        description: str = "",
        details: dict[str, Any] | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        super().__init__(description)
        if code is not None:
            self.code = code
        self.description = description
        self.details = details if details is not None else {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.description!r})"


def _subclass(code: ErrorCode) -> type[OcppError]:
    return type(
        code.value + "Error", (OcppError,), {"code": code, "__doc__": f"CALLERROR {code.value}."}
    )


NotImplementedError_ = _subclass(ErrorCode.NotImplemented)
NotSupportedError = _subclass(ErrorCode.NotSupported)
InternalError = _subclass(ErrorCode.InternalError)
ProtocolError = _subclass(ErrorCode.ProtocolError)
SecurityError = _subclass(ErrorCode.SecurityError)
FormationViolation = _subclass(ErrorCode.FormationViolation)
PropertyConstraintViolation = _subclass(ErrorCode.PropertyConstraintViolation)
OccurenceConstraintViolation = _subclass(ErrorCode.OccurenceConstraintViolation)
TypeConstraintViolation = _subclass(ErrorCode.TypeConstraintViolation)
GenericError = _subclass(ErrorCode.GenericError)
