# -*- test-case-name: tests.test_certsign,tests.integration.test_security_extensions -*-
"""
Signing the stations' certificates (OCPP 1.6 security whitepaper edition 3,
section 3.1.2 "Installing a Charge Point certificate": the station sends
C{SignCertificate} with a CSR, the central system answers and, once it has
the certificate signed, sends it with C{CertificateSigned}).

A CSR is Accepted when it is a PEM PKCS#10 request with a valid signature,
its subject CN is the station's identity (the name security profile 3 binds
the client certificate to, L{ocppcs.stationauth}), its subject O is the
configured C{[security] cpo_name} (the station's C{CpoName}, whitepaper
section 3.1.2) and its key is RSA of at least 2048 bits or EC on P-256 or
P-384 (whitepaper section 4.1.1: the key sizes of the certificates); and
only when C{[security] ca_cert} and C{ca_key} are set. Anything else is
Rejected.

The certificate is signed L{SIGN_DELAY} seconds after the reply, with the CA
files read then (so a replaced CA is used at once), and goes out through the
central system's one call path (L{ocppcs.followup.Commands}). A failure (CA
files unreadable, station gone, CertificateSigned not accepted) is logged
and counted (C{ocppcs_certificate_signing_total{outcome="failed"}}), never
raised. Signing with an EC or RSA CA key takes a few milliseconds and runs on
the reactor.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from ocppcs.configsecurity import SecurityConfig
from ocppcs.securityevents import SecurityWatch

#: Seconds between the SignCertificate reply and the CertificateSigned call.
SIGN_DELAY = 0.5
#: The smallest RSA key accepted, in bits.
MIN_RSA_BITS = 2048
#: The EC curves accepted.
EC_CURVES = frozenset({"secp256r1", "secp384r1"})


class CsrRejected(ValueError):
    """A CSR the central system refuses to sign; the message says why."""


class SigningError(Exception):
    """The CA could not sign (its files are missing or unreadable)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(f"[security] {key}: {message}")
        self.key = key


