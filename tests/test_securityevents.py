"""L{ocppcs.securityevents}: critical events logged as warnings, every event counted by type."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from twisted.logger import LogLevel, capturedLogs

from ocppcs.securityevents import SecurityWatch


def test_critical_events_are_warnings_and_all_are_counted() -> None:
    watch = SecurityWatch()
    with capturedLogs() as events:
        watch.event("CP1", {"type": "TamperDetectionActivated", "timestamp": "t", "techInfo": "x"})
        watch.event("CP1", {"type": "InvalidMessages", "timestamp": "t"})
        watch.event("CP1", {"type": "Invented", "timestamp": "t"})
    warnings = [e for e in events if e["log_level"] == LogLevel.warn]
    assert [(e["type"], e["identity"], e["tech_info"]) for e in warnings] == [
        ("TamperDetectionActivated", "CP1", "x")
    ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(watch)
    text = generate_latest(registry).decode()
    assert 'ocppcs_security_events_total{type="TamperDetectionActivated"} 1.0' in text
    assert 'ocppcs_security_events_total{type="InvalidMessages"} 1.0' in text
    assert 'ocppcs_security_events_total{type="Other"} 1.0' in text
    assert 'ocppcs_certificate_signing_total{outcome="failed"} 0.0' in text
