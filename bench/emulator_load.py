"""
Emulator load: one process runs an L{EmulatorService} with N generated
stations (default 1,000), every one of them charging, with meter values every
C{MeterValueSampleInterval} seconds (default 10), against a central system.

The central system is ocppcs itself (C{twistd -n ocppcs} from the virtualenv
with a temporary configuration: embedded store in a temporary folder,
C{tcp:PORT:interface=127.0.0.1:backlog=4096}), or any central system given
with C{--url}. Each station has one 22 kW AC connector (three phases) and
reports Energy.Active.Import.Register, Power.Active.Import, Current.Import and
Voltage (8 sampled values). Once a station is Accepted, the driver plugs in
and presents idTag BENCH (Authorize, StartTransaction).

Phases: ramp (until every station charges, at most C{--ramp-timeout}),
warm-up (C{--warmup}), then the measured window (C{--duration}). Figures for
the window: MeterValues answered per second, stations online (lowest and at
the end), send-to-reply and queued-to-reply latency of MeterValues (p50 /
p99 / max), the emulator's CPU (its reactor process, and with its store
worker) and RSS, and the central system's CPU and RSS.

The timings and the count of log warnings are taken by the probes of
C{emulator_load_probes.py}, next to this file.

Usage (from the repository root)::

    .venv/bin/python bench/emulator_load.py                    # 1,000 stations, 60 s
    .venv/bin/python bench/emulator_load.py --stations 100 --duration 20 --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import reactor, task  # noqa: E402
from twisted.internet.defer import Deferred, ensureDeferred  # noqa: E402
from twisted.logger import globalLogBeginner, textFileLogObserver  # noqa: E402
from twisted.python.failure import Failure  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from emulator_load_probes import Timings, Warnings  # noqa: E402
from loadgen_measure import ProcWatch, percentile  # noqa: E402
from run import port_open, stop_server  # noqa: E402

from ocppcs.config import EmulatorConfig  # noqa: E402
from ocppcs.emulator.charging import LocalActionError  # noqa: E402
from ocppcs.emulator.service import EmulatorService  # noqa: E402
from ocppcs.emulator.station import EmulatedStation  # noqa: E402
from ocppcs.emulator.stationconfig import StationConfig, load_station  # noqa: E402

ID_TAG = "BENCH"


def station_configs(folder: Path, count: int, interval: int, prefix: str) -> list[StationConfig]:
    """C{count} stations from one C{configuration.json} written to C{folder}."""
    keys = {
        "CentralSystemURL": "ws://127.0.0.1:9220/ocpp",
        "ChargePointVendor": "Bench",
        "ChargePointModel": "Emulated AC",
        "HeartbeatInterval": "60",
        "MeterValueSampleInterval": str(interval),
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import,"
        "Current.Import,Voltage",
        "AuthorizeRemoteTxRequests": "true",
    }
    data = {
        "connectorId": [{"id": 1, "voltage": "AC", "power": 22000, "phases": 3}],
        "configurationKey": [{"key": k, "readonly": False, "value": v} for k, v in keys.items()],
    }
    station = folder / "BENCH"
    station.mkdir(parents=True)
    (station / "configuration.json").write_text(json.dumps(data), encoding="utf-8")
    base = load_station(station)
    return [dataclasses.replace(base, identity=f"{prefix}{n:05d}") for n in range(count)]


def sleep(seconds: float) -> Deferred[None]:
    """Fires after C{seconds}."""
    return task.deferLater(reactor, seconds, lambda: None)


def start_central(workdir: Path, port: int, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """ocppcs under twistd with a temporary configuration; waits until it listens."""
    config = workdir / "central.conf"
    config.write_text(
        f"[server]\nlisten = tcp:{port}:interface=127.0.0.1:backlog=4096\n"
        f"\n[embedded]\npath = {workdir / 'central.sqlite3'}\n",
        encoding="utf-8",
    )
    cmd = [str(BIN / "twistd"), "-n", "--pidfile=", "--logfile", str(workdir / "twistd.log")]
    cmd += ["ocppcs", "--config", str(config)]
    print(f"# central system: {' '.join(cmd)}", file=sys.stderr, flush=True)
    out = (workdir / "central.out").open("wb")
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if port_open(port):
            return proc
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"ocppcs did not listen on port {port}; see {workdir}/twistd.log")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def charging(station: EmulatedStation) -> bool:
    """Whether the station's connector has a transaction the central system numbered."""
    tx = station.connectors[1].transaction
    return tx is not None and station.transaction_ids.get(tx.local_id) is not None


