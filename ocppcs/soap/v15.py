# -*- test-case-name: tests.soap.test_codec -*-
"""
OCPP 1.5 <-> the 1.6 JSON shape, for the Central System service (the
station's requests and their replies). OCPP-S 1.6 needs no mapping: its
elements are the 1.6 JSON fields (L{ocppcs.soap.codec} gives the types).

Station -> central system (L{request_to_16}):
    MeterValues        values[{timestamp, value[]}] -> meterValue[{timestamp, sampledValue[]}],
                       each 1.5 value's text and attributes -> a sampledValue's fields
    StopTransaction    transactionData[{values[]}] -> transactionData[] (the meter values)
    StatusNotification status Occupied -> Charging; errorCode Mode3Error -> EVCommunicationError
    units              Amp -> A, Volt -> V
Central system -> station (L{reply_from_16}):
    BootNotification   interval -> heartbeatInterval; Pending -> Rejected (1.5 has no
                       Pending: the station retries after heartbeatInterval, as it would)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppcs.soap.codec import TEXT

Mapping = Callable[[dict[str, Any]], dict[str, Any]]

#: 1.5 unit -> 1.6 unit (the others are spelled alike).
UNITS = {"Amp": "A", "Volt": "V"}
#: 1.5 connector status -> 1.6 (Occupied has no exact 1.6 twin: it is in use, so Charging).
STATUSES = {"Occupied": "Charging"}
#: 1.5 error code -> 1.6 (1.6 renamed Mode3Error).
ERROR_CODES = {"Mode3Error": "EVCommunicationError"}


def _sampled(value: dict[str, Any]) -> dict[str, Any]:
    sampled = {k: v for k, v in value.items() if k != TEXT}
    sampled["value"] = value.get(TEXT, "")
    if "unit" in sampled:
        sampled["unit"] = UNITS.get(sampled["unit"], sampled["unit"])
    return sampled


def _meter_value(meter: dict[str, Any]) -> dict[str, Any]:
    return {
        "timestamp": meter["timestamp"],
        "sampledValue": [_sampled(v) for v in meter.get("value", [])],
    }


def _meter_values(payload: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in payload.items() if k != "values"}
    if "values" in payload:
        out["meterValue"] = [_meter_value(m) for m in payload["values"]]
    return out


def _stop_transaction(payload: dict[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    if "transactionData" in payload:
        out["transactionData"] = [
            _meter_value(m) for data in payload["transactionData"] for m in data.get("values", [])
        ]
        if not out["transactionData"]:
            del out["transactionData"]
    return out


def _status_notification(payload: dict[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    out["status"] = STATUSES.get(payload["status"], payload["status"])
    out["errorCode"] = ERROR_CODES.get(payload["errorCode"], payload["errorCode"])
    return out


def _boot_reply(reply: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in reply.items() if k != "interval"}
    out["heartbeatInterval"] = reply["interval"]
    if out.get("status") == "Pending":
        out["status"] = "Rejected"
    return out


_REQUESTS: dict[str, Mapping] = {
    "MeterValues": _meter_values,
    "StopTransaction": _stop_transaction,
    "StatusNotification": _status_notification,
}
_REPLIES: dict[str, Mapping] = {"BootNotification": _boot_reply}


def request_to_16(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 station's request (decoded) in the 1.6 JSON shape."""
    mapping = _REQUESTS.get(action)
    return mapping(payload) if mapping is not None else payload


def reply_from_16(action: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.6 JSON reply in the shape of the 1.5 response element."""
    mapping = _REPLIES.get(action)
    return mapping(reply) if mapping is not None else reply
