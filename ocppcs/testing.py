"""
Test doubles shipped with the package (like C{treq.testing}).

L{MemoryBackend} is an L{IRecord} and its own L{IDecider}: it keeps
everything in memory and answers with fixed, valid OCPP 1.6 replies; it
lets transport and session tests run without SQLite. Tests of real
behaviour use the embedded backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, succeed
from zope.interface import implementer

from ocppcs.backends.interface import CallContext, FrameRecord, IDecider, IRecord
from ocppcs.ocppj.errors import NotSupportedError


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@implementer(IRecord, IDecider)
class MemoryBackend(Service):
    """
    An in-memory backend that accepts every station and records what it saw.

    @ivar calls: every (context, payload) passed to L{decide}.
    @ivar frames: every frame recorded.
    @ivar connected: identities currently connected.
    @ivar boot_status: the status BootNotification answers with.
    @ivar hold: when set, replies wait for these Deferreds (keyed by action).
    """

    name = "memory"  # type: ignore[assignment]  # Twisted's Service has an untyped name = None
    keeps_record = True
    local_rules = True

    def __init__(self) -> None:
        self.calls: list[tuple[CallContext, dict[str, Any]]] = []
        self.frames: list[FrameRecord] = []
        #: Station AuthorizationKey hashes (L{station_key_hash}).
        self.key_hashes: dict[str, str] = {}
        self.connected: set[str] = set()
        self.known: set[str] = set()
        self.accepted: set[str] = set()
        self.boot_status = "Accepted"
        self.hold: dict[str, Deferred[dict[str, Any]]] = {}
        self._next_transaction = 1

    def decide(self, ctx: CallContext, payload: dict[str, Any]) -> Deferred[dict[str, Any]]:
        self.calls.append((ctx, payload))
        if ctx.action in self.hold:
            return self.hold.pop(ctx.action)
        action = ctx.action
        if action == "BootNotification":
            self.known.add(ctx.identity)
            if self.boot_status == "Accepted":
                self.accepted.add(ctx.identity)
            return succeed({"status": self.boot_status, "currentTime": _now(), "interval": 60})
        if action == "Heartbeat":
            return succeed({"currentTime": _now()})
        if action in ("Authorize", "StopTransaction"):
            return succeed({"idTagInfo": {"status": "Accepted"}})
        if action == "StartTransaction":
            self._next_transaction += 1
            return succeed(
                {"idTagInfo": {"status": "Accepted"}, "transactionId": self._next_transaction - 1}
            )
        if action == "DataTransfer":
            return succeed({"status": "UnknownVendorId"})
        if action in (
            "MeterValues",
            "StatusNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
        ):
            return succeed({})
        return fail(NotSupportedError(f"{action} is not supported"))

    def record_call(
        self, ctx: CallContext, payload: dict[str, Any], reply: dict[str, Any]
    ) -> Deferred[None]:
        """Nothing to copy: L{decide} keeps what it saw."""
        return succeed(None)

    def is_accepted(self, identity: str) -> Deferred[bool]:
        return succeed(identity in self.accepted)

    def station_connected(self, identity: str, account: str, address: str) -> Deferred[None]:
        self.known.add(identity)
        self.connected.add(identity)
        return succeed(None)

    def station_disconnected(self, identity: str) -> Deferred[None]:
        self.connected.discard(identity)
        return succeed(None)

    def get_station(self, identity: str) -> Deferred[dict[str, Any] | None]:
        if identity not in self.known:
            return succeed(None)
        return succeed({"identity": identity, "connected": identity in self.connected})

    def station_key_hash(self, identity: str) -> Deferred[str | None]:
        return succeed(self.key_hashes.get(identity))

    def record_frame(self, record: FrameRecord) -> None:
        self.frames.append(record)


class ReceiverRules:
    """
    What a webhook receiver for tests and benchmarks answers
    (L{ocppcs.backends.webhook}): the request body in, the response body out,
    with rules like the embedded ones under the open policies: every station
    and tag Accepted, transaction ids counting up from C{first_transaction},
    DataTransfer Accepted.

    @ivar requests: how many requests were answered.
    """

    def __init__(self, first_transaction: int = 1000) -> None:
        self._next_transaction = first_transaction
        self._started: dict[tuple[Any, ...], int] = {}
        self.requests = 0

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """The response body to the request body C{request}."""
        self.requests += 1
        action = request["action"]
        payload = request["payload"]
        reply: dict[str, Any]
        if action == "BootNotification":
            reply = {"status": "Accepted", "currentTime": _now(), "interval": 60}
        elif action == "Heartbeat":
            reply = {"currentTime": _now()}
        elif action == "Authorize":
            reply = {"idTagInfo": {"status": "Accepted"}}
        elif action == "StartTransaction":
            key = (request["identity"], *(payload[k] for k in sorted(payload)))
            transaction_id = self._started.get(key)
            if transaction_id is None:
                transaction_id = self._started[key] = self._next_transaction
                self._next_transaction += 1
            reply = {"idTagInfo": {"status": "Accepted"}, "transactionId": transaction_id}
        elif action == "StopTransaction":
            reply = {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}
        elif action == "DataTransfer":
            reply = {"status": "Accepted"}
        else:
            reply = {}
        return {
            "identity": request["identity"],
            "uniqueId": request["uniqueId"],
            "action": action,
            "payload": reply,
        }
