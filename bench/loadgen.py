"""
OCPP 1.6-J load generator: many simulated stations in one process (picows + uvloop).

Each station opens a WebSocket to C{--url}/{prefix}{n} offering subprotocol
C{ocpp1.6}, sends a BootNotification and waits for its reply, then keeps exactly
one CALL in flight (Heartbeat / MeterValues / StatusNotification, chosen from
C{--mix}). Server pings are answered with pongs and server CALLs with a
CALLERROR NotSupported. Replies are timed send-to-reply with
C{time.perf_counter_ns}; only replies arriving inside the measured window (after
the connection ramp and C{--warmup}) count towards the figures.

C{--idle} connects and boots the stations, then holds them open without calls
for C{--duration} seconds (answering pings only) and reports how many stayed
connected and the server's memory.

The generator only targets loopback addresses and stops by itself. Run it with
the project's virtualenv::

    .venv/bin/python bench/loadgen.py --stations 1000 --duration 20 --server-pid PID
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import math
import os
import random
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import uvloop
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

ACTIONS = ("heartbeat", "metervalues", "statusnotification")
ACTION_NAMES = ("Heartbeat", "MeterValues", "StatusNotification")
STATUSES = ("Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
BOOT_PAYLOAD = {"chargePointVendor": "Bench", "chargePointModel": "Load"}
SCHEDULE_LEN = 4096  # a power of two: stations walk a precomputed random action sequence

_TEXT = WSMsgType.TEXT
_PING = WSMsgType.PING
_CLOSE = WSMsgType.CLOSE
_perf_ns = time.perf_counter_ns


def iso_now() -> str:
    """The current UTC time as ISO 8601 with a C{Z} suffix, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_mix(text: str) -> dict[str, float]:
    """Parse C{heartbeat=1,metervalues=2} into weights; unknown actions raise ValueError."""
    weights = dict.fromkeys(ACTIONS, 0.0)
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name not in weights:
            raise ValueError(f"unknown action {name!r} (known: {', '.join(ACTIONS)})")
        weight = float(value) if value.strip() else 1.0
        if weight < 0:
            raise ValueError(f"negative weight for {name}")
        weights[name] = weight
    if sum(weights.values()) <= 0:
        raise ValueError("the mix needs at least one positive weight")
    return weights


def check_loopback(url: str) -> None:
    """Refuse anything but a C{ws://} URL on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise ValueError(f"only ws:// URLs are supported, got {url!r}")
    host = parts.hostname or ""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"refusing non-loopback host {host!r}: this tool only targets loopback")


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit to the hard limit; return the resulting soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard and (hard == resource.RLIM_INFINITY or soft < wanted):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


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

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of all the threads of the process and its children."""
        total = 0.0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                if pid == self.pid:
                    raise
                continue
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
        return total

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


# --- the stations -------------------------------------------------------------------------


