"""Tests for L{ocppcs.logs}: JSON lines with the named fields, and the level a reload sets."""

from __future__ import annotations

import io
import json

from twisted.logger import Logger

from ocppcs.config import parse_config
from ocppcs.confighold import ConfigHolder
from ocppcs.logs import LogSetup


def test_json_lines_carry_the_named_fields_and_follow_the_level() -> None:
    holder = ConfigHolder(parse_config("[log]\nformat = json\nlevel = warn\n"))
    out = io.StringIO()
    setup = LogSetup(holder, out)
    log = Logger(namespace="test", observer=setup.observer)
    log.info("{identity} sent {action} ({unique_id})", identity="CP1", action="X", unique_id="u1")
    log.warn("{identity} too fast", identity="CP1", unique_id="u2")
    holder.replace(parse_config("[log]\nformat = json\nlevel = info\n"))
    log.info("{identity} again", identity="CP2", unique_id="u3")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["identity"], e["unique_id"]) for e in lines] == [("CP1", "u2"), ("CP2", "u3")]
    assert lines[0]["log_level"]["name"] == "warn"
    assert lines[0]["log_format"] == "{identity} too fast"


def test_text_is_twistd_s_format() -> None:
    out = io.StringIO()
    setup = LogSetup(ConfigHolder(parse_config("")), out)
    Logger(namespace="test", observer=setup.observer).info("hello {who}", who="you")
    Logger(namespace="test", observer=setup.observer).debug("not shown")
    assert out.getvalue().endswith("[test#info] hello you\n")
    assert "not shown" not in out.getvalue()
