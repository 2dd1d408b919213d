"""
Run the benchmark scenarios: start a server, load it with C{loadgen.py}, stop it.

By default the server is ocppcs itself (C{twistd -n ocppcs --config CFG} from
the virtualenv, with a temporary configuration listening on
C{tcp:PORT:interface=127.0.0.1} and a temporary C{[embedded] path}); with
C{--canned} it is C{canned_server.py}, the Twisted + Autobahn baseline.
Every scenario gets a fresh server:

  - C{a}: 100 stations, one CALL in flight each
  - C{b}: 1,000 stations, one CALL in flight each
  - C{c}: 10,000 stations connected, booted and held idle (server RSS)
  - C{d}: 10,000 stations, one CALL in flight each (connects paced at
    2,000/s; the calls start once all are booted)
  - C{storm}: 10,000 stations connecting at once as soon as the listener is
    open (the reconnect storm after a restart): time until all are Accepted

With C{--backend webhook} ocppcs answers through its webhook backend, posting
to C{webhook_receiver.py} (a fast local receiver, its own process, on
C{--receiver-port}); C{--backend both} runs each scenario against the
embedded and then the webhook backend, back to back, so that both figures
come from the same machine state. With C{--backend postgres} ocppcs answers
through C{ocpp.Parse} on a throwaway PostgreSQL server started for each
scenario (C{postgres_backend.py}).

With C{--compare}, every scenario runs against the canned baseline and
against ocppcs back to back (C{--repeat} times, alternating which goes
first) and a summary gives ocppcs as a share of the baseline.

Usage (from the repository root)::

    .venv/bin/python bench/run.py --canned            # a, b, c, baseline
    .venv/bin/python bench/run.py --scenario b        # ocppcs, 1,000 stations
    .venv/bin/python bench/run.py --compare --scenario storm   # both servers
    .venv/bin/python bench/run.py --compare --scenario d --repeat 2
    .venv/bin/python bench/run.py --json -- --mix heartbeat=1
    .venv/bin/python bench/run.py --scenario b --backend both   # embedded, then webhook
    .venv/bin/python bench/run.py --scenario b --tls both       # plain, then TLS (wss://)

Arguments after C{--} go to every C{loadgen.py} run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import postgres_backend  # noqa: E402
import webhook_backend  # noqa: E402
from loadgen_report import format_report  # noqa: E402
from postgres_backend import postgres_sections, start_postgres, stop_postgres  # noqa: E402
from webhook_backend import webhook_sections  # noqa: E402

from ocppcs.listeners import DEFAULT_BACKLOG  # noqa: E402
from ocppcs.testca import TestCA  # noqa: E402

ROOT = HERE.parent
BIN = Path(sys.executable).parent

SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "a": ("100 stations", ["--stations", "100"]),
    "b": ("1,000 stations", ["--stations", "1000"]),
    "c": ("10,000 idle stations", ["--stations", "10000", "--idle", "--connect-rate", "2000"]),
    "d": (
        "10,000 stations",
        ["--stations", "10000", "--start-together", "--connect-rate", "2000"]
        + ["--max-pending", "1000", "--ramp-timeout", "120", "--call-timeout", "30"],
    ),
    "storm": (
        "10,000 stations connecting at once",
        ["--stations", "10000", "--storm", "--ramp-timeout", "150", "--call-timeout", "30"]
        + ["--handshake-timeout", "30"],
    ),
}
#: The scenarios that run when none is named (C{d} and C{storm} take longer).
DEFAULT_SCENARIOS = ("a", "b", "c")


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:C{port}."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_config(
    workdir: Path,
    port: int,
    ping_interval: float | None,
    backlog: int | None = None,
    webhook: str = "",
    tls: bool = False,
) -> Path:
    """A temporary ocppcs configuration (C{webhook}: sections; C{tls}: a test CA's listener)."""
    config = workdir / "bench.conf"
    listen = TestCA(workdir / "ca").listen(port) if tls else f"tcp:{port}:interface=127.0.0.1"
    listen += f":backlog={backlog}" if backlog else ""
    server = f"[server]\nlisten = {listen}\n"
    if ping_interval is not None:
        server += f"ping_interval = {ping_interval}\nping_timeout = {min(10.0, ping_interval)}\n"
    config.write_text(server + f"\n[embedded]\npath = {workdir / 'bench.sqlite3'}\n" + webhook)
    return config


def server_command(args: argparse.Namespace, workdir: Path, canned: bool) -> list[str]:
    """The command line of the server under test."""
    if canned:
        cmd = [sys.executable, str(HERE / "canned_server.py"), "--port", str(args.port)]
        if args.ping_interval:
            cmd += ["--ping-interval", str(args.ping_interval)]
        # the same backlog as ocppcs's listener (its default unless --backlog names one)
        cmd += ["--backlog", str(args.backlog or DEFAULT_BACKLOG)]
        return cmd
    sections = webhook_sections(args) + postgres_sections(args)
    config = write_config(workdir, args.port, args.ping_interval, args.backlog, sections, args.tls)
    return [
        str(BIN / "twistd"),
        "-n",
        "--pidfile=",
        "--logfile",
        str(workdir / "twistd.log"),
        "ocppcs",
        "--config",
        str(config),
    ]


def start_server(
    args: argparse.Namespace, workdir: Path, canned: bool
) -> tuple[subprocess.Popen[bytes], float]:
    """
    Start the server and wait until it accepts connections; return it and the
    wall-clock time at which its port was first seen open (polled every 20 ms).
    """
    cmd = server_command(args, workdir, canned)
    print(f"# server: {' '.join(cmd)}", file=sys.stderr, flush=True)
    out = (workdir / "server.out").open("wb")
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if port_open(args.port):
            return proc, time.time()
        time.sleep(0.02)
    stop_server(proc)
    tail = b""
    for name in ("server.out", "twistd.log"):
        path = workdir / name
        if path.exists():
            tail += path.read_bytes()[-3000:]
    raise RuntimeError(
        f"server did not listen on port {args.port} (exit status {proc.returncode}):\n"
        + tail.decode(errors="replace")
    )


def start_receiver(args: argparse.Namespace, workdir: Path) -> subprocess.Popen[bytes]:
    """Start C{webhook_receiver.py} on C{--receiver-port} and wait until it listens."""
    if port_open(args.receiver_port):
        raise RuntimeError(f"port {args.receiver_port} is already in use")
    cmd = [sys.executable, str(HERE / "webhook_receiver.py"), "--port", str(args.receiver_port)]
    print(f"# receiver: {' '.join(cmd)}", file=sys.stderr, flush=True)
    out = (workdir / "receiver.out").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if port_open(args.receiver_port):
            return proc
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"the webhook receiver did not listen on port {args.receiver_port}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_scenario(
    args: argparse.Namespace, key: str, extra: list[str], canned: bool
) -> tuple[int, dict[str, Any] | None]:
    """One scenario on a fresh server; return loadgen's exit status and its report."""
    title, scenario_args = SCENARIOS[key]
    if port_open(args.port):
        print(f"port {args.port} is already in use; not benchmarking a stranger", file=sys.stderr)
        return 2, None
    with tempfile.TemporaryDirectory(prefix="ocppcs-bench-") as tmp:
        workdir = Path(tmp)
        receiver = postgres = None
        try:
            if args.backend == "webhook" and not canned:
                receiver = start_receiver(args, workdir)
            if args.backend == "postgres" and not canned:
                postgres, args.postgres_dsn = start_postgres(args)
            proc, listen_at = start_server(args, workdir, canned)
        except RuntimeError as e:
            print(e, file=sys.stderr)
            if receiver is not None:
                stop_server(receiver)
            stop_postgres(postgres, workdir)
            return 2, None
        try:
            cmd = [
                sys.executable,
                str(HERE / "loadgen.py"),
                "--url",
                f"ws{'s' if args.tls else ''}://127.0.0.1:{args.port}/ocpp",
                *(["--ca", str(workdir / "ca" / "ca.pem")] if args.tls else []),
                "--server-pid",
                str(proc.pid),
                "--duration",
                str(args.duration),
                "--warmup",
                str(args.warmup),
                *scenario_args,
                *(["--listen-at", repr(listen_at)] if key == "storm" else []),
                "--json",
                *extra,
            ]
            mine = f"ocppcs ({args.backend}{', TLS' * args.tls})"
            server = "canned_server.py" if canned else mine
            print(f"## scenario {key}: {title} against {server}", file=sys.stderr, flush=True)
            result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            report = None
            for line in result.stdout.splitlines():
                if line.startswith("{"):
                    report = json.loads(line)
                    report.update(scenario=key, server=server, load_average=load_average())
            if report is None:
                print(result.stdout, end="", flush=True)
            elif args.json:
                print(json.dumps(report), flush=True)
            else:
                print(f"## {key} / {server} (load average {report['load_average']})")
                print(format_report(report), flush=True)
            return result.returncode, report
        finally:
            stop_server(proc)
            stop_postgres(postgres, workdir)
            if receiver is not None:
                stop_server(receiver)
                print((workdir / "receiver.out").read_text(), end="", file=sys.stderr)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (as C{uptime} shows them)."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def headline(report: dict[str, Any]) -> str:
    """The one figure of a report that the comparison is about."""
    if report["mode"] == "storm":
        since = report.get("storm_listen_to_all_accepted_s")
        if report["storm_all_accepted"]:
            took = f"all Accepted in {report['storm_s']} s ({since} s from the listener opening)"
        else:
            took = f"not all Accepted in {report['storm_s']} s"
        return (
            f"{report['storm_accepted']}/{report['storm_stations']}: {took}, "
            f"p50/p90/p100 {report['storm_accepted_ms']['p50'] / 1000:.1f}/"
            f"{report['storm_accepted_ms']['p90'] / 1000:.1f}/"
            f"{report['storm_accepted_ms']['p100'] / 1000:.1f} s, "
            f"{report['storm_connect_retries']} connect retries"
        )
    if report["mode"] == "load":
        return (
            f"{report['calls_per_s']:.0f} calls/s, p99 {report['latency_ms']['p99']:.0f} ms, "
            f"{report.get('server_main_cpu_us_per_call')} µs CPU per call "
            f"({report.get('server_main_cpu_pct')} % of a core, waited for one "
            f"{report.get('server_main_waited_for_cpu_pct')} %), "
            f"{report['booted']} stations in the loop"
        )
    return f"{report.get('server_rss_mb')} MB"


