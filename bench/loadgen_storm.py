"""
The reconnect storm of C{loadgen.py --storm}: every station tries to connect
at once, as after a central system restart, with no connect-rate pacing.

Each station opens its WebSocket and sends its BootNotification; a station
whose connection attempt fails (refused, reset, handshake timeout) tries
again after C{--retry-delay} seconds (plus up to half of it at random), one
that loses its connection before it is Accepted reconnects the same way, and
a BootNotification without an answer within C{--call-timeout} is sent again.
TCP's own SYN retransmits (1 s, 3 s, 7 s, ... after a dropped SYN) happen
inside one attempt and show up as slow connects, and as the machine's
C{ListenOverflows}/C{ListenDrops} counters (C{/proc/net/netstat}, read before
and after; they count for the whole machine).

The report gives the time from the first connection attempt (and, with
C{--listen-at}, from the moment the listener was seen open) until every
station was Accepted, and p50/p90/p99/p100 of the stations' times to
Accepted and of the WebSocket handshakes' completions (reconnects included).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from loadgen_measure import ProcWatch, own_cpu, percentile
from loadgen_stations import Generator, Station
from picows import ws_connect

_perf_ns = time.perf_counter_ns


def tcp_ext() -> dict[str, int]:
    """The machine's C{TcpExt} counters from C{/proc/net/netstat} (empty if unreadable)."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return dict(zip(names.split()[1:], map(int, values.split()[1:]), strict=False))
    return {}


class Storm:
    """All stations connecting at once; the times at which each got open and Accepted."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.args = gen.args
        self.base = gen.args.url.rstrip("/")
        self.rng = random.Random(gen.args.seed)
        self.t0 = 0
        self.deadline = 0.0
        self.attempts = 0
        self.retries = 0
        self.reconnects = 0
        self.tasks: set[asyncio.Task[None]] = set()
        gen.on_lost = self._lost

    def _spawn(self, index: int, delay: float) -> None:
        task = asyncio.ensure_future(self._connect(index, delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _lost(self, station: Station) -> None:
        self.reconnects += 1
        self._spawn(station.index, self._backoff())

    def _backoff(self) -> float:
        delay: float = self.args.retry_delay
        return delay + self.rng.random() * delay / 2

    async def _connect(self, index: int, delay: float) -> None:
        gen = self.gen
        loop = asyncio.get_running_loop()
        if delay:
            await asyncio.sleep(delay)
        url = f"{self.base}/{self.args.prefix}{index + self.args.first}"
        while not gen.stopping and loop.time() < self.deadline:
            station = Station(gen, index)
            gen.stations.append(station)
            self.attempts += 1
            try:
                await ws_connect(
                    lambda: station,  # noqa: B023 - called before the next iteration
                    url,
                    websocket_handshake_timeout=self.args.handshake_timeout,
                    enable_auto_pong=False,
                    extra_headers={"Sec-WebSocket-Protocol": "ocpp1.6"},
                    ssl_context=self.args.ssl_context,
                    logger_name="loadgen",
                )
            except Exception as e:  # any failure: count it, wait, try again
                gen.connect_failed += 1
                gen.connect_errors[type(e).__name__ + (f": {e}" if str(e) else "")[:120]] += 1
                self.retries += 1
                await asyncio.sleep(self._backoff())
                continue
            return

    async def run(self) -> dict[str, Any]:
        """Start every station at once; wait until all are Accepted or the time is up."""
        gen = self.gen
        args = self.args
        loop = asyncio.get_running_loop()
        netstat0 = tcp_ext()
        cpu0 = own_cpu()
        self.deadline = loop.time() + args.ramp_timeout
        wall0 = time.time()
        self.t0 = _perf_ns()
        for i in range(args.stations):
            self._spawn(i, 0.0)
        while gen.booted < args.stations and loop.time() < self.deadline:
            await asyncio.sleep(0.05)
        elapsed = (_perf_ns() - self.t0) / 1e9
        for task in list(self.tasks):
            task.cancel()
        netstat1 = tcp_ext()
        accepted = sorted(t - self.t0 for t in gen.accepted_ns)
        opened = sorted(t - self.t0 for t in gen.opened_ns)
        report: dict[str, Any] = {
            "storm_stations": args.stations,
            "storm_accepted": len(accepted),
            "storm_all_accepted": len(accepted) >= args.stations,
            "storm_s": round(elapsed, 2),
            "storm_accepted_ms": dist(accepted),
            "storm_open_ms": dist(opened),
            "storm_attempts": self.attempts,
            "storm_connect_retries": self.retries,
            "storm_reconnects": self.reconnects,
            "storm_boot_resent": gen.boot_retries,
            "storm_generator_cpu_s": round(own_cpu() - cpu0, 2),
        }
        if args.listen_at:
            # the first attempt's offset from the listener opening (wall clock of both)
            lead = wall0 - args.listen_at
            report["storm_listen_to_first_attempt_s"] = round(lead, 3)
            if accepted and len(accepted) >= args.stations:
                report["storm_listen_to_all_accepted_s"] = round(lead + accepted[-1] / 1e9, 2)
        for key in ("ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "TCPReqQFullDoCookies"):
            if key in netstat0 and key in netstat1:
                report[f"machine_{key}"] = netstat1[key] - netstat0[key]
        return report


def dist(sorted_ns: list[int]) -> dict[str, float]:
    """p50/p90/p99/p100 of sorted nanosecond offsets, in milliseconds."""
    return {
        "p50": round(percentile(sorted_ns, 0.50), 1),
        "p90": round(percentile(sorted_ns, 0.90), 1),
        "p99": round(percentile(sorted_ns, 0.99), 1),
        "p100": round(sorted_ns[-1] / 1e6 if sorted_ns else 0.0, 1),
    }


async def storm(
    gen: Generator, args: argparse.Namespace, watch: ProcWatch | None, report: dict[str, Any]
) -> None:
    """Run the storm and add its figures (and the server's CPU and memory) to C{report}."""
    srv0 = watch.cpu_seconds() if watch else 0.0
    t0 = time.perf_counter()
    report.update(await Storm(gen).run())
    window = time.perf_counter() - t0
    report["connected"] = len(gen.active)
    report["booted"] = gen.booted
    if watch:
        mem = watch.memory()
        srv = watch.cpu_seconds() - srv0
        report.update(
            server_cpu_s=round(srv, 2),
            server_cpu_pct=round(100 * srv / window, 1),
            server_rss_mb=round(mem.get("rss_mb", 0.0), 1),
            server_rss_peak_mb=round(mem.get("rss_peak_mb", 0.0), 1),
        )
