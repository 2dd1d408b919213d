"""
Tests for idTag authorization in L{ocppcs.emulator.charging}: offline (the
local list, the cache, unknown ids), an Authorize that times out and
LocalPreAuthorize, on a station driven by L{tests.emulator.harness}.
"""

from __future__ import annotations

from ocppcs.callerrors import CallTimeout
from tests.emulator.driving import charge, fired, install_list, set_keys
from tests.emulator.harness import make_rig


def test_offline_local_list() -> None:
    """
    Offline, an Accepted tag of the local list is authorized when
    LocalAuthorizeOffline is true (and the transaction starts, queued);
    not when it is false, nor a Blocked tag, even with AllowOfflineTxForUnknownId.
    """
    rig = make_rig("CP1")
    install_list(rig, GOOD="Accepted", BAD="Blocked")
    set_keys(rig, AllowOfflineTxForUnknownId="true")
    rig.disconnect()
    assert fired(rig.station.authorize("BAD"))["status"] == "Blocked"
    set_keys(rig, AllowOfflineTxForUnknownId="false", LocalAuthorizeOffline="false")
    assert fired(rig.station.authorize("GOOD"))["status"] == "Invalid"
    set_keys(rig, LocalAuthorizeOffline="true")
    rig.central.clear()
    charge(rig, tag="GOOD")
    assert rig.central.calls == []
    assert rig.station.connectors[1].status == "Charging"
    assert [m.action for m in rig.station.outbox.kept()] == ["StartTransaction"]


def test_offline_cache() -> None:
    """Offline, a tag the central system accepted before is authorized from the cache."""
    rig = make_rig("CP1")
    assert fired(rig.station.authorize("T"))["status"] == "Accepted"
    rig.disconnect()
    assert fired(rig.station.authorize("T"))["status"] == "Accepted"
    assert fired(rig.station.authorize("U"))["status"] == "Invalid"
    set_keys(rig, AuthorizationCacheEnabled="false")
    assert fired(rig.station.authorize("T"))["status"] == "Invalid"


def test_offline_unknown_id() -> None:
    """Offline, an unknown tag is Accepted only with AllowOfflineTxForUnknownId."""
    rig = make_rig("CP1")
    rig.disconnect()
    assert fired(rig.station.authorize("X"))["status"] == "Invalid"
    set_keys(rig, AllowOfflineTxForUnknownId="true")
    assert fired(rig.station.authorize("X"))["status"] == "Accepted"


def test_authorize_timeout_falls_back() -> None:
    """An Authorize that times out is decided by the offline rules."""
    rig = make_rig("CP1")
    set_keys(rig, AllowOfflineTxForUnknownId="true")
    rig.central.hold.add("Authorize")
    d = rig.station.authorize("X")
    assert not d.called
    rig.central.pending[0][2].errback(CallTimeout("EM-A0000001", "Authorize", 30))
    assert fired(d) == {"status": "Accepted"}


def test_local_pre_authorize() -> None:
    """With LocalPreAuthorize an accepted cached tag needs no Authorize; others do."""
    rig = make_rig("CP1")
    set_keys(rig, LocalPreAuthorize="true")
    install_list(rig, LISTED="Accepted", BLOCKED="Blocked")
    rig.central.clear()
    assert fired(rig.station.authorize("LISTED"))["status"] == "Accepted"
    assert rig.central.calls == []
    rig.station.authorize("BLOCKED")
    assert rig.central.sent("Authorize") == [{"idTag": "BLOCKED"}]
