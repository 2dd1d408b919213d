# -*- test-case-name: tests.test_config -*-
"""
The value parsers of L{ocppcs.config}: each turns a key's text into its
value or raises L{ValueError} with what is wrong (L{ocppcs.config} adds the
section and key).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from ocppcs.passwd import parse_tokens, parse_users

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"must be greater than 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"must be a whole number greater than 0, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"must be a whole number of at least 0, got {text!r}")
    return value


def port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError(f"must be a TCP port (1-65535), got {text!r}")
    return value


def choice(*options: str) -> Callable[[str], str]:
    lowered = {o.lower(): o for o in options}

    def parse(text: str) -> str:
        try:
            return lowered[text.strip().lower()]
        except KeyError:
            raise ValueError(f"expected one of {', '.join(options)}; got {text!r}") from None

    return parse


def words(text: str) -> tuple[str, ...]:
    return tuple(w for w in text.replace(",", " ").split() if w)


def credentials(text: str) -> tuple[str, ...]:
    """One C{name:hash} or hash per line (or separated by spaces)."""
    return tuple(w for w in text.split() if w)


def users(text: str) -> tuple[str, ...]:
    """C{name:hash} entries, each checked (L{ocppcs.passwd.parse_users})."""
    values = credentials(text)
    parse_users(values)
    return values


def tokens(text: str) -> tuple[str, ...]:
    """Token hashes, each checked (L{ocppcs.passwd.parse_tokens})."""
    values = credentials(text)
    parse_tokens(values)
    return values


def listeners(text: str) -> tuple[str, ...]:
    values = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not values:
        raise ValueError("at least one listener description is needed")
    return values


def path(text: str) -> str:
    path = text.strip()
    if not path:
        raise ValueError("a path is needed")
    return path


def _url(text: str, schemes: tuple[str, str], expected: str) -> str:
    """Empty, or a URL of one of C{schemes} with a host (and a valid port, if any)."""
    url = text.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise ValueError(f"not a URL: {e}") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"expected empty or {expected} URL, got {text!r}")
    return url


def ws_url(text: str) -> str:
    """Empty, or a C{ws://} or C{wss://} URL with a host."""
    return _url(text, ("ws", "wss"), "a ws:// or wss://")


def http_url(text: str) -> str:
    """Empty, or an C{http://} or C{https://} URL with a host."""
    return _url(text, ("http", "https"), "an http:// or https://")


def origins(text: str) -> tuple[str, ...]:
    """Web origins (C{scheme://host[:port]}, space or comma separated), lower-cased."""
    found = []
    for word in words(text):
        origin = word.rstrip("/").lower()
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise ValueError(f"{word!r} is not an origin like https://ui.example.com[:port]")
        found.append(origin)
    return tuple(found)
