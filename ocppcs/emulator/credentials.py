# -*- test-case-name: tests.emulator.test_credentials,tests.emulator.test_profile3_over_tls -*-
"""
What an emulated station presents when it connects, by its security
profile (OCPP 1.6 security whitepaper edition 3, section 2):

    profile 1, 2   HTTP Basic on the WebSocket upgrade: user = the identity,
                   password = the C{AuthorizationKey} key (when it has one)
    wss://         the server certificate is checked against the installed
                   CentralSystemRootCertificate(s) when there are any, else
                   against the system's trust roots; the installed
                   ChargePointCertificate (and its key) is the TLS client
                   certificate when the station has one (profile 3)

The certificates come from the station's certificate store
(L{ocppcs.emulator.security.SecurityCommands.certificates}).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL.crypto import Error as OpenSSLError
from twisted.internet.ssl import (
    Certificate,
    PrivateCertificate,
    optionsForClientTLS,
    trustRootFromCertificates,
)

from ocppcs.emulator.keys import ConfigurationKeys

ROOT = "CentralSystemRootCertificate"
#: Keys GetConfiguration lists without their value (the whitepaper's accessibility W).
WRITE_ONLY = frozenset({"AuthorizationKey"})


def hide_write_only(configuration: dict[str, Any]) -> dict[str, Any]:
    """The GetConfiguration.conf payload C{configuration} with write-only keys' values blanked."""
    for entry in configuration["configurationKey"]:
        if entry["key"] in WRITE_ONLY:
            entry["value"] = ""
    return configuration


def basic_headers(identity: str, keys: ConfigurationKeys) -> dict[str, str]:
    """
    The upgrade's extra headers: C{Authorization: Basic identity:AuthorizationKey}
    for security profile 1 or 2 with a key set, else none.
    """
    profile = keys.get_int("SecurityProfile", 0)
    password = keys.get("AuthorizationKey") or ""
    if profile not in (1, 2) or not password:
        return {}
    token = base64.b64encode(f"{identity}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _pems(text: str) -> list[str]:
    return [
        c.public_bytes(serialization.Encoding.PEM).decode("ascii")
        for c in x509.load_pem_x509_certificates(text.encode())
    ]


def tls_options(hostname: str, certificates: Mapping[str, Any]) -> Any:
    """
    The client TLS options for C{hostname} from the station's certificate
    store C{certificates}: its central system roots (if any) as the trust
    roots, its charge point certificate chain and key (if any) as the client
    certificate.

    @raise ValueError: when a stored certificate or key cannot be read.
    """
    try:
        return optionsForClientTLS(hostname, **_tls_arguments(certificates))
    except (OpenSSLError, ValueError) as e:
        raise ValueError(f"the station's certificate store: {e}") from e


def _tls_arguments(certificates: Mapping[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    roots = [r["pem"] for r in certificates.get("roots", []) if r.get("type") == ROOT]
    if roots:
        kwargs["trustRoot"] = trustRootFromCertificates(
            [Certificate.loadPEM(pem.encode()) for pem in roots]
        )
    chain, key = certificates.get("chargePoint"), certificates.get("chargePointKey")
    if chain and key:
        own, *extra = _pems(chain)
        kwargs["clientCertificate"] = PrivateCertificate.loadPEM(own + key)
        if extra:
            kwargs["extraCertificateOptions"] = {
                "extraCertChain": [Certificate.loadPEM(p.encode()).original for p in extra]
            }
    return kwargs
