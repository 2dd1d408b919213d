"""
pgbench of C{ocpp.Parse} alone: the hot path of the PostgreSQL backend
without any node in front. It boots C{--stations} stations (each with an
open transaction) through Parse, then runs C{pgbench -M prepared -f} with a
MeterValues / StatusNotification / Heartbeat mix (weights C{--mix}), one
transaction per call, each call for a random station.

    .venv/bin/python bench/pg_parse.py                       # a throwaway server
    .venv/bin/python bench/pg_parse.py --dsn "host=... dbname=..." --clients 4

It reports calls/s, the mean latency (pgbench's, client side) and the CPU
the server's processes spent per call (from C{/proc}, so a busy machine
inflates it less than the latency), per action and for the mix.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocppcs.backends.postgres.migrate import apply_migrations  # noqa: E402
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres, server_binaries  # noqa: E402

_METER = (
    '{"connectorId": 1, "transactionId": \' || :st || \', "meterValue": [{"timestamp":'
    ' "2026-11-24T13:46:00Z", "sampledValue": [{"value": "1500", "unit": "Wh", "measurand":'
    ' "Energy.Active.Import.Register"}, {"value": "230.1", "measurand": "Voltage", "unit": "V"}]}]}'
)
_STATUS = (
    '{"connectorId": \' || :cn || \', "errorCode": "NoError", "status": "Charging",'
    ' "timestamp": "2026-11-24T13:46:00Z"}'
)

#: pgbench scripts: one ocpp.Parse call each, for a random station CP1..CPn.
SCRIPTS = {
    "MeterValues": (
        "\\set st random(1, {n})\n"
        "SELECT ocpp.Parse('CP' || :st, 'u', 'MeterValues', ('"
        + _METER
        + "')::jsonb, '', '1.6');\n"
    ),
    "StatusNotification": (
        "\\set st random(1, {n})\n\\set cn random(1, 2)\n"
        "SELECT ocpp.Parse('CP' || :st, 'u', 'StatusNotification', ('"
        + _STATUS
        + "')::jsonb, '', '1.6');\n"
    ),
    "Heartbeat": (
        "\\set st random(1, {n})\n"
        "SELECT ocpp.Parse('CP' || :st, 'u', 'Heartbeat', '{}'::jsonb, '', '1.6');\n"
    ),
}


def batch_script(size: int, weights: list[int], stations: int, clients: int) -> str:
    """
    A pgbench script of one ocpp.ParseBatch of C{size} calls, in the mix's
    proportions, each for a random station.
    """
    kinds: list[str] = []
    total = sum(weights)
    for name, weight in zip(SCRIPTS, weights, strict=True):
        kinds += [name] * round(size * weight / total)
    kinds = (kinds + ["Heartbeat"] * size)[:size]
    # Each client its own stations (as a node's batches never share one: a
    # station has one call in flight), so batches don't wait on each other.
    span = max(1, stations // clients)
    lines = [f"\\set s{k} :client_id * {span} + random(1, {span})" for k in range(size)]
    lines.append("\\set cn random(1, 2)")
    calls = []
    for k, kind in enumerate(kinds):
        payload = {"MeterValues": _METER, "StatusNotification": _STATUS, "Heartbeat": "{}"}[kind]
        payload = payload.replace(":st", f":s{k}")
        calls.append(
            f"jsonb_build_array('CP' || :s{k}, 'u', '{kind}', ('{payload}')::jsonb, '', '1.6')"
        )
    lines.append("SELECT ocpp.ParseBatch(jsonb_build_array(" + ", ".join(calls) + "));")
    return "\n".join(lines) + "\n"


def seed(dsn: str, stations: int) -> None:
    """Boot the stations and start one transaction on each (transaction id = station number)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(ocpp.Parse('CP' || i, 'u', 'BootNotification',"
            ' \'{"chargePointVendor": "V", "chargePointModel": "M"}\', \'\', \'1.6\')),'
            " count(ocpp.Parse('CP' || i, 'u', 'StartTransaction', jsonb_build_object("
            "'connectorId', 1, 'idTag', 'T' || i, 'meterStart', 0, 'timestamp',"
            " '2026-11-24T13:45:00Z'), '', '1.6')) FROM generate_series(1, %s) AS i",
            (stations,),
        )
    conn.close()


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu(postmaster: int) -> float:
    """
    CPU seconds (user + system) the server has used: the postmaster's, its
    reaped children's (backends that exited) and its running children's.
    """
    tick = os.sysconf("SC_CLK_TCK")
    own = _stat(postmaster)
    total = sum(int(own[i]) for i in (11, 12, 13, 14)) / tick
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:
            continue
        if int(fields[1]) == postmaster:  # field 4 of stat: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postmaster_pid(dsn: str) -> int:
    """The pid of the (local) server of C{dsn}, from its data directory's postmaster.pid."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SHOW data_directory")
        row = cur.fetchone()
    assert row is not None
    folder = row[0]
    conn.close()
    return int((Path(folder) / "postmaster.pid").read_text().split()[0])


def run(
    dsn: str,
    scripts: list[str],
    clients: int,
    seconds: float,
    folder: Path,
    postmaster: int,
    size: int = 1,
) -> dict[str, float]:
    """
    One pgbench run (C{size} calls per statement): its calls/s, mean
    statement latency (µs) and the server's CPU µs per call.
    """
    argv = [
        str(server_binaries() / "pgbench"),
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(int(seconds)),
        *[a for s in scripts for a in ("-f", str(folder / s))],
        dsn,
    ]
    before = server_cpu(postmaster)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    time.sleep(1)  # until the postmaster has reaped pgbench's backends (their CPU in cutime)
    after = server_cpu(postmaster)
    calls = size * int(_figure(r"number of transactions actually processed: (\d+)", out))
    tps = size * float(_figure(r"tps = ([\d.]+) \(without", out))
    latency = float(_figure(r"latency average = ([\d.]+) ms", out)) * 1000
    cpu = 1e6 * (after - before) / calls
    return {"calls": calls, "tps": tps, "latency_us": latency, "cpu_us": cpu}


def _figure(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"pgbench said nothing matching {pattern!r}:\n{text}")
    return match[1]


def main(argv: list[str] | None = None) -> int:
    """Seed, run each action alone and the mix, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="an existing database (default: a throwaway server)")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="pgbench connections")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--mix", default="5,3,2", help="MeterValues,StatusNotification,Heartbeat")
    parser.add_argument(
        "--batch", type=int, default=20, help="calls per ocpp.ParseBatch run (0: none)"
    )
    args = parser.parse_args(argv)
    server = None
    dsn = args.dsn
    if dsn is None:
        server = ThrowawayPostgres().start()
        dsn = server.create_database("bench")
    try:
        apply_migrations(dsn)
        seed(dsn, args.stations)
        postmaster = postmaster_pid(dsn)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, text in SCRIPTS.items():
                (folder / name).write_text(text.replace("{n}", str(args.stations)))
            weights = args.mix.split(",")
            mix = [f"{name}@{w}" for name, w in zip(SCRIPTS, weights, strict=True)]
            runs = [*((n, [n], 1) for n in SCRIPTS), ("mix " + args.mix, mix, 1)]
            if args.batch > 0:
                ints = [int(w) for w in weights]
                (folder / "batch").write_text(
                    batch_script(args.batch, ints, args.stations, args.clients)
                )
                runs.append((f"mix in batches of {args.batch}", ["batch"], args.batch))
            for label, scripts, size in runs:
                time.sleep(1)
                r = run(dsn, scripts, args.clients, args.seconds, folder, postmaster, size)
                print(
                    f"{label:22s} {r['tps']:8.0f} calls/s  latency {r['latency_us']:6.0f} us"
                    f"  server CPU {r['cpu_us']:5.0f} us/call  ({int(r['calls'])} calls,"
                    f" {args.clients} clients, {args.stations} stations)",
                    flush=True,
                )
    finally:
        if server is not None:
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