class Generator:
    """Shared state and counters of all stations."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.idle: bool = args.idle
        weights = parse_mix(args.mix)
        rng = random.Random(args.seed)
        self.schedule: list[int] = rng.choices(
            range(len(ACTIONS)), weights=[weights[a] for a in ACTIONS], k=SCHEDULE_LEN
        )
        self.timeout_ns = int(args.call_timeout * 1e9)
        # --rate: each station sends at most one CALL every interval_ns (open-loop pacing).
        self.interval_ns = int(args.stations / args.rate * 1e9) if args.rate else 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.measuring = False
        self.stopping = False
        self.stations: list[Station] = []
        self.active: set[Station] = set()
        self.hb_body = b'"Heartbeat",{}]'
        self.mv_body = b""
        self.sn_bodies = [
            b'"StatusNotification",'
            + orjson.dumps({"connectorId": 1, "errorCode": "NoError", "status": s})
            + b"]"
            for s in STATUSES
        ]
        self.boot_body = b'"BootNotification",' + orjson.dumps(BOOT_PAYLOAD) + b"]"
        self.refresh_time()
        # counters over the whole run
        self.connected = 0
        self.connect_failed = 0
        self.connect_errors: Counter[str] = Counter()
        self.subprotocol_rejected = 0
        self.booted = 0
        self.boot_not_accepted: Counter[str] = Counter()
        self.boot_failed = 0
        self.disconnects = 0
        self.pings = 0
        self.server_calls = 0
        self.unexpected = 0
        self.bad_frames = 0
        self.error_codes: Counter[str] = Counter()
        self.total_timeouts = 0
        # counters of the measured window
        self.latencies: list[int] = []
        self.results = 0
        self.errors = 0
        self.timeouts = 0
        self.by_action = [0] * len(ACTIONS)

    def refresh_time(self) -> None:
        """Rebuild the MeterValues body with the current timestamp."""
        payload = {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": iso_now(),
                    "sampledValue": [
                        {
                            "value": "1234.5",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                        {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
                    ],
                }
            ],
        }
        self.mv_body = b'"MeterValues",' + orjson.dumps(payload) + b"]"

    def sweep_timeouts(self) -> None:
        """Give up on calls older than C{--call-timeout}; the station moves on."""
        now = _perf_ns()
        limit = self.timeout_ns
        for st in list(self.active):
            if st.pending is not None and now - st.sent_at > limit:
                st.pending = None
                self.total_timeouts += 1
                if st.booting:
                    st.booting = False
                    self.boot_failed += 1
                    continue
                if self.measuring:
                    self.timeouts += 1
                if not self.stopping:
                    st.send_next()


class Station(WSListener):
    """One simulated charge point: at most one CALL in flight."""

    __slots__ = (
        "gen",
        "index",
        "transport",
        "pending",
        "pending_kind",
        "sent_at",
        "seq",
        "sched_pos",
        "status_pos",
        "booting",
        "due",
    )

    def __init__(self, gen: Generator, index: int) -> None:
        super().__init__()
        self.gen = gen
        self.index = index
        self.transport: WSTransport | None = None
        self.pending: str | None = None
        self.pending_kind = -1
        self.sent_at = 0
        self.seq = 0
        self.sched_pos = (index * 7919) & (SCHEDULE_LEN - 1)
        self.status_pos = index % len(STATUSES)
        self.booting = False
        # Spread the stations' phases over one interval.
        self.due = _perf_ns() + (gen.interval_ns * index // max(gen.args.stations, 1))

    def on_ws_connected(self, transport: WSTransport) -> None:
        gen = self.gen
        self.transport = transport
        if transport.response.headers.get("Sec-WebSocket-Protocol") != "ocpp1.6":
            gen.subprotocol_rejected += 1
            transport.send_close(WSCloseCode.PROTOCOL_ERROR)
            transport.disconnect()
            return
        gen.connected += 1
        gen.active.add(self)
        self.booting = True
        self._send(-1, gen.boot_body)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        gen = self.gen
        if self in gen.active:
            gen.active.discard(self)
            if not gen.stopping:
                gen.disconnects += 1
        self.pending = None

    def _send(self, kind: int, body: bytes) -> None:
        self.seq += 1
        uid = str(self.seq)
        self.pending = uid
        self.pending_kind = kind
        self.sent_at = _perf_ns()
        self.transport.send(_TEXT, b'[2,"' + uid.encode() + b'",' + body)  # type: ignore[union-attr]

    def next_call(self) -> None:
        """Send the next CALL now, or at its due time under C{--rate}."""
        gen = self.gen
        if not gen.interval_ns:
            self.send_next()
            return
        now = _perf_ns()
        self.due = max(self.due + gen.interval_ns, now)
        delay = (self.due - now) / 1e9
        if delay > 0 and gen.loop is not None:
            gen.loop.call_later(delay, self._send_if_open)
        else:
            self.send_next()

    def _send_if_open(self) -> None:
        if self.transport is not None and self in self.gen.active and not self.gen.stopping:
            self.send_next()

    def send_next(self) -> None:
        """Send the next CALL of the mix."""
        gen = self.gen
        kind = gen.schedule[self.sched_pos]
        self.sched_pos = (self.sched_pos + 1) & (SCHEDULE_LEN - 1)
        if kind == 0:
            body = gen.hb_body
        elif kind == 1:
            body = gen.mv_body
        else:
            body = gen.sn_bodies[self.status_pos]
            self.status_pos = (self.status_pos + 1) % len(STATUSES)
        self._send(kind, body)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        now = _perf_ns()
        gen = self.gen
        mt = frame.msg_type
        if mt != _TEXT:
            if mt == _PING:
                transport.send_pong(frame.get_payload_as_bytes())
                gen.pings += 1
            elif mt == _CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
            return
        try:
            msg = orjson.loads(frame.get_payload_as_memoryview())
            typ = msg[0]
            uid = msg[1]
        except (orjson.JSONDecodeError, TypeError, IndexError, KeyError):
            gen.bad_frames += 1
            return
        if typ == 2:
            gen.server_calls += 1
            action = msg[2] if len(msg) > 2 else "?"
            transport.send(
                _TEXT,
                orjson.dumps([4, uid, "NotSupported", f"bench station does not do {action}", {}]),
            )
            return
        if uid != self.pending or typ not in (3, 4):
            gen.unexpected += 1
            return
        self.pending = None
        if typ == 4:
            gen.error_codes[str(msg[2]) if len(msg) > 2 else "?"] += 1
        if self.booting:
            self.booting = False
            status = msg[2].get("status") if typ == 3 and isinstance(msg[2], dict) else None
            if status == "Accepted":
                gen.booted += 1
            else:
                gen.boot_not_accepted[str(status) if typ == 3 else "CALLERROR"] += 1
                return  # a station not accepted stays quiet
            if gen.idle or gen.stopping:
                return
        elif gen.measuring:
            gen.latencies.append(now - self.sent_at)
            gen.by_action[self.pending_kind] += 1
            if typ == 3:
                gen.results += 1
            else:
                gen.errors += 1
        if not gen.stopping:
            self.next_call()


# --- running ------------------------------------------------------------------------------


async def connect_one(gen: Generator, index: int, url: str, sem: asyncio.Semaphore) -> None:
    """Open station C{index}'s WebSocket; count failures."""
    station = Station(gen, index)
    gen.stations.append(station)
    try:
        await ws_connect(
            lambda: station,
            url,
            websocket_handshake_timeout=gen.args.handshake_timeout,
            enable_auto_pong=False,  # answered in on_ws_frame, so pings can be counted
            extra_headers={"Sec-WebSocket-Protocol": "ocpp1.6"},
            logger_name="loadgen",
        )
    except Exception as e:  # any failure counts as one failed connection
        gen.connect_failed += 1
        gen.connect_errors[type(e).__name__ + (f": {e}" if str(e) else "")[:120]] += 1
    finally:
        sem.release()