def _subject(csr: x509.CertificateSigningRequest, oid: x509.ObjectIdentifier) -> str | None:
    names = csr.subject.get_attributes_for_oid(oid)
    if not names:
        return None
    value = names[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def check_csr(pem: str, identity: str, cpo_name: str) -> x509.CertificateSigningRequest:
    """
    The CSR in C{pem}, if the central system signs it for C{identity}.

    @raise CsrRejected: naming the reason otherwise.
    """
    try:
        csr = x509.load_pem_x509_csr(pem.encode("utf-8"))
    except (ValueError, UnicodeEncodeError) as e:
        raise CsrRejected(f"not a PEM certificate signing request ({e})") from None
    if not csr.is_signature_valid:
        raise CsrRejected("the CSR's signature is not valid")
    cn = _subject(csr, NameOID.COMMON_NAME)
    if cn != identity:
        raise CsrRejected(f"the CSR's CN {cn!r} is not the station's identity {identity!r}")
    organisation = _subject(csr, NameOID.ORGANIZATION_NAME)
    if organisation != cpo_name:
        raise CsrRejected(f"the CSR's O {organisation!r} is not the CpoName {cpo_name!r}")
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CsrRejected(f"an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS})")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_CURVES:
            raise CsrRejected(f"an EC key on {key.curve.name} (P-256 or P-384 only)")
    else:
        raise CsrRejected(f"a {type(key).__name__} key (RSA or EC only)")
    return csr


def _read(path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise SigningError(f"cannot read {path}: {e.strerror}", key) from None


def sign_csr(csr: x509.CertificateSigningRequest, config: SecurityConfig, now: float) -> str:
    """
    The certificate chain (the station's certificate, then the CA's) in PEM
    for C{csr}, signed by the CA of C{config}; the CA files are read now.

    @raise SigningError: naming the key of C{[security]} at fault.
    """
    try:
        ca = x509.load_pem_x509_certificate(_read(config.ca_cert, "ca_cert"))
    except ValueError as e:
        raise SigningError(f"not a PEM certificate ({e})", "ca_cert") from None
    try:
        ca_key: Any = serialization.load_pem_private_key(
            _read(config.ca_key, "ca_key"), password=None
        )
    except (ValueError, TypeError) as e:
        raise SigningError(f"not an unencrypted PEM private key ({e})", "ca_key") from None
    start = datetime.datetime.fromtimestamp(now, datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(minutes=5))
        .not_valid_after(start + datetime.timedelta(days=config.certificate_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    try:
        certificate = builder.sign(ca_key, hashes.SHA256())
    except (ValueError, TypeError) as e:
        raise SigningError(f"the key cannot sign ({e})", "ca_key") from None
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (certificate, ca)).decode(
        "ascii"
    )


Call = Callable[[str, str, dict[str, Any]], Deferred[dict[str, Any]]]


class CertificateSigner:
    """
    Answers SignCertificate and sends CertificateSigned (see the module docstring).

    @param config: the C{[security]} section (its CA files and C{cpo_name}).
    @param reactor: clock of the delayed signing.
    @param call: calls a station (C{identity, action, payload}): the central
        system's C{commands.call}.
    @param watch: counts the outcomes.
    """

    _log = Logger()

    def __init__(
        self, config: SecurityConfig, reactor: Any, call: Call, watch: SecurityWatch
    ) -> None:
        self.config = config
        self._reactor = reactor
        self._call = call
        self._watch = watch

    def request(self, identity: str, pem: str) -> dict[str, Any]:
        """The SignCertificate reply to C{identity}'s CSR C{pem}; signing follows if Accepted."""
        config = self.config
        try:
            if not (config.ca_cert and config.ca_key):
                raise CsrRejected("no signing CA is configured ([security] ca_cert, ca_key)")
            csr = check_csr(pem, identity, config.cpo_name)
        except CsrRejected as e:
            self._watch.signed("rejected")
            self._log.warn(
                "SignCertificate from {identity} rejected: {reason}", identity=identity, reason=e
            )
            return {"status": "Rejected"}
        self._reactor.callLater(SIGN_DELAY, self._sign_and_send, identity, csr)
        return {"status": "Accepted"}

    def _sign_and_send(self, identity: str, csr: x509.CertificateSigningRequest) -> None:
        try:
            chain = sign_csr(csr, self.config, self._reactor.seconds())
        except Exception as e:
            self._failed(identity, f"the certificate could not be signed: {e}")
            return
        d = self._call(identity, "CertificateSigned", {"certificateChain": chain})
        d.addCallbacks(self._sent, self._not_sent, (identity,), errbackArgs=(identity,))

    def _sent(self, reply: dict[str, Any], identity: str) -> None:
        if reply.get("status") != "Accepted":
            self._failed(identity, f"the station answered CertificateSigned {reply.get('status')}")
            return
        self._watch.signed("signed")
        self._log.info("Certificate of {identity} signed and installed", identity=identity)

    def _not_sent(self, failure: Failure, identity: str) -> None:
        self._failed(identity, f"CertificateSigned failed: {failure.getErrorMessage()}")

    def _failed(self, identity: str, reason: str) -> None:
        self._watch.signed("failed")
        self._log.error(
            "Signing the certificate of {identity} failed: {reason}",
            identity=identity,
            reason=reason,
        )


def wire_security(service: Any, config: Any, reactor: Any) -> SecurityWatch:
    """
    Give the built central system C{service} its security-extension parts:
    the L{SecurityWatch} (metrics, critical events) and, with the embedded
    decider, the L{CertificateSigner} calling through C{service.commands}.
    """
    watch = SecurityWatch()
    service.metrics.prometheus.register(watch)
    service.central.on_security_event = watch.event
    commands = service.commands
    signer = CertificateSigner(config.security, reactor, commands.call, watch)
    if hasattr(service.decider, "signer"):
        service.decider.signer = signer
    rules = getattr(service.decider, "rules", None)  # the embedded record as decider
    if rules is not None and hasattr(rules, "signer"):
        rules.signer = signer
    service.security = watch
    return watch
