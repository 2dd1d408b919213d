# -*- test-case-name: tests.test_passwd -*-
"""
Hashed operator passwords and tokens for C{[api] users} and C{[api] tokens},
with the standard library only.

A hash is one self-describing line::

    scrypt$n=16384,r=8,p=1$<salt, base64>$<key, base64>

(base64 without padding). Verification recomputes the key with the stored
parameters and compares in constant time.

Make a line to paste into the configuration file::

    python -m ocppcs.passwd --user alice     # users: alice:scrypt$...
    python -m ocppcs.passwd                  # tokens: scrypt$...

The password or token is read from standard input: asked twice without echo
on a terminal, otherwise the first line.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import hashlib
import hmac
import os
import sys
from dataclasses import dataclass
from typing import TextIO

#: Default cost: about 50 ms and 16 MiB per verification.
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
#: Most memory a configured hash may make a verification use (128 * n * r bytes).
MAX_MEMORY = 2**26


@dataclass(frozen=True)
class PasswordHash:
    """A parsed hash line: the scrypt parameters, salt and derived key."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def matches(self, secret: str | bytes) -> bool:
        """Whether C{secret} (text is UTF-8 encoded) gives this key (constant-time comparison)."""
        data = secret.encode("utf-8") if isinstance(secret, str) else secret
        derived = _scrypt(data, self.salt, self.n, self.r, self.p, len(self.key))
        return hmac.compare_digest(derived, self.key)

    def __str__(self) -> str:
        return (
            f"scrypt$n={self.n},r={self.r},p={self.p}$"
            f"{_b64encode(self.salt)}${_b64encode(self.key)}"
        )


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        secret, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=MAX_MEMORY * 2 + 2**20
    )


def hash_secret(
    secret: str | bytes, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P
) -> PasswordHash:
    """Hash C{secret} (text is UTF-8 encoded) with a new random salt."""
    salt = os.urandom(SALT_BYTES)
    data = secret.encode("utf-8") if isinstance(secret, str) else secret
    return PasswordHash(n, r, p, salt, _scrypt(data, salt, n, r, p, KEY_BYTES))


def parse_hash(text: str) -> PasswordHash:
    """
    Parse a hash line made by L{hash_secret}.

    @raise ValueError: when it is not one, or its cost is out of bounds.
    """
    parts = text.strip().split("$")
    if len(parts) != 4 or parts[0] != "scrypt":
        raise ValueError("not a hash made by 'python -m ocppcs.passwd' (scrypt$params$salt$key)")
    try:
        params = dict(item.split("=", 1) for item in parts[1].split(","))
        n, r, p = int(params.pop("n")), int(params.pop("r")), int(params.pop("p"))
    except (ValueError, KeyError):
        raise ValueError(f"bad scrypt parameters {parts[1]!r} (expected n=...,r=...,p=...)")
    if params:
        raise ValueError(f"unknown scrypt parameters {', '.join(sorted(params))}")
    if (
        n < 2
        or n & (n - 1)
        or n >= 2 ** (16 * r)  # scrypt's own limit
        or not 1 <= r <= 64
        or not 1 <= p <= 16
        or 128 * n * r > MAX_MEMORY
    ):
        raise ValueError(f"scrypt parameters out of bounds: n={n}, r={r}, p={p}")
    try:
        salt, key = _b64decode(parts[2]), _b64decode(parts[3])
    except (binascii.Error, ValueError):
        raise ValueError("salt and key must be base64")
    if not salt or len(key) < 16:
        raise ValueError("salt is empty or key too short")
    return PasswordHash(n, r, p, salt, key)


def check_user_name(name: str) -> str:
    """
    Return C{name} if it can be a Basic user name (not empty, no colon, no spaces).

    @raise ValueError: otherwise.
    """
    if not name or ":" in name or any(c.isspace() for c in name):
        raise ValueError(f"user name {name!r} must be non-empty, without colons or spaces")
    return name


def parse_users(lines: tuple[str, ...]) -> dict[str, PasswordHash]:
    """
    Parse C{[api] users} entries, each C{name:hash}.

    @raise ValueError: on a malformed entry, bad hash or repeated name.
    """
    users: dict[str, PasswordHash] = {}
    for line in lines:
        name, colon, hashed = line.partition(":")
        if not colon:
            raise ValueError(f"entry {line[:20]!r}... is not name:hash")
        check_user_name(name)
        if name in users:
            raise ValueError(f"user {name!r} is given more than once")
        try:
            users[name] = parse_hash(hashed)
        except ValueError as e:
            raise ValueError(f"user {name!r}: {e}") from None
    return users


def parse_tokens(lines: tuple[str, ...]) -> tuple[PasswordHash, ...]:
    """
    Parse C{[api] tokens} entries, each a hash.

    @raise ValueError: on a bad hash.
    """
    tokens = []
    for number, line in enumerate(lines, 1):
        try:
            tokens.append(parse_hash(line))
        except ValueError as e:
            raise ValueError(f"token hash {number}: {e}") from None
    return tuple(tokens)


def _read_secret(stdin: TextIO, what: str) -> str:
    if stdin.isatty():
        first = getpass.getpass(f"{what}: ")
        if getpass.getpass(f"{what} again: ") != first:
            raise ValueError(f"the two {what.lower()}s differ")
        return first
    return stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    """
    The command line: print a line for C{[api] users} (with C{--user}) or
    C{[api] tokens}. Returns the exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m ocppcs.passwd",
        description="Hash a password (with --user, for [api] users) or a bearer token "
        "(for [api] tokens), read from standard input.",
    )
    parser.add_argument("--user", help="the user name: prints name:hash")
    args = parser.parse_args(argv)
    stdin = stdin if stdin is not None else sys.stdin
    what = "Password" if args.user is not None else "Token"
    try:
        if args.user is not None:
            check_user_name(args.user)
        secret = _read_secret(stdin, what)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not secret:
        print(f"error: empty {what.lower()}", file=sys.stderr)
        return 2
    hashed = str(hash_secret(secret))
    print(f"{args.user}:{hashed}" if args.user is not None else hashed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
