"""
Fixtures shared by the emulator tests: the independent central system and an
emulator pointed at it (C{tests.emulator.test_independent_cs_*}), and a
collector of log events (C{tests.emulator.test_link_*}).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_twisted
from twisted.logger import globalLogPublisher

from ocppcs.config import EmulatorConfig
from ocppcs.emulator.service import EmulatorService
from tests.emulator.independent import CONF, IndependentCentral, Start
from tests.emulator.linkservers import Logged
from tests.integration.conftest import aio


@pytest_twisted.async_yield_fixture
async def cs() -> AsyncIterator[IndependentCentral]:
    """A running independent central system (heartbeat interval 1 s)."""
    central = IndependentCentral()
    await aio(central.start())
    yield central
    await aio(central.stop())
    assert central.errors == []


@pytest_twisted.async_yield_fixture
async def emulator(tmp_path: Path, cs: IndependentCentral) -> AsyncIterator[Start]:
    """
    Starts an emulator with copies of the named conf/cp folders, state in
    C{tmp_path}, every station pointed at C{cs}; stops it at teardown.
    """
    from twisted.internet import reactor

    running = []

    async def start(*folders: str) -> EmulatorService:
        stations = tmp_path / "cp"
        for folder in folders:
            shutil.copytree(CONF / folder, stations / folder)
        config = EmulatorConfig(
            enable=True, path=str(stations), state=str(tmp_path / "emulator.sqlite3")
        )
        service = EmulatorService(config, reactor, call_timeout=5, url=cs.url)
        running.append(service)
        service.startService()
        await service.ready
        return service

    yield start
    for service in running:
        await service.stopService()


@pytest.fixture
def logged() -> Iterator[Logged]:
    """Collects every log event while the test runs."""
    log = Logged()
    globalLogPublisher.addObserver(log.events.append)
    yield log
    globalLogPublisher.removeObserver(log.events.append)
