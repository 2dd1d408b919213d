"""
Nodes coming and going on one real PostgreSQL: a station that reconnects
to another node is followed (the old node closes its stale connection); a
node that stops, hangs or is killed is noticed within its C{dead_after}
(C{heartbeat * missed}): its stations are shown offline everywhere and
commands for them answer 503, also one already waiting for its reply.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import psycopg2
import pytest_twisted
from websockets.exceptions import ConnectionClosed

from tests.cluster.conftest import HEARTBEAT, Node, start_node, wait_for
from tests.cluster.test_routing import next_call
from tests.integration.conftest import aio
from tests.integration.rawstation import WAIT, RawStation
from tests.integration.test_restart import LISTENING, spawn, write_config

#: When a node that stopped heartbeating must have been noticed: its
#: dead_after (3 heartbeats), one more heartbeat of the noticing node's, and
#: slack for a loaded machine.
NOTICED_WITHIN = 3 * HEARTBEAT + HEARTBEAT + 2.0


async def where(node: Node, identity: str) -> str | None:
    """The node C{node}'s API says C{identity} is connected to (C{None}: offline)."""
    detail = (await node.api.get(f"/ChargePoint/{identity}")).json
    assert detail["online"] is (detail["connection"] is not None), detail
    assert detail["online"] is (detail["node"] is not None), detail
    return detail["node"]


def hang(node: Node) -> None:
    """Make C{node} look hung to the others: no more heartbeats, notifications unread."""
    cluster: Any = node.cluster
    cluster._loop.stop()
    cluster._channel.stop()


async def closed_by_server(station: RawStation) -> None:
    """Wait (bounded) until the server closes C{station}'s connection."""
    try:
        while True:
            await station.recv()
    except ConnectionClosed:
        return


@pytest_twisted.ensureDeferred
async def test_station_moving_to_another_node_is_followed(cluster_dsn: str, tmp_path: Path) -> None:
    a = await start_node(cluster_dsn, tmp_path, "A")
    b = await start_node(cluster_dsn, tmp_path, "B")
    try:
        for node in (a, b):
            assert (await node.api.put("/ChargePoint/MV-1")).status == 200
        old = await a.station("MV-1")
        assert await where(b, "MV-1") == "A"
        new = await b.station("MV-1")
        # A is told (NOTIFY) and closes the stale connection.
        await aio(asyncio.wait_for(closed_by_server(old), WAIT))
        assert "MV-1" not in a.service.registry
        for node in (a, b):
            assert await wait_for(lambda n=node: where(n, "MV-1"), WAIT, "moved") == "B"
        # A command sent to A now reaches the connection on B.
        reply = a.api.post("/ChargePoint/MV-1/Reset", {"type": "Soft"})
        unique_id, _ = await next_call(new, "Reset")
        await aio(new.send([3, unique_id, {"status": "Accepted"}]))
        assert (await reply).json == {"status": "Accepted"}
        await aio(new.close())
        for node in (a, b):
            assert await wait_for(lambda n=node: _offline(n, "MV-1"), WAIT, "offline")
    finally:
        await b.stop()
        await a.stop()


async def _offline(node: Node, identity: str) -> bool:
    return await where(node, identity) is None


@pytest_twisted.ensureDeferred
async def test_stopped_and_hung_nodes(cluster_dsn: str, tmp_path: Path) -> None:
    """
    A node that stops cleanly is dead at once; one that stops heartbeating
    is dead after its dead_after; a command waiting on it then answers 503.
    """
    a = await start_node(cluster_dsn, tmp_path, "A")
    b = await start_node(cluster_dsn, tmp_path, "B")
    c = await start_node(cluster_dsn, tmp_path, "C")
    try:
        for node in (a, b, c):
            for identity in ("DN-A", "DN-C"):
                assert (await node.api.put(f"/ChargePoint/{identity}")).status == 200
        on_a = await a.station("DN-A")
        on_c = await c.station("DN-C")
        assert await where(b, "DN-A") == "A" and await where(b, "DN-C") == "C"

        await c.stop()
        assert await where(b, "DN-C") is None
        result = await b.api.post("/ChargePoint/DN-C/Reset", {"type": "Soft"})
        assert result.error(503) == "Charge point 'DN-C' is not connected"

        # A command is on its way to DN-A when A hangs.
        reply = b.api.post("/ChargePoint/DN-A/Reset", {"type": "Soft"}, params={"timeout": 60})
        await next_call(on_a, "Reset")
        hang(a)
        message = (await reply).error(503)
        assert message.startswith("Charge point 'DN-A' disconnected: its node A is gone")
        assert await wait_for(lambda: _offline(b, "DN-A"), NOTICED_WITHIN, "A noticed dead")
        result = await b.api.post("/ChargePoint/DN-A/Reset", {"type": "Soft"})
        assert result.error(503) == "Charge point 'DN-A' is not connected"
        listed = (await b.api.get("/ChargePointList")).json
        assert not [e for e in listed if e["identity"].startswith("DN-") and "connection" in e]
        await aio(on_a.close())
        await aio(on_c.close())
    finally:
        for node in (c, b, a):
            await node.stop()


