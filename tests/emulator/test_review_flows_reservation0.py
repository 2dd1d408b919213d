"""
Regression tests for reservations of connector 0 (OCPP 1.6 5.13,
C{ReserveConnectorZeroSupported}) in L{ocppcs.emulator.commands} and
L{ocppcs.emulator.authorization}: the station, not one connector, is
reserved; the reserved idTag may take any connector, and other idTags
only while a connector stays Available for it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ocppcs.emulator.charging import LocalActionError
from ocppcs.emulator.stationconfig import load_station
from ocppcs.isotime import iso_time
from tests.emulator.harness import CONF, T0, Rig, make_rig, restart_rig, start_charging


def zero_rig(folder: str = "CP2") -> Rig:
    """A station of C{conf/cp/<folder>} with ReserveConnectorZeroSupported true."""
    config = load_station(CONF / folder)
    keys = tuple(
        (key, readonly, "true" if key == "ReserveConnectorZeroSupported" else value)
        for key, readonly, value in config.keys
    )
    return make_rig(config=dataclasses.replace(config, keys=keys))


def reserve(
    rig: Rig,
    connector_id: int,
    reservation_id: int,
    id_tag: str,
    parent: str | None = None,
    seconds: float = 600,
) -> str:
    """Send ReserveNow (expiring after C{seconds}); return its status."""
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "expiryDate": iso_time(T0 + seconds),
        "idTag": id_tag,
        "reservationId": reservation_id,
    }
    if parent is not None:
        payload["parentIdTag"] = parent
    return str(rig.command("ReserveNow", payload)["status"])


def test_reserved_tag_takes_any_connector() -> None:
    """
    A reservation of connector 0 pins no connector (none reports Reserved);
    the reserved idTag charges on whichever it chooses, its StartTransaction
    carries the reservationId, and another driver may then use the rest.
    """
    rig = zero_rig()
    rig.central.clear()
    assert reserve(rig, 0, 1, "X") == "Accepted"
    assert "Reserved" not in rig.statuses()
    view = rig.station.snapshot()
    assert view["reservation"]["reservationId"] == 1 and view["reservation"]["idTag"] == "X"
    assert [c["reservation"] for c in view["connectors"]] == [None, None]
    start_charging(rig, 2, "X")
    [start] = rig.central.sent("StartTransaction")
    assert (start["connectorId"], start["reservationId"]) == (2, 1)
    assert rig.station.reservation0 is None
    assert rig.station.snapshot()["reservation"] is None
    start_charging(rig, 1, "Y")
    assert "reservationId" not in rig.central.sent("StartTransaction")[1]


def test_last_connector_kept_for_reserved_tag() -> None:
    """
    Another idTag may start while a second connector stays Available; on
    the last one it is refused, locally and by RemoteStartTransaction (with
    or without connectorId), and the reserved idTag still gets it.
    """
    rig = zero_rig()
    reserve(rig, 0, 1, "X")
    start_charging(rig, 1, "Y")
    assert "reservationId" not in rig.central.sent("StartTransaction")[0]
    rig.station.plug_in(2)  # plugging in is physical: always possible
    with pytest.raises(LocalActionError, match="station is reserved"):
        rig.station.present_id_tag(2, "Z")
    for payload in ({"idTag": "Z", "connectorId": 2}, {"idTag": "Z"}):
        assert rig.command("RemoteStartTransaction", payload) == {"status": "Rejected"}
    assert rig.command("RemoteStartTransaction", {"idTag": "X"}) == {"status": "Accepted"}
    start = rig.central.sent("StartTransaction")[-1]
    assert (start["connectorId"], start["idTag"], start["reservationId"]) == (2, "X", 1)


def test_late_authorization_respects_station_reservation() -> None:
    """
    An idTag authorized while the last other connector is taken does not
    start: the check is made again when the authorization comes back.
    """
    rig = zero_rig()
    reserve(rig, 0, 1, "X")
    rig.station.plug_in(1)
    rig.central.hold.add("Authorize")
    rig.station.present_id_tag(1, "Y")
    rig.station.plug_in(2)  # connector 2 is no longer Available
    [(_, _, d)] = rig.central.pending
    d.callback({"idTagInfo": {"status": "Accepted"}})
    rig.clock.advance(0)
    assert rig.central.sent("StartTransaction") == []


def test_parent_tag_uses_station_reservation() -> None:
    """An idTag with the reservation's parentIdTag may use a reservation of connector 0."""
    rig = zero_rig()
    parents = {"CARD-2": "FLEET", "Y": "PRIVATE"}
    rig.central.answers["Authorize"] = lambda p: {
        "idTagInfo": {"status": "Accepted", "parentIdTag": parents[p["idTag"]]}
    }
    reserve(rig, 0, 4, "CARD-1", parent="FLEET")
    start_charging(rig, 1, "Y")  # only connector 2 is left
    start_charging(rig, 2, "CARD-2")
    starts = rig.central.sent("StartTransaction")
    assert [s.get("reservationId") for s in starts] == [None, 4]


