"""
C{POST /api/v1/ChargePoint/{identity}/{Operation}} through real HTTP to a
real WebSocket station: each of the 19 operations, the station's CALLERROR,
a disconnect, a timeout, an invalid payload, unknown and offline stations.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_twisted

from ocppcs.v16.actions import CENTRAL_CALLS
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation
from tests.web.conftest import WebCentral

PROFILE = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    },
}

#: Operation -> (a valid request payload, a valid reply from the station).
COMMANDS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "CancelReservation": ({"reservationId": 1}, {"status": "Rejected"}),
    "ChangeAvailability": ({"connectorId": 1, "type": "Inoperative"}, {"status": "Scheduled"}),
    "ChangeConfiguration": (
        {"key": "HeartbeatInterval", "value": "60"},
        {"status": "RebootRequired"},
    ),
    "ClearCache": ({}, {"status": "Accepted"}),
    "ClearChargingProfile": (
        {"id": 1, "connectorId": 0, "chargingProfilePurpose": "TxProfile", "stackLevel": 1},
        {"status": "Unknown"},
    ),
    "DataTransfer": (
        {"vendorId": "Acme", "messageId": "hello", "data": "x"},
        {"status": "Accepted", "data": "y"},
    ),
    "GetCompositeSchedule": (
        {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"},
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2030-01-01T00:00:00Z",
            "chargingSchedule": PROFILE["chargingSchedule"],
        },
    ),
    "GetConfiguration": (
        {"key": ["HeartbeatInterval", "Nope"]},
        {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
            "unknownKey": ["Nope"],
        },
    ),
    "GetDiagnostics": (
        {"location": "ftp://example.com/diag", "retries": 2, "startTime": "2030-01-01T00:00:00Z"},
        {"fileName": "diag.zip"},
    ),
    "GetLocalListVersion": ({}, {"listVersion": 3}),
    "RemoteStartTransaction": (
        {"idTag": "TAG1", "connectorId": 1, "chargingProfile": {**PROFILE, "transactionId": 3}},
        {"status": "Accepted"},
    ),
    "RemoteStopTransaction": ({"transactionId": 5}, {"status": "Rejected"}),
    "ReserveNow": (
        {
            "connectorId": 1,
            "expiryDate": "2030-01-01T00:00:00Z",
            "idTag": "TAG1",
            "reservationId": 9001,
        },
        {"status": "Occupied"},
    ),
    "Reset": ({"type": "Soft"}, {"status": "Accepted"}),
    "SendLocalList": (
        {
            "listVersion": 2,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "T1", "idTagInfo": {"status": "Accepted"}}],
        },
        {"status": "VersionMismatch"},
    ),
    "SetChargingProfile": (
        {"connectorId": 1, "csChargingProfiles": PROFILE},
        {"status": "Accepted"},
    ),
    "TriggerMessage": (
        {"requestedMessage": "StatusNotification", "connectorId": 1},
        {"status": "Accepted"},
    ),
    "UnlockConnector": ({"connectorId": 1}, {"status": "Unlocked"}),
    "UpdateFirmware": (
        {"location": "https://example.com/fw.bin", "retrieveDate": "2030-01-01T00:00:00Z"},
        {},
    ),
    # The OCPP 1.6 security whitepaper's (edition 3).
    "CertificateSigned": (
        {"certificateChain": "-----BEGIN CERTIFICATE-----"},
        {"status": "Rejected"},
    ),
    "DeleteCertificate": (
        {
            "certificateHashData": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "ab",
                "issuerKeyHash": "cd",
                "serialNumber": "01",
            }
        },
        {"status": "NotFound"},
    ),
    "ExtendedTriggerMessage": (
        {"requestedMessage": "SignChargePointCertificate"},
        {"status": "Accepted"},
    ),
    "GetInstalledCertificateIds": (
        {"certificateType": "CentralSystemRootCertificate"},
        {"status": "NotFound"},
    ),
    "GetLog": (
        {"logType": "DiagnosticsLog", "requestId": 1, "log": {"remoteLocation": "ftp://x/"}},
        {"status": "Accepted", "filename": "log.txt"},
    ),
    "InstallCertificate": (
        {"certificateType": "ManufacturerRootCertificate", "certificate": "PEM"},
        {"status": "Rejected"},
    ),
    "SignedUpdateFirmware": (
        {
            "requestId": 2,
            "firmware": {
                "location": "https://example.com/fw.bin",
                "retrieveDateTime": "2030-01-01T00:00:00Z",
                "signingCertificate": "PEM",
                "signature": "c2ln",
            },
        },
        {"status": "InvalidCertificate"},
    ),
}


def test_every_operation_is_covered() -> None:
    assert set(COMMANDS) == CENTRAL_CALLS


async def next_call(station: RawStation, action: str) -> tuple[str, dict[str, Any]]:
    """The central system's next frame: a CALL of C{action}; its uniqueId and payload."""
    frame = await aio(station.recv())
    assert frame[0] == 2 and frame[2] == action, frame
    return frame[1], frame[3]


