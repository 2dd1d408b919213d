"""
The cluster on this machine: throughput of one node and of two nodes on
one PostgreSQL, and the round trip of a REST command through a second node.

    .venv/bin/python bench/cluster_bench.py [--stations 1000] [--duration 20]
        [--commands 300] [--dsn CONNINFO] [--json]

1. B{throughput}: one C{twistd ocppcs} node ([cluster] enable) with
   C{loadgen.py --stations N} against it; then two nodes on the same
   database with N/2 stations each (two loadgen processes, at once). The
   figure is the sum of the calls/s the generators measured.
2. B{round trip}: two nodes; one station (a websockets client in this
   process, answering every CALL at once) on node A; C{--commands}
   sequential C{POST /api/v1/ChargePoint/RT/GetLocalListVersion} to A
   (local) and to B (routed through PostgreSQL to A), then the same with 16
   stations and 16 commands in flight at once (routed commands/s).

PostgreSQL is a throwaway server (L{ThrowawayPostgres}, fsync off) unless
C{--dsn} names one. Each node keeps its record in its own SQLite file (the
embedded backend, fsync per commit), or with C{--backend postgres} the
record and the decisions are in the shared PostgreSQL; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import websockets

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from run import BIN, load_average, port_open, stop_server  # noqa: E402

from ocppcs.backends.postgres.migrate import apply_migrations  # noqa: E402
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres, free_port  # noqa: E402

#: C{--backend}: the record and decider of every node.
BACKEND = "embedded"


def node_config(workdir: Path, name: str, port: int, dsn: str) -> Path:
    """The configuration of node C{name}."""
    path = workdir / f"{name}.conf"
    path.write_text(
        f"[server]\nlisten = tcp:{port}:interface=127.0.0.1\n"
        f"[backend]\ntype = {BACKEND}\n"
        f"[embedded]\npath = {workdir / (name + '.sqlite3')}\n"
        f"[postgres]\nconninfo = {dsn}\n"
        f"[cluster]\nenable = true\nnode = {name}\n"
    )
    return path


def start_node(workdir: Path, name: str, dsn: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start node C{name} (twistd) and wait until it has joined the cluster."""
    port = free_port()
    config = node_config(workdir, name, port, dsn)
    log = workdir / f"{name}.log"
    cmd = [str(BIN / "twistd"), "-n", "--pidfile=", "--logfile", str(log), "ocppcs"]
    cmd += ["--config", str(config)]
    print(f"# node {name}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if port_open(port) and log.exists() and b"joined the cluster" in log.read_bytes():
            return proc, port
        time.sleep(0.05)
    stop_server(proc)
    tail = log.read_bytes()[-3000:].decode(errors="replace") if log.exists() else ""
    raise RuntimeError(f"node {name} did not start:\n{tail}")


def loadgen(port: int, pid: int, prefix: str, stations: int, args: argparse.Namespace) -> Any:
    """Start one loadgen process against C{port}."""
    cmd = [sys.executable, str(HERE / "loadgen.py"), "--url", f"ws://127.0.0.1:{port}/ocpp"]
    cmd += ["--server-pid", str(pid), "--prefix", prefix, "--stations", str(stations)]
    cmd += ["--duration", str(args.duration), "--warmup", str(args.warmup), "--json"]
    cmd += ["--start-together"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def report_of(proc: Any) -> dict[str, Any]:
    out, _ = proc.communicate()
    for line in out.splitlines():
        if line.startswith("{"):
            return dict(json.loads(line))
    raise RuntimeError(f"loadgen printed no report:\n{out}")


def throughput(workdir: Path, dsn: str, nodes: int, args: argparse.Namespace) -> dict[str, Any]:
    """C{args.stations} split over C{nodes} nodes: the summed calls/s and each part."""
    started = [start_node(workdir, f"tp{nodes}-{i}", dsn) for i in range(nodes)]
    try:
        share = args.stations // nodes
        gens = [
            loadgen(port, proc.pid, f"TP{nodes}N{i}-", share, args)
            for i, (proc, port) in enumerate(started)
        ]
        parts = [report_of(g) for g in gens]
    finally:
        for proc, _ in started:
            stop_server(proc)
    return {
        "nodes": nodes,
        "stations": share * nodes,
        "calls_per_s": round(sum(p["calls_per_s"] for p in parts), 1),
        "per_node_calls_per_s": [p["calls_per_s"] for p in parts],
        "p99_ms": [p["latency_ms"]["p99"] for p in parts],
        "server_cpu_pct": [p.get("server_main_cpu_pct") for p in parts],
        "load_average": load_average(),
    }


async def station(port: int, identity: str, ready: asyncio.Event) -> None:
    """A station that answers every GetLocalListVersion at once (until cancelled)."""
    url = f"ws://127.0.0.1:{port}/ocpp/{identity}"
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        boot = {"chargePointVendor": "Bench", "chargePointModel": "RT"}
        await ws.send(json.dumps([2, "b", "BootNotification", boot]))
        await ws.recv()
        ready.set()
        async for data in ws:
            frame = json.loads(data)
            if frame[0] == 2:
                await ws.send(json.dumps([3, frame[1], {"listVersion": 1}]))


async def post(port: int, path: str, conn: list[Any]) -> int:
    """POST an empty body over a kept-alive connection (C{conn}: reader, writer); the status."""
    if not conn:
        conn.extend(await asyncio.open_connection("127.0.0.1", port))
    reader, writer = conn
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
    status_line = await reader.readline()
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding":
            chunked = "chunked" in value.lower()
    if not chunked:
        await reader.readexactly(length)
    while chunked and (size := int((await reader.readline()).strip(), 16)):
        await reader.readexactly(size + 2)
    if chunked:
        await reader.readline()
    return int(status_line.split()[1])


def figures(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99/max of C{samples} (seconds) in milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)}


async def timed(port: int, path: str, count: int) -> list[float]:
    conn: list[Any] = []
    took = []
    for _ in range(count):
        start = time.perf_counter()
        status = await post(port, path, conn)
        took.append(time.perf_counter() - start)
        assert status == 200, status
    conn[1].close()
    return took


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes C{pids} and their children."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for one in [proc, *proc.children(recursive=True)]:
                times = one.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


async def round_trip(
    a: int, b: int, commands: int, pids: list[int], pg: list[int]
) -> dict[str, Any]:
    """Latency of commands to A's station sent to A and to B; routed commands/s at 16 in flight."""
    ready = [asyncio.Event() for _ in range(16)]
    tasks = [asyncio.ensure_future(station(a, f"RT{i}", ready[i])) for i in range(16)]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 15)
        await asyncio.sleep(0.5)
        path = "/api/v1/ChargePoint/RT0/GetLocalListVersion"
        await timed(b, path, 20)  # warm-up
        local = await timed(a, path, commands)
        routed = await timed(b, path, commands)
        cpu = cpu_seconds(pids), cpu_seconds(pg)
        start = time.perf_counter()
        each = max(1, commands // 16)
        await asyncio.gather(
            *(timed(b, f"/api/v1/ChargePoint/RT{i}/GetLocalListVersion", each) for i in range(16))
        )
        rate = 16 * each / (time.perf_counter() - start)
        nodes_cpu = (cpu_seconds(pids) - cpu[0]) / (16 * each)
        pg_cpu = (cpu_seconds(pg) - cpu[1]) / (16 * each)
    finally:
        for task in tasks:
            task.cancel()
    return {
        "commands": commands,
        "local_ms": figures(local),
        "routed_ms": figures(routed),
        "routed_16_in_flight_per_s": round(rate, 1),
        "routed_cpu_ms_per_command": {
            "nodes": round(nodes_cpu * 1000, 2),
            "postgres": round(pg_cpu * 1000, 2),
        },
        "load_average": load_average(),
    }


def postmaster(server: ThrowawayPostgres | None) -> list[int]:
    """The throwaway server's postmaster (its children serve the nodes), or none."""
    if server is None:
        return []
    return [int((server.data / "postmaster.pid").read_text().split()[0])]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--stations", type=int, default=1000)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--commands", type=int, default=300)
    p.add_argument("--dsn", help="a PostgreSQL conninfo (default: a throwaway server)")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument(
        "--backend",
        choices=("embedded", "postgres"),
        default="embedded",
        help="each node's own SQLite record, or the record and decider in the shared PostgreSQL",
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    global BACKEND
    BACKEND = args.backend
    server = None
    if args.dsn is None:
        server = ThrowawayPostgres().start()
        dsn = server.create_database("cluster_bench")
    else:
        dsn = args.dsn
    apply_migrations(dsn)
    results: dict[str, Any] = {"cpus": os.cpu_count(), "backend": args.backend}
    try:
        with tempfile.TemporaryDirectory(prefix="ocppcs-cluster-bench-") as tmp:
            workdir = Path(tmp)
            if not args.skip_throughput:
                results["one_node"] = throughput(workdir, dsn, 1, args)
                results["two_nodes"] = throughput(workdir, dsn, 2, args)
            (a, port_a), (b, port_b) = start_node(workdir, "A", dsn), start_node(workdir, "B", dsn)
            try:
                pids = [a.pid, b.pid]
                results["round_trip"] = asyncio.run(
                    round_trip(port_a, port_b, args.commands, pids, postmaster(server))
                )
            finally:
                stop_server(b)
                stop_server(a)
    finally:
        if server is not None:
            server.close()
    print(json.dumps(results) if args.json else json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
