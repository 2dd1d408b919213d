"""Tests for L{ocppcs.emulator.localauth}."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ocppcs.emulator.localauth import LocalAuthorization

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def entry(tag: str, status: str | None = "Accepted", **info: str) -> dict[str, Any]:
    """
    @return: an C{AuthorizationData} object; without C{idTagInfo} when
        C{status} is L{None}.
    """
    if status is None:
        return {"idTag": tag}
    return {"idTag": tag, "idTagInfo": {"status": status, **info}}


def test_new_has_no_list() -> None:
    """A new store has list version 0 and knows no identifier."""
    auth = LocalAuthorization()
    assert auth.list_version == 0
    assert auth.lookup_list("A", NOW) is None
    assert auth.lookup_cache("A", NOW) is None


def test_full_replaces_list() -> None:
    """A full update installs exactly its entries and its version."""
    auth = LocalAuthorization()
    assert auth.send_local_list(3, "Full", [entry("A"), entry("B", "Blocked")]) == "Accepted"
    assert auth.send_local_list(2, "Full", [entry("C", parentIdTag="P")]) == "Accepted"
    assert auth.list_version == 2
    assert auth.lookup_list("A", NOW) is None
    assert auth.lookup_list("C", NOW) == {"status": "Accepted", "parentIdTag": "P"}


def test_full_without_entries_empties_list() -> None:
    """A full update with no or an empty list removes every entry."""
    for entries in (None, []):
        auth = LocalAuthorization()
        auth.send_local_list(1, "Full", [entry("A")])
        assert auth.send_local_list(5, "Full", entries) == "Accepted"
        assert auth.lookup_list("A", NOW) is None
        assert auth.list_version == 5


def test_full_entry_needs_id_tag_info() -> None:
    """A full update with an entry lacking idTagInfo fails and changes nothing."""
    auth = LocalAuthorization()
    auth.send_local_list(1, "Full", [entry("A")])
    assert auth.send_local_list(2, "Full", [entry("B"), entry("C", None)]) == "Failed"
    assert auth.list_version == 1
    assert auth.lookup_list("A", NOW) is not None
    assert auth.lookup_list("B", NOW) is None


def test_differential_upserts_and_deletes() -> None:
    """A differential update adds and replaces entries with idTagInfo and deletes the others."""
    auth = LocalAuthorization()
    auth.send_local_list(1, "Full", [entry("A"), entry("B"), entry("C")])
    result = auth.send_local_list(
        2, "Differential", [entry("A", "Blocked"), entry("B", None), entry("D")]
    )
    assert result == "Accepted"
    assert auth.list_version == 2
    assert auth.lookup_list("A", NOW) == {"status": "Blocked"}
    assert auth.lookup_list("B", NOW) is None
    assert auth.lookup_list("C", NOW) == {"status": "Accepted"}
    assert auth.lookup_list("D", NOW) == {"status": "Accepted"}


def test_differential_delete_unknown_is_harmless() -> None:
    """Deleting an identifier the list does not hold is accepted."""
    auth = LocalAuthorization()
    assert auth.send_local_list(1, "Differential", [entry("X", None)]) == "Accepted"
    assert auth.list_version == 1


def test_differential_version_mismatch() -> None:
    """A differential update whose version is not above the list's is refused unchanged."""
    auth = LocalAuthorization()
    auth.send_local_list(4, "Full", [entry("A")])
    for version in (4, 3):
        assert auth.send_local_list(version, "Differential", [entry("B")]) == "VersionMismatch"
    assert auth.list_version == 4
    assert auth.lookup_list("B", NOW) is None


def test_too_many_entries_in_request_fails() -> None:
    """A request with more entries than max_send_length fails."""
    auth = LocalAuthorization(max_send_length=2)
    entries = [entry("A"), entry("B"), entry("C")]
    assert auth.send_local_list(1, "Full", entries) == "Failed"
    assert auth.list_version == 0
    assert auth.send_local_list(1, "Full", entries[:2]) == "Accepted"


def test_list_too_long_fails_unchanged() -> None:
    """An update that would make the list longer than max_list_length fails and changes nothing."""
    auth = LocalAuthorization(max_list_length=3)
    auth.send_local_list(1, "Full", [entry("A"), entry("B")])
    assert auth.send_local_list(2, "Differential", [entry("C"), entry("D")]) == "Failed"
    assert auth.list_version == 1
    assert auth.lookup_list("C", NOW) is None
    # Deleting one in the same request makes room.
    result = auth.send_local_list(2, "Differential", [entry("A", None), entry("C"), entry("D")])
    assert result == "Accepted"


def test_bad_requests_fail() -> None:
    """Repeated idTags, an unreadable expiryDate or an unknown updateType fail."""
    auth = LocalAuthorization()
    assert auth.send_local_list(1, "Full", [entry("A"), entry("A", "Blocked")]) == "Failed"
    assert auth.send_local_list(1, "Full", [entry("A", expiryDate="tomorrow")]) == "Failed"
    assert auth.send_local_list(1, "Partial", [entry("A")]) == "Failed"
    assert auth.list_version == 0


