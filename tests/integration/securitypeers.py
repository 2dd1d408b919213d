"""
Peers for the security-extension tests: CSRs made with C{cryptography} (good
ones and the wrong kinds), and an C{ocpp} package station that answers every
central-system message of the OCPP 1.6 security whitepaper and keeps what
it was sent.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

CPO = "Example CPO"


def make_csr(cn: str, o: str | None = CPO, key: Any = None) -> tuple[str, Any]:
    """A PEM CSR with subject CN C{cn} and O C{o}, and its private key (EC P-256 by default)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if o is not None:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def weak_rsa() -> Any:
    """A 1024-bit RSA key (too weak)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


class SecurityStation(ChargePoint):
    """Answers the security-extension commands; C{received} lists (action, payload)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict[str, Any]]] = []

    def _got(self, action: str, **payload: Any) -> None:
        self.received.append((action, payload))

    @on(Action.certificate_signed)
    def on_certificate_signed(self, **p: Any) -> Any:
        self._got("CertificateSigned", **p)
        return call_result.CertificateSigned(status="Accepted")

    @on(Action.install_certificate)
    def on_install_certificate(self, **p: Any) -> Any:
        self._got("InstallCertificate", **p)
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.delete_certificate)
    def on_delete_certificate(self, **p: Any) -> Any:
        self._got("DeleteCertificate", **p)
        return call_result.DeleteCertificate(status="NotFound")

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, **p: Any) -> Any:
        self._got("GetInstalledCertificateIds", **p)
        return call_result.GetInstalledCertificateIds(status="NotFound")

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(self, **p: Any) -> Any:
        self._got("ExtendedTriggerMessage", **p)
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @on(Action.get_log)
    def on_get_log(self, **p: Any) -> Any:
        self._got("GetLog", **p)
        return call_result.GetLog(status="Accepted", filename="security.log")

    @on(Action.signed_update_firmware)
    def on_signed_update_firmware(self, **p: Any) -> Any:
        self._got("SignedUpdateFirmware", **p)
        return call_result.SignedUpdateFirmware(status="Accepted")

    @on(Action.change_configuration)
    def on_change_configuration(self, **p: Any) -> Any:
        self._got("ChangeConfiguration", **p)
        return call_result.ChangeConfiguration(status="Accepted")
