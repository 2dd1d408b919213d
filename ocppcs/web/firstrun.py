# -*- test-case-name: tests.web.test_firstrun -*-
"""
Secure by default: with C{[api] auth = auto} (the default) and no C{[api]
users}, the first start with a listener open to the network generates an operator password for user
L{OPERATOR}, keeps its scrypt hash in C{[api] password_file} (by default
C{operator.passwd} beside the embedded store, in the data folder), writes
the password itself once to C{operator-password.txt} beside it (readable by
its owner only) and logs where it is. Later starts read the hash. Requests
from other hosts then need these credentials; requests from this host need
none (L{ocppcs.web.auth}).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from twisted.logger import Logger

from ocppcs.config import ApiConfig, Config, ConfigError
from ocppcs.passwd import hash_secret, parse_users
from ocppcs.web.auth import is_local_listener

#: The user name of the generated operator password.
OPERATOR = "admin"
#: The name of the file holding the generated password in clear, beside the hash file.
CLEAR_NAME = "operator-password.txt"

_log = Logger()
_KEY = ("api", "password_file")


def password_file(config: Config) -> Path:
    """Where the generated operator password's hash is kept."""
    if config.api.password_file:
        return Path(config.api.password_file)
    return Path(config.embedded.path).parent / "operator.passwd"


def _write_private(path: Path, text: str) -> None:
    """Write C{text} to a new file at C{path} that only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _generate(path: Path) -> str:
    password = secrets.token_urlsafe(18)
    line = f"{OPERATOR}:{hash_secret(password)}"
    clear = path.parent / CLEAR_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(clear, password + "\n")
    _write_private(path, line + "\n")
    _log.warn(
        "No operator credentials are configured: generated a password for user {user}, "
        "written to {clear} (readable by this user only; note it, then delete the file). "
        "Requests from other hosts to the API, the UI, /ws/* and /metrics need it; "
        "from this host none. Set [api] users (python -m ocppcs.passwd) to choose your own.",
        user=OPERATOR,
        clear=str(clear),
        hash_file=str(path),
    )
    return line


def operator_api_config(config: Config) -> ApiConfig:
    """
    C{[api]} as the operator authentication uses it: with C{auth = auto}
    and no C{users}, the generated operator's C{name:hash} line as C{users}
    (generated and stored on the first start).

    @raise ConfigError: naming C{api.password_file} when it can't be read,
        written or parsed.
    """
    api = config.api
    if api.auth != "auto" or api.users:
        return api
    if all(is_local_listener(d) for d in config.server.listen):
        return api  # only this host can connect: no request needs credentials
    path = password_file(config)
    try:
        if path.exists():
            line = path.read_text(encoding="utf-8").strip()
        else:
            line = _generate(path)
    except OSError as e:
        raise ConfigError(f"cannot read or write {path}: {e.strerror}", _KEY) from None
    try:
        parse_users((line,))
    except ValueError as e:
        raise ConfigError(f"{path}: {e} (delete it to generate a new password)", _KEY) from None
    return dataclasses.replace(api, users=(line,))
