"""Tests for L{ocppcs.ocppj.jsontext}: bounded depth and the lone-surrogate fallback."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppcs.ocppj import jsontext
from ocppcs.ocppj.jsontext import MAX_DEPTH, JsonRefused


def nested(depth: int, uid: str = "d") -> bytes:
    """A CALL frame whose arrays nest C{depth} levels deep in all (the frame is level 1)."""
    inner = depth - 2  # the frame and the payload object
    return (
        f'[2, "{uid}", "DataTransfer", {{"vendorId": "v", "data": '
        + "[" * inner
        + "]" * inner
        + "}]"
    ).encode()


def _depth(value: Any) -> int:
    """The nesting depth of C{value}, recursively (the reference for the tests)."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_the_depth_limit_counts_the_frame_itself() -> None:
    for depth in (MAX_DEPTH - 1, MAX_DEPTH):
        value, slow = jsontext.loads(nested(depth))
        assert _depth(value) == depth and not slow
        assert not jsontext.too_deep(nested(depth), value)
    value, _ = jsontext.loads(nested(MAX_DEPTH + 1))
    assert jsontext.too_deep(nested(MAX_DEPTH + 1), value)


@given(
    st.recursive(
        st.integers() | st.text(max_size=3),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=2), children, max_size=3)
        ),
        max_leaves=200,
    ),
    st.integers(min_value=1, max_value=12),
)
def test_depth_exceeds_agrees_with_a_recursive_count(value: Any, limit: int) -> None:
    assert jsontext.depth_exceeds(value, limit) == (_depth(value) > limit)


JSON_VALUES = st.recursive(
    st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(alphabet='[]{}"\\ab\u00e9\n', max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=3), children, max_size=3)
    ),
    max_leaves=300,
)


@given(JSON_VALUES, st.integers(min_value=1, max_value=12), st.booleans())
def test_the_text_depth_agrees_with_a_recursive_count(
    value: Any, limit: int, compact: bool
) -> None:
    """On any JSON text, also with brackets, quotes and backslashes in strings and keys."""
    data = orjson.dumps(value) if compact else json.dumps(value, indent=1).encode()
    assert jsontext.text_depth_exceeds(data, limit) == (_depth(value) > limit)


def test_many_brackets_in_strings_are_not_depth() -> None:
    """A shallow frame whose strings hold many brackets is measured, and passes."""
    data = orjson.dumps([2, "b", "DataTransfer", {"vendorId": "v", "data": "[{" * 500}])
    assert not jsontext.too_deep(data, orjson.loads(data))


def test_deeper_than_orjson_reads_names_the_frame_head() -> None:
    """Past orjson's own limit (1,024 levels) the message type and uniqueId come from the text."""
    for data in (nested(2000, "deep-1"), nested(200_000, "deep-2").decode()):
        with pytest.raises(JsonRefused) as refused:
            jsontext.loads(data)
        assert refused.value.too_deep
        assert refused.value.head == (2, "deep-1" if isinstance(data, bytes) else "deep-2")
    with pytest.raises(JsonRefused) as refused:
        jsontext.loads(b"[" * 5000 + b"]" * 5000)
    assert refused.value.too_deep and refused.value.head is None


def test_a_lone_surrogate_escape_is_read_by_the_stdlib_parser() -> None:
    data = b'[2, "s1", "StatusNotification", {"info": "\\ud800 lone"}]'
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(data)
    value, slow = jsontext.loads(data)
    assert slow and value == json.loads(data)
    assert jsontext.lone_surrogate_path(value[3]) == "$.info"


def test_the_fallback_still_refuses_what_is_not_json() -> None:
    for data in (b'["\\ud800", NaN]', b'["\\ud800", ', b'["\\ud800"] x'):
        with pytest.raises(JsonRefused) as refused:
            jsontext.loads(data)
        assert "not valid JSON" in refused.value.description and not refused.value.too_deep
    deep = b'["\\ud800", ' + b"[" * 5000 + b"]" * 5000 + b"]"
    with pytest.raises(JsonRefused) as refused:
        jsontext.loads(deep)
    assert refused.value.too_deep


@pytest.mark.parametrize(
    "value, path",
    [
        ({"a": "ok", "b": ["x", {"c": "\udc00"}]}, "$.b[1].c"),
        ({"a": "\ud800", "b": "\udfff"}, "$.a"),
        ({"k\ud800": 1}, "$.k\\ud800"),
        ({"a": "émoji 😀", "b": [1, 2.5, None, True]}, None),
        ("\ud83d", "$"),
    ],
)
def test_lone_surrogate_path(value: Any, path: str | None) -> None:
    assert jsontext.lone_surrogate_path(value) == path
    if path is not None:
        path.encode("utf-8")  # the path itself is valid text


@pytest.mark.parametrize(
    "raw, readable",
    [
        (b'[2, "1", "Heartbeat", {}]', True),
        (nested(MAX_DEPTH), True),
        (nested(300), False),  # orjson reads it but could not write it back (254 levels)
        (b'[2, "1", "X", {"a": "\\ud800"}]', False),
        (b"not json", False),
    ],
)
def test_read_gives_what_the_frame_log_readers_can_send_on(raw: bytes, readable: bool) -> None:
    value = jsontext.read(raw)
    assert (value is not None) == readable
    if readable:
        orjson.dumps(value)
