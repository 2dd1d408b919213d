"""
L{ocppcs.certsign}: which CSRs are signed, what is signed, and a CA that
cannot sign (a missing file) logged and counted, never raised; the
C{[security]} signing keys.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs

from ocppcs.certsign import CertificateSigner, CsrRejected, check_csr, sign_csr
from ocppcs.config import ConfigError, parse_config
from ocppcs.configsecurity import SecurityConfig
from ocppcs.securityevents import SecurityWatch
from ocppcs.testca import TestCA
from tests.integration.securitypeers import CPO, make_csr


def test_keys_accepted_and_refused() -> None:
    for key in (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ):
        check_csr(make_csr("CP", key=key)[0], "CP", CPO)
    for key, why in (
        (ec.generate_private_key(ec.SECP521R1()), "secp521r1"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "1024 bits"),
    ):
        with pytest.raises(CsrRejected, match=why):
            check_csr(make_csr("CP", key=key)[0], "CP", CPO)


def test_a_tampered_csr_is_refused() -> None:
    pem, _ = make_csr("CP")
    csr = x509.load_pem_x509_csr(pem.encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # in the signature
    body = base64.encodebytes(bytes(der)).decode()
    tampered = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(CsrRejected):
        check_csr(tampered, "CP", CPO)


def test_signed_with_the_configured_ca(tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    config = SecurityConfig(ca_cert=str(ca.ca), ca_key=str(ca.ca_key), certificate_days=10)
    pem, key = make_csr("CP")
    chain = x509.load_pem_x509_certificates(
        sign_csr(x509.load_pem_x509_csr(pem.encode()), config, 1_800_000_000).encode()
    )
    assert len(chain) == 2
    lifetime = chain[0].not_valid_after_utc - chain[0].not_valid_before_utc
    assert lifetime.days == 10
    chain[0].verify_directly_issued_by(chain[1])


def test_a_ca_that_cannot_sign_is_logged_and_counted(tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    config = SecurityConfig(ca_cert=str(ca.ca), ca_key=str(tmp_path / "gone.key"), cpo_name=CPO)
    clock, watch = Clock(), SecurityWatch()
    calls: list[Any] = []

    def call(identity: str, action: str, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        calls.append(action)
        return succeed({"status": "Accepted"})

    signer = CertificateSigner(config, clock, call, watch)
    assert signer.request("CP", make_csr("CP")[0]) == {"status": "Accepted"}
    with capturedLogs() as events:
        clock.advance(5)
    assert calls == []
    assert watch.signing == {"signed": 0, "rejected": 0, "failed": 1}
    errors = [e for e in events if e["log_level"] == LogLevel.error]
    assert "[security] ca_key: cannot read" in errors[0]["reason"]
    assert signer.request("OTHER", make_csr("CP")[0]) == {"status": "Rejected"}
    assert watch.signing["rejected"] == 1


def test_ca_cert_and_ca_key_go_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("[security]\nca_cert = /x/ca.pem\n")
    assert raised.value.path == ("security", "ca_key")
