"""
An emulated OCPP-S station's Charge Point service, called by zeep: a SOAP
client generated from the official CP WSDLs alone (1.6 and 1.5), run in a
thread (zeep blocks). zeep builds the requests and parses every reply
against the WSDL, so this checks the wire from the other side.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
import zeep
from twisted.internet.threads import deferToThread
from zeep.transports import Transport

from ocppcs.soap import wsdl
from tests.emulator.test_end_to_end import until
from tests.soap.test_emulator_soap import Running, running  # noqa: F401 - the fixture

SERVICE = "{%s}ChargePointServiceSoap"


def client(version: str, address: str) -> tuple[Any, Transport]:
    """A zeep client of the official CP WSDL of C{version}, bound to C{address}."""
    transport = Transport(timeout=10, operation_timeout=10)
    path = str(wsdl.WSDL_DIR / wsdl.FILES["cp", version])
    made = zeep.Client(path, transport=transport)
    namespace = wsdl.service("cp", version).namespace
    return made.create_service(SERVICE % namespace, address), transport


@pytest_twisted.ensureDeferred
async def test_zeep_commands(running: Running) -> None:  # noqa: F811 - the fixture
    """zeep's requests are answered and its parsing of the replies succeeds."""
    station = running.emulator.stations[running.identity]
    await until(lambda: station.online, "the station Accepted")
    service, transport = client(running.version, running.link.address)
    header = {"ChargeBoxIdentity": running.identity}

    def calls() -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["config"] = service.GetConfiguration(key=["HeartbeatInterval"], _soapheaders=header)
        out["change"] = service.ChangeConfiguration(
            key="MeterValueSampleInterval", value="5", _soapheaders=header
        )
        out["availability"] = service.ChangeAvailability(
            connectorId=1, type="Operative", _soapheaders=header
        )
        out["data"] = service.DataTransfer(vendorId="Emulator", _soapheaders=header)
        out["version"] = service.GetLocalListVersion(_soapheaders=header)
        out["unlock"] = service.UnlockConnector(connectorId=1, _soapheaders=header)
        if running.version == "1.6":
            out["trigger"] = service.TriggerMessage(
                requestedMessage="Heartbeat", _soapheaders=header
            )
        return out

    try:
        got = await deferToThread(calls)
    finally:
        transport.session.close()
    [key] = got["config"].configurationKey
    assert key.key == "HeartbeatInterval" and key.readonly is False
    assert got["change"] == "Accepted"
    assert got["availability"] == "Accepted"
    assert got["data"].status == "Accepted"
    assert isinstance(got["version"], int)
    assert got["unlock"] in (
        ("Accepted", "Rejected") if running.version == "1.5" else ("Unlocked", "UnlockFailed")
    )
    if running.version == "1.6":
        assert got["trigger"] == "Accepted"
        await until(lambda: running.got("heartbeatRequest"), "the triggered Heartbeat")
