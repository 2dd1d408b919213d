"""
L{ocppcs.cluster.outcome}: every failure a station call can have survives
the trip between nodes as the same exception with the same message (so
the REST API answers the same), and a bad outcome is a disconnection.
"""

from __future__ import annotations

import json

import pytest

from ocppcs.callerrors import (
    CallTimeout,
    InvalidCommand,
    InvalidReply,
    StationCallError,
    StationCallFailed,
    StationDisconnected,
    StationOffline,
    UnknownStation,
)
from ocppcs.cluster import outcome
from ocppcs.locator import Moved

FAILURES: list[StationCallFailed] = [
    StationCallError("CP", "Reset", "NotSupported", "no", {"a": [1]}),
    CallTimeout("CP", "Reset", 2.5),
    InvalidReply("CP", "Reset", "bad status", "$.status"),
    InvalidCommand("CP", "Reset", "bad type", "$.type"),
    InvalidCommand("CP", "Reset", "Unknown operation"),
    StationDisconnected("CP", "Reset", "connection closed (code 1006)"),
    UnknownStation("CP", "Reset"),
    StationOffline("CP", "Reset"),
    Moved("CP", "Reset", "B"),
]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: type(f).__name__)
def test_failures_round_trip(failure: StationCallFailed) -> None:
    data = json.loads(json.dumps(outcome.encode(failure)))
    back = outcome.decode(data, "CP", "Reset", "B")
    assert type(back) is type(failure)
    assert isinstance(back, StationCallFailed)
    assert back.message == failure.message
    assert vars(back) == vars(failure)


def test_reply_round_trips() -> None:
    reply = {"status": "Accepted", "data": "x" * 10_000}
    assert outcome.decode(outcome.encode(reply), "CP", "Reset", "B") == reply


@pytest.mark.parametrize(
    "data", [{}, {"error": "Bogus"}, {"error": "CallTimeout"}, {"result": [1]}, {"error": None}]
)
def test_unreadable_outcome_is_a_disconnection(data: dict[str, object]) -> None:
    back = outcome.decode(data, "CP", "Reset", "B")
    assert isinstance(back, StationDisconnected)
    assert back.message == "Charge point 'CP' disconnected: node B sent an unreadable outcome"


def test_other_exceptions_are_refused() -> None:
    with pytest.raises(TypeError):
        outcome.encode(ValueError("x"))