@pytest.mark.parametrize("operation", sorted(COMMANDS))
@pytest_twisted.ensureDeferred
async def test_command(web: WebCentral, operation: str) -> None:
    """The station receives exactly the posted payload; the HTTP reply is its answer."""
    payload, answer = COMMANDS[operation]
    identity = f"CMD-{operation}"
    station = await web.station(identity)
    try:
        # ClearCache and GetLocalListVersion are sent without a body.
        body = payload if payload else None
        reply = web.api.post(f"/ChargePoint/{identity}/{operation}", json=body)
        unique_id, sent = await next_call(station, operation)
        assert sent == payload
        await aio(station.send([3, unique_id, answer]))
        result = await reply
    finally:
        await aio(station.close())
    assert result.status == 200, result.body
    assert result.header("Content-Type") == "application/json"
    assert result.json == answer


@pytest_twisted.ensureDeferred
async def test_call_error(web: WebCentral) -> None:
    """A station's CALLERROR is a 200 with error: true, as the original."""
    station = await web.station("CMD-ERR")
    try:
        reply = web.api.post("/ChargePoint/CMD-ERR/Reset", {"type": "Hard"})
        unique_id, _ = await next_call(station, "Reset")
        await aio(station.send([4, unique_id, "NotSupported", "no resets", {"why": "test"}]))
        result = await reply
    finally:
        await aio(station.close())
    assert result.status == 200
    assert result.json == {
        "error": True,
        "errorCode": "NotSupported",
        "errorDescription": "no resets",
        "errorDetails": {"why": "test"},
    }


@pytest_twisted.ensureDeferred
async def test_disconnect_before_reply(web: WebCentral) -> None:
    """The station going away before it replies is a 503 that says so."""
    station = await web.station("CMD-GONE")
    try:
        reply = web.api.post("/ChargePoint/CMD-GONE/Reset", {"type": "Soft"})
        await next_call(station, "Reset")
    finally:
        await aio(station.close())
    message = (await reply).error(503)
    assert "disconnected" in message and "CMD-GONE" in message


@pytest_twisted.ensureDeferred
async def test_timeout(web: WebCentral) -> None:
    """No reply within the timeout query parameter: 504."""
    station = await web.station("CMD-SLOW")
    try:
        reply = web.api.request(
            "POST", "/ChargePoint/CMD-SLOW/Reset", json={"type": "Soft"}, params={"timeout": "0.3"}
        )
        await next_call(station, "Reset")
        message = (await reply).error(504)
    finally:
        await aio(station.close())
    assert "within 0.3s" in message


