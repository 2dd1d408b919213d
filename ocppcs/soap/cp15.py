# -*- test-case-name: tests.soap.test_mapping -*-
"""
The charge point service's OCPP 1.5 messages <-> the OCPP 1.6 JSON shape.

The central system speaks 1.6 JSON inside; a 1.5 station's Charge Point
service (C{urn://Ocpp/Cp/2012/06/}) differs in a few places (compared type
by type with the official WSDLs):

    operation        1.6 JSON                         1.5 SOAP
    ---------------  -------------------------------  ------------------------------
    SendLocalList    localAuthorizationList           localAuthorisationList
                     (status has no HashError)        status HashError (-> Failed)
    UnlockConnector  status Unlocked / UnlockFailed   status Accepted / Rejected
                     / NotSupported                   (NotSupported -> Rejected)
    ChangeConfig.    status RebootRequired            (-> Accepted: the value is set)
    RemoteStart...   chargingProfile                  none: refused, not dropped
    (1.6 only)       ClearChargingProfile, GetCompositeSchedule, SetChargingProfile,
                     TriggerMessage: not in 1.5, refused

C{to_15}/C{from_15} are the central system's side (its request out, the
station's reply in); C{request_from_15}/C{response_to_15} the station's
(the emulator). Each takes and returns new dicts. A 1.6 message 1.5 cannot
carry raises L{NotIn15}.
"""

from __future__ import annotations

from typing import Any

#: The central-system-initiated operations OCPP 1.5 has not.
ONLY_16 = frozenset(
    {"ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile", "TriggerMessage"}
)


class NotIn15(ValueError):
    """
    A 1.6 message that OCPP 1.5 cannot express.

    @ivar path: the JSON path of the offending field, or C{""} for the operation.
    """

    def __init__(self, description: str, path: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.path = path


def _rename(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    if old not in data:
        return dict(data)
    return {(new if k == old else k): v for k, v in data.items()}


def _status(data: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    status = data.get("status")
    if isinstance(status, str) and status in table:
        return {**data, "status": table[status]}
    return dict(data)


# --- the central system's side -----------------------------------------------------------------


def request_to_15(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A 1.6 command as a 1.5 station's request (L{NotIn15} when it can't be)."""
    if action in ONLY_16:
        raise NotIn15(f"{action} is not an OCPP 1.5 operation")
    if action == "RemoteStartTransaction" and "chargingProfile" in payload:
        raise NotIn15(
            "OCPP 1.5 has no chargingProfile in RemoteStartTransaction", "$.chargingProfile"
        )
    if action == "SendLocalList":
        return _rename(payload, "localAuthorizationList", "localAuthorisationList")
    return dict(payload)


def response_from_15(action: str, reply: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 station's reply in the 1.6 shape."""
    if action == "UnlockConnector":
        return _status(reply, {"Accepted": "Unlocked", "Rejected": "UnlockFailed"})
    if action == "SendLocalList":
        result = _status(reply, {"HashError": "Failed"})
        result.pop("hash", None)
        return result
    return dict(reply)


# --- the station's side (the emulator) ----------------------------------------------------------


def request_from_15(action: str, request: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 request a station received, in the 1.6 shape."""
    if action == "SendLocalList":
        result = _rename(request, "localAuthorisationList", "localAuthorizationList")
        result.pop("hash", None)
        return result
    return dict(request)


def response_to_15(action: str, reply: dict[str, Any]) -> dict[str, Any]:
    """A station's 1.6 reply as its 1.5 one."""
    if action == "UnlockConnector":
        return _status(
            reply, {"Unlocked": "Accepted", "UnlockFailed": "Rejected", "NotSupported": "Rejected"}
        )
    if action == "ChangeConfiguration":
        return _status(reply, {"RebootRequired": "Accepted"})
    return dict(reply)
