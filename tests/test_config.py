"""Tests for L{ocppcs.config}: defaults, the documented example file, and errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppcs.config import Config, ConfigError, EmulatorConfig, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent


def test_no_file_means_defaults() -> None:
    """Without a file every key has its built-in default; port 9220, embedded store."""
    config = load_config(None)
    assert config.server.listen == ("tcp:9220:interface=0.0.0.0",)
    assert config.backend.type == "embedded"
    assert config.central.registration == "open"
    assert config.central.concurrent_tx == "refuse"


def test_shipped_file_documents_the_defaults() -> None:
    """
    conf/ocppcs.conf sets every key to its default, so it documents them
    truthfully, with one documented exception: it turns the emulator on so
    the example stations come online.
    """
    path = ROOT / "conf" / "ocppcs.conf"
    config = load_config(str(path))
    assert config.emulator.enable is True
    assert EmulatorConfig().enable is False
    assert config == Config(source=config.source, emulator=EmulatorConfig(enable=True))
    assert "Production: set enable = false." in path.read_text(encoding="utf-8")


def _comment_above(text: str, key: str) -> str:
    """The comment lines right above C{key = ...} in a configuration file."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
    comment: list[str] = []
    for line in reversed(lines[:at]):
        if not line.startswith("#"):
            break
        comment.insert(0, line.lstrip("# "))
    return " ".join(comment)


def test_shipped_file_says_where_emulated_stations_connect() -> None:
    """
    The comment on [emulator] url says what build_emulator does with an empty
    url: with central = true the stations connect to this central system, and
    only with central = false to their own CentralSystemURL.
    """
    text = (ROOT / "conf" / "ocppcs.conf").read_text(encoding="utf-8")
    comment = _comment_above(text[text.index("[emulator]") :], "url")
    assert "with central = true the stations connect to this central system" in comment
    assert "with central = false each connects to the CentralSystemURL key" in comment


def test_values_are_parsed() -> None:
    """Values are converted; listen takes several lines, known_vendors a list."""
    config = parse_config(
        "[server]\nlisten = tcp:0:interface=127.0.0.1\n  tcp:0\nping_interval = 0\n"
        "[central]\nregistration = KNOWN\nunknown_station = pending\nknown_vendors = acme, Foo\n"
        "concurrent_tx = Allow\n"
        "[embedded]\npath = /tmp/x.db\n"
    )
    assert config.server.listen == ("tcp:0:interface=127.0.0.1", "tcp:0")
    assert config.server.ping_interval == 0
    assert config.central.registration == "known"
    assert config.central.unknown_station == "Pending"
    assert config.central.known_vendors == ("acme", "Foo")
    assert config.central.concurrent_tx == "allow"
    assert config.embedded.path == "/tmp/x.db"


def test_emulator_defaults() -> None:
    """Without an [emulator] section the emulator is off and the central system runs."""
    assert load_config(None).emulator == EmulatorConfig(
        enable=False,
        path="conf/cp",
        url="",
        central=True,
        state="data/emulator.sqlite3",
        transfers="simulated",
    )


def test_emulator_values_are_parsed() -> None:
    """[emulator] takes booleans, paths, a ws:// or wss:// URL and a kind of transfers."""
    config = parse_config(
        "[emulator]\nenable = yes\npath = /srv/cp\nurl = wss://cs.example.com:9221/ocpp\n"
        "central = off\nstate = /var/lib/ocppcs/emu.db\ntransfers = Network\n"
    )
    assert config.emulator == EmulatorConfig(
        enable=True,
        path="/srv/cp",
        url="wss://cs.example.com:9221/ocpp",
        central=False,
        state="/var/lib/ocppcs/emu.db",
        transfers="network",
    )
    assert parse_config("[emulator]\ntransfers = simulated\n").emulator.transfers == "simulated"
    assert parse_config("[emulator]\nurl = ws://127.0.0.1:9220/ocpp/\n").emulator.url == (
        "ws://127.0.0.1:9220/ocpp/"
    )
    assert parse_config("[emulator]\nurl =\n").emulator.url == ""


@pytest.mark.parametrize(
    "text, where",
    [
        ("[server]\nping_interval = soon\n", "server.ping_interval"),
        ("[server]\nmax_frame_size = 0\n", "server.max_frame_size"),
        ("[server]\nlisten =\n", "server.listen"),
        ("[server]\nping_interval = 10\nping_timeout = 20\n", "server.ping_timeout"),
        ("[central]\nregistration = maybe\n", "central.registration"),
        ("[central]\nheartbeat_interval = -5\n", "central.heartbeat_interval"),
        ("[central]\ncolour = blue\n", "central.colour"),
        ("[central]\nconcurrent_tx = sometimes\n", "central.concurrent_tx"),
        ("[central]\nconcurrent_tx =\n", "central.concurrent_tx"),
        ("[backend]\ntype = mysql\n", "backend.type"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[emulator]\nenable = perhaps\n", "emulator.enable"),
        ("[emulator]\ncentral = 2\n", "emulator.central"),
        ("[emulator]\nurl = http://localhost:9220/ocpp\n", "emulator.url"),
        ("[emulator]\nurl = localhost:9220\n", "emulator.url"),
        ("[emulator]\nurl = ws:///ocpp\n", "emulator.url"),
        ("[emulator]\nurl = ws://[::1/ocpp\n", "emulator.url"),
        ("[emulator]\npath =\n", "emulator.path"),
        ("[emulator]\nstate =\n", "emulator.state"),
        ("[emulator]\ncentral = false\n", "emulator.central"),
        ("[emulator]\nport = 1\n", "emulator.port"),
        ("[emulator]\ntransfers = carrier-pigeon\n", "emulator.transfers"),
        ("[emulator]\ntransfers =\n", "emulator.transfers"),
    ],
)
def test_errors_name_section_and_key(text: str, where: str) -> None:
    """Every bad value, unknown key or unknown section names where it is."""
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert f"Error in configuration at '{where}'" in str(info.value)


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    """A file that is not INI, or is missing, is a ConfigError too."""
    bad = tmp_path / "bad.conf"
    bad.write_text("no section header\n")
    with pytest.raises(ConfigError, match="bad.conf") as info:
        load_config(str(bad))
    assert str(info.value).startswith("Error in configuration at line 1: 'no section header'")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.conf"))
