# -*- test-case-name: tests.test_stationauth -*-
"""
C{[security]}: how stations authenticate, as the security profiles of the
OCPP 1.6 security whitepaper (edition 3, section 2 "Security profiles"):

    0  no authentication (what OCPP 1.6 itself does)
    1  HTTP Basic authentication: user = identity, password = AuthorizationKey
    2  as 1, over TLS (wss://) only
    3  TLS with a client certificate whose subject CN is the identity

C{profile} applies to every station not named in C{profile_0} ...
C{profile_3}, so that a network moves to a higher profile station by station.
A station raised to a higher profile through the REST API (ChangeConfiguration
C{SecurityProfile}, the whitepaper's section 2.4 migration) keeps it as a
floor, stored in the record.

Signing the stations' certificates (SignCertificate, whitepaper section 3):
C{ca_cert} and C{ca_key} name the PEM files of the CA that signs them (read
at each signing, so they can be replaced while running), C{cpo_name} the
organisation (O) a CSR must name (the station's C{CpoName}), and
C{certificate_days} how long a certificate is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocppcs import configvalues as values

#: The security profiles (the whitepaper's 1 to 3, and 0 for none).
PROFILES = (0, 1, 2, 3)


def profile_number(text: str) -> int:
    """A security profile: 0, 1, 2 or 3."""
    try:
        number = int(text.strip())
    except ValueError:
        number = -1
    if number not in PROFILES:
        raise ValueError(f"expected a security profile 0, 1, 2 or 3; got {text!r}")
    return number


@dataclass(frozen=True)
class SecurityConfig:
    """
    C{[security]}: the stations' security profiles.

    @ivar profile: the profile of every station not listed in a C{profile_N}.
    @ivar profile_0: identities with profile 0 (likewise C{profile_1} ... C{profile_3}).
    """

    profile: int = 0
    profile_0: tuple[str, ...] = ()
    profile_1: tuple[str, ...] = ()
    profile_2: tuple[str, ...] = ()
    profile_3: tuple[str, ...] = ()
    ca_cert: str = ""
    ca_key: str = ""
    cpo_name: str = ""
    certificate_days: int = 365

    def overrides(self) -> dict[str, int]:
        """The stations listed in C{profile_N}, each with its profile."""
        found: dict[str, int] = {}
        for number in PROFILES:
            for identity in getattr(self, f"profile_{number}"):
                found[identity] = number
        return found

    def profiles_used(self) -> set[int]:
        """Every profile some station may get."""
        return {self.profile} | set(self.overrides().values())


#: The keys of C{[security]} and their parsers.
SECURITY_KEYS: dict[str, Callable[[str], Any]] = {
    "profile": profile_number,
    **{f"profile_{n}": values.words for n in PROFILES},
    "ca_cert": str.strip,  # empty: no signing CA
    "ca_key": str.strip,
    "cpo_name": str.strip,
    "certificate_days": values.positive_int,
}


def check_security(config: SecurityConfig) -> tuple[str, str] | None:
    """
    C{None} when C{config} is consistent, else C{(key, message)}: a station
    listed under two profiles.
    """
    if bool(config.ca_cert) != bool(config.ca_key):
        missing = "ca_key" if config.ca_cert else "ca_cert"
        return missing, "ca_cert and ca_key are set together (the signing CA's PEM files)"
    seen: dict[str, int] = {}
    for number in PROFILES:
        for identity in getattr(config, f"profile_{number}"):
            if identity in seen and seen[identity] != number:
                return (
                    f"profile_{number}",
                    f"{identity!r} is also listed in profile_{seen[identity]}",
                )
            seen[identity] = number
    return None