def test_station_reservation_expires() -> None:
    """At its expiryDate the reservation of connector 0 ends: the last connector is free again."""
    rig = zero_rig()
    reserve(rig, 0, 1, "X", seconds=60)
    start_charging(rig, 1, "Y")
    rig.station.plug_in(2)
    with pytest.raises(LocalActionError):
        rig.station.present_id_tag(2, "Z")
    rig.clock.advance(60)
    assert rig.station.reservation0 is None
    rig.station.present_id_tag(2, "Z")
    assert rig.central.sent("StartTransaction")[-1]["idTag"] == "Z"


def test_cancel_station_reservation() -> None:
    """CancelReservation of connector 0's reservation is Accepted once, then Rejected."""
    rig = zero_rig()
    reserve(rig, 0, 1, "X")
    assert rig.command("CancelReservation", {"reservationId": 1}) == {"status": "Accepted"}
    assert rig.station.reservation0 is None
    assert rig.command("CancelReservation", {"reservationId": 1}) == {"status": "Rejected"}
    assert "reservation0" not in rig.station.timers


def test_station_reservation_refusals() -> None:
    """
    ReserveNow for connector 0 is Rejected unless ReserveConnectorZeroSupported;
    Faulted or Unavailable when every connector is; Occupied when none is
    Available or another reservation of connector 0 is in force; the same
    reservationId replaces it.
    """
    assert reserve(make_rig("CP2"), 0, 1, "X") == "Rejected"
    rig = zero_rig()
    for c in (1, 2):
        rig.station.set_fault(c, "GroundFailure", None)
    assert reserve(rig, 0, 1, "X") == "Faulted"
    rig = zero_rig()
    rig.command("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert reserve(rig, 0, 1, "X") == "Unavailable"
    rig = zero_rig()
    start_charging(rig, 1)
    rig.station.set_fault(2, "GroundFailure", None)
    assert reserve(rig, 0, 1, "X") == "Occupied"
    rig = zero_rig()
    assert reserve(rig, 0, 1, "X") == "Accepted"
    assert reserve(rig, 0, 2, "Y") == "Occupied"
    assert reserve(rig, 0, 1, "Y") == "Accepted"
    assert rig.station.reservation0 is not None and rig.station.reservation0.id_tag == "Y"


def test_connector_reservation_keeps_one_for_station() -> None:
    """
    A reservation of a connector is Occupied when it would take the last
    connector Available for the station's reservation; the same
    reservationId moves between the station and a connector.
    """
    rig = zero_rig()
    reserve(rig, 0, 1, "X")
    assert reserve(rig, 1, 2, "Y") == "Accepted"
    assert reserve(rig, 2, 3, "Z") == "Occupied"
    assert reserve(rig, 2, 1, "X") == "Accepted"  # the station's reservation moves here
    assert rig.station.reservation0 is None
    assert rig.station.connectors[2].status == "Reserved"
    assert reserve(rig, 0, 1, "X") == "Accepted"  # and back to the station
    assert rig.station.connectors[2].reservation is None
    assert rig.statuses(2)[-1] == "Available"


def test_station_reservation_state_round_trip() -> None:
    """
    What L{reservation0_state} gives, L{restore_reservation0} takes back on
    another station: the same reservation, expiring at the same time.
    """
    rig = zero_rig()
    reserve(rig, 0, 1, "X", parent="FLEET")
    state = rig.station.reservation0_state()
    assert state == {"reservationId": 1, "idTag": "X", "parentIdTag": "FLEET", "expiry": T0 + 600}
    other = zero_rig()
    other.station.restore_reservation0(state)
    assert other.station.reservation0 == rig.station.reservation0
    other.clock.advance(600)
    assert other.station.reservation0 is None


def test_station_reservation_survives_restart() -> None:
    """A reservation of connector 0 is saved and in force again after a restart."""
    rig = zero_rig()
    reserve(rig, 0, 1, "X")
    again = restart_rig(rig)
    assert again.station.reservation0 is not None
    assert again.station.reservation0.reservation_id == 1
