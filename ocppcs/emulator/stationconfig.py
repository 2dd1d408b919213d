# -*- test-case-name: tests.emulator.test_stationconfig -*-
"""
Emulated stations' configuration: C{<path>/<folder>/configuration.json}, one
folder per station, in the original's format (ocpp-cs C{conf/cp/CP1}):
C{connectorId} (a list), C{configurationKey} (a list of C{{key, readonly,
value}}), optional C{Geo} (C{{latitude, longitude, location}}) and our optional
C{auto} (C{{enable, seed, idTags, idleSeconds: [min, max], sessionSeconds:
[min, max]}}: the station plugs in vehicles by itself) and C{plugInOnRemoteStart}
(seconds: after an accepted RemoteStartTransaction on a connector without a
vehicle, a demo driver plugs one in after that long; without it the connector
waits for a PlugIn until C{ConnectionTimeOut}, as a real station does).
C{protocol} picks the transport: C{"ocpp1.6j"} (OCPP-J 1.6 over WebSocket,
the default), C{"ocpp1.6s"} or C{"ocpp1.5s"} (OCPP-S 1.6 or 1.5, SOAP 1.2 over
HTTP: the station posts to the central system service and serves its own
Charge Point service on 127.0.0.1:C{soapPort}, 0 or absent: any free port).

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
The fields are read by L{ocppcs.emulator.stationfields}, which also defines
L{AutoConfig}, L{KeyEntry} and L{StationConfigError} (all importable here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ocppcs.emulator.keys import check_identity
from ocppcs.emulator.spec import ConnectorSpec
from ocppcs.emulator.stationfields import (
    AutoConfig,
    FieldReader,
    KeyEntry,
    StationConfigError,
    read_json,
)
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

_schemas = SchemaSet()


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
    @ivar plug_in_on_remote_start: C{plugInOnRemoteStart}: seconds after a
        remote start until a vehicle is plugged in by itself, or C{None} (never).
    @ivar protocol: C{ocpp1.6j}, C{ocpp1.6s} or C{ocpp1.5s}.
    @ivar soap_port: the loopback port of an OCPP-S station's own service (0: any).
    """

    identity: str
    folder: Path
    connectors: tuple[ConnectorSpec, ...]
    keys: tuple[KeyEntry, ...]
    central_system_url: str
    boot: dict[str, Any]
    geo: dict[str, Any] | None = None
    auto: AutoConfig | None = None
    plug_in_on_remote_start: float | None = None
    protocol: str = "ocpp1.6j"
    soap_port: int = 0


#: The C{protocol} setting -> the OCPP version it speaks.
PROTOCOLS = {"ocpp1.6j": "1.6", "ocpp1.6s": "1.6", "ocpp1.5s": "1.5"}


def station_url(base: str, identity: str) -> str:
    """
    The URL a station connects to: C{base}, a slash, then the identity
    percent-encoded as one path segment.
    """
    return base.rstrip("/") + "/" + quote(identity, safe="")


def soap_url(url: str) -> str:
    """
    The central system service URL for a central system URL: a SOAP one as
    it is; C{ws://H/ocpp} (as ocppcs serves) becomes C{http://H/Ocpp}.
    """
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme)
    if scheme is None:
        return url
    path = "/Ocpp" if parts.path.rstrip("/") in ("", "/ocpp") else parts.path
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def _boot_from_keys(
    reader: FieldReader, keys: tuple[KeyEntry, ...], where: dict[str, int]
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
    boot = read_json(file)
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
    reader = FieldReader(file)
    data = read_json(file)
    reader.typed(data, "$", dict, "an object")
    protocol = reader.typed(data.get("protocol", "ocpp1.6j"), "protocol", str, "a string")
    if protocol not in PROTOCOLS:
        raise reader.error("protocol", f"must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    if data.get("OcppVersion", PROTOCOLS[protocol]) != PROTOCOLS[protocol]:
        raise reader.error(
            "OcppVersion", f"protocol {protocol} is OCPP {PROTOCOLS[protocol]} (1.5 only over SOAP)"
        )
    soap_port = reader.typed(data.get("soapPort", 0), "soapPort", int, "a port number")
    if not 0 <= soap_port <= 65535:
        raise reader.error("soapPort", "must be a port number, 0 to 65535")
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
        plug_in_on_remote_start=(
            reader.seconds(data["plugInOnRemoteStart"], "plugInOnRemoteStart")
            if "plugInOnRemoteStart" in data
            else None
        ),
        protocol=protocol,
        soap_port=soap_port,
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
