# -*- test-case-name: tests.test_config -*-
"""
The configuration file: an INI file read into frozen per-section objects.

Every key has a built-in default (documented in C{conf/ocppcs.conf}), so no
file at all is a valid configuration. The L{ENVIRONMENT} variables override
the webhook's URL and secrets. A bad file, an unknown section or key,
or a bad value raises L{ConfigError} naming the section and key.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocppcs import configvalues as values
from ocppcs.cluster.config import KEYS as CLUSTER_KEYS
from ocppcs.cluster.config import ClusterConfig
from ocppcs.configpostgres import POSTGRES_KEYS, PostgresConfig
from ocppcs.configsecurity import SECURITY_KEYS, SecurityConfig, check_security
from ocppcs.configsyntax import syntax_problem
from ocppcs.configwebhook import WEBHOOK_KEYS, WebhookConfig


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


# --- sections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """C{[server]}: listeners, WebSocket connection limits, the OCPP-S request size."""

    listen: tuple[str, ...] = ("tcp:9220:interface=0.0.0.0",)
    ping_interval: float = 60.0
    ping_timeout: float = 30.0
    #: Bytes: 1 MiB, what common WebSocket stacks accept by default.
    max_frame_size: int = 1_048_576
    call_timeout: float = 30.0
    #: Bytes: the largest OCPP-S (SOAP) request accepted at /Ocpp.
    soap_max_body: int = 65_536

    #: Seconds a connection may take to complete its WebSocket opening handshake.
    handshake_timeout: float = 30.0
    #: Open connections at most, in total and from one address (0: no limit).
    max_connections: int = 0
    max_connections_per_address: int = 0
    #: Messages per second a station may send on average (0: no limit), in bursts of
    #: up to C{message_burst}; after C{rate_close_after} refused in a row, it is closed.
    message_rate: float = 0.0
    message_burst: int = 100
    rate_close_after: int = 100


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
    """
    C{[backend]}: what decides the stations' calls: C{embedded} (the
    C{[central]} rules) or C{webhook} (the operator's receiver, C{[webhook]}),
    both with the record in the embedded store; or C{postgres} (the record
    and the decisions in PostgreSQL, C{[postgres]}).
    """

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
    """
    C{[api]}: the operators' REST API, log feed and metrics.

    @ivar auth: C{auto} (loopback needs no credentials, others Basic with
        C{users} or the generated operator password), C{none}, C{basic} or C{bearer}.
    @ivar password_file: where C{auto} keeps the generated operator
        password's hash; C{""}: C{operator.passwd} beside C{[embedded] path}.
    """

    auth: str = "auto"
    users: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    max_body: int = 1_048_576
    page_size: int = 100
    max_page_size: int = 1000
    password_file: str = ""

    #: Origins allowed on the UI's feeds (/ws/*) besides the server's own.
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogConfig:
    """C{[log]}: the lowest level logged, and C{text} or C{json} (one object a line)."""

    level: str = "info"
    format: str = "text"


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
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    postgres: PostgresConfig = field(default_factory=PostgresConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    emulator: EmulatorConfig = field(default_factory=EmulatorConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)

    log: LogConfig = field(default_factory=LogConfig)
    source: str = "<defaults>"


# section name -> (class, {key: parser})
_SECTIONS: dict[str, tuple[type[Any], dict[str, Callable[[str], Any]]]] = {
    "server": (
        ServerConfig,
        {
            "listen": values.listeners,
            "ping_interval": values.non_negative_float,
            "ping_timeout": values.positive_float,
            "max_frame_size": values.positive_int,
            "call_timeout": values.positive_float,
            "soap_max_body": values.positive_int,
            "handshake_timeout": values.positive_float,
            "max_connections": values.non_negative_int,
            "max_connections_per_address": values.non_negative_int,
            "message_rate": values.non_negative_float,
            "message_burst": values.positive_int,
            "rate_close_after": values.positive_int,
        },
    ),
    "central": (
        CentralConfig,
        {
            "heartbeat_interval": values.positive_int,
            "registration": values.choice("open", "known"),
            "unknown_station": values.choice("Rejected", "Pending"),
            "retry_interval": values.positive_int,
            "authorization": values.choice("open", "list"),
            "concurrent_tx": values.choice("refuse", "allow"),
            "known_vendors": values.words,
        },
    ),
    "backend": (BackendConfig, {"type": values.choice("embedded", "webhook", "postgres")}),
    "embedded": (
        EmbeddedConfig,
        {
            "path": str,
            "synchronous": values.choice("full", "normal"),
            "log_max_rows": values.non_negative_int,
            "log_max_age": values.non_negative_float,
        },
    ),
    "webhook": (WebhookConfig, WEBHOOK_KEYS),
    "postgres": (PostgresConfig, POSTGRES_KEYS),
    "api": (
        ApiConfig,
        {
            "auth": values.choice("auto", "none", "basic", "bearer"),
            "users": values.users,
            "tokens": values.tokens,
            "max_body": values.positive_int,
            "page_size": values.positive_int,
            "max_page_size": values.positive_int,
            "password_file": str,
            "allowed_origins": values.origins,
        },
    ),
    "emulator": (
        EmulatorConfig,
        {
            "enable": values.boolean,
            "path": values.path,
            "url": values.ws_url,
            "central": values.boolean,
            "state": values.path,
            "transfers": values.choice("simulated", "network"),
        },
    ),
    "cluster": (ClusterConfig, CLUSTER_KEYS),
    "security": (SecurityConfig, SECURITY_KEYS),
    "log": (
        LogConfig,
        {
            "level": values.choice("debug", "info", "warn", "error", "critical"),
            "format": values.choice("text", "json"),
        },
    ),
}


#: Environment variables that override a key of the file (containers need no file edits).
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "OCPPCS_WEBHOOK_URL": ("webhook", "url"),
    "OCPPCS_WEBHOOK_TOKEN": ("webhook", "token"),
    "OCPPCS_WEBHOOK_USERNAME": ("webhook", "username"),
    "OCPPCS_WEBHOOK_PASSWORD": ("webhook", "password"),
}


def _read_section(parser: configparser.ConfigParser, name: str, environ: Mapping[str, str]) -> Any:
    cls, keys = _SECTIONS[name]
    items: list[tuple[str, str, str]] = []
    if parser.has_section(name):
        items = [(key, text, "") for key, text in parser.items(name)]
    for variable, (section, key) in ENVIRONMENT.items():
        if section == name and variable in environ:
            items.append((key, environ[variable], f" (from {variable})"))
    values: dict[str, Any] = {}
    for key, text, origin in items:
        if key not in keys:
            raise ConfigError(f"unknown key (known keys: {', '.join(sorted(keys))})", (name, key))
        try:
            values[key] = keys[key](text)
        except ValueError as e:
            raise ConfigError(f"{e}{origin}", (name, key)) from None
    return cls(**values)


def _check_webhook(config: Config) -> None:
    """The C{[webhook]} settings C{[backend] type = webhook} needs."""
    hook = config.webhook
    if config.backend.type != "webhook":
        return
    if not hook.url:
        raise ConfigError("type = webhook needs [webhook] url", ("webhook", "url"))
    if hook.authorization == "Basic" and not hook.username:
        raise ConfigError("authorization = Basic needs a username", ("webhook", "username"))
    if hook.authorization == "Bearer" and not hook.token:
        raise ConfigError("authorization = Bearer needs a token", ("webhook", "token"))


def parse_config(
    text: str, source: str = "<string>", environ: Mapping[str, str] | None = None
) -> Config:
    """
    Parse the text of a configuration file.

    @param environ: the environment whose L{ENVIRONMENT} variables override
        the file (none by default).
    @raise ConfigError: on a syntax error, unknown section or key, or bad value.
    """
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        parser.read_string(text, source=source)
    except configparser.Error as e:
        message, line = syntax_problem(e, source, text)
        raise ConfigError(message, line=line) from None
    for section in parser.sections():
        if section not in _SECTIONS:
            raise ConfigError(
                f"unknown section (known sections: {', '.join(_SECTIONS)})", (section, "")
            )
    env = environ if environ is not None else {}
    sections = {name: _read_section(parser, name, env) for name in _SECTIONS}
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
    _check_webhook(config)
    clash = check_security(config.security)
    if clash is not None:
        raise ConfigError(clash[1], ("security", clash[0]))
    return config


def load_config(path: str | None, environ: Mapping[str, str] | None = None) -> Config:
    """
    Read the configuration file at C{path}, or the built-in defaults when
    C{path} is C{None}, with the L{ENVIRONMENT} overrides of C{environ}
    (default: C{os.environ}).

    @raise ConfigError: when the file can't be read or is invalid.
    """
    if environ is None:
        environ = os.environ
    if path is None:
        if any(variable in environ for variable in ENVIRONMENT):
            return parse_config("", "<defaults>", environ)
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read configuration file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {path} is not UTF-8 text") from None
    return parse_config(text, source=path, environ=environ)
