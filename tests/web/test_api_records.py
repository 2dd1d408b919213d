"""
The routes over stored records through real HTTP: the original's
TransactionList and ReservationList, one transaction with its meter values,
id tags, refused id tags and the frame log.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation
from tests.web.conftest import WebCentral

T1 = "2026-01-10T08:00:00.000Z"
T2 = "2026-02-10T08:00:00.000Z"


async def charge(
    station: RawStation, tag: str, start: str, meter_start: int, meter_stop: int | None
) -> int:
    """Start (and stop, with C{meter_stop}) a transaction with meter values; its id."""
    reply = await aio(
        station.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": tag, "meterStart": meter_start, "timestamp": start},
        )
    )
    txn = reply["transactionId"]
    sample = {"value": str(meter_start + 5), "measurand": "Energy.Active.Import.Register"}
    await aio(
        station.result(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": txn,
                "meterValue": [{"timestamp": start, "sampledValue": [sample]}],
            },
        )
    )
    if meter_stop is not None:
        await aio(
            station.result(
                "StopTransaction",
                {
                    "transactionId": txn,
                    "meterStop": meter_stop,
                    "timestamp": start,
                    "reason": "Local",
                },
            )
        )
    return txn


@pytest_twisted.ensureDeferred
async def test_transactions(web: WebCentral) -> None:
    """TransactionList by GET and POST with the original's field names; one transaction."""
    await web.api.put("/ChargePoint/TX-1")
    await web.api.put("/ChargePoint/TX-2")
    await web.api.put("/IdTag/TX-TAG", {"status": "Accepted"})
    one = await web.station("TX-1", boot=True)
    two = await web.station("TX-2", boot=True)
    try:
        first = await charge(one, "TX-TAG", T1, 1000, 1500)
        second = await charge(one, "TX-TAG", T2, 1500, None)
        other = await charge(two, "TX-TAG", T2, 0, 10)
        open_now = await web.service.backend.count_open_transactions()
    finally:
        await aio(one.close())
        await aio(two.close())
    assert open_now >= 1

    body = (await web.api.get("/CentralSystem/TransactionList", identity="TX-1")).json
    assert [t["id"] for t in body["TransactionList"]] == [second, first]
    assert body["total"] == 2 and body["nextOffset"] is None
    done = body["TransactionList"][1]
    assert done == {
        "id": first,
        "idTag": "TX-TAG",
        "identity": "TX-1",
        "serialNumber": None,
        "connectorId": 1,
        "meterStart": 1000,
        "meterStop": 1500,
        "value": 500,
        "reservationId": None,
        "reason": "Local",
        "dateStart": T1,
        "dateStop": T1,
        "idTagStatus": "Accepted",
        "stopIdTag": None,
        "abandoned": False,
        "abandonedBy": None,
    }
    # The original's clients POST their filters.
    posted = await web.api.post(
        "/CentralSystem/TransactionList",
        {"identity": "TX-1", "dateFrom": "2026-02-01", "dateTo": "2026-03-01T00:00:00+01:00"},
    )
    assert [t["id"] for t in posted.json["TransactionList"]] == [second]
    got = await web.api.get(
        "/CentralSystem/TransactionList", dateFrom="2026-02-10T08:00:00Z", dateTo="2026-02-11"
    )
    assert {other, second} <= {t["id"] for t in got.json["TransactionList"]}
    assert first not in {t["id"] for t in got.json["TransactionList"]}
    page = (await web.api.post("/CentralSystem/TransactionList", {"limit": 1, "offset": 1})).json
    assert len(page["TransactionList"]) == 1 and page["nextOffset"] == 2 and page["total"] >= 3
    # The short path answers the same, by GET and POST.
    assert (await web.api.get("/TransactionList", identity="TX-1")).json == body
    short = await web.api.post("/TransactionList", {"identity": "TX-1", "dateFrom": "2026-02-01"})
    assert [t["id"] for t in short.json["TransactionList"]] == [second]

    detail = (await web.api.get(f"/Transaction/{first}")).json
    assert detail["meterStop"] == 1500
    [sample] = detail["meterValues"]
    assert sample == {
        "timestamp": T1,
        "value": "1005",
        "source": "MeterValues",
        "measurand": "Energy.Active.Import.Register",
    }
    (await web.api.get("/Transaction/999999")).error(404)
    (await web.api.get("/Transaction/0")).error(404)
    (await web.api.get("/Transaction/" + "9" * 30)).error(404)
    (await web.api.get("/Transaction/abc")).error(400)


