# -*- test-case-name: tests.cluster.test_outcome -*-
"""
What travels between nodes for a routed command: its outcome as JSON.

The node holding the station turns the reply payload, or the
L{ocppcs.callerrors} exception its call failed with, into a JSON object;
the node that routed the command turns it back, so its caller sees exactly
what it would have seen on one node (and the REST API answers with the same
status codes).

    {"result": {...}}                                   the reply payload
    {"error": "CallTimeout", "timeout": 30}             and so on for each type
    {"error": "Moved"}                                  not connected here
"""

from __future__ import annotations

from typing import Any

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationCallFailed,
    StationDisconnected,
    StationOffline,
    UnknownStation,
)
from ocppcs.locator import Moved

#: The outcome of a command that was not run: the station is not on this node.
MOVED: dict[str, Any] = {"error": "Moved"}

_PREFIX = "disconnected: "


def encode(outcome: dict[str, Any] | BaseException) -> dict[str, Any]:
    """
    The JSON of a reply payload or of a call's failure.

    @raise TypeError: for an exception that is no L{StationCallFailed}
        (a bug: the caller logs it and answers L{StationDisconnected}).
    """
    if isinstance(outcome, dict):
        return {"result": outcome}
    if isinstance(outcome, StationCallError):
        return {
            "error": "StationCallError",
            "code": outcome.error_code,
            "description": outcome.error_description,
            "details": outcome.error_details,
        }
    if isinstance(outcome, CallTimeout):
        return {"error": "CallTimeout", "timeout": outcome.timeout}
    if isinstance(outcome, InvalidReply | InvalidCommand):
        return {
            "error": type(outcome).__name__,
            "description": outcome.description,
            "path": outcome.path,
        }
    if isinstance(outcome, StationDisconnected):
        why = outcome.message.partition(_PREFIX)[2] or outcome.message
        return {"error": "StationDisconnected", "why": why}
    if isinstance(outcome, UnknownStation | StationOffline | Moved):
        return {"error": type(outcome).__name__}
    raise TypeError(f"not a call outcome: {outcome!r}")


def decode(
    data: dict[str, Any], identity: str, action: str, node: str
) -> dict[str, Any] | StationCallFailed:
    """
    The reply payload, or the exception to fail the call with, for the
    outcome C{data} of the command C{action} to C{identity} run by C{node}.
    Anything unexpected is L{StationDisconnected} (the command may or may
    not have run).
    """
    if "result" in data and isinstance(data["result"], dict):
        return data["result"]
    error = data.get("error")
    try:
        if error == "StationCallError":
            return StationCallError(
                identity, action, data["code"], data["description"], data["details"]
            )
        if error == "CallTimeout":
            return CallTimeout(identity, action, float(data["timeout"]))
        if error == "InvalidReply":
            return InvalidReply(identity, action, data["description"], data["path"])
        if error == "InvalidCommand":
            return InvalidCommand(identity, action, data["description"], data["path"])
        if error == "StationDisconnected":
            return StationDisconnected(identity, action, str(data["why"]))
        if error == "UnknownStation":
            return UnknownStation(identity, action)
        if error == "StationOffline":
            return StationOffline(identity, action)
        if error == "Moved":
            return Moved(identity, action, node)
    except (KeyError, TypeError, ValueError):
        pass
    return StationDisconnected(identity, action, f"node {node} sent an unreadable outcome")
