"""
The real C{twistd ocppcs} process stops at start-up on a configuration or
start-up error with a non-zero exit status and one line saying what is wrong
(naming the section and key, or the line of the file, or the busy address):
no traceback, no usage text. C{--version} names ocppcs's version.
"""

from __future__ import annotations

import asyncio
import re
import socket
from asyncio.subprocess import DEVNULL, PIPE, STDOUT
from pathlib import Path

import pytest
import pytest_twisted

import ocppcs
from tests.integration.conftest import aio
from tests.integration.peers import wait_until
from tests.integration.test_restart import PROCESS_WAIT, TWISTD, run_to_exit, write_config

#: A line twistd logs at start-up before the service starts (not an error).
_TWISTD_INFO = re.compile(rb"^\S+ \[twisted\.scripts\._twistd_unix\.UnixAppLogger#info\] ")


def _one_line(output: bytes) -> str:
    """The single line of C{output} (failing, with the whole output, if there are more)."""
    lines = output.decode(errors="replace").strip().splitlines()
    assert len(lines) == 1, "\n".join(lines)
    assert "Traceback" not in lines[0] and "Usage" not in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[central]\nregistration = maybe\n", "Error in configuration at 'central.registration'"),
        (
            "[server]\nping_interval = 5\nping_timeout = 10\n",
            "Error in configuration at 'server.ping_timeout'",
        ),
        ("[nosuch]\nkey = 1\n", "Error in configuration at 'nosuch'"),
        ("[server]\nlisten = tcp:notaport\n", "Error in configuration at 'server.listen'"),
        ("[server]\nlisten = carrier:pigeon\n", "Error in configuration at 'server.listen'"),
        ("listen = tcp:9220\n", "Error in configuration at line 1: 'listen = tcp:9220'"),
        ("[server]\n[api]\n[server]\n", "Error in configuration at line 3: section [server]"),
        ("[api]\nauth = none\n= x\n", "Error in configuration at line 3: '= x'"),
    ],
    ids=[
        "bad value",
        "inconsistent values",
        "unknown section",
        "port not a number",
        "unknown endpoint type",
        "no section header",
        "section twice",
        "not key = value",
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_config_stops_twistd_with_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    """twistd with an invalid configuration file exits non-zero with one line naming where."""
    config = write_config(tmp_path, text)

    code, output = await aio(run_to_exit(tmp_path, "--config", str(config)))
    assert code != 0
    assert _one_line(output).startswith(message), output.decode(errors="replace")
    assert not (tmp_path / "data").exists(), "no store should be created"


@pytest_twisted.ensureDeferred
async def test_missing_config_file_stops_twistd(tmp_path: Path) -> None:
    """twistd with a configuration file that does not exist exits non-zero saying so."""
    code, output = await aio(run_to_exit(tmp_path, "--config", str(tmp_path / "missing.conf")))
    assert code != 0
    assert "cannot read configuration file" in _one_line(output)


@pytest_twisted.ensureDeferred
async def test_bad_listen_option_stops_twistd(tmp_path: Path) -> None:
    """A bad --listen is reported like the key it replaces."""
    code, output = await aio(run_to_exit(tmp_path, "--listen", "tcp:notaport"))
    assert code != 0
    assert _one_line(output).startswith("Error in configuration at 'server.listen': 'tcp:notaport'")


def _busy_port_config(tmp_path: Path) -> tuple[socket.socket, int, Path]:
    """A socket listening on a free port, the port, and a config file listening on it."""
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    config = write_config(
        tmp_path,
        f"[server]\nlisten = tcp:{port}:interface=127.0.0.1\n"
        f"[embedded]\npath = {tmp_path / 'ocppcs.sqlite3'}\n",
    )
    return busy, port, config


@pytest_twisted.ensureDeferred
async def test_port_in_use_stops_twistd_with_one_line(tmp_path: Path) -> None:
    """
    twistd whose listen port is taken exits non-zero at start-up; after
    twistd's own start-up lines, its output is one line naming the key and
    the address.
    """
    busy, port, config = _busy_port_config(tmp_path)
    try:
        code, output = await aio(run_to_exit(tmp_path, "--config", str(config)))
    finally:
        busy.close()
    assert code != 0
    rest = b"\n".join(line for line in output.splitlines() if not _TWISTD_INFO.match(line))
    line = _one_line(rest)
    assert "Error in configuration at 'server.listen'" in line, line
    assert f"cannot listen on 127.0.0.1:{port}" in line, line
    assert "Address already in use" in line, line
    assert not (tmp_path / "ocppcs.sqlite3").exists(), "the store should not be opened"


@pytest_twisted.ensureDeferred
async def test_port_in_use_stops_a_daemon(tmp_path: Path) -> None:
    """
    Without C{-n} (daemon), a busy port makes twistd exit non-zero saying
    so (the waiting parent is told), with the one line in the log file and
    no pid file left behind.
    """
    busy, port, config = _busy_port_config(tmp_path)
    try:
        log, pid = tmp_path / "twistd.log", tmp_path / "twistd.pid"
        args = ("--logfile", str(log), "--pidfile", str(pid), "ocppcs", "--config", str(config))

        async def daemon() -> tuple[int, bytes]:
            process = await asyncio.create_subprocess_exec(
                str(TWISTD), *args, stdin=DEVNULL, stdout=PIPE, stderr=STDOUT, cwd=tmp_path
            )
            try:
                output, _ = await asyncio.wait_for(process.communicate(), PROCESS_WAIT)
            finally:
                if process.returncode is None:  # the parent waits forever: gone with it
                    process.kill()
                    await process.wait()
            return process.returncode or 0, output

        code, output = await aio(daemon())
    finally:
        busy.close()
    assert code != 0
    assert b"server.listen" in output, output

    def logged() -> bytes:
        return b"\n".join(
            line for line in log.read_bytes().splitlines() if not _TWISTD_INFO.match(line)
        )

    # The daemon tells its waiting parent first, then removes the pid file
    # and logs the error (twistd's _twistd_unix.startApplication): wait for both.
    await aio(wait_until(lambda: logged() and not pid.exists(), PROCESS_WAIT))
    assert f"cannot listen on 127.0.0.1:{port}" in _one_line(logged())
    assert not pid.exists()


@pytest_twisted.ensureDeferred
async def test_version_names_ocppcs(tmp_path: Path) -> None:
    """C{twistd ocppcs --version} shows ocppcs's version beside Twisted's."""
    code, output = await aio(run_to_exit(tmp_path, "--version"))
    assert code == 0
    line = _one_line(output)
    assert line.startswith(f"ocppcs {ocppcs.__version__} (Twisted "), line
