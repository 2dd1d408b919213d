"""
The certificate round trip between a real central system and an emulated
station over TLS, every step through the REST API: the station first
connects over plain ws://, gets the test CA installed as its
CentralSystemRootCertificate and a wss:// central system URL (a Reset), so
it connects over TLS trusting only that root; then ExtendedTriggerMessage
SignChargePointCertificate, its CSR, the signing, CertificateSigned
installed; then SecurityProfile 3, after which the station reconnects
presenting its new certificate, and nothing without one gets in. Also
profile 1: the station reconnects with HTTP Basic and its AuthorizationKey.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import websockets
from cryptography import x509
from websockets.exceptions import InvalidStatus

from ocppcs import certsign
from ocppcs.config import EmulatorConfig
from ocppcs.emulator.service import EmulatorService
from ocppcs.emulator.stationconfig import load_station
from ocppcs.testca import TestCA
from tests.emulator.test_end_to_end import command, copy_stations, cs_station, until
from tests.integration.conftest import aio
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

CP = "EM-A0000001"  # conf/cp/CP1
CPO = "Emulated CPO"
WAIT = 30.0


async def start_station(folder: Path, url: str, **keys: str) -> EmulatorService:
    """An emulator running conf/cp/CP1 against C{url} (its CentralSystemURL key)."""
    from twisted.internet import reactor

    copy_stations(folder / "cp", CentralSystemURL=url, **keys)
    config = load_station(folder / "cp" / "CP1")
    emulator = EmulatorService(
        EmulatorConfig(enable=True, path=str(folder / "cp"), state=str(folder / "em.db")),
        reactor,
        call_timeout=10,
        stations=[config],
    )
    emulator.startService()
    await emulator.ready
    await until(lambda: emulator.stations[CP].online, "the emulated station online", WAIT)
    return emulator


@pytest_twisted.async_yield_fixture
async def tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[WebCentral, TestCA, str]]:
    """A central system with a TLS listener for client certificates of the test CA."""
    monkeypatch.setattr(certsign, "SIGN_DELAY", 0.05)
    ca = TestCA(tmp_path / "ca")
    central = await start_web_central(
        tmp_path,
        server={"listen": ("tcp:0:interface=127.0.0.1", ca.listen(client_certificates=True))},
        security={"ca_cert": str(ca.ca), "ca_key": str(ca.ca_key), "cpo_name": CPO},
    )
    port = central.service.listeners[1].port
    assert port is not None
    yield central, ca, f"wss://127.0.0.1:{port.getHost().port}/ocpp"
    await stop_web_central(central)


async def refused(url: str, **kwargs: Any) -> int:
    """The HTTP status a plain C{websockets} client gets for C{url}/CP (101: let in)."""
    try:
        ws = await websockets.connect(f"{url}/{CP}", subprotocols=["ocpp1.6"], **kwargs)
    except InvalidStatus as e:
        return int(e.response.status_code)
    await ws.close()
    return 101


async def reconnected(web: WebCentral, emulator: EmulatorService, connections: int) -> None:
    """Wait until the station opened C{connections} connections and both sides see it online."""
    link: Any = emulator.links[CP]
    station = emulator.stations[CP]
    await until(lambda: link.connections >= connections and station.online, "reconnected", WAIT)

    async def online() -> bool:
        return bool((await cs_station(web, CP))["online"])

    await until(online, "the central system sees the station online", WAIT)


@pytest_twisted.ensureDeferred
async def test_certificate_round_trip_then_profile_3(
    tls: tuple[WebCentral, TestCA, str], tmp_path: Path
) -> None:
    web, ca, wss = tls
    emulator = await start_station(tmp_path, web.station_url, CpoName=CPO)
    station = emulator.stations[CP]
    try:
        root = {"certificateType": "CentralSystemRootCertificate", "certificate": ca.ca.read_text()}
        assert (await command(web, CP, "InstallCertificate", root)) == {"status": "Accepted"}
        move = {"key": "CentralSystemURL", "value": wss}
        assert (await command(web, CP, "ChangeConfiguration", move)) == {"status": "RebootRequired"}
        assert (await command(web, CP, "Reset", {"type": "Soft"})) == {"status": "Accepted"}
        await reconnected(web, emulator, 2)  # over TLS, the test CA trusted as installed
        assert station.url.startswith("wss://")

        trigger = {"requestedMessage": "SignChargePointCertificate"}
        assert (await command(web, CP, "ExtendedTriggerMessage", trigger)) == {"status": "Accepted"}
        await until(lambda: "chargePoint" in station.certificates, "CertificateSigned", WAIT)
        chain = x509.load_pem_x509_certificates(station.certificates["chargePoint"].encode())
        chain[0].verify_directly_issued_by(x509.load_pem_x509_certificate(ca.ca.read_bytes()))

        raised = await web.api.put(f"/ChargePoint/{CP}/SecurityProfile", {"profile": 3})
        assert raised.status == 200, raised.body
        assert raised.json == {"identity": CP, "profile": 3, "previous": 0}
        assert station.keys.get("SecurityProfile") == "3"
        await reconnected(web, emulator, 3)  # with its new client certificate

        trust = ssl.create_default_context(cafile=str(ca.ca))
        assert await aio(refused(wss, ssl=trust)) == 401
        assert await aio(refused(web.station_url)) == 403
    finally:
        await emulator.stopService()


@pytest_twisted.ensureDeferred
async def test_profile_1_sends_basic_credentials(
    tls: tuple[WebCentral, TestCA, str], tmp_path: Path
) -> None:
    web, _, _ = tls
    emulator = await start_station(tmp_path, web.station_url)
    try:
        key = await web.api.put(f"/ChargePoint/{CP}/AuthorizationKey", {"key": "K" * 16})
        assert key.status == 200, key.body
        raised = await web.api.put(f"/ChargePoint/{CP}/SecurityProfile", {"profile": 1})
        assert raised.status == 200, raised.body
        await reconnected(web, emulator, 2)  # with Basic EM-A0000001:KKKK...
        assert await aio(refused(web.station_url)) == 401
    finally:
        await emulator.stopService()
