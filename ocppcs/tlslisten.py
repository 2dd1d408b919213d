# -*- test-case-name: tests.integration.test_tls -*-
"""
TLS listeners (C{wss://} stations, C{https://} for the API and the UI on the
same port), from an C{ssl:} or C{tls:} description::

    tls:9443:privateKey=key.pem:certKey=cert.pem[:extraCertChain=chain.pem]
        [:caCerts=stations-ca.pem][:interface=0.0.0.0][:backlog=4096]

C{privateKey} and C{certKey} are PEM files (C{certKey} defaults to
C{privateKey}, for a file holding both), C{extraCertChain} the intermediate
certificates sent with the server's. With C{caCerts}, a PEM file of one or
more CA certificates, clients are asked for a certificate, which must then be
signed by one of them (security profile 3, L{ocppcs.stationauth}); a client
without one still connects (profiles 0 to 2 on the same port). TLS 1.2 is
the lowest version accepted, as the OCPP 1.6 security whitepaper asks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from OpenSSL import crypto
from twisted.internet import ssl
from twisted.internet.endpoints import SSL4ServerEndpoint

#: The C{ssl:}/C{tls:} keys understood.
TLS_KEYS = frozenset(
    {"interface", "backlog", "privateKey", "certKey", "extraCertChain", "caCerts", "port"}
)

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def is_tls(description: str) -> bool:
    """Whether C{description} names a TLS listener (C{ssl:} or C{tls:})."""
    return description.split(":", 1)[0].strip().lower() in ("ssl", "tls")


def _read(path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ValueError(f"{key}: cannot read {path}: {e.strerror}") from None


def load_certificates(path: str, key: str) -> list[crypto.X509]:
    """
    Every PEM certificate in the file at C{path}.

    @raise ValueError: naming C{key} when the file can't be read or holds none.
    """
    blocks = _PEM_CERT.findall(_read(path, key))
    if not blocks:
        raise ValueError(f"{key}: no PEM certificate in {path}")
    try:
        return [crypto.load_certificate(crypto.FILETYPE_PEM, b) for b in blocks]
    except crypto.Error as e:
        raise ValueError(f"{key}: bad certificate in {path}: {e}") from None


def tls_options(options: dict[str, str]) -> ssl.CertificateOptions:
    """
    The server's TLS options from a description's C{options}.

    @raise ValueError: for a missing or unreadable key or certificate.
    """
    key_file = options.get("privateKey")
    if not key_file:
        raise ValueError("a TLS listener needs privateKey=FILE (and certKey=FILE)")
    cert_file = options.get("certKey", key_file)
    try:
        private_key = crypto.load_privatekey(crypto.FILETYPE_PEM, _read(key_file, "privateKey"))
    except crypto.Error as e:
        raise ValueError(f"privateKey: no PEM private key in {key_file}: {e}") from None
    certificate = load_certificates(cert_file, "certKey")[0]
    chain = (
        load_certificates(options["extraCertChain"], "extraCertChain")
        if ("extraCertChain" in options)
        else []
    )
    authorities = load_certificates(options["caCerts"], "caCerts") if "caCerts" in options else []
    return ssl.CertificateOptions(
        privateKey=private_key,
        certificate=certificate,
        extraCertChain=chain,
        verify=bool(authorities),
        caCerts=authorities or None,
        requireCertificate=False,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2,
    )


def tls_endpoint(reactor: Any, fields: list[str], backlog: int) -> SSL4ServerEndpoint:
    """
    The endpoint of an C{ssl:}/C{tls:} description split into C{fields}
    (type, port, C{key=value}...).

    @param backlog: the listen backlog when the description names none.
    @raise ValueError: for a bad port, an unknown key, or bad key/certificate files.
    """
    options: dict[str, str] = {}
    positional: list[str] = []
    for field in fields[1:]:
        name, equals, value = field.partition("=")
        if equals:
            if name not in TLS_KEYS:
                raise ValueError(f"unknown key {name!r} (known: {', '.join(sorted(TLS_KEYS))})")
            options[name] = value.replace("\\:", ":")
        else:
            positional.append(field)
    if positional:
        options.setdefault("port", positional.pop(0))
    if positional or "port" not in options:
        raise ValueError("expected tls:PORT:privateKey=FILE:certKey=FILE[:caCerts=FILE]")
    port = int(options["port"])
    return SSL4ServerEndpoint(
        reactor,
        port,
        tls_options(options),
        backlog=int(options.get("backlog", backlog)),
        interface=options.get("interface", ""),
    )
