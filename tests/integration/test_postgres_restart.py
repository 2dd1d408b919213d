"""
PostgreSQL crashing and restarting under load (C{[backend] type = postgres}):
while it is down the stations get CALLERROR InternalError, the pool
reconnects once it is back, and nothing already acknowledged is lost: every
StopTransaction and MeterValues answered before the crash is in the database
after it.

The server runs with C{synchronous_commit = on} (as an operator's must: with
it off, PostgreSQL acknowledges commits it may lose in a crash) and is
stopped with C{immediate}, which is a crash for PostgreSQL (no checkpoint,
recovery from the WAL at the next start).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg2
import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet.threads import deferToThread

from ocppcs.backends.postgres.throwaway import ThrowawayPostgres
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation, now
from tests.web.conftest import start_web_central, stop_web_central

reactor: Any = _reactor

STATIONS = 4


class Load:
    """Stations charging over and over, keeping what was acknowledged."""

    def __init__(self) -> None:
        self.stops: dict[int, int] = {}  # transaction id -> meterStop acknowledged
        self.values: set[tuple[int, str]] = set()  # (transaction id, value) acknowledged
        self.errors: list[str] = []  # descriptions of the InternalErrors
        self.running = True

    async def _call(self, station: RawStation, action: str, payload: dict[str, Any]) -> Any:
        reply = await station.call(action, payload)
        if reply[0] == 3:
            return reply[2]
        assert reply[2] == "InternalError", reply
        self.errors.append(reply[3])
        await asyncio.sleep(0.05)
        return None

    async def station(self, url: str, identity: str) -> None:
        station = await RawStation.connect(url, identity)
        try:
            while (await self._call(station, "BootNotification", _BOOT)) is None:
                pass
            n = 0
            while self.running:
                n += 1
                start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": now()}
                reply = await self._call(station, "StartTransaction", start)
                if reply is None:
                    continue
                tid = reply["transactionId"]
                for k in range(2):
                    value = f"{identity}-{n}-{k}"
                    sample = {"timestamp": now(), "sampledValue": [{"value": value}]}
                    meter = {"connectorId": 1, "transactionId": tid, "meterValue": [sample]}
                    if await self._call(station, "MeterValues", meter) is not None:
                        self.values.add((tid, value))
                stop = {"transactionId": tid, "meterStop": n, "timestamp": now()}
                while await self._call(station, "StopTransaction", stop) is None:
                    pass  # a station sends it again until answered (OCPP 1.6, 4.10)
                self.stops[tid] = n
        finally:
            await station.close()


_BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Crash"}


async def _wait(seconds: float) -> None:
    from twisted.internet.task import deferLater

    await deferLater(reactor, seconds, lambda: None)


@pytest_twisted.ensureDeferred
async def test_nothing_acknowledged_is_lost_across_a_crash(tmp_path: Path) -> None:
    server = ThrowawayPostgres(extra=("-c synchronous_commit=on",)).start()
    try:
        dsn = server.create_database("durable")
        web = await start_web_central(
            tmp_path, postgres={"conninfo": dsn, "statement_timeout": 5, "pool_size": 4}
        )
        load = Load()
        try:
            runs = [aio(load.station(web.station_url, f"CRASH-{i}")) for i in range(STATIONS)]
            await _wait(1.0)
            before = len(load.stops)
            await deferToThread(server.stop, "immediate")
            acknowledged_before = dict(load.stops), set(load.values)
            await _wait(1.0)
            await deferToThread(server.start)
            for _ in range(300):  # the pool reconnects (backoff), then calls are answered
                await _wait(0.1)
                if len(load.stops) >= len(acknowledged_before[0]) + 2 * STATIONS:
                    break
            load.running = False
            for run in runs:
                await run
        finally:
            await stop_web_central(web)
        assert before > 0, "no charging session was answered before the crash"
        assert "Database connection error" in load.errors, load.errors[:5]
        assert len(load.stops) >= len(acknowledged_before[0]) + 2 * STATIONS, "no recovery"
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT id, meter_stop FROM ocpp.transaction")
            stored_stops = dict(cur.fetchall())
            cur.execute("SELECT transaction_id, value FROM ocpp.meter_value")
            stored_values = set(cur.fetchall())
        conn.close()
    finally:
        server.close()
    lost_stops = {t: m for t, m in load.stops.items() if stored_stops.get(t) != m}
    assert not lost_stops, f"acknowledged StopTransactions lost: {lost_stops}"
    lost_values = load.values - stored_values
    assert not lost_values, f"acknowledged MeterValues lost: {sorted(lost_values)[:10]}"
    # The ones acknowledged before the crash are among them, of course.
    assert set(acknowledged_before[0]) <= set(stored_stops)
