"""
Regression tests for review findings in L{ocppcs.emulator.charging} and
L{ocppcs.emulator.commands}: a remote start that plugging in must not
short-cut, local authorizations that complete late, reservations admitting
idTags by their parentIdTag, transactions the central system did not accept
(StopTransactionOnInvalidId false) and connector timers that fail. The
station-level reservation (connector 0) is in L{test_review_flows_reservation0}.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred

from ocppcs.emulator.charging import LocalActionError
from ocppcs.emulator.connector import Transaction
from ocppcs.isotime import iso_time
from tests.emulator.harness import (
    DEMO_PLUG_IN,
    T0,
    TX_PROFILE,
    Rig,
    make_rig,
    restart_rig,
    start_charging,
)


def fired(d: Deferred[Any]) -> Any:
    """The result a Deferred already has."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    return results[0]


def answer_authorize(rig: Rig, info: dict[str, Any]) -> None:
    """Answer the one Authorize the central system holds with idTagInfo C{info}."""
    [(action, _, d)] = rig.central.pending
    assert action == "Authorize"
    rig.central.pending.clear()
    d.callback({"idTagInfo": info})
    rig.clock.advance(0)


def reserve(
    rig: Rig, connector_id: int, reservation_id: int, id_tag: str, parent: str | None = None
) -> str:
    """Send ReserveNow (expiring in 10 minutes); return its status."""
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "expiryDate": iso_time(T0 + 600),
        "idTag": id_tag,
        "reservationId": reservation_id,
    }
    if parent is not None:
        payload["parentIdTag"] = parent
    return str(rig.command("ReserveNow", payload)["status"])


def fleet_authorize(rig: Rig, parents: dict[str, str]) -> None:
    """Authorize answers Accepted, with the parentIdTag of C{parents} for those idTags."""

    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"status": "Accepted"}
        if payload["idTag"] in parents:
            info["parentIdTag"] = parents[payload["idTag"]]
        return {"idTagInfo": info}

    rig.central.answers["Authorize"] = answer


# --- a remote start is decided by its authorization -------------------------------------


def test_plug_in_during_remote_start_waits_for_authorization() -> None:
    """
    A vehicle plugged in while a RemoteStartTransaction's idTag is being
    authorized starts nothing by itself; an Invalid answer then starts
    nothing either, and the vehicle stays, Preparing.
    """
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    reply = rig.command("RemoteStartTransaction", {"idTag": "BAD", "connectorId": 1})
    assert reply == {"status": "Accepted"}
    view = rig.station.plug_in(1)
    rig.clock.advance(0)
    assert view["status"] == "Preparing" and view["plugged"]
    assert rig.central.sent("StartTransaction") == []
    answer_authorize(rig, {"status": "Invalid"})
    assert rig.central.sent("StartTransaction") == []
    c = rig.station.connectors[1]
    assert c.transaction is None and c.remote_tag is None
    assert c.status == "Preparing"


def test_plug_in_during_remote_start_then_accepted() -> None:
    """
    When the idTag of a remote start is Accepted after the vehicle was
    plugged in, StartTransaction goes out once, after Authorize, and the
    RemoteStartTransaction's TxProfile caps the power.
    """
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    payload = {"idTag": "TAG-1", "connectorId": 1, "chargingProfile": TX_PROFILE}
    assert rig.command("RemoteStartTransaction", payload) == {"status": "Accepted"}
    rig.station.plug_in(1)
    answer_authorize(rig, {"status": "Accepted"})
    [start] = rig.central.sent("StartTransaction")
    assert (start["connectorId"], start["idTag"]) == (1, "TAG-1")
    actions = rig.central.actions()
    assert actions.index("Authorize") < actions.index("StartTransaction")
    assert [
        e["csChargingProfiles"]["chargingProfileId"] for e in rig.station.profiles.profiles(1)
    ] == [7]
    assert rig.station.connectors[1].limit_w == 10000.0


def test_present_id_tag_during_remote_start_refused() -> None:
    """A driver's idTag on a connector held for a remote start is refused at once."""
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    with pytest.raises(LocalActionError, match="remote start"):
        rig.station.present_id_tag(1, "TAG-2")
    assert len(rig.central.pending) == 1


def test_reset_drops_pending_remote_start() -> None:
    """A Reset while a remote start is being authorized: the late answer starts nothing."""
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    rig.command("Reset", {"type": "Soft"})
    answer_authorize(rig, {"status": "Accepted"})
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].status == "Available"


# --- a late local authorization counts only if the connector still allows it -------------


