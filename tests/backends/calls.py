"""
Schema-checked CALLs to L{ocppcs.backends.embedded.record.EmbeddedRecord}
for the C{tests.backends.test_embedded_backend_*} tests: every request sent
passes the official OCPP 1.6 request schema and every reply is checked against
the official response schema; and raw reads of its database.
"""

from __future__ import annotations

import json
import re
import time
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from ocppcs.backends.embedded.record import EmbeddedRecord
from ocppcs.backends.interface import CallContext
from tests.backends import jobs

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
T0 = "2026-11-24T13:45:00Z"


@cache
def _validator(name: str) -> Any:
    text = resources.files("ocpp.v16").joinpath("schemas", f"{name}.json").read_text("utf-8")
    return fastjsonschema.compile(json.loads(text))


async def call(
    backend: EmbeddedRecord, action: str, payload: dict[str, Any], identity: str = "CS1"
) -> dict[str, Any]:
    """Send a schema-valid CALL and return its schema-valid reply."""
    _validator(action)(payload)
    ctx = CallContext(identity, "", "1", action, time.time())
    reply = await backend.rules.decide(ctx, payload)
    _validator(f"{action}Response")(reply)
    return reply


async def sql(backend: EmbeddedRecord, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read rows straight from the database, in the store's worker."""
    return await backend.store.run(jobs.query, query, *args)
