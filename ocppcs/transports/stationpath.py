# -*- test-case-name: tests.transports.test_websocket -*-
"""The station endpoint's path: C{/ocpp/{identity}[/{account}]}, checked."""

from __future__ import annotations

from urllib.parse import unquote

#: The longest station identity (OCPP 1.6's chargeBoxIdentity: CiString48).
MAX_IDENTITY = 48


class BadStationPath(ValueError):
    """The upgrade request's path does not name a valid station."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_station_path(path: str, prefix: str = "/ocpp/") -> tuple[str, str]:
    """
    Split C{/ocpp/{identity}[/{account}]} into identity and account.

    @raise BadStationPath: when the path is wrong or the identity is invalid.
    """
    if not path.startswith(prefix):
        raise BadStationPath(f"Not a station endpoint: {path!r}", 404)
    parts = path[len(prefix) :].split("/")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing slash
    if len(parts) > 2:
        raise BadStationPath("Path must be /ocpp/{identity} or /ocpp/{identity}/{account}", 404)
    try:
        identity = unquote(parts[0], errors="strict")
        account = unquote(parts[1], errors="strict") if len(parts) == 2 else ""
    except UnicodeDecodeError:
        raise BadStationPath("Station identity is not valid UTF-8") from None
    if not identity:
        raise BadStationPath("Station identity is empty")
    if len(identity) > MAX_IDENTITY:
        raise BadStationPath(f"Station identity is longer than {MAX_IDENTITY} characters")
    if not identity.isprintable() or not account.isprintable():
        raise BadStationPath("Station identity contains characters that are not printable")
    return identity, account
