"""
C{POST /api/v1/ChargePoint/{identity}/{Operation}} to OCPP-S stations, over
real HTTP: the REST API of a running central system, a L{SoapChannel} in its
registry, and a station-side Charge Point service built from the official
WSDLs (L{tests.soap.cpserver}) on a loopback port. Every command of 1.6 and
of 1.5, the WS-Addressing headers, the 1.5 mappings, and each failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.protocol import Factory
from twisted.internet.ssl import Certificate
from twisted.web.client import BrowserLikePolicyForHTTPS

from ocppcs.soap.client import SoapClient, StationCaller
from tests.integration.tlscert import self_signed
from tests.soap.cpserver import NS, Behaviour, FakeStation, naive, start_station
from tests.web.conftest import WebCentral, start_web_central, stop_web_central
from tests.web.test_api_commands import COMMANDS

# The reply each fake station sends (hand-written from the WSDLs), and the
# JSON the REST API must give for it.
REPLIES_16 = {
    "CancelReservation": "<status>Rejected</status>",
    "ChangeAvailability": "<status>Scheduled</status>",
    "ChangeConfiguration": "<status>RebootRequired</status>",
    "ClearCache": "<status>Accepted</status>",
    "ClearChargingProfile": "<status>Unknown</status>",
    "DataTransfer": "<status>Accepted</status><data>y</data>",
    "GetCompositeSchedule": (
        "<status>Accepted</status><connectorId>1</connectorId>"
        "<scheduleStart>2030-01-01T00:00:00Z</scheduleStart><chargingSchedule>"
        "<chargingRateUnit>W</chargingRateUnit><chargingSchedulePeriod><startPeriod>0"
        "</startPeriod><limit>11000.0</limit></chargingSchedulePeriod></chargingSchedule>"
    ),
    "GetConfiguration": (
        "<configurationKey><key>HeartbeatInterval</key><readonly>false</readonly>"
        "<value>60</value></configurationKey><unknownKey>Nope</unknownKey>"
    ),
    "GetDiagnostics": "<fileName>diag.zip</fileName>",
    "GetLocalListVersion": "<listVersion>3</listVersion>",
    "RemoteStartTransaction": "<status>Accepted</status>",
    "RemoteStopTransaction": "<status>Rejected</status>",
    "ReserveNow": "<status>Occupied</status>",
    "Reset": "<status>Accepted</status>",
    "SendLocalList": "<status>VersionMismatch</status>",
    "SetChargingProfile": "<status>Accepted</status>",
    "TriggerMessage": "<status>Accepted</status>",
    "UnlockConnector": "<status>Unlocked</status>",
    "UpdateFirmware": "",
}
ONLY_16 = {"ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile", "TriggerMessage"}
# 1.5 differs: UnlockConnector answers Accepted/Rejected, SendLocalList may answer HashError.
REPLIES_15 = {
    **{op: xml for op, xml in REPLIES_16.items() if op not in ONLY_16},
    "UnlockConnector": "<status>Accepted</status>",
    "SendLocalList": "<status>HashError</status>",
    "ChangeConfiguration": "<status>NotSupported</status>",
}
ANSWERS_15 = {"UnlockConnector": {"status": "Unlocked"}, "SendLocalList": {"status": "Failed"}}
ANSWERS_15["ChangeConfiguration"] = {"status": "NotSupported"}
RESET_OK = f'<resetResponse xmlns="{NS["1.6"]}"><status>Accepted</status></resetResponse>'
UNLOCKED = (
    f'<unlockConnectorResponse xmlns="{NS["1.6"]}"><status>Unlocked</status>'
    "</unlockConnectorResponse>"
)


def lower(op: str) -> str:
    return op[0].lower() + op[1:]


def texts(value: Any) -> Any:
    """A JSON payload as the text the XML must carry (a one-item list as its item)."""
    if isinstance(value, dict):
        return {k: texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return texts(value[0]) if len(value) == 1 else [texts(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Soap:
    """The central system, and fake stations it knows as OCPP-S stations."""

    def __init__(self, web: WebCentral) -> None:
        self.web = web
        self.stations: list[FakeStation] = []

    def station(self, identity: str, version: str, url: str = "") -> FakeStation:
        """
        A fake station at C{url} (or its own), known to the central system as
        the OCPP-S service knows a station that called it with that From address.
        """
        fake = start_station(version)
        self.stations.append(fake)
        soap = self.web.service.soap
        assert soap is not None
        soap.stations.seen(identity, version, url or fake.url, "127.0.0.1")
        return fake

    async def command(self, identity: str, op: str, payload: Any, **params: str) -> Any:
        body = payload if payload else None
        return await self.web.api.request(
            "POST", f"/ChargePoint/{identity}/{op}", json=body, params=params or None
        )


@pytest_twisted.async_yield_fixture(scope="module")
async def soap(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Soap]:

    web = await start_web_central(tmp_path_factory.mktemp("soap"))
    running = Soap(web)
    yield running
    await stop_web_central(web)
    for fake in running.stations:
        await fake.stop()


@pytest.mark.parametrize("op", sorted(REPLIES_16))
@pytest_twisted.ensureDeferred
async def test_command_16(soap: Soap, op: str) -> None:
    """Each of the 19 commands reaches a 1.6 station as its WSDL says; its reply comes back."""
    payload, answer = COMMANDS[op]
    fake = soap.station(f"S16-{op}", "1.6")
    fake.service.next.append(
        Behaviour(
            reply=f'<{lower(op)}Response xmlns="{NS["1.6"]}">{REPLIES_16[op]}</{lower(op)}Response>'
        )
    )
    result = await soap.command(f"S16-{op}", op, payload)
    assert result.status == 200, result.body
    assert result.json == answer
    [got] = fake.service.received
    assert got.body.tag == f"{{{NS['1.6']}}}{lower(op)}Request"
    assert naive(got.body) == (texts(payload) if payload else "")
    headers = got.headers
    assert headers["chargeBoxIdentity"] == f"S16-{op}"
    assert headers["Action"] == f"/{op}"
    assert headers["To"] == fake.url
    assert headers["MessageID"].startswith("urn:uuid:")
    assert headers["ReplyTo"] == "http://www.w3.org/2005/08/addressing/anonymous"
    assert got.content_type.startswith("application/soap+xml")
    assert f'action="/{op}"' in got.content_type


@pytest.mark.parametrize("op", sorted(REPLIES_15))
@pytest_twisted.ensureDeferred
async def test_command_15(soap: Soap, op: str) -> None:
    """The 15 commands of 1.5 in its namespace and names; replies mapped to 1.6."""
    payload, answer = COMMANDS[op]
    if op == "RemoteStartTransaction":
        payload = {"idTag": "TAG1", "connectorId": 1}
    fake = soap.station(f"S15-{op}", "1.5")
    fake.service.next.append(
        Behaviour(
            reply=f'<{lower(op)}Response xmlns="{NS["1.5"]}">{REPLIES_15[op]}</{lower(op)}Response>'
        )
    )
    result = await soap.command(f"S15-{op}", op, payload)
    assert result.status == 200, result.body
    assert result.json == ANSWERS_15.get(op, answer)
    [got] = fake.service.received
    assert got.body.tag == f"{{{NS['1.5']}}}{lower(op)}Request"
    expected = texts(payload) if payload else ""
    if op == "SendLocalList":
        expected["localAuthorisationList"] = expected.pop("localAuthorizationList")
    assert naive(got.body) == expected
    assert got.headers["Action"] == f"/{op}"
    assert got.headers["chargeBoxIdentity"] == f"S15-{op}"


@pytest.mark.parametrize("op", sorted(ONLY_16))
@pytest_twisted.ensureDeferred
async def test_16_only_command_to_15_station(soap: Soap, op: str) -> None:
    """A 1.6-only command to a 1.5 station: 400 saying so; nothing is sent."""
    fake = soap.station(f"S15-NO-{op}", "1.5")
    message = (await soap.command(f"S15-NO-{op}", op, COMMANDS[op][0])).error(400)
    assert "not an OCPP 1.5 operation" in message and "speaks OCPP 1.5" in message
    assert fake.service.received == []


@pytest_twisted.ensureDeferred
async def test_charging_profile_to_15_station(soap: Soap) -> None:
    """RemoteStartTransaction with a chargingProfile to 1.5: 400 at its path, not dropped."""
    fake = soap.station("S15-PROFILE", "1.5")
    payload = COMMANDS["RemoteStartTransaction"][0]
    reply = await soap.command("S15-PROFILE", "RemoteStartTransaction", payload)
    assert "chargingProfile" in reply.error(400)
    assert reply.json["error"]["path"] == "$.chargingProfile"
    assert fake.service.received == []


@pytest_twisted.ensureDeferred
async def test_fault_is_a_call_error(soap: Soap) -> None:
    """A SOAP Fault with an OCPP subcode: 200 with error true, as a CALLERROR."""
    fake = soap.station("S-FAULT", "1.6")
    fake.service.next.append(Behaviour(fault=("Receiver", "NotSupported", "no resets"), status=500))
    result = await soap.command("S-FAULT", "Reset", {"type": "Hard"})
    assert result.status == 200, result.body
    assert result.json == {
        "error": True,
        "errorCode": "NotSupported",
        "errorDescription": "no resets",
        "errorDetails": {
            "soapCode": "Receiver",
            "soapSubcode": "NotSupported",
            "httpStatus": 500,
            "detail": "no resets!",
        },
    }


@pytest_twisted.ensureDeferred
async def test_timeout(soap: Soap) -> None:
    """No reply within the timeout: 504; the next command still goes out."""
    fake = soap.station("S-SLOW", "1.6")
    fake.service.next.append(Behaviour(hang=True))
    message = (await soap.command("S-SLOW", "Reset", {"type": "Soft"}, timeout="0.3")).error(504)
    assert "within 0.3s" in message
    fake.service.next.append(Behaviour(reply=RESET_OK))
    result = await soap.command("S-SLOW", "Reset", {"type": "Soft"})
    assert result.json == {"status": "Accepted"}


@pytest_twisted.ensureDeferred
async def test_refused(soap: Soap) -> None:
    """Nothing listens at the station's address: 503 unreachable."""
    from twisted.internet import reactor

    port = reactor.listenTCP(0, Factory(), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/cp"
    await port.stopListening()
    soap.station("S-REFUSED", "1.6", url=url)
    message = (await soap.command("S-REFUSED", "Reset", {"type": "Soft"})).error(503)
    assert "unreachable" in message and url in message


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        (Behaviour(raw=b"<html>oops</html>", status=500), "HTTP 500"),
        (Behaviour(raw=b"not xml at all", status=200), "well-formed"),
        (
            Behaviour(
                reply=RESET_OK,
                status=503,
            ),
            "HTTP 503 without a SOAP Fault",
        ),
        (
            Behaviour(reply=UNLOCKED),
            "expected",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_replies(soap: Soap, behaviour: Behaviour, words: str) -> None:
    """HTTP errors without a Fault, not XML, the wrong element: 502."""
    identity = f"S-BAD-{len(soap.stations)}"
    fake = soap.station(identity, "1.6")
    fake.service.next.append(behaviour)
    message = (await soap.command(identity, "Reset", {"type": "Soft"})).error(502)
    assert words in message, message


@pytest_twisted.ensureDeferred
async def test_reply_against_the_16_schema(soap: Soap) -> None:
    """A reply valid for the WSDL but out of range for the 1.6 JSON schema: 502 with its path."""
    fake = soap.station("S-RANGE", "1.6")
    fake.service.next.append(
        Behaviour(
            raw=(
                '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
                f'<unlockConnectorResponse xmlns="{NS["1.6"]}"><status>Maybe</status>'
                "</unlockConnectorResponse></e:Body></e:Envelope>"
            ).encode()
        )
    )
    reply = await soap.command("S-RANGE", "UnlockConnector", {"connectorId": 1})
    assert "UnlockConnector" in reply.error(502)
    assert reply.json["error"]["path"] == "$.status"


@pytest_twisted.ensureDeferred
async def test_https_verifies_the_certificate(soap: Soap, tmp_path: Path) -> None:
    """A station on HTTPS with a certificate nobody trusts: 503; trusted, it works."""
    from twisted.internet import reactor, ssl

    pem = self_signed(tmp_path)
    fake = start_station("1.6")
    await fake.port.stopListening()
    data = pem.read_text()
    options = ssl.PrivateCertificate.loadPEM(data).options()
    tls_port = reactor.listenSSL(0, fake.port.factory, options, interface="127.0.0.1")
    url = f"https://127.0.0.1:{tls_port.getHost().port}/ChargePoint"
    try:
        soap.station("S-TLS", "1.6", url=url)
        message = (await soap.command("S-TLS", "Reset", {"type": "Soft"})).error(503)
        assert "unreachable" in message
        assert fake.service.received == []
        trusted = SoapClient(
            reactor, tls_policy=BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(data))
        )
        channel = soap.web.service.registry.get("S-TLS")
        assert channel is not None
        channel.caller = StationCaller(trusted)  # type: ignore[attr-defined]
        fake.service.next.append(Behaviour(reply=RESET_OK))
        result = await soap.command("S-TLS", "Reset", {"type": "Soft"})
        assert result.json == {"status": "Accepted"}
        await trusted.close()
    finally:
        await tls_port.stopListening()


@pytest_twisted.ensureDeferred
async def test_no_from_address(soap: Soap) -> None:
    """A station that sent no WS-Addressing From cannot be called back: 503 saying why."""
    service = soap.web.service.soap
    assert service is not None
    service.stations.seen("S-NO-FROM", "1.6", None, "127.0.0.1")
    message = (await soap.command("S-NO-FROM", "Reset", {"type": "Soft"})).error(503)
    assert "From" in message


@pytest_twisted.ensureDeferred
async def test_frame_log(soap: Soap) -> None:
    """The command's request and reply XML are in the frame log, as the station's requests are."""
    fake = soap.station("S-LOG", "1.6")
    fake.service.next.append(Behaviour(reply=RESET_OK))
    assert (await soap.command("S-LOG", "Reset", {"type": "Soft"})).json == {"status": "Accepted"}
    soap.web.service.backend.store.flush()
    frames = (await soap.web.api.get("/Log", identity="S-LOG")).json["Log"]
    by_direction = {f["direction"]: f for f in frames}
    sent, got = by_direction["out"], by_direction["in"]
    assert sent["action"] == got["action"] == "Reset"
    assert sent["uniqueId"] == got["uniqueId"] == fake.service.received[0].headers["MessageID"]
    assert sent["raw"].encode() == fake.service.received[0].raw
    assert "resetResponse" in got["raw"]
