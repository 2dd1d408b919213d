"""Fixtures of the PostgreSQL tests: C{db}, a client of a new database with the whole schema."""

from __future__ import annotations

from tests.backends.postgres.sqltools import db

__all__ = ["db"]  # a fixture
