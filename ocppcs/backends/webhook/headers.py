# -*- test-case-name: tests.backends.test_webhook_requests -*-
"""The webhook request's Authorization header, and the receiver's URL as logged."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from ocppcs.config import WebhookConfig


def redact(url: str) -> str:
    """C{url} without credentials or query, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def authorization(config: WebhookConfig) -> bytes | None:
    """The Authorization header value of C{config}, or C{None} (C{Off})."""
    if config.authorization == "Basic" and config.username:
        pair = f"{config.username}:{config.password}".encode()
        return b"Basic " + base64.b64encode(pair)
    if config.authorization == "Bearer" and config.token:
        return b"Bearer " + config.token.encode()
    return None
