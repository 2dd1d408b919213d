# -*- test-case-name: tests.test_config -*-
"""
The configuration file: an INI file read into frozen per-section objects.

Every key has a built-in default (documented in C{conf/ocppcs.conf}), so no
file at all is a valid configuration. A bad file, an unknown section or key,
or a bad value raises L{ConfigError} naming the section and key.
"""

from __future__ import annotations

import configparser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ocppcs.passwd import parse_tokens, parse_users

T = TypeVar("T")


class ConfigError(Exception):
    """
    A configuration problem.

    @ivar path: C{(section, key)} the problem is about (C{key} may be C{""}).
    @ivar line: the line of the file the problem is on, for a syntax error.
    """

    def __init__(
        self, message: str, path: tuple[str, str] = ("", ""), line: int | None = None
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        where = ".".join(p for p in path if p)
        if line is not None:
            message = f"Error in configuration at line {line}: {message}"
        elif where:
            message = f"Error in configuration at '{where}': {message}"
        super().__init__(message)


# --- value parsers -------------------------------------------------------------------------

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"must be greater than 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"must be a whole number greater than 0, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"must be a whole number of at least 0, got {text!r}")
    return value


def _choice(*options: str) -> Callable[[str], str]:
    lowered = {o.lower(): o for o in options}

    def parse(text: str) -> str:
        try:
            return lowered[text.strip().lower()]
        except KeyError:
            raise ValueError(f"expected one of {', '.join(options)}; got {text!r}") from None

    return parse


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in text.replace(",", " ").split() if w)


def _credentials(text: str) -> tuple[str, ...]:
    """One C{name:hash} or hash per line (or separated by spaces)."""
    return tuple(w for w in text.split() if w)


def _users(text: str) -> tuple[str, ...]:
    """C{name:hash} entries, each checked (L{ocppcs.passwd.parse_users})."""
    values = _credentials(text)
    parse_users(values)
    return values


def _tokens(text: str) -> tuple[str, ...]:
    """Token hashes, each checked (L{ocppcs.passwd.parse_tokens})."""
    values = _credentials(text)
    parse_tokens(values)
    return values


def _listeners(text: str) -> tuple[str, ...]:
    values = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not values:
        raise ValueError("at least one listener description is needed")
    return values


def _path(text: str) -> str:
    path = text.strip()
    if not path:
        raise ValueError("a path is needed")
    return path


def _ws_url(text: str) -> str:
    """Empty, or a C{ws://} or C{wss://} URL with a host."""
    url = text.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise ValueError(f"not a URL: {e}") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"expected empty or a ws:// or wss:// URL, got {text!r}")
    return url


# --- sections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """C{[server]}: listeners and WebSocket connection limits."""

    listen: tuple[str, ...] = ("tcp:9220:interface=0.0.0.0",)
    ping_interval: float = 60.0
    ping_timeout: float = 30.0
    #: Bytes: 1 MiB, what common WebSocket stacks accept by default.
    max_frame_size: int = 1_048_576
    call_timeout: float = 30.0


@dataclass(frozen=True)
class CentralConfig:
    """
    C{[central]}: how the central system answers stations (the embedded backend's policy).

    @ivar concurrent_tx: C{"refuse"}: under either authorization policy, a
        StartTransaction with a tag still in a transaction open on another
        connector or station is answered ConcurrentTx; C{"allow"}: Accepted.
    """

    heartbeat_interval: int = 60
    registration: str = "open"
    unknown_station: str = "Rejected"
    retry_interval: int = 60
    authorization: str = "open"
    concurrent_tx: str = "refuse"
    known_vendors: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackendConfig:
    """C{[backend]}: which backend stores and decides."""

    type: str = "embedded"


@dataclass(frozen=True)
class EmbeddedConfig:
    """C{[embedded]}: the SQLite store."""

    path: str = "data/ocppcs.sqlite3"
    synchronous: str = "full"
    log_max_rows: int = 1_000_000
    log_max_age: float = 7 * 24 * 3600.0


@dataclass(frozen=True)
class ApiConfig:
    """C{[api]}: the operators' REST API, log feed and metrics."""

    auth: str = "none"
    users: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    max_body: int = 1_048_576
    page_size: int = 100
    max_page_size: int = 1000


