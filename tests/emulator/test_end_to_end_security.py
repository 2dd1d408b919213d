"""
The OCPP 1.6 security extensions between the central system and an emulated
station of the same process, over real WebSockets, every command through
C{POST /api/v1/ChargePoint/{identity}/{Operation}}: the certificate round
trip (ExtendedTriggerMessage SignChargePointCertificate, the station's CSR,
the signing by a throwaway CA, CertificateSigned installed in the station's
store), root certificates installed, listed and deleted, GetLog's upload and
LogStatusNotification, SignedUpdateFirmware with a valid and an invalid
signature or signing certificate, and security events after a reset.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocppcs import certsign
from ocppcs.emulator import security
from ocppcs.testca import TestCA
from tests.emulator.test_end_to_end import (
    command,
    copy_stations,
    cs_station,
    start_emulated_central,
    station,
    until,
)
from tests.web.conftest import WebCentral, stop_web_central

CP = "EM-A0000004"
CPO = "Emulated CPO"


@pytest_twisted.async_yield_fixture
async def cs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[WebCentral, TestCA]]:
    """A central system signing with a throwaway CA, running the example stations."""
    monkeypatch.setattr(security, "STEP", 0.1)
    monkeypatch.setattr(certsign, "SIGN_DELAY", 0.05)
    ca = TestCA(tmp_path_factory.mktemp("ca"))
    stations = copy_stations(tmp_path_factory.mktemp("cp"))
    web = await start_emulated_central(
        tmp_path_factory.mktemp("cs"),
        stations,
        security={"ca_cert": str(ca.ca), "ca_key": str(ca.ca_key), "cpo_name": CPO},
    )
    yield web, ca
    await stop_web_central(web)


async def events(web: WebCentral) -> list[str]:
    reply = await web.api.get(f"/ChargePoint/{CP}/SecurityEvents")
    assert reply.status == 200, reply.body
    return [e["type"] for e in reply.json["SecurityEvents"]]


@pytest_twisted.ensureDeferred
async def test_certificate_round_trip(cs: tuple[WebCentral, TestCA]) -> None:
    web, ca = cs
    change = {"key": "CpoName", "value": CPO}
    assert (await command(web, CP, "ChangeConfiguration", change)) == {"status": "Accepted"}
    trigger = {"requestedMessage": "SignChargePointCertificate"}
    assert (await command(web, CP, "ExtendedTriggerMessage", trigger)) == {"status": "Accepted"}
    emulated = station(web, CP)
    await until(lambda: "chargePoint" in emulated.certificates, "the signed certificate installed")
    chain = x509.load_pem_x509_certificates(emulated.certificates["chargePoint"].encode())
    chain[0].verify_directly_issued_by(x509.load_pem_x509_certificate(ca.ca.read_bytes()))
    assert chain[0].subject.rfc4514_string() == f"O={CPO},CN={CP}"
    key: Any = serialization.load_pem_private_key(
        emulated.certificates["chargePointKey"].encode(), password=None
    )
    assert key.public_key() == chain[0].public_key()
    assert "pendingKey" not in emulated.certificates


@pytest_twisted.ensureDeferred
async def test_a_csr_without_the_cpo_name_is_rejected(cs: tuple[WebCentral, TestCA]) -> None:
    """The station has no CpoName: its CSR has no O, the central system rejects it."""
    web, _ = cs
    trigger = {"requestedMessage": "SignChargePointCertificate"}
    assert (await command(web, CP, "ExtendedTriggerMessage", trigger)) == {"status": "Accepted"}
    emulated = station(web, CP)
    await until(lambda: "pendingKey" in emulated.certificates, "a CSR sent")
    service: Any = web.service
    await until(lambda: service.security.signing["rejected"] == 1, "the CSR rejected")
    assert "chargePoint" not in emulated.certificates


@pytest_twisted.ensureDeferred
async def test_root_certificates(cs: tuple[WebCentral, TestCA]) -> None:
    web, ca = cs
    kind = {"certificateType": "ManufacturerRootCertificate"}
    assert (await command(web, CP, "GetInstalledCertificateIds", kind)) == {"status": "NotFound"}
    install = {**kind, "certificate": ca.ca.read_text()}
    assert (await command(web, CP, "InstallCertificate", install)) == {"status": "Accepted"}
    found = await command(web, CP, "GetInstalledCertificateIds", kind)
    assert found["status"] == "Accepted"
    (hashed,) = found["certificateHashData"]
    other = {"certificateType": "CentralSystemRootCertificate"}
    assert (await command(web, CP, "GetInstalledCertificateIds", other))["status"] == "NotFound"
    delete = {"certificateHashData": hashed}
    assert (await command(web, CP, "DeleteCertificate", delete)) == {"status": "Accepted"}
    assert (await command(web, CP, "DeleteCertificate", delete)) == {"status": "NotFound"}
    assert (await command(web, CP, "GetInstalledCertificateIds", kind)) == {"status": "NotFound"}


@pytest_twisted.ensureDeferred
async def test_GetLog(cs: tuple[WebCentral, TestCA]) -> None:
    web, _ = cs
    request = {"logType": "SecurityLog", "requestId": 11, "log": {"remoteLocation": "ftp://x/"}}
    reply = await command(web, CP, "GetLog", request)
    assert reply["status"] == "Accepted"
    assert reply["filename"].startswith(f"security-{CP}-")

    async def uploaded() -> bool:
        status = (await cs_station(web, CP))["logStatus"]
        return status is not None and status == {**status, "status": "Uploaded", "requestId": 11}

    await until(uploaded, "LogStatusNotification Uploaded")


def signer(name: str = "firmware signer") -> tuple[Any, str]:
    """A signing key and its self-signed certificate (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def firmware(request_id: int, certificate: str, signature: bytes) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "firmware": {
            "location": "https://example.com/fw/EMU-3.0.bin",
            "retrieveDateTime": "2020-01-01T00:00:00Z",
            "signingCertificate": certificate,
            "signature": base64.b64encode(signature).decode(),
        },
    }


