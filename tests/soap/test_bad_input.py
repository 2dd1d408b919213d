"""
Bad OCPP-S requests get a SOAP 1.2 Fault (application/soap+xml) with the
right OCPP subcode, never an HTML error; entity-expansion and external-entity
attacks are refused before anything is expanded or fetched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
import zeep
from lxml import etree
from twisted.internet.threads import deferToThread

from ocppcs.soap import wsdl
from tests.soap.conftest import SoapStation, soap_url
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

ENV = "http://www.w3.org/2003/05/soap-envelope"
CS16 = "urn://Ocpp/Cs/2015/10/"
CS15 = "urn://Ocpp/Cs/2012/06/"
HEADER = f'<s:Header><chargeBoxIdentity xmlns="{CS16}">BAD-1</chargeBoxIdentity></s:Header>'


def envelope(body: str, header: str = HEADER, prolog: str = "") -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="{ENV}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    ).encode()


HEARTBEAT = envelope(f'<heartbeatRequest xmlns="{CS16}"/>')


async def post(central: WebCentral, data: bytes, path: str = "/Ocpp") -> tuple[int, Any, bytes]:
    response = await central.api.http.post(
        f"http://127.0.0.1:{central.port}{path}",
        data=data,
        headers={"Content-Type": ["application/soap+xml; charset=utf-8"]},
    )
    return response.code, response.headers, await response.content()


def fault_of(status: int, headers: Any, body: bytes) -> tuple[str, str, str]:
    """A Fault response's code, subcode (local names) and reason."""
    assert headers.getRawHeaders("Content-Type") == ["application/soap+xml; charset=utf-8"]
    fault = etree.fromstring(body).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None, body
    code = fault.findtext(f"{{{ENV}}}Code/{{{ENV}}}Value")
    subcode_node = fault.find(f"{{{ENV}}}Code/{{{ENV}}}Subcode/{{{ENV}}}Value")
    prefix, _, subcode = subcode_node.text.partition(":")
    assert subcode_node.nsmap[prefix] in (CS16, CS15), subcode_node.nsmap  # an OCPP subcode
    reason = fault.findtext(f"{{{ENV}}}Reason/{{{ENV}}}Text")
    return code.partition(":")[2], subcode, reason