@pytest_twisted.ensureDeferred
async def test_transactions_by_id_tag(web: WebCentral) -> None:
    """TransactionList's idTag filter (the web UI's), by GET and POST, with the others."""
    await web.api.put("/ChargePoint/TX-3")
    for tag in ("TX-A", "TX-B"):
        await web.api.put(f"/IdTag/{tag}", {"status": "Accepted"})
    station = await web.station("TX-3", boot=True)
    try:
        a = await charge(station, "TX-A", T1, 0, 10)
        b = await charge(station, "TX-B", T2, 10, 20)
    finally:
        await aio(station.close())
    got = (await web.api.get("/CentralSystem/TransactionList", idTag="TX-A")).json
    assert [t["id"] for t in got["TransactionList"]] == [a] and got["total"] == 1
    posted = await web.api.post(
        "/CentralSystem/TransactionList", {"identity": "TX-3", "idTag": "TX-B"}
    )
    assert [t["id"] for t in posted.json["TransactionList"]] == [b]
    later = await web.api.get(
        "/CentralSystem/TransactionList", idTag="TX-A", dateFrom="2026-02-10T08:00:00Z"
    )
    assert later.json["TransactionList"] == []
    none = await web.api.get("/CentralSystem/TransactionList", idTag="NO-SUCH", identity="TX-3")
    assert none.json["total"] == 0
    # Reservations have no idTag filter.
    (await web.api.get("/CentralSystem/ReservationList", idTag="TX-A")).error(400)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {"params": {"dateFrom": "yesterday"}}),
        ("GET", {"params": {"dateTo": "0001-01-01T00:00:00+01:00"}}),
        ("GET", {"params": {"id": "1"}}),
        ("GET", {"params": {"limit": "0"}}),
        ("POST", {"json": {"identity": 5}}),
        ("POST", {"json": {"dateFrom": "2026-13-01"}}),
        ("POST", {"json": {"limit": "10"}}),
        ("POST", {"json": {"limit": True}}),
        ("POST", {"json": {"offset": -1}}),
        ("POST", {"json": {"from": "2026-01-01"}}),
        ("POST", {"json": ["TX-1"]}),
        ("POST", {"data": b"{"}),
        ("POST", {"json": {"identity": "TX-1"}, "params": {"limit": "1"}}),
    ],
)
@pytest_twisted.ensureDeferred
async def test_list_filters_rejected(web: WebCentral, method: str, kwargs: dict[str, Any]) -> None:
    """Bad filters, unknown members or parameters, wrong types: 400 for both lists."""
    for path in ("/CentralSystem/TransactionList", "/CentralSystem/ReservationList"):
        (await web.api.request(method, path, **kwargs)).error(400)


@pytest_twisted.ensureDeferred
async def test_post_with_empty_body_uses_the_query(web: WebCentral) -> None:
    reply = await web.api.request(
        "POST", "/CentralSystem/TransactionList", params={"identity": "NOBODY", "limit": "5"}
    )
    assert reply.json == {
        "TransactionList": [],
        "total": 0,
        "limit": 5,
        "offset": 0,
        "nextOffset": None,
    }