async def signed_status(web: WebCentral, status: str, request_id: int) -> None:
    async def check() -> bool:
        found = (await cs_station(web, CP))["signedFirmwareStatus"]
        return found is not None and (found["status"], found["requestId"]) == (status, request_id)

    await until(check, f"SignedFirmwareStatusNotification {status}")


@pytest_twisted.ensureDeferred
async def test_SignedUpdateFirmware(cs: tuple[WebCentral, TestCA]) -> None:
    """The simulated download is empty: the signature is of b''."""
    web, _ = cs
    key, certificate = signer()
    wrong_key, _ = signer()
    bad = firmware(1, certificate, wrong_key.sign(b"", ec.ECDSA(hashes.SHA256())))
    assert (await command(web, CP, "SignedUpdateFirmware", bad)) == {"status": "Accepted"}
    await signed_status(web, "InvalidSignature", 1)
    await until(
        lambda: _has(web, "InvalidFirmwareSignature"),
        "InvalidFirmwareSignature",
    )
    good = firmware(2, certificate, key.sign(b"", ec.ECDSA(hashes.SHA256())))
    assert (await command(web, CP, "SignedUpdateFirmware", good)) == {"status": "Accepted"}
    await signed_status(web, "Installed", 2)
    await until(lambda: _has(web, "FirmwareUpdated"), "FirmwareUpdated")


async def _has(web: WebCentral, kind: str) -> bool:
    return kind in await events(web)


@pytest_twisted.ensureDeferred
async def test_signing_certificate_not_from_the_manufacturer(
    cs: tuple[WebCentral, TestCA],
) -> None:
    web, ca = cs
    install = {"certificateType": "ManufacturerRootCertificate", "certificate": ca.ca.read_text()}
    assert (await command(web, CP, "InstallCertificate", install)) == {"status": "Accepted"}
    key, certificate = signer("not the manufacturer")
    update = firmware(3, certificate, key.sign(b"", ec.ECDSA(hashes.SHA256())))
    reply = await command(web, CP, "SignedUpdateFirmware", update)
    assert reply == {"status": "InvalidCertificate"}
    await until(lambda: _has(web, "InvalidFirmwareSigningCertificate"), "the security event")


@pytest_twisted.ensureDeferred
async def test_reset_security_event(cs: tuple[WebCentral, TestCA]) -> None:
    """With SecurityProfile 1 the station reports ResetOrReboot after a reset."""
    web, _ = cs
    emulated: Any = station(web, CP)
    before = emulated.link.connections
    change = {"key": "SecurityProfile", "value": "1"}
    assert (await command(web, CP, "ChangeConfiguration", change)) == {"status": "Accepted"}
    await until(
        lambda: emulated.link.connections > before and emulated.online,
        "the station reconnected with the new profile",
    )
    assert (await command(web, CP, "Reset", {"type": "Soft"})) == {"status": "Accepted"}
    await until(lambda: _has(web, "ResetOrReboot"), "ResetOrReboot")
