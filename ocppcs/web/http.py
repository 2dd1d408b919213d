# -*- test-case-name: tests.web.test_api_http -*-
"""
JSON over HTTP for the REST API: one error shape, bounded bodies, strict query
parameters and paging.

Every error is C{{"error": {"code": <HTTP status>, "message": "..."}}}.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from twisted.web.iweb import IRequest

from ocppcs.isotime import iso_time as epoch_iso_time


class ApiError(Exception):
    """
    An error answered with C{code} and the JSON error body.

    @ivar extra: more members of the C{error} object (e.g. C{path}).
    """

    def __init__(
        self,
        code: int,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


def error_body(code: int, message: str, extra: dict[str, Any] | None = None) -> bytes:
    """The JSON body of an error."""
    return orjson.dumps({"error": {"code": code, "message": message, **(extra or {})}})


def json_body(request: IRequest, value: Any, code: int = 200) -> bytes:
    """Set the status and content type of C{request}; return C{value} as JSON."""
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    return orjson.dumps(value)


def read_json(request: IRequest, max_body: int, required: bool = True) -> Any:
    """
    The request's JSON body.

    @param required: when C{False}, an empty body (no bytes at all) is C{None}.
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
    if not data:
        if required:
            raise ApiError(400, "A JSON request body is required")
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise ApiError(400, f"Request body is not valid JSON: {e}") from None


def read_object(request: IRequest, max_body: int, required: bool = True) -> dict[str, Any] | None:
    """
    The request's JSON body, which must be an object.

    @param required: when C{False}, an empty body is C{None}.
    @raise ApiError: 413 when too large, 400 when not a JSON object.
    """
    content = request.content
    if content is not None:
        content.seek(0)
        empty = not content.read(1)
    else:
        empty = True
    if empty and not required:
        return None
    value = read_json(request, max_body, required)
    if not isinstance(value, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return value


def check_members(
    value: dict[str, Any], allowed: frozenset[str] | set[str], required: frozenset[str] | set[str]
) -> None:
    """
    @raise ApiError: 400 when C{value} lacks a required member or has an unknown one.
    """
    for name in value:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ApiError(400, f"Unknown member '{name}' in the request body (known: {known})")
    for name in sorted(required):
        if name not in value:
            raise ApiError(400, f"Member '{name}' is required in the request body")


def str_member(
    value: dict[str, Any], name: str, max_length: int | None = None, nullable: bool = True
) -> str | None:
    """
    A string member of a request body, or C{None} when absent (or null).

    @raise ApiError: 400 when it is not a string or is too long.
    """
    member = value.get(name)
    if member is None and nullable:
        return None
    if not isinstance(member, str):
        raise ApiError(400, f"Member '{name}' must be a string")
    if max_length is not None and len(member) > max_length:
        raise ApiError(400, f"Member '{name}' must be at most {max_length} characters")
    return member


def int_member(value: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """
    An integer member of a request body within C{[low, high]}; C{default}
    when absent or null.

    @raise ApiError: 400 when it is not such an integer.
    """
    member = value.get(name)
    if member is None:
        return default
    if isinstance(member, bool) or not isinstance(member, int):
        raise ApiError(400, f"Member '{name}' must be an integer")
    if not low <= member <= high:
        raise ApiError(400, f"Member '{name}' must be between {low} and {high}")
    return member


def parse_time(text: str, what: str) -> datetime:
    """
    An ISO-8601 date (midnight UTC) or date-time; one without a time zone is UTC.

    @param what: names the value in the error message.
    @raise ApiError: 400 when it is not one.
    """
    try:
        dt = datetime.fromisoformat(text.strip())
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ApiError(400, f"{what} must be an ISO-8601 date-time, not {text!r}") from None


def iso_time(value: datetime | float) -> str:
    """A time (aware L{datetime} or seconds since the epoch) as C{YYYY-MM-DDTHH:MM:SS.mmmZ}."""
    if not isinstance(value, datetime):
        return epoch_iso_time(value)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def float_arg(args: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    """
    A number query parameter within C{[low, high]}.

    @raise ApiError: 400 when it is not such a number.
    """
    return _number_arg(args, name, default, low, high, float, "a number")


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
    return _number_arg(args, name, default, low, high, int, "an integer")


def _number_arg(
    args: dict[str, str],
    name: str,
    default: Any,
    low: Any,
    high: Any,
    parse: Callable[[str], Any],
    kind: str,
) -> Any:
    text = args.get(name)
    if text is None:
        return default
    try:
        value = parse(text)
    except ValueError:
        raise ApiError(400, f"Query parameter '{name}' must be {kind}") from None
    if (isinstance(value, float) and math.isnan(value)) or not low <= value <= high:
        bounds = [f"{b:g}" if isinstance(b, float) else str(b) for b in (low, high)]
        raise ApiError(400, f"Query parameter '{name}' must be between {bounds[0]} and {bounds[1]}")
    return value


def paging(args: dict[str, str], page_size: int, max_page_size: int) -> tuple[int, int]:
    """
    C{(limit, offset)} from the C{limit} and C{offset} query parameters.

    @raise ApiError: 400 when out of range.
    """
    limit = int_arg(args, "limit", page_size, 1, max_page_size)
    offset = int_arg(args, "offset", 0, 0, MAX_OFFSET)
    return limit, offset


#: The largest C{offset} accepted.
MAX_OFFSET = 2**31


def page(
    key: str, rows: list[Any], total: int | None, limit: int, offset: int, more: bool = False
) -> dict[str, Any]:
    """
    A page of a list: C{{key: rows, "total", "limit", "offset", "nextOffset"}}.

    @param total: how many there are in all, or C{None} when not counted
        (then C{more} says whether there are more).
    @return: the response body; C{nextOffset} is C{None} on the last page.
    """
    if total is not None:
        more = offset + len(rows) < total
    body: dict[str, Any] = {key: rows}
    if total is not None:
        body["total"] = total
    body["limit"] = limit
    body["offset"] = offset
    body["nextOffset"] = offset + len(rows) if more and rows else None
    return body