@pytest_twisted.ensureDeferred
async def test_killed_twistd_node(cluster_dsn: str, tmp_path: Path) -> None:
    """
    Node A is a real C{twistd ocppcs} process: B (here) routes a command to
    A's station across processes; A killed (SIGKILL) is noticed in time.
    """
    config = write_config(
        tmp_path,
        "[server]\nlisten = tcp:0:interface=127.0.0.1\n"
        f"[embedded]\npath = {tmp_path / 'a.sqlite3'}\n"
        f"[postgres]\nconninfo = {cluster_dsn}\n"
        f"[cluster]\nenable = true\nnode = twistd-A\nheartbeat = {HEARTBEAT}\n",
    )
    b = await start_node(cluster_dsn, tmp_path, "B")
    twistd = await aio(spawn(tmp_path, "--config", str(config)))
    try:
        port = int((await aio(twistd.wait_for_output(LISTENING))).group(1))
        await aio(twistd.wait_for_output(re.compile(rb"Node twistd-A joined the cluster")))
        station = await aio(RawStation.connect(f"ws://127.0.0.1:{port}/ocpp", "KL-1"))
        await aio(station.boot())
        assert (await b.api.put("/ChargePoint/KL-1")).status == 200
        assert await wait_for(lambda: where(b, "KL-1"), WAIT, "KL-1 on A") == "twistd-A"
        reply = b.api.post("/ChargePoint/KL-1/GetLocalListVersion")
        unique_id, _ = await next_call(station, "GetLocalListVersion")
        await aio(station.send([3, unique_id, {"listVersion": 7}]))
        assert (await reply).json == {"listVersion": 7}

        twistd.process.kill()
        await aio(twistd.wait())
        assert await wait_for(lambda: _offline(b, "KL-1"), NOTICED_WITHIN, "killed A noticed")
        result = await b.api.post("/ChargePoint/KL-1/Reset", {"type": "Soft"})
        assert result.error(503) == "Charge point 'KL-1' is not connected"
    finally:
        await aio(twistd.kill())
        await b.stop()


@pytest_twisted.ensureDeferred
async def test_database_restart(tmp_path: Path, events: list[dict[str, Any]]) -> None:
    """
    The database crashes and restarts under two nodes: meanwhile a command
    through B answers 503 and B's lists show only its own stations; once it
    is back, the nodes heartbeat and listen again and commands route.
    """
    from ocppcs.backends.postgres.migrate import apply_migrations
    from ocppcs.backends.postgres.throwaway import ThrowawayPostgres

    server = ThrowawayPostgres().start()  # of its own: this test crashes it
    dsn = server.create_database("restart")
    apply_migrations(dsn)
    # The embedded record: this is about the cluster's part (the PostgreSQL
    # record's own behaviour with its database down: tests/integration).
    a = await start_node(dsn, tmp_path, "A", backend="embedded")
    b = await start_node(dsn, tmp_path, "B", backend="embedded")
    try:
        assert (await b.api.put("/ChargePoint/DB-1")).status == 200
        station = await a.station("DB-1")
        assert await where(b, "DB-1") == "A"
        server.stop("immediate")
        result = await b.api.post("/ChargePoint/DB-1/Reset", {"type": "Soft"})
        assert "the cluster's database is unreachable" in result.error(503)
        assert await where(b, "DB-1") is None
        server.start()
        assert await wait_for(lambda: where(b, "DB-1"), 30, "the cluster back") == "A"
        reply = b.api.post("/ChargePoint/DB-1/Reset", {"type": "Soft"})
        unique_id, _ = await next_call(station, "Reset")
        await aio(station.send([3, unique_id, {"status": "Accepted"}]))
        assert (await reply).json == {"status": "Accepted"}
        await aio(station.close())
    finally:
        await b.stop()
        await a.stop()
        server.close()
        # The reactor logs the crash as seen by each idle txpostgres connection.
        events[:] = [e for e in events if not _lost_connection(e)]


def _lost_connection(event: dict[str, Any]) -> bool:
    failure = event.get("log_failure")
    return failure is not None and failure.check(psycopg2.OperationalError) is not None
