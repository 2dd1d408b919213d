# -*- test-case-name: tests.emulator.test_stationconfig -*-
"""
Emulated stations' configuration: C{<path>/<folder>/configuration.json}, one
folder per station, in the original's format (ocpp-cs C{conf/cp/CP1}):
C{connectorId} (a list), C{configurationKey} (a list of C{{key, readonly,
value}}), optional C{Geo} (C{{latitude, longitude, location}}) and our optional
C{auto} (C{{enable, seed, idTags, idleSeconds: [min, max], sessionSeconds:
[min, max]}}: the station plugs in vehicles by itself).

C{connectorId} entries are ids (1..N) or objects with an C{id} and optionally::

    voltage          "AC" (default) or "DC"
    interface        the plug; default Type2 (AC) or CCS2 (DC)
    meterValue       the energy register of a new station, Wh (default 0)
    power            W; default 22000 (AC) or 50000 (DC)
    phases           AC: 1 or 3 (default 3); DC: 0
    voltageLevel     V; default 230 (AC, phase to neutral) or 400 (DC)
    batteryCapacity  kWh of the vehicles that plug in; default 60

Keys: C{CentralSystemURL} (ws:// or wss://) is required; C{StationIdentity}
names the station (default: the folder name). The BootNotification request is
the folder's C{BootNotification.json} when there is one, else it is made of
the keys ChargePointVendor and ChargePointModel (both required),
ChargePointSerialNumber, ChargePointSoftwareVersion (firmwareVersion),
PowermeterSerialNumber (meterSerialNumber) and MeterType. Unlike the
original, no extension fields are added: the 1.6 schema forbids them.
Every problem is a L{StationConfigError} naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ocppcs.emulator.keys import check_identity, check_value
from ocppcs.emulator.spec import ConnectorSpec
from ocppcs.ocppj.schemas import SchemaSet, SchemaViolation

CONFIGURATION = "configuration.json"
BOOT_NOTIFICATION = "BootNotification.json"

# BootNotification field -> the key it is made from.
_BOOT_KEYS = {
    "chargePointVendor": "ChargePointVendor",
    "chargePointModel": "ChargePointModel",
    "chargePointSerialNumber": "ChargePointSerialNumber",
    "firmwareVersion": "ChargePointSoftwareVersion",
    "meterSerialNumber": "PowermeterSerialNumber",
    "meterType": "MeterType",
}
# current type -> (interface, power W, phases, voltage V)
_DEFAULTS = {"AC": ("Type2", 22_000.0, 3, 230.0), "DC": ("CCS2", 50_000.0, 0, 400.0)}
_AUTO_FIELDS = ("enable", "seed", "idTags", "idleSeconds", "sessionSeconds")
_MAX_ID_TAG = 20

_schemas = SchemaSet()

#: A C{configurationKey} entry: C{(key, readonly, value)}.
KeyEntry = tuple[str, bool, str]


@dataclass(frozen=True)
class AutoConfig:
    """
    Automatic sessions: the station plugs in vehicles by itself.

    @ivar enable: whether sessions start on their own.
    @ivar seed: the random seed, so a run can be repeated.
    @ivar id_tags: the id tags the vehicles present.
    @ivar idle_seconds: C{(min, max)} seconds a connector stays free.
    @ivar session_seconds: C{(min, max)} seconds a vehicle stays plugged in.
    """

    enable: bool = True
    seed: int = 0
    id_tags: tuple[str, ...] = ("AUTO-0001",)
    idle_seconds: tuple[float, float] = (60.0, 600.0)
    session_seconds: tuple[float, float] = (300.0, 1800.0)


@dataclass(frozen=True)
class StationConfig:
    """
    One emulated station, as its folder describes it.

    @ivar identity: the station identity (the last segment of its URL).
    @ivar folder: the station's folder.
    @ivar connectors: the connectors, by id (1..N).
    @ivar keys: the C{(key, readonly, value)} entries of the file, in order.
    @ivar central_system_url: the C{CentralSystemURL} key.
    @ivar boot: the BootNotification request payload.
    @ivar geo: the C{Geo} object, or C{None}.
    @ivar auto: the C{auto} object, or C{None}.
    """

    identity: str
    folder: Path
    connectors: tuple[ConnectorSpec, ...]
    keys: tuple[KeyEntry, ...]
    central_system_url: str
    boot: dict[str, Any]
    geo: dict[str, Any] | None = None
    auto: AutoConfig | None = None


class StationConfigError(Exception):
    """
    A problem with a station's files.

    @ivar file: the file (or folder) with the problem.
    @ivar field: where in it, as a JSON path like C{"connectorId[1].voltage"};
        C{"$"} for the whole file.
    @ivar message: what is wrong.
    """

    def __init__(self, file: Path, field: str, message: str) -> None:
        self.file = file
        self.field = field
        self.message = message
        super().__init__(f"{file}: {field}: {message}")


def station_url(base: str, identity: str) -> str:
    """
    The URL a station connects to: C{base}, a slash, then the identity
    percent-encoded as one path segment.
    """
    return base.rstrip("/") + "/" + quote(identity, safe="")


def _read_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise StationConfigError(file, "$", f"cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise StationConfigError(file, "$", "not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StationConfigError(file, f"line {e.lineno} column {e.colno}", e.msg) from None


class _Reader:
    """Typed access to the JSON of one file; every problem names the field."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def error(self, field: str, message: str) -> StationConfigError:
        return StationConfigError(self.file, field, message)

    def typed(self, value: Any, field: str, kind: type | tuple[type, ...], name: str) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python, never in JSON.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(field, f"must be {name}, not {json.dumps(value)}")
        return value

    def number(self, obj: dict[str, Any], key: str, field: str, default: float) -> float:
        value = obj.get(key, default)
        number = float(self.typed(value, f"{field}.{key}", (int, float), "a number"))
        if key == "meterValue" and number < 0:
            raise self.error(f"{field}.{key}", "must not be negative")
        if key != "meterValue" and number <= 0:
            raise self.error(f"{field}.{key}", "must be greater than 0")
        return number

    def connector(self, entry: Any, field: str) -> ConnectorSpec:
        if not isinstance(entry, dict):
            self.typed(entry, field, int, "a connector id or an object")
            entry = {"id": entry}
        cid = self.typed(entry.get("id"), f"{field}.id", int, "a whole number")
        if cid < 1:
            raise self.error(f"{field}.id", "must be 1 or more")
        current = entry.get("voltage", "AC")
        if current not in _DEFAULTS:
            raise self.error(f"{field}.voltage", f'must be "AC" or "DC", not {json.dumps(current)}')
        interface, power, phases, volts = _DEFAULTS[current]
        interface = self.typed(entry.get("interface", interface), f"{field}.interface", str, "text")
        if not interface:
            raise self.error(f"{field}.interface", "must not be empty")
        phases = self.typed(entry.get("phases", phases), f"{field}.phases", int, "a whole number")
        if phases not in ((1, 3) if current == "AC" else (0,)):
            allowed = "1 or 3" if current == "AC" else "0 (DC has no phases)"
            raise self.error(f"{field}.phases", f"must be {allowed}")
        return ConnectorSpec(
            id=cid,
            current_type=current,
            interface=interface,
            max_power_w=self.number(entry, "power", field, power),
            phases=phases,
            voltage_v=self.number(entry, "voltageLevel", field, volts),
            meter_start_wh=self.number(entry, "meterValue", field, 0.0),
            battery_kwh=self.number(entry, "batteryCapacity", field, 60.0),
        )

    def connectors(self, data: dict[str, Any]) -> tuple[ConnectorSpec, ...]:
        if "connectorId" not in data:
            raise self.error("connectorId", "a list of connectors is required")
        entries = self.typed(data["connectorId"], "connectorId", list, "a list")
        if not entries:
            raise self.error("connectorId", "at least one connector is required")
        seen: dict[int, int] = {}
        specs = []
        for i, entry in enumerate(entries):
            spec = self.connector(entry, f"connectorId[{i}]")
            if spec.id in seen:
                raise self.error(
                    f"connectorId[{i}].id",
                    f"id {spec.id} is used by connectorId[{seen[spec.id]}] too",
                )
            seen[spec.id] = i
            specs.append(spec)
        specs.sort(key=lambda s: s.id)
        if [s.id for s in specs] != list(range(1, len(specs) + 1)):
            raise self.error("connectorId", f"the ids must be 1 to {len(specs)}, without gaps")
        return tuple(specs)

    def keys(self, data: dict[str, Any]) -> tuple[tuple[KeyEntry, ...], dict[str, int]]:
        """The key entries, and each key's index in the list."""
        if "configurationKey" not in data:
            raise self.error("configurationKey", "a list of keys is required")
        entries = self.typed(data.get("configurationKey"), "configurationKey", list, "a list")
        keys = []
        where: dict[str, int] = {}
        for i, entry in enumerate(entries):
            field = f"configurationKey[{i}]"
            self.typed(entry, field, dict, "an object")
            key = self.typed(entry.get("key"), f"{field}.key", str, "text")
            if not 1 <= len(key) <= 50:
                raise self.error(f"{field}.key", "must have 1 to 50 characters")
            if key in where:
                raise self.error(f"{field}.key", f"{key} is in configurationKey[{where[key]}] too")
            readonly = self.typed(
                entry.get("readonly", False), f"{field}.readonly", bool, "a boolean"
            )
            value = self.typed(entry.get("value", ""), f"{field}.value", str, "text")
            problem = check_value(key, value)
            if problem:
                raise self.error(f"{field}.value", f"{key} {problem}")
            where[key] = i
            keys.append((key, readonly, value))
        return tuple(keys), where

    def pair(self, value: Any, field: str, positive: bool) -> tuple[float, float]:
        self.typed(value, field, list, "a list [min, max]")
        if len(value) != 2:
            raise self.error(field, "must be a list [min, max]")
        low, high = (
            float(self.typed(v, f"{field}[{i}]", (int, float), "a number"))
            for i, v in enumerate(value)
        )
        if low < 0 or (positive and low == 0):
            raise self.error(
                f"{field}[0]", "must be greater than 0" if positive else "must not be negative"
            )
        if high < low:
            raise self.error(f"{field}[1]", "must not be less than min")
        return low, high

    def auto(self, value: Any) -> AutoConfig:
        self.typed(value, "auto", dict, "an object")
        for name in value:
            if name not in _AUTO_FIELDS:
                raise self.error(
                    f"auto.{name}", f"unknown field (known: {', '.join(_AUTO_FIELDS)})"
                )
        default = AutoConfig()
        tags = self.typed(value.get("idTags", list(default.id_tags)), "auto.idTags", list, "a list")
        if not tags:
            raise self.error("auto.idTags", "at least one id tag is needed")
        for i, tag in enumerate(tags):
            self.typed(tag, f"auto.idTags[{i}]", str, "text")
            if not 1 <= len(tag) <= _MAX_ID_TAG:
                raise self.error(f"auto.idTags[{i}]", f"must have 1 to {_MAX_ID_TAG} characters")
        return AutoConfig(
            enable=self.typed(value.get("enable", True), "auto.enable", bool, "a boolean"),
            seed=self.typed(value.get("seed", 0), "auto.seed", int, "a whole number"),
            id_tags=tuple(tags),
            idle_seconds=self.pair(
                value.get("idleSeconds", list(default.idle_seconds)), "auto.idleSeconds", False
            ),
            session_seconds=self.pair(
                value.get("sessionSeconds", list(default.session_seconds)),
                "auto.sessionSeconds",
                True,
            ),
        )

    def geo(self, value: Any) -> dict[str, Any]:
        self.typed(value, "Geo", dict, "an object")
        for name, limit in (("latitude", 90), ("longitude", 180)):
            if name in value:
                number = self.typed(value[name], f"Geo.{name}", (int, float), "a number")
                if not -limit <= number <= limit:
                    raise self.error(f"Geo.{name}", f"must be between -{limit} and {limit}")
        if "location" in value:
            self.typed(value["location"], "Geo.location", str, "text")
        return dict(value)


