"""Tests for L{ocppcs.confighold}: what a replacement applies, keeps and tells."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ocppcs.config import Config, ConfigError, parse_config
from ocppcs.confighold import Changes, ConfigHolder, derived, is_live


def test_live_keys_apply_and_restart_keys_keep_their_running_values() -> None:
    old = parse_config("[server]\nlisten = tcp:1\n[central]\nregistration = open\n")
    new = parse_config(
        "[server]\nlisten = tcp:2\nmessage_rate = 5\n[central]\nregistration = known\n"
        "[embedded]\npath = /tmp/other.sqlite3\n"
    )
    holder = ConfigHolder(old)
    changes = holder.replace(new)
    assert changes.applied == {("central", "registration"), ("server", "message_rate")}
    assert changes.restart == {("server", "listen"), ("embedded", "path")}
    current = holder.current
    assert current.central.registration == "known"
    assert current.server.message_rate == 5
    assert current.server.listen == ("tcp:1",)  # needs a restart: still the running one
    assert current.embedded.path == old.embedded.path
    assert Changes.names(changes.restart) == "embedded.path, server.listen"


def test_unchanged_sections_stay_the_same_objects() -> None:
    """Parts compare a section by identity to know whether it changed."""
    holder = ConfigHolder(Config())
    before = holder.current
    webhook = holder.reader("webhook")
    seen = webhook()
    holder.replace(parse_config("[central]\nheartbeat_interval = 5\n"))
    assert webhook() is seen
    assert holder.current.server is before.server
    assert holder.current.central is not before.central
    # A section whose only change needs a restart stays the same object too.
    holder.replace(
        parse_config(
            "[central]\nheartbeat_interval = 5\n[backend]\ntype = webhook\n"
            "[webhook]\nurl = http://127.0.0.1:1/\n"
        )
    )
    assert holder.current.backend is before.backend
    assert holder.current.webhook.url == "http://127.0.0.1:1/"


def test_observers_are_told_of_applied_changes_only() -> None:
    holder = ConfigHolder(Config())
    told: list[Changes] = []
    holder.observe(told.append)

    def broken(changes: Changes) -> None:
        raise RuntimeError("an observer's bug does not stop the others")

    holder.observe(broken)
    holder.observe(told.append)
    holder.replace(parse_config("[embedded]\nlog_max_rows = 5\n"))  # restart only
    assert told == []
    changes = holder.replace(parse_config("[log]\nlevel = debug\n"))
    assert told == [changes, changes]
    assert changes.touches("log", "level") and not changes.touches("log", "format")
    assert changes.touches("log") and not changes.touches("api")


def test_a_section_added_later_is_restart_only_until_declared_live() -> None:
    """The holder is generic: it reads the sections off the Config dataclass."""

    @dataclasses.dataclass(frozen=True)
    class Extra:
        key: str = "a"

    @dataclasses.dataclass(frozen=True)
    class Bigger(Config):
        extra: Extra = dataclasses.field(default_factory=Extra)

    holder = ConfigHolder(Bigger())
    changes = holder.replace(Bigger(extra=Extra("b")))
    assert changes.restart == {("extra", "key")} and not is_live("extra", "key")
    assert holder.current.extra.key == "a"  # type: ignore[attr-defined]


def test_load_reads_again_and_a_bad_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "ocppcs.conf"
    path.write_text("[central]\nregistration = known\n", encoding="utf-8")

    def load() -> Config:
        from ocppcs.config import load_config

        return load_config(str(path), environ={})

    holder = ConfigHolder(load(), load)
    path.write_text("[central]\nregistration = sometimes\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        holder.load()
    assert error.value.path == ("central", "registration")
    assert holder.current.central.registration == "known"
    assert ConfigHolder(Config()).load() == Config()  # no file: the current one


def test_derived_is_made_again_only_when_its_section_changes() -> None:
    holder = ConfigHolder(Config())
    made: list[int] = []

    def make(api: object) -> int:
        made.append(1)
        return len(made)

    value = derived(holder.reader("api"), make)
    assert (value(), value()) == (1, 1)
    holder.replace(parse_config("[central]\nheartbeat_interval = 5\n"))
    assert value() == 1
    holder.replace(parse_config("[api]\npage_size = 5\n"))
    assert (value(), value()) == (2, 2)