def test_late_authorization_after_inoperative() -> None:
    """A connector made Inoperative while its idTag is authorized does not start charging."""
    rig = make_rig("CP1")
    rig.station.plug_in(1)
    rig.central.hold.add("Authorize")
    d = rig.station.present_id_tag(1, "TAG-1")
    reply = rig.command("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert reply == {"status": "Accepted"}
    answer_authorize(rig, {"status": "Accepted"})
    assert fired(d)["connector"]["transaction"] is None
    assert rig.central.sent("StartTransaction") == []
    assert rig.statuses(1)[-1] == "Unavailable"


def test_late_authorization_after_fault() -> None:
    """A fault raised while the idTag is authorized: nothing starts, the connector is Faulted."""
    rig = make_rig("CP1")
    rig.station.plug_in(1)
    rig.central.hold.add("Authorize")
    rig.station.present_id_tag(1, "TAG-1")
    rig.station.set_fault(1, "GroundFailure", None)
    answer_authorize(rig, {"status": "Accepted"})
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].status == "Faulted"


def test_late_authorization_reserved_for_other_tag() -> None:
    """
    A reservation for tag B made while tag A is authorized keeps A out: A
    is not left waiting for the vehicle, and B's reservation stays until B
    uses it (its StartTransaction carries the reservationId).
    """
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    rig.station.present_id_tag(1, "TAG-A")
    assert reserve(rig, 1, 42, "TAG-B") == "Accepted"
    answer_authorize(rig, {"status": "Accepted"})
    c = rig.station.connectors[1]
    assert c.waiting_tag is None and c.status == "Reserved"
    rig.station.plug_in(1)
    rig.clock.advance(0)
    assert rig.central.sent("StartTransaction") == []
    rig.central.hold.clear()
    rig.station.present_id_tag(1, "TAG-B")
    rig.clock.advance(0)
    [start] = rig.central.sent("StartTransaction")
    assert (start["idTag"], start["reservationId"]) == ("TAG-B", 42)


# --- parentIdTag of a reservation ---------------------------------------------------------


def test_reservation_parent_admits_local_tag() -> None:
    """
    An idTag other than the reserved one is authorized, and may use the
    reservation when its parentIdTag is the reservation's; its
    StartTransaction carries the reservationId.
    """
    rig = make_rig("CP1")
    fleet_authorize(rig, {"CARD-2": "FLEET"})
    assert reserve(rig, 1, 5, "CARD-1", parent="FLEET") == "Accepted"
    rig.station.plug_in(1)
    result = fired(rig.station.present_id_tag(1, "CARD-2"))
    assert result["status"] == "Accepted"
    [start] = rig.central.sent("StartTransaction")
    assert (start["idTag"], start["reservationId"]) == ("CARD-2", 5)
    assert rig.station.connectors[1].reservation is None


def test_reservation_parent_mismatch_refused() -> None:
    """
    An idTag whose parentIdTag differs (or is missing) starts nothing and
    leaves the reservation; without a parentIdTag on the reservation another
    idTag is refused before any Authorize.
    """
    rig = make_rig("CP2")
    fleet_authorize(rig, {"CARD-2": "OTHER"})
    assert reserve(rig, 1, 5, "CARD-1", parent="FLEET") == "Accepted"
    assert reserve(rig, 2, 6, "CARD-1") == "Accepted"
    rig.station.plug_in(1)
    for tag in ("CARD-2", "CARD-3"):
        assert fired(rig.station.present_id_tag(1, tag))["status"] == "Accepted"
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].reservation is not None
    rig.central.clear()
    with pytest.raises(LocalActionError, match="reserved"):
        rig.station.present_id_tag(2, "CARD-2")
    assert rig.central.calls == []


def test_reservation_parent_waiting_tag() -> None:
    """A same-parent idTag authorized before the vehicle comes uses the reservation on plug-in."""
    rig = make_rig("CP1")
    fleet_authorize(rig, {"CARD-2": "FLEET"})
    reserve(rig, 1, 5, "CARD-1", parent="FLEET")
    rig.station.present_id_tag(1, "CARD-2")
    assert rig.station.connectors[1].status == "Preparing"
    rig.station.plug_in(1)
    [start] = rig.central.sent("StartTransaction")
    assert (start["idTag"], start["reservationId"]) == ("CARD-2", 5)


