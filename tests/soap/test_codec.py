"""
The WSDL-driven codec and the SOAP 1.2 envelope: what the contracts hold,
elements in sequence order (checked by lxml against the WSDL's schema),
the errors both directions raise, and hardened parsing.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from ocppcs.soap import envelope
from ocppcs.soap.codec import SoapDataError, from_xml, to_xml
from ocppcs.soap.contract import contract
from ocppcs.v16.actions import CENTRAL_ACTIONS, STATION_ACTIONS
from tests.soap.cpserver import wsdl_schema

CP16 = contract("cp", "1.6")
NS16 = CP16.namespace
PROFILE = {
    "connectorId": 1,
    "csChargingProfiles": {
        "chargingProfileId": 4,
        "transactionId": 9,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": "2030-01-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                {"startPeriod": 600, "limit": 6.5},
            ],
            "minChargingRate": 6.0,
        },
    },
}


def test_operations() -> None:
    """The WSDLs' operations: 1.6 has the 19 and 10 actions of the JSON schemas, 1.5 15 and 10."""
    assert set(contract("cp", "1.6").operations) == CENTRAL_ACTIONS
    assert set(contract("cs", "1.6").operations) == STATION_ACTIONS
    assert set(contract("cs", "1.5").operations) == STATION_ACTIONS
    assert len(contract("cp", "1.5").operations) == 15
    op = CP16.operations["RemoteStartTransaction"]
    assert (op.request, op.response, op.action, op.reply_action) == (
        "remoteStartTransactionRequest",
        "remoteStartTransactionResponse",
        "/RemoteStartTransaction",
        "/RemoteStartTransactionResponse",
    )


def test_round_trip_in_sequence_order() -> None:
    """A nested message, keys in any order, goes out in the WSDL's order and comes back equal."""
    shuffled: dict[str, Any] = {
        "csChargingProfiles": PROFILE["csChargingProfiles"],
        "connectorId": 1,
    }
    node = to_xml(CP16, "setChargingProfileRequest", shuffled)
    wsdl_schema("1.6").assertValid(etree.ElementTree(node))
    assert [etree.QName(c).localname for c in node] == ["connectorId", "csChargingProfiles"]
    assert from_xml(CP16, node) == PROFILE


def test_booleans_lists_and_empty() -> None:
    """s:boolean is a bool, maxOccurs unbounded a list, an empty type an empty object."""
    reply = {
        "configurationKey": [
            {"key": "A", "readonly": True, "value": "1"},
            {"key": "B", "readonly": False},
        ],
        "unknownKey": ["C"],
    }
    node = to_xml(CP16, "getConfigurationResponse", reply)
    wsdl_schema("1.6").assertValid(etree.ElementTree(node))
    assert b"<readonly>true</readonly>" in etree.tostring(node)
    assert from_xml(CP16, node) == reply
    empty = to_xml(CP16, "clearCacheRequest", {})
    assert len(empty) == 0 and from_xml(CP16, empty) == {}


@pytest.mark.parametrize(
    ("data", "code", "path"),
    [
        ({}, "OccurenceConstraintViolation", "$.type"),
        ({"type": "Sideways"}, "PropertyConstraintViolation", "$.type"),
        ({"type": 1}, "TypeConstraintViolation", "$.type"),
        ({"type": "Hard", "when": "now"}, "FormationViolation", "$.when"),
    ],
)
def test_out_errors(data: dict[str, Any], code: str, path: str) -> None:
    """What the schema refuses on the way out names its OCPP code and path."""
    with pytest.raises(SoapDataError) as caught:
        to_xml(CP16, "resetRequest", data)
    assert (caught.value.code, caught.value.path) == (code, path)


@pytest.mark.parametrize(
    ("inner", "code", "path"),
    [
        ("", "OccurenceConstraintViolation", "$.connectorId"),
        ("<connectorId>one</connectorId>", "TypeConstraintViolation", "$.connectorId"),
        ("<connectorId>99999999999</connectorId>", "PropertyConstraintViolation", "$.connectorId"),
        (
            "<connectorId>1</connectorId><connectorId>2</connectorId>",
            "OccurenceConstraintViolation",
            "$.connectorId",
        ),
        ("<connectorId>1</connectorId><extra>2</extra>", "FormationViolation", "$.extra"),
        ('<connectorId xmlns="urn:other">1</connectorId>', "FormationViolation", "$.connectorId"),
    ],
)
def test_in_errors(inner: str, code: str, path: str) -> None:
    """What the schema refuses on the way in names its OCPP code and path."""
    node = etree.fromstring(
        f'<unlockConnectorRequest xmlns="{NS16}">{inner}</unlockConnectorRequest>'
    )
    with pytest.raises(SoapDataError) as caught:
        from_xml(CP16, node)
    assert (caught.value.code, caught.value.path) == (code, path)


def test_in_max_length() -> None:
    """A CiString50 longer than 50 characters is refused."""
    node = etree.fromstring(
        f'<changeConfigurationRequest xmlns="{NS16}"><key>{"k" * 51}</key>'
        "<value>v</value></changeConfigurationRequest>"
    )
    with pytest.raises(SoapDataError) as caught:
        from_xml(CP16, node)
    assert caught.value.path == "$.key"


def test_envelope_headers_and_fault() -> None:
    """The built envelope carries the OCPP-S headers; a Fault reads back with its subcode."""
    body = to_xml(CP16, "resetRequest", {"type": "Hard"})
    data = envelope.build(
        body,
        NS16,
        "CP1",
        "/Reset",
        to="http://cp/",
        msg_id="urn:uuid:1",
        from_="http://cs/",
        reply_to=envelope.ANONYMOUS,
    )
    parsed = envelope.parse(data)
    assert parsed.headers == {
        "chargeBoxIdentity": "CP1",
        "MessageID": "urn:uuid:1",
        "From": "http://cs/",
        "ReplyTo": envelope.ANONYMOUS,
        "To": "http://cp/",
        "Action": "/Reset",
    }
    assert parsed.body is not None and from_xml(CP16, parsed.body) == {"type": "Hard"}
    fault = envelope.parse(
        envelope.build_fault(NS16, "Sender", "SecurityError", "who?", "urn:uuid:1")
    )
    assert fault.body is None and fault.fault == envelope.Fault("Sender", "SecurityError", "who?")
    assert fault.headers["RelatesTo"] == "urn:uuid:1"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<a", "not XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "DTD"),
        (b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>', "DTD"),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>', "SOAP 1.2"),
        (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>', "no Body"),
        (
            b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>',
            "empty",
        ),
        (b"<x>" + b" " * envelope.MAX_SIZE + b"</x>", "larger"),
    ],
)
def test_parse_refuses(data: bytes, words: str) -> None:
    """Not XML, DTDs (entity expansion, external entities), SOAP 1.1, no Body, too large."""
    with pytest.raises(envelope.EnvelopeError) as caught:
        envelope.parse(data)
    assert words in str(caught.value)
