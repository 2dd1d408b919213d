# -*- test-case-name: tests.soap.test_mapping -*-
"""
The central system service's OCPP 1.5 messages <-> the OCPP 1.6 JSON shape.

Compared type by type with the official WSDLs (C{urn://Ocpp/Cs/2012/06/}
against C{urn://Ocpp/Cs/2015/10/}):

    BootNotification.conf   heartbeatInterval                  interval (1.6)
                            no Pending (1.6 Pending -> Rejected: "retry after interval")
    StatusNotification      status Occupied                    Preparing, Charging,
                                                               SuspendedEV(SE), Finishing
                            errorCode Mode3Error               EVCommunicationError
                            (no InternalError, LocalListConflict, OverVoltage -> OtherError)
    MeterValues             values[{timestamp, value[]}]       meterValue[{timestamp,
                            value: text + attributes           sampledValue[]}]
                            context, format, measurand,        ... and phase
                            location, unit (Amp, Volt)         (A, V)
    StopTransaction         transactionData[{values[]}]        transactionData[MeterValue],
                                                               reason
    Firmware/Diagnostics    fewer statuses                     (Idle, Downloading, Installing,
                                                               Uploading: not sent in 1.5)

A 1.5 Occupied becomes 1.6 Charging (the connector is in use). A sampled
value that 1.5 has no measurand or unit for (SoC, Percent, ...) is left out
of a 1.5 message; an attribute value it lacks (phase, context Trigger,
location Cable) is left out of the value. C{request_to_15}/C{response_from_15}
are the station's side (the emulator), C{request_from_15}/C{response_to_15}
the central system's; a 1.6 message with nothing 1.5 can say raises
L{ocppcs.soap.cp15.NotIn15}.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ocppcs.soap.contract import ComplexType, SimpleType, contract
from ocppcs.soap.cp15 import NotIn15

_STATUS_TO_15 = {
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "SuspendedEV": "Occupied",
    "SuspendedEVSE": "Occupied",
    "Finishing": "Occupied",
}
_ERROR_TO_15 = {
    "EVCommunicationError": "Mode3Error",
    "InternalError": "OtherError",
    "LocalListConflict": "OtherError",
    "OverVoltage": "OtherError",
}
_UNIT_TO_15 = {"A": "Amp", "V": "Volt"}
_UNIT_FROM_15 = {"Amp": "A", "Volt": "V"}


@cache
def _attributes15() -> dict[str, frozenset[str] | None]:
    """The attributes of a 1.5 meter value and the values each may take."""
    request = contract("cs", "1.5").elements["meterValuesRequest"]
    assert isinstance(request, ComplexType)
    meter = request.get("values")
    assert meter is not None and isinstance(meter.type, ComplexType)
    value = meter.type.get("value")
    assert value is not None and isinstance(value.type, ComplexType)
    result = {}
    for f in value.type.fields:
        assert isinstance(f.type, SimpleType)
        result[f.name] = f.type.enum
    return result


def _value_to_15(sampled: dict[str, Any]) -> dict[str, Any] | None:
    allowed = _attributes15()
    out: dict[str, Any] = {"value": sampled["value"]}
    for key, text in sampled.items():
        if key == "value":
            continue
        if key == "unit":
            text = _UNIT_TO_15.get(text, text)
        enum = allowed.get(key, frozenset())
        if enum is not None and text not in enum:
            if key in ("measurand", "unit"):
                return None  # 1.5 could not say what this value is
            continue
        out[key] = text
    return out


def _meter_to_15(meter_values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for mv in meter_values:
        values = [v for v in map(_value_to_15, mv["sampledValue"]) if v is not None]
        if values:
            result.append({"timestamp": mv["timestamp"], "value": values})
    return result


def _meter_from_15(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for mv in values:
        sampled = []
        for v in mv.get("value", []):
            s = dict(v)
            if "unit" in s:
                s["unit"] = _UNIT_FROM_15.get(s["unit"], s["unit"])
            sampled.append(s)
        result.append({"timestamp": mv["timestamp"], "sampledValue": sampled})
    return result


def _in_15(action: str, field: str, value: str) -> None:
    element = {
        "FirmwareStatusNotification": "firmwareStatusNotificationRequest",
        "DiagnosticsStatusNotification": "diagnosticsStatusNotificationRequest",
    }[action]
    kind = contract("cs", "1.5").elements[element]
    assert isinstance(kind, ComplexType)
    f = kind.get(field)
    assert f is not None and isinstance(f.type, SimpleType) and f.type.enum is not None
    if value not in f.type.enum:
        raise NotIn15(f"OCPP 1.5 has no {action} status {value}", f"$.{field}")


# --- the station's side (the emulator) ----------------------------------------------------------


def request_to_15(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A station's 1.6 request as its 1.5 one."""
    data = dict(payload)
    if action == "StatusNotification":
        data["status"] = _STATUS_TO_15.get(data["status"], data["status"])
        data["errorCode"] = _ERROR_TO_15.get(data["errorCode"], data["errorCode"])
    elif action == "MeterValues":
        data.pop("meterValue", None)
        values = _meter_to_15(payload.get("meterValue", []))
        if values:
            data["values"] = values
    elif action == "StopTransaction":
        data.pop("reason", None)
        data.pop("transactionData", None)
        values = _meter_to_15(payload.get("transactionData", []))
        if values:
            data["transactionData"] = [{"values": values}]
    elif action in ("FirmwareStatusNotification", "DiagnosticsStatusNotification"):
        _in_15(action, "status", data["status"])
    return data


def response_from_15(action: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.5 reply in the 1.6 shape."""
    if action == "BootNotification" and "heartbeatInterval" in reply:
        data = {k: v for k, v in reply.items() if k != "heartbeatInterval"}
        data["interval"] = reply["heartbeatInterval"]
        return data
    return dict(reply)


# --- the central system's side ------------------------------------------------------------------


def request_from_15(action: str, request: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 station's request in the 1.6 shape."""
    data = dict(request)
    if action == "StatusNotification":
        if data.get("status") == "Occupied":
            data["status"] = "Charging"
        if data.get("errorCode") == "Mode3Error":
            data["errorCode"] = "EVCommunicationError"
    elif action == "MeterValues":
        data["meterValue"] = _meter_from_15(data.pop("values", []))
    elif action == "StopTransaction" and "transactionData" in data:
        flat = [mv for td in data.pop("transactionData") for mv in td.get("values", [])]
        if flat:
            data["transactionData"] = _meter_from_15(flat)
    return data


def response_to_15(action: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.6 reply as the 1.5 one."""
    if action == "BootNotification":
        data = {k: v for k, v in reply.items() if k != "interval"}
        data["heartbeatInterval"] = reply["interval"]
        if data.get("status") == "Pending":
            data["status"] = "Rejected"
        return data
    return dict(reply)
