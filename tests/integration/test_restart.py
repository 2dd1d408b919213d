"""
The real C{twistd ocppcs} process: data and transaction ids survive a
restart on the same store (start-up errors: test_startup_errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from websockets.exceptions import ConnectionClosed

from ocppcs.backends.embedded import admin, reads
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation, now

TWISTD = Path(sys.executable).parent / "twistd"
LISTENING = re.compile(rb"Listening on IPv4Address\(type='TCP', host='127\.0\.0\.1', port=(\d+)\)")
READY = b"Backend embedded ready"
#: Bound on twistd starting up or shutting down.
PROCESS_WAIT = 15.0


def write_config(tmp_path: Path, text: str, name: str = "ocppcs.conf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def good_config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path,
        "[server]\n"
        "listen = tcp:0:interface=127.0.0.1\n"
        "[embedded]\n"
        f"path = {tmp_path / 'store' / 'ocppcs.sqlite3'}\n",
    )


class Twistd:
    """A running C{twistd -n ocppcs} and everything it has printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = b""
        self._seen = asyncio.Event()
        self._drain = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output += line
            self._seen.set()

    async def wait_for_output(self, pattern: re.Pattern[bytes]) -> re.Match[bytes]:
        """The first match of C{pattern} in the output, waiting (bounded) for it."""

        async def poll() -> re.Match[bytes]:
            while (match := pattern.search(self.output)) is None:
                if self._drain.done():
                    raise AssertionError(f"twistd ended:\n{self.output.decode(errors='replace')}")
                self._seen.clear()
                await self._seen.wait()
            return match

        return await asyncio.wait_for(poll(), PROCESS_WAIT)

    async def wait(self) -> int:
        """Wait (bounded) for twistd to exit and its output to end; its exit status."""
        code = await asyncio.wait_for(self.process.wait(), PROCESS_WAIT)
        await asyncio.wait_for(self._drain, PROCESS_WAIT)
        return code

    async def terminate(self) -> None:
        """SIGTERM, then wait for a clean shutdown."""
        self.process.send_signal(signal.SIGTERM)
        code = await self.wait()
        # twistd shuts down cleanly, then exits with the signal it received.
        log = self.output.decode(errors="replace")
        assert code in (0, -signal.SIGTERM), log
        assert "Server Shut Down." in log, log
        assert "Traceback" not in log, log

    async def kill(self) -> None:
        """Make sure it is gone (cleanup)."""
        if self.process.returncode is None:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), PROCESS_WAIT)
        self._drain.cancel()


