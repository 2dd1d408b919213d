# -*- test-case-name: tests.soap.test_bad_input -*-
"""
SOAP 1.2 envelopes of OCPP-S: parsing a request (hardened), reading its
headers, building a reply and a Fault.

Parsing refuses, with a Sender Fault (subcode C{FormationViolation}):
a body over the size limit, any document type declaration (a SOAP message
must not have one, SOAP 1.2 Part 1 section 5, so no entity can be declared,
let alone expanded or fetched), XML that is not well-formed, and anything
but one C{env:Envelope} with one element in its C{env:Body}. lxml parses
without resolving entities, loading DTDs or touching the network. A SOAP
1.1 envelope gets C{env:VersionMismatch} (SOAP 1.2 Part 1, 5.4.7).

Headers read: C{chargeBoxIdentity} (in the service's namespace; unqualified
accepted) and WS-Addressing C{MessageID}, C{From}/C{Address}, C{ReplyTo},
C{To}, C{Action}. A reply carries C{Action}, a new C{MessageID},
C{RelatesTo} (the request's MessageID) and C{To} (the request's ReplyTo,
else the anonymous address).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from ocppcs.ocppj.errors import ErrorCode, OcppError

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_WSA = "http://www.w3.org/2005/08/addressing"
ANONYMOUS = f"{NS_WSA}/anonymous"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)
#: Headers this service understands (others with mustUnderstand get a MustUnderstand Fault).
_WSA_HEADERS = frozenset({"Action", "MessageID", "To", "From", "ReplyTo", "FaultTo", "RelatesTo"})


class SoapFault(OcppError):
    """
    A SOAP 1.2 Fault to answer with: C{code} (C{Sender}, C{Receiver},
    C{VersionMismatch}, C{MustUnderstand}), the OCPP error code as subcode.

    @ivar status: the HTTP status it is sent with (SOAP 1.2 Part 2, 7.5.1.2:
        400 for Sender, 500 for the others), unless given.
    """

    def __init__(
        self,
        description: str,
        code: ErrorCode = ErrorCode.FormationViolation,
        soap_code: str = "Sender",
        status: int | None = None,
    ) -> None:
        super().__init__(description, code=code)
        self.soap_code = soap_code
        self.status = status if status is not None else (400 if soap_code == "Sender" else 500)


def sender_or_receiver(code: ErrorCode) -> str:
    """Whose fault an OCPP error code is: the station's (C{Sender}) or ours (C{Receiver})."""
    return "Receiver" if code in (ErrorCode.InternalError, ErrorCode.GenericError) else "Sender"


@dataclass(slots=True)
class Request:
    """A parsed request envelope."""

    body: etree._Element
    namespace: str
    identity: str | None
    message_id: str
    from_address: str | None
    reply_to: str | None
    to: str | None
    action: str | None


def parse(data: bytes, max_body: int) -> Request:
    """
    Parse a request envelope.

    @raise SoapFault: see the module docstring.
    """
    if len(data) > max_body:
        raise SoapFault(f"The request is larger than {max_body} bytes", status=413)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise SoapFault("A SOAP message must not contain a document type declaration")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise SoapFault(f"Not well-formed XML: {e}") from None
    if root.getroottree().docinfo.doctype or root.getroottree().docinfo.internalDTD:
        raise SoapFault("A SOAP message must not contain a document type declaration")
    if root.tag == f"{{{NS_SOAP11}}}Envelope":
        raise SoapFault(
            "SOAP 1.1 is not supported: OCPP-S is SOAP 1.2", soap_code="VersionMismatch"
        )
    if root.tag != f"{{{NS_SOAP}}}Envelope":
        raise SoapFault(f"Not a SOAP 1.2 envelope: {root.tag}")
    body = root.find(f"{{{NS_SOAP}}}Body")
    if body is None:
        raise SoapFault("The envelope has no Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapFault(f"The Body must hold one element, not {len(children)}")
    element = children[0]
    namespace = etree.QName(element).namespace or ""
    header = root.find(f"{{{NS_SOAP}}}Header")
    values: dict[str, str] = {}
    identity = None
    for item in header if header is not None else ():
        if not isinstance(item.tag, str):
            continue
        name = etree.QName(item)
        if name.localname == "chargeBoxIdentity" and name.namespace in (namespace, None):
            identity = (item.text or "").strip()
        elif name.namespace == NS_WSA and name.localname in _WSA_HEADERS:
            address = item.find(f"{{{NS_WSA}}}Address")
            values[name.localname] = ((address if address is not None else item).text or "").strip()
        elif item.get(f"{{{NS_SOAP}}}mustUnderstand") in ("true", "1"):
            raise SoapFault(f"Header {item.tag} is not understood", soap_code="MustUnderstand")
    return Request(
        element,
        namespace,
        identity,
        values.get("MessageID") or f"urn:uuid:{uuid.uuid4()}",
        values.get("From"),
        values.get("ReplyTo"),
        values.get("To"),
        values.get("Action"),
    )


def _envelope(namespace: str) -> tuple[etree._Element, etree._Element, etree._Element]:
    root = etree.Element(
        f"{{{NS_SOAP}}}Envelope", nsmap={"s": NS_SOAP, "a": NS_WSA, "o": namespace}
    )
    return (
        root,
        etree.SubElement(root, f"{{{NS_SOAP}}}Header"),
        etree.SubElement(root, f"{{{NS_SOAP}}}Body"),
    )


def _addressing(header: etree._Element, action: str, request: Request | None) -> None:
    etree.SubElement(header, f"{{{NS_WSA}}}Action").text = action
    etree.SubElement(header, f"{{{NS_WSA}}}MessageID").text = f"urn:uuid:{uuid.uuid4()}"
    if request is not None:
        etree.SubElement(header, f"{{{NS_WSA}}}RelatesTo").text = request.message_id
        reply_to = request.reply_to if request.reply_to else ANONYMOUS
        etree.SubElement(header, f"{{{NS_WSA}}}To").text = reply_to


def reply(request: Request, action: str, element: etree._Element) -> bytes:
    """The reply envelope: WS-Addressing headers for C{action}, C{element} as its body."""
    root, header, body = _envelope(request.namespace)
    _addressing(header, action, request)
    body.append(element)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault(error: SoapFault | OcppError, namespace: str, request: Request | None = None) -> bytes:
    """
    A SOAP 1.2 Fault envelope: C{s:Sender} (or the error's code) with the
    OCPP error code as subcode in the service's namespace, the description
    as reason.
    """
    root, header, body = _envelope(namespace)
    _addressing(header, f"{NS_WSA}/fault", request)
    soap_code = getattr(error, "soap_code", None) or sender_or_receiver(error.code)
    node = etree.SubElement(body, f"{{{NS_SOAP}}}Fault")
    code = etree.SubElement(node, f"{{{NS_SOAP}}}Code")
    etree.SubElement(code, f"{{{NS_SOAP}}}Value").text = f"s:{soap_code}"
    subcode = etree.SubElement(code, f"{{{NS_SOAP}}}Subcode")
    etree.SubElement(subcode, f"{{{NS_SOAP}}}Value").text = f"o:{error.code.value}"
    reason = etree.SubElement(node, f"{{{NS_SOAP}}}Reason")
    text = etree.SubElement(reason, f"{{{NS_SOAP}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = error.description or error.code.value
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
