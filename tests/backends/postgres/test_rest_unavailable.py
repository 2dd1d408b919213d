"""
The REST API in postgres mode while its database is down: 503 with a JSON
body and Retry-After (the operator retries), not a 500; back to 200 once the
server is up again and the pool has reconnected.
"""

from __future__ import annotations

from pathlib import Path

import pytest_twisted

from ocppcs.backends.postgres.migrate import apply_migrations
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres
from tests.backends.webhooktools import eventually
from tests.web.conftest import start_web_central, stop_web_central


@pytest_twisted.ensureDeferred
async def test_lists_answer_503_while_the_database_is_down(tmp_path: Path) -> None:
    server = ThrowawayPostgres().start()  # its own: the test stops it
    try:
        apply_migrations(server.dsn)
        central = await start_web_central(tmp_path, postgres={"conninfo": server.dsn})
        try:
            assert (await central.api.get("/ChargePointList")).status == 200
            server.stop("immediate")
            statuses = set()
            for _ in range(3):  # each pool connection finds out on its own
                response = await central.api.get("/ChargePointList")
                statuses.add(response.status)
                if response.status == 503:
                    assert "database is unavailable" in response.json["error"]["message"]
            assert statuses == {503}
            server.start()

            async def listed() -> bool:
                return (await central.api.get("/ChargePointList")).status == 200

            await eventually(listed, timeout=30)
        finally:
            await stop_web_central(central)
    finally:
        server.close()
