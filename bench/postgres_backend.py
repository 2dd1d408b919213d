"""
C{bench/run.py --backend postgres}: a throwaway PostgreSQL server for one
scenario (Debian's binaries, a temporary cluster on a free loopback port,
L{ocppcs.backends.postgres.throwaway}), a new database with every shipped
migration applied, and the C{[backend]}/C{[postgres]} sections that point
ocppcs at it.

The server runs with C{synchronous_commit = on} by default, so that each
answer waits for its commit's WAL write as on an operator's server
(C{--pg-option "-c synchronous_commit=off"} to compare); C{fsync} stays off
(the cluster is temporary; a process crash loses nothing with it off, only
a machine crash does).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ocppcs.backends.postgres.migrate import apply_migrations
from ocppcs.backends.postgres.throwaway import ThrowawayPostgres


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The C{--pg-*} options of C{bench/run.py}."""
    p.add_argument("--pg-pool", type=int, default=8, help="[postgres] pool_size (8)")
    p.add_argument("--pg-batch", type=int, default=64, help="[postgres] batch (64)")
    p.add_argument(
        "--pg-option",
        action="append",
        default=[],
        help='a server option, e.g. "-c shared_buffers=256MB" (repeatable)',
    )


def start_postgres(args: argparse.Namespace) -> tuple[ThrowawayPostgres, str]:
    """Start the server, create and migrate the database; return the server and its DSN."""
    extra = ("-c synchronous_commit=on", *args.pg_option)
    server = ThrowawayPostgres(extra=extra).start()
    try:
        dsn = server.create_database("bench")
        apply_migrations(dsn)
    except Exception:
        server.close()
        raise
    print(f"# postgres: {server.bin} on port {server.port} ({' '.join(extra)})", file=sys.stderr)
    return server, dsn


def postgres_sections(args: Any) -> str:
    """The C{[backend]} and C{[postgres]} sections when a server was started, else C{""}."""
    dsn = getattr(args, "postgres_dsn", None)
    if dsn is None:
        return ""
    return (
        "\n[backend]\ntype = postgres\n"
        f"\n[postgres]\nconninfo = {dsn}\npool_size = {args.pg_pool}\nbatch = {args.pg_batch}\n"
    )


def postgres_cpu(server: ThrowawayPostgres) -> float | None:
    """
    CPU seconds the server's processes used so far: the postmaster's own and
    its reaped children's (the backends of closed connections count once
    ocppcs has stopped), from C{/proc}.
    """
    try:
        pid = int((server.data / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def stop_postgres(server: ThrowawayPostgres | None, workdir: Path) -> None:
    """
    Print the server's CPU time (whole run: ramp, boots and warm-up included),
    stop it and keep the end of its log in the scenario's folder.
    """
    if server is None:
        return
    cpu = postgres_cpu(server)
    if cpu is not None:
        print(f"# postgres CPU over the whole run: {cpu:.2f} s", file=sys.stderr, flush=True)
    log = server.folder / "server.log"
    if log.exists():
        (workdir / "postgres.log").write_bytes(log.read_bytes()[-20000:])
    server.close()
