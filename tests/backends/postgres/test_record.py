"""
The PostgreSQL record in the real service (C{[backend] type = postgres}) on
a throwaway server: starting (migrating, or refusing a schema that is
behind with one line naming C{ocppcs-init-db}; the node's C{[central]}
handed to C{ocpp.Configure}), and the REST API's lists read from the
database (stations with their node, transactions, reservations, id tags).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg2
import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor

from ocppcs.backends.interface import BackendStartError
from ocppcs.backends.postgres import migrate
from ocppcs.backends.postgres.record import PostgresRecord
from ocppcs.backends.select import create_backend
from ocppcs.config import CentralConfig, ConfigError, PostgresConfig, parse_config
from tests.backends.webhooktools import eventually
from tests.integration.conftest import aio
from tests.integration.rawstation import now
from tests.web.conftest import start_web_central, stop_web_central

reactor: Any = _reactor


def _settings(dsn: str) -> dict[str, Any]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT key, value FROM ocpp.setting")
        rows = dict(cur.fetchall())
    conn.close()
    return rows


def test_postgres_type_makes_the_postgres_record_and_decider() -> None:
    config = parse_config("[backend]\ntype = postgres\n[postgres]\nmigrate = no\nbatch = 5\n")
    record, decider = create_backend(config, reactor)
    assert isinstance(record, PostgresRecord) and decider is record.rules
    assert decider.name == "postgres" and decider.keeps_record and decider.local_rules
    assert config.postgres.migrate is False and config.postgres.batch == 5


@pytest.mark.parametrize("text", ["batch = 0", "migrate = maybe", "log_max_rows = -1"])
def test_bad_postgres_keys_are_named(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"[postgres]\n{text}\n")
    assert caught.value.path == ("postgres", text.split(" ")[0])


@pytest_twisted.ensureDeferred
async def test_start_migrates_and_configures(postgres_dsn: str) -> None:
    central = CentralConfig(heartbeat_interval=77, known_vendors=("acme", "zeta"))
    record = PostgresRecord(reactor, central, PostgresConfig(conninfo=postgres_dsn), node="n1")
    await record.startService()
    try:
        assert await migrate.check_version(record.database.pool) == migrate.latest_version()
        settings = _settings(postgres_dsn)
        assert settings["heartbeat_interval"] == 77
        assert settings["known_vendors"] == ["acme", "zeta"]
    finally:
        await record.stopService()


@pytest_twisted.ensureDeferred
async def test_a_schema_behind_is_refused_in_one_line(
    postgres_dsn: str, events: list[dict[str, Any]]
) -> None:
    config = PostgresConfig(conninfo=postgres_dsn, migrate=False)
    record = PostgresRecord(reactor, CentralConfig(), config)
    with pytest.raises(migrate.SchemaBehind) as caught:
        await record.startService()
    assert "ocppcs-init-db" in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, BackendStartError)
    # Nothing was created on the operator's behalf.
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('ocpp.migration')")
        assert cur.fetchone() == (None,)
    conn.close()


@pytest_twisted.ensureDeferred
async def test_an_unreachable_server_is_refused_in_one_line() -> None:
    config = PostgresConfig(conninfo="host=127.0.0.1 port=1 dbname=x connect_timeout=2")
    record = PostgresRecord(reactor, CentralConfig(), config)
    with pytest.raises(BackendStartError, match="cannot connect to PostgreSQL at .*port=1"):
        await record.startService()


@pytest_twisted.ensureDeferred
async def test_frames_are_logged_listed_and_pruned(ocpp_dsn: str, tmp_path: Path) -> None:
    central = await start_web_central(tmp_path, postgres={"conninfo": ocpp_dsn, "log_max_rows": 3})
    try:
        station = await central.station("PG-LOG", boot=True)
        await aio(station.heartbeat())
        await aio(station.close())
        record: Any = central.service.backend
        await record.frames.flush()
        frames = (await central.api.get("/Log", identity="PG-LOG")).json
        assert [f.get("action") for f in frames["Log"]][:4] == [
            "Heartbeat",
            "Heartbeat",
            "BootNotification",
            "BootNotification",
        ], frames
        await record.prune_frames()
        rows = await record.database.value("SELECT count(*) FROM ocpp.frame_log")
        assert rows == 3
    finally:
        await stop_web_central(central)


@pytest_twisted.ensureDeferred
async def test_the_rest_lists_read_the_database(ocpp_dsn: str, tmp_path: Path) -> None:
    central = await start_web_central(
        tmp_path, postgres={"conninfo": ocpp_dsn}, authorization="list"
    )
    api = central.api
    try:
        assert (await api.put("/IdTag/PG-TAG", {"status": "Accepted"})).status == 200
        assert (await api.put("/IdTag/PG-OLD", {"status": "Blocked"})).status == 200
        tags = (await api.get("/IdTagList", status="Accepted")).json
        assert [t["idTag"] for t in tags["IdTagList"]] == ["PG-TAG"]
        bad = await api.put("/IdTag/PG-X", {"status": "Maybe"})
        assert bad.status == 400

        station = await central.station("PG-REST", boot=True)
        start = {"connectorId": 1, "idTag": "PG-TAG", "meterStart": 5, "timestamp": now()}
        tid = (await aio(station.result("StartTransaction", start)))["transactionId"]
        blocked = {"connectorId": 2, "idTag": "PG-OLD", "meterStart": 0, "timestamp": now()}
        refused = await aio(station.result("StartTransaction", blocked))
        assert refused["idTagInfo"]["status"] == "Blocked"
        record: Any = central.service.backend
        await record.add_reservation("PG-REST", 1, "PG-TAG", "2099-01-01T00:00:00Z", None, 41)

        listed = (await api.get("/ChargePointList")).json
        entry = next(e for e in listed if e["identity"] == "PG-REST")
        assert entry["node"] == record.node and entry["bootNotification"]
        detail = (await api.get("/ChargePoint/PG-REST")).json
        assert detail["node"] == record.node and detail["online"] is True
        assert tid in [t["id"] for t in detail["openTransactions"]]

        txns = (await api.get("/CentralSystem/TransactionList", identity="PG-REST")).json
        assert tid in [t["id"] for t in txns["TransactionList"]]
        assert txns["total"] == len(txns["TransactionList"])
        reservations = (await api.get("/CentralSystem/ReservationList")).json
        assert [(r["id"], r["status"]) for r in reservations["ReservationList"]] == [
            (41, "Reserved")
        ]
        refusals = (await api.get("/Onboarding/RefusedIdTags")).json
        assert "PG-OLD" in str(refusals)
        await aio(station.close())

        async def offline() -> bool:
            detail = (await api.get("/ChargePoint/PG-REST")).json
            return detail["node"] is None

        await eventually(offline)
    finally:
        await stop_web_central(central)


@pytest_twisted.ensureDeferred
async def test_stopping_records_connected_stations_offline(ocpp_dsn: str, tmp_path: Path) -> None:
    """At shutdown the stations still connected are noted offline before the pool closes."""
    central = await start_web_central(tmp_path, postgres={"conninfo": ocpp_dsn})
    stations = [await central.station(f"PG-STOP-{n}", boot=True) for n in range(3)]
    record: Any = central.service.backend
    assert (await record.get_station("PG-STOP-0"))["connected"] is True
    await stop_web_central(central)
    for station in stations:
        await aio(station.close())
    with psycopg2.connect(ocpp_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT ocpp.GetStation(%s)", ("PG-STOP-2",))
        stored = cur.fetchone()[0]
    conn.close()
    assert stored["connected"] is False and stored["node"] is None


@pytest_twisted.ensureDeferred
async def test_station_key_hashes(ocpp_dsn: str) -> None:
    """The AuthorizationKey hashes of security profiles 1/2 live in PostgreSQL too."""
    record = PostgresRecord(reactor, CentralConfig(), PostgresConfig(conninfo=ocpp_dsn), node="n1")
    await record.startService()
    try:
        assert await record.station_key_hash("CP1") is None
        await record.set_station_key_hash("CP1", "scrypt$first")
        await record.set_station_key_hash("CP1", "scrypt$second")
        assert await record.station_key_hash("CP1") == "scrypt$second"
        await record.set_station_key_hash("CP1", None)
        assert await record.station_key_hash("CP1") is None
    finally:
        await record.stopService()
