"""
Signals sent to a real C{twistd ocppcs} process (L{ocppcs.daemon}): SIGQUIT
drains gracefully, SIGHUP reloads the configuration file while stations stay
connected, a broken file on SIGHUP keeps the running configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from websockets.exceptions import ConnectionClosed

from ocppcs.backends.embedded import admin, reads
from tests.integration.conftest import aio
from tests.integration.rawstation import RawStation, call_error, now
from tests.integration.test_restart import (
    LISTENING,
    READY,
    TWISTD,
    Twistd,
    meter_values,
    read_store,
    run_to_exit,
    spawn,
    write_config,
)
from tests.receiver import start_receiver, stop_receiver

ROOT = Path(__file__).parents[2]
RELOADED = re.compile(rb"Configuration reloaded from")


def config_text(tmp_path: Path, extra: str = "") -> str:
    store = tmp_path / "store" / "ocppcs.sqlite3"
    return f"[server]\nlisten = tcp:0:interface=127.0.0.1\n[embedded]\npath = {store}\n{extra}"


@contextlib.asynccontextmanager
async def twistd_running(
    tmp_path: Path,
    config: Path,
    listening: re.Pattern[bytes] = LISTENING,
    ready: re.Pattern[bytes] = re.compile(rb"Backend \w+ ready"),
) -> AsyncIterator[tuple[Twistd, str]]:
    """As L{running_twistd}, for any backend."""
    twistd = await spawn(tmp_path, "--config", str(config))
    try:
        port = int((await twistd.wait_for_output(listening)).group(1))
        await twistd.wait_for_output(ready)
        yield twistd, f"ws://127.0.0.1:{port}/ocpp"
    finally:
        await twistd.kill()


async def hup(twistd: Twistd, pattern: re.Pattern[bytes] = RELOADED) -> None:
    """SIGHUP, then wait for the reload's log line (a new one: the output is cut first)."""
    seen = len(twistd.output)
    twistd.process.send_signal(signal.SIGHUP)

    async def poll() -> None:
        while pattern.search(twistd.output, seen) is None:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), 15)


@pytest_twisted.ensureDeferred
async def test_quit_drains_gracefully(tmp_path: Path) -> None:
    """
    SIGQUIT with a station in a transaction and calls in flight: every call is
    answered (none dropped), everything acknowledged is stored and visible
    after a restart, the station is closed with 1001, twistd exits 0.
    """
    config = write_config(tmp_path, config_text(tmp_path))
    store = tmp_path / "store" / "ocppcs.sqlite3"

    async def first_run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with twistd_running(tmp_path, config) as (twistd, url):
            station = await RawStation.connect(url, "RS-Q")
            await station.boot()
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG-Q", "meterStart": 1000, "timestamp": now()},
            )
            out["id"] = transaction_id = start["transactionId"]
            await station.send([2, "mv", "MeterValues", meter_values(transaction_id)])
            stop = {"transactionId": transaction_id, "meterStop": 2000, "timestamp": now()}
            await station.send([2, "stop", "StopTransaction", stop])
            twistd.process.send_signal(signal.SIGQUIT)
            replies = {}
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    frame = await station.recv()
                    replies[frame[1]] = frame
            out["replies"], out["closed"] = replies, closed.value.rcvd
            out["code"] = await twistd.wait()
            out["log"] = twistd.output.decode(errors="replace")
        return out

    first = await aio(first_run())
    log = first["log"]
    assert first["code"] == 0, log
    assert "Graceful shutdown (SIGQUIT)" in log and "Traceback" not in log, log
    assert first["closed"] is not None and first["closed"].code == 1001, first
    # Both calls were answered: a CALLRESULT, or (if the signal came first) a CALLERROR.
    replies = first["replies"]
    assert set(replies) == {"mv", "stop"}, replies
    for frame in replies.values():
        assert frame[0] == 3 or call_error(frame)[1] == "InternalError", frame
    txn = read_store(store, reads.transaction_detail, first["id"])
    if replies["stop"][0] == 3:
        assert (txn.meter_stop, txn.stop_timestamp is not None) == (2000, True)
    if replies["mv"][0] == 3:
        assert [v.value for v in txn.meter_values][:1] == ["1500"]

    async def second_run() -> dict[str, Any]:
        async with twistd_running(tmp_path, config) as (twistd, url):
            station = await RawStation.connect(url, "RS-Q")
            try:
                return await station.result(
                    "StopTransaction",
                    {"transactionId": first["id"], "meterStop": 2000, "timestamp": now()},
                )
            finally:
                await station.close()
                await twistd.terminate()

    # After the restart: a replayed StopTransaction is answered as already stored.
    assert await aio(second_run()) == {}
    assert read_store(store, reads.transaction_detail, first["id"]).meter_stop == 2000