def compare(args: argparse.Namespace, keys: list[str], extra: list[str]) -> int:
    """Each scenario against the baseline and ocppcs, back to back; print a summary."""
    status = 0
    summary: list[str] = []
    for key in keys:
        for rep in range(args.repeat):
            order = [True, False] if rep % 2 == 0 else [False, True]
            got: dict[bool, dict[str, Any]] = {}
            for canned in order:
                code, report = run_scenario(args, key, extra, canned)
                status = max(status, code)
                if report is not None:
                    got[canned] = report
            if len(got) < 2:
                summary.append(f"{key} run {rep + 1}: incomplete")
                continue
            mine, base = got[False], got[True]
            line = (
                f"{key} run {rep + 1} (load average {mine['load_average']}): "
                f"ocppcs {headline(mine)} | canned {headline(base)}"
            )
            if mine["mode"] == "load" and base["calls_per_s"]:
                share = 100 * mine["calls_per_s"] / base["calls_per_s"]
                line += f" | ocppcs/canned = {share:.0f} %"
                mine_us, base_us = (
                    mine.get("server_main_cpu_us_per_call"),
                    base.get("server_main_cpu_us_per_call"),
                )
                if mine_us and base_us:
                    line += f" (CPU per call: canned/ocppcs = {100 * base_us / mine_us:.0f} %)"
            summary.append(line)
    print("## summary", flush=True)
    print("\n".join(summary), flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    """Parse options and run the chosen scenarios."""
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--canned", action="store_true", help="benchmark canned_server.py")
    p.add_argument(
        "--compare", action="store_true", help="run the canned baseline and ocppcs, back to back"
    )
    p.add_argument("--repeat", type=int, default=1, help="--compare: runs of each pair")
    p.add_argument(
        "--scenario",
        choices=[*SCENARIOS, "all"],
        default="all",
        help=f"all = {', '.join(DEFAULT_SCENARIOS)}",
    )
    p.add_argument(
        "--backlog",
        type=int,
        help=f"listen backlog of both servers (default: ocppcs's default, {DEFAULT_BACKLOG})",
    )
    p.add_argument("--port", type=int, default=9220)
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per scenario")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--ping-interval", type=float, help="server WebSocket ping interval (s)")
    p.add_argument("--start-timeout", type=float, default=20.0, help="seconds to wait for listen")
    p.add_argument("--json", action="store_true", help="one JSON object per scenario")
    p.add_argument(
        "--backend",
        choices=["embedded", "webhook", "postgres", "both"],
        default="embedded",
        help="what answers the stations in ocppcs (both: embedded, then webhook, back to back)",
    )
    webhook_backend.add_arguments(p)
    postgres_backend.add_arguments(p)
    p.add_argument("--tls", choices=["off", "on", "both"], default="off", help="ocppcs on tls:")
    args = p.parse_args(argv)
    if args.tls != "off" and (args.canned or args.compare):
        p.error("--tls is for ocppcs alone (both: plain, then TLS, back to back)")
    tls = [False, True] if args.tls == "both" else [args.tls == "on"]
    args.tls = tls[0]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # inherited by the server and the generator
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.chdir(ROOT)
    keys = list(DEFAULT_SCENARIOS) if args.scenario == "all" else [args.scenario]
    print(f"# load average at start: {load_average()}", file=sys.stderr, flush=True)
    if args.compare:
        return compare(args, keys, extra)
    status = 0
    backends = ["embedded", "webhook"] if args.backend == "both" else [args.backend]
    for key, backend, on in ((k, b, t) for k in keys for b in backends for t in tls):
        one = argparse.Namespace(**{**vars(args), "backend": backend, "tls": on})
        status = max(status, run_scenario(one, key, extra, args.canned)[0])
    return status


if __name__ == "__main__":
    sys.exit(main())
