"""
The human-readable text of a C{loadgen.py} report (C{--json} prints the
report itself instead).
"""

from __future__ import annotations

from typing import Any


def format_report(r: dict[str, Any]) -> str:
    """Human-readable lines for a report."""
    if r["mode"] == "storm":
        return "\n".join(storm_lines(r) + server_lines(r))
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
        if r.get("server_main_cpu_us_per_call"):
            idle = 100 - r["server_main_cpu_pct"] - r["server_main_waited_for_cpu_pct"]
            lines.append(
                f"server process alone (no workers): CPU {r['server_main_cpu_pct']}% of one core, "
                f"{r['server_main_cpu_us_per_call']} µs per call; runnable but waiting for a CPU "
                f"{r.get('server_main_waited_for_cpu_pct')}% of the window, so idle (nothing to "
                f"do) about {max(0.0, idle):.0f}%"
            )
    else:
        lines += [
            f"idle hold: {r['hold_s']} s; connected {r['connected_at_start_of_hold']} at start, "
            f"{r['connected_at_end']} at end; {r['pings_answered']} pings answered; "
            f"generator CPU {r['generator_cpu_pct']}%",
        ]
    return "\n".join(lines + server_lines(r))


def storm_lines(r: dict[str, Any]) -> list[str]:
    """The lines of a C{--storm} report."""
    acc, opened = r["storm_accepted_ms"], r["storm_open_ms"]
    since = (
        f"; {r['storm_listen_to_all_accepted_s']} s after the listener opened "
        f"(first attempt {r['storm_listen_to_first_attempt_s']} s after it)"
        if "storm_listen_to_all_accepted_s" in r
        else ""
    )
    if not r["storm_all_accepted"]:
        since += " (time up: not all were Accepted)"
    net = {k[8:]: v for k, v in r.items() if k.startswith("machine_")}
    return [
        f"storm: {r['storm_accepted']} of {r['storm_stations']} Accepted in {r['storm_s']} s "
        f"from the first connect attempt{since}",
        f"time to Accepted ms: p50 {acc['p50']}  p90 {acc['p90']}  p99 {acc['p99']}  "
        f"p100 {acc['p100']}; WebSocket open: p50 {opened['p50']}  p90 {opened['p90']}  "
        f"p100 {opened['p100']}",
        f"attempts {r['storm_attempts']}, failed connects retried {r['storm_connect_retries']}, "
        f"reconnects {r['storm_reconnects']}, BootNotifications resent {r['storm_boot_resent']}; "
        f"generator CPU {r['storm_generator_cpu_s']} s; machine TCP counters: {net}"
        + (f"  errors: {r['connect_errors']}" if r["connect_errors"] else ""),
    ]


def server_lines(r: dict[str, Any]) -> list[str]:
    """The server's CPU and memory, and anything unusual."""
    lines: list[str] = []
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
    return lines
