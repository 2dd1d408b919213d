# -*- test-case-name: tests.test_tap -*-
"""
Create the record and the decider named by C{[backend] type}: C{embedded}
(the record's own C{[central]} rules) or C{webhook} (the operator's HTTP
receiver, L{ocppcs.backends.webhook}), with the record in the embedded
store; or C{postgres}, where the record and the decisions (C{ocpp.Parse})
are in PostgreSQL (L{ocppcs.backends.postgres}).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ocppcs.backends.interface import IDecider, IRecord
from ocppcs.config import Config, ConfigError

if TYPE_CHECKING:
    from ocppcs.backends.embedded.record import EmbeddedRecord


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


class Backend(NamedTuple):
    """The record and the decider of a deployment."""

    record: IRecord
    decider: IDecider


def _embedded_record(config: Config, reactor: Any) -> EmbeddedRecord:
    from ocppcs.backends.embedded.record import EmbeddedRecord

    check_writable(config.embedded.path)
    return EmbeddedRecord(reactor, config.central, config.embedded)


def _embedded(config: Config, reactor: Any, record: EmbeddedRecord) -> IDecider:
    return record.rules


def _webhook(config: Config, reactor: Any, record: EmbeddedRecord) -> IDecider:
    from ocppcs.backends.webhook.decider import WebhookDecider

    return WebhookDecider(reactor, config.webhook)


def _postgres_record(config: Config, reactor: Any) -> IRecord:
    from ocppcs.backends.postgres.record import PostgresRecord
    from ocppcs.cluster.config import node_of

    node = node_of(config.cluster, config.server.listen) if config.cluster.enable else None
    return PostgresRecord(reactor, config.central, config.postgres, node=node)


def _postgres(config: Config, reactor: Any, record: Any) -> IDecider:
    decider: IDecider = record.rules
    return decider


#: C{[backend] type} -> a function building that decider, given the record.
BACKENDS: dict[str, Callable[[Config, Any, Any], IDecider]] = {
    "embedded": _embedded,
    "webhook": _webhook,
    "postgres": _postgres,
}

#: C{[backend] type} -> a function building its record, when not the embedded store.
RECORDS: dict[str, Callable[[Config, Any], IRecord]] = {
    "postgres": _postgres_record,
}


def create_backend(config: Config, reactor: Any) -> Backend:
    """
    Build the configured record and decider (not started).

    @raise ConfigError: for an unknown backend type or a bad setting.
    """
    try:
        factory = BACKENDS[config.backend.type]
    except KeyError:
        raise ConfigError(
            f"unknown backend {config.backend.type!r} (known: {', '.join(BACKENDS)})",
            ("backend", "type"),
        ) from None
    make_record = RECORDS.get(config.backend.type, _embedded_record)
    record = make_record(config, reactor)
    return Backend(record, factory(config, reactor, record))
