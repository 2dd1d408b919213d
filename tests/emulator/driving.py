"""
Helpers for the charging tests of L{ocppcs.emulator.charging}: read a fired
Deferred, change configuration keys, install a local list, start a charging
session and read back what the station sent, on a station of
L{tests.emulator.harness}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from tests.emulator.harness import Rig


def fired(d: Deferred[Any]) -> Any:
    """The result a Deferred already has."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    return results[0]


def set_keys(rig: Rig, **keys: str) -> None:
    """Change configuration keys as ChangeConfiguration would."""
    for key, value in keys.items():
        assert rig.station.keys.change(key, value) == "Accepted", key


def install_list(rig: Rig, **tags: str) -> None:
    """Install a local authorization list: idTag=status."""
    entries = [{"idTag": t, "idTagInfo": {"status": s}} for t, s in tags.items()]
    assert rig.station.auth.send_local_list(1, "Full", entries) == "Accepted"


def charge(rig: Rig, connector_id: int = 1, tag: str = "TAG1") -> None:
    """Plug in and present C{tag}; the transaction is started."""
    rig.station.plug_in(connector_id)
    assert fired(rig.station.present_id_tag(connector_id, tag))["status"] == "Accepted"
    rig.clock.advance(0)


def start_reply(status: str) -> dict[str, Any]:
    """A StartTransaction reply: transactionId 7, idTag C{status}."""
    return {"transactionId": 7, "idTagInfo": {"status": status}}


def registers(rig: Rig) -> list[int]:
    """The Energy.Active.Import.Register of every MeterValues sent, in order."""
    return [
        int(v["value"])
        for p in rig.central.sent("MeterValues")
        for mv in p["meterValue"]
        for v in mv["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
