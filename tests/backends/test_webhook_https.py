"""
HTTPS to the webhook's receiver verifies its certificate (service-identity):
a certificate the trust roots don't know, or one for another host name, is
a fetch error; a trusted one for the URL's host works. The decider is used
on its own here, with a real TLS receiver on a free port.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from twisted.internet import ssl
from twisted.web.client import BrowserLikePolicyForHTTPS

from ocppcs.backends.interface import CallContext
from ocppcs.backends.webhook.decider import WebhookDecider
from ocppcs.backends.webhook.replies import WebhookFailure
from ocppcs.config import WebhookConfig
from tests.receiver import Receiver, start_receiver, stop_receiver


def _self_signed(name: str) -> tuple[bytes, bytes]:
    """A key and a self-signed certificate for DNS name C{name} (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest_twisted.async_yield_fixture
async def tls_receiver() -> AsyncIterator[tuple[Receiver, bytes]]:
    """An HTTPS receiver with a certificate for C{localhost}, and that certificate."""
    key, cert = _self_signed("localhost")
    options = ssl.PrivateCertificate.loadPEM(key + cert).options()
    receiver = start_receiver(Receiver(host="localhost"), tls=options)
    yield receiver, cert
    await stop_receiver(receiver)


async def _decide(url: str, policy: Any = None) -> dict[str, Any]:
    from twisted.internet import reactor

    decider = WebhookDecider(reactor, WebhookConfig(url=url, timeout=5.0), tls_policy=policy)
    decider.startService()
    try:
        ctx = CallContext("TLS-1", "", "u1", "Heartbeat", time.time())
        return await decider.decide(ctx, {})
    finally:
        await decider.stopService()


@pytest_twisted.ensureDeferred
async def test_a_trusted_certificate_for_the_host_works(tls_receiver: Any) -> None:
    """With the receiver's certificate as trust root, the call is answered over HTTPS."""
    receiver, cert = tls_receiver
    trust = BrowserLikePolicyForHTTPS(trustRoot=ssl.Certificate.loadPEM(cert))
    reply = await _decide(receiver.url, trust)
    assert "currentTime" in reply
    assert receiver.url.startswith("https://localhost:") and len(receiver.seen) == 1


@pytest_twisted.ensureDeferred
async def test_an_unknown_certificate_is_refused(tls_receiver: Any) -> None:
    """The system's trust roots don't know a self-signed certificate: fetch error."""
    receiver, _ = tls_receiver
    with pytest.raises(WebhookFailure) as caught:
        await _decide(receiver.url)
    assert caught.value.reason == "fetch" and receiver.seen == []


@pytest_twisted.ensureDeferred
async def test_a_certificate_for_another_host_is_refused(tls_receiver: Any) -> None:
    """A trusted certificate, but for localhost, while the URL says 127.0.0.1: fetch error."""
    receiver, cert = tls_receiver
    trust = BrowserLikePolicyForHTTPS(trustRoot=ssl.Certificate.loadPEM(cert))
    url = receiver.url.replace("localhost", "127.0.0.1")
    with pytest.raises(WebhookFailure) as caught:
        await _decide(url, trust)
    assert caught.value.reason == "fetch" and receiver.seen == []
