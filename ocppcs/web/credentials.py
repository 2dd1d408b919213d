# -*- test-case-name: tests.web.test_auth_checks,tests.web.test_auth_service -*-
"""
Checking operator credentials: the C{Authorization} header of a request
against C{[api] users} (C{Basic}) or C{[api] tokens} (C{Bearer}), for
L{ocppcs.web.auth.OperatorAuth}.

Cost: an scrypt verification takes about 50 ms and 16 MiB, far too long for
the reactor thread. So:
  - a credential that was verified is remembered (by its SHA-256, never in
    clear) for L{CACHE_TTL} seconds in a bounded LRU; requests with it are
    let through at once, in the reactor thread;
  - a credential that was refused is remembered likewise in a second
    bounded LRU, so a client retrying a wrong password costs nothing, and
    floods of wrong credentials cannot evict the good ones;
  - anything else is verified in the reactor's thread pool, at most
    L{CONCURRENCY} at a time; when more than L{MAX_WAITING} wait, the
    request gets 503 rather than growing the queue.
The configuration is not reloaded while running, so a cached verdict stays
true for as long as it is cached.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import Any

from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.internet.interfaces import IReactorTime
from twisted.internet.threads import deferToThreadPool

from ocppcs.config import ApiConfig, ConfigError
from ocppcs.passwd import PasswordHash, parse_tokens, parse_users

__all__ = [
    "CACHE_SIZE",
    "CACHE_TTL",
    "CONCURRENCY",
    "MAX_WAITING",
    "CredentialChecker",
    "DigestCache",
    "Verdict",
]

CACHE_SIZE = 1024
CACHE_TTL = 900.0
CONCURRENCY = 2
MAX_WAITING = 64


class Verdict(Enum):
    """The outcome of a check."""

    ALLOWED = "allowed"
    MISSING = "missing"
    REFUSED = "refused"
    BUSY = "busy"
    #: A cookie session's request without its CSRF token, or a cross-origin WebSocket.
    FORBIDDEN = "forbidden"


class DigestCache:
    """A bounded LRU of credential digests, each for C{ttl} seconds."""

    def __init__(self, clock: IReactorTime, size: int, ttl: float) -> None:
        self._clock = clock
        self._size = size
        self._ttl = ttl
        self._entries: OrderedDict[bytes, float] = OrderedDict()

    def __contains__(self, key: bytes) -> bool:
        expires = self._entries.get(key)
        if expires is None:
            return False
        if expires <= self._clock.seconds():
            del self._entries[key]
            return False
        self._entries.move_to_end(key)
        return True

    def add(self, key: bytes) -> None:
        self._entries[key] = self._clock.seconds() + self._ttl
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class CredentialChecker:
    """
    Verifies the credentials of C{Authorization} headers as C{[api]} says,
    remembering verdicts.

    @ivar scheme: C{"Basic"}, C{"Bearer"}, or C{""} for C{auth = none}.
    @param config: C{[api]}: C{auth}, C{users}, C{tokens}.
    @param reactor: the clock and thread pool of verifications.
    @param run: runs a verification and gives its result; the reactor's
        thread pool if C{None} (tests may run it synchronously).
    @raise ConfigError: on bad or missing users or tokens.
    """

    def __init__(
        self,
        config: ApiConfig,
        reactor: Any,
        run: Callable[[Callable[[], bool]], Deferred[bool]] | None = None,
        cache_size: int = CACHE_SIZE,
        cache_ttl: float = CACHE_TTL,
    ) -> None:
        # auto: Basic for requests from other hosts (L{ocppcs.web.firstrun} fills the users).
        self.scheme = {"none": "", "auto": "Basic", "basic": "Basic", "bearer": "Bearer"}[
            config.auth
        ]
        try:
            self._users = parse_users(config.users)
        except ValueError as e:
            raise ConfigError(str(e), ("api", "users")) from None
        try:
            self._tokens = parse_tokens(config.tokens)
        except ValueError as e:
            raise ConfigError(str(e), ("api", "tokens")) from None
        if config.auth == "basic" and not self._users:
            raise ConfigError("auth = basic needs at least one name:hash line", ("api", "users"))
        if self.scheme == "Bearer" and not self._tokens:
            raise ConfigError("auth = bearer needs at least one token hash", ("api", "tokens"))
        first = next(iter(self._users.values()), None)
        # Unknown user names cost one verification too, so timing does not tell them apart.
        self._decoy = PasswordHash(
            first.n if first else 2, first.r if first else 1, 1, b"\0" * 16, b"\0" * 32
        )
        self._reactor = reactor
        self._run = run or self._in_thread
        self._good = DigestCache(reactor, cache_size, cache_ttl)
        self._bad = DigestCache(reactor, cache_size, cache_ttl)
        self._semaphore = DeferredSemaphore(CONCURRENCY)

    def check(self, header: bytes | None) -> Verdict | Deferred[Verdict]:
        """
        The verdict on the credentials in C{header}, at once when known.

        @param header: the value of the C{Authorization} header, if any.
        """
        if header is None:
            return Verdict.MISSING
        scheme, _, value = header.strip().partition(b" ")
        value = value.strip()
        if scheme.lower() != self.scheme.lower().encode() or not value:
            return Verdict.REFUSED
        key = hashlib.sha256(scheme.lower() + b"\0" + value).digest()
        if key in self._good:
            return Verdict.ALLOWED
        if key in self._bad:
            return Verdict.REFUSED
        verify = self._verifier(value)
        if verify is None:
            self._bad.add(key)
            return Verdict.REFUSED
        if len(self._semaphore.waiting) >= MAX_WAITING:
            return Verdict.BUSY
        d = self._semaphore.run(self._run, verify)
        return d.addCallback(self._verified, key)

    def _verifier(self, value: bytes) -> Callable[[], bool] | None:
        """A function verifying the credential, or C{None} when it is malformed."""
        if self.scheme == "Bearer":
            try:
                token = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
            tokens = self._tokens
            return lambda: any(hashed.matches(token) for hashed in tokens)
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, colon, password = decoded.partition(":")
        if not colon:
            return None
        hashed = self._users.get(name)
        if hashed is None:
            decoy = self._decoy

            def unknown_user() -> bool:
                decoy.matches(password)
                return False

            return unknown_user
        return lambda: hashed.matches(password)

    def _verified(self, ok: bool, key: bytes) -> Verdict:
        (self._good if ok else self._bad).add(key)
        return Verdict.ALLOWED if ok else Verdict.REFUSED

    def _in_thread(self, verify: Callable[[], bool]) -> Deferred[bool]:
        return deferToThreadPool(self._reactor, self._reactor.getThreadPool(), verify)
