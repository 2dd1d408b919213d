"""
Tests for L{ocppcs.web.site}: request bodies are kept up to C{[api]
max_body} + 1 bytes in memory, whatever their size or framing, so an
oversized body is answered 413 without being stored.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from twisted.web.test.requesthelper import DummyChannel

from ocppcs.web.site import BoundedRequest


class _Small(BoundedRequest):
    max_body = 10


@pytest.mark.parametrize("length", [None, 5, 11, 10**9])
def test_the_body_kept_stops_one_byte_past_the_limit(length: int | None) -> None:
    request = _Small(DummyChannel())
    request.gotLength(length)
    for _ in range(1000):
        request.handleContentChunk(b"0123456")  # 7 KB offered in all
    assert isinstance(request.content, BytesIO)  # never a temporary file
    assert request.content.getvalue() == (b"0123456" * 2)[:11]


def test_a_body_within_the_limit_is_kept_whole() -> None:
    request = _Small(DummyChannel())
    request.gotLength(10)
    request.handleContentChunk(b"01234")
    request.handleContentChunk(b"56789")
    assert request.content.getvalue() == b"0123456789"
