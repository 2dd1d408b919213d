"""Tests for L{ocppcs.emulator.stationconfig}: reading conf/cp/*/configuration.json."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ocppcs.emulator.keys import ConfigurationKeys
from ocppcs.emulator.spec import ConnectorSpec
from ocppcs.emulator.stationconfig import (
    AutoConfig,
    StationConfigError,
    load_station,
    load_stations,
    station_url,
)
from ocppcs.ocppj.schemas import SchemaSet

SHIPPED = Path(__file__).resolve().parents[2] / "conf" / "cp"

GOOD: dict[str, Any] = {
    "connectorId": [
        {"id": 1, "voltage": "DC", "interface": "CCS2", "meterValue": 0},
        2,
    ],
    "configurationKey": [
        {"key": "CentralSystemURL", "readonly": False, "value": "ws://localhost:9220/ocpp"},
        {"key": "ChargePointVendor", "readonly": True, "value": "Emulator"},
        {"key": "ChargePointModel", "readonly": True, "value": "CP_EM"},
        {"key": "HeartbeatInterval", "readonly": False, "value": "60"},
    ],
}


def write(root: Path, name: str, data: Any, boot: Any = None) -> Path:
    """Write a station folder C{root/name}; C{data} may be raw text."""
    folder = root / name
    folder.mkdir(parents=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (folder / "configuration.json").write_text(text, encoding="utf-8")
    if boot is not None:
        boot_text = boot if isinstance(boot, str) else json.dumps(boot)
        (folder / "BootNotification.json").write_text(boot_text, encoding="utf-8")
    return folder


def changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """A copy of L{GOOD} with C{change} applied to it."""
    data = copy.deepcopy(GOOD)
    change(data)
    return data


def test_shipped_stations_load() -> None:
    """
    The four example stations load: EM-A0000001..4 with 1 to 4 connectors,
    AC and DC, different vendors, boot payloads valid for OCPP 1.6.
    """
    stations, errors = load_stations(SHIPPED)
    assert errors == []
    assert [s.identity for s in stations] == [f"EM-A000000{n}" for n in range(1, 5)]
    assert [len(s.connectors) for s in stations] == [1, 2, 3, 4]
    assert {c.current_type for s in stations for c in s.connectors} == {"AC", "DC"}
    assert len({s.boot["chargePointVendor"] for s in stations}) == 4
    schemas = SchemaSet()
    for station in stations:
        assert station.central_system_url == "ws://localhost:9220/ocpp"
        assert station.geo is not None
        schemas.validate_request("BootNotification", station.boot)
        keys = ConfigurationKeys(station.keys, len(station.connectors))
        assert keys.get_int("MeterValueSampleInterval", 0) == 60
        sampled = keys.get_list("MeterValuesSampledData")
        has_dc = any(c.current_type == "DC" for c in station.connectors)
        assert ("SoC" in sampled) == has_dc
        remote = keys.get_bool("AuthorizeRemoteTxRequests", True)
        assert remote == (station.identity not in ("EM-A0000002", "EM-A0000004"))
    cp1 = stations[0]
    assert cp1.connectors == (ConnectorSpec(1, "DC", "CCS2", 50_000.0, 0, 400.0, 0.0, 60.0),)
    assert cp1.boot == {
        "chargePointVendor": "Emulator",
        "chargePointModel": "CP_EM",
        "chargePointSerialNumber": "202206040001",
        "firmwareVersion": "1.0.0.1",
        "meterSerialNumber": "58000401",
    }
    autos = [s.auto for s in stations if s.auto is not None]
    assert len(autos) == 1 and autos[0].enable is False
    # the README's remote start charges: a demo driver plugs in by itself
    assert all(s.plug_in_on_remote_start == 3.0 for s in stations)


def test_defaults(tmp_path: Path) -> None:
    """
    A bare connector id is an AC Type2 connector of 22 kW on 3 phases at
    230 V; DC defaults to 50 kW at 400 V; the identity is the folder name;
    the boot payload has only the keys present; no Geo, no auto.
    """
    station = load_station(write(tmp_path, "CP9", GOOD))
    assert station.identity == "CP9"
    assert station.connectors == (
        ConnectorSpec(1, "DC", "CCS2", 50_000.0, 0, 400.0, 0.0, 60.0),
        ConnectorSpec(2, "AC", "Type2", 22_000.0, 3, 230.0, 0.0, 60.0),
    )
    assert station.boot == {"chargePointVendor": "Emulator", "chargePointModel": "CP_EM"}
    assert station.keys[0] == ("CentralSystemURL", False, "ws://localhost:9220/ocpp")
    assert station.geo is None and station.auto is None
    assert station.plug_in_on_remote_start is None


def test_connector_extras(tmp_path: Path) -> None:
    """power, phases, voltageLevel, meterValue and batteryCapacity are read; order is by id."""
    data = changed(
        lambda d: d.update(
            connectorId=[
                {"id": 2, "power": 7400, "phases": 1, "voltageLevel": 240, "batteryCapacity": 40.5},
                {"id": 1, "voltage": "DC", "interface": "CHAdeMO", "meterValue": 1234.5},
            ]
        )
    )
    station = load_station(write(tmp_path, "CP", data))
    assert station.connectors == (
        ConnectorSpec(1, "DC", "CHAdeMO", 50_000.0, 0, 400.0, 1234.5, 60.0),
        ConnectorSpec(2, "AC", "Type2", 7_400.0, 1, 240.0, 0.0, 40.5),
    )


def test_identity_key_and_geo(tmp_path: Path) -> None:
    """StationIdentity names the station; Geo is kept as given."""
    geo = {"latitude": 52.52, "longitude": 13.405, "location": "Berlin"}

    def change(d: dict[str, Any]) -> None:
        d["configurationKey"].append({"key": "StationIdentity", "value": "EM/1 x"})
        d["Geo"] = geo

    station = load_station(write(tmp_path, "CP", changed(change)))
    assert station.identity == "EM/1 x"
    assert station.geo == geo
    assert station.keys[-1] == ("StationIdentity", False, "EM/1 x")


def _key(key: str, value: Any, readonly: bool = False) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["configurationKey"].append(
        {"key": key, "readonly": readonly, "value": value}
    )


def _set_key(index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["configurationKey"][index].update(value=value)


BAD: list[tuple[Callable[[dict[str, Any]], Any], str, str]] = [
    (lambda d: d.pop("connectorId"), "connectorId", "required"),
    (lambda d: d.update(connectorId={}), "connectorId", "must be a list"),
    (lambda d: d.update(connectorId=[]), "connectorId", "at least one"),
    (lambda d: d["connectorId"].append("3"), "connectorId[2]", "a connector id or an object"),
    (lambda d: d["connectorId"].append(True), "connectorId[2]", "not true"),
    (lambda d: d["connectorId"].append({"voltage": "AC"}), "connectorId[2].id", "whole number"),
    (lambda d: d["connectorId"].append({"id": 0}), "connectorId[2].id", "1 or more"),
    (lambda d: d["connectorId"].append({"id": 1}), "connectorId[2].id", "connectorId[0]"),
    (lambda d: d["connectorId"].append(4), "connectorId", "without gaps"),
    (lambda d: d["connectorId"][0].update(voltage="HV"), "connectorId[0].voltage", '"AC" or "DC"'),
    (lambda d: d["connectorId"][0].update(phases=3), "connectorId[0].phases", "DC has no phases"),
    (lambda d: d["connectorId"].append({"id": 3, "phases": 2}), "connectorId[2].phases", "1 or 3"),
    (lambda d: d["connectorId"][0].update(power=-1), "connectorId[0].power", "greater than 0"),
    (lambda d: d["connectorId"][0].update(power="50kW"), "connectorId[0].power", "a number"),
    (lambda d: d["connectorId"][0].update(meterValue=-1), "connectorId[0].meterValue", "negative"),
    (lambda d: d["connectorId"][0].update(interface=""), "connectorId[0].interface", "empty"),
    (lambda d: d["connectorId"][0].update(interface=2), "connectorId[0].interface", "text"),
    (
        lambda d: d["connectorId"][0].update(batteryCapacity=0),
        "connectorId[0].batteryCapacity",
        "greater than 0",
    ),
    (lambda d: d.pop("configurationKey"), "configurationKey", "required"),
    (lambda d: d["configurationKey"].append("x"), "configurationKey[4]", "an object"),
    (lambda d: d["configurationKey"].append({"value": "1"}), "configurationKey[4].key", "text"),
    (_key("", "1"), "configurationKey[4].key", "1 to 50"),
    (_key("HeartbeatInterval", "1"), "configurationKey[4].key", "configurationKey[3]"),
    (_key("LocalPreAuthorize", "false", "no"), "configurationKey[4].readonly", "a boolean"),
    (_key("MeterType", 12), "configurationKey[4].value", "text"),
    (_set_key(3, "often"), "configurationKey[3].value", "HeartbeatInterval must be a whole"),
    (_key("MeterValuesSampledData", "SoC,Mood"), "configurationKey[4].value", "'Mood'"),
    (_key("NumberOfConnectors", "3", True), "configurationKey[4].value", "2 connectors"),
    (lambda d: d["configurationKey"].pop(0), "configurationKey", "CentralSystemURL key"),
    (_set_key(0, "http://localhost/ocpp"), "configurationKey[0].value", "ws:// or wss://"),
    (_key("StationIdentity", "x" * 49), "configurationKey[4].value", "1 to 48"),
    (lambda d: d["configurationKey"].pop(1), "configurationKey", "ChargePointVendor key"),
    (_set_key(2, "M" * 21), "configurationKey[2].value", "chargePointModel must be shorter"),
    (_key("MeterType", "T" * 26), "configurationKey[4].value", "BootNotification meterType"),
    (lambda d: d.update(OcppVersion="2.0.1"), "OcppVersion", "1.6"),
    (lambda d: d.update(Geo=[]), "Geo", "an object"),
    (lambda d: d.update(Geo={"latitude": 91}), "Geo.latitude", "between -90 and 90"),
    (lambda d: d.update(Geo={"longitude": "E"}), "Geo.longitude", "a number"),
    (lambda d: d.update(Geo={"location": 5}), "Geo.location", "text"),
    (lambda d: d.update(auto=True), "auto", "an object"),
    (lambda d: d.update(auto={"enable": "yes"}), "auto.enable", "a boolean"),
    (lambda d: d.update(auto={"seed": 1.5}), "auto.seed", "whole number"),
    (lambda d: d.update(auto={"seed": False}), "auto.seed", "whole number"),
    (lambda d: d.update(auto={"idTags": "A"}), "auto.idTags", "a list"),
    (lambda d: d.update(auto={"idTags": []}), "auto.idTags", "at least one"),
    (lambda d: d.update(auto={"idTags": ["A", ""]}), "auto.idTags[1]", "1 to 20"),
    (lambda d: d.update(auto={"idTags": ["T" * 21]}), "auto.idTags[0]", "1 to 20"),
    (lambda d: d.update(auto={"idTags": [7]}), "auto.idTags[0]", "text"),
    (lambda d: d.update(auto={"idleSeconds": [5]}), "auto.idleSeconds", "[min, max]"),
    (lambda d: d.update(auto={"idleSeconds": [-1, 5]}), "auto.idleSeconds[0]", "negative"),
    (lambda d: d.update(auto={"idleSeconds": [10, 5]}), "auto.idleSeconds[1]", "less than min"),
    (lambda d: d.update(auto={"idleSeconds": [1, "x"]}), "auto.idleSeconds[1]", "a number"),
    (lambda d: d.update(auto={"sessionSeconds": [0, 5]}), "auto.sessionSeconds[0]", "than 0"),
    (lambda d: d.update(auto={"idle": [1, 2]}), "auto.idle", "unknown field"),
    (lambda d: d.update(plugInOnRemoteStart="3"), "plugInOnRemoteStart", "seconds"),
    (lambda d: d.update(plugInOnRemoteStart=True), "plugInOnRemoteStart", "seconds"),
    (lambda d: d.update(plugInOnRemoteStart=-1), "plugInOnRemoteStart", "at least 0"),
    (lambda d: d.update(plugInOnRemoteStart=1e999), "plugInOnRemoteStart", "at least 0"),
]


@pytest.mark.parametrize("change, field, message", BAD)
def test_errors_name_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], field: str, message: str
) -> None:
    """
    Each problem is reported for the station's configuration.json with the
    JSON path of the field; the other stations still load.
    """
    write(tmp_path, "A-good", GOOD)
    bad = write(tmp_path, "B-bad", changed(change))
    write(tmp_path, "C-good", GOOD)  # identity = folder name, so no clash
    stations, errors = load_stations(tmp_path)
    assert [s.identity for s in stations] == ["A-good", "C-good"]
    assert len(errors) == 1
    error = errors[0]
    assert (error.file, error.field) == (bad / "configuration.json", field)
    assert message in error.message
    assert str(error) == f"{bad / 'configuration.json'}: {field}: {error.message}"


@pytest.mark.parametrize(
    "text, field",
    [
        ('{"connectorId": [1,]}', "line 1 column 20"),
        ("{\n  nope\n}", "line 2 column 3"),
        ("[1, 2]", "$"),
        (b"\xff\xfe".decode("latin-1"), "line 1 column 1"),
    ],
)
def test_bad_json(tmp_path: Path, text: str, field: str) -> None:
    """A file that is not a JSON object names where parsing stopped."""
    folder = write(tmp_path, "CP", text)
    with pytest.raises(StationConfigError) as info:
        load_station(folder)
    assert info.value.file == folder / "configuration.json"
    assert info.value.field == field


def test_not_utf8(tmp_path: Path) -> None:
    """A file that is not UTF-8 is reported for the whole file."""
    folder = write(tmp_path, "CP", "{}")
    (folder / "configuration.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(StationConfigError, match="not UTF-8") as info:
        load_station(folder)
    assert info.value.field == "$"


def test_folder_name_is_no_identity(tmp_path: Path) -> None:
    """Without StationIdentity, a folder name too long to be an identity is an error."""
    folder = write(tmp_path, "F" * 49, GOOD)
    with pytest.raises(StationConfigError, match="folder name") as info:
        load_station(folder)
    assert info.value.field == "configurationKey"


def test_duplicate_identity(tmp_path: Path) -> None:
    """Two folders with one identity: the first (by name) loads, the later one is the error."""
    same = changed(_key("StationIdentity", "EM-1"))
    write(tmp_path, "B", same)
    later = write(tmp_path, "C", same)
    write(tmp_path, "A", GOOD)
    stations, errors = load_stations(tmp_path)
    assert [(s.identity, s.folder.name) for s in stations] == [("A", "A"), ("EM-1", "B")]
    assert [(e.file, e.field) for e in errors] == [
        (later / "configuration.json", "StationIdentity")
    ]
    assert "EM-1" in errors[0].message and str(tmp_path / "B") in errors[0].message


def test_boot_notification_file(tmp_path: Path) -> None:
    """A BootNotification.json in the folder is the boot payload, instead of the keys."""
    boot = {"chargePointVendor": "Acme", "chargePointModel": "X1", "iccid": "8949"}
    station = load_station(write(tmp_path, "CP", GOOD, boot=boot))
    assert station.boot == boot


@pytest.mark.parametrize(
    "boot, field, message",
    [
        ({"chargePointModel": "X"}, "$", "chargePointVendor"),
        ({"chargePointVendor": "A", "chargePointModel": "X", "latitude": 1}, "$", "latitude"),
        ({"chargePointVendor": "V" * 21, "chargePointModel": "X"}, "chargePointVendor", "20"),
        ({"chargePointVendor": 1, "chargePointModel": "X"}, "chargePointVendor", "string"),
        ("[]", "$", "object"),
        ("{,}", "line 1 column 2", "property name"),
    ],
)
def test_bad_boot_notification_file(tmp_path: Path, boot: Any, field: str, message: str) -> None:
    """A BootNotification.json that breaks the 1.6 schema is an error naming that file and field."""
    folder = write(tmp_path, "CP", GOOD, boot=boot)
    write(tmp_path, "CQ", GOOD)
    stations, errors = load_stations(tmp_path)
    assert [s.identity for s in stations] == ["CQ"]
    assert [(e.file, e.field) for e in errors] == [(folder / "BootNotification.json", field)]
    assert message in errors[0].message


def test_auto(tmp_path: Path) -> None:
    """An auto object is read with defaults for what it leaves out (enabled by being there)."""
    station = load_station(write(tmp_path, "A", changed(lambda d: d.update(auto={}))))
    assert station.auto == AutoConfig(
        enable=True,
        seed=0,
        id_tags=("AUTO-0001",),
        idle_seconds=(60.0, 600.0),
        session_seconds=(300.0, 1800.0),
    )
    full = {
        "enable": False,
        "seed": 42,
        "idTags": ["T1", "T2"],
        "idleSeconds": [0, 5.5],
        "sessionSeconds": [10, 10],
    }
    station = load_station(write(tmp_path, "B", changed(lambda d: d.update(auto=full))))
    assert station.auto == AutoConfig(False, 42, ("T1", "T2"), (0.0, 5.5), (10.0, 10.0))


def test_plug_in_on_remote_start(tmp_path: Path) -> None:
    """C{plugInOnRemoteStart} is a number of seconds (0 allowed)."""
    for value in (0, 2.5):
        data = changed(lambda d, v=value: d.update(plugInOnRemoteStart=v))
        assert load_station(write(tmp_path, f"P{value}", data)).plug_in_on_remote_start == value


def test_stations_folder_problems(tmp_path: Path) -> None:
    """
    A missing stations folder is one error for it; subfolders without a
    configuration.json and plain files are skipped.
    """
    missing = tmp_path / "missing"
    stations, errors = load_stations(missing)
    assert stations == []
    assert [(e.file, e.field) for e in errors] == [(missing, "$")]
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    write(tmp_path, "CP", GOOD)
    stations, errors = load_stations(tmp_path)
    assert [s.identity for s in stations] == ["CP"] and errors == []
    stations, errors = load_stations(tmp_path / "notes.txt")
    assert stations == [] and len(errors) == 1


def test_station_url() -> None:
    """The identity is appended as one percent-encoded segment, with exactly one slash."""
    assert station_url("ws://localhost:9220/ocpp", "EM-A0000001") == (
        "ws://localhost:9220/ocpp/EM-A0000001"
    )
    assert station_url("ws://localhost:9220/ocpp/", "EM 1/ä") == (
        "ws://localhost:9220/ocpp/EM%201%2F%C3%A4"
    )
