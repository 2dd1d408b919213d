# -*- test-case-name: tests.emulator.test_end_to_end_security -*-
"""
The emulated station's side of the OCPP 1.6 security extensions (security
whitepaper edition 3), mixed into L{ocppcs.emulator.commands.StationCommands}:

    ExtendedTriggerMessage   SignChargePointCertificate: a new EC P-256 key and a
                             CSR (CN = identity, O = the CpoName key), sent with
                             SignCertificate; LogStatusNotification,
                             FirmwareStatusNotification (as
                             SignedFirmwareStatusNotification) and the core messages
    CertificateSigned        installs the chain when its certificate is for the
                             pending key (else Rejected, and the security event
                             InvalidChargePointCertificate)
    InstallCertificate       a root certificate of either type
    GetInstalledCertificateIds / DeleteCertificate   by the whitepaper's hash data
                             (SHA-256 of the issuer's name and key, serial number)
    GetLog                   the filename; LogStatusNotification Uploading, the
                             upload (like GetDiagnostics), Uploaded or UploadFailure
    SignedUpdateFirmware     the signing certificate must come from an installed
                             ManufacturerRootCertificate, if any (else
                             InvalidCertificate and InvalidFirmwareSigningCertificate);
                             after the download the signature (base64, SHA-256, RSA
                             PKCS#1 v1.5 or ECDSA) is verified: SignatureVerified ->
                             Installing -> Installed and a reboot, or InvalidSignature
                             and the security event InvalidFirmwareSignature

Security events go out once the station is Accepted: those above, and, for
a station with a C{SecurityProfile} key above 0 (one set up for the
whitepaper; at 0 it stays a plain OCPP 1.6 station, which a central system
without the extensions expects), StartupOfTheDevice after the emulator
starts it and ResetOrReboot after a reset (L{UNSOLICITED}).
The certificates are kept in the station's state (its private keys too:
this is an emulator).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from ocppcs.emulator.smartcharging import parse_time

if TYPE_CHECKING:
    from ocppcs.emulator.station import EmulatedStation as _Base  # type: ignore[attr-defined]
else:
    _Base = object

LOG = "LogStatusNotification"
SIGNED_FIRMWARE = "SignedFirmwareStatusNotification"
#: Seconds between the steps of a log upload or a signed firmware update.
STEP = 2.0
#: Security events a station sends of itself, only with SecurityProfile above 0.
UNSOLICITED = frozenset({"StartupOfTheDevice", "ResetOrReboot"})
_CORE_TRIGGERS = {"BootNotification", "Heartbeat", "MeterValues", "StatusNotification"}


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def hash_data(certificate: x509.Certificate) -> dict[str, str]:
    """The whitepaper's CertificateHashDataType of C{certificate} (SHA-256)."""
    issuer_key = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(issuer_key).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


