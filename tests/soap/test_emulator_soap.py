"""
The emulator's OCPP-S mode against a minimal central system service written
here from the official CS WSDLs (every request the station sends is
validated by lxml against the WSDL's schema and answered with hand-written
XML), and the station's own Charge Point service driven with hand-written
SOAP requests: boot, status, a remote start that charges with meter values,
a remote stop, in 1.6 and in 1.5. What the central system sees of the
station's From address is checked too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from lxml import etree
from treq.client import HTTPClient
from twisted.web.client import Agent, HTTPConnectionPool

from ocppcs.config import EmulatorConfig
from ocppcs.emulator.service import EmulatorService
from ocppcs.emulator.soaplink import SoapLink
from ocppcs.emulator.stationconfig import load_station, soap_url
from tests.emulator.test_end_to_end import until
from tests.soap.cpserver import (
    CS_NS,
    NS,
    SOAP12,
    WSA,
    FakeStation,
    Received,
    naive,
    start_station,
    wsdl_schema,
)

NOW = "2030-01-01T00:00:00Z"


def station_folder(folder: Path, identity: str, protocol: str) -> Path:
    """One emulated station speaking C{protocol}, sampling every second."""
    data = {
        "protocol": protocol,
        "connectorId": [{"id": 1, "voltage": "AC", "power": 11000, "phases": 3}],
        "configurationKey": [
            {"key": "CentralSystemURL", "readonly": False, "value": "ws://127.0.0.1:1/ocpp"},
            {"key": "StationIdentity", "readonly": True, "value": identity},
            {"key": "ChargePointVendor", "readonly": True, "value": "Emulator"},
            {"key": "ChargePointModel", "readonly": True, "value": "SOAP"},
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "1"},
            {
                "key": "MeterValuesSampledData",
                "readonly": False,
                "value": "Energy.Active.Import.Register,Current.Import,Voltage,SoC",
            },
            {"key": "AuthorizeRemoteTxRequests", "readonly": False, "value": "false"},
        ],
        "plugInOnRemoteStart": 0.2,
    }
    target = folder / identity
    target.mkdir(parents=True)
    (target / "configuration.json").write_text(json.dumps(data), "utf-8")
    return target


class MinimalCentral:
    """Answers each central system request with the WSDL's reply, by element name."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.ns = CS_NS[version]
        self.ids = itertools.count(100)

    def __call__(self, got: Received) -> str:
        name = etree.QName(got.body).localname.removesuffix("Request")
        accepted = "<idTagInfo><status>Accepted</status></idTagInfo>"
        interval = "heartbeatInterval" if self.version == "1.5" else "interval"
        inner = {
            "bootNotification": (
                f"<status>Accepted</status><currentTime>{NOW}</currentTime>"
                f"<{interval}>300</{interval}>"
            ),
            "heartbeat": f"<currentTime>{NOW}</currentTime>",
            "authorize": accepted,
            "startTransaction": f"<transactionId>{next(self.ids)}</transactionId>{accepted}",
            "stopTransaction": accepted,
            "dataTransfer": "<status>Accepted</status>",
        }.get(name, "")
        return f'<{name}Response xmlns="{self.ns}">{inner}</{name}Response>'


@dataclass
class Running:
    central: FakeStation
    emulator: EmulatorService
    identity: str
    version: str

    @property
    def link(self) -> SoapLink:
        link = self.emulator.links[self.identity]
        assert isinstance(link, SoapLink)
        return link

    def got(self, name: str) -> list[Received]:
        return [r for r in self.central.service.received if etree.QName(r.body).localname == name]


@pytest_twisted.async_yield_fixture(params=["1.6", "1.5"])
async def running(request: Any, tmp_path: Path) -> AsyncIterator[Running]:
    from twisted.internet import reactor

    version = request.param
    identity = f"EM-SOAP-{version}"
    central = start_station(version, "/Ocpp", "cs", MinimalCentral(version))
    config = load_station(station_folder(tmp_path / "cp", identity, f"ocpp{version}s"))
    emulator = EmulatorService(
        EmulatorConfig(enable=True, state=str(tmp_path / "emulator.db")),
        reactor,
        call_timeout=5,
        stations=[config],
        url=central.url,
    )
    emulator.startService()
    await emulator.ready
    yield Running(central, emulator, identity, version)
    await emulator.stopService()
    await central.stop()