@pytest_twisted.ensureDeferred
async def test_invalid_reply(web: WebCentral) -> None:
    """A reply that fails the official response schema: 502 with its path."""
    station = await web.station("CMD-BAD")
    try:
        reply = web.api.post("/ChargePoint/CMD-BAD/UnlockConnector", {"connectorId": 1})
        unique_id, _ = await next_call(station, "UnlockConnector")
        await aio(station.send([3, unique_id, {"status": "Maybe"}]))
        message = (await reply).error(502)
    finally:
        await aio(station.close())
    assert "UnlockConnector" in message


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"type": "Sideways"}, "$.type"),
        ({}, "$"),
        ({"type": "Soft", "extra": 1}, "$"),
        ({"type": 3}, "$.type"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_invalid_payload_not_sent(web: WebCentral, body: Any, path: str) -> None:
    """A payload that fails its schema is 400 with the JSON path; nothing is sent."""
    station = await web.station("CMD-INVALID")
    try:
        reply = await web.api.post("/ChargePoint/CMD-INVALID/Reset", body)
        await aio(station.expect_nothing(0.1))
    finally:
        await aio(station.close())
    message = reply.error(400)
    assert reply.json["error"]["path"] == path
    assert path in message


@pytest_twisted.ensureDeferred
async def test_bad_bodies(web: WebCentral) -> None:
    """Not JSON, not an object, too large: 400, 400, 413; nothing is sent."""
    station = await web.station("CMD-BODY")
    try:
        url = "/ChargePoint/CMD-BODY/Reset"
        assert "JSON" in (await web.api.post(url, data=b"{nope")).error(400)
        assert "object" in (await web.api.post(url, ["Soft"])).error(400)
        big = b'{"type": "' + b"x" * 1_048_576 + b'"}'
        (await web.api.post(url, data=big)).error(413)
        for timeout in ("0", "nan", "601", "soon"):
            reply = await web.api.request(
                "POST", url, json={"type": "Soft"}, params={"timeout": timeout}
            )
            assert "timeout" in reply.error(400)
        (await web.api.request("POST", url, json={"type": "Soft"}, params={"other": "1"})).error(
            400
        )
        await aio(station.expect_nothing(0.1))
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_unknown_operation(web: WebCentral) -> None:
    """An operation that is not one of the 26 (19 core, 7 security): 400 in the original's words."""
    station = await web.station("CMD-OP")
    try:
        for operation in ("Heartbeat", "Frobnicate", "SecurityEventNotification"):
            reply = await web.api.post(f"/ChargePoint/CMD-OP/{operation}", {})
            assert reply.error(400) == f"Unknown operation: '{operation}'"
        await aio(station.expect_nothing(0.1))
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_unknown_and_offline_station(web: WebCentral) -> None:
    """Never seen: 404. Seen but not connected: 503."""
    reply = await web.api.post("/ChargePoint/CMD-NEVER/Reset", {"type": "Soft"})
    assert reply.error(404) == "Charge point 'CMD-NEVER' not found"
    station = await web.station("CMD-OFF")
    await aio(station.close())
    for _ in range(50):  # the disconnection is noted asynchronously
        if "CMD-OFF" not in web.service.registry:
            break
        await aio(asyncio.sleep(0.02))
    reply = await web.api.post("/ChargePoint/CMD-OFF/Reset", {"type": "Soft"})
    assert reply.error(503) == "Charge point 'CMD-OFF' is not connected"


@pytest_twisted.ensureDeferred
async def test_reservations_follow_accepted_commands(web: WebCentral) -> None:
    """An accepted ReserveNow is listed; an accepted CancelReservation cancels it."""
    station = await web.station("CMD-RES")
    try:
        reserve = {
            "connectorId": 2,
            "expiryDate": "2031-05-01T10:00:00+02:00",
            "idTag": "RES-TAG",
            "parentIdTag": "RES-PARENT",
            "reservationId": 4242,
        }
        reply = web.api.post("/ChargePoint/CMD-RES/ReserveNow", reserve)
        unique_id, _ = await next_call(station, "ReserveNow")
        await aio(station.send([3, unique_id, {"status": "Accepted"}]))
        assert (await reply).json == {"status": "Accepted"}
        listed = (await web.api.get("/CentralSystem/ReservationList", identity="CMD-RES")).json
        [reservation] = listed["ReservationList"]
        assert (await web.api.get("/ReservationList", identity="CMD-RES")).json == listed
        assert reservation["id"] == 4242
        assert reservation["status"] == "Reserved"
        assert reservation["expiryDate"] == "2031-05-01T08:00:00.000Z"
        assert (reservation["idTag"], reservation["parentIdTag"]) == ("RES-TAG", "RES-PARENT")
        assert reservation["dateStart"] is not None and reservation["dateStop"] is None

        reply = web.api.post("/ChargePoint/CMD-RES/CancelReservation", {"reservationId": 4242})
        unique_id, _ = await next_call(station, "CancelReservation")
        await aio(station.send([3, unique_id, {"status": "Accepted"}]))
        assert (await reply).json == {"status": "Accepted"}
    finally:
        await aio(station.close())
    listed = (await web.api.post("/CentralSystem/ReservationList", {"identity": "CMD-RES"})).json
    [reservation] = listed["ReservationList"]
    assert reservation["status"] == "Cancelled" and reservation["dateStop"] is not None
    assert (await web.api.post("/ReservationList", {"identity": "CMD-RES"})).json == listed