def _boot_from_keys(
    reader: _Reader, keys: tuple[KeyEntry, ...], where: dict[str, int]
) -> dict[str, Any]:
    boot: dict[str, Any] = {}
    for field, key in _BOOT_KEYS.items():
        if key in where:
            boot[field] = keys[where[key]][2]
        elif field in ("chargePointVendor", "chargePointModel"):
            raise reader.error(
                "configurationKey", f"the {key} key is required (BootNotification {field})"
            )
    try:
        _schemas.validate_request("BootNotification", boot)
    except SchemaViolation as e:
        field = e.path.removeprefix("$.")
        key = _BOOT_KEYS.get(field, field)
        raise reader.error(
            f"configurationKey[{where[key]}].value" if key in where else "configurationKey",
            f"{key} is sent as BootNotification {field}: {e.description}",
        ) from None
    return boot


def _boot_from_file(file: Path) -> dict[str, Any]:
    boot = _read_json(file)
    try:
        _schemas.validate_request("BootNotification", boot)
    except SchemaViolation as e:
        raise StationConfigError(file, e.path.removeprefix("$."), e.description) from None
    return dict(boot)


def load_station(folder: Path) -> StationConfig:
    """
    Read one station's folder.

    @raise StationConfigError: when a file is missing, unreadable or wrong.
    """
    file = folder / CONFIGURATION
    reader = _Reader(file)
    data = _read_json(file)
    reader.typed(data, "$", dict, "an object")
    if data.get("OcppVersion", "1.6") != "1.6":
        raise reader.error("OcppVersion", "only OCPP 1.6 stations are emulated")
    connectors = reader.connectors(data)
    keys, where = reader.keys(data)
    values = {key: value for key, _, value in keys}
    count = values.get("NumberOfConnectors")
    if count is not None and int(count) != len(connectors):
        raise reader.error(
            f"configurationKey[{where['NumberOfConnectors']}].value",
            f"NumberOfConnectors is {count} but there are {len(connectors)} connectors",
        )
    url = values.get("CentralSystemURL")
    if url is None:
        raise reader.error("configurationKey", "the CentralSystemURL key is required")
    identity = values.get("StationIdentity")
    if identity is None:
        problem = check_identity(folder.name)
        if problem:
            raise reader.error(
                "configurationKey",
                f"no StationIdentity key, and the folder name {folder.name!r} "
                f"is no identity: {problem}",
            )
        identity = folder.name
    boot_file = folder / BOOT_NOTIFICATION
    boot = (
        _boot_from_file(boot_file) if boot_file.exists() else _boot_from_keys(reader, keys, where)
    )
    return StationConfig(
        identity=identity,
        folder=folder,
        connectors=connectors,
        keys=keys,
        central_system_url=url,
        boot=boot,
        geo=reader.geo(data["Geo"]) if "Geo" in data else None,
        auto=reader.auto(data["auto"]) if "auto" in data else None,
    )


def load_stations(path: Path) -> tuple[list[StationConfig], list[StationConfigError]]:
    """
    Read every station folder in C{path}: each subfolder with a
    C{configuration.json}, by name. A station with a problem is left out
    and its error returned; the others still load. A station whose identity
    an earlier folder already has is such a problem.

    @return: the stations, and the errors (one for C{path} itself when it
        can't be listed).
    """
    try:
        folders = sorted(p for p in path.iterdir() if (p / CONFIGURATION).is_file())
    except OSError as e:
        return [], [StationConfigError(path, "$", f"cannot list the station folders: {e.strerror}")]
    stations: list[StationConfig] = []
    errors: list[StationConfigError] = []
    owners: dict[str, Path] = {}
    for folder in folders:
        try:
            station = load_station(folder)
        except StationConfigError as e:
            errors.append(e)
            continue
        if station.identity in owners:
            errors.append(
                StationConfigError(
                    folder / CONFIGURATION,
                    "StationIdentity",
                    f"identity {station.identity!r} is already used by {owners[station.identity]}",
                )
            )
            continue
        owners[station.identity] = folder
        stations.append(station)
    return stations, errors
