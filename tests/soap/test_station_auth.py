"""
OCPP-S stations get the same security profiles as JSON ones (issue 19:
"For SOAP stations, the same credentials apply to /Ocpp"): under profile 1
a request without the station's AuthorizationKey (HTTP Basic, user = the
chargeBoxIdentity) is answered with a SecurityError Fault and HTTP 401 and
nothing is recorded; with it the call is answered; under profile 2 a plain
HTTP request is refused with 403.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_twisted

from ocppcs.testca import TestCA
from tests.soap.test_bad_input import CS16, ENV, fault_of
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

KEY = "0123456789abcdef0123"


def boot(identity: str) -> bytes:
    header = (
        f'<s:Header><cs:chargeBoxIdentity xmlns:cs="{CS16}">{identity}</cs:chargeBoxIdentity>'
        '<a:MessageID xmlns:a="http://www.w3.org/2005/08/addressing">urn:uuid:1</a:MessageID>'
        '<a:Action xmlns:a="http://www.w3.org/2005/08/addressing">/BootNotification</a:Action></s:Header>'
    )
    body = (
        f'<bootNotificationRequest xmlns="{CS16}"><chargePointVendor>acme</chargePointVendor>'
        "<chargePointModel>S</chargePointModel></bootNotificationRequest>"
    )
    return (f'<s:Envelope xmlns:s="{ENV}">{header}<s:Body>{body}</s:Body></s:Envelope>').encode()


@pytest_twisted.async_yield_fixture
async def soap_secured(tmp_path: Path) -> AsyncIterator[WebCentral]:
    ca = TestCA(tmp_path / "ca")
    web = await start_web_central(
        tmp_path,
        server={"listen": ("tcp:0:interface=127.0.0.1", ca.listen())},
        security={"profile": 0, "profile_1": ("S1",), "profile_2": ("S2",)},
    )
    yield web
    await stop_web_central(web)


async def post(central: WebCentral, data: bytes, password: str | None, user: str = "S1") -> tuple:
    headers = {"Content-Type": ["application/soap+xml; charset=utf-8"]}
    if password is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = [f"Basic {token}"]
    response = await central.api.http.post(
        f"http://127.0.0.1:{central.port}/Ocpp", data=data, headers=headers
    )
    return response.code, response.headers, await response.content()


@pytest_twisted.ensureDeferred
async def test_profile_1_needs_the_authorization_key(soap_secured: WebCentral) -> None:
    central = soap_secured
    reply = await central.api.put("/ChargePoint/S1/AuthorizationKey", {"key": KEY})
    assert reply.status == 200, reply.body
    for password in (None, "wrong-password-123456"):
        code, headers, body = await post(central, boot("S1"), password)
        assert code == 401, body
        assert headers.getRawHeaders("WWW-Authenticate")
        soap_code, subcode, reason = fault_of(code, headers, body)
        assert (soap_code, subcode) == ("Sender", "SecurityError")
        assert "authentication failed" in reason
    stations = (await central.api.get("/ChargePointList")).json
    assert "S1" not in str(stations)  # a refused station is not recorded as seen
    code, _, body = await post(central, boot("S1"), KEY)
    assert code == 200, body
    assert b"bootNotificationResponse" in body and b"Accepted" in body


@pytest_twisted.ensureDeferred
async def test_profile_2_needs_tls(soap_secured: WebCentral) -> None:
    central = soap_secured
    await central.api.put("/ChargePoint/S2/AuthorizationKey", {"key": KEY})
    code, headers, body = await post(central, boot("S2"), KEY, user="S2")
    assert code == 403, body
    assert fault_of(code, headers, body)[1] == "SecurityError"


@pytest_twisted.ensureDeferred
async def test_profile_0_stations_need_nothing(soap_secured: WebCentral) -> None:
    central = soap_secured
    code, _, body = await post(central, boot("S0"), None, user="S0")
    assert code == 200, body
