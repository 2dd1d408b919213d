"""
A webhook receiver that fails never gets a station an answer it did not
give: down, slow, non-2xx, not JSON, a schema-invalid answer or an unknown
errorCode each become CALLERROR InternalError with its own description,
logged and counted in C{/metrics}. A copy the record can't keep (a
transactionId the receiver reused) is logged and counted, never a CALLERROR.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import pytest_twisted
from prometheus_client import generate_latest
from twisted.internet.defer import Deferred
from twisted.logger import formatEvent, globalLogPublisher

from tests.backends.webhooktools import eventually
from tests.integration.conftest import aio
from tests.integration.rawstation import BOOT, now
from tests.receiver import Receiver, delayed, start_receiver


def _reply(body: dict[str, Any], payload: Any, **extra: Any) -> tuple[int, bytes]:
    return 200, orjson.dumps({"uniqueId": body["uniqueId"], "payload": payload, **extra})


_BAD_BOOT = {"status": "Maybe", "currentTime": "2026-01-01T00:00:00Z", "interval": 60}

CASES = {
    "status": (lambda body: (500, b'{"oops": 1}'), "Webhook error"),
    "parse": (lambda body: (200, b"<html>not json"), "Webhook response parse error"),
    "timeout": (lambda body: Deferred(), "Webhook timeout"),
    "invalid": (lambda body: _reply(body, _BAD_BOOT), "Webhook response invalid"),
    "errorcode": (
        lambda body: _reply(body, {}, messageTypeId=4, errorCode="Nope"),
        "Webhook response invalid",
    ),
}


def _metrics(hooked: Any) -> str:
    metrics = hooked.central.service.metrics
    return generate_latest(metrics.prometheus).decode()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_failing_receiver_gets_the_station_an_internal_error(
    make_hooked: Any, case: str
) -> None:
    """Each failure: InternalError with its description, an error log, a counter."""
    handler, description = CASES[case]
    receiver = start_receiver(Receiver())
    receiver.handler = handler
    hooked = await make_hooked(receiver, timeout=0.5)
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        station = await hooked.central.station("WH-FAIL")
        frame = await aio(station.call("BootNotification", BOOT))
        await aio(station.close())
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert frame[0] == 4 and frame[2:4] == ["InternalError", description], frame
    reason = "invalid" if case == "errorcode" else case
    assert hooked.decider.failures == {reason: 1}
    assert f'ocppcs_decider_failures_total{{decider="webhook",reason="{reason}"}} 1.0' in (
        _metrics(hooked)
    )
    logged = [
        formatEvent(e) for e in events if e.get("log_level") and e["log_level"].name == "error"
    ]
    assert any("Webhook" in text and f"({reason})" in text for text in logged), logged
    if case == "invalid":
        assert any("$.status" in text for text in logged), logged  # the field is named
    if case == "errorcode":
        assert any("errorCode" in text for text in logged), logged


@pytest_twisted.ensureDeferred
async def test_a_receiver_that_is_down(make_hooked: Any) -> None:
    """A refused connection: InternalError 'Webhook fetch error', counted."""
    receiver = start_receiver(Receiver())
    url = receiver.url
    await receiver.port.stopListening()  # nobody listens on that port now
    hooked = await make_hooked(receiver, url=url)
    station = await hooked.central.station("WH-DOWN")
    frame = await aio(station.call("BootNotification", BOOT))
    await aio(station.close())
    assert frame[2:4] == ["InternalError", "Webhook fetch error"]
    assert hooked.decider.failures == {"fetch": 1}


@pytest_twisted.ensureDeferred
async def test_a_late_answer_is_not_relayed(make_hooked: Any) -> None:
    """An answer after the timeout is dropped; the station got InternalError once."""
    receiver = start_receiver(Receiver())
    hooked = await make_hooked(receiver, timeout=0.2)
    receiver.handler = lambda body: delayed(0.5, (200, orjson.dumps(receiver.rules.answer(body))))
    station = await hooked.central.station("WH-LATE")
    frame = await aio(station.call("BootNotification", BOOT))
    assert frame[2:4] == ["InternalError", "Webhook timeout"]
    await aio(station.expect_nothing(0.6))
    await aio(station.close())


@pytest_twisted.ensureDeferred
async def test_a_station_cannot_queue_without_bound(make_hooked: Any) -> None:
    """Beyond station_queue calls waiting for the receiver, InternalError 'busy'."""
    receiver = start_receiver(Receiver())
    hooked = await make_hooked(receiver, station_queue=2, timeout=2.0)
    station = await hooked.central.station("WH-FLOOD", boot=True)
    held: list[Deferred[Any]] = []

    def hold(body: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        held.append(d)
        return d

    receiver.handler = hold
    for n in range(4):
        await aio(station.send([2, f"h{n}", "Heartbeat", {}]))
    busy = [await aio(station.recv()), await aio(station.recv())]
    assert sorted(f[1] for f in busy) == ["h2", "h3"]
    for frame in busy:
        assert frame[2:4] == ["InternalError", "Webhook busy"], frame
    await eventually(lambda: _true(len(held) == 2))
    for d in held:
        d.callback((200, orjson.dumps({"payload": {"currentTime": now()}})))
    answered = [await aio(station.recv()), await aio(station.recv())]
    assert sorted((f[0], f[1]) for f in answered) == [(3, "h0"), (3, "h1")]
    await aio(station.close())
    assert hooked.decider.failures == {"busy": 2}


async def _true(value: bool) -> bool:
    return value


@pytest_twisted.ensureDeferred
async def test_a_reused_transaction_id_never_corrupts_the_record(make_hooked: Any) -> None:
    """
    A receiver answering the same transactionId for another transaction: the
    station gets the receiver's answer, the record keeps the first
    transaction untouched, the failed copy is logged and counted.
    """
    receiver = start_receiver(Receiver())
    hooked = await make_hooked(receiver)
    station = await hooked.central.station("WH-REUSE", boot=True)
    receiver.handler = lambda body: _reply(
        body, {"idTagInfo": {"status": "Accepted"}, "transactionId": 77}
    )
    first = {"connectorId": 1, "idTag": "A", "meterStart": 1, "timestamp": now()}
    second = {"connectorId": 2, "idTag": "B", "meterStart": 2, "timestamp": now()}
    assert (await aio(station.result("StartTransaction", first)))["transactionId"] == 77
    assert (await aio(station.result("StartTransaction", second)))["transactionId"] == 77
    # The same transaction again (a station's retry) is a replay, not a conflict.
    assert (await aio(station.result("StartTransaction", first)))["transactionId"] == 77
    await aio(station.close())
    api = hooked.central.api

    async def counted() -> bool:
        return 'ocppcs_record_copy_failures_total{action="StartTransaction"} 1.0' in _metrics(
            hooked
        )

    await eventually(counted)
    txn = (await api.get("/Transaction/77")).json
    assert (txn["idTag"], txn["connectorId"], txn["meterStart"]) == ("A", 1, 1)
    listed = (await api.get("/CentralSystem/TransactionList")).json["TransactionList"]
    assert [t["id"] for t in listed] == [77]


@pytest_twisted.ensureDeferred
async def test_the_timeout_counts_the_wait_for_a_free_slot(make_hooked: Any) -> None:
    """A call still waiting for a request slot when its time is up gets 'Webhook timeout' too."""
    receiver = start_receiver(Receiver())
    hooked = await make_hooked(receiver, max_concurrent=1, timeout=0.4)
    first = await hooked.central.station("WH-SLOT1", boot=True)
    second = await hooked.central.station("WH-SLOT2", boot=True)
    receiver.handler = lambda body: Deferred()  # never answers
    await aio(first.send([2, "a", "Heartbeat", {}]))
    await aio(second.send([2, "b", "Heartbeat", {}]))
    frames = [await aio(first.recv()), await aio(second.recv())]
    for frame in frames:
        assert frame[2:4] == ["InternalError", "Webhook timeout"], frame
    assert len(receiver.requests("Heartbeat")) == 1  # the second never left the queue
    assert hooked.decider.failures == {"timeout": 2}
    await aio(first.close())
    await aio(second.close())


@pytest_twisted.ensureDeferred
async def test_stopping_fails_every_queued_call_at_once() -> None:
    """
    When the decider stops, the call in flight and every call waiting for a
    slot get 'Webhook fetch error' at once, however many wait (each is
    failed in turn, not by one nested call per waiting call).
    """
    from twisted.internet import reactor

    from ocppcs.backends.interface import CallContext
    from ocppcs.backends.webhook.decider import WebhookDecider
    from ocppcs.config import WebhookConfig
    from tests.receiver import stop_receiver

    receiver = start_receiver(Receiver())
    receiver.handler = lambda body: Deferred()  # never answers
    config = WebhookConfig(url=receiver.url, timeout=30.0, max_concurrent=1, station_queue=1)
    decider = WebhookDecider(reactor, config)
    decider.startService()
    failed: list[str] = []
    for n in range(2000):
        d = decider.decide(CallContext(f"Q-{n}", "", f"u{n}", "Heartbeat", 0.0), {})
        d.addErrback(lambda f: failed.append(f.value.description))

    async def sent() -> bool:
        return len(receiver.seen) == 1

    try:
        await eventually(sent)
        await decider.stopService()

        async def all_failed() -> bool:
            return len(failed) == 2000

        await eventually(all_failed, timeout=2.0)
    finally:
        await stop_receiver(receiver)
    assert set(failed) == {"Webhook fetch error"}
    assert decider.failures == {"fetch": 2000}
