"""The OCPP 1.6 action names, by direction."""

from __future__ import annotations

#: Operations a station initiates (the 10 of OCPP 1.6).
STATION_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)

#: Operations the central system initiates (the 19 of OCPP 1.6).
CENTRAL_ACTIONS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

#: Station-initiated operations of the 1.6 Security Whitepaper (edition 3).
SECURITY_STATION_ACTIONS = frozenset(
    {
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "LogStatusNotification",
    }
)

#: Central-system-initiated operations of the 1.6 Security Whitepaper.
SECURITY_CENTRAL_ACTIONS = frozenset(
    {
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)

#: Everything a station may call on the central system over OCPP-J (core and security).
STATION_CALLS = STATION_ACTIONS | SECURITY_STATION_ACTIONS

#: Everything the central system may call on an OCPP-J station (core and security).
#: OCPP-S stations get the core ones only: the whitepaper is for OCPP-J (its section 1.4).
CENTRAL_CALLS = CENTRAL_ACTIONS | SECURITY_CENTRAL_ACTIONS

#: Every action name OCPP 1.6 (with the Security Whitepaper) knows.
KNOWN_ACTIONS = (
    STATION_ACTIONS | CENTRAL_ACTIONS | SECURITY_STATION_ACTIONS | SECURITY_CENTRAL_ACTIONS
)