@pytest_twisted.ensureDeferred
async def test_hup_changes_the_webhook_url_while_the_station_stays(tmp_path: Path) -> None:
    """A new [webhook] url on SIGHUP: the next call goes to the new receiver, same connection."""
    first, second = start_receiver(), start_receiver()
    hook = "[backend]\ntype = webhook\n[webhook]\ntimeout = 5\nurl = {url}\n"
    config = write_config(tmp_path, config_text(tmp_path, hook.format(url=first.url)))

    async def scenario() -> None:
        async with twistd_running(tmp_path, config) as (twistd, url):
            station = await RawStation.connect(url, "RS-W")
            try:
                assert (await station.boot())["status"] == "Accepted"
                write_config(tmp_path, config_text(tmp_path, hook.format(url=second.url)))
                await hup(twistd)
                assert "applied webhook.url" in twistd.output.decode()
                await station.heartbeat()
            finally:
                await station.close()
                await twistd.terminate()

    try:
        await aio(scenario())
    finally:
        await stop_receiver(first)
        await stop_receiver(second)
    assert [s.body["action"] for s in first.seen] == ["BootNotification"]
    assert [s.body["action"] for s in second.seen] == ["Heartbeat"]


@pytest_twisted.ensureDeferred
async def test_hup_registration_log_level_and_a_broken_file(tmp_path: Path) -> None:
    """
    SIGHUP applies [central] registration and authorization and [log] level to the running
    process without dropping the connected station; a broken file is
    refused naming section and key, and the running configuration stays;
    a listener change is reported as needing a restart.
    """
    config = write_config(tmp_path, config_text(tmp_path))

    async def scenario() -> str:
        async with twistd_running(tmp_path, config) as (twistd, url):
            station = await RawStation.connect(url, "RS-1")
            try:
                assert (await station.boot())["status"] == "Accepted"
                write_config(tmp_path, config_text(tmp_path, "[central]\nregistration = maybe\n"))
                await hup(twistd, re.compile(rb"Configuration not reloaded"))
                assert "central.registration" in twistd.output.decode()
                other = await RawStation.connect(url, "RS-2")
                assert (await other.boot())["status"] == "Accepted"  # still open
                await other.close()
                assert (await station.result("Authorize", {"idTag": "NOBODY"}))["idTagInfo"] == {
                    "status": "Accepted"
                }
                known = "[central]\nregistration = known\nunknown_station = Rejected\n"
                known += "authorization = list\n"
                write_config(tmp_path, config_text(tmp_path, known))
                await hup(twistd)
                reply = await station.result("Authorize", {"idTag": "NOBODY"})
                assert reply["idTagInfo"] == {
                    "status": "Invalid"
                }  # the new policy, same connection
                other = await RawStation.connect(url, "RS-3")
                assert (await other.boot())["status"] == "Rejected"
                await other.close()
                await station.heartbeat()  # the first station stayed connected and Accepted
                quiet = known + "[log]\nlevel = warn\n"
                text = config_text(tmp_path, quiet).replace("tcp:0:", "tcp:1:")
                write_config(tmp_path, text)
                await hup(twistd, re.compile(rb"need a restart \(not applied\): server.listen"))
                other = await RawStation.connect(url, "RS-4")  # the old listener still serves
                assert (await other.boot())["status"] == "Rejected"
                error = await other.call("Heartbeat", {})
                assert call_error(error)[1] == "SecurityError"
                await other.close()
                await station.heartbeat()
                write_config(tmp_path, config_text(tmp_path, known))
                await hup(twistd)  # back to info: the reload's own line shows again
            finally:
                await station.close()
                await twistd.terminate()
            return twistd.output.decode(errors="replace")

    log = await aio(scenario())
    assert "BootNotification from RS-3: Rejected" in log  # info, before level = warn
    assert "RS-4 sent Heartbeat before its BootNotification was Accepted" in log  # warn
    assert "BootNotification from RS-4" not in log  # info, after level = warn
    assert log.count("RS-1 connected from") == 1  # one connection all along


@pytest_twisted.ensureDeferred
async def test_hup_adds_and_removes_emulated_stations(tmp_path: Path) -> None:
    """Station folders added are started and folders removed stopped; the others stay."""
    (tmp_path / "cp").mkdir()
    for name in ("CP1", "CP2"):
        shutil.copytree(ROOT / "conf" / "cp" / name, tmp_path / "cp" / name)
    emulator = f"[emulator]\nenable = true\npath = {tmp_path / 'cp'}\n"
    emulator += f"state = {tmp_path / 'emulator.sqlite3'}\n"
    config = write_config(tmp_path, config_text(tmp_path, emulator))

    async def scenario() -> str:
        async with twistd_running(tmp_path, config) as (twistd, url):
            await twistd.wait_for_output(re.compile(rb"Emulator: 2 stations started"))
            await twistd.wait_for_output(re.compile(rb"EM-A0000002 connected from"))
            shutil.rmtree(tmp_path / "cp" / "CP1")
            shutil.copytree(ROOT / "conf" / "cp" / "CP3", tmp_path / "cp" / "CP3")
            await hup(twistd, re.compile(rb"Emulator reloaded: .* removed"))
            await twistd.wait_for_output(re.compile(rb"EM-A0000003 connected from"))
            await twistd.wait_for_output(re.compile(rb"EM-A0000001 disconnected"))
            await twistd.terminate()
            return twistd.output.decode(errors="replace")

    log = await aio(scenario())
    assert "Emulator reloaded: EM-A0000003 added, EM-A0000001 removed" in log, log
    before_stop = log.split("Server Shut Down.")[0]
    assert before_stop.count("EM-A0000002 connected from") == 1, log


