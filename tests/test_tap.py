"""Tests for L{ocppcs.tap}: options and the service tree it builds (no sockets opened)."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock

from ocppcs.emulator.service import EmulatorService
from ocppcs.listeners import ListenerService
from ocppcs.service import CentralSystemService
from ocppcs.tap import Options, makeService

EXAMPLES = Path(__file__).parents[1] / "conf" / "cp"


def test_defaults_listen_on_9220(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no options the service listens on port 9220 with the embedded backend."""
    monkeypatch.chdir(tmp_path)  # the default store is data/ocppcs.sqlite3 under the cwd
    options = Options()
    options.parseOptions([])
    service = makeService(options, MemoryReactorClock())
    assert isinstance(service, CentralSystemService)
    assert [listener.description for listener in service.listeners] == [
        "tcp:9220:interface=0.0.0.0"
    ]
    assert service.backend.name == "embedded"
    assert all(isinstance(listener, ListenerService) for listener in service.listeners)


def test_listen_overrides_config(tmp_path: Path) -> None:
    """--listen (repeatable) replaces [server] listen from the file."""
    conf = tmp_path / "c.conf"
    conf.write_text(
        "[server]\nlisten = tcp:1234\n[embedded]\npath = " + str(tmp_path / "db") + "\n"
    )
    options = Options()
    options.parseOptions(["--config", str(conf), "--listen", "tcp:0", "--listen", "tcp:1"])
    service = makeService(options, MemoryReactorClock())
    assert [listener.description for listener in service.listeners] == ["tcp:0", "tcp:1"]


def test_bad_config_is_one_line_system_exit(tmp_path: Path) -> None:
    """A bad value stops option parsing with the section and key named."""
    conf = tmp_path / "c.conf"
    conf.write_text("[central]\nauthorization = maybe\n")
    with pytest.raises(SystemExit, match="central.authorization"):
        Options().parseOptions(["--config", str(conf)])


def test_listening_on_memory_reactor(tmp_path: Path) -> None:
    """Starting the listener service listens through the given reactor."""
    reactor = MemoryReactorClock()
    listener = ListenerService(reactor, "tcp:9555:interface=127.0.0.1", object())  # type: ignore[arg-type]
    listener.startService()
    assert reactor.tcpServers[0][0] == 9555
    assert reactor.tcpServers[0][3] == "127.0.0.1"


def test_unwritable_store_is_one_line_system_exit(tmp_path: Path) -> None:
    """A store path whose folder can't be created stops start-up naming embedded.path."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    conf = tmp_path / "c.conf"
    conf.write_text(f"[embedded]\npath = {blocker / 'sub' / 'db.sqlite3'}\n")
    options = Options()
    options.parseOptions(["--config", str(conf)])
    with pytest.raises(SystemExit, match="embedded.path"):
        makeService(options, MemoryReactorClock())


def test_emulator_runs_with_the_central_system(tmp_path: Path) -> None:
    """[emulator] enable adds the emulator as the central system's last child."""
    config = tmp_path / "c.conf"
    config.write_text(
        f"[embedded]\npath = {tmp_path / 's.sqlite3'}\n"
        f"[emulator]\nenable = true\nstate = {tmp_path / 'e.sqlite3'}\npath = {EXAMPLES}\n"
    )
    options = Options()
    options.parseOptions(["--config", str(config)])
    service = makeService(options, MemoryReactorClock())
    assert isinstance(service, CentralSystemService)
    assert isinstance(service.emulator, EmulatorService)
    assert list(service)[-1] is service.emulator


def test_emulator_alone(tmp_path: Path) -> None:
    """[emulator] central = false runs the emulator only: no listener, no backend."""
    config = tmp_path / "c.conf"
    config.write_text(
        f"[emulator]\nenable = true\ncentral = false\nurl = ws://cs.example:9000/ocpp\n"
        f"state = {tmp_path / 'e.sqlite3'}\npath = {EXAMPLES}\n"
    )
    options = Options()
    options.parseOptions(["--config", str(config)])
    service = makeService(options, MemoryReactorClock())
    assert isinstance(service, EmulatorService)
    assert service.config.url == "ws://cs.example:9000/ocpp"


@pytest.mark.parametrize(
    ("lines", "key"),
    [
        ("path = {tmp}/missing", "emulator.path"),
        ("path = {examples}\nstate = /proc/nope/e.sqlite3", "emulator.state"),
    ],
)
def test_emulator_paths_checked(tmp_path: Path, lines: str, key: str) -> None:
    """A missing station folder or an unwritable state file stops start-up naming the key."""
    config = tmp_path / "c.conf"
    emulator = lines.format(tmp=tmp_path, examples=EXAMPLES)
    config.write_text(
        f"[embedded]\npath = {tmp_path / 's.sqlite3'}\n[emulator]\nenable = true\n{emulator}\n"
    )
    options = Options()
    options.parseOptions(["--config", str(config)])
    with pytest.raises(SystemExit, match=key):
        makeService(options, MemoryReactorClock())
