"""
How many station CALLs per second the embedded backend stores.

Pushes a mix of Heartbeat, MeterValues (3 sampled values) and
StatusNotification through L{EmbeddedDecider.decide} on a running
reactor, with one CALL outstanding per station (as OCPP-J flow control
allows), plus two frame-log rows per CALL, and prints CALLs/s, CPU time per
CALL (in this process and in the store's worker process) and the mean batch
(group-commit) size.

    .venv/bin/python bench/store_bench.py [--calls 50000] [--stations 1000]
        [--synchronous full|normal] [--no-frames] [--reactor asyncio|default]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any


def _process_cpu(pid: int | None) -> float | None:
    """CPU seconds used so far by process C{pid} (Linux), or C{None}."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _payloads(i: int) -> tuple[str, dict[str, Any]]:
    kind = i % 3
    if kind == 0:
        return "Heartbeat", {}
    if kind == 1:
        return "MeterValues", {
            "connectorId": 1,
            "transactionId": 1,
            "meterValue": [
                {
                    "timestamp": "2026-11-24T13:45:00Z",
                    "sampledValue": [
                        {
                            "value": str(i),
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                        {
                            "value": "31.5",
                            "measurand": "Current.Import",
                            "unit": "A",
                            "phase": "L1",
                        },
                    ],
                }
            ],
        }
    return "StatusNotification", {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Charging" if i % 2 else "Available",
        "timestamp": "2026-11-24T13:45:00Z",
    }


async def _bench(reactor: Any, args: argparse.Namespace) -> None:
    from twisted.internet.defer import Deferred

    from ocppcs.backends.embedded.record import EmbeddedRecord
    from ocppcs.backends.interface import CallContext, FrameRecord
    from ocppcs.config import CentralConfig, EmbeddedConfig

    folder = tempfile.mkdtemp(prefix="ocppcs-store-bench-")
    embedded = EmbeddedConfig(
        path=os.path.join(folder, "bench.sqlite3"), synchronous=args.synchronous
    )
    backend = EmbeddedRecord(reactor, CentralConfig(), embedded)
    await backend.startService()
    identities = [f"CS{n:05d}" for n in range(args.stations)]
    boot = {"chargePointVendor": "Bench", "chargePointModel": "B1"}
    now = datetime.now(UTC)
    for identity in identities:
        await backend.rules.decide(CallContext(identity, "", "0", "BootNotification", now), boot)

    total = args.calls
    started = 0
    finished = 0
    done: Deferred = Deferred()
    commits0 = backend.store.commits
    frame_raw = b'[2,"123","Heartbeat",{}]'

    def next_call(identity: str) -> None:
        nonlocal started
        if started >= total:
            return
        i = started
        started += 1
        action, payload = _payloads(i)
        ctx = CallContext(identity, "", str(i), action, datetime.now(UTC))
        if args.frames:
            backend.record_frame(
                FrameRecord(ctx.received, identity, "in", 2, ctx.unique_id, action, frame_raw)
            )
        backend.rules.decide(ctx, payload).addCallback(finished_call, ctx)

    def finished_call(reply: dict[str, Any], ctx: CallContext) -> None:
        nonlocal finished
        if args.frames:
            backend.record_frame(
                FrameRecord(
                    ctx.received, ctx.identity, "out", 3, ctx.unique_id, ctx.action, b'[3,"1",{}]'
                )
            )
        finished += 1
        if finished == total:
            done.callback(None)
        else:
            next_call(ctx.identity)

    worker = backend.store.worker_pid
    worker0 = _process_cpu(worker)
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for identity in identities:
        next_call(identity)
    await done
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    worker1 = _process_cpu(worker)
    commits = backend.store.commits - commits0
    await backend.stopService()
    print(
        f"{total} calls from {args.stations} stations, synchronous={args.synchronous}, "
        f"frames={'on' if args.frames else 'off'}, reactor={type(reactor).__name__}"
    )
    print(f"  {total / wall:,.0f} calls/s  ({wall:.2f} s wall)")
    print(f"  {cpu / total * 1e6:.1f} us CPU per call in the reactor process")
    if worker0 is not None and worker1 is not None:
        print(f"  {(worker1 - worker0) / total * 1e6:.1f} us CPU per call in the store worker")
    print(f"  {commits} commits, {total / max(commits, 1):.0f} calls per commit")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full")
    parser.add_argument("--no-frames", dest="frames", action="store_false")
    parser.add_argument("--reactor", choices=("default", "asyncio"), default="default")
    args = parser.parse_args(argv)
    if args.reactor == "asyncio":
        from twisted.internet import asyncioreactor

        asyncioreactor.install()
    from twisted.internet import defer, task

    task.react(lambda reactor: defer.ensureDeferred(_bench(reactor, args)))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
