"""
The PostgreSQL decider against a real server, with an C{ocpp.Parse} of the
test's own answering what each case needs: relayed results and CALLERRORs,
and every way the database can fail to answer (InternalError with its own
description, logged, counted; nothing answered on the database's behalf).
"""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor

from ocppcs.backends.interface import CallContext
from ocppcs.backends.postgres.database import Database
from ocppcs.backends.postgres.decider import PostgresDecider, PostgresFailure
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres
from ocppcs.ocppj.errors import ErrorCode, OcppError

reactor: Any = _reactor

NOW = "2026-12-03T08:00:00.000Z"

#: An ocpp.Parse answering by the payload's "answer" member, and failing on demand.
PARSE = """
CREATE SCHEMA IF NOT EXISTS ocpp;
CREATE TABLE ocpp.seen (identity text, unique_id text, action text, payload jsonb,
                        account text, version text, tx bigint DEFAULT txid_current());
CREATE FUNCTION ocpp.Parse(pIdentity text, pUniqueId text, pAction text, pPayload jsonb,
                           pAccount text, pVersion text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ocpp.seen VALUES (pIdentity, pUniqueId, pAction, pPayload, pAccount, pVersion);
  CASE pPayload->>'how'
    WHEN 'raise' THEN RAISE EXCEPTION 'the operator''s function failed';
    WHEN 'deadlock' THEN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';
    WHEN 'sleep' THEN PERFORM pg_sleep(2);
    WHEN 'null' THEN RETURN NULL;
    ELSE NULL;
  END CASE;
  RETURN pPayload->'answer';
END $$;
"""


def _prepare(dsn: str) -> None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(PARSE)
    conn.close()


def _data(n: int) -> dict[str, Any]:
    """A payload making the test's Parse answer a DataTransfer with C{data} C{n}."""
    return {"answer": {"status": "Accepted", "data": str(n)}}


def _ctx(action: str = "Heartbeat", identity: str = "PG-1") -> CallContext:
    return CallContext(identity, "acct", "u-1", action, 0.0)


async def _decider(dsn: str, size: int = 2, batch: int = 64) -> tuple[Database, PostgresDecider]:
    database = Database(reactor, dsn, size=size)
    await database.start()
    database.open()
    return database, PostgresDecider(database, batch=batch)


@pytest_twisted.ensureDeferred
async def test_the_result_is_relayed_and_the_call_passed_whole(postgres_dsn: str) -> None:
    _prepare(postgres_dsn)
    database, decider = await _decider(postgres_dsn)
    try:
        payload = {"answer": {"currentTime": NOW}}
        assert await decider.decide(_ctx(), payload) == {"currentTime": NOW}
        # The original's wrapped shape is read too.
        wrapped = {"answer": {"messageTypeId": "CallResult", "payload": {"currentTime": NOW}}}
        assert await decider.decide(_ctx(), wrapped) == {"currentTime": NOW}
        rows = await database.query(
            "SELECT identity, unique_id, action, payload::text,"
            " account, version FROM ocpp.seen LIMIT 1"
        )
        assert rows[0][:3] == ("PG-1", "u-1", "Heartbeat")
        assert rows[0][4:] == ("acct", "1.6")
        assert '"currentTime"' in rows[0][3]
    finally:
        database.close()


@pytest.mark.parametrize("kind", [4, "CallError"])
@pytest_twisted.ensureDeferred
async def test_a_call_error_is_relayed(postgres_dsn: str, kind: Any) -> None:
    _prepare(postgres_dsn)
    database, decider = await _decider(postgres_dsn)
    error = {
        "messageTypeId": kind,
        "errorCode": "SecurityError",
        "errorDescription": "not yours",
        "errorDetails": {"why": "account"},
    }
    try:
        with pytest.raises(OcppError) as caught:
            await decider.decide(_ctx("Authorize"), {"answer": error})
    finally:
        database.close()
    relayed = caught.value
    assert not isinstance(relayed, PostgresFailure)
    assert (relayed.code, relayed.description, relayed.details) == (
        ErrorCode.SecurityError,
        "not yours",
        {"why": "account"},
    )
    assert decider.failures == {}


