# -*- test-case-name: tests.ocppj.test_session -*-
"""
The ways a call from the central system to a station can fail.

Each failure of L{ocppcs.stations.StationRegistry.call} is one of these
exception types, so REST, SOAP and the emulator can map them to distinct
answers (404, 503, 504, ...).
"""

from __future__ import annotations

from typing import Any


class StationCallFailed(Exception):
    """Base class: a call to a station did not produce a CALLRESULT."""

    def __init__(self, identity: str, action: str, message: str) -> None:
        super().__init__(message)
        self.identity = identity
        self.action = action
        self.message = message


class UnknownStation(StationCallFailed):
    """The central system has never seen this station."""

    def __init__(self, identity: str, action: str) -> None:
        super().__init__(identity, action, f"Charge point '{identity}' not found")


class StationOffline(StationCallFailed):
    """The station is known but not connected."""

    def __init__(self, identity: str, action: str) -> None:
        super().__init__(identity, action, f"Charge point '{identity}' is not connected")


class StationDisconnected(StationCallFailed):
    """The connection closed (or was replaced) before the station replied."""

    def __init__(self, identity: str, action: str, why: str = "connection closed") -> None:
        super().__init__(identity, action, f"Charge point '{identity}' disconnected: {why}")


class CallTimeout(StationCallFailed):
    """The station did not reply in time."""

    def __init__(self, identity: str, action: str, timeout: float) -> None:
        super().__init__(
            identity,
            action,
            f"Charge point '{identity}' did not reply to {action} within {timeout:g}s",
        )
        self.timeout = timeout


class StationCallError(StationCallFailed):
    """
    The station answered with a CALLERROR.

    @ivar error_code: the OCPP-J error code.
    @ivar error_description: the station's description.
    @ivar error_details: the station's errorDetails object.
    """

    def __init__(
        self, identity: str, action: str, code: str, description: str, details: dict[str, Any]
    ) -> None:
        super().__init__(
            identity,
            action,
            f"Charge point '{identity}' answered {action} with {code}: {description}",
        )
        self.error_code = code
        self.error_description = description
        self.error_details = details


class InvalidReply(StationCallFailed):
    """The station's CALLRESULT does not match the action's response schema."""

    def __init__(self, identity: str, action: str, description: str, path: str) -> None:
        super().__init__(
            identity,
            action,
            f"Charge point '{identity}' sent an invalid {action} reply: {description}",
        )
        self.description = description
        self.path = path


class InvalidCommand(StationCallFailed):
    """
    The command can't be sent: unknown action or a payload that fails its
    schema. Nothing was sent to the station.

    @ivar path: the JSON path of the offending value, or C{""}.
    """

    def __init__(self, identity: str, action: str, description: str, path: str = "") -> None:
        super().__init__(identity, action, description)
        self.description = description
        self.path = path


class StationUnreachable(StationOffline):
    """
    The station's own endpoint (an OCPP-S station's Charge Point service)
    could not be reached: nothing was delivered, so the command did not run.
    The REST API answers it as it does L{StationOffline} (503).
    """

    def __init__(self, identity: str, action: str, address: str, why: str) -> None:
        StationCallFailed.__init__(
            self, identity, action, f"Charge point '{identity}' is unreachable at {address}: {why}"
        )
        self.address = address
        self.why = why
