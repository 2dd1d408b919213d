"""
Tests for L{ocppcs.emulator.commands}: RemoteStartTransaction,
RemoteStopTransaction, ReserveNow and CancelReservation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ocppcs.emulator.charging import LocalActionError
from ocppcs.emulator.stationconfig import load_station
from ocppcs.isotime import iso_time
from tests.emulator.harness import (
    CONF,
    DEMO_PLUG_IN,
    T0,
    TX_PROFILE,
    Rig,
    command_in_order,
    make_rig,
    start_charging,
)


def _power(rig: Rig, connector_id: int) -> float:
    """Power.Active.Import of the last MeterValues of the connector."""
    meter = [p for p in rig.central.sent("MeterValues") if p["connectorId"] == connector_id][-1]
    [value] = [
        v for v in meter["meterValue"][0]["sampledValue"] if v["measurand"] == "Power.Active.Import"
    ]
    return float(value["value"])


# --- RemoteStartTransaction -----------------------------------------------------------------


def test_remote_start_authorizes_then_starts() -> None:
    """
    With AuthorizeRemoteTxRequests true the reply goes first, then Preparing,
    Authorize for the idTag, and once the driver plugs in StartTransaction
    and Charging.
    """
    rig = make_rig("CP1")
    rig.central.clear()
    reply, order = command_in_order(
        rig, "RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1}
    )
    assert reply == {"status": "Accepted"}
    rig.station.plug_in(1)
    order += rig.central.actions()[len(order) - 1 :]
    assert order == [
        "RemoteStartTransaction.conf",
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "StatusNotification",
    ]
    assert rig.central.sent("Authorize") == [{"idTag": "TAG-1"}]
    [start] = rig.central.sent("StartTransaction")
    assert (start["connectorId"], start["idTag"]) == (1, "TAG-1")
    assert rig.statuses(1) == ["Preparing", "Charging"]


def test_remote_start_without_authorize() -> None:
    """CP2 has AuthorizeRemoteTxRequests false: it starts without sending Authorize."""
    rig = make_rig("CP2")
    rig.central.clear()
    reply = rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 2})
    assert reply == {"status": "Accepted"}
    rig.station.plug_in(2)
    assert "Authorize" not in rig.central.actions()
    assert rig.central.sent("StartTransaction")[0]["connectorId"] == 2


def test_remote_start_without_connector_picks_free_one() -> None:
    """Without connectorId the station starts on a free connector, preferring one with a vehicle."""
    rig = make_rig("CP3")
    rig.station.plug_in(2)
    rig.central.clear()
    assert rig.command("RemoteStartTransaction", {"idTag": "TAG-1"}) == {"status": "Accepted"}
    assert rig.central.sent("StartTransaction")[0]["connectorId"] == 2
    assert rig.command("RemoteStartTransaction", {"idTag": "TAG-2"}) == {"status": "Accepted"}
    rig.station.plug_in(1)
    assert rig.central.sent("StartTransaction")[1]["connectorId"] == 1


def _waiting_rig(folder: str = "CP1") -> Rig:
    """An example station without the demo driver: a remote start waits for a PlugIn."""
    config = dataclasses.replace(load_station(CONF / folder), plug_in_on_remote_start=None)
    return make_rig(config=config)


def test_remote_start_waits_for_the_vehicle() -> None:
    """
    A remote start on a connector without a vehicle is Preparing until the
    vehicle plugs in (within ConnectionTimeOut); then the transaction starts.
    """
    rig = _waiting_rig()
    rig.central.clear()
    reply = rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    assert reply == {"status": "Accepted"}
    timeout = rig.station.keys.get_int("ConnectionTimeOut", 0)
    assert timeout == 60
    rig.clock.advance(timeout - 1)
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].status == "Preparing"
    assert rig.station.connectors[1].transaction is None
    rig.station.plug_in(1)
    [start] = rig.central.sent("StartTransaction")
    assert (start["connectorId"], start["idTag"]) == (1, "TAG-1")
    assert rig.statuses(1) == ["Preparing", "Charging"]
    rig.clock.advance(2)  # the timeout does not undo it
    assert rig.station.connectors[1].status == "Charging"


def test_remote_start_without_vehicle_times_out() -> None:
    """
    No vehicle within ConnectionTimeOut: Available again, no transaction, the
    request's TxProfile dropped; a vehicle plugged in later starts nothing.
    """
    rig = _waiting_rig()
    rig.central.clear()
    payload = {"idTag": "TAG-1", "connectorId": 1, "chargingProfile": TX_PROFILE}
    assert rig.command("RemoteStartTransaction", payload) == {"status": "Accepted"}
    assert len(rig.station.profiles.profiles(1)) == 1
    rig.clock.advance(60)
    assert rig.statuses(1) == ["Preparing", "Available"]
    assert rig.station.connectors[1].transaction is None
    assert rig.station.profiles.profiles(1) == []
    rig.station.plug_in(1)
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].status == "Preparing"
    # and the connector takes the next remote start
    assert rig.command("RemoteStartTransaction", {"idTag": "TAG-2", "connectorId": 1}) == {
        "status": "Accepted"
    }
    assert rig.central.sent("StartTransaction")[0]["idTag"] == "TAG-2"


def test_demo_driver_plugs_in_after_its_delay() -> None:
    """The example stations' plugInOnRemoteStart: the vehicle comes after that many seconds."""
    rig = make_rig("CP1")
    assert rig.station.config.plug_in_on_remote_start == DEMO_PLUG_IN > 0
    rig.central.clear()
    rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    rig.clock.advance(DEMO_PLUG_IN - 0.1)
    assert not rig.station.connectors[1].plugged
    assert rig.central.sent("StartTransaction") == []
    rig.clock.advance(0.1)
    assert rig.station.connectors[1].plugged
    assert [s["idTag"] for s in rig.central.sent("StartTransaction")] == ["TAG-1"]
    assert rig.statuses(1) == ["Preparing", "Charging"]