def drive(service: EmulatorService, started: set[str]) -> None:
    """Plug in and present the idTag at each newly Accepted station."""
    for identity, station in service.stations.items():
        if identity in started or not station.online:
            continue
        started.add(identity)
        try:
            if not station.connectors[1].plugged:
                station.plug_in(1)
            station.present_id_tag(1, ID_TAG).addErrback(lambda f: None)
        except LocalActionError:
            started.discard(identity)


async def measure(args: argparse.Namespace, workdir: Path, central_pid: int | None) -> dict:
    """Run the emulator through ramp, warm-up and window; return the figures."""
    timings = Timings()
    timings.install()
    configs = station_configs(workdir / "cp", args.stations, args.interval, args.prefix)
    config = EmulatorConfig(
        enable=True, path=str(workdir / "cp"), state=str(workdir / "emulator.sqlite3")
    )
    service = EmulatorService(config, reactor, call_timeout=30, stations=configs, url=args.url)
    began = time.monotonic()
    service.startService()
    await service.ready
    stations = list(service.stations.values())
    started: set[str] = set()
    driver = task.LoopingCall(drive, service, started)
    driver.start(0.2)
    result: dict[str, Any] = {
        "stations": args.stations,
        "interval_s": args.interval,
        "sampling": "aligned" if args.aligned else "spread",
    }
    try:
        while sum(map(charging, stations)) < len(stations):
            if time.monotonic() - began > args.ramp_timeout:
                break
            await sleep(0.2)
        driver.stop()
        result["ramp_s"] = round(time.monotonic() - began, 1)
        result["charging_after_ramp"] = sum(map(charging, stations))
        if not args.aligned:  # restart each station's sampling timer at a random moment
            rng = random.Random(1)
            for station in stations:
                reactor.callLater(rng.uniform(0, args.interval), station.schedule_sampling)
        await sleep(args.warmup)

        worker = ProcWatch(service.store.store.worker_pid or os.getpid())
        central = ProcWatch(central_pid) if central_pid else None
        cpu0, worker0 = time.process_time(), worker.cpu_seconds()
        cs0 = central.cpu_seconds() if central else 0.0
        t0 = time.monotonic()
        timings.recording = True
        lowest = len(stations)
        while (elapsed := time.monotonic() - t0) < args.duration:
            lowest = min(lowest, sum(s.online for s in stations))
            await sleep(min(1.0, args.duration - elapsed))
        timings.recording = False
        window = time.monotonic() - t0
        cpu, cpu_worker = time.process_time() - cpu0, worker.cpu_seconds() - worker0

        rtt, queued = sorted(timings.rtt_ns), sorted(timings.queued_ns)
        result.update(
            window_s=round(window, 1),
            meter_values=timings.replies["MeterValues"],
            meter_values_per_s=round(timings.replies["MeterValues"] / window, 1),
            replies_per_s=round(sum(timings.replies.values()) / window, 1),
            replies=dict(timings.replies),
            failures=dict(timings.failures),
            online_lowest=lowest,
            online_end=sum(s.online for s in stations),
            charging_end=sum(map(charging, stations)),
            rtt_ms={q: round(percentile(rtt, v), 1) for q, v in _QS},
            queued_ms={q: round(percentile(queued, v), 1) for q, v in _QS},
            cpu_percent=round(100 * cpu / window, 1),
            worker_cpu_percent=round(100 * cpu_worker / window, 1),
            rss_mb=round(_own_rss_mb(), 1),
            worker_rss_mb=round(worker.memory()["rss_mb"], 1),
            reconnects=sum(link.connections for link in service.links.values()) - len(stations),
        )
        if central is not None:
            result["central_cpu_percent"] = round(100 * (central.cpu_seconds() - cs0) / window, 1)
            result["central_rss_mb"] = round(central.memory()["rss_mb"], 1)
    finally:
        if driver.running:
            driver.stop()
        await service.stopService()
    return result


