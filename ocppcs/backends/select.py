# -*- test-case-name: tests.test_tap -*-
"""Create the backend named by C{[backend] type}."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ocppcs.backends.interface import IBackend
from ocppcs.config import Config, ConfigError


def check_writable(path: str, key: tuple[str, str] = ("embedded", "path")) -> None:
    """Fail early, naming C{key}, when a database file's folder can't be made or written."""
    if path == ":memory:":
        return
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create the folder {folder}: {e.strerror}", key)
    if not os.access(folder, os.W_OK | os.X_OK) or (
        Path(path).exists() and not os.access(path, os.R_OK | os.W_OK)
    ):
        raise ConfigError(f"{path} is not writable", key)


def _embedded(config: Config, reactor: Any) -> IBackend:
    from ocppcs.backends.embedded.backend import EmbeddedBackend

    check_writable(config.embedded.path)

    return EmbeddedBackend(reactor, config.central, config.embedded)


#: C{[backend] type} -> a function building that backend.
BACKENDS: dict[str, Callable[[Config, Any], IBackend]] = {"embedded": _embedded}


def create_backend(config: Config, reactor: Any) -> IBackend:
    """
    Build the configured backend (not started).

    @raise ConfigError: for an unknown backend type.
    """
    try:
        factory = BACKENDS[config.backend.type]
    except KeyError:
        raise ConfigError(
            f"unknown backend {config.backend.type!r} (known: {', '.join(BACKENDS)})",
            ("backend", "type"),
        ) from None
    return factory(config, reactor)