def test_demo_driver_stays_away_when_not_waited_for() -> None:
    """A driver who plugged in already, or a remote start given up (Reset), is left alone."""
    rig = make_rig("CP2")
    rig.central.clear()
    rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    rig.station.plug_in(1)  # before the demo driver
    rig.command("RemoteStartTransaction", {"idTag": "TAG-2", "connectorId": 2})
    rig.command("Reset", {"type": "Soft"})
    rig.clock.advance(DEMO_PLUG_IN)
    assert [s["idTag"] for s in rig.central.sent("StartTransaction")] == ["TAG-1"]
    assert not rig.station.connectors[2].plugged


def test_remote_start_invalid_id_tag() -> None:
    """An idTag the central system finds Invalid starts nothing; the connector is Available."""
    rig = make_rig("CP1")
    rig.central.answers["Authorize"] = lambda p: {"idTagInfo": {"status": "Invalid"}}
    rig.central.clear()
    assert rig.command("RemoteStartTransaction", {"idTag": "BAD", "connectorId": 1}) == {
        "status": "Accepted"
    }
    assert rig.central.sent("StartTransaction") == []
    assert rig.statuses(1) == ["Preparing", "Available"]
    assert rig.station.connectors[1].transaction is None


@pytest.mark.parametrize("connector_id", [1, None])
def test_remote_start_busy_rejected(connector_id: int | None) -> None:
    """A connector that already charges (CP1's only one) is Rejected."""
    rig = make_rig("CP1")
    start_charging(rig)
    payload: dict[str, Any] = {"idTag": "TAG-2"}
    if connector_id is not None:
        payload["connectorId"] = connector_id
    assert rig.command("RemoteStartTransaction", payload) == {"status": "Rejected"}


def test_remote_start_pending_connector_rejected() -> None:
    """A second remote start while the first one waits for authorization is Rejected."""
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    reply = rig.command("RemoteStartTransaction", {"idTag": "TAG-2", "connectorId": 1})
    assert reply == {"status": "Rejected"}


@pytest.mark.parametrize("connector_id", [0, 2])
def test_remote_start_unknown_connector(connector_id: int) -> None:
    """Connector 0 or one the station lacks is Rejected."""
    rig = make_rig("CP1")
    reply = rig.command("RemoteStartTransaction", {"idTag": "T", "connectorId": connector_id})
    assert reply == {"status": "Rejected"}


