"""
A throwaway certificate authority for tests and benchmarks (never for
production): a CA, a server certificate for C{localhost}/C{127.0.0.1}, and
client certificates whose subject CN is a station identity (security
profile 3), written as PEM files into a folder.

    ca = TestCA(tmp_path)
    cert, key = ca.server()                     # ca.listen(): tls:0:...:privateKey=...:certKey=...
    client_cert, client_key = ca.client("CP1")
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class TestCA:
    """
    A CA whose files live in C{folder}.

    @ivar ca: the CA certificate's PEM file.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, folder: Path, name: str = "ocppcs test CA") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self._certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.ca = folder / "ca.pem"
        self.ca.write_bytes(self._certificate.public_bytes(serialization.Encoding.PEM))
        #: The CA's private key (PEM), for C{[security] ca_key}.
        self.ca_key = folder / "ca.key"
        self.ca_key.write_bytes(_key_pem(self._key))

    def _issue(
        self, cn: str, usage: x509.ObjectIdentifier, names: list[x509.GeneralName], stem: str
    ) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self._key, hashes.SHA256())
        cert_path, key_path = self.folder / f"{stem}.pem", self.folder / f"{stem}.key"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_key_pem(key))
        return cert_path, key_path

    def server(
        self, hostname: str = "localhost", ips: tuple[str, ...] = ("127.0.0.1",)
    ) -> tuple[Path, Path]:
        """A server certificate for C{hostname} and C{ips}: its PEM certificate and key files."""
        names: list[x509.GeneralName] = [x509.DNSName(hostname)]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        return self._issue(hostname, ExtendedKeyUsageOID.SERVER_AUTH, names, f"server-{hostname}")

    def client(self, cn: str) -> tuple[Path, Path]:
        """A client certificate with subject CN C{cn}: its PEM certificate and key files."""
        return self._issue(cn, ExtendedKeyUsageOID.CLIENT_AUTH, [], f"client-{cn}")

    def listen(self, port: int = 0, client_certificates: bool = False) -> str:
        """
        A C{tls:} listen description on 127.0.0.1 with a server certificate of
        this CA; with C{client_certificates}, clients may present one of its
        certificates (C{caCerts}).
        """
        cert, key = self.server()
        description = f"tls:{port}:interface=127.0.0.1:privateKey={key}:certKey={cert}"
        return description + (f":caCerts={self.ca}" if client_certificates else "")
