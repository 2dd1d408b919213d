# -*- test-case-name: tests.soap.test_outbound -*-
"""
The calling side's envelopes: a request with its OCPP-S headers, and the
reply read back (its body element, or the SOAP 1.2 Fault it holds).

A request carries in its header::

    <chargeBoxIdentity xmlns="SERVICE NS">CP1</chargeBoxIdentity>
    <wsa:MessageID>urn:uuid:...</wsa:MessageID>
    <wsa:From><wsa:Address>http://station/</wsa:Address></wsa:From>  (when given)
    <wsa:ReplyTo><wsa:Address>...anonymous</wsa:Address></wsa:ReplyTo>
    <wsa:To>http://peer/endpoint</wsa:To>
    <wsa:Action>/Reset</wsa:Action>

Replies are parsed by L{ocppcs.soap.envelope.parse} (hardened: no DTD, no
entities, no network, a size limit), as requests are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from ocppcs.soap.envelope import ANONYMOUS, NS_SOAP, NS_WSA, SoapFault, parse

__all__ = ["ANONYMOUS", "Fault", "ReplyError", "build_request", "message_id", "read_reply"]


class ReplyError(ValueError):
    """The reply is not a SOAP 1.2 envelope with one body element (or not a safe one)."""


@dataclass(slots=True)
class Fault:
    """
    A SOAP 1.2 Fault.

    @ivar code: C{Sender}, C{Receiver}, ... (the local part of its Code Value).
    @ivar subcode: the local part of its first Subcode Value (an OCPP error
        code such as C{NotSupported}), or C{""}.
    @ivar reason: its Reason text.
    @ivar detail: the text of its Detail, or C{""}.
    """

    code: str
    subcode: str
    reason: str
    detail: str = ""


def message_id() -> str:
    """A fresh WS-Addressing MessageID."""
    return f"urn:uuid:{uuid.uuid4()}"


def build_request(
    body: etree._Element,
    namespace: str,
    identity: str,
    action: str,
    to: str,
    msg_id: str,
    from_: str = "",
    reply_to: str = ANONYMOUS,
) -> bytes:
    """
    A request envelope around C{body}.

    @param namespace: the service namespace C{chargeBoxIdentity} is in.
    @param action: the WS-Addressing Action (the WSDL's input action).
    @param to: the peer's endpoint address.
    @param from_: this side's own endpoint (C{wsa:From}), when given.
    """
    env = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"s": NS_SOAP, "a": NS_WSA})
    header = etree.SubElement(env, f"{{{NS_SOAP}}}Header")
    cbi = etree.SubElement(header, f"{{{namespace}}}chargeBoxIdentity", nsmap={None: namespace})
    cbi.text = identity
    etree.SubElement(header, f"{{{NS_WSA}}}MessageID").text = msg_id
    for name, address in (("From", from_), ("ReplyTo", reply_to)):
        if address:
            holder = etree.SubElement(header, f"{{{NS_WSA}}}{name}")
            etree.SubElement(holder, f"{{{NS_WSA}}}Address").text = address
    etree.SubElement(header, f"{{{NS_WSA}}}To").text = to
    etree.SubElement(header, f"{{{NS_WSA}}}Action").text = action
    etree.SubElement(env, f"{{{NS_SOAP}}}Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def read_reply(data: bytes, max_size: int) -> etree._Element | Fault:
    """
    The body element of a reply, or its Fault.

    @raise ReplyError: too large, not XML, a DTD, not a SOAP 1.2 envelope.
    """
    try:
        message = parse(data, max_size)
    except SoapFault as e:
        raise ReplyError(e.description) from None
    body = message.body
    if body.tag != f"{{{NS_SOAP}}}Fault":
        return body
    code = body.findtext(f"{{{NS_SOAP}}}Code/{{{NS_SOAP}}}Value") or ""
    sub = body.findtext(f"{{{NS_SOAP}}}Code/{{{NS_SOAP}}}Subcode/{{{NS_SOAP}}}Value") or ""
    reason = body.findtext(f"{{{NS_SOAP}}}Reason/{{{NS_SOAP}}}Text") or ""
    detail = body.find(f"{{{NS_SOAP}}}Detail")
    text = "".join(detail.itertext()).strip() if detail is not None else ""
    return Fault(_local(code), _local(sub), reason.strip(), text)


def _local(text: str) -> str:
    return text.strip().rpartition(":")[2]
