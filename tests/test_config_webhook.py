"""Tests for the C{[webhook]} settings and their environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppcs.config import ConfigError, WebhookConfig, load_config, parse_config

HOOK = "[backend]\ntype = webhook\n[webhook]\nurl = https://hooks.example/ocpp\n"


def test_webhook_settings_are_parsed() -> None:
    """Every [webhook] key; the authorization scheme is matched without case."""
    config = parse_config(
        HOOK + "authorization = bearer\ntoken = abc\ntimeout = 2.5\nmax_concurrent = 7\n"
        "station_queue = 2\nusername = u\npassword = p\n"
    )
    assert config.backend.type == "webhook"
    assert config.webhook == WebhookConfig(
        url="https://hooks.example/ocpp",
        authorization="Bearer",
        username="u",
        password="p",
        token="abc",
        timeout=2.5,
        max_concurrent=7,
        station_queue=2,
    )


def test_secrets_are_not_in_the_config_repr() -> None:
    """A logged configuration shows no password or token."""
    config = parse_config(HOOK + "authorization = Basic\nusername = u\npassword = pw-XYZ\n")
    assert "pw-XYZ" not in repr(config)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[backend]\ntype = webhook\n", "webhook.url", "needs [webhook] url"),
        (HOOK.replace("https://hooks.example/ocpp", "ftp://x"), "webhook.url", "http://"),
        (HOOK + "authorization = Digest\n", "webhook.authorization", "Off, Basic, Bearer"),
        (HOOK + "authorization = Basic\n", "webhook.username", "needs a username"),
        (HOOK + "authorization = Bearer\n", "webhook.token", "needs a token"),
        (HOOK + "timeout = 0\n", "webhook.timeout", ""),
        (HOOK + "max_concurrent = -1\n", "webhook.max_concurrent", ""),
        (HOOK + "urls = x\n", "webhook.urls", "unknown key"),
        ("[backend]\ntype = mysql\n", "backend.type", "embedded, webhook, postgres"),
    ],
)
def test_bad_webhook_settings_name_the_key(text: str, where: str, message: str) -> None:
    """A bad [webhook] setting stops start-up naming section.key."""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert f"'{where}'" in str(caught.value) and message in str(caught.value)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """OCPPCS_WEBHOOK_URL, _TOKEN, _USERNAME and _PASSWORD replace the file's keys."""
    path = tmp_path / "c.conf"
    path.write_text(HOOK + "authorization = Bearer\ntoken = from-file\n", encoding="utf-8")
    environ = {
        "OCPPCS_WEBHOOK_URL": "http://127.0.0.1:9/env",
        "OCPPCS_WEBHOOK_TOKEN": "from-env",
        "OCPPCS_WEBHOOK_USERNAME": "env-user",
        "OCPPCS_WEBHOOK_PASSWORD": "env-pw",
        "OCPPCS_OTHER": "ignored",
    }
    hook = load_config(str(path), environ).webhook
    assert (hook.url, hook.token, hook.username, hook.password) == (
        "http://127.0.0.1:9/env",
        "from-env",
        "env-user",
        "env-pw",
    )
    # Without a file too (containers need no file edits).
    assert load_config(None, {"OCPPCS_WEBHOOK_URL": "http://h/x"}).webhook.url == "http://h/x"
    assert load_config(None, {}).webhook == WebhookConfig()


def test_a_bad_environment_value_names_the_variable() -> None:
    """An invalid override names the key and the variable it came from."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"OCPPCS_WEBHOOK_URL": "not a url"})
    assert "'webhook.url'" in str(caught.value) and "OCPPCS_WEBHOOK_URL" in str(caught.value)