async def fault(central: WebCentral, data: bytes, status: int = 400) -> tuple[str, str, str]:
    code, headers, body = await post(central, data)
    assert code == status, (code, body)
    return fault_of(code, headers, body)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("data", "subcode", "words"),
    [
        (b"<s:Envelope", "FormationViolation", "well-formed"),
        (b"not xml at all", "FormationViolation", "well-formed"),
        (b'<x xmlns="urn:other"/>', "FormationViolation", "Not a SOAP 1.2 envelope"),
        (envelope(""), "FormationViolation", "one element"),
        (envelope(f'<fooRequest xmlns="{CS16}"/>'), "NotImplemented", "fooRequest"),
        (envelope('<heartbeatRequest xmlns="urn://Ocpp/Cp/2015/10/"/>'), "NotSupported", "Cp"),
        (envelope('<heartbeatRequest xmlns="urn:example"/>'), "NotSupported", "urn:example"),
        (envelope("<heartbeatRequest/>"), "NotSupported", "Namespace"),
        (envelope(f'<heartbeatRequest xmlns="{CS16}"/>', header=""), "ProtocolError", "chargeBox"),
        (
            envelope(
                f'<authorizeRequest xmlns="{CS16}"><idTag>{"T" * 21}</idTag></authorizeRequest>'
            ),
            "FormationViolation",
            "maxLength",
        ),
        (
            envelope(
                f'<statusNotificationRequest xmlns="{CS16}"><connectorId>1</connectorId>'
                "<status>Available</status><errorCode>NoError</errorCode>"
                "<timestamp>12026-01-01T00:00:00Z</timestamp></statusNotificationRequest>"
            ),
            "FormationViolation",
            "statusNotificationRequest",
        ),
        (
            envelope(f'<authorizeRequest xmlns="{CS16}"><tag>T</tag></authorizeRequest>'),
            "FormationViolation",
            "WSDL",
        ),
        (
            envelope(f'<heartbeatRequest xmlns="{CS16}"/>', prolog=BILLION_LAUGHS).replace(
                b"<s:Body>", b"<s:Body>&lol9;"
            ),
            "FormationViolation",
            "document type declaration",
        ),
        (
            envelope(
                f'<dataTransferRequest xmlns="{CS16}"><vendorId>&x;</vendorId>'
                "</dataTransferRequest>",
                prolog=EXTERNAL,
            ),
            "FormationViolation",
            "document type declaration",
        ),
        (
            # No "<!DOCTYPE" bytes to spot: the DTD is in UTF-16; the parsed result is checked.
            envelope(
                f'<heartbeatRequest xmlns="{CS16}"/>',
                prolog=EXTERNAL.replace('1.0"?>', '1.0" encoding="UTF-16"?>'),
            )
            .decode()
            .encode("utf-16"),
            "FormationViolation",
            "document type declaration",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_request_is_a_fault(
    soap_central: WebCentral, data: bytes, subcode: str, words: str
) -> None:
    code, got, reason = await fault(soap_central, data)
    assert (code, got) == ("Sender", subcode), reason
    assert words in reason
    assert "root:" not in reason  # nothing of /etc/passwd


@pytest_twisted.ensureDeferred
async def test_soap_11_is_a_version_mismatch(soap_central: WebCentral) -> None:
    data = HEARTBEAT.replace(ENV.encode(), b"http://schemas.xmlsoap.org/soap/envelope/")
    code, _, reason = await fault(soap_central, data, status=500)
    assert code == "VersionMismatch", reason


@pytest_twisted.ensureDeferred
async def test_oversize_body(soap_central: WebCentral) -> None:
    limit = soap_central.service.config.server.soap_max_body
    data = envelope(
        f'<dataTransferRequest xmlns="{CS16}"><vendorId>v</vendorId>'
        f"<data>{'x' * limit}</data></dataTransferRequest>"
    )
    code, got, reason = await fault(soap_central, data, status=413)
    assert (code, got) == ("Sender", "FormationViolation")
    assert str(limit) in reason


BOOT = envelope(
    f'<bootNotificationRequest xmlns="{CS16}"><chargePointVendor>V</chargePointVendor>'
    "<chargePointModel>M</chargePointModel></bootNotificationRequest>"
)


@pytest_twisted.ensureDeferred
async def test_a_good_request_after_bad_ones(soap_central: WebCentral) -> None:
    """
    The endpoint still answers after the faults, at any path under /Ocpp
    (stations are configured with URLs such as /Ocpp/CentralSystemService/).
    """
    status, _, body = await post(soap_central, BOOT)
    assert status == 200, body
    status, _, body = await post(soap_central, HEARTBEAT, "/Ocpp/CentralSystemService/")
    assert status == 200, body
    assert etree.fromstring(body).find(f".//{{{CS16}}}currentTime") is not None


@pytest_twisted.ensureDeferred
async def test_reply_addressing(soap_central: WebCentral) -> None:
    """The reply's WS-Addressing: its Action, RelatesTo the request's MessageID, To its ReplyTo."""
    wsa = "http://www.w3.org/2005/08/addressing"
    header = (
        f'<s:Header xmlns:a="{wsa}"><chargeBoxIdentity xmlns="{CS16}">WSA-1</chargeBoxIdentity>'
        "<a:MessageID>urn:uuid:0b7f6c52-5d0e-4a57-9d2a-3a1f1e6c0001</a:MessageID>"
        "<a:Action>/BootNotification</a:Action><a:To>http://cs/Ocpp</a:To>"
        "<a:From><a:Address>http://127.0.0.1:9/wsa</a:Address></a:From>"
        "<a:ReplyTo><a:Address>http://127.0.0.1:9/replies</a:Address></a:ReplyTo></s:Header>"
    )
    boot = envelope(
        f'<bootNotificationRequest xmlns="{CS16}"><chargePointVendor>V</chargePointVendor>'
        "<chargePointModel>M</chargePointModel></bootNotificationRequest>",
        header=header,
    )
    status, _, body = await post(soap_central, boot)
    assert status == 200, body
    reply = etree.fromstring(body)
    ns = {"a": wsa, "s": ENV}
    assert reply.findtext("s:Header/a:Action", namespaces=ns) == "/BootNotificationResponse"
    assert reply.findtext("s:Header/a:RelatesTo", namespaces=ns) == (
        "urn:uuid:0b7f6c52-5d0e-4a57-9d2a-3a1f1e6c0001"
    )
    assert reply.findtext("s:Header/a:To", namespaces=ns) == "http://127.0.0.1:9/replies"
    assert reply.findtext("s:Header/a:MessageID", namespaces=ns).startswith("urn:uuid:")
    [element] = reply.find("s:Body", namespaces=ns)
    assert element.tag == f"{{{CS16}}}bootNotificationResponse"
    station = soap_central.service.registry.get("WSA-1")
    assert station is not None and station.address == "http://127.0.0.1:9/wsa"


@pytest_twisted.async_yield_fixture(scope="module")
async def known_central(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """A central system with the C{known} registration policy."""
    running = await start_web_central(tmp_path_factory.mktemp("known"), registration="known")
    yield running
    await stop_web_central(running)


@pytest.mark.parametrize("version", ["1.6", "1.5"])
@pytest_twisted.ensureDeferred
async def test_unknown_station_under_known_policy(known_central: WebCentral, version: str) -> None:
    """Boot is answered Rejected; anything else is a SecurityError Fault (zeep sees both)."""
    station = SoapStation(version, soap_url(known_central), f"STRANGER-{version}", None)
    try:
        boot = await station("BootNotification", chargePointVendor="V", chargePointModel="M")
        with pytest.raises(zeep.exceptions.Fault) as caught:
            await station("Heartbeat")
    finally:
        station.close()
    assert boot.status == "Rejected"
    namespace = wsdl.service("cs", version).namespace
    assert [str(c) for c in caught.value.subcodes] == [f"{{{namespace}}}SecurityError"]
    assert "not been Accepted" in caught.value.message


@pytest_twisted.ensureDeferred
async def test_served_wsdls_build_working_clients(soap_central: WebCentral) -> None:
    """A client built from /Ocpp?wsdl or /Ocpp/15?wsdl (not a file) posts to this endpoint."""

    def heartbeat(url: str) -> Any:
        client = zeep.Client(url)
        try:
            return client.service.Heartbeat(_soapheaders={"ChargeBoxIdentity": "FROM-WSDL"})
        finally:
            client.transport.session.close()

    base = soap_url(soap_central)
    for path in ("?wsdl", "/15?wsdl", "/16?wsdl"):
        # Not booted: the rules refuse it, which proves it reached them through this endpoint.
        with pytest.raises(zeep.exceptions.Fault) as caught:
            await deferToThread(heartbeat, base + path)
        assert [c.localname for c in caught.value.subcodes] == ["SecurityError"], path
    response = await soap_central.api.http.get(base + "/15?wsdl")
    served = await response.content()
    assert response.code == 200
    assert served.startswith(wsdl.service("cs", "1.5").text[:200])
    assert f'location="{base}/15"'.encode() in served
