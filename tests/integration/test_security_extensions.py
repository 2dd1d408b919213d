"""
The OCPP 1.6 security extensions (security whitepaper edition 3) between a
real central system and an independent station (the C{ocpp} package's
ChargePoint over C{websockets}): security events, log and signed firmware
statuses stored and shown, SignCertificate checked and signed by a throwaway
CA (L{ocppcs.testca}) with CertificateSigned sent after it, the seven
central-system commands through the REST API, and raising a station's
security profile.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted
import treq
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ocpp.routing import after
from ocpp.v16 import call
from ocpp.v16.enums import Action

from ocppcs.testca import TestCA
from tests.integration.conftest import aio
from tests.integration.peers import wait_until
from tests.integration.securitypeers import CPO, SecurityStation, make_csr, weak_rsa
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

NOW = "2026-01-02T03:04:05Z"


@pytest_twisted.async_yield_fixture
async def web(tmp_path: Path) -> AsyncIterator[tuple[WebCentral, TestCA]]:
    ca = TestCA(tmp_path / "ca")
    running = await start_web_central(
        tmp_path,
        security={"ca_cert": str(ca.ca), "ca_key": str(ca.ca_key), "cpo_name": CPO},
    )
    yield running, ca
    await stop_web_central(running)


async def connect(url: str, identity: str, **kwargs: Any) -> tuple[SecurityStation, Any, Any]:
    ws = await websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], **kwargs)
    station = SecurityStation(identity, ws)
    reader = asyncio.ensure_future(station.start())
    boot = await station.call(
        call.BootNotification(charge_point_vendor="Acme", charge_point_model="Sec")
    )
    assert boot.status == "Accepted"
    return station, ws, reader


async def close(ws: Any, reader: Any) -> None:
    await ws.close()
    reader.cancel()


async def metrics(web: WebCentral) -> str:
    response = await treq.get(f"http://127.0.0.1:{web.port}/metrics")
    return str(await response.text())


def metric(text: str, name: str, labels: str) -> float:
    found = re.search(re.escape(f"{name}{{{labels}}}") + r" (\S+)", text)
    return float(found.group(1)) if found else 0.0


@pytest_twisted.ensureDeferred
async def test_station_messages_are_stored_and_shown(web: tuple[WebCentral, TestCA]) -> None:
    central, _ = web

    async def scenario() -> None:
        station, ws, reader = await connect(central.station_url, "SEC-1")
        try:
            await station.call(
                call.SecurityEventNotification(
                    type="StartupOfTheDevice", timestamp=NOW, tech_info=None
                )
            )
            await station.call(
                call.SecurityEventNotification(
                    type="InvalidFirmwareSignature", timestamp=NOW, tech_info="bad sig"
                )
            )
            await station.call(
                call.SecurityEventNotification(type="MadeUp", timestamp=NOW, tech_info=None)
            )
            await station.call(call.LogStatusNotification(status="Uploaded", request_id=7))
            await station.call(
                call.SignedFirmwareStatusNotification(status="InvalidSignature", request_id=8)
            )
        finally:
            await close(ws, reader)

    await aio(scenario())
    events = await central.api.get("/ChargePoint/SEC-1/SecurityEvents")
    assert events.status == 200, events.body
    assert events.json["total"] == 3
    rows = events.json["SecurityEvents"]
    assert [(r["type"], r["timestamp"], r["techInfo"]) for r in rows] == [
        ("MadeUp", NOW, None),
        ("InvalidFirmwareSignature", NOW, "bad sig"),
        ("StartupOfTheDevice", NOW, None),
    ]
    detail = (await central.api.get("/ChargePoint/SEC-1")).json
    assert detail["logStatus"]["status"] == "Uploaded"
    assert detail["logStatus"]["requestId"] == 7
    assert detail["signedFirmwareStatus"]["status"] == "InvalidSignature"
    assert detail["signedFirmwareStatus"]["requestId"] == 8
    text = await metrics(central)
    name = "ocppcs_security_events_total"
    assert metric(text, name, 'type="StartupOfTheDevice"') == 1
    assert metric(text, name, 'type="InvalidFirmwareSignature"') == 1
    assert metric(text, name, 'type="Other"') == 1


@pytest_twisted.ensureDeferred
async def test_sign_certificate_checks_signs_and_sends(web: tuple[WebCentral, TestCA]) -> None:
    central, ca = web
    good, key = make_csr("SEC-2")
    bad = {
        "malformed": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
        "wrong CN": make_csr("OTHER")[0],
        "wrong O": make_csr("SEC-2", o="Someone Else")[0],
        "no O": make_csr("SEC-2", o=None)[0],
        "weak key": make_csr("SEC-2", key=weak_rsa())[0],
    }

    async def scenario() -> tuple[dict[str, str], str, SecurityStation]:
        station, ws, reader = await connect(central.station_url, "SEC-2")
        try:
            statuses = {}
            for why, csr in bad.items():
                statuses[why] = (await station.call(call.SignCertificate(csr=csr))).status
            accepted = (await station.call(call.SignCertificate(csr=good))).status
            await wait_until(lambda: station.received, 10)
            watch: Any = central.service.security
            await wait_until(lambda: watch.signing["signed"], 10)  # the reply got back
            return statuses, accepted, station
        finally:
            await close(ws, reader)

    statuses, accepted, station = await aio(scenario())
    assert statuses == dict.fromkeys(bad, "Rejected")
    assert accepted == "Accepted"
    action, payload = station.received[0]
    assert action == "CertificateSigned"
    chain = x509.load_pem_x509_certificates(payload["certificate_chain"].encode())
    issued = x509.load_pem_x509_certificate(ca.ca.read_bytes())
    assert chain[1] == issued
    chain[0].verify_directly_issued_by(issued)
    assert chain[0].public_key() == key.public_key()
    assert chain[0].subject.rfc4514_string() == f"O={CPO},CN=SEC-2"
    text = await metrics(central)
    assert metric(text, "ocppcs_certificate_signing_total", 'outcome="rejected"') == 5
    assert metric(text, "ocppcs_certificate_signing_total", 'outcome="signed"') == 1


COMMANDS: dict[str, dict[str, Any]] = {
    "CertificateSigned": {"certificateChain": "-----BEGIN CERTIFICATE-----"},
    "InstallCertificate": {
        "certificateType": "CentralSystemRootCertificate",
        "certificate": "-----BEGIN CERTIFICATE-----",
    },
    "DeleteCertificate": {
        "certificateHashData": {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "a" * 64,
            "issuerKeyHash": "b" * 64,
            "serialNumber": "01",
        }
    },
    "GetInstalledCertificateIds": {"certificateType": "ManufacturerRootCertificate"},
    "ExtendedTriggerMessage": {"requestedMessage": "SignChargePointCertificate"},
    "GetLog": {"logType": "SecurityLog", "requestId": 3, "log": {"remoteLocation": "ftp://x/"}},
    "SignedUpdateFirmware": {
        "requestId": 4,
        "firmware": {
            "location": "http://x/fw.bin",
            "retrieveDateTime": NOW,
            "signingCertificate": "-----BEGIN CERTIFICATE-----",
            "signature": "c2ln",
        },
    },
}
REPLIES = {
    "CertificateSigned": {"status": "Accepted"},
    "InstallCertificate": {"status": "Accepted"},
    "DeleteCertificate": {"status": "NotFound"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
    "ExtendedTriggerMessage": {"status": "Accepted"},
    "GetLog": {"status": "Accepted", "filename": "security.log"},
    "SignedUpdateFirmware": {"status": "Accepted"},
}


@pytest_twisted.ensureDeferred
async def test_commands_through_the_rest_api(web: tuple[WebCentral, TestCA]) -> None:
    central, _ = web
    station, ws, reader = await aio(connect(central.station_url, "SEC-3"))
    try:
        for operation, body in COMMANDS.items():
            reply = await central.api.post(f"/ChargePoint/SEC-3/{operation}", body)
            assert reply.status == 200, (operation, reply.body)
            assert reply.json == REPLIES[operation], operation
        assert [action for action, _ in station.received] == list(COMMANDS)
        bad = await central.api.post(
            "/ChargePoint/SEC-3/GetLog",
            {"logType": "Nonsense", "requestId": 1, "log": {"remoteLocation": "ftp://x/"}},
        )
        assert bad.status == 400
        assert bad.json["error"]["path"] == "$.logType"
        schema = await central.api.get("/Schema/SignedUpdateFirmware")
        assert schema.status == 200
        assert "firmware" in schema.json["properties"]
    finally:
        await aio(close(ws, reader))
    offline = await central.api.post("/ChargePoint/SEC-3/GetLog", COMMANDS["GetLog"])
    assert offline.status == 503


@pytest_twisted.ensureDeferred
async def test_raising_the_security_profile(web: tuple[WebCentral, TestCA]) -> None:
    """
    The whitepaper's migration (section 2.4): key first, then ChangeConfiguration
    SecurityProfile; once Accepted, a connection without the key is refused.
    """
    central, _ = web
    api = central.api
    assert (await api.put("/ChargePoint/SEC-4/AuthorizationKey", {"key": "K" * 16})).status == 200
    station, ws, reader = await aio(connect(central.station_url, "SEC-4"))
    try:
        (await api.put("/ChargePoint/SEC-4/SecurityProfile", {"profile": 0})).error(400)
        reply = await api.put("/ChargePoint/SEC-4/SecurityProfile", {"profile": 1})
        assert reply.status == 200, reply.body
        assert reply.json == {"identity": "SEC-4", "profile": 1, "previous": 0}
        assert station.received[-1] == (
            "ChangeConfiguration",
            {"key": "SecurityProfile", "value": "1"},
        )
        again = await api.put("/ChargePoint/SEC-4/SecurityProfile", {"profile": 1})
        assert again.status == 409
    finally:
        await aio(close(ws, reader))
    refused = await aio(_refused(central.station_url, "SEC-4"))
    assert refused == 401
    import base64

    token = base64.b64encode(b"SEC-4:" + b"K" * 16).decode()
    station, ws, reader = await aio(
        connect(
            central.station_url, "SEC-4", additional_headers={"Authorization": f"Basic {token}"}
        )
    )
    await aio(close(ws, reader))


async def _refused(url: str, identity: str, **kwargs: Any) -> int:
    from websockets.exceptions import InvalidStatus

    try:
        await websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], **kwargs)
    except InvalidStatus as e:
        return int(e.response.status_code)
    return 101


class TriggeredStation(SecurityStation):
    """Sends a CSR (CN = its identity, O = the CPO) when asked with ExtendedTriggerMessage."""

    key: Any = None

    @after(Action.extended_trigger_message)
    async def send_csr(self, requested_message: str, **kwargs: Any) -> None:
        if requested_message == "SignChargePointCertificate":
            csr, self.key = make_csr(self.id)
            await self.call(call.SignCertificate(csr=csr))


@pytest_twisted.ensureDeferred
async def test_certificate_round_trip_then_profile_3_over_tls(tmp_path: Path) -> None:
    """
    The whole round trip over TLS: trigger, CSR, signing, CertificateSigned,
    SecurityProfile 3, then the station reconnects with its new certificate
    and nothing else gets in.
    """
    ca = TestCA(tmp_path / "ca")
    central = await start_web_central(
        tmp_path,
        server={"listen": ("tcp:0:interface=127.0.0.1", ca.listen(client_certificates=True))},
        security={"ca_cert": str(ca.ca), "ca_key": str(ca.ca_key), "cpo_name": CPO},
    )
    tls = central.service.listeners[1].port
    assert tls is not None
    wss = f"wss://127.0.0.1:{tls.getHost().port}/ocpp"
    trust = ssl.create_default_context(cafile=str(ca.ca))
    try:
        ws = await aio(websockets.connect(f"{wss}/SEC-TLS", subprotocols=["ocpp1.6"], ssl=trust))
        station = TriggeredStation("SEC-TLS", ws)
        reader = asyncio.ensure_future(station.start())
        try:
            boot = await aio(
                station.call(call.BootNotification(charge_point_vendor="A", charge_point_model="T"))
            )
            assert boot.status == "Accepted"
            trigger = {"requestedMessage": "SignChargePointCertificate"}
            reply = await central.api.post("/ChargePoint/SEC-TLS/ExtendedTriggerMessage", trigger)
            assert reply.json == {"status": "Accepted"}
            await aio(wait_until(lambda: station.received[1:], 10))
            action, payload = station.received[1]
            assert action == "CertificateSigned"
            raised = await central.api.put("/ChargePoint/SEC-TLS/SecurityProfile", {"profile": 3})
            assert raised.status == 200, raised.body
        finally:
            await aio(close(ws, reader))
        chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
        chain.write_text(payload["certificate_chain"])
        key.write_bytes(
            station.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        assert await aio(_refused(wss, "SEC-TLS", ssl=trust)) == 401
        assert await aio(_refused(central.station_url, "SEC-TLS")) == 403
        own = ssl.create_default_context(cafile=str(ca.ca))
        own.load_cert_chain(str(chain), str(key))
        _, ws, reader = await aio(connect(wss, "SEC-TLS", ssl=own))
        await aio(close(ws, reader))
    finally:
        await stop_web_central(central)


@pytest_twisted.ensureDeferred
async def test_webhook_forwards_them_and_the_record_keeps_copies(tmp_path: Path) -> None:
    """With the webhook backend the receiver answers; the record still shows them."""
    from tests.backends.webhooktools import eventually, start_hooked, stop_hooked

    hooked = await start_hooked(tmp_path)
    try:

        async def scenario() -> None:
            station, ws, reader = await connect(hooked.central.station_url, "SEC-HOOK")
            try:
                await station.call(
                    call.SecurityEventNotification(
                        type="TamperDetectionActivated", timestamp=NOW, tech_info="lid"
                    )
                )
                await station.call(call.LogStatusNotification(status="Uploading", request_id=9))
            finally:
                await close(ws, reader)

        await aio(scenario())
        actions = [s.body["action"] for s in hooked.receiver.seen]
        assert actions == ["BootNotification", "SecurityEventNotification", "LogStatusNotification"]
        api = hooked.central.api

        async def copied() -> bool:
            reply = await api.get("/ChargePoint/SEC-HOOK/SecurityEvents")
            return bool(reply.json["SecurityEvents"])

        await eventually(copied)
        rows = (await api.get("/ChargePoint/SEC-HOOK/SecurityEvents")).json["SecurityEvents"]
        assert [(r["type"], r["techInfo"]) for r in rows] == [("TamperDetectionActivated", "lid")]
        detail = (await api.get("/ChargePoint/SEC-HOOK")).json
        assert detail["logStatus"]["status"] == "Uploading"
    finally:
        await stop_hooked(hooked)
