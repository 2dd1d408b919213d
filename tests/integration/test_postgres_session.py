"""
C{[backend] type = postgres} end to end: a whole charging session of a
station built on another OCPP implementation (the C{ocpp} package) answered
by C{ocpp.Parse} on a real PostgreSQL server, then read back from the
database; and C{/metrics} counting what the database could not answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg2
import pytest_twisted

from tests.integration.conftest import Central, aio
from tests.integration.rawstation import call_error
from tests.integration.test_ocpp_library_session import charging_session
from tests.web.conftest import start_web_central, stop_web_central


@pytest_twisted.ensureDeferred
async def test_whole_charging_session_through_parse(ocpp_dsn: str, tmp_path: Path) -> None:
    """Boot, authorize, start, meter values, a central Reset, stop: answered and in PostgreSQL."""
    web = await start_web_central(tmp_path, postgres={"conninfo": ocpp_dsn})
    try:
        out = await aio(charging_session(Central(web.service, web.port, tmp_path)))
        record: Any = web.service.backend
        station = await record.get_station("LIB-1")
        transaction = await record.transaction_detail(out["start"].transaction_id)
    finally:
        await stop_web_central(web)
    assert out["boot"].status == "Accepted" and out["boot"].interval == 60
    assert out["heartbeat"].current_time
    assert out["auth"].id_tag_info["status"] == "Accepted"
    assert out["start"].id_tag_info["status"] == "Accepted"
    assert out["stop"].id_tag_info["status"] == "Accepted"
    assert out["reset"] == {"status": "Accepted"} and out["station_resets"] == ["Soft"]

    assert (station["vendor"], station["model"]) == ("Acme", "Lib")
    assert (station["charge_point_serial"], station["firmware_version"]) == ("SN-1", "1.2.3")
    assert (station["meter_type"], station["boot_status"]) == ("ACME-M", "Accepted")
    assert {c["connector_id"]: c["status"] for c in station["connectors"]} == {1: "Available"}
    assert (transaction.identity, transaction.id_tag) == ("LIB-1", "TAG-1")
    assert (transaction.meter_start, transaction.meter_stop) == (1000, 2500)
    assert transaction.stop_reason == "Local"
    values = {(v.measurand, v.value, v.unit, v.phase) for v in transaction.meter_values}
    assert values == {
        ("Energy.Active.Import.Register", "1500", "Wh", None),
        ("Power.Active.Import", "7.2", "kW", "L1"),
    }


@pytest_twisted.ensureDeferred
async def test_a_failing_parse_is_an_internal_error_in_the_metrics(
    ocpp_dsn: str, tmp_path: Path
) -> None:
    """An error inside ocpp.Parse: InternalError "Database error", counted by reason."""
    web = await start_web_central(tmp_path, postgres={"conninfo": ocpp_dsn})
    try:
        station = await web.station("PG-ERR", boot=True)
        with psycopg2.connect(ocpp_dsn) as conn, conn.cursor() as cur:
            # The operator's business logic breaks (a table it needs is gone).
            cur.execute("ALTER TABLE ocpp.meter_value RENAME TO meter_value_gone")
        conn.close()
        sample = {"timestamp": "2026-12-03T08:00:00Z", "sampledValue": [{"value": "1"}]}
        reply = await aio(station.call("MeterValues", {"connectorId": 1, "meterValue": [sample]}))
        assert call_error(reply)[1] == "InternalError" and reply[3] == "Database error"
        await aio(station.close())
        response = await web.api.http.get(f"http://127.0.0.1:{web.port}/metrics")
        metrics = (await response.content()).decode()
    finally:
        await stop_web_central(web)
    assert 'ocppcs_decider_failures_total{decider="postgres",reason="sql"} 1.0' in metrics
    assert "# TYPE ocppcs_frame_log_dropped_total counter" in metrics
