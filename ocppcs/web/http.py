# -*- test-case-name: tests.web.test_api -*-
"""
JSON over HTTP for the REST API: one error shape, bounded bodies, strict query
parameters and paging.

Every error is C{{"error": {"code": <HTTP status>, "message": "..."}}}.
"""

from __future__ import annotations

from typing import Any

import orjson
from twisted.web.iweb import IRequest


class ApiError(Exception):
    """An error answered with C{code} and the JSON error body."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: int, message: str) -> bytes:
    """The JSON body of an error."""
    return orjson.dumps({"error": {"code": code, "message": message}})


def json_body(request: IRequest, value: Any, code: int = 200) -> bytes:
    """Set the status and content type of C{request}; return C{value} as JSON."""
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    return orjson.dumps(value)


def read_json(request: IRequest, max_body: int, required: bool = True) -> Any:
    """
    The request's JSON body.

    @param required: when C{False}, an empty body is C{None}.
    @raise ApiError: 413 when larger than C{max_body}, 400 when not JSON.
    """
    content = request.content
    if content is None:
        data = b""
    else:
        content.seek(0)
        data = content.read(max_body + 1)
    if len(data) > max_body:
        raise ApiError(413, f"Request body is larger than {max_body} bytes")
    if not data.strip():
        if required:
            raise ApiError(400, "A JSON request body is required")
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise ApiError(400, f"Request body is not valid JSON: {e}") from None


def query_args(request: IRequest, allowed: frozenset[str] | set[str]) -> dict[str, str]:
    """
    The query parameters, each given at most once.

    @raise ApiError: 400 for an unknown or repeated parameter.
    """
    args: dict[str, str] = {}
    for raw_key, values in (request.args or {}).items():
        key = raw_key.decode("utf-8", "replace")
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ApiError(400, f"Unknown query parameter '{key}' (known: {known})")
        if len(values) != 1:
            raise ApiError(400, f"Query parameter '{key}' given more than once")
        args[key] = values[0].decode("utf-8", "replace")
    return args


def int_arg(args: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """
    An integer query parameter within C{[low, high]}.

    @raise ApiError: 400 when it is not such an integer.
    """
    text = args.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"Query parameter '{name}' must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, f"Query parameter '{name}' must be between {low} and {high}")
    return value


def paging(args: dict[str, str], page_size: int, max_page_size: int) -> tuple[int, int]:
    """
    C{(limit, offset)} from the C{limit} and C{offset} query parameters.

    @raise ApiError: 400 when out of range.
    """
    limit = int_arg(args, "limit", page_size, 1, max_page_size)
    offset = int_arg(args, "offset", 0, 0, 2**31)
    return limit, offset