@dataclass(frozen=True)
class EmulatorConfig:
    """
    C{[emulator]}: the charge-point emulator.

    @ivar enable: whether the emulated stations run.
    @ivar path: the folder of station folders (each with a C{configuration.json}).
    @ivar url: when not empty, the central system URL every station uses
        instead of its C{CentralSystemURL} key.
    @ivar central: whether the central system (listeners, backend) runs too;
        C{False} runs the emulator alone against another central system.
    @ivar state: the SQLite file where emulated stations keep their state.
    @ivar transfers: how stations move diagnostics and firmware files:
        C{"simulated"} (nothing moves, every transfer succeeds) or
        C{"network"} (HTTP(S) and FTP to the location the central system gives).
    """

    enable: bool = False
    path: str = "conf/cp"
    url: str = ""
    central: bool = True
    state: str = "data/emulator.sqlite3"
    transfers: str = "simulated"


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    server: ServerConfig = field(default_factory=ServerConfig)
    central: CentralConfig = field(default_factory=CentralConfig)
    backend: BackendConfig = field(default_factory=BackendConfig)
    embedded: EmbeddedConfig = field(default_factory=EmbeddedConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    emulator: EmulatorConfig = field(default_factory=EmulatorConfig)
    source: str = "<defaults>"


# section name -> (class, {key: parser})
_SECTIONS: dict[str, tuple[type[Any], dict[str, Callable[[str], Any]]]] = {
    "server": (
        ServerConfig,
        {
            "listen": _listeners,
            "ping_interval": _non_negative_float,
            "ping_timeout": _positive_float,
            "max_frame_size": _positive_int,
            "call_timeout": _positive_float,
        },
    ),
    "central": (
        CentralConfig,
        {
            "heartbeat_interval": _positive_int,
            "registration": _choice("open", "known"),
            "unknown_station": _choice("Rejected", "Pending"),
            "retry_interval": _positive_int,
            "authorization": _choice("open", "list"),
            "concurrent_tx": _choice("refuse", "allow"),
            "known_vendors": _words,
        },
    ),
    "backend": (BackendConfig, {"type": _choice("embedded")}),
    "embedded": (
        EmbeddedConfig,
        {
            "path": str,
            "synchronous": _choice("full", "normal"),
            "log_max_rows": _non_negative_int,
            "log_max_age": _non_negative_float,
        },
    ),
    "api": (
        ApiConfig,
        {
            "auth": _choice("none", "basic", "bearer"),
            "users": _users,
            "tokens": _tokens,
            "max_body": _positive_int,
            "page_size": _positive_int,
            "max_page_size": _positive_int,
        },
    ),
    "emulator": (
        EmulatorConfig,
        {
            "enable": _bool,
            "path": _path,
            "url": _ws_url,
            "central": _bool,
            "state": _path,
            "transfers": _choice("simulated", "network"),
        },
    ),
}


def _read_section(parser: configparser.ConfigParser, name: str) -> Any:
    cls, keys = _SECTIONS[name]
    values: dict[str, Any] = {}
    if parser.has_section(name):
        for key, text in parser.items(name):
            if key not in keys:
                raise ConfigError(
                    f"unknown key (known keys: {', '.join(sorted(keys))})", (name, key)
                )
            try:
                values[key] = keys[key](text)
            except ValueError as e:
                raise ConfigError(str(e), (name, key)) from None
    return cls(**values)


def _syntax_error(e: configparser.Error, source: str, text: str) -> ConfigError:
    """A one-line L{ConfigError} with the line number for what configparser refused."""
    if isinstance(e, configparser.MissingSectionHeaderError):
        what = f"{e.line.strip()!r} comes before any [section] header"
        return ConfigError(f"{what} ({source})", line=e.lineno)
    if isinstance(e, configparser.DuplicateSectionError) and e.lineno is not None:
        return ConfigError(f"section [{e.section}] appears twice ({source})", line=e.lineno)
    if isinstance(e, configparser.DuplicateOptionError) and e.lineno is not None:
        what = f"key {e.option!r} appears twice in [{e.section}]"
        return ConfigError(f"{what} ({source})", line=e.lineno)
    if isinstance(e, configparser.ParsingError) and e.errors:
        lineno = e.errors[0][0]
        lines = text.splitlines()
        line = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        return ConfigError(f"{line!r} is not 'key = value' ({source})", line=lineno)
    return ConfigError(f"{source}: {' '.join(str(e).split())}")


def parse_config(text: str, source: str = "<string>") -> Config:
    """
    Parse the text of a configuration file.

    @raise ConfigError: on a syntax error, unknown section or key, or bad value.
    """
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        parser.read_string(text, source=source)
    except configparser.Error as e:
        raise _syntax_error(e, source, text) from None
    for section in parser.sections():
        if section not in _SECTIONS:
            raise ConfigError(
                f"unknown section (known sections: {', '.join(_SECTIONS)})", (section, "")
            )
    sections = {name: _read_section(parser, name) for name in _SECTIONS}
    config = Config(source=source, **sections)
    if config.api.page_size > config.api.max_page_size:
        raise ConfigError("must not be larger than max_page_size", ("api", "page_size"))
    if config.api.auth == "basic" and not config.api.users:
        raise ConfigError("auth = basic needs at least one name:hash line", ("api", "users"))
    if config.api.auth == "bearer" and not config.api.tokens:
        raise ConfigError("auth = bearer needs at least one token hash", ("api", "tokens"))
    if config.server.ping_interval and config.server.ping_timeout > config.server.ping_interval:
        # A pong may take up to ping_timeout; a new ping before that is pointless.
        raise ConfigError("must not be longer than ping_interval", ("server", "ping_timeout"))
    if not config.emulator.central and not config.emulator.enable:
        raise ConfigError(
            "central = false needs enable = true (else nothing runs)", ("emulator", "central")
        )
    return config


def load_config(path: str | None) -> Config:
    """
    Read the configuration file at C{path}, or the built-in defaults when
    C{path} is C{None}.

    @raise ConfigError: when the file can't be read or is invalid.
    """
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read configuration file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {path} is not UTF-8 text") from None
    return parse_config(text, source=path)
