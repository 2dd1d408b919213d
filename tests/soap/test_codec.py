"""
The WSDL-driven codec and the 1.5 mapping, on their own: values and times,
element order from the WSDL, and the 1.5 <-> 1.6 differences.
"""

from __future__ import annotations

import pytest
from lxml import etree

from ocppcs.soap import codec, v15, wsdl

CS16 = wsdl.service("cs", "1.6")
CS15 = wsdl.service("cs", "1.5")


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z"),
        ("2026-12-03T11:00:00+01:00", "2026-12-03T10:00:00Z"),
        ("2026-12-03T10:00:00", "2026-12-03T10:00:00Z"),  # no zone: UTC
        ("2026-12-03T10:00:00.250Z", "2026-12-03T10:00:00.250Z"),
    ],
)
def test_times_become_utc_text(text: str, utc: str) -> None:
    assert codec.utc_text(text) == utc


def test_encode_follows_the_wsdl_sequence() -> None:
    element = codec.encode(
        CS16,
        "startTransactionResponse",
        {"idTagInfo": {"parentIdTag": "P", "status": "Accepted"}, "transactionId": 7},
    )
    assert CS16.schema.validate(element), CS16.schema.error_log
    names = [etree.QName(e).localname for e in element.iter() if e is not element]
    assert names == ["transactionId", "idTagInfo", "status", "parentIdTag"]
    assert element.nsmap[None] == "urn://Ocpp/Cs/2015/10/"


def test_decode_types() -> None:
    xml = (
        '<meterValuesRequest xmlns="urn://Ocpp/Cs/2015/10/"><connectorId>2</connectorId>'
        "<meterValue><timestamp>2026-12-03T11:00:00+01:00</timestamp>"
        "<sampledValue><value>1.5</value><unit>kWh</unit></sampledValue>"
        "<sampledValue><value>7</value></sampledValue></meterValue></meterValuesRequest>"
    )
    element = etree.fromstring(xml)
    assert CS16.schema.validate(element)
    assert codec.decode(CS16, element) == {
        "connectorId": 2,
        "meterValue": [
            {
                "timestamp": "2026-12-03T10:00:00Z",
                "sampledValue": [{"value": "1.5", "unit": "kWh"}, {"value": "7"}],
            }
        ],
    }


def test_15_meter_values_and_units() -> None:
    xml = (
        '<meterValuesRequest xmlns="urn://Ocpp/Cs/2012/06/"><connectorId>1</connectorId>'
        "<transactionId>3</transactionId><values><timestamp>2026-12-03T10:00:00Z</timestamp>"
        '<value unit="Amp" measurand="Current.Import">16</value><value>1200</value>'
        "</values></meterValuesRequest>"
    )
    element = etree.fromstring(xml)
    assert CS15.schema.validate(element), CS15.schema.error_log
    payload = v15.request_to_16("MeterValues", codec.decode(CS15, element))
    assert payload == {
        "connectorId": 1,
        "transactionId": 3,
        "meterValue": [
            {
                "timestamp": "2026-12-03T10:00:00Z",
                "sampledValue": [
                    {"value": "16", "unit": "A", "measurand": "Current.Import"},
                    {"value": "1200"},
                ],
            }
        ],
    }


def test_15_status_notification() -> None:
    payload = {"connectorId": 1, "status": "Occupied", "errorCode": "Mode3Error"}
    assert v15.request_to_16("StatusNotification", payload) == {
        "connectorId": 1,
        "status": "Charging",
        "errorCode": "EVCommunicationError",
    }


@pytest.mark.parametrize(("status", "sent"), [("Accepted", "Accepted"), ("Pending", "Rejected")])
def test_15_boot_reply(status: str, sent: str) -> None:
    reply = {"status": status, "currentTime": "2026-12-03T10:00:00Z", "interval": 300}
    element = codec.encode(
        CS15, "bootNotificationResponse", v15.reply_from_16("BootNotification", reply)
    )
    assert CS15.schema.validate(element), CS15.schema.error_log
    ns = {"o": "urn://Ocpp/Cs/2012/06/"}
    assert element.findtext("o:status", namespaces=ns) == sent
    assert element.findtext("o:heartbeatInterval", namespaces=ns) == "300"
    assert element.find("o:interval", namespaces=ns) is None
