"""
The human-readable text of a C{loadgen.py} report (C{--json} prints the
report itself instead).
"""

from __future__ import annotations

from typing import Any


def format_report(r: dict[str, Any]) -> str:
    """Human-readable lines for a report."""
    lines = [
        f"stations: {r['connected']} connected, {r['booted']} booted of "
        f"{r['stations_requested']} ({r['connect_failed']} failed, ramp {r['ramp_s']} s)"
        + (f"  errors: {r['connect_errors']}" if r["connect_errors"] else ""),
    ]
    if r["mode"] == "load":
        lat = r["latency_ms"]
        lines += [
            f"window: {r['window_s']} s after {r['warmup_s']} s warm-up; "
            f"{r['connected_at_end']} still connected",
            f"calls: {r['calls']} completed = {r['calls_per_s']:.0f} calls/s "
            f"({r['results']} results, {r['errors']} errors, {r['timeouts']} timeouts)",
            "by action: " + ", ".join(f"{k} {v}" for k, v in r["by_action"].items()),
            f"latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  "
            f"max {lat['max']}  mean {lat['mean']}",
            f"generator CPU: {r['generator_cpu_s']} s = {r['generator_cpu_pct']}% of one core; "
            f"machine busy {r['machine_cpu_busy_pct']}% (all cores)",
        ]
    else:
        lines += [
            f"idle hold: {r['hold_s']} s; connected {r['connected_at_start_of_hold']} at start, "
            f"{r['connected_at_end']} at end; {r['pings_answered']} pings answered; "
            f"generator CPU {r['generator_cpu_pct']}%",
        ]
    if "server_pid" in r and "server_rss_mb" in r:
        extra = (
            f", {r['server_rss_kb_per_connection']} KB/connection"
            if "server_rss_kb_per_connection" in r
            else ""
        )
        lines.append(
            f"server pid {r['server_pid']} with its worker processes: "
            f"CPU {r['server_cpu_pct']}% of one core; RSS "
            f"{r['server_rss_mb']} MB (before {r['server_rss_mb_before']}, peak "
            f"{r['server_rss_peak_mb']}){extra}"
        )
    oddities = {
        k: r[k]
        for k in (
            "subprotocol_rejected",
            "boot_not_accepted",
            "boot_timeouts",
            "disconnects",
            "unexpected_replies",
            "bad_frames",
            "error_codes",
            "server_calls_answered",
        )
        if r.get(k)
    }
    if oddities:
        lines.append(f"other: {oddities}")
    return "\n".join(lines)
