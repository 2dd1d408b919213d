# -*- test-case-name: tests.test_stationauth,tests.integration.test_station_profiles -*-
"""
Station authentication: the check of the OCPP 1.6 security profiles
(security whitepaper edition 3, section 2, L{ocppcs.configsecurity}), made on
a station's HTTP request before anything else happens: the WebSocket
upgrade at C{/ocpp/{identity}} (L{ocppcs.transports.websocket}), and SOAP at
C{/Ocpp}. One call, L{StationAuth.check_transport}: given the identity, the
C{Authorization} header and the connection, a L{StationVerdict} (at once, or
as a L{Deferred}).

  - profile 1 and 2: HTTP Basic (RFC 7617) with user = the identity and
    password = the station's C{AuthorizationKey}; profile 2 only over TLS.
    The key is kept as a scrypt hash (L{ocppcs.passwd}) in the record
    (L{IRecord.station_key_hash}). A key of 32 to 40 hex digits is, as the
    whitepaper says of C{AuthorizationKey}, the hex form of a 16-20 byte
    password: a station may send those bytes (as the OCTT expects) or the hex
    text itself, both are accepted.
  - profile 3: TLS with a client certificate, verified by the listener
    against its C{caCerts} (L{ocppcs.tlslisten}), whose subject CN must be
    the identity in the URL (the whitepaper puts the Charge Point's serial
    number in the certificate's subject; the identity is bound to the CN here).

Refusals: 401 for missing or wrong credentials or no certificate, 403 for a
profile that needs TLS on a plain connection and for another identity's
certificate, 503 when too many verifications wait. Verifications run in the
reactor's thread pool, and their verdicts are remembered (by digest, for
L{CACHE_TTL} seconds) per stored hash, so a changed key needs no flush.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from cryptography.x509.oid import NameOID
from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.internet.threads import deferToThreadPool
from twisted.protocols.tls import TLSMemoryBIOProtocol

from ocppcs.configsecurity import SecurityConfig
from ocppcs.passwd import PasswordHash, hash_secret, parse_hash
from ocppcs.web.credentials import CACHE_SIZE, CACHE_TTL, CONCURRENCY, DigestCache

#: scrypt cost of station keys (n = 2**11, about 6 ms): they are 16-20 random
#: bytes, not words an attacker could guess, so a 10,000-station reconnect
#: storm costs about a minute of CPU rather than ten.
KEY_N = 2**11
#: At most this many verifications wait; more get 503 (the station retries).
MAX_WAITING = 1000
#: The AuthorizationKey's length bounds, in characters (whitepaper: 16-20
#: byte passwords, at most 40 hex digits).
MIN_KEY, MAX_KEY = 16, 40
_HEX_KEY = re.compile(r"(?:[0-9a-fA-F]{2}){16,20}")
#: The challenge of a 401 (RFC 7617).
CHALLENGE = 'Basic realm="ocpp", charset="UTF-8"'


class StationVerdict(NamedTuple):
    """The outcome of a station's check: C{ok}, or the HTTP C{status} and C{reason}."""

    ok: bool
    status: int = 200
    reason: str = ""


ALLOWED = StationVerdict(True)


def _refuse(status: int, reason: str) -> StationVerdict:
    return StationVerdict(False, status, reason)


def check_key(key: str) -> str:
    """
    Return C{key} if it can be an C{AuthorizationKey}: 16 to 40 printable
    ASCII characters.

    @raise ValueError: otherwise.
    """
    if not MIN_KEY <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise ValueError(
            f"an AuthorizationKey is {MIN_KEY} to {MAX_KEY} printable ASCII characters"
            " (the whitepaper's 16-20 byte password, or its hex form)"
        )
    return key


def key_password(key: str) -> bytes:
    """The Basic password of C{key}: the bytes of a hex key, else its text."""
    return bytes.fromhex(key) if _HEX_KEY.fullmatch(key) else key.encode("ascii")


def hash_station_key(key: str) -> str:
    """
    The hash line to store for C{key} (slow: run it off the reactor thread).

    @raise ValueError: when C{key} is no valid key (L{check_key}).
    """
    return str(hash_secret(key_password(check_key(key)), n=KEY_N))


