"""
L{ocppcs.soap.compat} makes Spyne 2.14 serve SOAP 1.2 through Twisted: a
real Spyne service on a loopback port answers a POST, its C{?wsdl} and a
schema-invalid request (a SOAP 1.2 Sender Fault, not an HTML 500).

spyne is imported in the fixture, after the compat module and once the test
runner has installed its reactor (C{spyne.server.twisted} imports the global
reactor).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
from lxml import etree
from treq.client import HTTPClient
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

NS = "urn://test/compat/"
ENV = "http://www.w3.org/2003/05/soap-envelope"


def envelope(name: str) -> bytes:
    return (
        f'<e:Envelope xmlns:e="{ENV}" xmlns:t="{NS}"><e:Body>'
        f"<t:greetRequest><t:name>{name}</t:name></t:greetRequest></e:Body></e:Envelope>"
    ).encode()


def spyne_resource() -> Any:
    """A Spyne service's Twisted resource: one operation, greetRequest."""
    from spyne import Application, ComplexModel, ServiceBase, Unicode, rpc
    from spyne.protocol.soap import Soap12
    from spyne.server.twisted import TwistedWebResource

    class Greeting(ComplexModel):
        __namespace__ = NS
        name = Unicode(max_len=5, min_occurs=1, nillable=False)

    class Greeter(ServiceBase):
        @rpc(Greeting, _body_style="bare", _in_message_name="greetRequest", _returns=Unicode)
        def greet(ctx: Any, greeting: Any) -> str:  # noqa: N805  (spyne passes the context)
            return f"hello {greeting.name}"

    app = Application([Greeter], NS, in_protocol=Soap12(validator="lxml"), out_protocol=Soap12())
    return TwistedWebResource(app)


@pytest_twisted.async_yield_fixture
async def server() -> AsyncIterator[tuple[str, HTTPClient]]:
    from twisted.internet import reactor

    import ocppcs.soap.compat  # noqa: F401  (before spyne_resource imports spyne)

    port = reactor.listenTCP(0, Site(spyne_resource()), interface="127.0.0.1")
    pool = HTTPConnectionPool(reactor, persistent=False)
    yield f"http://127.0.0.1:{port.getHost().port}/", HTTPClient(Agent(reactor, pool=pool))
    await pool.closeCachedConnections()
    await port.stopListening()


async def post(http: HTTPClient, url: str, body: bytes) -> tuple[int, bytes]:
    headers = {"Content-Type": ["application/soap+xml; charset=utf-8"]}
    response = await http.post(url, data=body, headers=headers)
    return response.code, await response.content()


@pytest_twisted.ensureDeferred
async def test_post_is_answered(server: tuple[str, HTTPClient]) -> None:
    url, http = server
    code, body = await post(http, url, envelope("ann"))
    assert code == 200, body
    assert b"hello ann" in body


@pytest_twisted.ensureDeferred
async def test_wsdl_is_served(server: tuple[str, HTTPClient]) -> None:
    url, http = server
    response = await http.get(url + "?wsdl")
    body = await response.content()
    assert response.code == 200, body
    wsdl = etree.fromstring(body)
    assert wsdl.get("targetNamespace") == NS
    assert url.rstrip("/").encode() in body  # the service address, built from the request


@pytest_twisted.ensureDeferred
async def test_schema_invalid_request_is_a_sender_fault(server: tuple[str, HTTPClient]) -> None:
    url, http = server
    code, body = await post(http, url, envelope("much too long"))
    fault = etree.fromstring(body).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert code == 500 and fault is not None, body
    assert fault.findtext(f"{{{ENV}}}Code/{{{ENV}}}Value").endswith("Sender")
