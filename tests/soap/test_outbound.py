"""
The calling side's layer: L{Side} (request elements checked against the
WSDL going out, replies checked coming in, with JSON paths), and the request
envelope and reply reading of L{ocppcs.soap.outbound}.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from ocppcs.soap import outbound
from ocppcs.soap.cp15 import NotIn15
from ocppcs.soap.envelope import NS_SOAP, NS_WSA
from ocppcs.soap.messages import Side, SoapDataError
from ocppcs.v16.actions import CENTRAL_ACTIONS
from tests.soap.cpserver import wsdl_schema

CP16 = Side("cp", "1.6")
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
                {"startPeriod": 0, "limit": 16.5, "numberPhases": 3},
                {"startPeriod": 600, "limit": 6.5},
            ],
            "minChargingRate": 6.5,
        },
    },
}


def test_every_command_has_its_operation() -> None:
    """The 19 commands are the 1.6 CP WSDL's operations, with its elements and actions."""
    assert set(CP16.wsdl.operations) == CENTRAL_ACTIONS
    op = CP16.operation("RemoteStartTransaction")
    assert (op.request, op.response, op.request_action) == (
        "remoteStartTransactionRequest",
        "remoteStartTransactionResponse",
        "/RemoteStartTransaction",
    )
    with pytest.raises(NotIn15):
        Side("cp", "1.5").operation("TriggerMessage")


def test_request_in_sequence_order() -> None:
    """A nested command, keys in any order, goes out in the WSDL's order, valid for it."""
    shuffled: dict[str, Any] = {
        "csChargingProfiles": PROFILE["csChargingProfiles"],
        "connectorId": 1,
    }
    _, body = CP16.request("SetChargingProfile", shuffled)
    wsdl_schema("1.6").assertValid(etree.ElementTree(body))
    assert [etree.QName(c).localname for c in body] == ["connectorId", "csChargingProfiles"]
    # The station's end reads it back as the same 1.6 payload.
    op, payload = CP16.incoming(body)
    assert op.name == "SetChargingProfile" and payload == PROFILE


def test_request_refused_by_the_wsdl() -> None:
    """What the WSDL refuses never leaves: a key longer than its CiString50Type."""
    with pytest.raises(SoapDataError) as caught:
        Side("cp", "1.6").request("ChangeConfiguration", {"key": "k" * 51, "value": "v"})
    assert caught.value.path == "$.key"


@pytest.mark.parametrize(
    ("inner", "path"),
    [
        ("<status>Maybe</status>", "$.status"),
        ("", "$"),
        ("<status>Unlocked</status><status>Unlocked</status>", "$.status[1]"),
        ("<other>1</other>", "$.other"),
    ],
)
def test_reply_refused_by_the_wsdl(inner: str, path: str) -> None:
    """A reply the WSDL refuses is an error at its JSON path."""
    body = etree.fromstring(
        f'<unlockConnectorResponse xmlns="{NS16}">{inner}</unlockConnectorResponse>'
    )
    with pytest.raises(SoapDataError) as caught:
        CP16.reply("UnlockConnector", body)
    assert caught.value.path == path, caught.value


def test_reply_of_another_operation() -> None:
    """The reply element must be the operation's response."""
    body = etree.fromstring(
        f'<resetResponse xmlns="{NS16}"><status>Accepted</status></resetResponse>'
    )
    with pytest.raises(SoapDataError) as caught:
        CP16.reply("UnlockConnector", body)
    assert "unlockConnectorResponse" in caught.value.description


def test_request_envelope_headers() -> None:
    """chargeBoxIdentity in the service's namespace, and the WS-Addressing headers."""
    _, body = CP16.request("Reset", {"type": "Hard"})
    data = outbound.build_request(
        body, NS16, "CP1", "/Reset", "http://cp/", "urn:uuid:1", from_="http://cs/"
    )
    env = etree.fromstring(data)
    header = env.find(f"{{{NS_SOAP}}}Header")
    assert header.findtext(f"{{{NS16}}}chargeBoxIdentity") == "CP1"
    assert header.findtext(f"{{{NS_WSA}}}MessageID") == "urn:uuid:1"
    assert header.findtext(f"{{{NS_WSA}}}To") == "http://cp/"
    assert header.findtext(f"{{{NS_WSA}}}Action") == "/Reset"
    assert header.findtext(f"{{{NS_WSA}}}From/{{{NS_WSA}}}Address") == "http://cs/"
    assert header.findtext(f"{{{NS_WSA}}}ReplyTo/{{{NS_WSA}}}Address") == outbound.ANONYMOUS
    reply = outbound.read_reply(data, 10_000)
    assert not isinstance(reply, outbound.Fault) and reply.tag == f"{{{NS16}}}resetRequest"


def test_read_fault() -> None:
    """A Fault reads back with its code, OCPP subcode, reason and detail."""
    data = (
        f'<e:Envelope xmlns:e="{NS_SOAP}" xmlns:o="{NS16}"><e:Body><e:Fault>'
        "<e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>o:SecurityError</e:Value>"
        "</e:Subcode></e:Code><e:Reason><e:Text>who?</e:Text></e:Reason>"
        "<e:Detail><x>you</x></e:Detail></e:Fault></e:Body></e:Envelope>"
    ).encode()
    assert outbound.read_reply(data, 10_000) == outbound.Fault(
        "Sender", "SecurityError", "who?", "you"
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<a", "well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "document type"),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>', "SOAP 1.1"),
        (f'<s:Envelope xmlns:s="{NS_SOAP}"/>'.encode(), "no Body"),
        (b"<x>" + b" " * 2000 + b"</x>", "larger"),
    ],
)
def test_read_reply_refuses(data: bytes, words: str) -> None:
    """Not XML, DTDs (no entity is expanded), SOAP 1.1, no Body, too large."""
    with pytest.raises(outbound.ReplyError) as caught:
        outbound.read_reply(data, 1000)
    assert words in str(caught.value)
