"""
Fixtures for the embedded backend and store tests: factories of started
L{EmbeddedRecord}s and L{SQLiteStore}s on the test's temporary folder (all
stopped at teardown), and the log events emitted during a test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest_twisted

from ocppcs.backends.embedded.record import EmbeddedRecord
from ocppcs.backends.embedded.store import SQLiteStore
from ocppcs.config import CentralConfig, EmbeddedConfig
from tests.backends.storetools import running_reactor
from tests.backends.webhooktools import make_hooked

__all__ = ["make_hooked"]  # a fixture: central systems answering through a webhook receiver


@pytest_twisted.async_yield_fixture
async def make_backend(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[EmbeddedRecord]]]:
    """A factory of started backends on C{tmp_path}, all stopped afterwards."""
    backends: list[EmbeddedRecord] = []

    async def make(
        path: str | None = None, embedded: dict[str, Any] | None = None, **central: Any
    ) -> EmbeddedRecord:
        config = EmbeddedConfig(path=path or str(tmp_path / "db.sqlite3"), **(embedded or {}))
        backend = EmbeddedRecord(running_reactor(), CentralConfig(**central), config)
        backends.append(backend)
        await backend.startService()
        return backend

    yield make
    for backend in backends:
        if backend.running:
            await backend.stopService()


@pytest_twisted.async_yield_fixture
async def make_store(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[SQLiteStore]]]:
    """A factory of started stores on C{tmp_path}, all stopped afterwards."""
    stores: list[SQLiteStore] = []

    async def make(path: Path | None = None, **kwargs: Any) -> SQLiteStore:
        store = SQLiteStore(running_reactor(), path or tmp_path / "db.sqlite3", **kwargs)
        stores.append(store)
        await store.start()
        return store

    yield make
    for store in stores:
        await store.stop()
