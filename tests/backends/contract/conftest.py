"""
The backend contract suite's fixture: a running central system for each
decider (embedded rules; a webhook with a real receiver answering with
rules like the embedded ones; PostgreSQL's C{ocpp.Parse} on a throwaway
server, the service migrating a new empty database at start), driven
through the same calls by real stations and the REST API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from tests.backends.webhooktools import eventually, start_hooked, stop_hooked
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

#: [central] keys making the embedded rules answer like the receiver's.
CENTRAL = {"known_vendors": ("acme",)}


@dataclass
class Deployment:
    """A central system of one decider."""

    kind: str
    central: WebCentral

    async def until(self, check: Any) -> None:
        """Wait until C{check()} holds (copies of the webhook mode come after the answer)."""
        await eventually(check)


@pytest_twisted.async_yield_fixture(params=["embedded", "webhook", "postgres"])
async def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Deployment]:
    """A central system for each decider."""
    if request.param in ("embedded", "postgres"):
        postgres = None
        if request.param == "postgres":
            postgres = {"conninfo": request.getfixturevalue("postgres_dsn")}
        central = await start_web_central(tmp_path, postgres=postgres, **CENTRAL)
        yield Deployment(request.param, central)
        await stop_web_central(central)
    else:
        hooked = await start_hooked(tmp_path)
        yield Deployment("webhook", hooked.central)
        await stop_hooked(hooked)