async def post(url: str, xml: bytes) -> tuple[int, etree._Element]:
    """POST a SOAP envelope; the status and the parsed reply envelope."""
    from twisted.internet import reactor

    pool = HTTPConnectionPool(reactor, persistent=False)
    http = HTTPClient(Agent(reactor, pool=pool))
    response = await http.post(url, data=xml, headers={"Content-Type": "application/soap+xml"})
    body = await response.content()
    await pool.closeCachedConnections()
    return response.code, etree.fromstring(body)


def command(version: str, identity: str, action: str, inner: str, to: str = "") -> bytes:
    element = action[0].lower() + action[1:] + "Request"
    return (
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:o="{NS[version]}"><s:Header>'
        f"<o:chargeBoxIdentity>{identity}</o:chargeBoxIdentity>"
        f"<a:MessageID>urn:uuid:test-{action}</a:MessageID><a:To>{to}</a:To>"
        f"<a:Action>/{action}</a:Action></s:Header><s:Body>"
        f"<o:{element}>{inner}</o:{element}></s:Body></s:Envelope>"
    ).encode()


def reply_body(version: str, envelope: etree._Element, action: str) -> Any:
    """The reply's body element, checked against the CP WSDL's schema; as naive text."""
    body = envelope.find(f"{{{SOAP12}}}Body")[0]
    assert body.tag == f"{{{NS[version]}}}{action[0].lower() + action[1:]}Response", body.tag
    wsdl_schema(version, "cp").assertValid(
        etree.ElementTree(etree.fromstring(etree.tostring(body)))
    )
    header = envelope.find(f"{{{SOAP12}}}Header")
    assert header.findtext(f"{{{WSA}}}RelatesTo") == f"urn:uuid:test-{action}"
    assert header.findtext(f"{{{WSA}}}Action") == f"/{action}Response"
    return naive(body)


@pytest_twisted.ensureDeferred
async def test_boot_charge_and_commands(running: Running) -> None:
    """Boot, statuses, a remote start with meter values and a remote stop, over SOAP."""
    link, version, identity = running.link, running.version, running.identity
    station = running.emulator.stations[identity]
    await until(lambda: station.online, "the station Accepted")
    [boot] = running.got("bootNotificationRequest")
    assert boot.headers["chargeBoxIdentity"] == identity
    assert boot.headers["From"] == link.address
    assert boot.headers["To"] == running.central.url
    assert boot.headers["Action"] == "/BootNotification"
    assert boot.body.tag == f"{{{CS_NS[version]}}}bootNotificationRequest"
    await until(lambda: len(running.got("statusNotificationRequest")) >= 2, "statuses")

    code, env = await post(
        link.address,
        command(
            version,
            identity,
            "RemoteStartTransaction",
            # In each WSDL's sequence order: 1.5 has idTag first, 1.6 connectorId.
            "<o:idTag>TAG1</o:idTag><o:connectorId>1</o:connectorId>"
            if version == "1.5"
            else "<o:connectorId>1</o:connectorId><o:idTag>TAG1</o:idTag>",
        ),
    )
    assert code == 200
    assert reply_body(version, env, "RemoteStartTransaction") == {"status": "Accepted"}
    await until(lambda: running.got("startTransactionRequest"), "StartTransaction")
    await until(lambda: running.got("meterValuesRequest"), "MeterValues", timeout=8)
    meter = naive(running.got("meterValuesRequest")[0].body)
    if version == "1.5":
        assert "values" in meter and "meterValue" not in meter  # 1.5 shape, schema-valid
    else:
        assert "meterValue" in meter
    tx = station.connectors[1].transaction
    assert tx is not None
    transaction_id = await until(lambda: station.transaction_ids.get(tx.local_id), "the id")
    started = naive(running.got("startTransactionRequest")[0].body)
    assert started["idTag"] == "TAG1" and started["connectorId"] == "1"

    stop = f"<o:transactionId>{transaction_id}</o:transactionId>"
    code, env = await post(link.address, command(version, identity, "RemoteStopTransaction", stop))
    assert reply_body(version, env, "RemoteStopTransaction") == {"status": "Accepted"}
    await until(lambda: running.got("stopTransactionRequest"), "StopTransaction")
    statuses = [naive(r.body)["status"] for r in running.got("statusNotificationRequest")]
    assert ("Occupied" if version == "1.5" else "Charging") in statuses

    code, env = await post(
        link.address,
        command(version, identity, "UnlockConnector", "<o:connectorId>1</o:connectorId>"),
    )
    expected = "Accepted" if version == "1.5" else "Unlocked"
    assert reply_body(version, env, "UnlockConnector") == {"status": expected}


