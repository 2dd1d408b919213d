"""
OCPP 1.6-J load generator: many simulated stations in one process (picows + uvloop).

Each station opens a WebSocket to C{--url}/{prefix}{n} offering subprotocol
C{ocpp1.6}, sends a BootNotification and waits for its reply, then keeps exactly
one CALL in flight (Heartbeat / MeterValues / StatusNotification, chosen from
C{--mix}). Server pings are answered with pongs and server CALLs with a
CALLERROR NotSupported. Replies are timed send-to-reply with
C{time.perf_counter_ns}; only replies arriving inside the measured window (after
the connection ramp and C{--warmup}) count towards the figures.

With a C{wss://} URL the stations connect over TLS, verifying the server's
certificate against C{--ca} (e.g. the throwaway CA of C{run.py --tls}).

C{--idle} connects and boots the stations, then holds them open without calls
for C{--duration} seconds (answering pings only) and reports how many stayed
connected and the server's memory.

This module connects the stations and runs the phases; the stations are in
C{loadgen_stations.py}, the figures in C{loadgen_measure.py} and the text
report in C{loadgen_report.py}, next to it.

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
import resource
import ssl
import sys
from typing import Any
from urllib.parse import urlsplit

import uvloop
from loadgen_measure import ProcWatch, hold_idle, measure, own_cpu, percentile
from loadgen_report import format_report
from loadgen_stations import Generator, Station, parse_mix
from loadgen_storm import storm
from picows import WSCloseCode, ws_connect

# ProcWatch and percentile were defined here and stay importable from here.
__all__ = [
    "ProcWatch",
    "check_loopback",
    "connect_one",
    "every",
    "main",
    "parse_args",
    "percentile",
    "raise_fd_limit",
    "ramp",
    "run",
]


def check_loopback(url: str) -> None:
    """Refuse anything but a C{ws://} URL on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"only ws:// and wss:// URLs are supported, got {url!r}")
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
            ssl_context=gen.args.ssl_context,
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
    if gen.held is not None:  # --start-together: now every booted station begins
        held, gen.held = gen.held, None
        for st in held:
            if st in gen.active:
                st.next_call()
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
        "mode": "storm" if args.storm else "idle" if args.idle else "load",
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
        if args.storm:
            await storm(gen, args, watch, report)
        else:
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
    p.add_argument(
        "--start-together",
        action="store_true",
        help="booted stations wait until all are connected, then start their calls",
    )
    p.add_argument(
        "--storm",
        action="store_true",
        help="all stations connect at once (no pacing, retrying) until all are Accepted "
        "or --ramp-timeout; report the time to Accepted",
    )
    p.add_argument("--retry-delay", type=float, default=1.0, help="--storm: seconds between tries")
    p.add_argument(
        "--listen-at", type=float, help="--storm: wall-clock time the listener was seen open"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument(
        "--ca", help="wss://: the PEM file of the CA that signed the server's certificate"
    )
    args = p.parse_args(argv)
    args.ssl_context = None
    if args.url.startswith("wss:"):
        args.ssl_context = ssl.create_default_context(cafile=args.ca)
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
