"""
The simulated stations of C{loadgen.py}: one picows L{WSListener} per charge
point (L{Station}) and the state and counters they share (L{Generator}).

A station keeps exactly one CALL in flight, walking a precomputed random
sequence of actions drawn from C{--mix}; it answers server pings with pongs
and server CALLs with a CALLERROR NotSupported, and times each reply from
send to reply with C{time.perf_counter_ns}.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

ACTIONS = ("heartbeat", "metervalues", "statusnotification")
ACTION_NAMES = ("Heartbeat", "MeterValues", "StatusNotification")
STATUSES = ("Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
BOOT_PAYLOAD = {"chargePointVendor": "Bench", "chargePointModel": "Load"}
SCHEDULE_LEN = 4096  # a power of two: stations walk a precomputed random action sequence

_TEXT = WSMsgType.TEXT
_PING = WSMsgType.PING
_CLOSE = WSMsgType.CLOSE
_perf_ns = time.perf_counter_ns


def iso_now() -> str:
    """The current UTC time as ISO 8601 with a C{Z} suffix, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_mix(text: str) -> dict[str, float]:
    """Parse C{heartbeat=1,metervalues=2} into weights; unknown actions raise ValueError."""
    weights = dict.fromkeys(ACTIONS, 0.0)
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name not in weights:
            raise ValueError(f"unknown action {name!r} (known: {', '.join(ACTIONS)})")
        weight = float(value) if value.strip() else 1.0
        if weight < 0:
            raise ValueError(f"negative weight for {name}")
        weights[name] = weight
    if sum(weights.values()) <= 0:
        raise ValueError("the mix needs at least one positive weight")
    return weights


