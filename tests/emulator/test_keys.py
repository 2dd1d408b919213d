"""Tests for L{ocppcs.emulator.keys}: an emulated station's OCPP 1.6 configuration keys."""

from __future__ import annotations

import pytest

from ocppcs.emulator.keys import (
    KNOWN_KEYS,
    ConfigurationKeys,
    check_identity,
    check_value,
    check_ws_url,
)
from ocppcs.ocppj.schemas import SchemaSet

FILE = [
    ("CentralSystemURL", False, "ws://localhost:9220/ocpp"),
    ("StationIdentity", False, "EM-A0000001"),
    ("ChargePointVendor", True, "Emulator"),
    ("PowerConsumptionTimeout", False, "5"),
    ("HeartbeatInterval", False, "600"),
    ("ConnectionTimeOut", True, "60"),
    ("ReserveConnectorZeroSupported", False, "true"),
]


def make(overrides: dict[str, str] | None = None, connectors: int = 2) -> ConfigurationKeys:
    return ConfigurationKeys(FILE, connectors, overrides)


def test_file_values_and_defaults() -> None:
    """
    The file's keys come first with their values; every standard key the file
    leaves out follows with its default; NumberOfConnectors is the count.
    """
    keys = make()
    names = list(keys.all())
    assert names[: len(FILE)] == [key for key, _, _ in FILE]
    assert keys.get("HeartbeatInterval") == "600"
    assert keys.get("MeterValueSampleInterval") == "60"
    assert keys.get("MeterValuesSampledData") == "Energy.Active.Import.Register"
    assert keys.get("StopTxnSampledData") == ""
    assert keys.get("SupportedFeatureProfiles") == (
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
    )
    assert keys.get("FinishingTimeout") == "5"
    assert keys.get("StartTransactionStatus") == "Charging"
    assert keys.get("NumberOfConnectors") == "2"
    assert keys.get("LightIntensity") is None  # optional, no default
    assert keys.get("Nonsense") is None
    for name, spec in KNOWN_KEYS.items():
        if spec.default is not None:
            assert name in names


def test_readonly() -> None:
    """
    Keys the specification makes read-only stay read-only whatever the file
    says; the file can make other keys read-only; free keys are as the file says.
    """
    keys = make()
    assert keys.is_readonly("ReserveConnectorZeroSupported")  # file said false
    assert keys.is_readonly("NumberOfConnectors")
    assert keys.is_readonly("SupportedFeatureProfiles")
    assert keys.is_readonly("LocalAuthListMaxLength")
    assert keys.is_readonly("ConnectionTimeOut")  # file said true
    assert keys.is_readonly("ChargePointVendor")
    assert not keys.is_readonly("PowerConsumptionTimeout")
    assert not keys.is_readonly("HeartbeatInterval")
    assert not keys.is_readonly("Nonsense")


def test_typed_getters() -> None:
    """get_int, get_bool and get_list read the text, falling back to the default."""
    keys = make()
    assert keys.get_int("HeartbeatInterval", 1) == 600
    assert keys.get_int("Nonsense", 7) == 7
    assert keys.get_int("StationIdentity", 7) == 7
    assert keys.get_bool("ReserveConnectorZeroSupported", False) is True
    assert keys.get_bool("AllowOfflineTxForUnknownId", True) is False
    assert keys.get_bool("Nonsense", True) is True
    assert keys.get_bool("HeartbeatInterval", True) is True
    assert keys.get_list("ChargingScheduleAllowedChargingRateUnit") == ["Current", "Power"]
    assert keys.get_list("StopTxnSampledData") == []
    assert keys.get_list("Nonsense") == []


