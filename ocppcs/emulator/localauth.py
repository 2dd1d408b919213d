# -*- test-case-name: tests.emulator.test_localauth -*-
"""
The emulated charge point's Local Authorization List and Authorization
Cache (OCPP 1.6 sections 3.4 and 3.5).

  message              what this module does
  -------------------  -------------------------------------------------------
  SendLocalList (5.15) L{LocalAuthorization.send_local_list}: C{Full} replaces
                       the list, C{Differential} upserts entries that carry an
                       C{idTagInfo} and deletes those without; the answer is
                       C{Accepted}, C{Failed} or C{VersionMismatch}.
  GetLocalListVersion  L{LocalAuthorization.list_version} (0 = no list).
  (5.9)
  ClearCache (5.3)     L{LocalAuthorization.clear_cache}.
  Authorize, Start-,   the caller hands each C{idTagInfo} it receives to
  StopTransaction      L{LocalAuthorization.remember}.

A list or cache entry whose C{expiryDate} has passed is reported with status
C{Expired}. Identifiers in the list are not cached (the list is the
authority for them). A full cache first drops its least recently used entry
that is not C{Accepted}, then the least recently used one.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

ACCEPTED = "Accepted"
FAILED = "Failed"
VERSION_MISMATCH = "VersionMismatch"


def _parse_time(text: str) -> datetime:
    """
    @param text: ISO 8601 text, possibly ending in C{Z}.
    @return: an aware datetime (UTC when C{text} has no offset).
    @raise ValueError: when C{text} is not an ISO 8601 time.
    """
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _aware(now: datetime) -> datetime:
    """
    @param now: a datetime, naive ones meaning UTC.
    @return: C{now} with a time zone.
    """
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _with_expiry(info: dict[str, Any], now: datetime) -> dict[str, Any]:
    """
    @param info: a stored C{idTagInfo}.
    @param now: the current time.
    @return: a copy of C{info}, with status C{Expired} when its
        C{expiryDate} is before C{now}. An unreadable C{expiryDate} is
        ignored.
    """
    result = dict(info)
    expiry = info.get("expiryDate")
    if isinstance(expiry, str):
        try:
            expired = _parse_time(expiry) < _aware(now)
        except ValueError:
            expired = False
        if expired:
            result["status"] = "Expired"
    return result


class LocalAuthorization:
    """
    The Local Authorization List and the Authorization Cache of one charge
    point.

    @ivar list_version: the version of the installed list; 0 when none is.
    @ivar max_list_length: the most entries the list holds
        (C{LocalAuthListMaxLength}).
    @ivar max_send_length: the most entries one SendLocalList may carry
        (C{SendLocalListMaxLength}).
    @ivar cache_size: the most entries the cache holds.
    """

    def __init__(
        self,
        max_list_length: int = 1000,
        max_send_length: int = 100,
        cache_size: int = 1000,
        state: dict[str, Any] | None = None,
    ) -> None:
        """
        @param max_list_length: see L{max_list_length}.
        @param max_send_length: see L{max_send_length}.
        @param cache_size: see L{cache_size}.
        @param state: the output of an earlier L{to_json}, to restore.
        """
        self.max_list_length = max_list_length
        self.max_send_length = max_send_length
        self.cache_size = cache_size
        self.list_version = 0
        self._list: dict[str, dict[str, Any]] = {}
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        if state is not None:
            self.list_version = int(state.get("listVersion", 0))
            self._list = {tag: dict(info) for tag, info in state.get("list", {}).items()}
            for tag, info in state.get("cache", []):
                self._cache[tag] = dict(info)
            self._trim_cache()

    # Local Authorization List

    def send_local_list(
        self, version: int, update_type: str, entries: list[dict[str, Any]] | None
    ) -> str:
        """
        Apply a SendLocalList request; nothing changes unless it is accepted.

        @param version: the request's C{listVersion}.
        @param update_type: C{"Full"} or C{"Differential"}.
        @param entries: the request's C{localAuthorizationList}
            (C{AuthorizationData} objects: C{idTag}, optional C{idTagInfo}).
        @return: C{"Accepted"}, C{"Failed"} (too many entries, a resulting
            list that is too long, a repeated C{idTag}, an entry of a full
            update without C{idTagInfo}, an unreadable C{expiryDate}, an
            unknown C{update_type}) or C{"VersionMismatch"} (a differential
            update whose version is not above L{list_version}).
        """
        entries = entries or []
        if update_type not in ("Full", "Differential"):
            return FAILED
        if update_type == "Differential" and version <= self.list_version:
            return VERSION_MISMATCH
        if len(entries) > self.max_send_length:
            return FAILED
        tags: set[str] = set()
        for entry in entries:
            tag = entry.get("idTag")
            info = entry.get("idTagInfo")
            if not isinstance(tag, str) or tag in tags:
                return FAILED
            tags.add(tag)
            if info is None:
                if update_type == "Full":
                    return FAILED
                continue
            if not isinstance(info, dict) or "status" not in info:
                return FAILED
            expiry = info.get("expiryDate")
            if expiry is not None:
                try:
                    _parse_time(expiry)
                except (TypeError, ValueError):
                    return FAILED
        updated = {} if update_type == "Full" else dict(self._list)
        for entry in entries:
            if entry.get("idTagInfo") is None:
                updated.pop(entry["idTag"], None)
            else:
                updated[entry["idTag"]] = dict(entry["idTagInfo"])
        if len(updated) > self.max_list_length:
            return FAILED
        self._list = updated
        self.list_version = version
        return ACCEPTED

    def lookup_list(self, id_tag: str, now: datetime) -> dict[str, Any] | None:
        """
        @param id_tag: the identifier presented.
        @param now: the current time.
        @return: a copy of the list's C{idTagInfo} for C{id_tag} (status
            C{Expired} once its C{expiryDate} has passed), or L{None} when
            the list has no such entry.
        """
        info = self._list.get(id_tag)
        return None if info is None else _with_expiry(info, now)

    def list_entries(self) -> dict[str, dict[str, Any]]:
        """
        @return: a copy of the installed list, C{idTag} to C{idTagInfo}.
        """
        return {tag: dict(info) for tag, info in self._list.items()}

    # Authorization Cache

    def remember(self, id_tag: str, id_tag_info: dict[str, Any]) -> None:
        """
        Cache the C{idTagInfo} of an Authorize, StartTransaction or
        StopTransaction response, as the most recently used entry.
        Identifiers in the Local Authorization List are not cached.

        @param id_tag: the identifier the response is about.
        @param id_tag_info: the response's C{idTagInfo}.
        """
        if id_tag in self._list or self.cache_size <= 0:
            return
        self._cache.pop(id_tag, None)
        self._cache[id_tag] = dict(id_tag_info)
        self._trim_cache()

    def lookup_cache(self, id_tag: str, now: datetime) -> dict[str, Any] | None:
        """
        @param id_tag: the identifier presented.
        @param now: the current time.
        @return: a copy of the cached C{idTagInfo} (status C{Expired} once its
            C{expiryDate} has passed), or L{None} when it is not cached. A hit
            makes the entry the most recently used.
        """
        info = self._cache.get(id_tag)
        if info is None:
            return None
        self._cache.move_to_end(id_tag)
        return _with_expiry(info, now)

    def clear_cache(self) -> None:
        """Forget every cached entry (ClearCache)."""
        self._cache.clear()

    def _trim_cache(self) -> None:
        """Drop entries until the cache fits L{cache_size}: invalid ones first."""
        while len(self._cache) > max(self.cache_size, 0):
            victim = next(
                (tag for tag, info in self._cache.items() if info.get("status") != "Accepted"),
                next(iter(self._cache)),
            )
            del self._cache[victim]

    # Persistence

    def to_json(self) -> dict[str, Any]:
        """
        @return: the list, its version and the cache (least recently used
            first) as JSON-serialisable data for C{__init__(state=...)}.
        """
        return {
            "listVersion": self.list_version,
            "list": self.list_entries(),
            "cache": [[tag, dict(info)] for tag, info in self._cache.items()],
        }
