"""
Unit tests of the station checks (L{ocppcs.stationauth}), the C{[security]}
section (L{ocppcs.configsecurity}) and C{tls:} listen descriptions
(L{ocppcs.tlslisten}); the same checks through real connections are in
C{tests/integration/test_station_profiles.py}.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock

from ocppcs.config import ConfigError, parse_config
from ocppcs.configsecurity import SecurityConfig
from ocppcs.listeners import parse_endpoint
from ocppcs.stationauth import (
    ALLOWED,
    StationAuth,
    StationVerdict,
    check_key,
    check_listeners,
    hash_station_key,
    key_password,
)
from ocppcs.testca import TestCA

HEX_KEY = "00112233445566778899aabbccddeeff0011"  # 36 hex digits: 18 bytes


def header(user: str, password: bytes | str) -> bytes:
    raw = password if isinstance(password, bytes) else password.encode()
    return b"Basic " + base64.b64encode(user.encode() + b":" + raw)


class Keys:
    """A record's station_key_hash, counting the lookups."""

    def __init__(self, **hashes: str) -> None:
        self.hashes = hashes
        self.lookups = 0

    def __call__(self, identity: str) -> Deferred[str | None]:
        self.lookups += 1
        return succeed(self.hashes.get(identity))


def verdict(result: StationVerdict | Deferred[StationVerdict]) -> StationVerdict:
    if isinstance(result, StationVerdict):
        return result
    found: list[StationVerdict] = []
    result.addCallback(found.append)
    assert found, "the check did not finish"
    return found[0]


def auth(keys: Keys, **config: Any) -> tuple[StationAuth, list[int]]:
    runs: list[int] = []

    def run(verify: Any) -> Deferred[bool]:
        runs.append(1)
        return succeed(verify())

    return StationAuth(SecurityConfig(**config), keys, Clock(), run), runs


def test_profile_1_basic_and_the_verdict_cache() -> None:
    keys = Keys(CP1=hash_station_key(HEX_KEY))
    checker, runs = auth(keys, profile=1)
    assert verdict(checker.check("CP1", header("CP1", bytes.fromhex(HEX_KEY)))) == ALLOWED
    assert verdict(checker.check("CP1", header("CP1", HEX_KEY))) == ALLOWED
    assert verdict(checker.check("CP1", header("CP1", bytes.fromhex(HEX_KEY)))) == ALLOWED
    assert len(runs) == 2  # the third was remembered
    wrong = verdict(checker.check("CP1", header("CP1", "y" * 16)))
    assert wrong == StationVerdict(False, 401, "security profile 1: wrong password")
    assert verdict(checker.check("CP1", header("CP1", "y" * 16))) == wrong and len(runs) == 3
    # A changed key (another stored hash) is checked again.
    keys.hashes["CP1"] = hash_station_key("z" * 16)
    assert not verdict(checker.check("CP1", header("CP1", HEX_KEY))).ok
    assert verdict(checker.check("CP1", header("CP1", "z" * 16))) == ALLOWED
    for bad in (None, b"Bearer abc", b"Basic !!!", b"Basic " + base64.b64encode(b"nocolon")):
        assert verdict(checker.check("CP1", bad)).status == 401
    assert verdict(checker.check("CP2", header("CP2", "z" * 16))).reason == (
        "security profile 1: no AuthorizationKey is set"
    )


def test_profiles_per_station_and_tls() -> None:
    keys = Keys(CP2=hash_station_key("k" * 16))
    checker, _ = auth(keys, profile=0, profile_2=("CP2",), profile_3=("CP3",))
    assert checker.check("CP0", None) is ALLOWED and keys.lookups == 0
    assert verdict(checker.check("CP2", header("CP2", "k" * 16))).status == 403
    assert verdict(checker.check("CP2", header("CP2", "k" * 16), tls=True)) == ALLOWED
    assert checker.check("CP3", None, tls=True).status == 401
    assert checker.check("CP3", None, tls=False).status == 403
    ca = client_certificates()
    assert checker.check("CP3", None, ca["CP3"], tls=True) == ALLOWED
    assert checker.check("CP3", None, ca["CP9"], tls=True).status == 403


def client_certificates() -> dict[str, Any]:
    import tempfile

    from cryptography import x509

    with tempfile.TemporaryDirectory() as folder:
        ca = TestCA(Path(folder))
        return {
            cn: x509.load_pem_x509_certificate(ca.client(cn)[0].read_bytes())
            for cn in ("CP3", "CP9")
        }


def test_keys() -> None:
    assert key_password(HEX_KEY) == bytes.fromhex(HEX_KEY)
    assert key_password("p" * 16) == b"p" * 16
    for bad in ("p" * 15, "p" * 41, "é" * 16, "tab\there-and-more"):
        with pytest.raises(ValueError):
            check_key(bad)
    assert hash_station_key("p" * 16).startswith("scrypt$n=2048,")


def test_security_section() -> None:
    config = parse_config("[security]\nprofile = 1\nprofile_3 = CP1, CP2\nprofile_0 = CP9\n")
    assert config.security.overrides() == {"CP9": 0, "CP1": 3, "CP2": 3}
    with pytest.raises(ConfigError, match="security.profile"):
        parse_config("[security]\nprofile = 4\n")
    with pytest.raises(ConfigError, match="security.profile_2.*also listed in profile_1"):
        parse_config("[security]\nprofile_1 = CP1\nprofile_2 = CP1\n")


def test_profiles_need_their_listeners(tmp_path: Path) -> None:
    plain = ("tcp:9220",)
    check_listeners(SecurityConfig(profile=1), plain)
    with pytest.raises(ConfigError, match="security.profile.*TLS listener"):
        check_listeners(SecurityConfig(profile_2=("CP1",)), plain)
    tls = ("tls:9443:privateKey=k.pem",)
    check_listeners(SecurityConfig(profile=2), tls)
    with pytest.raises(ConfigError, match="caCerts"):
        check_listeners(SecurityConfig(profile_3=("CP1",)), tls)
    check_listeners(SecurityConfig(profile=3), ("tls:9443:privateKey=k.pem:caCerts=ca.pem",))


def test_tls_descriptions(tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    cert, key = ca.server()
    reactor = MemoryReactorClock()
    for kind in ("tls", "ssl"):
        endpoint: Any = parse_endpoint(
            reactor, f"{kind}:9443:privateKey={key}:certKey={cert}:caCerts={ca.ca}"
        )
        assert endpoint._port == 9443 and endpoint._backlog == 4096
    bad = [
        (f"tls:9443:certKey={cert}", "needs privateKey"),
        (f"tls:9443:privateKey={key}:certKey={cert}:colour=red", "unknown key 'colour'"),
        (f"tls:9443:privateKey={tmp_path / 'none.pem'}", "cannot read"),
        (f"tls:9443:privateKey={key}:certKey={key}", "no PEM certificate"),
        (f"tls:9443:privateKey={cert}:certKey={cert}", "no PEM private key"),
        (f"tls:nine:privateKey={key}:certKey={cert}", "not a listen description"),
    ]
    for description, message in bad:
        with pytest.raises(ConfigError, match="server.listen") as e:
            parse_endpoint(reactor, description)
        assert message in str(e.value), (description, str(e.value))
