"""Tests for L{ocppcs.ocppj.schemas}: official 1.6 schemas and error-code mapping."""

from __future__ import annotations

from typing import Any

import pytest

from ocppcs.ocppj.errors import ErrorCode
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation
from ocppcs.v16.actions import CENTRAL_ACTIONS, STATION_ACTIONS

schemas = SchemaSet()


def test_every_action_has_request_and_response_schemas() -> None:
    """The ocpp package ships both schemas for all 29 OCPP 1.6 operations."""
    for action in STATION_ACTIONS | CENTRAL_ACTIONS:
        assert schemas.has(action), action
        assert schemas.has(action + "Response"), action


def test_valid_payload_passes() -> None:
    """A valid StatusNotification passes."""
    schemas.validate_request(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Charging",
            "timestamp": "2026-11-24T13:45:00.123+01:00",
        },
    )


@pytest.mark.parametrize(
    "payload, code, path",
    [
        (
            {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
            "Type",
            "$.connectorId",
        ),
        ({"connectorId": 1, "errorCode": "NoError"}, "Occurence", "$"),
        ({"connectorId": 1, "errorCode": "NoError", "status": "Nope"}, "Property", "$.status"),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "extra": 1},
            "Formation",
            "$",
        ),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": "x" * 51},
            "Property",
            "$.info",
        ),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "soon"},
            "Property",
            "$.timestamp",
        ),
    ],
)
def test_violations_map_to_ocpp_error_codes(payload: dict[str, Any], code: str, path: str) -> None:
    """Each kind of schema failure gets its OCPP-J error code and the JSON path."""
    expected = {
        "Type": ErrorCode.TypeConstraintViolation,
        "Occurence": ErrorCode.OccurenceConstraintViolation,
        "Property": ErrorCode.PropertyConstraintViolation,
        "Formation": ErrorCode.FormationViolation,
    }[code]
    with pytest.raises(SchemaViolation) as info:
        schemas.validate_request("StatusNotification", payload)
    assert info.value.code is expected
    assert info.value.path == path
    assert info.value.details == {"path": path}


def test_nested_path() -> None:
    """Paths into arrays name the index."""
    with pytest.raises(SchemaViolation) as info:
        schemas.validate_request(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [{"timestamp": "2026-11-24T13:45:00Z", "sampledValue": [{}]}],
            },
        )
    assert info.value.code is ErrorCode.OccurenceConstraintViolation
    assert info.value.path == "$.meterValue[0].sampledValue[0]"


def test_response_schema() -> None:
    """validate_response checks against the ...Response schema."""
    schemas.validate_response("Reset", {"status": "Accepted"})
    with pytest.raises(SchemaViolation):
        schemas.validate_response("Reset", {"status": "Maybe"})


def test_unknown_action_raises_key_error() -> None:
    """There is no schema for an unknown action."""
    assert not schemas.has("Teleport")
    with pytest.raises(KeyError):
        schemas.validate_request("Teleport", {})
