"""
Helpers of the webhook tests: a central system whose decider is a real
webhook receiver on a free port (L{tests.receiver}), started and stopped
together, with raw stations and the REST API client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_twisted

from tests.receiver import Receiver, start_receiver, stop_receiver
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

START = {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ""}


@dataclass
class Hooked:
    """A central system answering through C{receiver}."""

    central: WebCentral
    receiver: Receiver

    @property
    def decider(self) -> Any:
        return self.central.service.decider


async def start_hooked(data: Path, receiver: Receiver | None = None, **webhook: Any) -> Hooked:
    """Start a receiver (unless given, started already) and a central system posting to it."""
    receiver = receiver if receiver is not None else start_receiver()
    settings = {"timeout": 5.0, **webhook}
    if "url" not in settings:
        settings["url"] = receiver.url
    central = await start_web_central(data, webhook=settings)
    return Hooked(central, receiver)


async def stop_hooked(hooked: Hooked) -> None:
    """Stop the central system, then the receiver."""
    await stop_web_central(hooked.central)
    await stop_receiver(hooked.receiver)


@pytest_twisted.async_yield_fixture
async def make_hooked(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """A factory of L{Hooked} central systems, all stopped at teardown."""
    running: list[Hooked] = []
    count = [0]

    async def make(receiver: Receiver | None = None, **webhook: Any) -> Hooked:
        count[0] += 1
        hooked = await start_hooked(tmp_path / f"hooked{count[0]}", receiver, **webhook)
        running.append(hooked)
        return hooked

    yield make
    for hooked in running:
        await stop_hooked(hooked)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """
    Wait until C{check()} is true (the record's copies are written after the
    station's answer), polling every 20 ms.
    """
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    for _ in range(int(timeout / 0.02)):
        if await check():
            return
        await deferLater(reactor, 0.02, lambda: None)  # type: ignore[arg-type]
    raise AssertionError("the condition never held")