@pytest_twisted.ensureDeferred
async def test_json_log_lines_carry_identity_and_unique_id(tmp_path: Path) -> None:
    """With [log] format = json every line is a JSON object; a call's lines name both."""
    config = write_config(tmp_path, config_text(tmp_path, "[log]\nformat = json\n"))
    # In JSON the address is in the event's flattened fields, apart from the text.
    address = re.compile(rb"IPv4Address\(type='TCP', host='127\.0\.0\.1', port=(\d+)\)")

    async def scenario() -> str:
        ready = re.compile(rb"Backend \{backend\} ready")
        async with twistd_running(tmp_path, config, address, ready) as (twistd, url):
            station = await RawStation.connect(url, "RS-J")
            try:
                await station.boot()
                await station.send([2, "early", "Heartbeat", {"x": 1}])  # schema error
                await station.recv()
                await station.send('[2, "bad", "Heartbeat", {}')  # malformed
                await station.recv()
            finally:
                await station.close()
                await twistd.terminate()
            return twistd.output.decode()

    output = await aio(scenario())
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(e.get("backend") == "embedded" for e in lines)
    boot = [e for e in lines if e.get("log_format", "").startswith("BootNotification from")]
    assert [(e["identity"], e["unique_id"]) for e in boot] == [("RS-J", "m1")]
    malformed = [e for e in lines if e.get("log_format", "").startswith("Malformed frame")]
    assert [e["identity"] for e in malformed] == ["RS-J"] and "unique_id" in malformed[0]


@pytest_twisted.ensureDeferred
async def test_daemon_with_pid_file_and_log_file(tmp_path: Path) -> None:
    """Without -n twistd daemonizes: pid file, log file; SIGQUIT ends it and removes the pid."""
    config = write_config(tmp_path, config_text(tmp_path))
    pidfile, logfile = tmp_path / "ocppcs.pid", tmp_path / "ocppcs.log"

    async def wait_for(condition: Any) -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(poll(), 15)

    async def scenario() -> bytes:
        args = ["--pidfile", str(pidfile), "--logfile", str(logfile), "ocppcs"]
        twistd = await asyncio.create_subprocess_exec(
            str(TWISTD), *args, "--config", str(config), cwd=tmp_path
        )
        assert await asyncio.wait_for(twistd.wait(), 15) == 0  # the parent returns once started
        await wait_for(lambda: logfile.exists() and READY in logfile.read_bytes())
        os.kill(int(pidfile.read_text()), signal.SIGQUIT)
        await wait_for(lambda: not pidfile.exists())
        return logfile.read_bytes()

    log = await aio(scenario())
    assert b"Graceful shutdown" in log and b"Server Shut Down." in log
    assert b"Traceback" not in log


@pytest_twisted.ensureDeferred
async def test_check_config(tmp_path: Path) -> None:
    """--check-config: OK and 0 for a good file; the message naming the key and 1 for a bad one."""
    good = write_config(tmp_path, config_text(tmp_path))
    bad = write_config(tmp_path, "[server]\nmessage_rate = fast\n", "bad.conf")
    code, output = await aio(run_to_exit(tmp_path, "--config", str(good), "--check-config"))
    assert (code, output.strip()) == (0, f"Configuration {good} OK".encode())
    code, output = await aio(run_to_exit(tmp_path, "--config", str(bad), "--check-config"))
    assert code == 1 and b"Error in configuration at 'server.message_rate'" in output


@pytest_twisted.ensureDeferred
async def test_quit_to_the_whole_process_group(tmp_path: Path) -> None:
    """
    SIGQUIT to twistd's process group (Ctrl-\\ in a terminal, systemd's
    control group) reaches the store worker too: it ignores it, and the
    central system's graceful shutdown still writes everything at the end.
    """
    config = write_config(tmp_path, config_text(tmp_path))
    store = tmp_path / "store" / "ocppcs.sqlite3"

    async def scenario() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(TWISTD),
            *("-n", "--pidfile", str(tmp_path / "twistd.pid"), "--logfile", "-"),
            *("ocppcs", "--config", str(config)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,  # its own process group, as under a terminal or systemd
        )
        twistd = Twistd(process)
        try:
            port = int((await twistd.wait_for_output(LISTENING)).group(1))
            await twistd.wait_for_output(re.compile(re.escape(READY)))
            station = await RawStation.connect(f"ws://127.0.0.1:{port}/ocpp", "RS-G")
            await station.boot()
            await station.heartbeat()
            os.killpg(process.pid, signal.SIGQUIT)
            with pytest.raises(ConnectionClosed):
                await station.recv()
            return await twistd.wait(), twistd.output.decode(errors="replace")
        finally:
            await twistd.kill()

    code, log = await aio(scenario())
    assert code == 0 and "Traceback" not in log, log
    assert "worker" not in log.lower(), log
    station = read_store(store, admin.get_station, "RS-G")
    assert station["connected"] == 0, "the shutdown records the station's disconnection"