@pytest.mark.parametrize(("parent", "starts"), [("FLEET", True), ("OTHER", False)])
def test_reservation_parent_remote_start(parent: str, starts: bool) -> None:
    """
    A RemoteStartTransaction for another idTag on a connector reserved with
    a parentIdTag is Accepted; the idTag is authorized even though
    AuthorizeRemoteTxRequests is false (CP2), to learn its parent, and it
    starts only when that parent matches; otherwise the connector is
    Reserved again.
    """
    rig = make_rig("CP2")
    fleet_authorize(rig, {"CARD-2": parent})
    reserve(rig, 1, 5, "CARD-1", parent="FLEET")
    reply = rig.command("RemoteStartTransaction", {"idTag": "CARD-2", "connectorId": 1})
    assert reply == {"status": "Accepted"}
    assert rig.central.sent("Authorize") == [{"idTag": "CARD-2"}]
    rig.clock.advance(DEMO_PLUG_IN)  # the example station's driver plugs in
    starts_sent = rig.central.sent("StartTransaction")
    if starts:
        assert [(s["idTag"], s["reservationId"]) for s in starts_sent] == [("CARD-2", 5)]
    else:
        assert starts_sent == []
        assert rig.statuses(1)[-2:] == ["Preparing", "Reserved"]


def test_remote_start_without_connector_prefers_own_reservation() -> None:
    """Without connectorId a remote start takes the connector reserved for its idTag."""
    rig = make_rig("CP3")
    reserve(rig, 2, 8, "R-TAG")
    assert rig.command("RemoteStartTransaction", {"idTag": "R-TAG"}) == {"status": "Accepted"}
    rig.clock.advance(DEMO_PLUG_IN)  # the example station's driver plugs in
    [start] = rig.central.sent("StartTransaction")
    assert (start["connectorId"], start["reservationId"]) == (2, 8)


# --- StartTransaction.conf not Accepted, StopTransactionOnInvalidId false ------------------


def test_invalid_start_without_stop_suspends() -> None:
    """
    With StopTransactionOnInvalidId false, a StartTransaction answered
    Blocked keeps the transaction but stops energy delivery: SuspendedEVSE,
    the register stands still (a charging profile does not lift it), and
    the driver's tag still ends it.
    """
    rig = make_rig("CP1")
    assert rig.station.keys.change("StopTransactionOnInvalidId", "false") == "Accepted"
    rig.central.answers["StartTransaction"] = lambda p: {
        "transactionId": 7,
        "idTagInfo": {"status": "Blocked"},
    }
    start_charging(rig, 1)
    c = rig.station.connectors[1]
    assert c.transaction is not None and c.transaction.deauthorized
    assert rig.statuses(1)[-1] == "SuspendedEVSE"
    rig.clock.advance(600)
    rig.station._limits_changed()
    assert c.register_wh == 0.0 and c.limit_w == 0.0
    assert c.status == "SuspendedEVSE"
    assert rig.central.sent("StopTransaction") == []
    rig.station.present_id_tag(1, "TAG-1")
    [stop] = rig.central.sent("StopTransaction")
    assert (stop["transactionId"], stop["reason"], stop["meterStop"]) == (7, "Local", 0)


def test_deauthorized_saved() -> None:
    """The deauthorized mark is saved with the transaction; older saves read as authorized."""
    tx = Transaction("L1", "TAG", 0, T0, transaction_id=7, deauthorized=True)
    assert Transaction.from_json(tx.to_json()) == tx
    old = {"localId": "L1", "idTag": "TAG", "meterStart": 0, "start": T0}
    assert Transaction.from_json(old).deauthorized is False


# --- connector timers ---------------------------------------------------------------------


def test_connector_timer_failure_logged(events: list[dict[str, Any]]) -> None:
    """
    A connector timer that raises (here the Finishing timeout) is logged as
    a failure instead of escaping into the reactor; the station goes on.
    """
    rig = make_rig("CP1")
    start_charging(rig, 1)

    def broken(c: object) -> None:
        raise RuntimeError("boom")

    rig.station._finished = broken  # type: ignore[method-assign]
    rig.station.present_id_tag(1, "TAG-1")  # stops: Finishing, timer armed
    rig.clock.advance(5)
    failures = [e for e in events if e.get("log_failure") is not None]
    assert [str(e["log_failure"].value) for e in failures] == ["boom"]
    assert failures[0]["name"] == "finishing" and failures[0]["connector"] == 1
    assert rig.station.connectors[1].timers == {}
    rig.station.unplug(1)
    assert rig.statuses(1)[-1] == "Available"


def test_connector_timers_survive_restart() -> None:
    """A reservation restored after a restart still expires through the connector timers."""
    rig = make_rig("CP1")
    reserve(rig, 1, 3, "R-TAG")
    again = restart_rig(rig)
    assert set(again.station.connectors[1].timers) == {"reservation"}
    again.clock.advance(600)
    assert again.statuses(1) == ["Reserved", "Available"]
