"""
A SIGTERM while C{twistd ocppcs} is still starting (the demo configuration:
the central system and its four emulated stations) stops it quietly: no
traceback, no error or critical line, Twisted's clean exit.

Start-up takes from about one to several seconds depending on the machine's
load, so the signal is timed by what twistd has printed rather than by the
clock: while the central system's store opens, while the emulator's store
opens, while the emulated stations connect, and a little after each. Right
after "Listening" the reactor may not run yet (twistd starts the services
first): the signal is then held until it runs (L{ocppcs.earlystop}), where it
used to end the process by its default action.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
import pytest_twisted

from tests.integration.conftest import aio
from tests.integration.test_restart import LISTENING, READY, spawn

ROOT = Path(__file__).parents[2]
STARTED = re.compile(rb"Emulator: 4 stations started")
#: Log lines of a start-up or shutdown that did not go quietly.
NOISY = re.compile(rb"Traceback|#critical\]|#error\]")

MOMENTS = [
    ("listening", LISTENING, 0.0),
    ("backend ready", re.compile(re.escape(READY)), 0.0),
    ("backend ready + 0.1 s", re.compile(re.escape(READY)), 0.1),
    ("backend ready + 0.3 s", re.compile(re.escape(READY)), 0.3),
    ("stations started", STARTED, 0.0),
]


@pytest.mark.parametrize(
    ("pattern", "delay"), [m[1:] for m in MOMENTS], ids=[m[0] for m in MOMENTS]
)
@pytest_twisted.ensureDeferred
async def test_sigterm_during_start_up_is_quiet(
    tmp_path: Path, pattern: re.Pattern[bytes], delay: float
) -> None:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    args = ("--config", "conf/ocppcs.conf", "--listen", "tcp:0:interface=127.0.0.1")

    async def scenario() -> str:
        twistd = await spawn(tmp_path, *args)
        try:
            await twistd.wait_for_output(pattern)
            await asyncio.sleep(delay)
            await twistd.terminate()  # exit status, "Server Shut Down.", no traceback
            return twistd.output.decode(errors="replace")
        finally:
            await twistd.kill()

    log = await aio(scenario())
    assert NOISY.search(log.encode()) is None, log