def certificate_cn(certificate: Any) -> str | None:
    """The subject CN of a pyOpenSSL or C{cryptography} certificate, if it has one."""
    if hasattr(certificate, "to_cryptography"):
        certificate = certificate.to_cryptography()
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return None
    value = names[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def transport_tls(transport: Any) -> tuple[bool, Any]:
    """Whether C{transport} is TLS, and the client certificate it verified (or C{None})."""
    if isinstance(transport, TLSMemoryBIOProtocol) or getattr(transport, "TLS", False):
        return True, transport.getPeerCertificate()
    return False, None


def _basic(header: bytes | str | None) -> tuple[str, bytes] | None:
    """C{(user, password)} of a Basic C{Authorization} header, or C{None}."""
    if header is None:
        return None
    raw = header.encode("latin-1") if isinstance(header, str) else header
    scheme, _, value = raw.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    return user.decode("utf-8", "replace"), password


def _candidates(password: bytes) -> list[bytes]:
    """The password as sent, and the bytes it stands for when it is a hex key."""
    found = [password]
    try:
        text = password.decode("ascii")
    except UnicodeDecodeError:
        return found
    if _HEX_KEY.fullmatch(text):
        found.append(bytes.fromhex(text))
    return found


class StationAuth:
    """
    Checks stations as C{[security]} says.

    @ivar config: the C{[security]} section in force (may be replaced while running).
    @param keys: the record's L{IRecord.station_key_hash}.
    @param reactor: clock and thread pool of the verifications.
    @param run: runs a verification, giving a L{Deferred}; the thread pool if C{None}.
    @param raised: the record's C{station_profile}: the profile a station was
        raised to (ChangeConfiguration C{SecurityProfile}, whitepaper section
        2.4), a floor under the configured one; C{None} if the record keeps none.
    """

    def __init__(
        self,
        config: SecurityConfig,
        keys: Callable[[str], Deferred[str | None]],
        reactor: Any,
        run: Callable[[Callable[[], bool]], Deferred[bool]] | None = None,
        raised: Callable[[str], Deferred[int | None]] | None = None,
    ) -> None:
        self.config = config
        self._raised = raised
        self._keys = keys
        self._reactor = reactor
        self._run = run or self._in_thread
        self._good = DigestCache(reactor, CACHE_SIZE * 16, CACHE_TTL)
        self._bad = DigestCache(reactor, CACHE_SIZE, CACHE_TTL)
        self._semaphore = DeferredSemaphore(CONCURRENCY)
        self._overrides: tuple[SecurityConfig, dict[str, int]] | None = None

    def profile(self, identity: str) -> int:
        """The security profile of C{identity}."""
        config = self.config
        if self._overrides is None or self._overrides[0] is not config:
            self._overrides = (config, config.overrides())
        return self._overrides[1].get(identity, config.profile)

    def check_transport(
        self, identity: str, authorization: bytes | str | None, transport: Any
    ) -> StationVerdict | Deferred[StationVerdict]:
        """L{check} with the TLS state and client certificate of C{transport}."""
        tls, certificate = transport_tls(transport)
        return self.check(identity, authorization, certificate, tls)

    def check(
        self,
        identity: str,
        authorization: bytes | str | None,
        certificate: Any = None,
        tls: bool = False,
    ) -> StationVerdict | Deferred[StationVerdict]:
        """
        The verdict on a station's request, at once when it can be given.

        @param authorization: the C{Authorization} header, if any.
        @param certificate: the client certificate the TLS listener verified, if any.
        @param tls: whether the request came over TLS.
        """
        profile = self.profile(identity)
        if self._raised is None:
            return self._check(profile, identity, authorization, certificate, tls)
        d: Deferred[Any] = self._raised(identity)
        d.addCallback(
            lambda raised: self._check(
                max(profile, raised or 0), identity, authorization, certificate, tls
            )
        )
        d.addErrback(lambda _: _refuse(503, "the station's security profile cannot be read"))
        return d

    def _check(
        self,
        profile: int,
        identity: str,
        authorization: bytes | str | None,
        certificate: Any,
        tls: bool,
    ) -> StationVerdict | Deferred[StationVerdict]:
        if profile == 0:
            return ALLOWED
        if profile >= 2 and not tls:
            return _refuse(403, f"security profile {profile} needs TLS (wss://)")
        if profile == 3:
            if certificate is None:
                return _refuse(401, "security profile 3: no client certificate")
            name = certificate_cn(certificate)
            if name != identity:
                return _refuse(403, f"security profile 3: the client certificate is for {name!r}")
            return ALLOWED
        credentials = _basic(authorization)
        if credentials is None:
            return _refuse(401, f"security profile {profile}: no Basic credentials")
        user, password = credentials
        if user != identity:
            return _refuse(401, f"security profile {profile}: user {user!r} is not the identity")
        d = self._keys(identity)
        return d.addCallback(self._verify, identity, password, profile)

    def _verify(
        self, stored: str | None, identity: str, password: bytes, profile: int
    ) -> StationVerdict | Deferred[StationVerdict]:
        if stored is None:
            return _refuse(401, f"security profile {profile}: no AuthorizationKey is set")
        wrong = _refuse(401, f"security profile {profile}: wrong password")
        digest = hashlib.sha256(
            identity.encode() + b"\0" + stored.encode() + b"\0" + password
        ).digest()
        if digest in self._good:
            return ALLOWED
        if digest in self._bad:
            return wrong
        if len(self._semaphore.waiting) >= MAX_WAITING:
            return _refuse(503, "too many station authentications in progress; retry")
        try:
            hashed = parse_hash(stored)
        except ValueError:
            return _refuse(401, f"security profile {profile}: the stored key is unreadable")
        d = self._semaphore.run(self._run, lambda: _matches(hashed, password))
        return d.addCallback(self._verified, digest, wrong)

    def _verified(self, ok: bool, digest: bytes, wrong: StationVerdict) -> StationVerdict:
        (self._good if ok else self._bad).add(digest)
        return ALLOWED if ok else wrong

    def _in_thread(self, verify: Callable[[], bool]) -> Deferred[bool]:
        return deferToThreadPool(self._reactor, self._reactor.getThreadPool(), verify)


def _matches(hashed: PasswordHash, password: bytes) -> bool:
    return any(hashed.matches(candidate) for candidate in _candidates(password))


def check_listeners(config: SecurityConfig, listen: tuple[str, ...]) -> None:
    """
    Check that the listeners can serve the profiles C{config} uses: 2 and 3
    need a TLS listener, 3 one with C{caCerts}.

    @raise ConfigError: naming C{security.profile} otherwise.
    """
    from ocppcs.config import ConfigError
    from ocppcs.tlslisten import is_tls

    used = config.profiles_used()
    tls = [d for d in listen if is_tls(d)]
    if used & {2, 3} and not tls:
        raise ConfigError(
            "security profiles 2 and 3 need a TLS listener ([server] listen = tls:...)",
            ("security", "profile"),
        )
    if 3 in used and not any(":caCerts=" in d for d in tls):
        raise ConfigError(
            "security profile 3 needs a TLS listener with caCerts=FILE (the stations' CA)",
            ("security", "profile"),
        )