class Generator:
    """Shared state and counters of all stations."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.idle: bool = args.idle
        weights = parse_mix(args.mix)
        rng = random.Random(args.seed)
        self.schedule: list[int] = rng.choices(
            range(len(ACTIONS)), weights=[weights[a] for a in ACTIONS], k=SCHEDULE_LEN
        )
        self.timeout_ns = int(args.call_timeout * 1e9)
        # --rate: each station sends at most one CALL every interval_ns (open-loop pacing).
        self.interval_ns = int(args.stations / args.rate * 1e9) if args.rate else 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.measuring = False
        self.stopping = False
        self.stations: list[Station] = []
        self.active: set[Station] = set()
        self.hb_body = b'"Heartbeat",{}]'
        self.mv_body = b""
        self.sn_bodies = [
            b'"StatusNotification",'
            + orjson.dumps({"connectorId": 1, "errorCode": "NoError", "status": s})
            + b"]"
            for s in STATUSES
        ]
        self.boot_body = b'"BootNotification",' + orjson.dumps(BOOT_PAYLOAD) + b"]"
        self.refresh_time()
        # counters over the whole run
        self.connected = 0
        self.connect_failed = 0
        self.connect_errors: Counter[str] = Counter()
        self.subprotocol_rejected = 0
        self.booted = 0
        self.boot_not_accepted: Counter[str] = Counter()
        self.boot_failed = 0
        self.disconnects = 0
        self.pings = 0
        self.server_calls = 0
        self.unexpected = 0
        self.bad_frames = 0
        self.error_codes: Counter[str] = Counter()
        self.total_timeouts = 0
        # --storm: stations not Accepted yet retry (boot resent on timeout, reconnect when lost)
        self.storm: bool = getattr(args, "storm", False)
        self.boot_retries = 0
        self.accepted_ns: list[int] = []  # perf_counter_ns of each BootNotification Accepted
        self.opened_ns: list[int] = []  # perf_counter_ns of each WebSocket opened
        self.on_lost: Callable[[Station], None] | None = None
        # --start-together: booted stations wait here until the ramp is over
        self.held: list[Station] | None = [] if getattr(args, "start_together", False) else None
        # counters of the measured window
        self.latencies: list[int] = []
        self.results = 0
        self.errors = 0
        self.timeouts = 0
        self.by_action = [0] * len(ACTIONS)

    def refresh_time(self) -> None:
        """Rebuild the MeterValues body with the current timestamp."""
        payload = {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": iso_now(),
                    "sampledValue": [
                        {
                            "value": "1234.5",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                        {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
                    ],
                }
            ],
        }
        self.mv_body = b'"MeterValues",' + orjson.dumps(payload) + b"]"

    def sweep_timeouts(self) -> None:
        """Give up on calls older than C{--call-timeout}; the station moves on."""
        now = _perf_ns()
        limit = self.timeout_ns
        for st in list(self.active):
            if st.pending is not None and now - st.sent_at > limit:
                st.pending = None
                self.total_timeouts += 1
                if st.booting:
                    if self.storm and not self.stopping:
                        self.boot_retries += 1
                        st.boot()
                        continue
                    st.booting = False
                    self.boot_failed += 1
                    continue
                if self.measuring:
                    self.timeouts += 1
                if not self.stopping:
                    st.send_next()


class Station(WSListener):
    """One simulated charge point: at most one CALL in flight."""

    __slots__ = (
        "gen",
        "index",
        "transport",
        "pending",
        "pending_kind",
        "sent_at",
        "seq",
        "sched_pos",
        "status_pos",
        "booting",
        "due",
    )

    def __init__(self, gen: Generator, index: int) -> None:
        super().__init__()
        self.gen = gen
        self.index = index
        self.transport: WSTransport | None = None
        self.pending: str | None = None
        self.pending_kind = -1
        self.sent_at = 0
        self.seq = 0
        self.sched_pos = (index * 7919) & (SCHEDULE_LEN - 1)
        self.status_pos = index % len(STATUSES)
        self.booting = False
        # Spread the stations' phases over one interval.
        self.due = _perf_ns() + (gen.interval_ns * index // max(gen.args.stations, 1))

    def on_ws_connected(self, transport: WSTransport) -> None:
        gen = self.gen
        self.transport = transport
        if transport.response.headers.get("Sec-WebSocket-Protocol") != "ocpp1.6":
            gen.subprotocol_rejected += 1
            transport.send_close(WSCloseCode.PROTOCOL_ERROR)
            transport.disconnect()
            return
        gen.connected += 1
        gen.opened_ns.append(_perf_ns())
        gen.active.add(self)
        self.boot()

    def boot(self) -> None:
        """Send the BootNotification (again)."""
        self.booting = True
        self._send(-1, self.gen.boot_body)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        gen = self.gen
        if self in gen.active:
            gen.active.discard(self)
            if not gen.stopping:
                gen.disconnects += 1
                if self.booting and gen.on_lost is not None:
                    gen.on_lost(self)
        self.pending = None

    def _send(self, kind: int, body: bytes) -> None:
        self.seq += 1
        uid = str(self.seq)
        self.pending = uid
        self.pending_kind = kind
        self.sent_at = _perf_ns()
        self.transport.send(_TEXT, b'[2,"' + uid.encode() + b'",' + body)  # type: ignore[union-attr]

    def next_call(self) -> None:
        """Send the next CALL now, or at its due time under C{--rate}."""
        gen = self.gen
        if not gen.interval_ns:
            self.send_next()
            return
        now = _perf_ns()
        self.due = max(self.due + gen.interval_ns, now)
        delay = (self.due - now) / 1e9
        if delay > 0 and gen.loop is not None:
            gen.loop.call_later(delay, self._send_if_open)
        else:
            self.send_next()

    def _send_if_open(self) -> None:
        if self.transport is not None and self in self.gen.active and not self.gen.stopping:
            self.send_next()

    def send_next(self) -> None:
        """Send the next CALL of the mix."""
        gen = self.gen
        kind = gen.schedule[self.sched_pos]
        self.sched_pos = (self.sched_pos + 1) & (SCHEDULE_LEN - 1)
        if kind == 0:
            body = gen.hb_body
        elif kind == 1:
            body = gen.mv_body
        else:
            body = gen.sn_bodies[self.status_pos]
            self.status_pos = (self.status_pos + 1) % len(STATUSES)
        self._send(kind, body)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        now = _perf_ns()
        gen = self.gen
        mt = frame.msg_type
        if mt != _TEXT:
            if mt == _PING:
                transport.send_pong(frame.get_payload_as_bytes())
                gen.pings += 1
            elif mt == _CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
            return
        try:
            msg = orjson.loads(frame.get_payload_as_memoryview())
            typ = msg[0]
            uid = msg[1]
        except (orjson.JSONDecodeError, TypeError, IndexError, KeyError):
            gen.bad_frames += 1
            return
        if typ == 2:
            gen.server_calls += 1
            action = msg[2] if len(msg) > 2 else "?"
            transport.send(
                _TEXT,
                orjson.dumps([4, uid, "NotSupported", f"bench station does not do {action}", {}]),
            )
            return
        if uid != self.pending or typ not in (3, 4):
            gen.unexpected += 1
            return
        self.pending = None
        if typ == 4:
            gen.error_codes[str(msg[2]) if len(msg) > 2 else "?"] += 1
        if self.booting:
            self.booting = False
            status = msg[2].get("status") if typ == 3 and isinstance(msg[2], dict) else None
            if status == "Accepted":
                gen.booted += 1
                gen.accepted_ns.append(now)
            else:
                gen.boot_not_accepted[str(status) if typ == 3 else "CALLERROR"] += 1
                return  # a station not accepted stays quiet
            if gen.idle or gen.stopping:
                return
            if gen.held is not None:
                gen.held.append(self)
                return
        elif gen.measuring:
            gen.latencies.append(now - self.sent_at)
            gen.by_action[self.pending_kind] += 1
            if typ == 3:
                gen.results += 1
            else:
                gen.errors += 1
        if not gen.stopping:
            self.next_call()
