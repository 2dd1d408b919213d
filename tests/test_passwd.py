"""Tests for L{ocppcs.passwd}: hashes, their parsing, the command line and the [api] config."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from ocppcs.config import ConfigError, parse_config
from ocppcs.passwd import hash_secret, main, parse_hash, parse_tokens, parse_users

#: Cheap parameters so the tests run fast.
FAST = {"n": 2**4, "r": 1, "p": 1}


def test_round_trip() -> None:
    """A hash line parses back to itself and accepts only its secret."""
    hashed = hash_secret("pässword", **FAST)
    text = str(hashed)
    assert text.startswith("scrypt$n=16,r=1,p=1$")
    parsed = parse_hash(text)
    assert parsed == hashed
    assert parsed.matches("pässword")
    assert not parsed.matches("password")
    assert not parsed.matches("")


def test_salted() -> None:
    """The same secret hashes differently each time; the default cost is n=16384, r=8."""
    first, second = hash_secret("same"), hash_secret("same")
    assert first.salt != second.salt and first.key != second.key
    assert (first.n, first.r, first.p) == (16384, 8, 1)
    assert second.matches("same")


@pytest.mark.parametrize(
    "text",
    [
        "plain-password",
        "bcrypt$n=16,r=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=16,r=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=16,r=1,p=1,x=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=15,r=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=262144,r=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=1048576,r=8,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=16,r=1,p=1$not*base64$a2V5a2V5a2V5a2V5a2V5aw",
        "scrypt$n=16,r=1,p=1$c2FsdHNhbHQ$a2V5",
    ],
)
def test_bad_hashes(text: str) -> None:
    """Anything but a well-formed scrypt line with sane cost is refused."""
    with pytest.raises(ValueError):
        parse_hash(text)


def test_users_and_tokens() -> None:
    """users are name:hash with unique names; tokens are hashes."""
    hashed = str(hash_secret("pw", **FAST))
    users = parse_users((f"alice:{hashed}", f"bob:{hashed}"))
    assert sorted(users) == ["alice", "bob"]
    assert parse_tokens((hashed,))[0].matches("pw")
    for bad in [(hashed,), (f":{hashed}",), (f"alice:{hashed}", f"alice:{hashed}"), ("a:b",)]:
        with pytest.raises(ValueError):
            parse_users(bad)


def run_cli(args: list[str], secret: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocppcs.passwd", *args],
        input=secret,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_user_round_trip() -> None:
    """The command reads the password from stdin and prints a users line that works."""
    done = run_cli(["--user", "alice"], "s3cret words\n")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("alice:scrypt$")
    config = parse_config(f"[api]\nauth = basic\nusers = {line}\n")
    assert parse_users(config.api.users)["alice"].matches("s3cret words")


def test_cli_token_round_trip() -> None:
    """Without --user it prints a tokens line."""
    done = run_cli([], "tok-123")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    config = parse_config(f"[api]\nauth = bearer\ntokens =\n  {line}\n")
    assert parse_tokens(config.api.tokens)[0].matches("tok-123")


@pytest.mark.parametrize("args, stdin", [(["--user", "a:b"], "pw\n"), ([], "\n")])
def test_cli_refuses(args: list[str], stdin: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A user name with a colon, or an empty secret, is an error (exit status 2)."""
    assert main(args, io.StringIO(stdin)) == 2
    assert "error:" in capsys.readouterr().err


def test_config_errors_name_the_key() -> None:
    """Bad entries and a scheme without credentials name api.users or api.tokens."""
    hashed = str(hash_secret("pw", **FAST))
    cases = {
        "[api]\nusers = alice\n": "api.users",
        "[api]\nusers = alice:nothash\n": "api.users",
        f"[api]\nusers = alice:{hashed}\n  alice:{hashed}\n": "api.users",
        "[api]\ntokens = scrypt$x\n": "api.tokens",
        "[api]\nauth = basic\n": "api.users",
        f"[api]\nauth = basic\ntokens = {hashed}\n": "api.users",
        "[api]\nauth = bearer\n": "api.tokens",
        f"[api]\nauth = bearer\nusers = alice:{hashed}\n": "api.tokens",
    }
    for text, where in cases.items():
        with pytest.raises(ConfigError) as info:
            parse_config(text)
        assert f"'{where}'" in str(info.value), text


def test_config_accepts_several_users() -> None:
    """users takes one name:hash per continuation line."""
    a, b = str(hash_secret("a", **FAST)), str(hash_secret("b", **FAST))
    config = parse_config(f"[api]\nauth = basic\nusers =\n  alice:{a}\n  bob:{b}\n")
    assert config.api.auth == "basic"
    assert config.api.users == (f"alice:{a}", f"bob:{b}")