def test_list_expiry() -> None:
    """A list entry past its expiryDate reads as Expired, keeping its other fields."""
    auth = LocalAuthorization()
    auth.send_local_list(
        1,
        "Full",
        [
            entry("OLD", expiryDate="2026-01-15T11:59:59Z", parentIdTag="P"),
            entry("NEW", expiryDate="2026-01-15T12:59:59.500+01:00"),
        ],
    )
    assert auth.lookup_list("OLD", NOW) == {
        "status": "Expired",
        "expiryDate": "2026-01-15T11:59:59Z",
        "parentIdTag": "P",
    }
    assert auth.lookup_list("NEW", NOW) == {
        "status": "Expired",
        "expiryDate": "2026-01-15T12:59:59.500+01:00",
    }
    later = auth.lookup_list("OLD", datetime(2026, 1, 15, 11, 0, tzinfo=UTC))
    assert later is not None and later["status"] == "Accepted"


def test_cache_remembers_and_expires() -> None:
    """The cache answers with the remembered idTagInfo, Expired once past its expiryDate."""
    auth = LocalAuthorization()
    auth.remember("A", {"status": "Accepted", "expiryDate": "2026-01-15T12:30:00Z"})
    assert auth.lookup_cache("A", NOW) == {
        "status": "Accepted",
        "expiryDate": "2026-01-15T12:30:00Z",
    }
    assert auth.lookup_cache("A", datetime(2026, 1, 15, 13, 0, tzinfo=UTC)) == {
        "status": "Expired",
        "expiryDate": "2026-01-15T12:30:00Z",
    }
    auth.remember("A", {"status": "Blocked"})
    assert auth.lookup_cache("A", NOW) == {"status": "Blocked"}


def test_cache_lru_bound() -> None:
    """A full cache drops the least recently used entry; a lookup counts as a use."""
    auth = LocalAuthorization(cache_size=2)
    auth.remember("A", {"status": "Accepted"})
    auth.remember("B", {"status": "Accepted"})
    auth.lookup_cache("A", NOW)
    auth.remember("C", {"status": "Accepted"})
    assert auth.lookup_cache("B", NOW) is None
    assert auth.lookup_cache("A", NOW) is not None
    assert auth.lookup_cache("C", NOW) is not None


def test_cache_drops_invalid_entries_first() -> None:
    """A full cache drops a non-Accepted entry before a more recently used Accepted one."""
    auth = LocalAuthorization(cache_size=2)
    auth.remember("A", {"status": "Accepted"})
    auth.remember("B", {"status": "Blocked"})
    auth.remember("C", {"status": "Accepted"})
    assert auth.lookup_cache("B", NOW) is None
    assert auth.lookup_cache("A", NOW) is not None


def test_list_identifiers_not_cached() -> None:
    """An identifier in the Local Authorization List is not put in the cache."""
    auth = LocalAuthorization()
    auth.send_local_list(1, "Full", [entry("A")])
    auth.remember("A", {"status": "Blocked"})
    assert auth.lookup_cache("A", NOW) is None


def test_clear_cache_keeps_list() -> None:
    """ClearCache empties the cache but leaves the list and its version."""
    auth = LocalAuthorization()
    auth.send_local_list(7, "Full", [entry("L")])
    auth.remember("A", {"status": "Accepted"})
    auth.clear_cache()
    assert auth.lookup_cache("A", NOW) is None
    assert auth.lookup_list("L", NOW) == {"status": "Accepted"}
    assert auth.list_version == 7


def test_to_json_round_trip() -> None:
    """to_json survives JSON and restores the list, its version and the cache order."""
    auth = LocalAuthorization(cache_size=2)
    auth.send_local_list(9, "Full", [entry("L", expiryDate="2030-01-01T00:00:00Z")])
    auth.remember("A", {"status": "Accepted"})
    auth.remember("B", {"status": "Accepted"})
    auth.lookup_cache("A", NOW)
    state = json.loads(json.dumps(auth.to_json()))
    restored = LocalAuthorization(cache_size=2, state=state)
    assert restored.to_json() == auth.to_json()
    assert restored.list_version == 9
    assert restored.lookup_list("L", NOW) == {
        "status": "Accepted",
        "expiryDate": "2030-01-01T00:00:00Z",
    }
    restored.remember("C", {"status": "Accepted"})
    assert restored.lookup_cache("B", NOW) is None
    assert restored.lookup_cache("A", NOW) is not None


def test_lookups_return_copies() -> None:
    """Changing an answer, or the dict given to remember, does not change the store."""
    auth = LocalAuthorization()
    info = {"status": "Accepted"}
    auth.remember("A", info)
    info["status"] = "Blocked"
    answer = auth.lookup_cache("A", NOW)
    assert answer == {"status": "Accepted"}
    answer["status"] = "Invalid"
    assert auth.lookup_cache("A", NOW) == {"status": "Accepted"}
