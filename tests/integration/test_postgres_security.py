"""
The OCPP 1.6 security extensions with C{[backend] type = postgres}: an
independent station (the C{ocpp} package) sends SecurityEventNotification,
LogStatusNotification and SignedFirmwareStatusNotification answered by
C{ocpp.Parse} on a real PostgreSQL server, the REST API reads them back from
it; SignCertificate is checked and signed by the node (a throwaway CA,
L{ocppcs.testca}); a raised security profile is kept in PostgreSQL and
refuses a connection below it.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest_twisted
from cryptography import x509
from ocpp.v16 import call

from ocppcs.testca import TestCA
from tests.integration.conftest import aio
from tests.integration.peers import wait_until
from tests.integration.securitypeers import CPO, make_csr
from tests.integration.test_security_extensions import _refused, close, connect
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

NOW = "2026-01-02T03:04:05Z"
STORED = "2026-01-02T03:04:05.000Z"  # ocpp.iso: the instant, with milliseconds


@pytest_twisted.async_yield_fixture
async def web(ocpp_dsn: str, tmp_path: Path) -> AsyncIterator[tuple[WebCentral, TestCA, str]]:
    ca = TestCA(tmp_path / "ca")
    running = await start_web_central(
        tmp_path,
        postgres={"conninfo": ocpp_dsn},
        security={"ca_cert": str(ca.ca), "ca_key": str(ca.ca_key), "cpo_name": CPO},
    )
    yield running, ca, ocpp_dsn
    await stop_web_central(running)


def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


@pytest_twisted.ensureDeferred
async def test_station_messages_answered_by_parse_and_listed(
    web: tuple[WebCentral, TestCA, str],
) -> None:
    central, _, dsn = web

    async def scenario() -> list[Any]:
        station, ws, reader = await connect(central.station_url, "PGSEC-1")
        try:
            return [
                await station.call(
                    call.SecurityEventNotification(
                        type="StartupOfTheDevice", timestamp=NOW, tech_info=None
                    )
                ),
                await station.call(
                    call.SecurityEventNotification(
                        type="InvalidFirmwareSignature", timestamp=NOW, tech_info="bad sig"
                    )
                ),
                await station.call(call.LogStatusNotification(status="Uploaded", request_id=7)),
                await station.call(
                    call.SignedFirmwareStatusNotification(status="InvalidSignature", request_id=8)
                ),
            ]
        finally:
            await close(ws, reader)

    replies = await aio(scenario())
    assert all(reply is not None for reply in replies)  # each answered {} (a CALLRESULT)
    events = await central.api.get("/ChargePoint/PGSEC-1/SecurityEvents")
    assert events.status == 200, events.body
    assert events.json["total"] == 2
    rows = events.json["SecurityEvents"]
    assert [(r["type"], r["timestamp"], r["techInfo"]) for r in rows] == [
        ("InvalidFirmwareSignature", STORED, "bad sig"),
        ("StartupOfTheDevice", STORED, None),
    ]
    assert all(r["received"].endswith("Z") for r in rows)
    second = await central.api.get("/ChargePoint/PGSEC-1/SecurityEvents?limit=1&offset=1")
    assert [r["type"] for r in second.json["SecurityEvents"]] == ["StartupOfTheDevice"]
    assert _rows(dsn, "SELECT type, tech_info FROM ocpp.security_event ORDER BY id") == [
        ("StartupOfTheDevice", None),
        ("InvalidFirmwareSignature", "bad sig"),
    ]
    detail = (await central.api.get("/ChargePoint/PGSEC-1")).json
    assert detail["logStatus"]["status"] == "Uploaded"
    assert detail["logStatus"]["requestId"] == 7
    assert detail["signedFirmwareStatus"]["status"] == "InvalidSignature"
    assert detail["signedFirmwareStatus"]["requestId"] == 8
    record: Any = central.service.backend
    _, listed = await record.station_page(10, 0)  # ocpp.ChargePointList
    assert (listed[0].signed_firmware_status, listed[0].signed_firmware_request_id) == (
        "InvalidSignature",
        8,
    )
    item = await record.get_station("PGSEC-1")  # ocpp.GetStation
    assert (item["log_status"], item["log_request_id"]) == ("Uploaded", 7)
    none = await central.api.get("/ChargePoint/NOBODY/SecurityEvents")
    assert none.status == 200 and none.json["total"] == 0


@pytest_twisted.ensureDeferred
async def test_sign_certificate_signed_by_the_node(web: tuple[WebCentral, TestCA, str]) -> None:
    central, ca, _ = web
    good, key = make_csr("PGSEC-2")
    wrong, _ = make_csr("SOMEONE-ELSE")

    async def scenario() -> tuple[str, str, Any]:
        station, ws, reader = await connect(central.station_url, "PGSEC-2")
        try:
            rejected = (await station.call(call.SignCertificate(csr=wrong))).status
            accepted = (await station.call(call.SignCertificate(csr=good))).status
            await wait_until(lambda: station.received, 10)
            return rejected, accepted, station
        finally:
            await close(ws, reader)

    rejected, accepted, station = await aio(scenario())
    assert (rejected, accepted) == ("Rejected", "Accepted")
    action, payload = station.received[0]
    assert action == "CertificateSigned"
    chain = x509.load_pem_x509_certificates(payload["certificate_chain"].encode())
    issued = x509.load_pem_x509_certificate(ca.ca.read_bytes())
    chain[0].verify_directly_issued_by(issued)
    assert chain[0].public_key() == key.public_key()


@pytest_twisted.ensureDeferred
async def test_raised_profile_kept_in_postgres(web: tuple[WebCentral, TestCA, str]) -> None:
    central, _, dsn = web
    api = central.api
    assert (await api.put("/ChargePoint/PGSEC-3/AuthorizationKey", {"key": "K" * 16})).status == 200
    station, ws, reader = await aio(connect(central.station_url, "PGSEC-3"))
    try:
        reply = await api.put("/ChargePoint/PGSEC-3/SecurityProfile", {"profile": 1})
        assert reply.status == 200, reply.body
        assert reply.json == {"identity": "PGSEC-3", "profile": 1, "previous": 0}
        again = await api.put("/ChargePoint/PGSEC-3/SecurityProfile", {"profile": 1})
        assert again.status == 409
    finally:
        await aio(close(ws, reader))
    assert _rows(dsn, "SELECT identity, profile FROM ocpp.station_profile") == [("PGSEC-3", 1)]
    assert await aio(_refused(central.station_url, "PGSEC-3")) == 401
    token = base64.b64encode(b"PGSEC-3:" + b"K" * 16).decode()
    headers = {"Authorization": f"Basic {token}"}
    _, ws, reader = await aio(connect(central.station_url, "PGSEC-3", additional_headers=headers))
    await aio(close(ws, reader))
