"""
Store jobs for the tests: module-level functions, so that they pickle by
reference and the store worker process can import them. Keep this module's
imports light: the worker imports it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any


def noop(conn: sqlite3.Connection) -> None:
    """Do nothing."""


def query(conn: sqlite3.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """@return: all rows of C{sql}."""
    return conn.execute(sql, args).fetchall()


def scalar(conn: sqlite3.Connection, sql: str, *args: Any) -> Any:
    """@return: the first column of the first row of C{sql}."""
    return conn.execute(sql, args).fetchone()[0]


def execute(conn: sqlite3.Connection, sql: str, *args: Any) -> int:
    """@return: the row count of C{sql}."""
    return conn.execute(sql, args).rowcount


def execute_then_fail(conn: sqlite3.Connection, sql: str, *args: Any) -> None:
    """Execute C{sql}, then raise L{ValueError}."""
    conn.execute(sql, args)
    raise ValueError("no")


def block(conn: sqlite3.Connection, started: str, release: str) -> int:
    """
    Create the file C{started}, then wait (at most 10 s) for the file
    C{release}: keeps the worker busy while a test queues more work.

    @return: the worker's process id.
    """
    Path(started).touch()
    deadline = time.monotonic() + 10
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.002)
    return os.getpid()


class Unpicklable(Exception):
    """An exception that can't be unpickled (its constructor needs two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


def raise_unpicklable(conn: sqlite3.Connection) -> None:
    """Raise an exception that can't cross the process boundary."""
    raise Unpicklable("cannot", "travel")


def return_cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """Return something that can't be pickled."""
    return conn.execute("SELECT 1")


def chatter(conn: sqlite3.Connection, text: str) -> None:
    """Print C{text} (to the worker's stdout, which goes to its stderr)."""
    print(text, flush=True)
