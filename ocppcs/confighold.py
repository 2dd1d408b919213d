# -*- test-case-name: tests.test_confighold -*-
"""
The configuration the central system runs with now, read by its parts at use time.

One L{ConfigHolder} is made at start-up from the parsed file. The parts
(the embedded rules, the operator authentication, the webhook, the station
endpoint, the REST API, the emulator) keep the holder, not a copy of their
section, and read C{holder.current.SECTION.KEY} when they need a value. A
reload (SIGHUP) parses and validates the whole file first, then calls
L{ConfigHolder.replace}: the keys that can change while running
(L{LIVE_KEYS}) take their new values at once; the others keep their running
values and are reported as needing a restart (L{Changes.restart}).
Observers (L{ConfigHolder.observe}) are told of every replacement, for the
parts that must act on a change (a new connection pool for a new webhook
URL, new credential checks) rather than only read the new value.

The holder knows nothing of particular sections: any section of L{Config}
(a frozen dataclass field that is itself a dataclass) takes part, and a
section's keys are restart-only unless declared live with L{declare_live}.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from twisted.logger import Logger

from ocppcs.config import Config

T = TypeVar("T")
U = TypeVar("U")


def reading(value: T | Callable[[], T]) -> Callable[[], T]:
    """
    A reader of the current value of a section: C{value} itself when it is
    one (C{holder.reader("central")}), else a reader that always gives the
    fixed C{value} (tests, benchmarks, parts built without a holder).
    """
    if callable(value):
        return value
    return lambda: value


def derived(read: Callable[[], T], make: Callable[[T], U]) -> Callable[[], U]:
    """
    A reader of C{make(section)}, made again only when the section read
    changes (by identity, as L{ConfigHolder.replace} keeps unchanged ones):
    for parts that need a value computed from their section.
    """
    cache: list[Any] = []

    def current() -> U:
        section = read()
        if not cache or cache[0] is not section:
            cache[:] = [section, make(section)]
        return cache[1]

    return current


#: C{(section, key)} pairs applied while running; C{(section, "*")} is every key of it.
LIVE_KEYS: set[tuple[str, str]] = set()


def declare_live(section: str, *keys: str) -> None:
    """
    Declare C{keys} of C{section} (all of them when none is named) as read at
    use time, so that a reload applies them without a restart.
    """
    LIVE_KEYS.update((section, key) for key in (keys or ("*",)))


def is_live(section: str, key: str) -> bool:
    """Whether C{section.key} is applied by a reload (see L{declare_live})."""
    return (section, key) in LIVE_KEYS or (section, "*") in LIVE_KEYS


declare_live("central")
declare_live("webhook")
declare_live("api")
declare_live(
    "server",
    "ping_interval",
    "ping_timeout",
    "max_frame_size",
    "call_timeout",
    "handshake_timeout",
    "max_connections",
    "max_connections_per_address",
    "message_rate",
    "message_burst",
    "rate_close_after",
    "allowed_origins",
)
declare_live("log", "level")


def sections(config: Config) -> dict[str, Any]:
    """The sections of C{config} by name (the dataclass fields that are dataclasses)."""
    found = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            found[f.name] = value
    return found


def differences(old: Config, new: Config) -> set[tuple[str, str]]:
    """The C{(section, key)} pairs whose values differ between C{old} and C{new}."""
    changed: set[tuple[str, str]] = set()
    before = sections(old)
    for name, section in sections(new).items():
        previous = before.get(name)
        for f in dataclasses.fields(section):
            if previous is None or getattr(previous, f.name) != getattr(section, f.name):
                changed.add((name, f.name))
    return changed


@dataclasses.dataclass(frozen=True)
class Changes:
    """
    What a L{ConfigHolder.replace} did.

    @ivar old: the configuration before.
    @ivar new: the configuration now current: the new file's values for the
        live keys, the running values for the others.
    @ivar applied: the C{(section, key)} pairs that changed and now apply.
    @ivar restart: those that changed in the file but need a restart (not applied).
    """

    old: Config
    new: Config
    applied: frozenset[tuple[str, str]]
    restart: frozenset[tuple[str, str]]

    def touches(self, section: str, *keys: str) -> bool:
        """Whether any of C{keys} of C{section} (any key when none is named) was applied."""
        return any(s == section and (not keys or k in keys) for s, k in self.applied)

    @staticmethod
    def names(pairs: Iterable[tuple[str, str]]) -> str:
        """C{section.key} names, sorted and comma separated (for logs)."""
        return ", ".join(sorted(f"{s}.{k}" for s, k in pairs)) or "none"


Observer = Callable[[Changes], None]


class ConfigHolder:
    """
    Holds the current L{Config}.

    @param config: the configuration at start-up.
    @param load: reads the configuration file again (with the same
        command-line overrides) for L{reload}; raises
        L{ocppcs.config.ConfigError} for a bad file.
    """

    _log = Logger()

    def __init__(self, config: Config, load: Callable[[], Config] | None = None) -> None:
        self._current = config
        self._load = load
        self._observers: list[Observer] = []

    @property
    def current(self) -> Config:
        """The configuration in force now."""
        return self._current

    def reader(self, section: str) -> Callable[[], Any]:
        """A function giving the current C{section} (the same object until it changes)."""
        return lambda: getattr(self._current, section)

    def observe(self, observer: Observer) -> None:
        """Call C{observer} with the L{Changes} of every L{replace} that applied something."""
        self._observers.append(observer)

    def replace(self, new: Config) -> Changes:
        """
        Make C{new} current, except for its changes to keys that are not live,
        which keep their running values; tell the observers.

        C{new} must be a valid configuration (as L{ocppcs.config.parse_config}
        makes): nothing is checked here.
        """
        old = self._current
        changed = differences(old, new)
        restart = {pair for pair in changed if not is_live(*pair)}
        kept: dict[str, Any] = {}
        for name, section in sections(new).items():
            if not any(s == name for s, _ in changed - restart):
                # The running object itself: parts compare sections by identity.
                kept[name] = getattr(old, name)
                continue
            back = {k: getattr(getattr(old, name), k) for s, k in restart if s == name}
            kept[name] = dataclasses.replace(section, **back) if back else section
        current = dataclasses.replace(new, **kept)
        changes = Changes(old, current, frozenset(changed - restart), frozenset(restart))
        self._current = current
        if changes.applied:
            for observer in list(self._observers):
                try:
                    observer(changes)
                except Exception:
                    self._log.failure(
                        "Applying the new configuration: {observer!r} failed", observer=observer
                    )
        return changes

    def load(self) -> Config:
        """
        Read and validate the configuration file again (not applied).

        @raise ocppcs.config.ConfigError: for a bad file (naming section and key).
        """
        if self._load is None:
            return self._current
        return self._load()
