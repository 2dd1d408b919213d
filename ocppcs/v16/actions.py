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

#: Station-initiated operations of the 1.6 Security Whitepaper (known, not supported yet).
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

#: Every action name OCPP 1.6 (with the Security Whitepaper) knows.
KNOWN_ACTIONS = (
    STATION_ACTIONS | CENTRAL_ACTIONS | SECURITY_STATION_ACTIONS | SECURITY_CENTRAL_ACTIONS
)