_QS = (("p50", 0.50), ("p99", 0.99), ("max", 1.0))


def _own_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def format_report(r: dict[str, Any]) -> str:
    """The figures as text."""
    lines = [
        f"stations {r['stations']}, MeterValueSampleInterval {r['interval_s']} s "
        f"({r['sampling']}); "
        f"ramp {r['ramp_s']} s ({r['charging_after_ramp']} charging)",
        f"window {r['window_s']} s: MeterValues answered {r['meter_values']} "
        f"= {r['meter_values_per_s']}/s (all replies {r['replies_per_s']}/s: {r['replies']})",
        f"failures {r['failures'] or 0}; reconnects {r['reconnects']}; "
        f"log warnings/errors {r.get('warnings', 0)}",
        f"online: lowest {r['online_lowest']}, at the end {r['online_end']} "
        f"(charging {r['charging_end']})",
        "MeterValues send->reply ms: "
        + " / ".join(f"{k} {v}" for k, v in r["rtt_ms"].items())
        + "; queued->reply ms: "
        + " / ".join(f"{k} {v}" for k, v in r["queued_ms"].items()),
        f"emulator CPU {r['cpu_percent']} % of one core, RSS {r['rss_mb']} MB; "
        f"its store worker: CPU {r['worker_cpu_percent']} %, RSS {r['worker_rss_mb']} MB",
    ]
    if "central_cpu_percent" in r:
        lines.append(
            f"central system (ocppcs + store worker): CPU {r['central_cpu_percent']} %, "
            f"RSS {r['central_rss_mb']} MB"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--stations", type=int, default=1000)
    p.add_argument("--interval", type=int, default=10, help="MeterValueSampleInterval (s)")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=15.0, help="seconds after the ramp")
    p.add_argument("--ramp-timeout", type=float, default=120.0)
    p.add_argument("--url", default="", help="a central system to use instead of ocppcs")
    p.add_argument("--port", type=int, default=0, help="port for ocppcs (default: a free one)")
    p.add_argument("--prefix", default="EMU", help="station identity prefix")
    p.add_argument(
        "--aligned",
        action="store_true",
        help="keep the sampling timers as booting set them (near-simultaneous bursts); "
        "by default each is restarted at a random moment within one interval",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the central system (unless --url), run the emulator, print the figures."""
    args = parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    outcome: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ocppcs-emulator-bench-") as tmp:
        workdir = Path(tmp)
        central = None
        if not args.url:
            port = args.port or free_port()
            central = start_central(workdir, port)
            args.url = f"ws://127.0.0.1:{port}/ocpp"

        warnings = Warnings()
        log = (workdir / "emulator.log").open("w", encoding="utf-8")
        globalLogBeginner.beginLoggingTo(
            [textFileLogObserver(log), warnings], redirectStandardIO=False
        )

        def done(result: Any) -> None:
            if isinstance(result, Failure):
                outcome["error"] = result
            else:
                outcome["result"] = result
            reactor.stop()

        def run() -> None:
            pid = central.pid if central else None
            ensureDeferred(measure(args, workdir, pid)).addBoth(done)

        reactor.callWhenRunning(run)
        try:
            reactor.run()
        finally:
            if central is not None:
                stop_server(central)
            log.close()
    if "error" in outcome:
        outcome["error"].printTraceback()
        return 1
    result = outcome["result"]
    result["warnings"] = warnings.count
    for text in warnings.first:
        print(f"# warning: {text}", file=sys.stderr)
    print(json.dumps(result) if args.json else format_report(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
