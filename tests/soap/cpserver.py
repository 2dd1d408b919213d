"""
A station's Charge Point service for tests, built from the official CP WSDLs
and nothing of ocppcs.soap: a twisted.web resource on a loopback port that
validates every request body against the XML Schema inside the WSDL (lxml's
own validator), records its headers, and answers with reply XML the test
wrote by hand (or a Fault, an HTTP error, silence).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

WSDL_DIR = Path(__file__).parents[2] / "ocppcs" / "soap" / "wsdl"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
XS = "http://www.w3.org/2001/XMLSchema"
FILES = {
    ("cp", "1.5"): "ocpp_chargepointservice_1.5_final.wsdl",
    ("cp", "1.6"): "OCPP_ChargePointService_1.6.wsdl",
    ("cs", "1.5"): "ocpp_centralsystemservice_1.5_final.wsdl",
    ("cs", "1.6"): "OCPP_CentralSystemService_1.6.wsdl",
}
NS = {"1.5": "urn://Ocpp/Cp/2012/06/", "1.6": "urn://Ocpp/Cp/2015/10/"}
CS_NS = {"1.5": "urn://Ocpp/Cs/2012/06/", "1.6": "urn://Ocpp/Cs/2015/10/"}


def wsdl_schema(version: str, service: str = "cp") -> etree.XMLSchema:
    """The XML Schema embedded in the official WSDL of C{service} in C{version}."""
    root = etree.parse(str(WSDL_DIR / FILES[(service, version)])).getroot()
    schema = root.find(f"{{http://schemas.xmlsoap.org/wsdl/}}types/{{{XS}}}schema")
    # A root of its own, with the WSDL's namespace prefixes (types are QNames like tns:IdToken).
    alone = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
    alone.extend(copy.deepcopy(child) for child in schema)
    return etree.XMLSchema(etree.ElementTree(alone))


def naive(node: etree._Element) -> Any:
    """An element as nested dicts of text (lists where an element repeats), names unprefixed."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        return node.text or ""
    out: dict[str, Any] = {}
    for c in children:
        name = etree.QName(c).localname
        value = naive(c)
        if name in out:
            if not isinstance(out[name], list) or not out.get(f"__{name}"):
                out[name] = [out[name]]
                out[f"__{name}"] = True
            out[name].append(value)
        else:
            out[name] = value
    return {k: v for k, v in out.items() if not k.startswith("__")}


@dataclass
class Received:
    """One request the station got."""

    content_type: str
    headers: dict[str, str]
    body: etree._Element
    raw: bytes


@dataclass
class Behaviour:
    """How the station answers the next request."""

    reply: str = ""  # the response element, as XML text
    fault: tuple[str, str, str] | None = None  # (Code, Subcode, Reason)
    status: int = 200
    raw: bytes | None = None  # sent as is
    hang: bool = False


class ChargePointService(Resource):
    """
    The fake station's endpoint (or with C{service="cs"} a fake central
    system's), answering with the queued L{Behaviour}s, else what C{auto}
    makes of the request.
    """

    isLeaf = True

    def __init__(
        self, version: str, service: str = "cp", auto: Callable[[Received], str] | None = None
    ) -> None:
        super().__init__()
        self.version = version
        self.ns = (NS if service == "cp" else CS_NS)[version]
        self.schema = wsdl_schema(version, service)
        self.auto = auto
        self.received: list[Received] = []
        self.next: list[Behaviour] = []
        self.hanging: list[Any] = []
        self.arrived: Deferred[Received] | None = None

    def render_POST(self, request: Any) -> bytes | int:
        raw = request.content.read()
        doc = etree.fromstring(raw)
        assert doc.tag == f"{{{SOAP12}}}Envelope", doc.tag
        headers: dict[str, str] = {}
        for h in doc.find(f"{{{SOAP12}}}Header"):
            q = etree.QName(h)
            if q.localname == "chargeBoxIdentity":
                assert q.namespace == self.ns, q.namespace
            address = h.find(f"{{{WSA}}}Address")
            headers[q.localname] = (address.text if address is not None else h.text) or ""
        body = doc.find(f"{{{SOAP12}}}Body")[0]
        self.schema.assertValid(etree.ElementTree(etree.fromstring(etree.tostring(body))))
        got = Received(request.getHeader("content-type") or "", headers, body, raw)
        self.received.append(got)
        if self.arrived is not None:
            d, self.arrived = self.arrived, None
            d.callback(got)
        if self.next:
            behaviour = self.next.pop(0)
        else:
            behaviour = Behaviour(reply=self.auto(got) if self.auto is not None else "")
        if behaviour.hang:
            self.hanging.append(request)
            return NOT_DONE_YET
        request.setResponseCode(behaviour.status)
        request.setHeader("content-type", "application/soap+xml; charset=utf-8")
        if behaviour.raw is not None:
            return behaviour.raw
        if behaviour.fault is not None:
            return self._fault(*behaviour.fault)
        reply = etree.fromstring(behaviour.reply)
        self.schema.assertValid(etree.ElementTree(reply))  # the test's own reply is valid
        action = headers["Action"] + "Response"
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<e:Envelope xmlns:e="{SOAP12}" xmlns:w="{WSA}"><e:Header>'
            f'<chargeBoxIdentity xmlns="{self.ns}">{headers["chargeBoxIdentity"]}'
            "</chargeBoxIdentity>"
            f"<w:Action>{action}</w:Action><w:RelatesTo>{headers['MessageID']}</w:RelatesTo>"
            f"</e:Header><e:Body>{behaviour.reply}</e:Body></e:Envelope>"
        ).encode()

    def _fault(self, code: str, subcode: str, reason: str) -> bytes:
        return (
            f'<e:Envelope xmlns:e="{SOAP12}" xmlns:o="{self.ns}"><e:Body><e:Fault>'
            f"<e:Code><e:Value>e:{code}</e:Value><e:Subcode><e:Value>o:{subcode}</e:Value>"
            f"</e:Subcode></e:Code><e:Reason><e:Text xml:lang='en'>{reason}</e:Text></e:Reason>"
            f"<e:Detail><why>{reason}!</why></e:Detail></e:Fault></e:Body></e:Envelope>"
        ).encode()


@dataclass
class FakeStation:
    """A listening fake station."""

    service: ChargePointService
    port: Any
    url: str
    hanging: list[Any] = field(default_factory=list)

    async def stop(self) -> None:
        for request in self.service.hanging:
            if not request.finished and not request._disconnected:
                request.finish()
        await self.port.stopListening()


def start_station(
    version: str,
    path: str = "/ChargePoint",
    service_name: str = "cp",
    auto: Callable[[Received], str] | None = None,
) -> FakeStation:
    """Listen on a free loopback port."""
    from twisted.internet import reactor

    service = ChargePointService(version, service_name, auto)
    root = Resource()
    root.putChild(path.strip("/").encode(), service)
    site = Site(root)
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    return FakeStation(service, port, f"http://127.0.0.1:{port.getHost().port}{path}")