@pytest_twisted.ensureDeferred
async def test_id_tags(web: WebCentral) -> None:
    """PUT validates and stores; GET, the list and DELETE see it."""
    reply = await web.api.put(
        "/IdTag/TAG-A",
        {"status": "Blocked", "expiryDate": "2030-01-01T01:00:00+01:00", "parentIdTag": "PARENT"},
    )
    assert reply.status == 200
    assert reply.json == {
        "idTag": "TAG-A",
        "status": "Blocked",
        "expiryDate": "2030-01-01T00:00:00.000Z",
        "parentIdTag": "PARENT",
    }
    await web.api.put("/IdTag/TAG-B", {"status": "Accepted", "expiryDate": None})
    assert (await web.api.get("/IdTag/TAG-A")).json["status"] == "Blocked"
    listed = (await web.api.get("/IdTagList", status="Blocked")).json
    assert "TAG-A" in [t["idTag"] for t in listed["IdTagList"]]
    assert all(t["status"] == "Blocked" for t in listed["IdTagList"])
    (await web.api.get("/IdTagList", status="Weird")).error(400)
    for bad in (
        {},
        {"status": "Maybe"},
        {"status": None},
        {"status": "Accepted", "expiryDate": "tomorrow"},
        {"status": "Accepted", "expiryDate": 5},
        {"status": "Accepted", "parentIdTag": "P" * 21},
        {"status": "Accepted", "colour": "red"},
        ["Accepted"],
    ):
        (await web.api.put("/IdTag/TAG-C", bad)).error(400)
    (await web.api.put("/IdTag/" + "T" * 21, {"status": "Accepted"})).error(400)
    (await web.api.put("/IdTag/TAG-C", data=b"")).error(400)
    (await web.api.get("/IdTag/TAG-C")).error(404)
    assert (await web.api.delete("/IdTag/TAG-A")).status == 204
    (await web.api.delete("/IdTag/TAG-A")).error(404)
    (await web.api.get("/IdTag/TAG-A")).error(404)