def verify_signature(certificate: x509.Certificate, data: bytes, signature: str) -> bool:
    """Whether C{signature} (base64) is C{certificate}'s key's SHA-256 signature of C{data}."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


class SecurityCommands(_Base):
    """The security-extension answers; the station's C{certificates} dict is the store."""

    #: {"chargePoint": chain PEM, "chargePointKey": key PEM, "pendingKey": key PEM,
    #:  "roots": [{"type", "pem"}]}, in the station's state.
    certificates: dict[str, Any]
    #: Security events waiting for the station to be Accepted.
    security_events: list[dict[str, Any]]
    log_status: str
    signed_firmware_status: str

    # --- security events ------------------------------------------------------------------

    def security_event(
        self, kind: str, tech_info: str | None = None, after_boot: bool = False
    ) -> None:
        """
        Send the security event C{kind}: at once when Accepted, else (or with
        C{after_boot}) after the next Accepted boot.
        """
        event: dict[str, Any] = {"type": kind, "timestamp": self.timestamp()}
        if tech_info:
            event["techInfo"] = tech_info[:255]
        self.security_events.append(event)
        if self.online and not after_boot:
            self.flush_security_events()

    def flush_security_events(self) -> None:
        """Send the waiting security events (the station is Accepted)."""
        events, self.security_events = self.security_events, []
        secured = self.keys.get_int("SecurityProfile", 0) > 0
        for event in events:
            if secured or event["type"] not in UNSOLICITED:
                self.deliver("SecurityEventNotification", event)

    # --- certificates ---------------------------------------------------------------------

    def on_ExtendedTriggerMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = payload["requestedMessage"]
        if message in _CORE_TRIGGERS:
            return self.on_TriggerMessage(payload)
        if message == "SignChargePointCertificate":
            self.after_reply(self.request_certificate)
        elif message == "LogStatusNotification":
            status = self.log_status if self.log_status == "Uploading" else "Idle"
            self.after_reply(self._notify_security, LOG, status)
        elif message == "FirmwareStatusNotification":
            busy = self.signed_firmware_status in ("Downloading", "Downloaded", "Installing")
            status = self.signed_firmware_status if busy else "Idle"
            self.after_reply(self._notify_security, SIGNED_FIRMWARE, status)
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    def request_certificate(self) -> None:
        """A new key and its CSR, sent with SignCertificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.NameAttribute(NameOID.COMMON_NAME, self.identity)]
        cpo = self.keys.get("CpoName") or ""
        if cpo:
            names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, cpo))
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name(names))
            .sign(key, hashes.SHA256())
        )
        self.certificates["pendingKey"] = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        self.save()
        pem = csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.send("SignCertificate", {"csr": pem}).addErrback(self._call_failed, "SignCertificate")

    def on_CertificateSigned(self, payload: dict[str, Any]) -> dict[str, Any]:
        pending = self.certificates.get("pendingKey")
        try:
            chain = x509.load_pem_x509_certificates(payload["certificateChain"].encode())
        except ValueError:
            chain = []
        if pending is None or not chain:
            self.security_event("InvalidChargePointCertificate", "unreadable or unexpected")
            return {"status": "Rejected"}
        key: Any = serialization.load_pem_private_key(pending.encode(), password=None)
        if chain[0].public_key() != key.public_key():
            self.security_event("InvalidChargePointCertificate", "not for the pending key")
            return {"status": "Rejected"}
        self.certificates["chargePoint"] = "".join(_pem(c) for c in chain)
        self.certificates["chargePointKey"] = self.certificates.pop("pendingKey")
        self.save()
        return {"status": "Accepted"}

    def _roots(self, kind: str | None = None) -> list[x509.Certificate]:
        return [
            x509.load_pem_x509_certificate(r["pem"].encode())
            for r in self.certificates.get("roots", [])
            if kind is None or r["type"] == kind
        ]

    def on_InstallCertificate(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            certificate = x509.load_pem_x509_certificate(payload["certificate"].encode())
        except ValueError:
            return {"status": "Rejected"}
        roots = self.certificates.setdefault("roots", [])
        entry = {"type": payload["certificateType"], "pem": _pem(certificate)}
        if entry not in roots:
            roots.append(entry)
        self.save()
        return {"status": "Accepted"}

    def on_GetInstalledCertificateIds(self, payload: dict[str, Any]) -> dict[str, Any]:
        found = [hash_data(c) for c in self._roots(payload["certificateType"])]
        if not found:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashData": found}

    def on_DeleteCertificate(self, payload: dict[str, Any]) -> dict[str, Any]:
        wanted = dict(payload["certificateHashData"])
        wanted["serialNumber"] = wanted["serialNumber"].lower().lstrip("0")
        roots = self.certificates.get("roots", [])
        for entry in roots:
            data = hash_data(x509.load_pem_x509_certificate(entry["pem"].encode()))
            data["serialNumber"] = data["serialNumber"].lstrip("0")
            if {k: v.lower() for k, v in data.items()} == {k: v.lower() for k, v in wanted.items()}:
                roots.remove(entry)
                self.save()
                return {"status": "Accepted"}
        return {"status": "NotFound"}

    # --- logs -----------------------------------------------------------------------------

    def _notify_security(self, action: str, status: str, request_id: int | None = None) -> None:
        if action == LOG:
            self.log_status = status
        else:
            self.signed_firmware_status = status
        payload: dict[str, Any] = {"status": status}
        if request_id is not None:
            payload["requestId"] = request_id
        if self.session is not None:
            self.send(action, payload).addErrback(self._call_failed, action)

    def on_GetLog(self, payload: dict[str, Any]) -> dict[str, Any]:
        stamp = self.timestamp().replace(":", "").replace("-", "")[:15]
        kind = "security" if payload["logType"] == "SecurityLog" else "diagnostics"
        file_name = f"{kind}-{self.identity}-{stamp}.log"[:255]
        request_id = payload["requestId"]
        self.later(LOG, 0.0, self._notify_security, LOG, "Uploading", request_id)
        self.later(LOG + "-upload", STEP, self._upload_log, payload, file_name)
        return {"status": "Accepted", "filename": file_name}

    def _upload_log(self, payload: dict[str, Any], file_name: str) -> None:
        log = payload["log"]
        data = self.diagnostics_file(log.get("oldestTimestamp"), log.get("latestTimestamp"))
        request_id = payload["requestId"]
        d = self.transfers.upload(log["remoteLocation"], file_name, data)
        d.addCallbacks(
            lambda _: self._notify_security(LOG, "Uploaded", request_id),
            lambda f: self._notify_security(LOG, "UploadFailure", request_id),
        )

    # --- signed firmware ------------------------------------------------------------------

    def on_SignedUpdateFirmware(self, payload: dict[str, Any]) -> dict[str, Any]:
        firmware = payload["firmware"]
        request_id = payload["requestId"]
        try:
            signer = x509.load_pem_x509_certificate(firmware["signingCertificate"].encode())
        except ValueError:
            signer = None
        roots = self._roots("ManufacturerRootCertificate")
        if signer is None or (roots and not _issued_by_one(signer, roots)):
            self.after_reply(
                self.security_event, "InvalidFirmwareSigningCertificate", f"request {request_id}"
            )
            return {"status": "InvalidCertificate"}
        wait = max(parse_time(firmware["retrieveDateTime"]).timestamp() - self.now(), 0.0)
        self.later(SIGNED_FIRMWARE, wait, self._signed_download, payload, signer)
        return {"status": "Accepted"}

    def _signed_download(self, payload: dict[str, Any], signer: x509.Certificate) -> None:
        request_id = payload["requestId"]
        self._notify_security(SIGNED_FIRMWARE, "Downloading", request_id)
        d = self.transfers.download(payload["firmware"]["location"])
        d.addCallbacks(
            lambda image: self._verify_firmware(payload, signer, image),
            lambda f: self._notify_security(SIGNED_FIRMWARE, "DownloadFailed", request_id),
        )

    def _verify_firmware(
        self, payload: dict[str, Any], signer: x509.Certificate, image: bytes
    ) -> None:
        request_id = payload["requestId"]
        self._notify_security(SIGNED_FIRMWARE, "Downloaded", request_id)
        if not verify_signature(signer, image, payload["firmware"]["signature"]):
            self._notify_security(SIGNED_FIRMWARE, "InvalidSignature", request_id)
            self.security_event("InvalidFirmwareSignature", f"request {request_id}")
            return
        self._notify_security(SIGNED_FIRMWARE, "SignatureVerified", request_id)
        self.later(SIGNED_FIRMWARE, STEP, self._signed_install, payload)

    def _signed_install(self, payload: dict[str, Any]) -> None:
        request_id = payload["requestId"]
        self._notify_security(SIGNED_FIRMWARE, "Installing", request_id)
        self._notify_security(SIGNED_FIRMWARE, "Installed", request_id)
        self.security_event("FirmwareUpdated", f"request {request_id}")
        self.later(SIGNED_FIRMWARE, STEP, self._reset, "Reboot")


def _issued_by_one(certificate: x509.Certificate, roots: list[x509.Certificate]) -> bool:
    for root in roots:
        try:
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False