def test_change_accepted() -> None:
    """A writable key with a fitting value is Accepted, stored and normalized."""
    keys = make()
    assert keys.change("HeartbeatInterval", "030") == "Accepted"
    assert keys.get("HeartbeatInterval") == "30"
    assert keys.change("AuthorizeRemoteTxRequests", "FALSE") == "Accepted"
    assert keys.get("AuthorizeRemoteTxRequests") == "false"
    assert keys.change("MeterValuesSampledData", "Energy.Active.Import.Register, SoC") == "Accepted"
    assert keys.get_list("MeterValuesSampledData") == ["Energy.Active.Import.Register", "SoC"]
    assert keys.get("MeterValuesSampledData") == "Energy.Active.Import.Register,SoC"
    assert keys.change("StartTransactionStatus", "SuspendedEV") == "Accepted"
    assert keys.change("PowerConsumptionTimeout", "anything at all") == "Accepted"
    assert keys.change("ConnectorPhaseRotation", "0.RST,1.RTS") == "Accepted"


def test_change_reboot_required() -> None:
    """
    Keys only used when connecting answer RebootRequired; the value is stored
    all the same.
    """
    keys = make()
    assert keys.change("CentralSystemURL", "wss://cs.example.com/ocpp") == "RebootRequired"
    assert keys.get("CentralSystemURL") == "wss://cs.example.com/ocpp"
    assert keys.change("StationIdentity", "EM-B1") == "Rejected"  # the state is kept under it
    assert keys.change("WebSocketPingInterval", "0") == "RebootRequired"
    assert keys.get("WebSocketPingInterval") == "0"


def test_change_not_supported() -> None:
    """An unknown key is NotSupported and does not appear."""
    keys = make()
    assert keys.change("Nonsense", "1") == "NotSupported"
    assert keys.get("Nonsense") is None
    # Known to the table but absent from this station (no default).
    assert keys.change("LightIntensity", "50") == "NotSupported"
    assert "Nonsense" not in keys.overrides()


