# -*- test-case-name: tests.emulator.test_stationconfig -*-
"""
Reading the fields of an emulated station's C{configuration.json}: JSON
values checked for type and range, made into connector specs, key entries,
the C{auto} settings and the C{Geo} object. Every problem is a
L{StationConfigError} naming the file and the field, as a JSON path like
C{"connectorId[1].voltage"}.

Used by L{ocppcs.emulator.stationconfig}, which puts a station's fields
together and re-exports L{AutoConfig}, L{KeyEntry} and L{StationConfigError}.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocppcs.emulator.keys import check_value
from ocppcs.emulator.spec import ConnectorSpec

# current type -> (interface, power W, phases, voltage V)
_DEFAULTS = {"AC": ("Type2", 22_000.0, 3, 230.0), "DC": ("CCS2", 50_000.0, 0, 400.0)}
_AUTO_FIELDS = ("enable", "seed", "idTags", "idleSeconds", "sessionSeconds")
_MAX_ID_TAG = 20

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


def read_json(file: Path) -> Any:
    """
    The JSON in C{file}.

    @raise StationConfigError: when it cannot be read, is not UTF-8 or not JSON.
    """
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


class FieldReader:
    """
    Typed access to the JSON of one file; every problem names the field.

    Each method raises L{StationConfigError} for a field that is wrong.

    @ivar file: the file read.
    """

    def __init__(self, file: Path) -> None:
        """
        @param file: the file whose fields are read (named in every error).
        """
        self.file = file

    def error(self, field: str, message: str) -> StationConfigError:
        """The error, to raise, that C{field} of the file is wrong: C{message}."""
        return StationConfigError(self.file, field, message)

    def typed(self, value: Any, field: str, kind: type | tuple[type, ...], name: str) -> Any:
        """
        C{value}, checked to be of C{kind} (a JSON C{true} is no number).

        @param name: the kind in words, for the error (C{"a number"}).
        """
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python, never in JSON.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(field, f"must be {name}, not {json.dumps(value)}")
        return value

    def number(self, obj: dict[str, Any], key: str, field: str, default: float) -> float:
        """
        C{obj[key]} (or C{default}) as a number greater than 0; C{meterValue}
        may be 0.
        """
        value = obj.get(key, default)
        number = float(self.typed(value, f"{field}.{key}", (int, float), "a number"))
        if key == "meterValue" and number < 0:
            raise self.error(f"{field}.{key}", "must not be negative")
        if key != "meterValue" and number <= 0:
            raise self.error(f"{field}.{key}", "must be greater than 0")
        return number

    def connector(self, entry: Any, field: str) -> ConnectorSpec:
        """One C{connectorId} entry (an id or an object), with defaults for its current."""
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
        """The C{connectorId} list, by id; the ids must be 1 to N."""
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

    def seconds(self, value: Any, field: str) -> float:
        """A finite number of seconds, not negative."""
        number = float(self.typed(value, field, (int, float), "a number of seconds"))
        if not 0 <= number < math.inf:
            raise self.error(field, "must be a number of seconds, at least 0")
        return number

    def pair(self, value: Any, field: str, positive: bool) -> tuple[float, float]:
        """
        A C{[min, max]} list of numbers, C{min} not negative (greater than 0
        when C{positive}) and not above C{max}.
        """
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
        """The C{auto} object; fields left out take L{AutoConfig}'s defaults."""
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
        """The C{Geo} object: C{latitude}, C{longitude} in range, C{location} text."""
        self.typed(value, "Geo", dict, "an object")
        for name, limit in (("latitude", 90), ("longitude", 180)):
            if name in value:
                number = self.typed(value[name], f"Geo.{name}", (int, float), "a number")
                if not -limit <= number <= limit:
                    raise self.error(f"Geo.{name}", f"must be between -{limit} and {limit}")
        if "location" in value:
            self.typed(value["location"], "Geo.location", str, "text")
        return dict(value)
