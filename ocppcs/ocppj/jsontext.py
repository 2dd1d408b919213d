# -*- test-case-name: tests.ocppj.test_jsontext -*-
"""
Reading the JSON text of an OCPP-J frame: orjson, with bounds on what it
hands on, and the stdlib parser where orjson refuses valid JSON.

    loads:  JSON text --orjson--> value        (then too_deep(): over MAX_DEPTH levels?)
              | orjson: "depth limit exceeded" (over 1,024 levels) --> JsonRefused, with
                the message type and uniqueId read from the frame's first bytes
              | orjson: a lone UTF-16 surrogate escape ("\\ud800") --> json (stdlib) --> value
              | anything else: not JSON --> JsonRefused

The depth check costs two C{bytes.count} calls per frame of more than 128
bytes (a fraction of a microsecond; C{bench/frames_bench.py}); only a frame
with more than L{MAX_DEPTH} opening brackets in all is measured, on its text
with C-speed bytes operations, never by recursion.

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
        return orjson.loads(data), False
    except orjson.JSONDecodeError as e:
        return fallback(data, e), True


def fallback(data: bytes | str, error: orjson.JSONDecodeError) -> Any:
    """
    The value of C{data}, which orjson refused with C{error}, when that is
    only for lone surrogates (read by the stdlib parser).

    @raise JsonRefused: otherwise: not JSON, or too deep to be read at all.
    """
    message = str(error)
    if "surrogate" not in message:
        if "depth" in message or "recursion" in message:
            raise JsonRefused(TOO_DEEP, True, _head(data))
        raise JsonRefused(f"Frame is not valid JSON: {message}")
    try:
        return json.loads(data, parse_constant=_constant)
    except RecursionError:
        raise JsonRefused(TOO_DEEP, True, _head(data)) from None
    except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JsonRefused(f"Frame is not valid JSON: {e}") from None


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
    """
    Whether C{value}, parsed from the valid JSON text C{data}, nests arrays
    and objects deeper than L{MAX_DEPTH}: nothing to measure when C{data} has
    no more opening brackets than that; else measured on the text
    (L{text_depth_exceeds}), or on C{value} for a C{str}.
    """
    if isinstance(data, bytes):
        if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
            return False
        return text_depth_exceeds(data, MAX_DEPTH)
    if data.count("[") + data.count("{") <= MAX_DEPTH:
        return False
    return depth_exceeds(value, MAX_DEPTH)


#: Maps "{" and "}" to "[" and "]"; with _NOT_STRUCTURE, keeps only brackets and quotes.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')


def text_depth_exceeds(data: bytes, limit: int) -> bool:
    """
    Whether the valid JSON text C{data} nests deeper than C{limit}, by
    C-speed bytes operations (about a third of orjson's parsing time for a
    MeterValues batch): drop escaped backslashes and quotes, keep only
    brackets and quotes, drop the strings, then remove the innermost C{[]}
    pairs once per level.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = data.translate(_BRACKETS, _NOT_STRUCTURE)
    if b'"' in text:
        # Strings without brackets are pairs of quotes now; if any string
        # held brackets, a quote is left over, and the strings are cut out.
        without = text.replace(b'""', b"")
        text = without if b'"' not in without else b"".join(text.split(b'"')[::2])
    for _ in range(limit):
        if not text:
            return False
        text = text.replace(b"[]", b"")
    return bool(text)


def depth_exceeds(value: Any, limit: int) -> bool:
    """
    Whether C{value} nests lists and dicts deeper than C{limit}: it recurses
    at most C{limit + 1} calls deep, and stops at the first branch too deep.
    """
    return type(value) in (list, dict) and _deeper(value, limit)


def _deeper(container: Any, room: int) -> bool:
    if not room:
        return True
    for item in container.values() if type(container) is dict else container:
        kind = type(item)
        if (kind is dict or kind is list) and _deeper(item, room - 1):
            return True
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
