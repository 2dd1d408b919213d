"""
The figures of a C{loadgen.py} run: CPU and memory from C{/proc} (of the
server under test, of the machine and of the generator itself), latency
percentiles, and the measured window (L{measure}) or idle hold
(L{hold_idle}) that collects them into the report.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from typing import Any

from loadgen_stations import ACTION_NAMES, Generator


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile of already sorted nanosecond values, in milliseconds."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1] / 1e6


# --- process figures from /proc -----------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")


class ProcWatch:
    """
    CPU seconds and memory of another process and its child processes (the
    server's store worker), read from C{/proc}.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu_seconds()  # fail early if the pid does not exist

    def pids(self) -> list[int]:
        """The process and its direct children."""
        found = [self.pid]
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/children", encoding="ascii") as f:
                    found.extend(int(c) for c in f.read().split())
        except OSError:
            pass
        return found

    def cpu_seconds(self, main_only: bool = False) -> float:
        """
        User + system CPU seconds of all the threads of the process and its
        children (of the process alone with C{main_only}).
        """
        total = 0.0
        for pid in [self.pid] if main_only else self.pids():
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                if pid == self.pid:
                    raise
                continue
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
        return total

    def run_delay(self) -> float:
        """
        Seconds the process's main thread has spent runnable but waiting for a
        CPU (C{/proc/PID/schedstat}; 0.0 when unavailable): how much other
        processes held it back.
        """
        try:
            with open(f"/proc/{self.pid}/schedstat", encoding="ascii") as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def memory(self) -> dict[str, float]:
        """
        Resident set size now (C{rss_mb}) and at its peak (C{rss_peak_mb}),
        summed over the process and its children.
        """
        values: dict[str, float] = {"rss_mb": 0.0, "rss_peak_mb": 0.0}
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith(("VmRSS:", "VmHWM:")):
                            key = "rss_mb" if line.startswith("VmRSS") else "rss_peak_mb"
                            values[key] += int(line.split()[1]) / 1024
            except OSError:
                continue
        return values


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from C{/proc/stat}."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return total - idle, total


def own_cpu() -> float:
    """User + system CPU seconds of this process."""
    t = os.times()
    return t.user + t.system


# --- the measured window ------------------------------------------------------------------


async def measure(
    gen: Generator, args: argparse.Namespace, watch: ProcWatch | None, report: dict[str, Any]
) -> None:
    """Warm up, then count the calls of the measured window."""
    await asyncio.sleep(args.warmup)
    srv0 = watch.cpu_seconds() if watch else 0.0
    main0 = watch.cpu_seconds(main_only=True) if watch else 0.0
    delay0 = watch.run_delay() if watch else 0.0
    mach0 = machine_cpu()
    cpu0 = own_cpu()
    t0 = time.perf_counter()
    gen.measuring = True
    await asyncio.sleep(args.duration)
    gen.measuring = False
    window = time.perf_counter() - t0
    cpu = own_cpu() - cpu0
    mach1 = machine_cpu()
    lat = sorted(gen.latencies)
    calls = len(lat)
    report.update(
        warmup_s=args.warmup,
        window_s=round(window, 3),
        connected_at_end=len(gen.active),
        calls=calls,
        calls_per_s=round(calls / window, 1),
        results=gen.results,
        errors=gen.errors,
        timeouts=gen.timeouts,
        by_action={ACTION_NAMES[i]: n for i, n in enumerate(gen.by_action)},
        latency_ms={
            "p50": round(percentile(lat, 0.50), 3),
            "p90": round(percentile(lat, 0.90), 3),
            "p99": round(percentile(lat, 0.99), 3),
            "max": round(lat[-1] / 1e6 if lat else 0.0, 3),
            "mean": round(sum(lat) / calls / 1e6 if calls else 0.0, 3),
        },
        generator_cpu_s=round(cpu, 2),
        generator_cpu_pct=round(100 * cpu / window, 1),
        machine_cpu_busy_pct=round(100 * (mach1[0] - mach0[0]) / max(1, mach1[1] - mach0[1]), 1),
    )
    if watch:
        srv = watch.cpu_seconds() - srv0
        main = watch.cpu_seconds(main_only=True) - main0
        mem = watch.memory()
        report.update(
            server_cpu_s=round(srv, 2),
            server_cpu_pct=round(100 * srv / window, 1),
            # CPU per call of the server's own process (its event loop), without its children:
            # less sensitive than calls/s to other processes competing for the cores
            server_main_cpu_pct=round(100 * main / window, 1),
            server_main_waited_for_cpu_pct=round(100 * (watch.run_delay() - delay0) / window, 1),
            server_main_cpu_us_per_call=round(1e6 * main / calls, 1) if calls else None,
            server_rss_mb=round(mem.get("rss_mb", 0.0), 1),
            server_rss_peak_mb=round(mem.get("rss_peak_mb", 0.0), 1),
        )


async def hold_idle(
    gen: Generator, args: argparse.Namespace, watch: ProcWatch | None, report: dict[str, Any]
) -> None:
    """Hold the booted stations open, answering pings only."""
    connected_start = len(gen.active)
    srv0 = watch.cpu_seconds() if watch else 0.0
    cpu0 = own_cpu()
    t0 = time.perf_counter()
    await asyncio.sleep(args.duration)
    window = time.perf_counter() - t0
    cpu = own_cpu() - cpu0
    report.update(
        hold_s=round(window, 2),
        connected_at_start_of_hold=connected_start,
        connected_at_end=len(gen.active),
        generator_cpu_pct=round(100 * cpu / window, 1),
    )
    if watch:
        mem = watch.memory()
        srv = watch.cpu_seconds() - srv0
        before = report.get("server_rss_mb_before", 0.0)
        report.update(
            server_cpu_pct=round(100 * srv / window, 1),
            server_rss_mb=round(mem.get("rss_mb", 0.0), 1),
            server_rss_peak_mb=round(mem.get("rss_peak_mb", 0.0), 1),
            server_rss_kb_per_connection=round(
                (mem.get("rss_mb", 0.0) - before) * 1024 / max(1, len(gen.active)), 1
            ),
        )
