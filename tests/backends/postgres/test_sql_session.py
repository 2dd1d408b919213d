"""
A whole charging session through C{ocpp.Parse} on a real PostgreSQL, the
SOAP extension points (C{ocpp.ParseXML}, C{ocpp.SOAPToJSON},
C{ocpp.JSONToSOAP}), and the shipped migrations applied twice.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ocppcs.backends.postgres import migrate
from tests.backends.postgres.sqltools import Db, boot

SOAP = "http://www.w3.org/2003/05/soap-envelope"
CS = "urn://Ocpp/Cs/2015/10/"


def test_charging_session(db: Db) -> None:
    """
    Boot, statuses, Authorize, StartTransaction, MeterValues, StopTransaction
    and Heartbeat of one station under list authorization: every answer, and
    what the operator sees afterwards.
    """
    db.configure(authorization="list", heartbeat_interval=120)
    db.fn("PutIdTag", "CARD", "Accepted", None, None)
    db.fn("StationConnected", "EVSE-1", "", "127.0.0.1:40000", "node-a")
    assert db.parse("BootNotification", boot(), identity="EVSE-1")["interval"] == 120

    def status(state: str, connector: int = 1) -> None:
        payload = {"connectorId": connector, "errorCode": "NoError", "status": state}
        assert db.parse("StatusNotification", payload, identity="EVSE-1") == {}

    status("Available", 0)
    status("Available")
    auth = db.parse("Authorize", {"idTag": "CARD"}, identity="EVSE-1")
    assert auth == {"idTagInfo": {"status": "Accepted"}}
    status("Preparing")
    begin = {
        "connectorId": 1,
        "idTag": "CARD",
        "meterStart": 1000,
        "timestamp": "2026-11-24T14:00:00Z",
    }
    started = db.parse("StartTransaction", begin, identity="EVSE-1")
    assert started["idTagInfo"] == {"status": "Accepted"}
    tid = started["transactionId"]
    status("Charging")
    for minute, wh in ((5, 1500), (10, 2100), (15, 2600)):
        sample = {
            "timestamp": f"2026-11-24T14:{minute:02d}:00Z",
            "sampledValue": [
                {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
            ],
        }
        payload = {"connectorId": 1, "transactionId": tid, "meterValue": [sample]}
        assert db.parse("MeterValues", payload, identity="EVSE-1") == {}
    assert db.fn("ChargePoint", "EVSE-1")["open_transactions"][0]["id"] == tid
    stop = {
        "transactionId": tid,
        "idTag": "CARD",
        "meterStop": 2800,
        "timestamp": "2026-11-24T14:20:00Z",
        "reason": "Local",
    }
    assert db.parse("StopTransaction", stop, identity="EVSE-1") == {
        "idTagInfo": {"status": "Accepted"}
    }
    status("Finishing")
    status("Available")
    assert "currentTime" in db.parse("Heartbeat", {}, identity="EVSE-1")
    db.fn("StationDisconnected", "EVSE-1", "node-a")

    station = db.fn("ChargePoint", "EVSE-1")
    assert (station["boot_status"], station["connected"], station["open_transactions"]) == (
        "Accepted",
        False,
        [],
    )
    assert [(c["connector_id"], c["status"]) for c in station["connectors"]] == [
        (0, "Available"),
        (1, "Available"),
    ]
    [listed] = db.fn("TransactionList", "EVSE-1", None, None, 10, 0, "CARD")["items"]
    assert (listed["meter_start"], listed["meter_stop"], listed["stop_reason"]) == (
        1000,
        2800,
        "Local",
    )
    txn = db.fn("Transaction", tid)
    assert [m["value"] for m in txn["meter_values"]] == [
        "1500",
        "7.2",
        "2100",
        "7.2",
        "2600",
        "7.2",
    ]
    assert db.fn("CountOpenTransactions") == 0
    assert db.fn("RefusedIdTagList", 10, 0)["total"] == 0


def test_parse_batch(db: Db) -> None:
    """
    ocpp.ParseBatch answers each call as Parse would, in order; a call that
    raises gets a CallError InternalError and leaves nothing behind, the
    others are kept.
    """
    sample = {"timestamp": "2026-11-24T14:00:00Z", "sampledValue": [{"value": "5"}]}
    calls = [
        ["B1", "u1", "BootNotification", boot(), "", "1.6"],
        ["B1", "u2", "MeterValues", {"connectorId": 1, "meterValue": [sample]}, "", "1.6"],
        [
            "B1",
            "u3",
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [{"timestamp": "x", "sampledValue": [{"value": "6"}]}],
            },
            "",
            "1.6",
        ],
        ["B1", "u4", "Reset", {}, "", "1.6"],
        ["B2", "u5", "Heartbeat", {}, "", "1.6"],
    ]
    results = db.fn("ParseBatch", calls)
    assert len(results) == 5
    assert results[0]["status"] == "Accepted" and results[1] == {}
    assert (results[2]["errorCode"], results[2]["errorDetails"]) == (
        "InternalError",
        {"sqlstate": "22007"},
    )
    assert results[3]["errorCode"] == "NotSupported" and "currentTime" in results[4]
    assert db.rows("SELECT value FROM ocpp.meter_value") == [("5",)]
    assert db.fn("GetStation", "B1")["vendor"] == "acme"
    assert db.fn("ParseBatch", []) == []


def _envelope(body: str, identity: str | None = "SOAP-1") -> str:
    header = (
        f'<s:Header><chargeBoxIdentity xmlns="{CS}">{identity}</chargeBoxIdentity>'
        '<a:MessageID xmlns:a="http://www.w3.org/2005/08/addressing">urn:uuid:1</a:MessageID>'
        "</s:Header>"
        if identity
        else ""
    )
    return f'<s:Envelope xmlns:s="{SOAP}">{header}<s:Body>{body}</s:Body></s:Envelope>'


def _body(text: str) -> ET.Element:
    root = ET.fromstring(text)
    body = root.find(f"{{{SOAP}}}Body")
    assert body is not None
    return body[0]


def test_parse_xml(db: Db) -> None:
    """
    A SOAP call goes through ocpp.Parse (identity from the header, action
    from the body element) and gets its SOAP response; a CallError or a bad
    document gets a Fault.
    """
    request = (
        f'<bootNotificationRequest xmlns="{CS}"><chargePointVendor>acme</chargePointVendor>'
        "<chargePointModel>M</chargePointModel></bootNotificationRequest>"
    )
    response = _body(db.fn("ParseXML", None, None, None, _envelope(request), "", "1.6"))
    assert response.tag == f"{{{CS}}}bootNotificationResponse"
    assert response.findtext(f"{{{CS}}}status") == "Accepted"
    assert response.findtext(f"{{{CS}}}interval") == "60"
    assert db.fn("GetStation", "SOAP-1")["vendor"] == "acme"
    meter = (
        f'<meterValuesRequest xmlns="{CS}"><connectorId>1</connectorId><transactionId>3'
        "</transactionId><meterValue><timestamp>2026-11-24T14:00:00Z</timestamp><sampledValue>"
        "<value>42</value><unit>Wh</unit></sampledValue></meterValue></meterValuesRequest>"
    )
    response = _body(db.fn("ParseXML", "SOAP-1", "m1", "MeterValues", _envelope(meter), "", None))
    assert response.tag == f"{{{CS}}}meterValuesResponse" and len(response) == 0
    assert db.rows("SELECT identity, transaction_id, value, unit FROM ocpp.meter_value") == [
        ("SOAP-1", 3, "42", "Wh")
    ]
    fault = _body(db.fn("ParseXML", None, None, None, _envelope("<resetRequest/>"), "", "1.6"))
    assert fault.tag == f"{{{SOAP}}}Fault"
    assert "NotSupported" in ET.tostring(fault, encoding="unicode")
    bad = _body(db.fn("ParseXML", "X", None, None, "<not xml", "", "1.6"))
    assert "FormationViolation" in ET.tostring(bad, encoding="unicode")
    no_body = _body(db.fn("ParseXML", "X", None, None, "<a/>", "", "1.6"))
    assert "no SOAP Body" in ET.tostring(no_body, encoding="unicode")


def test_soap_json_mapping(db: Db) -> None:
    """SOAPToJSON and JSONToSOAP map fields (nested, repeated, escaped) both ways."""
    payload = {
        "connectorId": "1",
        "idTag": "a<&>b",
        "chargingProfile": {
            "chargingProfileId": "7",
            "chargingSchedule": {"chargingSchedulePeriod": [{"limit": "16"}, {"limit": "8"}]},
        },
    }
    text = db.fn("JSONToSOAP", "RemoteStartTransaction", payload, "1.6")
    element = _body(text)
    assert element.tag == "{urn://Ocpp/Cp/2015/10/}remoteStartTransactionRequest"
    assert element.findtext("{urn://Ocpp/Cp/2015/10/}idTag") == "a<&>b"
    assert db.fn("SOAPToJSON", "RemoteStartTransaction", text, "1.6") == payload
    bare = "<heartbeatRequest/>"
    assert db.fn("SOAPToJSON", None, bare, None) == {}
    answer = _body(db.fn("JSONToSOAP", "HeartbeatResponse", {"currentTime": "t"}, "1.6"))
    assert answer.tag == f"{{{CS}}}heartbeatResponse"


def test_migrations_apply_once(ocpp_dsn: str) -> None:
    """Applying the shipped migrations again does nothing."""
    assert migrate.apply_migrations(ocpp_dsn) == []