async def ramp(gen: Generator) -> float:
    """Connect all stations at C{--connect-rate}; return the seconds it took."""
    args = gen.args
    loop = asyncio.get_running_loop()
    base = args.url.rstrip("/")
    sem = asyncio.Semaphore(args.max_pending)
    tasks: list[asyncio.Task[None]] = []
    start = loop.time()
    deadline = start + args.ramp_timeout
    for i in range(args.stations):
        delay = start + i / args.connect_rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await sem.acquire()
        url = f"{base}/{args.prefix}{i + args.first}"
        tasks.append(asyncio.ensure_future(connect_one(gen, i, url, sem)))
        if loop.time() > deadline:
            break
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=max(0.1, deadline - loop.time()))
    for t in tasks:
        t.cancel()
    # wait for the BootNotification replies (bounded by the call timeout)
    boot_deadline = loop.time() + args.call_timeout + 1
    while loop.time() < boot_deadline:
        done = gen.booted + gen.boot_failed + sum(gen.boot_not_accepted.values())
        if done >= gen.connected:
            break
        await asyncio.sleep(0.05)
    return loop.time() - start


async def every(interval: float, fn: Any) -> None:
    """Call C{fn()} every C{interval} seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        fn()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run one benchmark and return its figures."""
    gen = Generator(args)
    gen.loop = asyncio.get_running_loop()
    watch = ProcWatch(args.server_pid) if args.server_pid else None
    report: dict[str, Any] = {
        "mode": "idle" if args.idle else "load",
        "url": args.url,
        "stations_requested": args.stations,
    }
    if watch:
        report["server_pid"] = watch.pid
        report["server_rss_mb_before"] = round(watch.memory().get("rss_mb", 0.0), 1)
    timers = [
        asyncio.ensure_future(every(0.25, gen.sweep_timeouts)),
        asyncio.ensure_future(every(0.5, gen.refresh_time)),
    ]
    cpu_start = own_cpu()
    try:
        report["ramp_s"] = round(await ramp(gen), 2)
        report["connected"] = gen.connected
        report["booted"] = gen.booted
        if args.idle:
            await hold_idle(gen, args, watch, report)
        else:
            await measure(gen, args, watch, report)
    finally:
        gen.stopping = True
        for t in timers:
            t.cancel()
        for st in list(gen.active):
            if st.transport is not None:
                st.transport.send_close(WSCloseCode.GOING_AWAY)
                st.transport.disconnect()
        for _ in range(40):
            if not gen.active:
                break
            await asyncio.sleep(0.05)
    report.update(
        connect_failed=gen.connect_failed,
        connect_errors=dict(gen.connect_errors.most_common(5)),
        subprotocol_rejected=gen.subprotocol_rejected,
        boot_not_accepted=dict(gen.boot_not_accepted),
        boot_timeouts=gen.boot_failed,
        disconnects=gen.disconnects,
        pings_answered=gen.pings,
        server_calls_answered=gen.server_calls,
        unexpected_replies=gen.unexpected,
        bad_frames=gen.bad_frames,
        error_codes=dict(gen.error_codes),
        timeouts_total=gen.total_timeouts,
        generator_cpu_s_total=round(own_cpu() - cpu_start, 2),
    )
    return report


