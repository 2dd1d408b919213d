"""What an emulated station presents when it connects (L{ocppcs.emulator.credentials})."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ocppcs.emulator.credentials import basic_headers, hide_write_only, tls_options
from ocppcs.emulator.keys import ConfigurationKeys
from ocppcs.testca import TestCA


def keys(**values: str) -> ConfigurationKeys:
    return ConfigurationKeys([(k, False, v) for k, v in values.items()], 1)


@pytest.mark.parametrize("profile", ["1", "2"])
def test_basic_for_profiles_1_and_2(profile: str) -> None:
    headers = basic_headers("CP-1", keys(SecurityProfile=profile, AuthorizationKey="K" * 16))
    scheme, token = headers["Authorization"].split()
    assert scheme == "Basic"
    assert base64.b64decode(token) == b"CP-1:" + b"K" * 16


@pytest.mark.parametrize(
    "values",
    [
        {"SecurityProfile": "0", "AuthorizationKey": "K" * 16},
        {"SecurityProfile": "3", "AuthorizationKey": "K" * 16},
        {"SecurityProfile": "1"},
    ],
)
def test_no_basic_otherwise(values: dict[str, str]) -> None:
    assert basic_headers("CP-1", keys(**values)) == {}


def test_an_unreadable_store_is_a_value_error(tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    roots = [{"type": "CentralSystemRootCertificate", "pem": ca.ca.read_text()}]
    tls_options("localhost", {"roots": roots})  # readable: no error
    cert, _ = ca.client("CP-1")
    broken = {"chargePoint": cert.read_text(), "chargePointKey": "not a key"}
    with pytest.raises(ValueError, match="certificate store"):
        tls_options("localhost", broken)


def test_get_configuration_hides_the_authorization_key() -> None:
    """The whitepaper's AuthorizationKey is write-only (accessibility W)."""
    station_keys = keys(AuthorizationKey="K" * 16, SecurityProfile="1")
    shown = hide_write_only(station_keys.configuration(["AuthorizationKey", "SecurityProfile"]))
    values = {e["key"]: e["value"] for e in shown["configurationKey"]}
    assert values == {"AuthorizationKey": "", "SecurityProfile": "1"}
    assert station_keys.get("AuthorizationKey") == "K" * 16
