"""
Fixtures for OCPP-S: the real central system on a loopback port (with the
REST API), and SOAP stations that are zeep clients built from the official
Central System WSDLs and nothing else, run in a thread (zeep is blocking).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import zeep
from lxml import etree
from twisted.internet.threads import deferToThread
from zeep.plugins import Plugin
from zeep.transports import Transport

from ocppcs.soap import wsdl
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

WSA = "http://www.w3.org/2005/08/addressing"
SERVICE = "{%s}CentralSystemServiceSoap"


class FromHeader(Plugin):  # type: ignore[misc]
    """Adds WS-Addressing C{From} (the station's own endpoint) to every request."""

    def __init__(self, address: str) -> None:
        self.address = address

    def egress(self, envelope: Any, http_headers: Any, operation: Any, options: Any) -> Any:
        header = envelope.find("{http://www.w3.org/2003/05/soap-envelope}Header")
        sender = etree.SubElement(header, f"{{{WSA}}}From")
        etree.SubElement(sender, f"{{{WSA}}}Address").text = self.address
        return envelope, http_headers


class SoapStation:
    """
    A SOAP station: a zeep client of the official CS WSDL of C{version},
    posting to C{url} as C{identity}, saying its endpoint is C{endpoint}.
    """

    def __init__(self, version: str, url: str, identity: str, endpoint: str | None) -> None:
        self.version = version
        self.identity = identity
        path = str(wsdl.WSDL_DIR / wsdl.FILES["cs", version])
        plugins = [FromHeader(endpoint)] if endpoint else []
        self.transport = Transport(timeout=10, operation_timeout=10)
        self.client = zeep.Client(path, transport=self.transport, plugins=plugins)
        namespace = wsdl.service("cs", version).namespace
        self.service = self.client.create_service(SERVICE % namespace, url)

    def call(self, operation: str, **fields: Any) -> Any:
        """C{operation} with C{fields} (blocking: run through L{__call__})."""
        method = getattr(self.service, operation)
        return method(**fields, _soapheaders={"ChargeBoxIdentity": self.identity})

    def __call__(self, operation: str, **fields: Any) -> Any:
        """A Deferred firing with the zeep reply (an object), run in a thread."""
        return deferToThread(self.call, operation, **fields)

    def close(self) -> None:
        """Close its HTTP connections."""
        self.transport.session.close()


def soap_url(central: WebCentral) -> str:
    """The central system's OCPP-S endpoint."""
    return f"http://127.0.0.1:{central.port}/Ocpp"


@pytest_twisted.async_yield_fixture(scope="module")
async def soap_central(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """A central system with the open registration and authorization policies."""
    running = await start_web_central(tmp_path_factory.mktemp("soap"))
    yield running
    await stop_web_central(running)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A folder for a central system of one test."""
    return tmp_path
