# -*- test-case-name: tests.test_securityevents,tests.integration.test_security_extensions -*-
"""
The stations' security events (SecurityEventNotification of the OCPP 1.6
security whitepaper, edition 3) as the central system watches them, whatever
the decider: each is counted by type for C{/metrics}

    ocppcs_security_events_total{type}                  counter
    ocppcs_certificate_signing_total{outcome}           counter (SignCertificate:
                                                        signed, rejected, failed)

and a critical one (L{CRITICAL_EVENTS}) is logged as a warning. Types a
station makes up are counted as C{Other}, so that it cannot create series.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from twisted.logger import Logger

#: The security events of the whitepaper's Appendix 1 ("Security Events",
#: edition 3) marked critical: the station pushes these to the central system.
CRITICAL_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
    }
)

#: Every security event type of Appendix 1 (the rest are not critical).
KNOWN_EVENTS = CRITICAL_EVENTS | frozenset(
    {
        "FailedToAuthenticateAtCentralSystem",
        "CentralSystemFailedToAuthenticate",
        "ReconfigurationOfSecurityParameters",
        "InvalidMessages",
        "AttemptedReplayAttacks",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCentralSystemCertificate",
        "InvalidChargePointCertificate",
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
    }
)

#: The outcomes of a SignCertificate counted.
SIGNING_OUTCOMES = ("signed", "rejected", "failed")


class SecurityWatch:
    """
    Counts the security events and certificate signings; logs the critical
    events. Register it in the service's Prometheus registry (it is a collector).
    """

    _log = Logger()

    def __init__(self) -> None:
        self._events: dict[str, int] = {}
        self.signing: dict[str, int] = dict.fromkeys(SIGNING_OUTCOMES, 0)

    def event(self, identity: str, payload: dict[str, Any]) -> None:
        """Note one SecurityEventNotification C{payload} from C{identity}."""
        kind = payload.get("type", "")
        label = kind if kind in KNOWN_EVENTS else "Other"
        self._events[label] = self._events.get(label, 0) + 1
        if kind in CRITICAL_EVENTS:
            self._log.warn(
                "Critical security event {type} from {identity} at {timestamp}: {tech_info}",
                type=kind,
                identity=identity,
                timestamp=payload.get("timestamp"),
                tech_info=payload.get("techInfo", ""),
            )

    def signed(self, outcome: str) -> None:
        """Count one SignCertificate outcome (one of L{SIGNING_OUTCOMES})."""
        self.signing[outcome] = self.signing.get(outcome, 0) + 1

    def collect(self) -> Iterator[Metric]:
        """The metric families (called on each scrape)."""
        events = CounterMetricFamily(
            "ocppcs_security_events",
            "SecurityEventNotifications from stations, by type.",
            labels=["type"],
        )
        for kind, count in sorted(self._events.items()):
            events.add_metric([kind], count)
        yield events
        signing = CounterMetricFamily(
            "ocppcs_certificate_signing",
            "SignCertificate requests: signed (CertificateSigned sent), rejected (a CSR"
            " refused), failed (accepted but the CA could not sign or send it).",
            labels=["outcome"],
        )
        for outcome, count in self.signing.items():
            signing.add_metric([outcome], count)
        yield signing
