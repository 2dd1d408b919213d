# -*- test-case-name: tests.soap.test_events -*-
"""
The 1.6 JSON payload of a SOAP message kept in the frame log, for readers of
the log that understand OCPP-J payloads (the station event feed).

    json_payload(raw) -> {"connectorId": 1, "status": "Charging", ...} | None

A station's request of either version comes in the 1.6 JSON shape (1.5
mapped as on arrival); a reply as its element holds it (the fields events
read, transactionId and idTagInfo, are alike in both versions). Anything else
(a Fault, XML that is not an OCPP-S message) gives C{None}.
"""

from __future__ import annotations

from typing import Any

from ocppcs.soap import codec, envelope, v15, wsdl


def json_payload(raw: bytes) -> dict[str, Any] | None:
    """The payload of a SOAP request or reply from the frame log, or C{None}."""
    try:
        message = envelope.parse(raw, len(raw))
    except envelope.SoapFault:
        return None
    service = wsdl.by_namespace(message.namespace)
    if service is None:
        return None
    name = message.body.tag.rpartition("}")[2]
    if name not in service.elements:
        return None
    try:
        payload = codec.decode(service, message.body)
    except (ValueError, KeyError):
        return None
    operation = service.by_request.get(name)
    if operation is not None and service.version == "1.5" and service.kind == "cs":
        payload = v15.request_to_16(operation.name, payload)
    return payload
