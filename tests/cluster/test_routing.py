"""
Two real nodes on one real PostgreSQL: a REST command for a station whose
WebSocket is on node A, sent to node B's REST API, reaches the station on
A, and B answers with its reply, or with the status code one node would
have answered (CALLERROR 200, 400, 404, 502, 503, 504).
"""

from __future__ import annotations

from typing import Any

import pytest_twisted

from tests.cluster.conftest import Node
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation


async def next_call(station: RawStation, action: str) -> tuple[str, dict[str, Any]]:
    """The station's next frame: a CALL of C{action}; its uniqueId and payload."""
    frame = await aio(station.recv())
    assert frame[0] == 2 and frame[2] == action, frame
    return frame[1], frame[3]


@pytest_twisted.ensureDeferred
async def test_command_through_the_other_node(pair: tuple[Node, Node]) -> None:
    """B routes a command to A's station; the station's reply comes back through B."""
    a, b = pair
    station = await a.station("RT-1")
    try:
        reply = b.api.post("/ChargePoint/RT-1/Reset", {"type": "Soft"})
        unique_id, sent = await next_call(station, "Reset")
        assert sent == {"type": "Soft"}
        await aio(station.send([3, unique_id, {"status": "Accepted"}]))
        result = await reply
        assert result.status == 200, result.body
        assert result.json == {"status": "Accepted"}
        # The same from A itself: no routing.
        reply = a.api.post("/ChargePoint/RT-1/ClearCache")
        unique_id, _ = await next_call(station, "ClearCache")
        await aio(station.send([3, unique_id, {"status": "Rejected"}]))
        assert (await reply).json == {"status": "Rejected"}
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_large_payloads_both_ways(pair: tuple[Node, Node]) -> None:
    """Payloads far beyond NOTIFY's 8000 bytes travel (the queue table carries them)."""
    a, b = pair
    station = await a.station("RT-BIG")
    big = "x" * 50_000
    try:
        reply = b.api.post("/ChargePoint/RT-BIG/DataTransfer", {"vendorId": "V", "data": big})
        unique_id, sent = await next_call(station, "DataTransfer")
        assert sent["data"] == big
        await aio(station.send([3, unique_id, {"status": "Accepted", "data": big + "y"}]))
        result = await reply
        assert result.status == 200, result.body
        assert result.json == {"status": "Accepted", "data": big + "y"}
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_station_errors_have_the_same_codes(pair: tuple[Node, Node]) -> None:
    """CALLERROR (200, error: true), invalid reply (502), invalid payload (400), timeout (504)."""
    a, b = pair
    station = await a.station("RT-ERR")
    try:
        reply = b.api.post("/ChargePoint/RT-ERR/Reset", {"type": "Hard"})
        unique_id, _ = await next_call(station, "Reset")
        await aio(station.send([4, unique_id, "NotSupported", "no resets", {"why": "demo"}]))
        result = await reply
        assert result.status == 200, result.body
        assert result.json == {
            "error": True,
            "errorCode": "NotSupported",
            "errorDescription": "no resets",
            "errorDetails": {"why": "demo"},
        }

        reply = b.api.post("/ChargePoint/RT-ERR/Reset", {"type": "Soft"})
        unique_id, _ = await next_call(station, "Reset")
        await aio(station.send([3, unique_id, {"status": "Maybe"}]))
        result = await reply
        assert "sent an invalid Reset reply" in result.error(502)
        assert result.json["error"]["path"] == "$.status"

        result = await b.api.post("/ChargePoint/RT-ERR/Reset", {"type": "Sideways"})
        assert "Invalid Reset request at $.type" in result.error(400)
        await aio(station.expect_nothing())

        reply = b.api.post("/ChargePoint/RT-ERR/Reset", {"type": "Soft"}, params={"timeout": 0.5})
        await next_call(station, "Reset")
        result = await reply
        assert result.error(504) == "Charge point 'RT-ERR' did not reply to Reset within 0.5s"
    finally:
        await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_disconnect_unknown_and_offline(pair: tuple[Node, Node]) -> None:
    """A station that drops before replying (503), one never seen (404), one offline (503)."""
    a, b = pair
    station = await a.station("RT-DROP")
    reply = b.api.post("/ChargePoint/RT-DROP/Reset", {"type": "Soft"})
    await next_call(station, "Reset")
    await aio(station.close())
    message = (await reply).error(503)
    assert message.startswith("Charge point 'RT-DROP' disconnected: connection closed")
    assert message.endswith("the command may or may not have run")

    result = await b.api.post("/ChargePoint/RT-NEVER/Reset", {"type": "Soft"})
    assert result.error(404) == "Charge point 'RT-NEVER' not found"
    # Known to B's record, connected nowhere.
    assert (await b.api.put("/ChargePoint/RT-DROP")).status == 200
    result = await b.api.post("/ChargePoint/RT-DROP/Reset", {"type": "Soft"})
    assert result.error(503) == "Charge point 'RT-DROP' is not connected"


@pytest_twisted.ensureDeferred
async def test_lists_show_the_node_of_each_station(pair: tuple[Node, Node]) -> None:
    """
    Each node's station list and detail (from the shared PostgreSQL record)
    show every station and where it is connected.
    """
    a, b = pair
    on_a = await a.station("RT-LIST-A")
    on_b = await b.station("RT-LIST-B")
    try:
        for node in (a, b):
            listed = (await node.api.get("/ChargePointList", limit=1000)).json
            where = {e["identity"]: e["node"] for e in listed}
            assert where["RT-LIST-A"] == "A" and where["RT-LIST-B"] == "B", (node.name, where)
            detail = (await node.api.get("/ChargePoint/RT-LIST-A")).json
            assert detail["online"] is True
            assert detail["node"] == "A"
            assert detail["connection"]["ip"] == "127.0.0.1"
            summary = (await node.api.get("/Summary", stations="false")).json
            assert summary["stations"]["online"] >= 2
    finally:
        await aio(on_a.close())
        await aio(on_b.close())
