"""
The OCPP 1.5 <-> 1.6 mappings of both services, both ways (the station's
end of the central system service, L{cs15}, against the central system's,
L{v15}), each result checked by lxml against the official WSDL's own schema
(for a 1.5 message) or the official 1.6 JSON schema (for a 1.6 payload).
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.soap import codec, cp15, cs15, v15
from ocppcs.soap.wsdl import service
from tests.soap.cpserver import FILES, WSDL_DIR, wsdl_schema

SCHEMAS = SchemaSet()


def valid_15(kind: str, element: str, data: dict[str, Any]) -> None:
    """C{data} as the 1.5 element, valid for the official 1.5 WSDL."""
    node = codec.encode(service(kind, "1.5"), element, data)
    wsdl_schema("1.5", kind).assertValid(etree.ElementTree(node))


METER_16 = [
    {
        "timestamp": "2030-01-01T00:00:00Z",
        "sampledValue": [
            {"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
            {"value": "230", "measurand": "Voltage", "unit": "V", "context": "Trigger"},
            {"value": "55", "measurand": "SoC", "unit": "Percent", "location": "EV"},
        ],
    },
    {
        "timestamp": "2030-01-01T00:01:00Z",
        "sampledValue": [{"value": "80", "measurand": "SoC", "unit": "Percent"}],
    },
]
VALUES_15 = [
    {
        "timestamp": "2030-01-01T00:00:00Z",
        "value": [
            {"_text": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"_text": "16.0", "measurand": "Current.Import", "unit": "Amp"},
            {"_text": "230", "measurand": "Voltage", "unit": "Volt"},
        ],
    }
]


# --- charge point service ------------------------------------------------------------------------


def test_cp_send_local_list() -> None:
    """localAuthorizationList is localAuthorisationList in 1.5; HashError is Failed in 1.6."""
    payload = {
        "listVersion": 2,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "T1", "idTagInfo": {"status": "Accepted"}}],
    }
    out = cp15.request_to_15("SendLocalList", payload)
    assert out == {
        "listVersion": 2,
        "updateType": "Full",
        "localAuthorisationList": payload["localAuthorizationList"],
    }
    valid_15("cp", "sendLocalListRequest", out)
    assert cp15.request_from_15("SendLocalList", {**out, "hash": "abc"}) == payload
    back = cp15.response_from_15("SendLocalList", {"status": "HashError", "hash": "x"})
    assert back == {"status": "Failed"}
    SCHEMAS.validate_response("SendLocalList", back)


@pytest.mark.parametrize(("v15", "v16"), [("Accepted", "Unlocked"), ("Rejected", "UnlockFailed")])
def test_cp_unlock_status(v15: str, v16: str) -> None:
    """UnlockConnector's 1.5 statuses are Accepted and Rejected."""
    assert cp15.response_from_15("UnlockConnector", {"status": v15}) == {"status": v16}
    assert cp15.response_to_15("UnlockConnector", {"status": v16}) == {"status": v15}
    valid_15("cp", "unlockConnectorResponse", {"status": v15})
    assert cp15.response_to_15("UnlockConnector", {"status": "NotSupported"}) == {
        "status": "Rejected"
    }


def test_cp_change_configuration_reboot_required() -> None:
    """1.5 has no RebootRequired: the value is set, so Accepted."""
    assert cp15.response_to_15("ChangeConfiguration", {"status": "RebootRequired"}) == {
        "status": "Accepted"
    }


@pytest.mark.parametrize("action", sorted(cp15.ONLY_16))
def test_cp_only_16(action: str) -> None:
    """The four 1.6-only commands do not exist in the 1.5 WSDL and are refused."""
    assert action not in service("cp", "1.5").operations
    assert action in service("cp", "1.6").operations
    with pytest.raises(cp15.NotIn15):
        cp15.request_to_15(action, {})


def test_cp_remote_start_profile_refused() -> None:
    """A chargingProfile is not silently dropped for 1.5."""
    with pytest.raises(cp15.NotIn15) as caught:
        cp15.request_to_15("RemoteStartTransaction", {"idTag": "T", "chargingProfile": {}})
    assert caught.value.path == "$.chargingProfile"
    plain = cp15.request_to_15("RemoteStartTransaction", {"idTag": "T", "connectorId": 1})
    valid_15("cp", "remoteStartTransactionRequest", plain)


# --- central system service ----------------------------------------------------------------------


def test_cs_meter_values_to_15() -> None:
    """meterValue/sampledValue become values/value; A, V become Amp, Volt; SoC and phase go."""
    out = cs15.request_to_15("MeterValues", {"connectorId": 1, "meterValue": METER_16})
    assert out == {"connectorId": 1, "values": VALUES_15}
    valid_15("cs", "meterValuesRequest", out)


