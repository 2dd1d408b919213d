"""
The README's run command: C{twistd -n ocppcs --config conf/ocppcs.conf}
serves the central system with the four example stations of C{conf/cp}
online, and keeps their state in C{data/} across a restart.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.integration.conftest import aio
from tests.integration.test_restart import LISTENING, spawn

ROOT = Path(__file__).parents[2]
STARTED = re.compile(rb"Emulator: 4 stations started, 1 skipped")
SKIPPED = re.compile(
    rb"Emulated station skipped: \S*CP9/configuration.json: connectorId\[0\]\.voltage: "
)
EXAMPLES = {"EM-A0000001", "EM-A0000002", "EM-A0000003", "EM-A0000004"}


async def _get(url: str) -> Any:
    response = await treq.get(url, persistent=False)
    assert response.code == 200, response.code
    return orjson.loads(await response.content())


async def _online(api: str) -> set[str]:
    """Identities connected and Accepted at the central system, waiting (bounded) for all four."""
    online: set[str] = set()
    for _ in range(200):
        stations = await _get(f"{api}/ChargePointList")
        online = {
            s["identity"]
            for s in stations
            if s.get("connection") and (s.get("bootNotification") or {}).get("chargePointVendor")
        }
        if online >= EXAMPLES:
            break
        await deferLater(reactor, 0.05, lambda: None)
    return online


@pytest_twisted.ensureDeferred
async def test_demo_configuration_brings_the_example_stations_online(tmp_path: Path) -> None:
    """
    The shipped configuration runs the central system and its four emulated
    stations; a fifth station with a bad file is reported (file and field)
    and skipped, and the others run all the same.
    """
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    bad = tmp_path / "conf" / "cp" / "CP9"
    bad.mkdir()
    (bad / "configuration.json").write_text(
        '{"connectorId": [{"id": 1, "voltage": "XX"}], "configurationKey": []}'
    )
    args = ("--config", "conf/ocppcs.conf", "--listen", "tcp:0:interface=127.0.0.1")
    twistd = await aio(spawn(tmp_path, *args))
    try:
        port = int((await aio(twistd.wait_for_output(LISTENING))).group(1))
        await aio(twistd.wait_for_output(STARTED))
        await aio(twistd.wait_for_output(SKIPPED))
        api = f"http://127.0.0.1:{port}/api/v1"
        assert await _online(api) == EXAMPLES
        emulated = await _get(f"{api}/Emulator/StationList")
        assert {s["identity"] for s in emulated} == EXAMPLES
        assert all(s["bootStatus"] == "Accepted" for s in emulated)
        assert [len(s["connectors"]) for s in emulated] == [1, 2, 3, 4]
        await aio(twistd.terminate())
    finally:
        await aio(twistd.kill())
    assert (tmp_path / "data" / "emulator.sqlite3").exists()
    assert (tmp_path / "data" / "ocppcs.sqlite3").exists()
