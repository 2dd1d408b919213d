# -*- test-case-name: tests.backends.test_embedded_backend_transactions -*-
"""
The embedded decider: the C{[central]} policy's answers, decided in the
embedded record's store (L{ocppcs.backends.embedded.record.EmbeddedRecord}).

Each station-initiated CALL becomes one job of the store (run in its worker
process, L{ocppcs.backends.embedded.policy}), or rows of a bulk write, so
its reads and writes are atomic and its reply fires only once they are
committed. Deciding writes the record's copy of the call in the same
transaction (L{keeps_record}): the central system adds no copy of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from zope.interface import implementer

from ocppcs.backends.embedded import policy, security
from ocppcs.backends.interface import CallContext, IDecider
from ocppcs.config import CentralConfig
from ocppcs.ocppj.errors import NotSupportedError

if TYPE_CHECKING:
    from ocppcs.backends.embedded.record import EmbeddedRecord

log = Logger()

_Handler = Callable[[CallContext, dict[str, Any]], Deferred]


@implementer(IDecider)
class EmbeddedDecider(Service):
    """
    The embedded rules (L{EmbeddedRecord.rules}).

    @param record: the record whose store it decides in.
    @param central: gives the answering policy in force (read for every call).
    @param now: the central system's time as ISO-8601 UTC text.
    """

    name = "embedded"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None
    keeps_record = True
    local_rules = True

    def __init__(
        self, record: EmbeddedRecord, central: Callable[[], CentralConfig], now: Callable[[], str]
    ):
        self._record = record
        self._central = central
        self._now = now
        run = record.store.run

        def job(fn: Callable[..., Any]) -> _Handler:
            return lambda ctx, payload: run(fn, central(), ctx.identity, payload, now())

        self._handlers: dict[str, _Handler] = {
            "Heartbeat": self._heartbeat,
            "MeterValues": self._no_reads,
            "StatusNotification": self._no_reads,
            "Authorize": job(policy.authorize),
            "StartTransaction": self._start_transaction,
            "StopTransaction": self._stop_transaction,
            "BootNotification": self._boot_notification,
            "DiagnosticsStatusNotification": job(policy.diagnostics_status_notification),
            "FirmwareStatusNotification": job(policy.firmware_status_notification),
            "DataTransfer": self._data_transfer,
            "SecurityEventNotification": job(security.decide_security_event),
            "LogStatusNotification": job(security.decide_log_status),
            "SignedFirmwareStatusNotification": job(security.decide_signed_firmware_status),
            "SignCertificate": self._sign_certificate,
        }
        #: Checks and signs the stations' CSRs (L{ocppcs.certsign.CertificateSigner}); set
        #: once the central system's call path exists. Without one, every CSR is Rejected.
        self.signer: Any = None

    @property
    def central(self) -> CentralConfig:
        """The C{[central]} policy in force now."""
        return self._central()

    def decide(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        """
        Answer a station-initiated CALL (see L{IDecider.decide}).

        @return: a L{Deferred} firing with the CALLRESULT payload once stored,
            or failing with L{NotSupportedError} for an action not handled here.
        """
        handler = self._handlers.get(ctx.action)
        if handler is None:
            return fail(NotSupportedError(f"{ctx.action} is not supported by this central system"))
        return handler(ctx, payload)

    # --- hot path: the record's bulk writes, no reads ------------------------------------------

    def _heartbeat(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        now = self._now()
        return self._record.note_seen(ctx.identity, now).addCallback(lambda _: {"currentTime": now})

    def _no_reads(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        return self._record.record_call(ctx, payload, {}).addCallback(lambda _: {})

    # --- calls with more than a job ----------------------------------------------------------

    def _boot_notification(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        identity = ctx.identity
        d = self._record.store.run(
            policy.boot_notification, self.central, identity, payload, self._now()
        )

        def cache(reply: dict[str, Any]) -> dict[str, Any]:
            self._record.cache_accepted(reply["status"] == "Accepted", identity)
            return reply

        return d.addCallback(cache)

    def _start_transaction(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        d = self._record.store.run(
            policy.start_transaction, self.central, ctx.identity, payload, self._now()
        )

        def done(result: tuple[dict[str, Any], list[dict[str, Any]]]) -> dict[str, Any]:
            reply, abandoned = result
            for closed in abandoned:
                log.warn(
                    "Transaction {transaction_id} of {identity} connector {connector_id} never"
                    " got its StopTransaction: closed as abandoned by transaction"
                    " {abandoned_by} (estimated meterStop {meter_stop} at {stop_timestamp})",
                    identity=ctx.identity,
                    unique_id=ctx.unique_id,
                    connector_id=payload["connectorId"],
                    abandoned_by=reply["transactionId"],
                    **closed,
                )
            return reply

        return d.addCallback(done)

    def _stop_transaction(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        d = self._record.store.run(
            policy.stop_transaction, self.central, ctx.identity, payload, self._now()
        )

        def done(result: tuple[dict[str, Any], str]) -> dict[str, Any]:
            reply, outcome = result
            log_stop_outcome(outcome, ctx.identity, payload["transactionId"], ctx.unique_id)
            return reply

        return d.addCallback(done)

    def _sign_certificate(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        if self.signer is None:
            return succeed({"status": "Rejected"})
        return succeed(self.signer.request(ctx.identity, payload["csr"]))

    def _data_transfer(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred:
        if payload["vendorId"] not in self.central.known_vendors:
            return succeed({"status": "UnknownVendorId"})
        return self._record.store.run(
            policy.data_transfer, self.central, ctx.identity, payload, self._now()
        )


def log_stop_outcome(outcome: str, identity: str, transaction_id: int, unique_id: str = "") -> None:
    """Log a StopTransaction for an unknown transaction, or one completing an abandoned one."""
    if outcome == "unknown":
        log.warn(
            "StopTransaction for unknown transaction {transaction_id} from {identity}",
            transaction_id=transaction_id,
            identity=identity,
            unique_id=unique_id,
        )
    elif outcome == "completed":
        log.info(
            "Late StopTransaction from {identity} completes the abandoned transaction"
            " {transaction_id}",
            transaction_id=transaction_id,
            identity=identity,
            unique_id=unique_id,
        )
