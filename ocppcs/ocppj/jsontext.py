# -*- test-case-name: tests.ocppj.test_jsontext -*-
"""
Reading the JSON text of an OCPP-J frame: orjson, with bounds on what it
hands on, and the stdlib parser where orjson refuses valid JSON.

    loads:  JSON text --orjson--> value        (then too_deep(): over MAX_DEPTH levels?)
              | orjson: "depth limit exceeded" (over 1,024 levels) --> JsonRefused, with
                the message type and uniqueId read from the frame's first bytes
              | orjson: a lone UTF-16 surrogate escape ("\\ud800") --> json (stdlib) --> value
              | anything else: not JSON --> JsonRefused

The depth check costs two C{bytes.count} calls per frame (about 0.1 µs for a
typical frame, BENCHMARKS.md); only a frame with more than L{MAX_DEPTH}
brackets in all is measured level by level, without recursion.

A lone surrogate escape is valid JSON grammar (RFC 8259, 7 and 8.2) but not
Unicode text: it has no UTF-8 encoding, and an OCPP-J message "MUST be valid
JSON encoded with the UTF-8 character encoding" (OCPP-J 1.6, 4.1.2). orjson
refuses such a frame; the stdlib parser reads it, so that the frame's
uniqueId can be answered, and L{lone_surrogate_path} names the first string
holding one, which the frame parser rejects (nothing with a surrogate is
ever stored or sent back).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

#: The deepest nesting of arrays and objects a frame may have; the frame's own array is level 1.
MAX_DEPTH = 64

#: The start of an OCPP-J frame: its message type id and a plain uniqueId.
_HEAD = re.compile(rb'\s*\[\s*([234])\s*,\s*"([^"\\\x00-\x1f]{1,36})"\s*,')


class JsonRefused(ValueError):
    """
    JSON text that is not read.

    @ivar description: what is wrong, for the CALLERROR.
    @ivar too_deep: whether it is well-formed so far but nested deeper than L{MAX_DEPTH}.
    @ivar head: C{(message type id, uniqueId)} read from the start of a frame
        too deep for orjson, else C{None}.
    """

    def __init__(
        self, description: str, too_deep: bool = False, head: tuple[int, str] | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.too_deep = too_deep
        self.head = head


TOO_DEEP = f"Frame is nested deeper than {MAX_DEPTH} levels"


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: bytes | str) -> tuple[Any, bool]:
    """
    The value of the JSON text C{data}, and whether it was read by the stdlib
    parser (it may then hold lone surrogates: see L{lone_surrogate_path}).
    The caller checks the depth (L{too_deep}) once it has read what it needs
    to answer, e.g. the uniqueId.

    @raise JsonRefused: when C{data} is not JSON, or too deep to be read at all
        (orjson's limit, the stdlib parser's recursion limit).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        error = str(e)
        if "surrogate" not in error:
            if "depth" in error or "recursion" in error:
                raise JsonRefused(TOO_DEEP, True, _head(data)) from None
            raise JsonRefused(f"Frame is not valid JSON: {error}") from None
        try:
            value = json.loads(data, parse_constant=_constant)
        except RecursionError:
            raise JsonRefused(TOO_DEEP, True, _head(data)) from None
        except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise JsonRefused(f"Frame is not valid JSON: {e}") from None
        return value, True
    return value, False


def read(data: bytes | str) -> Any:
    """
    The value of a logged frame's JSON text, or C{None} when it is not read
    (not JSON, too deep, or holding a lone surrogate): for the frame-log
    readers, which then show the raw text.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return None if too_deep(data, value) else value


def _head(data: bytes | str) -> tuple[int, str] | None:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    match = _HEAD.match(raw)
    if match is None:
        return None
    try:
        return int(match.group(1)), match.group(2).decode("utf-8")
    except UnicodeDecodeError:
        return None


def too_deep(data: bytes | str, value: Any) -> bool:
    """Whether C{value} (parsed from C{data}) nests arrays and objects deeper than L{MAX_DEPTH}."""
    if isinstance(data, bytes):
        brackets = data.count(b"[") + data.count(b"{")
    else:
        brackets = data.count("[") + data.count("{")
    return brackets > MAX_DEPTH and depth_exceeds(value, MAX_DEPTH)


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether C{value} nests lists and dicts deeper than C{limit} (measured level by level)."""
    level = [value] if type(value) in (list, dict) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for container in level:
            items = container.values() if type(container) is dict else container
            below.extend(item for item in items if type(item) in (list, dict))
        level = below
    return False


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _path_key(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogate_path(value: Any, root: str = "$") -> str | None:
    """
    The JSON path (as in schema errors, e.g. C{"$.meterValue[0].unit"}) of the
    first string in C{value} (a key or a value) that holds a lone surrogate,
    or C{None}. Keys in the path show a surrogate as C{\\udXXX}.
    """
    stack: list[tuple[Any, str]] = [(value, root)]
    while stack:
        item, path = stack.pop()
        if type(item) is str:
            if _has_surrogate(item):
                return path
        elif type(item) is dict:
            entries = []
            for key, child in item.items():
                child_path = f"{path}.{_path_key(key)}"
                if _has_surrogate(key):
                    return child_path
                entries.append((child, child_path))
            stack.extend(reversed(entries))
        elif type(item) is list:
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None
