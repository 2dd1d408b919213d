# -*- test-case-name: tests.soap.test_codec -*-
"""
SOAP 1.2 envelopes of OCPP-S messages: built with their OCPP and
WS-Addressing headers, and parsed hardened.

A request (either direction) carries in its header::

    <chargeBoxIdentity xmlns="SERVICE NS">CP1</chargeBoxIdentity>   (OCPP-S)
    <wsa:MessageID>urn:uuid:...</wsa:MessageID>
    <wsa:From><wsa:Address>http://station/</wsa:Address></wsa:From>  (when given)
    <wsa:ReplyTo><wsa:Address>...anonymous</wsa:Address></wsa:ReplyTo>
    <wsa:To>http://peer/endpoint</wsa:To>
    <wsa:Action>/Reset</wsa:Action>

a reply C{wsa:RelatesTo} the request's MessageID and the output's Action.
Parsing refuses DTDs (so no entity expansion), external entities, the
network and anything over a size limit; a SOAP 1.2 Fault is read into a
L{Fault} (its OCPP subcode, reason and detail text).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
ANONYMOUS = f"{WSA}/anonymous"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
#: The largest envelope parsed, in bytes.
MAX_SIZE = 1_048_576


class EnvelopeError(ValueError):
    """The bytes are not a SOAP 1.2 envelope (or not a safe one)."""


@dataclass(slots=True)
class Fault:
    """
    A SOAP 1.2 Fault.

    @ivar code: C{Sender} or C{Receiver} (the local part of its Code Value).
    @ivar subcode: the local part of its first Subcode Value (an OCPP error
        code such as C{NotSupported}), or C{""}.
    @ivar reason: its Reason text.
    @ivar detail: the text of its Detail, or C{""}.
    """

    code: str
    subcode: str
    reason: str
    detail: str = ""


@dataclass(slots=True)
class Envelope:
    """
    A parsed envelope.

    @ivar headers: header local name -> text (for C{From}, C{ReplyTo} and
        C{FaultTo} the text of their C{Address}), OCPP and WS-Addressing only.
    @ivar body: the first element of the Body, or C{None} for a fault.
    @ivar fault: the Fault, if the Body holds one.
    """

    headers: dict[str, str] = field(default_factory=dict)
    body: etree._Element | None = None
    fault: Fault | None = None


def message_id() -> str:
    """A fresh WS-Addressing MessageID."""
    return f"urn:uuid:{uuid.uuid4()}"


def build(
    body: etree._Element,
    namespace: str,
    identity: str,
    action: str,
    to: str = "",
    msg_id: str = "",
    from_: str = "",
    reply_to: str = "",
    relates_to: str = "",
) -> bytes:
    """
    An envelope around C{body} with the OCPP-S headers.

    @param namespace: the service namespace C{chargeBoxIdentity} is in.
    @param action: the WS-Addressing Action.
    @param to: the peer's endpoint address (C{wsa:To}), left out when C{""}.
    @param msg_id: the MessageID (a fresh one when C{""}).
    @param from_: this side's own endpoint (C{wsa:From}), when given.
    @param reply_to: C{wsa:ReplyTo}, when given.
    @param relates_to: for a reply: the MessageID it answers.
    """
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"s": SOAP12, "a": WSA})
    header = etree.SubElement(env, f"{{{SOAP12}}}Header")
    cbi = etree.SubElement(header, f"{{{namespace}}}chargeBoxIdentity", nsmap={None: namespace})
    cbi.text = identity
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = msg_id or message_id()
    if relates_to:
        etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    for name, address in (("From", from_), ("ReplyTo", reply_to)):
        if address:
            holder = etree.SubElement(header, f"{{{WSA}}}{name}")
            etree.SubElement(holder, f"{{{WSA}}}Address").text = address
    if to:
        etree.SubElement(header, f"{{{WSA}}}To").text = to
    etree.SubElement(header, f"{{{WSA}}}Action").text = action
    etree.SubElement(env, f"{{{SOAP12}}}Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def build_fault(
    namespace: str, code: str, subcode: str, reason: str, relates_to: str = "", action: str = ""
) -> bytes:
    """
    A SOAP 1.2 Fault: C{code} C{Sender} or C{Receiver}, C{subcode} an OCPP
    error code qualified in C{namespace}.
    """
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"s": SOAP12, "a": WSA, "o": namespace})
    header = etree.SubElement(env, f"{{{SOAP12}}}Header")
    etree.SubElement(header, f"{{{WSA}}}Action").text = (
        action or "http://www.w3.org/2005/08/addressing/soap/fault"
    )
    if relates_to:
        etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP12}}}Body"), f"{{{SOAP12}}}Fault")
    c = etree.SubElement(fault, f"{{{SOAP12}}}Code")
    etree.SubElement(c, f"{{{SOAP12}}}Value").text = f"s:{code}"
    if subcode:
        sub = etree.SubElement(c, f"{{{SOAP12}}}Subcode")
        etree.SubElement(sub, f"{{{SOAP12}}}Value").text = f"o:{subcode}"
    r = etree.SubElement(fault, f"{{{SOAP12}}}Reason")
    text = etree.SubElement(r, f"{{{SOAP12}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse(data: bytes, max_size: int = MAX_SIZE) -> Envelope:
    """
    Read a SOAP 1.2 envelope.

    @raise EnvelopeError: too large, not XML, a DTD, not a SOAP 1.2
        envelope, or no Body element.
    """
    if len(data) > max_size:
        raise EnvelopeError(f"larger than {max_size} bytes")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise EnvelopeError(f"not XML: {e}") from None
    if root.getroottree().docinfo.doctype:
        raise EnvelopeError("a DTD is not allowed")
    if root.tag != f"{{{SOAP12}}}Envelope":
        raise EnvelopeError("not a SOAP 1.2 envelope")
    result = Envelope()
    header = root.find(f"{{{SOAP12}}}Header")
    for h in header if header is not None else ():
        if not isinstance(h.tag, str):
            continue
        q = etree.QName(h)
        if q.namespace == WSA and q.localname in ("From", "ReplyTo", "FaultTo"):
            result.headers[q.localname] = (h.findtext(f"{{{WSA}}}Address") or "").strip()
        elif q.namespace == WSA or q.localname == "chargeBoxIdentity":
            result.headers[q.localname] = (h.text or "").strip()
    body = root.find(f"{{{SOAP12}}}Body")
    if body is None:
        raise EnvelopeError("no Body element")
    first = next((e for e in body if isinstance(e.tag, str)), None)
    if first is None:
        raise EnvelopeError("an empty Body")
    if first.tag == f"{{{SOAP12}}}Fault":
        result.fault = _fault(first)
    else:
        result.body = first
    return result


def _local(text: str) -> str:
    return text.strip().rpartition(":")[2]


def _fault(node: etree._Element) -> Fault:
    code = node.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") or ""
    sub = node.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value") or ""
    reason = node.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text") or ""
    detail = node.find(f"{{{SOAP12}}}Detail")
    text = "".join(detail.itertext()).strip() if detail is not None else ""
    return Fault(_local(code), _local(sub), reason.strip(), text)