@pytest.mark.parametrize(
    ("payload", "reason", "description", "detail"),
    [
        ({"answer": {"currentTime": 5}}, "invalid", "Database response invalid", "currentTime"),
        ({"answer": [1]}, "parse", "Database response parse error", "not a JSON object"),
        ({"how": "null"}, "empty", "Empty database response", "null"),
        ({"how": "raise"}, "sql", "Database error", "the operator's function failed"),
        ({"how": "deadlock"}, "sql", "Database error", "SQLSTATE 40P01: deadlock detected"),
        ({"how": "sleep"}, "timeout", "Database timeout", "statement timeout"),
    ],
    ids=["invalid", "not an object", "null", "sql error", "deadlock", "statement timeout"],
)
@pytest_twisted.ensureDeferred
async def test_what_is_not_relayed(
    postgres_dsn: str,
    events: list[dict[str, Any]],
    payload: dict[str, Any],
    reason: str,
    description: str,
    detail: str,
) -> None:
    _prepare(postgres_dsn)
    dsn = postgres_dsn + " options='-c statement_timeout=300'"
    database, decider = await _decider(dsn)
    try:
        with pytest.raises(PostgresFailure) as caught:
            await decider.decide(_ctx(), payload)
    finally:
        database.close()
    failure = caught.value
    assert failure.code == ErrorCode.InternalError
    assert (failure.reason, failure.description) == (reason, description), failure.detail
    assert detail in failure.detail, failure.detail
    assert decider.failures == {reason: 1}
    logged = [e for e in events if e.get("reason") == reason and e.get("identity") == "PG-1"]
    assert logged and detail in logged[0]["detail"]


@pytest_twisted.ensureDeferred
async def test_an_unreachable_database() -> None:
    server = ThrowawayPostgres().start()
    try:
        dsn = server.create_database("d")
        _prepare(dsn)
        database, decider = await _decider(dsn)
        assert await decider.decide(_ctx(), {"answer": {"currentTime": NOW}})
        server.stop("immediate")
        with pytest.raises(PostgresFailure) as caught:
            await decider.decide(_ctx(), {"answer": {"currentTime": NOW}})
        assert caught.value.description == "Database connection error"
        assert decider.failures == {"unavailable": 1}
        database.close()
    finally:
        server.close()


@pytest_twisted.ensureDeferred
async def test_queries_wait_until_the_database_is_open(postgres_dsn: str) -> None:
    database = Database(reactor, postgres_dsn, size=1)
    waiting = database.value("SELECT %s::int * 2", (21,))
    assert not waiting.called
    await database.start()
    assert not waiting.called
    database.open()
    try:
        assert await waiting == 42
    finally:
        database.close()


@pytest_twisted.ensureDeferred
async def test_calls_arriving_together_share_a_statement(postgres_dsn: str) -> None:
    """While the one connection is busy, the calls wait and go in one statement, in order."""
    _prepare(postgres_dsn)
    database, decider = await _decider(postgres_dsn, size=1, batch=3)
    try:
        answers = [decider.decide(_ctx("DataTransfer", f"B-{n % 2}"), _data(n)) for n in range(7)]
        got = [(await d)["data"] for d in answers]
        rows = await database.query(
            "SELECT tx, identity, payload->'answer'->>'data' FROM ocpp.seen"
            " ORDER BY tx, identity, 3"
        )
    finally:
        database.close()
    assert got == [str(n) for n in range(7)]
    statements: dict[int, list[tuple[str, str]]] = {}
    for tx, identity, n in rows:
        statements.setdefault(tx, []).append((identity, n))
    assert [len(s) for s in statements.values()] == [1, 3, 3]
    assert list(statements.values())[1] == [("B-0", "2"), ("B-1", "1"), ("B-1", "3")]


@pytest_twisted.ensureDeferred
async def test_a_failing_call_fails_alone(postgres_dsn: str) -> None:
    """A function that raises in a batch: the others are sent again one by one and answered."""
    _prepare(postgres_dsn)
    database, decider = await _decider(postgres_dsn, size=1, batch=10)
    try:
        first = decider.decide(_ctx(), {"answer": {"currentTime": NOW}})
        payloads = [_data(n) for n in range(4)]
        payloads[2] = {"how": "raise"}
        answers = [
            decider.decide(_ctx("DataTransfer", f"F-{n}"), p) for n, p in enumerate(payloads)
        ]
        await first
        results: list[Any] = []
        for d in answers:
            try:
                results.append((await d)["data"])
            except PostgresFailure as e:
                results.append(e.reason)
        kept = await database.value("SELECT count(*) FROM ocpp.seen")
    finally:
        database.close()
    assert results == ["0", "1", "sql", "3"]
    assert decider.failures == {"sql": 1}
    assert kept == 1 + 3  # the failed batch left nothing; each other call once
