# -*- test-case-name: tests.backends.postgres.test_foundation -*-
"""
A throwaway PostgreSQL server for the tests and the benchmarks: Debian's
server binaries, a new cluster in a temporary folder, loopback only, on a
free port, trust authentication, no fsync; torn down with the folder.

    with ThrowawayPostgres() as server:
        dsn = server.create_database("t1")

Blocking (subprocesses): for test set-up and benchmark scripts, never for
the reactor thread. Run as root, the server runs as the C{postgres} user
(initdb refuses root). C{scripts/postgres.sh} installs the binaries.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn


class PostgresMissing(RuntimeError):
    """The server binaries are not installed."""


def server_binaries() -> Path:
    """The folder of C{initdb} and C{pg_ctl} (the newest Debian version installed)."""
    env = os.environ.get("OCPPCS_PG_BIN")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresMissing(
        "PostgreSQL's server is not installed: run scripts/postgres.sh "
        "(or apt-get install postgresql)"
    )


def _version(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ThrowawayPostgres:
    """
    A private PostgreSQL server.

    @ivar port: its TCP port on 127.0.0.1.
    @ivar dsn: the conninfo of its C{postgres} database.
    """

    def __init__(self, port: int | None = None, extra: tuple[str, ...] = ()) -> None:
        self.bin = server_binaries()
        self.port = port or free_port()
        self.extra = extra
        self.folder = Path(tempfile.mkdtemp(prefix="ocppcs-pg-"))
        self.data = self.folder / "data"
        self.user = "postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")
        self.dsn = self.database_dsn("postgres")
        self._initdb()

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            [*self._as, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")

    def _initdb(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            self.user,
            "--no-sync",
            "-E",
            "UTF8",
        )

    def database_dsn(self, dbname: str) -> str:
        """The conninfo of database C{dbname} on this server."""
        return make_dsn(host="127.0.0.1", port=self.port, user=self.user, dbname=dbname)

    def start(self) -> ThrowawayPostgres:
        """Start the server and wait until it accepts connections."""
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-k {self.folder}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=300",
            *self.extra,
        ]
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(options),
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (C{fast}, or C{immediate}: like a crash); the data stays."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop (immediately) and start again, as a crash and a restart would."""
        self.stop("immediate")
        self.start()

    def create_database(self, name: str) -> str:
        """Create database C{name} (dropping one of that name) and return its conninfo."""
        conn = psycopg2.connect(self.dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                ident = sql.Identifier(name)
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
                cur.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        finally:
            conn.close()
        return self.database_dsn(name)

    def close(self) -> None:
        """Stop the server if it runs, and remove its folder."""
        try:
            self.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
