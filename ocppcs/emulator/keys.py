# -*- test-case-name: tests.emulator.test_keys -*-
"""
The OCPP 1.6 configuration keys of an emulated station (OCPP 1.6 section 9),
as GetConfiguration reads them and ChangeConfiguration changes them.

A station starts from the C{configurationKey} entries of its
C{configuration.json}; every key of L{KNOWN_KEYS} with a default that the
file leaves out is added; then the values changed earlier by
ChangeConfiguration (kept by the emulator across restarts) are applied.

ChangeConfiguration answers, in this order of checks::

    NotSupported    the key is neither in the file nor in KNOWN_KEYS
    Rejected        the key is read-only, or the value does not fit the key
                    (type, range, allowed values, at most 500 characters;
                    measurands the emulated meter doesn't measure)
    RebootRequired  the key is only used when the station connects:
                    CentralSystemURL, WebSocketPingInterval
    Accepted        anything else; the new value is used from now on

The value is stored for Accepted and RebootRequired (so GetConfiguration
shows it and L{ConfigurationKeys.overrides} lists it), never otherwise.

A key the OCPP specification makes read-only (R in section 9, e.g.
NumberOfConnectors) stays read-only whatever the file says, and so does
StationIdentity (the station's state is kept under it); the file may make
any other key read-only. Keys the file has that L{KNOWN_KEYS} doesn't know
(e.g. ChargePointVendor) are free text keys, read-only as the file says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ocppcs.emulator.physics import SUPPORTED_MEASURANDS

KeyType = Literal["int", "bool", "csl", "string"]

#: The longest value GetConfiguration.conf and ChangeConfiguration.req allow.
MAX_VALUE = 500
#: The longest key name they allow.
MAX_KEY = 50
#: The longest station identity (chargeBoxIdentity is CiString48 in OCPP 1.6 SOAP).
MAX_IDENTITY = 48

#: The 1.6 Measurand values (MeterValues.json), the items of the *Data keys.
MEASURANDS = frozenset(
    """
    Energy.Active.Export.Register Energy.Active.Import.Register Energy.Reactive.Export.Register
    Energy.Reactive.Import.Register Energy.Active.Export.Interval Energy.Active.Import.Interval
    Energy.Reactive.Export.Interval Energy.Reactive.Import.Interval Power.Active.Export
    Power.Active.Import Power.Offered Power.Reactive.Export Power.Reactive.Import Power.Factor
    Current.Import Current.Export Current.Offered Voltage Frequency Temperature SoC RPM
    """.split()
)
#: The 1.6 feature profiles, the items of SupportedFeatureProfiles.
FEATURE_PROFILES = frozenset(
    ("Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation")
    + ("SmartCharging", "RemoteTrigger")
)
_PHASE_ROTATION = re.compile(r"(\d+\.)?(NotApplicable|Unknown|RST|RTS|SRT|STR|TRS|TSR)")
_INT = re.compile(r"-?\d+")


def check_ws_url(value: str) -> str | None:
    """
    Check a central system URL.

    @return: C{None} when C{value} is a C{ws://} or C{wss://} URL with a host,
        else what is wrong with it.
    """
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as e:
        return f"not a URL: {e}"
    if parts.scheme not in ("ws", "wss") or not host:
        return "must be a ws:// or wss:// URL"
    return None


def check_identity(value: str) -> str | None:
    """
    Check a station identity.

    @return: C{None} when C{value} has 1 to 48 printable characters, else
        what is wrong with it.
    """
    if not 1 <= len(value) <= MAX_IDENTITY:
        return f"must have 1 to {MAX_IDENTITY} characters"
    if not value.isprintable():
        return "must have printable characters only"
    return None


def _check_phase_rotation(item: str) -> str | None:
    if _PHASE_ROTATION.fullmatch(item):
        return None
    return f"{item!r} is not a phase rotation like 0.RST, 1.Unknown or NotApplicable"


@dataclass(frozen=True)
class KeySpec:
    """
    What a standard key holds.

    @ivar type: C{"int"}, C{"bool"}, C{"csl"} (comma separated list) or C{"string"}.
    @ivar readonly: read-only in the OCPP specification; such a key stays
        read-only whatever the station's file says.
    @ivar default: the value of a station whose file leaves the key out;
        C{None} = the key is then absent.
    @ivar reboot: a change only takes effect on the next connection.
    @ivar minimum: the least value of an C{int} key.
    @ivar maximum: the largest value of an C{int} key.
    @ivar allowed: the allowed values of a C{string} key, or items of a C{csl} key.
    @ivar check: a further check of a C{string} value or C{csl} item,
        returning what is wrong or C{None}.
    """

    type: KeyType
    readonly: bool = False
    default: str | None = None
    reboot: bool = False
    minimum: int | None = None
    maximum: int | None = None
    allowed: frozenset[str] | None = None
    check: Callable[[str], str | None] | None = None


_DAY = 86400


def _int(default: int | None, lo: int = 0, hi: int | None = _DAY, **kw: Any) -> KeySpec:
    text = None if default is None else str(default)
    return KeySpec("int", default=text, minimum=lo, maximum=hi, **kw)


def _bool(default: bool | None, **kw: Any) -> KeySpec:
    text = None if default is None else ("true" if default else "false")
    return KeySpec("bool", default=text, **kw)


def _measurands(default: str) -> KeySpec:
    # Only what the emulated meter measures: a measurand it can't report is
    # Rejected (OCPP 1.6 9.1), not accepted and then sent as nothing.
    return KeySpec("csl", default=default, allowed=SUPPORTED_MEASURANDS)


_RO = {"readonly": True}

KNOWN_KEYS: Mapping[str, KeySpec] = {
    # Core
    "AllowOfflineTxForUnknownId": _bool(False),
    "AuthorizationCacheEnabled": _bool(True),
    "AuthorizeRemoteTxRequests": _bool(True),
    "BlinkRepeat": _int(None, hi=1000),
    "ClockAlignedDataInterval": _int(0),
    "ConnectionTimeOut": _int(60),
    "ConnectorPhaseRotation": KeySpec("csl", default="Unknown", check=_check_phase_rotation),
    "GetConfigurationMaxKeys": _int(100, lo=1, hi=None, **_RO),
    "HeartbeatInterval": _int(60),
    "LightIntensity": _int(None, hi=100),
    "LocalAuthorizeOffline": _bool(True),
    "LocalPreAuthorize": _bool(False),
    "MaxEnergyOnInvalidId": _int(None, hi=None),
    "MeterValuesAlignedData": _measurands("Energy.Active.Import.Register"),
    "MeterValuesAlignedDataMaxLength": _int(None, hi=None, **_RO),
    "MeterValuesSampledData": _measurands("Energy.Active.Import.Register"),
    "MeterValuesSampledDataMaxLength": _int(None, hi=None, **_RO),
    "MeterValueSampleInterval": _int(60),
    "MinimumStatusDuration": _int(None),
    "NumberOfConnectors": _int(None, lo=1, hi=None, **_RO),
    "ResetRetries": _int(1, hi=100),
    "StopTransactionOnEVSideDisconnect": _bool(True),
    "StopTransactionOnInvalidId": _bool(True),
    "StopTxnAlignedData": _measurands(""),
    "StopTxnAlignedDataMaxLength": _int(None, hi=None, **_RO),
    "StopTxnSampledData": _measurands(""),
    "StopTxnSampledDataMaxLength": _int(None, hi=None, **_RO),
    "SupportedFeatureProfiles": KeySpec(
        "csl",
        readonly=True,
        default="Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
        "SmartCharging,RemoteTrigger",
        allowed=FEATURE_PROFILES,
    ),
    "TransactionMessageAttempts": _int(3, hi=100),
    "TransactionMessageRetryInterval": _int(60),
    "UnlockConnectorOnEVSideDisconnect": _bool(True),
    "WebSocketPingInterval": _int(30, reboot=True),
    # Local Auth List Management
    "LocalAuthListEnabled": _bool(True),
    "LocalAuthListMaxLength": _int(1000, hi=None, **_RO),
    "SendLocalListMaxLength": _int(100, hi=None, **_RO),
    # Reservation
    "ReserveConnectorZeroSupported": _bool(False, **_RO),
    # Smart Charging
    "ChargeProfileMaxStackLevel": _int(8, hi=None, **_RO),
    "ChargingScheduleAllowedChargingRateUnit": KeySpec(
        "csl", readonly=True, default="Current,Power", allowed=frozenset({"Current", "Power"})
    ),
    "ChargingScheduleMaxPeriods": _int(48, lo=1, hi=None, **_RO),
    "ConnectorSwitch3to1PhaseSupported": _bool(None, **_RO),
    "MaxChargingProfilesInstalled": _int(20, lo=1, hi=None, **_RO),
    # The OCPP 1.6 security whitepaper (edition 3)'s
    "CpoName": KeySpec("string", default=""),
    "SecurityProfile": _int(0, hi=3),
    "AuthorizationKey": KeySpec("string", default=""),
    "CertificateStoreMaxLength": _int(10, hi=None, **_RO),
    # The emulator's own (as the original's conf/cp files)
    "CentralSystemURL": KeySpec("string", reboot=True, check=check_ws_url),
    "StationIdentity": KeySpec("string", readonly=True, check=check_identity),
    # Seconds a connector stays Finishing after the EV leaves, then Available.
    "FinishingTimeout": _int(5),
    # The status a connector takes after an accepted StartTransaction.
    "StartTransactionStatus": KeySpec(
        "string",
        default="Charging",
        allowed=frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"}),
    ),
}


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def normalize_value(key: str, value: str) -> str:
    """
    The value as stored: C{"true"}/C{"false"} for booleans, a plain number
    for integers, list items without spaces; anything else unchanged.

    @param value: a value L{check_value} accepts.
    """
    spec = KNOWN_KEYS.get(key)
    if spec is None or spec.type == "string":
        return value
    if spec.type == "bool":
        return value.strip().lower()
    if spec.type == "int":
        return str(int(value.strip()))
    return ",".join(_items(value))


def check_value(key: str, value: str) -> str | None:
    """
    Check a value for C{key} (any text fits a key L{KNOWN_KEYS} doesn't know).

    @return: C{None} when it fits, else what is wrong with it.
    """
    if len(value) > MAX_VALUE:
        return f"must have at most {MAX_VALUE} characters"
    spec = KNOWN_KEYS.get(key)
    if spec is None:
        return None
    if spec.type == "bool":
        if value.strip().lower() not in ("true", "false"):
            return "must be true or false"
    elif spec.type == "int":
        if not _INT.fullmatch(value.strip()):
            return "must be a whole number"
        number = int(value)
        if spec.minimum is not None and number < spec.minimum:
            return f"must be at least {spec.minimum}"
        if spec.maximum is not None and number > spec.maximum:
            return f"must be at most {spec.maximum}"
    else:
        items = _items(value) if spec.type == "csl" else [value]
        for item in items:
            if spec.allowed is not None and item not in spec.allowed:
                return f"{item!r} is not one of {', '.join(sorted(spec.allowed))}"
            problem = spec.check(item) if spec.check else None
            if problem:
                return problem
    return None


class ConfigurationKeys:
    """
    The configuration keys of one station.

    @param entries: C{(key, readonly, value)} from the station's file.
    @param connectors: the number of connectors (NumberOfConnectors).
    @param overrides: values changed earlier by ChangeConfiguration, applied on
        top; one that no longer fits (the key is gone, read-only or the value
        invalid) is left out and named in L{ignored_overrides}.
    @raise ValueError: when an entry's value does not fit its key, or a key
        appears twice.

    @ivar ignored_overrides: the keys of C{overrides} that were left out.
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, bool, str]],
        connectors: int,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._values: dict[str, str] = {}
        self._readonly: dict[str, bool] = {}
        self._changed: dict[str, str] = {}
        for key, readonly, value in entries:
            if key in self._values:
                raise ValueError(f"{key}: the key appears twice")
            problem = check_value(key, value)
            if problem:
                raise ValueError(f"{key}: {problem}")
            spec = KNOWN_KEYS.get(key)
            self._values[key] = normalize_value(key, value)
            self._readonly[key] = readonly or (spec is not None and spec.readonly)
        for key, spec in KNOWN_KEYS.items():
            default = str(connectors) if key == "NumberOfConnectors" else spec.default
            if key not in self._values and default is not None:
                self._values[key] = default
                self._readonly[key] = spec.readonly
        self._values["NumberOfConnectors"] = str(connectors)  # a fact, not a setting
        ignored = []
        for key, value in (overrides or {}).items():
            if self.change(key, value) in ("NotSupported", "Rejected"):
                ignored.append(key)
        self.ignored_overrides: tuple[str, ...] = tuple(ignored)

    def get(self, key: str) -> str | None:
        """The value of C{key}, or C{None} when the station has no such key."""
        return self._values.get(key)

    def get_int(self, key: str, default: int) -> int:
        """The whole number C{key} holds, or C{default} when absent or not a number."""
        value = self._values.get(key, "").strip()
        return int(value) if _INT.fullmatch(value) else default

    def get_bool(self, key: str, default: bool) -> bool:
        """Whether C{key} is C{"true"}, or C{default} when absent or not a boolean."""
        value = self._values.get(key, "").strip().lower()
        if value in ("true", "false"):
            return value == "true"
        return default

    def get_list(self, key: str) -> list[str]:
        """The items of the comma separated list C{key} holds (none when absent)."""
        return _items(self._values.get(key, ""))

    def is_readonly(self, key: str) -> bool:
        """Whether ChangeConfiguration may not change C{key} (C{False} for an absent key)."""
        return self._readonly.get(key, False)

    def change(self, key: str, value: str) -> str:
        """
        Change a key as ChangeConfiguration asks.

        @return: the ChangeConfiguration.conf status (see the module docstring).
        """
        if key not in self._values:
            return "NotSupported"
        if self._readonly[key] or check_value(key, value) is not None:
            return "Rejected"
        spec = KNOWN_KEYS.get(key)
        if spec is not None and spec.type == "csl":
            limit = self.get_int(key + "MaxLength", 0)
            if limit and len(_items(value)) > limit:
                return "Rejected"
        value = normalize_value(key, value)
        self._values[key] = value
        self._changed[key] = value
        return "RebootRequired" if spec is not None and spec.reboot else "Accepted"

    def configuration(self, keys: Sequence[str] | None) -> dict[str, Any]:
        """
        The GetConfiguration.conf payload.

        @param keys: the keys asked for; C{None} or empty = all of them.
        @return: C{{"configurationKey": [{key, readonly, value}, ...]}}, plus
            C{"unknownKey": [...]} when some asked-for keys don't exist.
        """
        names = list(dict.fromkeys(keys)) if keys else list(self._values)
        known = [
            {"key": k, "readonly": self._readonly[k], "value": self._values[k]}
            for k in names
            if k in self._values
        ]
        payload: dict[str, Any] = {"configurationKey": known}
        unknown = [k for k in names if k not in self._values]
        if unknown:
            payload["unknownKey"] = unknown
        return payload

    def overrides(self) -> dict[str, str]:
        """Every value stored by L{change} (including applied overrides), to keep."""
        return dict(self._changed)

    def all(self) -> dict[str, str]:
        """Every key and its value, in GetConfiguration order."""
        return dict(self._values)