@pytest.mark.parametrize(
    "key, value",
    [
        ("NumberOfConnectors", "3"),
        ("SupportedFeatureProfiles", "Core"),
        ("ChargePointVendor", "Other"),
        ("ConnectionTimeOut", "30"),
        ("HeartbeatInterval", "soon"),
        ("HeartbeatInterval", "-1"),
        ("HeartbeatInterval", "1.5"),
        ("HeartbeatInterval", "86401"),
        ("ResetRetries", "101"),
        ("AuthorizeRemoteTxRequests", "yes"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Colour"),
        ("StartTransactionStatus", "Finishing"),
        ("CentralSystemURL", "http://localhost:9220/ocpp"),
        ("CentralSystemURL", "ws://"),
        ("StationIdentity", ""),
        ("StationIdentity", "x" * 49),
        ("StationIdentity", "tab\there"),
        ("ConnectorPhaseRotation", "0.ABC"),
        ("PowerConsumptionTimeout", "x" * 501),
    ],
)
def test_change_rejected(key: str, value: str) -> None:
    """A read-only key, or a value that doesn't fit the key, is Rejected and not stored."""
    keys = make()
    before = keys.get(key)
    assert keys.change(key, value) == "Rejected"
    assert keys.get(key) == before
    assert keys.overrides() == {}


def test_csl_max_length() -> None:
    """A list longer than the key's *MaxLength companion is Rejected."""
    keys = ConfigurationKeys([("MeterValuesSampledDataMaxLength", True, "2")], 1)
    assert keys.change("MeterValuesSampledData", "Voltage,SoC") == "Accepted"
    assert keys.change("MeterValuesSampledData", "Voltage,SoC,Current.Import") == "Rejected"
    assert keys.change("StopTxnSampledData", "Voltage,SoC,Current.Import") == "Accepted"


def test_bad_file_entries() -> None:
    """A file value that doesn't fit its key, or a key given twice, is a ValueError."""
    with pytest.raises(ValueError, match="HeartbeatInterval"):
        ConfigurationKeys([("HeartbeatInterval", False, "often")], 1)
    with pytest.raises(ValueError, match="twice"):
        ConfigurationKeys([("A", False, "1"), ("A", False, "2")], 1)


def test_overrides_round_trip() -> None:
    """
    overrides() lists every stored change; a new station built with them has
    the same values, and overrides that no longer fit are left out and named.
    """
    keys = make()
    keys.change("HeartbeatInterval", "45")
    keys.change("CentralSystemURL", "ws://other:9220/ocpp")
    keys.change("PowerConsumptionTimeout", "9")
    keys.change("ConnectionTimeOut", "1")  # read-only: not stored
    saved = keys.overrides()
    assert saved == {
        "HeartbeatInterval": "45",
        "CentralSystemURL": "ws://other:9220/ocpp",
        "PowerConsumptionTimeout": "9",
    }
    again = make(saved)
    assert again.all() == keys.all()
    assert again.overrides() == saved
    assert again.ignored_overrides == ()

    stale = make(
        {"HeartbeatInterval": "x", "Gone": "1", "NumberOfConnectors": "9", "ResetRetries": "2"}
    )
    assert stale.ignored_overrides == ("HeartbeatInterval", "Gone", "NumberOfConnectors")
    assert stale.get("HeartbeatInterval") == "600"
    assert stale.get("NumberOfConnectors") == "2"
    assert stale.overrides() == {"ResetRetries": "2"}


def test_configuration_all() -> None:
    """None or an empty list asks for every key, in order, with no unknownKey."""
    keys = make()
    for asked in (None, []):
        payload = keys.configuration(asked)
        assert set(payload) == {"configurationKey"}
        entries = payload["configurationKey"]
        assert [e["key"] for e in entries] == list(keys.all())
        assert entries[0] == {
            "key": "CentralSystemURL",
            "readonly": False,
            "value": "ws://localhost:9220/ocpp",
        }
        SchemaSet().validate_response("GetConfiguration", payload)


def test_configuration_some() -> None:
    """
    Asked-for keys come back in the order asked (once each); unknown ones
    are listed in unknownKey, which is left out when there are none.
    """
    keys = make()
    payload = keys.configuration(["NumberOfConnectors", "Nope", "HeartbeatInterval", "Nope"])
    assert payload == {
        "configurationKey": [
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            {"key": "HeartbeatInterval", "readonly": False, "value": "600"},
        ],
        "unknownKey": ["Nope"],
    }
    SchemaSet().validate_response("GetConfiguration", payload)
    known = keys.configuration(["ChargePointVendor"])
    assert known == {
        "configurationKey": [{"key": "ChargePointVendor", "readonly": True, "value": "Emulator"}]
    }
    assert keys.configuration(["Nope"]) == {"configurationKey": [], "unknownKey": ["Nope"]}
    SchemaSet().validate_response("GetConfiguration", keys.configuration(["Nope"]))


def test_long_values_fit_the_schema() -> None:
    """A 500-character value (the most allowed) still validates."""
    keys = make()
    assert keys.change("PowerConsumptionTimeout", "x" * 500) == "Accepted"
    SchemaSet().validate_response("GetConfiguration", keys.configuration(None))


def test_checks() -> None:
    """The URL, identity and value checks say what is wrong, or None."""
    assert check_ws_url("ws://localhost:9220/ocpp") is None
    assert check_ws_url("wss://[::1]:9221/") is None
    assert check_ws_url("https://localhost") is not None
    assert check_ws_url("ws://[::1/x") is not None
    assert check_identity("EM-A0000001") is None
    assert check_identity("a/b c") is None
    assert check_identity("") is not None
    assert check_identity("\x00") is not None
    assert check_value("HeartbeatInterval", "60") is None
    assert check_value("HeartbeatInterval", "x") == "must be a whole number"
    assert check_value("SomethingFree", "x") is None
    assert "Colour" in (check_value("StopTxnSampledData", "Colour") or "")


def test_measurands_the_meter_does_not_measure_are_rejected() -> None:
    """A measurand valid in OCPP 1.6 but not emulated (Frequency) is Rejected in every *Data key."""
    keys = make()
    for key in ("MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData"):
        assert keys.change(key, "Energy.Active.Import.Register,Frequency") == "Rejected"
        assert keys.change(key, "Energy.Active.Import.Register,SoC") == "Accepted"
