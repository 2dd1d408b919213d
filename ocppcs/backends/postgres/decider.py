# -*- test-case-name: tests.backends.postgres.test_decider -*-
"""
The PostgreSQL decider: each station-initiated call becomes one statement,

    SELECT ocpp.Parse(identity, uniqueId, action, payload::jsonb, account, version)

whose C{jsonb} result is the CALLRESULT payload, or a CALLERROR
C{{"messageTypeId": 4, "errorCode", "errorDescription", "errorDetails"}}
(the webhook's contract, read by L{ocppcs.backends.webhook.replies.read_answer}:
an operator can move between the two). C{ocpp.Parse} decides and records the
call in one transaction, so the reply fires only once it is committed
(L{keeps_record}). The answer is checked against the action's 1.6 response
schema before it is relayed. Calls arriving together share a statement
(L{ocppcs.backends.postgres.batches}, C{[postgres] batch}).

The database is the system of record: nothing is answered on its behalf.
When it is unreachable, the statement times out, fails, or returns nothing
usable, the station gets CALLERROR InternalError with a description saying
which (C{Database connection error}, C{Database timeout}, C{Database error},
C{Empty database response}, C{Database response invalid}), the log names the
call and the cause, and C{failures} counts it by reason for C{/metrics}.

SignCertificate is the exception: checking and signing the CSR needs the
CA's key and Python's crypto, so the node answers it with its L{signer}
(L{ocppcs.certsign.CertificateSigner}, as the embedded decider does) and
nothing is asked of the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ocppcs.backends.interface import CallContext, IDecider
from ocppcs.backends.postgres.batches import ParseBatcher
from ocppcs.backends.postgres.database import classify
from ocppcs.backends.webhook.replies import DeciderFailure, note_failure, read_answer
from ocppcs.ocppj.schemas import SchemaSet

if TYPE_CHECKING:
    from ocppcs.backends.postgres.database import Database

#: The OCPP version passed to C{ocpp.Parse}.
OCPP_VERSION = "1.6"

#: DatabaseFailure reason -> the description the station gets.
DESCRIPTIONS = {
    "unavailable": "Database connection error",
    "timeout": "Database timeout",
    "sql": "Database error",
}


class PostgresFailure(DeciderFailure):
    """The database could not answer a call (InternalError to the station)."""

    source = "Database"


@implementer(IDecider)
class PostgresDecider(Service):
    """
    The PostgreSQL decider (the C{rules} of the PostgreSQL record).

    @param database: the node's L{Database}.
    @param schemas: the 1.6 schemas the answers are checked with.
    @param batch: at most this many calls in one statement.
    @ivar failures: how many calls failed, by reason (for C{/metrics}).
    """

    name = "postgres"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None
    keeps_record = True
    local_rules = True
    _log = Logger()

    def __init__(
        self, database: Database, schemas: SchemaSet | None = None, batch: int = 64
    ) -> None:
        self._schemas = schemas if schemas is not None else SchemaSet()
        self._batches = ParseBatcher(database, OCPP_VERSION, database.pool.size, batch)
        self.failures: dict[str, int] = {}
        #: Checks and signs the stations' CSRs (L{ocppcs.certsign.CertificateSigner}); set
        #: once the central system's call path exists. Without one, every CSR is Rejected.
        self.signer: Any = None

    def decide(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """
        Answer a call through C{ocpp.Parse} (L{IDecider.decide}).

        @return: a L{Deferred} firing with the CALLRESULT payload once
            committed, or failing with the function's CALLERROR or a
            L{PostgresFailure}.
        """
        if ctx.action == "SignCertificate":
            if self.signer is None:
                return succeed({"status": "Rejected"})
            return succeed(self.signer.request(ctx.identity, payload["csr"]))
        d: Deferred[Any] = self._batches.parse(
            ctx.identity, ctx.unique_id, ctx.action, payload, ctx.account
        )
        d.addCallbacks(self._answered, self._unanswered, (ctx,))
        d.addErrback(self._failed, ctx)
        return d

    def _answered(self, text: str | None, ctx: CallContext) -> dict[str, Any]:
        if text is None:
            raise PostgresFailure("empty", "Empty database response", "ocpp.Parse returned null")
        return read_answer(ctx.action, orjson.loads(text), self._schemas, PostgresFailure, True)

    def _unanswered(self, failure: Failure) -> Any:
        error = classify(failure)
        raise PostgresFailure(error.reason, DESCRIPTIONS[error.reason], error.detail)

    def _failed(self, failure: Failure, ctx: CallContext) -> Failure:
        return note_failure(self._log, failure, ctx, self.failures, "PostgreSQL", "ocpp.Parse")