def test_remote_start_connector_made_inoperative_while_authorizing() -> None:
    """A connector made Inoperative before the Authorize answer arrives does not start charging."""
    rig = make_rig("CP1")
    rig.central.hold.add("Authorize")
    rig.command("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    rig.command("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    [(_, _, d)] = rig.central.pending
    d.callback({"idTagInfo": {"status": "Accepted"}})
    assert rig.station.connectors[1].transaction is None
    assert rig.central.sent("StartTransaction") == []
    assert rig.station.connectors[1].status == "Unavailable"


def test_remote_start_profile_limits_power() -> None:
    """The TxProfile of a RemoteStartTransaction is installed and caps the transaction's power."""
    rig = make_rig("CP1")
    reply = rig.command(
        "RemoteStartTransaction",
        {"idTag": "TAG-1", "connectorId": 1, "chargingProfile": TX_PROFILE},
    )
    assert reply == {"status": "Accepted"}
    rig.station.plug_in(1)
    assert [
        e["csChargingProfiles"]["chargingProfileId"] for e in rig.station.profiles.profiles(1)
    ] == [7]
    rig.clock.advance(60)
    assert _power(rig, 1) == 10000.0


@pytest.mark.parametrize(
    "change",
    [{"chargingProfilePurpose": "TxDefaultProfile"}, {"transactionId": 5}, {"stackLevel": 99}],
)
def test_remote_start_bad_profile_rejected(change: dict[str, Any]) -> None:
    """A charging profile that is not a valid TxProfile without transactionId is Rejected."""
    rig = make_rig("CP1")
    rig.central.clear()
    payload = {"idTag": "T", "connectorId": 1, "chargingProfile": {**TX_PROFILE, **change}}
    assert rig.command("RemoteStartTransaction", payload) == {"status": "Rejected"}
    assert rig.central.calls == []


# --- RemoteStopTransaction ------------------------------------------------------------------


def test_remote_stop() -> None:
    """The right transactionId is Accepted, then StopTransaction goes out with reason Remote."""
    rig = make_rig("CP1")
    transaction_id = start_charging(rig)
    rig.central.clear()
    reply, order = command_in_order(rig, "RemoteStopTransaction", {"transactionId": transaction_id})
    assert reply == {"status": "Accepted"}
    assert order == ["RemoteStopTransaction.conf", "StopTransaction", "StatusNotification"]
    [stop] = rig.central.sent("StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, "Remote")
    assert rig.statuses(1) == ["Finishing"]


def test_remote_stop_wrong_id() -> None:
    """A transactionId the station doesn't run is Rejected; charging goes on."""
    rig = make_rig("CP1")
    transaction_id = start_charging(rig)
    reply = rig.command("RemoteStopTransaction", {"transactionId": transaction_id + 1})
    assert reply == {"status": "Rejected"}
    assert rig.central.sent("StopTransaction") == []
    assert rig.station.connectors[1].status == "Charging"


# --- ReserveNow / CancelReservation ---------------------------------------------------------


def _reserve(rig: Rig, connector_id: int, reservation_id: int = 1, id_tag: str = "R-TAG") -> str:
    payload = {
        "connectorId": connector_id,
        "expiryDate": iso_time(T0 + 600),
        "idTag": id_tag,
        "reservationId": reservation_id,
    }
    return str(rig.command("ReserveNow", payload)["status"])


def test_reserve_now_then_expiry() -> None:
    """An Accepted reservation makes the connector Reserved until its expiryDate, then Available."""
    rig = make_rig("CP2")
    rig.central.clear()
    assert _reserve(rig, 2) == "Accepted"
    assert rig.statuses(2) == ["Reserved"]
    rig.clock.advance(599)
    assert rig.statuses(2) == ["Reserved"]
    rig.clock.advance(1)
    assert rig.statuses(2) == ["Reserved", "Available"]


def test_reserve_now_refused_states() -> None:
    """A charging connector is Occupied, a faulted one Faulted, an inoperative one Unavailable."""
    rig = make_rig("CP3")
    start_charging(rig, 1)
    rig.station.set_fault(2, "GroundFailure", None)
    rig.command("ChangeAvailability", {"connectorId": 3, "type": "Inoperative"})
    assert [_reserve(rig, i, reservation_id=i) for i in (1, 2, 3)] == [
        "Occupied",
        "Faulted",
        "Unavailable",
    ]
    assert all(c.reservation is None for c in rig.station.connectors.values())


def test_reserve_now_vehicle_plugged_is_occupied() -> None:
    """A connector with a vehicle plugged in (Preparing) is Occupied."""
    rig = make_rig("CP1")
    rig.station.plug_in(1)
    assert _reserve(rig, 1) == "Occupied"


@pytest.mark.parametrize("connector_id", [0, 5])
def test_reserve_now_rejected(connector_id: int) -> None:
    """Connector 0 (ReserveConnectorZeroSupported false) and an unknown connector are Rejected."""
    rig = make_rig("CP1")
    assert _reserve(rig, connector_id) == "Rejected"


def test_reserved_tag_remote_start_uses_reservation() -> None:
    """
    A remote start for another idTag is Rejected on the reserved connector;
    one for the reserved idTag consumes the reservation and its
    StartTransaction carries the reservationId.
    """
    rig = make_rig("CP1")
    _reserve(rig, 1, reservation_id=42, id_tag="R-TAG")
    assert rig.command("RemoteStartTransaction", {"idTag": "OTHER", "connectorId": 1}) == {
        "status": "Rejected"
    }
    assert rig.command("RemoteStartTransaction", {"idTag": "OTHER"}) == {"status": "Rejected"}
    with pytest.raises(LocalActionError):
        rig.station.present_id_tag(1, "OTHER")
    assert rig.command("RemoteStartTransaction", {"idTag": "R-TAG"}) == {"status": "Accepted"}
    rig.station.plug_in(1)
    [start] = rig.central.sent("StartTransaction")
    assert (start["idTag"], start["reservationId"]) == ("R-TAG", 42)
    assert rig.station.connectors[1].reservation is None
    rig.clock.advance(700)
    assert rig.station.connectors[1].status == "Charging"


def test_reserve_now_same_id_replaces() -> None:
    """A ReserveNow with an existing reservation's id replaces it, even on another connector."""
    rig = make_rig("CP2")
    _reserve(rig, 1, reservation_id=9, id_tag="A")
    assert _reserve(rig, 1, reservation_id=9, id_tag="B") == "Accepted"
    assert rig.station.connectors[1].reservation.id_tag == "B"  # type: ignore[union-attr]
    assert _reserve(rig, 2, reservation_id=9, id_tag="B") == "Accepted"
    assert rig.station.connectors[1].reservation is None
    assert rig.statuses(1)[-1] == "Available"
    assert rig.statuses(2)[-1] == "Reserved"


def test_reserve_now_refused_keeps_existing_reservation() -> None:
    """A ReserveNow that is refused leaves the reservation with the same id in place."""
    rig = make_rig("CP2")
    _reserve(rig, 1, reservation_id=9)
    rig.station.set_fault(2, "GroundFailure", None)
    assert _reserve(rig, 2, reservation_id=9) == "Faulted"
    assert rig.station.connectors[1].reservation is not None
    assert rig.station.connectors[1].status == "Reserved"


def test_reservation_survives_restart() -> None:
    """A reservation is saved, restored Reserved after a restart, and still expires on time."""
    rig = make_rig("CP1")
    _reserve(rig, 1)
    again = make_rig("CP1", store=rig.store, clock=rig.clock)
    assert again.statuses(1) == ["Reserved"]
    again.clock.advance(600)
    assert again.statuses(1) == ["Reserved", "Available"]


def test_cancel_reservation() -> None:
    """CancelReservation of a known id is Accepted and frees the connector; else Rejected."""
    rig = make_rig("CP1")
    _reserve(rig, 1, reservation_id=3)
    rig.central.clear()
    reply, order = command_in_order(rig, "CancelReservation", {"reservationId": 3})
    assert reply == {"status": "Accepted"}
    assert order == ["CancelReservation.conf", "StatusNotification"]
    assert rig.statuses(1) == ["Available"]
    assert rig.command("CancelReservation", {"reservationId": 3}) == {"status": "Rejected"}
    rig.clock.advance(700)
    assert rig.statuses(1) == ["Available"]