def test_cs_meter_values_from_15() -> None:
    """The 1.5 values as 1.6 meterValue, valid for the 1.6 JSON schema."""
    back = v15.request_to_16(
        "MeterValues", {"connectorId": 1, "transactionId": 4, "values": VALUES_15}
    )
    SCHEMAS.validate_request("MeterValues", back)
    assert back["meterValue"][0]["sampledValue"][1] == {
        "value": "16.0",
        "measurand": "Current.Import",
        "unit": "A",
    }
    assert "values" not in back


def test_cs_stop_transaction_both_ways() -> None:
    """1.5 nests transactionData in values and has no reason."""
    stop = {
        "transactionId": 7,
        "meterStop": 1500,
        "timestamp": "2030-01-01T01:00:00Z",
        "reason": "Remote",
        "transactionData": METER_16,
    }
    out = cs15.request_to_15("StopTransaction", stop)
    assert out == {
        "transactionId": 7,
        "meterStop": 1500,
        "timestamp": "2030-01-01T01:00:00Z",
        "transactionData": [{"values": VALUES_15}],
    }
    valid_15("cs", "stopTransactionRequest", out)
    back = v15.request_to_16("StopTransaction", out)
    SCHEMAS.validate_request("StopTransaction", back)
    assert len(back["transactionData"]) == 1
    assert "reason" not in back


@pytest.mark.parametrize(
    ("status16", "error16", "status15", "error15"),
    [
        ("Charging", "NoError", "Occupied", "NoError"),
        ("Preparing", "EVCommunicationError", "Occupied", "Mode3Error"),
        ("Faulted", "OverVoltage", "Faulted", "OtherError"),
        ("Available", "InternalError", "Available", "OtherError"),
    ],
)
def test_cs_status_notification(status16: str, error16: str, status15: str, error15: str) -> None:
    """1.6 statuses and error codes 1.5 lacks map to their nearest 1.5 value."""
    request = {"connectorId": 1, "status": status16, "errorCode": error16}
    out = cs15.request_to_15("StatusNotification", request)
    assert out == {"connectorId": 1, "status": status15, "errorCode": error15}
    valid_15("cs", "statusNotificationRequest", out)
    back = v15.request_to_16("StatusNotification", out)
    SCHEMAS.validate_request("StatusNotification", back)


def test_cs_occupied_and_mode3_from_15() -> None:
    """A 1.5 Occupied is Charging, Mode3Error is EVCommunicationError."""
    back = v15.request_to_16(
        "StatusNotification", {"connectorId": 1, "status": "Occupied", "errorCode": "Mode3Error"}
    )
    assert back == {"connectorId": 1, "status": "Charging", "errorCode": "EVCommunicationError"}


def test_cs_boot_notification_reply() -> None:
    """heartbeatInterval (1.5) is interval (1.6); 1.5 has no Pending."""
    reply = {"status": "Pending", "currentTime": "2030-01-01T00:00:00Z", "interval": 30}
    out = v15.reply_from_16("BootNotification", reply)
    assert out == {
        "status": "Rejected",
        "currentTime": reply["currentTime"],
        "heartbeatInterval": 30,
    }
    valid_15("cs", "bootNotificationResponse", out)
    back = cs15.response_from_15("BootNotification", {**out, "status": "Accepted"})
    assert back == {"status": "Accepted", "currentTime": reply["currentTime"], "interval": 30}
    SCHEMAS.validate_response("BootNotification", back)


@pytest.mark.parametrize(
    ("action", "status", "sent"),
    [
        ("FirmwareStatusNotification", "Downloading", False),
        ("FirmwareStatusNotification", "Installed", True),
        ("DiagnosticsStatusNotification", "Uploading", False),
        ("DiagnosticsStatusNotification", "Uploaded", True),
    ],
)
def test_cs_statuses_1_5_lacks(action: str, status: str, sent: bool) -> None:
    """A firmware or diagnostics status 1.5 has not cannot be sent."""
    if sent:
        assert cs15.request_to_15(action, {"status": status}) == {"status": status}
    else:
        with pytest.raises(cp15.NotIn15):
            cs15.request_to_15(action, {"status": status})


def _enum(name: str) -> frozenset[str]:
    """The enumeration of simple type C{name} in the official 1.5 CS WSDL."""
    root = etree.parse(str(WSDL_DIR / FILES[("cs", "1.5")])).getroot()
    xs = "http://www.w3.org/2001/XMLSchema"
    [simple] = [e for e in root.iter(f"{{{xs}}}simpleType") if e.get("name") == name]
    return frozenset(e.get("value") for e in simple.iter(f"{{{xs}}}enumeration"))


def test_cs15_tables_are_the_wsdls() -> None:
    """The 1.5 values cs15 keeps are exactly those of the 1.5 WSDL."""
    assert cs15.ATTRIBUTES_15 == {
        "context": _enum("ReadingContext"),
        "format": _enum("ValueFormat"),
        "measurand": _enum("Measurand"),
        "location": _enum("Location"),
        "unit": _enum("UnitOfMeasure"),
    }
    assert cs15.STATUSES_15 == {
        "FirmwareStatusNotification": _enum("FirmwareStatus"),
        "DiagnosticsStatusNotification": _enum("DiagnosticsStatus"),
    }
