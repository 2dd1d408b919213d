# -*- test-case-name: tests.test_config_webhook -*-
"""C{[webhook]}: the operator's HTTP receiver of C{[backend] type = webhook}."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocppcs import configvalues as values


@dataclass(frozen=True)
class WebhookConfig:
    """
    C{[webhook]}: the operator's HTTP receiver that answers the stations.

    @ivar url: where each call is POSTed (C{http://} or C{https://}, whose
        certificate is verified).
    @ivar authorization: C{Off}, C{Basic} (C{username}, C{password}) or
        C{Bearer} (C{token}).
    @ivar timeout: seconds to wait for the receiver's answer.
    @ivar max_concurrent: at most this many requests to the receiver at once
        (also the connection pool's bound); the others wait their turn.
    @ivar station_queue: at most this many calls of one station waiting for
        the receiver (OCPP allows one); more are answered InternalError.
    @ivar pipeline: at most this many requests in flight on one connection
        (1: no HTTP/1.1 pipelining).
    """

    url: str = ""
    authorization: str = "Off"
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    timeout: float = 30.0
    max_concurrent: int = 100
    station_queue: int = 4
    pipeline: int = 1


#: C{[webhook]} key -> its parser.
WEBHOOK_KEYS: dict[str, Callable[[str], Any]] = {
    "url": values.http_url,
    "authorization": values.choice("Off", "Basic", "Bearer"),
    "username": str,
    "password": str,
    "token": str,
    "timeout": values.positive_float,
    "max_concurrent": values.positive_int,
    "station_queue": values.positive_int,
    "pipeline": values.positive_int,
}