@pytest_twisted.ensureDeferred
async def test_refused_id_tags_accepted_in_one_call(web: WebCentral) -> None:
    """Tags refused to Authorize and StartTransaction are listed; accepting one lets it in."""
    await web.api.put("/ChargePoint/RID-1")
    await web.api.put("/IdTag/RID-BLOCKED", {"status": "Blocked"})
    station = await web.station("RID-1", boot=True)
    try:
        for _ in range(2):
            info = await aio(station.result("Authorize", {"idTag": "RID-UNKNOWN"}))
            assert info["idTagInfo"]["status"] == "Invalid"
        await aio(
            station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "RID-BLOCKED", "meterStart": 0, "timestamp": T1},
            )
        )
        listed = (await web.api.get("/Onboarding/RefusedIdTags", limit=1000)).json
        by_tag = {t["idTag"]: t for t in listed["RefusedIdTags"]}
        unknown = by_tag["RID-UNKNOWN"]
        assert (unknown["status"], unknown["count"], unknown["identity"]) == ("Invalid", 2, "RID-1")
        assert unknown["action"] == "Authorize" and unknown["firstSeen"] <= unknown["lastSeen"]
        blocked = by_tag["RID-BLOCKED"]
        assert (blocked["status"], blocked["action"]) == ("Blocked", "StartTransaction")

        reply = await web.api.post("/Onboarding/RefusedIdTags/RID-UNKNOWN/accept")
        assert reply.json == {
            "idTag": "RID-UNKNOWN",
            "status": "Accepted",
            "expiryDate": None,
            "parentIdTag": None,
        }
        info = await aio(station.result("Authorize", {"idTag": "RID-UNKNOWN"}))
        assert info["idTagInfo"]["status"] == "Accepted"
        (await web.api.post("/Onboarding/RefusedIdTags/RID-UNKNOWN/accept")).error(404)
        # Making a tag Accepted by PUT takes it off the list too.
        await web.api.put("/IdTag/RID-BLOCKED", {"status": "Accepted"})
        listed = (await web.api.get("/Onboarding/RefusedIdTags", limit=1000)).json
        assert not {"RID-UNKNOWN", "RID-BLOCKED"} & {t["idTag"] for t in listed["RefusedIdTags"]}
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_log(web: WebCentral) -> None:
    """The frame log: newest first, filtered, paged by offset and by cursor."""
    await web.api.put("/ChargePoint/LOG-1")
    station = await web.station("LOG-1", boot=True)
    try:
        for _ in range(3):
            await aio(station.heartbeat())
        await aio(station.send([2, "bad", "Nonsense", {}]))
        await aio(station.recv())
    finally:
        await aio(station.close())
    web.service.backend.store.flush()
    body = (await web.api.get("/Log", identity="LOG-1")).json
    frames = body["Log"]
    assert [(f["direction"], f["messageType"], f["action"]) for f in frames[:4]] == [
        ("out", "CallError", "Nonsense"),
        ("in", "Call", "Nonsense"),
        ("out", "CallResult", "Heartbeat"),
        ("in", "Call", "Heartbeat"),
    ]
    error = frames[0]
    assert error["errorCode"] == "NotImplemented" and error["payload"] == {}
    assert frames[1]["payload"] == {} and frames[1]["uniqueId"] == "bad"
    assert "currentTime" in frames[2]["payload"]
    assert len(frames) == 10 and body["nextOffset"] is None and body["nextCursor"] is None

    beats = (await web.api.get("/Log", identity="LOG-1", action="Heartbeat", limit=2)).json
    assert len(beats["Log"]) == 2 and beats["nextOffset"] == 2
    assert all(f["action"] == "Heartbeat" for f in beats["Log"])
    rest = (
        await web.api.get("/Log", identity="LOG-1", action="Heartbeat", before=beats["nextCursor"])
    ).json
    assert [f["id"] for f in beats["Log"] + rest["Log"]] == [
        f["id"] for f in frames if f["action"] == "Heartbeat"
    ]
    by_offset = (await web.api.get("/Log", identity="LOG-1", action="Heartbeat", offset=2)).json
    assert by_offset["Log"] == rest["Log"]
    assert (await web.api.get("/Log", identity="LOG-1", since="2100-01-01")).json["Log"] == []
    since = frames[1]["ts"]
    recent = (await web.api.get("/Log", identity="LOG-1", since=since)).json["Log"]
    assert frames[0] in recent and frames[1] in recent
    assert recent == [f for f in frames if f["ts"] >= since]
    for bad in ({"since": "later"}, {"before": "0"}, {"before": "x"}, {"level": "1"}):
        (await web.api.get("/Log", **bad)).error(400)


@pytest_twisted.ensureDeferred
async def test_log_shows_frames_it_cannot_read_as_raw_text(web: WebCentral) -> None:
    """
    A frame nested too deep to be written back (300 levels) and one with a
    lone surrogate escape are listed with their raw text, beside the
    CALLERRORs answering them; the listing does not fail.
    """
    deep = '[2, "deep", "FooBar", {"a": ' + "[" * 300 + "]" * 300 + "}]"
    lone = '[2, "lone", "FooBar", {"a": "\\ud800"}]'
    station = await web.station("LOG-RAW", boot=True)
    try:
        for frame in (deep, lone):
            await aio(station.send(frame))
            await aio(station.recv())
    finally:
        await aio(station.close())
    web.service.backend.store.flush()
    frames = (await web.api.get("/Log", identity="LOG-RAW")).json["Log"]
    by_key = {(f["direction"], f["uniqueId"]): f for f in frames}
    assert by_key[("in", "deep")]["raw"] == deep and "payload" not in by_key[("in", "deep")]
    assert by_key[("in", "lone")]["raw"] == lone
    assert by_key[("out", "deep")]["errorCode"] == "FormationViolation"
    assert by_key[("out", "lone")]["payload"] == {"path": "$.a"}
