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
from ocppcs.confighold import ConfigHolder

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


def _embedded_record(holder: ConfigHolder, reactor: Any) -> EmbeddedRecord:
    from ocppcs.backends.embedded.record import EmbeddedRecord

    config = holder.current
    check_writable(config.embedded.path)
    return EmbeddedRecord(reactor, holder.reader("central"), config.embedded)


def _embedded(holder: ConfigHolder, reactor: Any, record: EmbeddedRecord) -> IDecider:
    return record.rules


def _webhook(holder: ConfigHolder, reactor: Any, record: EmbeddedRecord) -> IDecider:
    from ocppcs.backends.webhook.decider import WebhookDecider

    return WebhookDecider(reactor, holder.reader("webhook"))


def _postgres_record(holder: ConfigHolder, reactor: Any) -> IRecord:
    from ocppcs.backends.postgres.record import PostgresRecord
    from ocppcs.cluster.config import node_of

    config = holder.current
    node = node_of(config.cluster, config.server.listen) if config.cluster.enable else None
    return PostgresRecord(reactor, config.central, config.postgres, node=node)


def _postgres(holder: ConfigHolder, reactor: Any, record: Any) -> IDecider:
    decider: IDecider = record.rules
    return decider


#: C{[backend] type} -> a function building that decider, given the configuration
#: holder (parts read their section from it at use time), the reactor and the record.
BACKENDS: dict[str, Callable[[ConfigHolder, Any, Any], IDecider]] = {
    "embedded": _embedded,
    "webhook": _webhook,
    "postgres": _postgres,
}

#: C{[backend] type} -> a function building its record, when not the embedded store.
RECORDS: dict[str, Callable[[ConfigHolder, Any], IRecord]] = {
    "postgres": _postgres_record,
}


def create_backend(config: Config | ConfigHolder, reactor: Any) -> Backend:
    """
    Build the configured record and decider (not started), reading their
    sections from C{config} at use time when it is a L{ConfigHolder}.

    @raise ConfigError: for an unknown backend type or a bad setting.
    """
    holder = config if isinstance(config, ConfigHolder) else ConfigHolder(config)
    kind = holder.current.backend.type
    try:
        factory = BACKENDS[kind]
    except KeyError:
        raise ConfigError(
            f"unknown backend {kind!r} (known: {', '.join(BACKENDS)})", ("backend", "type")
        ) from None
    make_record = RECORDS.get(kind, _embedded_record)
    record = make_record(holder, reactor)
    return Backend(record, factory(holder, reactor, record))