async def spawn(tmp_path: Path, *args: str) -> Twistd:
    process = await asyncio.create_subprocess_exec(
        str(TWISTD),
        "-n",
        "--pidfile",
        str(tmp_path / "twistd.pid"),
        "--logfile",
        "-",
        "ocppcs",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    return Twistd(process)


@contextlib.asynccontextmanager
async def running_twistd(tmp_path: Path, config: Path) -> AsyncIterator[tuple[Twistd, str]]:
    """twistd serving C{config}; yields it and its station URL prefix; killed on the way out."""
    twistd = await spawn(tmp_path, "--config", str(config))
    try:
        port = int((await twistd.wait_for_output(LISTENING)).group(1))
        await twistd.wait_for_output(re.compile(re.escape(READY)))
        yield twistd, f"ws://127.0.0.1:{port}/ocpp"
    finally:
        await twistd.kill()


def read_store(path: Path, fn: Any, *args: Any) -> Any:
    """Run an admin query on the store file directly (twistd is not running)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return fn(conn, *args)
    finally:
        conn.close()


def meter_values(transaction_id: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {
                "timestamp": now(),
                "sampledValue": [
                    {"value": "1500", "unit": "Wh"},
                    {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                ],
            }
        ],
    }


async def run_to_exit(tmp_path: Path, *args: str) -> tuple[int, bytes]:
    """Run twistd with C{args} until it exits by itself; its exit code and output."""
    twistd = await spawn(tmp_path, *args)
    try:
        return await twistd.wait(), twistd.output
    finally:
        await twistd.kill()


@pytest_twisted.ensureDeferred
async def test_data_and_ids_survive_restart(tmp_path: Path) -> None:
    """
    A station session under twistd, SIGTERM (with the station still
    connected), a second twistd on the same store: the station is still
    accepted without a new boot, its old transaction can be stopped, the
    transaction and its meter values are stored, and a new transaction gets a
    larger id.
    """
    config = good_config(tmp_path)
    store = tmp_path / "store" / "ocppcs.sqlite3"

    async def first_run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with running_twistd(tmp_path, config) as (twistd, url):
            station = await RawStation.connect(url, "RS-1")
            try:
                out["boot"] = await station.boot()
                await station.result(
                    "StatusNotification",
                    {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
                )
                out["start"] = await station.result(
                    "StartTransaction",
                    {"connectorId": 1, "idTag": "TAG-R", "meterStart": 1000, "timestamp": now()},
                )
                out["meter"] = await station.result(
                    "MeterValues", meter_values(out["start"]["transactionId"])
                )
                # Stop twistd while the station is still connected.
                await twistd.terminate()
                with pytest.raises(ConnectionClosed) as closed:
                    await station.recv()
                out["closed"] = closed.value.rcvd
            finally:
                await station.close()
        return out

    async def second_run(transaction_id: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with running_twistd(tmp_path, config) as (twistd, url):
            station = await RawStation.connect(url, "RS-1")
            try:
                out["heartbeat"] = await station.call("Heartbeat", {})
                out["stop"] = await station.result(
                    "StopTransaction",
                    {
                        "transactionId": transaction_id,
                        "meterStop": 2500,
                        "timestamp": now(),
                        "idTag": "TAG-R",
                        "reason": "Local",
                        "transactionData": [
                            {"timestamp": now(), "sampledValue": [{"value": "2500"}]}
                        ],
                    },
                )
                out["start"] = await station.result(
                    "StartTransaction",
                    {"connectorId": 1, "idTag": "TAG-R", "meterStart": 2500, "timestamp": now()},
                )
            finally:
                await station.close()
            await twistd.terminate()
        return out

    first = await aio(first_run())
    assert first["boot"]["status"] == "Accepted"
    assert first["meter"] == {}
    # The station was told: a close frame before the process went.
    # 1001 (going away, RFC 6455, 7.4.1): the central system is shutting down.
    assert first["closed"] is not None and first["closed"].code == 1001
    assert "shutting down" in first["closed"].reason
    old_id = first["start"]["transactionId"]

    # Everything acknowledged before the shutdown is on disk.
    txn = read_store(store, reads.transaction_detail, old_id)
    assert txn.identity == "RS-1" and txn.meter_start == 1000
    assert txn.stop_timestamp is None
    assert [(v.value, v.measurand) for v in txn.meter_values] == [
        ("1500", None),
        ("7.2", "Power.Active.Import"),
    ]
    station = read_store(store, admin.get_station, "RS-1")
    assert station["boot_status"] == "Accepted"
    assert station["connected"] == 0, "shutdown should record the station's disconnection"
    assert [(c["connector_id"], c["status"]) for c in station["connectors"]] == [(1, "Charging")]

    second = await aio(second_run(old_id))
    assert second["heartbeat"][0] == 3, second["heartbeat"]  # accepted without a new boot
    assert "currentTime" in second["heartbeat"][2]
    assert second["stop"] == {"idTagInfo": {"status": "Accepted"}}
    assert second["start"]["transactionId"] > old_id

    txn = read_store(store, reads.transaction_detail, old_id)
    assert (txn.meter_start, txn.meter_stop, txn.stop_reason) == (1000, 2500, "Local")
    assert [(v.value, v.source) for v in txn.meter_values] == [
        ("1500", "MeterValues"),
        ("7.2", "MeterValues"),
        ("2500", "StopTransaction"),
    ]
    ids = [t.id for t in read_store(store, reads.transaction_page, "RS-1", None, None, 10, 0)[1]]
    assert ids == [second["start"]["transactionId"], old_id]
