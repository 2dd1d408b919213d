# -*- test-case-name: tests.backends.test_embedded_store_jobs -*-
"""
The errors of the embedded store, importable by the reactor side and by the
store worker process alike (so that they pickle by reference).
"""

from __future__ import annotations


class StoreStopped(Exception):
    """The store is not running (not started yet, stopped, failed, or its worker died)."""


class StoreStartError(StoreStopped):
    """The store worker could not open the database; C{__cause__} is why."""


class StoreJobError(Exception):
    """
    A store job failed in a way that could not be sent back as itself: its
    exception (or its result) could not be pickled, or the job could not be
    pickled or unpickled. The message has the original's repr (and traceback).
    """


class RecordConflict(Exception):
    """A copy of a call would change what the record keeps about something else."""
