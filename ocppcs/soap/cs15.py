# -*- test-case-name: tests.soap.test_mapping -*-
"""
The central system service's OCPP 1.5 messages, as a 1.5 station sends
them: its 1.6 JSON requests as 1.5 ones, and the 1.5 replies as 1.6 ones
(the emulator's OCPP-S 1.5 stations). L{ocppcs.soap.v15} is the central
system's end of the same service, whose tables this reverses.

Compared type by type with the official WSDLs (C{urn://Ocpp/Cs/2012/06/}
against C{urn://Ocpp/Cs/2015/10/}):

    StatusNotification   Preparing, Charging, SuspendedEV(SE), Finishing -> Occupied;
                         EVCommunicationError -> Mode3Error; InternalError,
                         LocalListConflict, OverVoltage -> OtherError
    MeterValues          meterValue[{timestamp, sampledValue[]}] -> values[{timestamp,
                         value[]}], a value's text and attributes; units A -> Amp,
                         V -> Volt; no phase
    StopTransaction      transactionData[MeterValue] -> transactionData[{values[]}]; no reason
    Firmware/Diagnostics Idle, Downloading, Installing, Uploading: no 1.5 value (NotIn15)
    BootNotification     the reply's heartbeatInterval -> interval

A sampled value whose measurand or unit 1.5 has not (SoC, Percent, ...) is
left out; an attribute value it lacks (context Trigger, location Cable) is
left out of the value.
"""

from __future__ import annotations

from typing import Any

from ocppcs.soap.codec import TEXT
from ocppcs.soap.cp15 import NotIn15
from ocppcs.soap.v15 import ERROR_CODES, UNITS

_STATUSES = dict.fromkeys(("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE"), "Occupied")
_STATUSES["Finishing"] = "Occupied"
_ERRORS = {v16: v15 for v15, v16 in ERROR_CODES.items()}
_ERRORS.update(dict.fromkeys(("InternalError", "LocalListConflict", "OverVoltage"), "OtherError"))
_UNITS = {v16: v15 for v15, v16 in UNITS.items()}

#: What a 1.5 meter value's attributes may be (the 1.5 WSDL's enumerations).
ATTRIBUTES_15: dict[str, frozenset[str]] = {
    "context": frozenset(
        "Interruption.Begin Interruption.End Sample.Clock Sample.Periodic"
        " Transaction.Begin Transaction.End".split()
    ),
    "format": frozenset({"Raw", "SignedData"}),
    "measurand": frozenset(
        "Energy.Active.Export.Register Energy.Active.Import.Register"
        " Energy.Reactive.Export.Register Energy.Reactive.Import.Register"
        " Energy.Active.Export.Interval Energy.Active.Import.Interval"
        " Energy.Reactive.Export.Interval Energy.Reactive.Import.Interval"
        " Power.Active.Export Power.Active.Import Power.Reactive.Export"
        " Power.Reactive.Import Current.Export Current.Import Voltage Temperature".split()
    ),
    "location": frozenset({"Inlet", "Outlet", "Body"}),
    "unit": frozenset("Wh kWh varh kvarh W kW var kvar Amp Volt Celsius".split()),
}
#: The 1.5 FirmwareStatus and DiagnosticsStatus values.
STATUSES_15 = {
    "FirmwareStatusNotification": frozenset(
        {"Downloaded", "DownloadFailed", "InstallationFailed", "Installed"}
    ),
    "DiagnosticsStatusNotification": frozenset({"Uploaded", "UploadFailed"}),
}


def _value_to_15(sampled: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {TEXT: sampled["value"]}
    for key, text in sampled.items():
        if key == "value":
            continue
        if key == "unit":
            text = _UNITS.get(text, text)
        if text not in ATTRIBUTES_15.get(key, frozenset()):
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


def request_to_15(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A station's 1.6 request as its 1.5 one (L{NotIn15} when 1.5 has no such status)."""
    data = dict(payload)
    if action == "StatusNotification":
        data["status"] = _STATUSES.get(data["status"], data["status"])
        data["errorCode"] = _ERRORS.get(data["errorCode"], data["errorCode"])
    elif action == "MeterValues":
        values = _meter_to_15(data.pop("meterValue", []))
        if values:
            data["values"] = values
    elif action == "StopTransaction":
        data.pop("reason", None)
        values = _meter_to_15(data.pop("transactionData", []))
        if values:
            data["transactionData"] = [{"values": values}]
    elif action in STATUSES_15 and data.get("status") not in STATUSES_15[action]:
        raise NotIn15(f"OCPP 1.5 has no {action} status {data.get('status')}", "$.status")
    return data


def response_from_15(action: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.5 reply in the 1.6 shape."""
    if action == "BootNotification" and "heartbeatInterval" in reply:
        data = {k: v for k, v in reply.items() if k != "heartbeatInterval"}
        data["interval"] = reply["heartbeatInterval"]
        return data
    return dict(reply)
