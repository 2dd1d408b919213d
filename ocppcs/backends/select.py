# -*- test-case-name: tests.test_service -*-
"""Create the backend named by C{[backend] type}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocppcs.backends.interface import IBackend
from ocppcs.config import Config, ConfigError


def _embedded(config: Config, reactor: Any) -> IBackend:
    from ocppcs.backends.embedded.backend import EmbeddedBackend

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
