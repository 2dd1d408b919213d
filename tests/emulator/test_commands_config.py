"""
Tests for L{ocppcs.emulator.commands}: ChangeConfiguration, GetConfiguration,
ClearCache, SendLocalList and GetLocalListVersion, and the local list and
cache at work when the station authorizes an idTag.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.harness import Rig, make_rig

# --- ChangeConfiguration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("NoSuchKey", "1", "NotSupported"),
        ("ChargePointVendor", "Other", "Rejected"),
        ("NumberOfConnectors", "4", "Rejected"),
        ("HeartbeatInterval", "often", "Rejected"),
        ("MeterValueSampleInterval", "-5", "Rejected"),
        ("CentralSystemURL", "http://example.com/ocpp", "Rejected"),
        ("CentralSystemURL", "ws://cs.example.com:9000/ocpp", "RebootRequired"),
        ("HeartbeatInterval", "30", "Accepted"),
    ],
)
def test_change_configuration_status(key: str, value: str, status: str) -> None:
    """
    ChangeConfiguration answers NotSupported for an unknown key, Rejected for
    a read-only key or a value that does not fit, RebootRequired for a key
    used when connecting and Accepted otherwise; the value is kept only then.
    """
    rig = make_rig("CP1")
    before = rig.station.keys.get(key)
    assert rig.command("ChangeConfiguration", {"key": key, "value": value}) == {"status": status}
    after = rig.station.keys.get(key)
    if status in ("Accepted", "RebootRequired"):
        assert after == value
        assert rig.store.states[rig.station.identity]["keys"][key] == value
    else:
        assert after == before


def test_heartbeat_interval_change_applies() -> None:
    """An Accepted HeartbeatInterval becomes the heartbeat period at once."""
    rig = make_rig("CP1")
    rig.central.clear()
    rig.command("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "30"})
    rig.clock.advance(30)
    assert rig.central.actions() == ["Heartbeat"]
    rig.clock.advance(30)
    assert rig.central.actions() == ["Heartbeat", "Heartbeat"]


def test_meter_value_sample_interval_change_applies() -> None:
    """An Accepted MeterValueSampleInterval becomes the sampling period at once."""
    rig = make_rig("CP1")
    rig.station.plug_in(1)
    rig.station.present_id_tag(1, "TAG-1")
    rig.command("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "10"})
    rig.central.clear()
    rig.clock.advance(10)
    assert rig.central.actions() == ["MeterValues"]


def test_changed_keys_survive_restart() -> None:
    """Changed keys are saved; a station built from what was saved has them."""
    rig = make_rig("CP1")
    rig.command("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "45"})
    rig.command("ChangeConfiguration", {"key": "CentralSystemURL", "value": "ws://other:1/ocpp"})
    rig.command("ChangeConfiguration", {"key": "ChargePointVendor", "value": "X"})
    saved = rig.store.states[rig.station.identity]["keys"]
    assert saved == {"HeartbeatInterval": "45", "CentralSystemURL": "ws://other:1/ocpp"}
    again = make_rig("CP1", store=rig.store, connect=False)
    assert again.station.keys.get("HeartbeatInterval") == "45"
    assert again.station.keys.get("ChargePointVendor") == "Emulator"
    assert again.station.url == f"ws://other:1/ocpp/{again.station.identity}"
    reply = again.command("GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert reply["configurationKey"][0]["value"] == "45"


# --- GetConfiguration -----------------------------------------------------------------------


def _by_key(reply: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in reply["configurationKey"]}


def test_get_configuration_all() -> None:
    """Without keys, GetConfiguration lists every key with its value and read-only flag."""
    rig = make_rig("CP2")
    reply = rig.command("GetConfiguration", {})
    keys = _by_key(reply)
    assert "unknownKey" not in reply
    assert keys["HeartbeatInterval"] == {
        "key": "HeartbeatInterval",
        "readonly": False,
        "value": "300",
    }
    assert keys["ChargePointVendor"]["readonly"] is True
    assert keys["NumberOfConnectors"]["value"] == "2"
    assert keys["AuthorizeRemoteTxRequests"]["value"] == "false"


def test_get_configuration_specific_and_unknown() -> None:
    """Asked-for keys are listed in order; those the station lacks are unknownKey."""
    rig = make_rig("CP1")
    rig.command("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "90"})
    reply = rig.command(
        "GetConfiguration", {"key": ["HeartbeatInterval", "Nope", "LocalPreAuthorize"]}
    )
    assert reply == {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "90"},
            {"key": "LocalPreAuthorize", "readonly": False, "value": "false"},
        ],
        "unknownKey": ["Nope"],
    }


# --- ClearCache -----------------------------------------------------------------------------


def _offline_tag_status(rig: Rig, id_tag: str) -> str:
    """The status the station gives C{id_tag} on its own, offline."""
    rig.disconnect()
    result: list[dict[str, Any]] = []
    rig.station.authorize(id_tag).addCallback(result.append)
    rig.central.closed = False
    rig.station.connected(rig.central)  # type: ignore[arg-type]
    rig.clock.advance(0)
    return str(result[0]["status"])


def test_clear_cache() -> None:
    """ClearCache is Accepted and forgets the idTags the central system authorized."""
    rig = make_rig("CP1")
    rig.station.authorize("TAG-1")
    assert _offline_tag_status(rig, "TAG-1") == "Accepted"
    assert rig.command("ClearCache", {}) == {"status": "Accepted"}
    assert _offline_tag_status(rig, "TAG-1") == "Invalid"


def test_clear_cache_rejected_when_cache_disabled() -> None:
    """A station whose AuthorizationCacheEnabled is false answers ClearCache Rejected."""
    rig = make_rig("CP1")
    rig.command("ChangeConfiguration", {"key": "AuthorizationCacheEnabled", "value": "false"})
    assert rig.command("ClearCache", {}) == {"status": "Rejected"}


# --- SendLocalList / GetLocalListVersion ----------------------------------------------------


def _entry(id_tag: str, status: str | None = "Accepted") -> dict[str, Any]:
    if status is None:
        return {"idTag": id_tag}
    return {"idTag": id_tag, "idTagInfo": {"status": status}}


def _send_list(rig: Rig, version: int, kind: str, entries: list[dict[str, Any]]) -> str:
    payload = {"listVersion": version, "updateType": kind, "localAuthorizationList": entries}
    return str(rig.command("SendLocalList", payload)["status"])


def test_local_list_full_differential_and_version() -> None:
    """
    A Full list replaces the list, a Differential one adds and removes
    entries; GetLocalListVersion reports the version (0 before any list).
    """
    rig = make_rig("CP1")
    assert rig.command("GetLocalListVersion", {}) == {"listVersion": 0}
    assert _send_list(rig, 1, "Full", [_entry("A"), _entry("B", "Blocked")]) == "Accepted"
    assert rig.command("GetLocalListVersion", {}) == {"listVersion": 1}
    assert _send_list(rig, 2, "Differential", [_entry("C"), _entry("A", None)]) == "Accepted"
    assert rig.command("GetLocalListVersion", {}) == {"listVersion": 2}
    assert sorted(rig.station.auth.list_entries()) == ["B", "C"]
    assert _send_list(rig, 5, "Full", [_entry("Z")]) == "Accepted"
    assert sorted(rig.station.auth.list_entries()) == ["Z"]


def test_local_list_version_mismatch() -> None:
    """A Differential update not above the installed version: VersionMismatch, no change."""
    rig = make_rig("CP1")
    _send_list(rig, 3, "Full", [_entry("A")])
    assert _send_list(rig, 3, "Differential", [_entry("B")]) == "VersionMismatch"
    assert rig.command("GetLocalListVersion", {}) == {"listVersion": 3}
    assert sorted(rig.station.auth.list_entries()) == ["A"]


def test_local_list_survives_restart() -> None:
    """The local list and its version are saved across a restart."""
    rig = make_rig("CP1")
    _send_list(rig, 7, "Full", [_entry("A")])
    again = make_rig("CP1", store=rig.store)
    assert again.command("GetLocalListVersion", {}) == {"listVersion": 7}


def test_local_list_disabled() -> None:
    """With LocalAuthListEnabled false, SendLocalList is NotSupported and the version -1."""
    rig = make_rig("CP1")
    rig.command("ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "false"})
    assert _send_list(rig, 1, "Full", [_entry("A")]) == "NotSupported"
    assert rig.command("GetLocalListVersion", {}) == {"listVersion": -1}


def test_local_list_authorizes_offline() -> None:
    """
    Offline, the station starts a transaction for an idTag the local list
    accepts and refuses one it blocks; the StartTransaction goes out on
    reconnection.
    """
    rig = make_rig("CP1")
    _send_list(rig, 1, "Full", [_entry("GOOD"), _entry("BAD", "Blocked")])
    rig.disconnect()
    rig.central.clear()
    rig.station.plug_in(1)
    result: list[dict[str, Any]] = []
    rig.station.present_id_tag(1, "BAD").addCallback(result.append)
    assert result[0]["status"] == "Blocked"
    rig.station.present_id_tag(1, "GOOD").addCallback(result.append)
    assert result[1]["status"] == "Accepted"
    assert rig.station.connectors[1].transaction is not None
    assert rig.central.calls == []
    rig.reconnect()
    [start] = rig.central.sent("StartTransaction")
    assert start["idTag"] == "GOOD"
    assert "Authorize" not in rig.central.actions()


def test_local_pre_authorize() -> None:
    """With LocalPreAuthorize, an idTag the local list accepts starts without Authorize."""
    rig = make_rig("CP1")
    rig.command("ChangeConfiguration", {"key": "LocalPreAuthorize", "value": "true"})
    _send_list(rig, 1, "Full", [_entry("GOOD")])
    rig.central.clear()
    rig.station.plug_in(1)
    rig.station.present_id_tag(1, "GOOD")
    assert "Authorize" not in rig.central.actions()
    assert rig.central.sent("StartTransaction")[0]["idTag"] == "GOOD"
    rig.central.clear()
    rig.station.authorize("OTHER")
    assert rig.central.actions() == ["Authorize"]