async def measure(
    gen: Generator, args: argparse.Namespace, watch: ProcWatch | None, report: dict[str, Any]
) -> None:
    """Warm up, then count the calls of the measured window."""
    await asyncio.sleep(args.warmup)
    srv0 = watch.cpu_seconds() if watch else 0.0
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
        mem = watch.memory()
        report.update(
            server_cpu_s=round(srv, 2),
            server_cpu_pct=round(100 * srv / window, 1),
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


def format_report(r: dict[str, Any]) -> str:
    """Human-readable lines for a report."""
    lines = [
        f"stations: {r['connected']} connected, {r['booted']} booted of "
        f"{r['stations_requested']} ({r['connect_failed']} failed, ramp {r['ramp_s']} s)"
        + (f"  errors: {r['connect_errors']}" if r["connect_errors"] else ""),
    ]
    if r["mode"] == "load":
        lat = r["latency_ms"]
        lines += [
            f"window: {r['window_s']} s after {r['warmup_s']} s warm-up; "
            f"{r['connected_at_end']} still connected",
            f"calls: {r['calls']} completed = {r['calls_per_s']:.0f} calls/s "
            f"({r['results']} results, {r['errors']} errors, {r['timeouts']} timeouts)",
            "by action: " + ", ".join(f"{k} {v}" for k, v in r["by_action"].items()),
            f"latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  "
            f"max {lat['max']}  mean {lat['mean']}",
            f"generator CPU: {r['generator_cpu_s']} s = {r['generator_cpu_pct']}% of one core; "
            f"machine busy {r['machine_cpu_busy_pct']}% (all cores)",
        ]
    else:
        lines += [
            f"idle hold: {r['hold_s']} s; connected {r['connected_at_start_of_hold']} at start, "
            f"{r['connected_at_end']} at end; {r['pings_answered']} pings answered; "
            f"generator CPU {r['generator_cpu_pct']}%",
        ]
    if "server_pid" in r and "server_rss_mb" in r:
        extra = (
            f", {r['server_rss_kb_per_connection']} KB/connection"
            if "server_rss_kb_per_connection" in r
            else ""
        )
        lines.append(
            f"server pid {r['server_pid']} with its worker processes: "
            f"CPU {r['server_cpu_pct']}% of one core; RSS "
            f"{r['server_rss_mb']} MB (before {r['server_rss_mb_before']}, peak "
            f"{r['server_rss_peak_mb']}){extra}"
        )
    oddities = {
        k: r[k]
        for k in (
            "subprotocol_rejected",
            "boot_not_accepted",
            "boot_timeouts",
            "disconnects",
            "unexpected_replies",
            "bad_frames",
            "error_codes",
            "server_calls_answered",
        )
        if r.get(k)
    }
    if oddities:
        lines.append(f"other: {oddities}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--url", default="ws://127.0.0.1:9220/ocpp", help="base URL (loopback only)")
    p.add_argument("--prefix", default="BENCH", help="station identity prefix")
    p.add_argument("--first", type=int, default=1, help="number of the first station")
    p.add_argument("--stations", type=int, default=100)
    p.add_argument("--duration", type=float, default=20.0, help="measured (or idle) seconds")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds after the ramp, unmeasured")
    p.add_argument("--connect-rate", type=float, default=1000.0, help="new connections/s")
    p.add_argument("--max-pending", type=int, default=200, help="handshakes in flight at most")
    p.add_argument("--ramp-timeout", type=float, default=60.0, help="seconds for all connects")
    p.add_argument("--handshake-timeout", type=float, default=10.0)
    p.add_argument("--call-timeout", type=float, default=10.0, help="seconds before a timeout")
    p.add_argument(
        "--mix", default="heartbeat=1,metervalues=1,statusnotification=1", help="action weights"
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the action sequence")
    p.add_argument("--server-pid", type=int, help="report this process's RSS and CPU")
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="total calls/s to offer, paced per station (0: as fast as replies come)",
    )
    p.add_argument("--idle", action="store_true", help="connect, boot, then hold idle")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = p.parse_args(argv)
    try:
        check_loopback(args.url)
        parse_mix(args.mix)
    except ValueError as e:
        p.error(str(e))
    if args.stations < 1 or args.connect_rate <= 0 or args.max_pending < 1:
        p.error("--stations, --connect-rate and --max-pending must be positive")
    if args.duration <= 0 or args.warmup < 0:
        p.error("--duration must be positive and --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point: run, print, return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(name)s: %(message)s")
    limit = raise_fd_limit(args.stations + 64)
    if args.stations + 64 > limit:
        print(f"warning: open-files limit {limit} is too low for {args.stations}", file=sys.stderr)
    report = uvloop.run(run(args))
    if args.json:
        print(json.dumps(report))
    else:
        print(format_report(report))
    return 0 if report["connected"] else 1


if __name__ == "__main__":
    sys.exit(main())
