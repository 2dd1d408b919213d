"""
Run the benchmark scenarios: start a server, load it with C{loadgen.py}, stop it.

By default the server is ocppcs itself (C{twistd -n ocppcs --config CFG} from
the virtualenv, with a temporary configuration listening on
C{tcp:PORT:interface=127.0.0.1} and a temporary C{[embedded] path}); with
C{--canned} it is C{canned_server.py}, the Twisted + Autobahn baseline.
With C{--backend webhook} ocppcs answers through its webhook backend, posting
to C{webhook_receiver.py} (a fast local receiver, its own process, on
C{--receiver-port}); C{--backend both} runs each scenario against the
embedded and then the webhook backend, back to back, so that both figures
come from the same machine state. Every scenario gets a fresh server:

  - C{a}: 100 stations, one CALL in flight each
  - C{b}: 1,000 stations, one CALL in flight each
  - C{c}: 10,000 stations connected, booted and held idle (server RSS)

Usage (from the repository root)::

    .venv/bin/python bench/run.py --canned            # all scenarios, baseline
    .venv/bin/python bench/run.py --scenario b        # ocppcs, 1,000 stations
    .venv/bin/python bench/run.py --json -- --mix heartbeat=1
    .venv/bin/python bench/run.py --scenario b --backend both   # embedded, then webhook

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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent

SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "a": ("100 stations", ["--stations", "100"]),
    "b": ("1,000 stations", ["--stations", "1000"]),
    "c": ("10,000 idle stations", ["--stations", "10000", "--idle", "--connect-rate", "2000"]),
}


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:C{port}."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_config(
    workdir: Path,
    port: int,
    ping_interval: float | None,
    webhook_port: int | None = None,
    webhook_concurrency: int = 100,
    webhook_pipeline: int = 1,
) -> Path:
    """A temporary ocppcs configuration for the benchmark (webhook: to that port)."""
    config = workdir / "bench.conf"
    server = f"[server]\nlisten = tcp:{port}:interface=127.0.0.1\n"
    if ping_interval is not None:
        server += f"ping_interval = {ping_interval}\nping_timeout = {min(10.0, ping_interval)}\n"
    text = server + f"\n[embedded]\npath = {workdir / 'bench.sqlite3'}\n"
    if webhook_port is not None:
        text += (
            "\n[backend]\ntype = webhook\n"
            f"\n[webhook]\nurl = http://127.0.0.1:{webhook_port}/hook\n"
            f"max_concurrent = {webhook_concurrency}\npipeline = {webhook_pipeline}\n"
        )
    config.write_text(text)
    return config


def server_command(args: argparse.Namespace, workdir: Path) -> list[str]:
    """The command line of the server under test."""
    if args.canned:
        cmd = [sys.executable, str(HERE / "canned_server.py"), "--port", str(args.port)]
        if args.ping_interval:
            cmd += ["--ping-interval", str(args.ping_interval)]
        return cmd
    webhook_port = args.receiver_port if args.backend == "webhook" else None
    config = write_config(
        workdir,
        args.port,
        args.ping_interval,
        webhook_port,
        args.webhook_concurrency,
        args.webhook_pipeline,
    )
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


def start_server(args: argparse.Namespace, workdir: Path) -> subprocess.Popen[bytes]:
    """Start the server and wait until it accepts connections."""
    cmd = server_command(args, workdir)
    print(f"# server: {' '.join(cmd)}", file=sys.stderr, flush=True)
    out = (workdir / "server.out").open("wb")
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if port_open(args.port):
            return proc
        time.sleep(0.1)
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


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_scenario(args: argparse.Namespace, key: str, extra: list[str]) -> int:
    """One scenario on a fresh server; return loadgen's exit status."""
    title, scenario_args = SCENARIOS[key]
    if port_open(args.port):
        print(f"port {args.port} is already in use; not benchmarking a stranger", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ocppcs-bench-") as tmp:
        workdir = Path(tmp)
        receiver = None
        try:
            if args.backend == "webhook" and not args.canned:
                receiver = start_receiver(args, workdir)
            proc = start_server(args, workdir)
        except RuntimeError as e:
            print(e, file=sys.stderr)
            if receiver is not None:
                stop_server(receiver)
            return 2
        try:
            cmd = [
                sys.executable,
                str(HERE / "loadgen.py"),
                "--url",
                f"ws://127.0.0.1:{args.port}/ocpp",
                "--server-pid",
                str(proc.pid),
                "--duration",
                str(args.duration),
                "--warmup",
                str(args.warmup),
                *scenario_args,
                *(["--json"] if args.json else []),
                *extra,
            ]
            server = "canned_server.py" if args.canned else f"ocppcs ({args.backend})"
            print(f"## scenario {key}: {title} against {server}", file=sys.stderr, flush=True)
            result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            if args.json:
                for line in result.stdout.splitlines():
                    if line.startswith("{"):
                        data = json.loads(line)
                        data.update(scenario=key, server=server)
                        print(json.dumps(data), flush=True)
            else:
                print(result.stdout, end="", flush=True)
            return result.returncode
        finally:
            stop_server(proc)
            if receiver is not None:
                stop_server(receiver)
                print((workdir / "receiver.out").read_text(), end="", file=sys.stderr)


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


def main(argv: list[str] | None = None) -> int:
    """Parse options and run the chosen scenarios."""
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--canned", action="store_true", help="benchmark canned_server.py")
    p.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    p.add_argument("--port", type=int, default=9220)
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per scenario")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--ping-interval", type=float, help="server WebSocket ping interval (s)")
    p.add_argument("--start-timeout", type=float, default=20.0, help="seconds to wait for listen")
    p.add_argument("--json", action="store_true", help="one JSON object per scenario")
    p.add_argument(
        "--backend",
        choices=["embedded", "webhook", "both"],
        default="embedded",
        help="what answers the stations in ocppcs (both: embedded, then webhook, back to back)",
    )
    p.add_argument("--receiver-port", type=int, default=9230, help="the webhook receiver's port")
    p.add_argument(
        "--webhook-concurrency", type=int, default=100, help="[webhook] max_concurrent (100)"
    )
    p.add_argument("--webhook-pipeline", type=int, default=1, help="[webhook] pipeline (1)")
    args = p.parse_args(argv)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # inherited by the server and the generator
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.chdir(ROOT)
    status = 0
    backends = ["embedded", "webhook"] if args.backend == "both" else [args.backend]
    for key in SCENARIOS if args.scenario == "all" else [args.scenario]:
        for backend in backends:
            status = max(
                status,
                run_scenario(argparse.Namespace(**{**vars(args), "backend": backend}), key, extra),
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