@pytest_twisted.ensureDeferred
async def test_bad_requests_get_faults(running: Running) -> None:
    """The station's service answers malformed, foreign and unknown requests with Faults."""
    link, version, identity = running.link, running.version, running.identity
    code, env = await post(link.address, b"<nope")
    assert code == 400
    sub = (
        f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault/{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value"
    )
    assert env.findtext(sub).endswith(":FormationViolation")
    code, env = await post(
        link.address, command(version, "SOMEONE-ELSE", "Reset", "<o:type>Hard</o:type>")
    )
    assert code == 400 and env.findtext(sub).endswith(":SecurityError")
    code, env = await post(
        link.address, command(version, identity, "Reset", "<o:type>Sideways</o:type>")
    )
    assert code == 400 and env.findtext(sub).endswith(":FormationViolation")
    code, env = await post(
        link.address, command(version, identity, "Reset", "<o:kind>Hard</o:kind>")
    )
    assert code == 400 and env.findtext(sub).endswith(":FormationViolation")
    if version == "1.5":
        xml = command(
            version,
            identity,
            "TriggerMessage",
            "<o:requestedMessage>Heartbeat</o:requestedMessage>",
        )
        code, env = await post(link.address, xml)
        assert code == 400 and env.findtext(sub).endswith(":NotSupported")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&b;</s:Body></s:Envelope>'
    )
    code, env = await post(link.address, bomb)
    assert code == 400 and env.findtext(sub).endswith(":FormationViolation")


@pytest_twisted.ensureDeferred
async def test_central_system_unreachable(tmp_path: Path) -> None:
    """Nobody at the central system's address: the station retries its boot, offline."""
    from twisted.internet import reactor

    config = load_station(station_folder(tmp_path / "cp", "EM-SOAP-ALONE", "ocpp1.6s"))
    emulator = EmulatorService(
        EmulatorConfig(enable=True, state=str(tmp_path / "emulator.db")),
        reactor,
        call_timeout=5,
        stations=[config],
        url="http://127.0.0.1:1/Ocpp",
    )
    emulator.startService()
    await emulator.ready
    link = emulator.links["EM-SOAP-ALONE"]
    try:
        await until(lambda: link.attempts >= 2, "a second session after the first failed")
        assert not emulator.stations["EM-SOAP-ALONE"].online
    finally:
        await emulator.stopService()


def test_soap_url() -> None:
    """ocppcs' own WebSocket URL gives its SOAP endpoint; an http URL is kept."""
    assert soap_url("ws://127.0.0.1:9220/ocpp") == "http://127.0.0.1:9220/Ocpp"
    assert soap_url("wss://cs.example/ocpp/") == "https://cs.example/Ocpp"
    assert soap_url("http://cs.example/Soap/Cs") == "http://cs.example/Soap/Cs"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"protocol": "ocpp2.0"}, "protocol"),
        ({"protocol": 3}, "protocol"),
        ({"soapPort": -1}, "soapPort"),
        ({"soapPort": "80"}, "soapPort"),
        ({"protocol": "ocpp1.6s", "OcppVersion": "1.5"}, "OcppVersion"),
    ],
)
def test_bad_protocol_settings(tmp_path: Path, data: dict[str, Any], field: str) -> None:
    """A bad protocol or soapPort names the field."""
    from ocppcs.emulator.stationfields import StationConfigError

    folder = station_folder(tmp_path, "EM-BAD", "ocpp1.6j")
    file = folder / "configuration.json"
    content = json.loads(file.read_text())
    file.write_text(json.dumps({**content, **data}))
    with pytest.raises(StationConfigError) as caught:
        load_station(folder)
    assert field in str(caught.value)
