"""
Reference baseline for the benchmarks: Twisted + Autobahn answering canned replies.

Serves C{ws://HOST:PORT/ocpp/<identity>}, accepts subprotocol C{ocpp1.6} and
answers every CALL with a fixed CALLRESULT (BootNotification
C{{"status":"Accepted","currentTime":...,"interval":60}}, Heartbeat
C{{"currentTime":...}}, anything else C{{}}), without validation or storage.
It shows what the stack itself costs and that the load generator is not the
bottleneck. Plain epoll reactor, one thread.

C{--ping-interval} makes Autobahn ping every connection (and drop those that
don't answer); C{--probe-call} sends each station one CALL
(GetLocalListVersion) after its BootNotification and counts the CALLERRORs
that come back. Totals are printed to stderr on shutdown (SIGINT/SIGTERM)::

    .venv/bin/python bench/canned_server.py --port 9220
"""

from __future__ import annotations

import argparse
import resource
import sys
from datetime import UTC, datetime
from typing import Any

from twisted.internet import epollreactor

epollreactor.install()

import orjson  # noqa: E402
from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.internet.task import LoopingCall  # noqa: E402


class Canned:
    """The canned reply bodies (refreshed every second) and the server's counters."""

    def __init__(self, probe_call: bool) -> None:
        self.probe_call = probe_call
        self.boot = b""
        self.heartbeat = b""
        self.other = b"{}]"
        self.calls = 0
        self.connections = 0
        self.open = 0
        self.probe_errors = 0
        self.probe_results = 0
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the replies that carry C{currentTime}."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.boot = orjson.dumps({"status": "Accepted", "currentTime": now, "interval": 60}) + b"]"
        self.heartbeat = orjson.dumps({"currentTime": now}) + b"]"

    def summary(self) -> str:
        """One line of totals."""
        return (
            f"canned_server: {self.connections} connections ({self.open} open), "
            f"{self.calls} calls answered, probe replies: {self.probe_errors} CALLERROR, "
            f"{self.probe_results} CALLRESULT"
        )


class CannedProtocol(WebSocketServerProtocol):
    """One station connection: every CALL gets its canned CALLRESULT."""

    canned: Canned
    drop = False
    opened = False

    def onConnect(self, request: ConnectionRequest) -> str | None:
        path = request.path
        if not path.startswith("/ocpp/") or len(path) <= len("/ocpp/"):
            raise ConnectionDeny(404, "not an OCPP endpoint")
        if "ocpp1.6" in request.protocols:
            return "ocpp1.6"
        self.drop = True  # no supported subprotocol: complete the handshake, then close
        return None

    def onOpen(self) -> None:
        if self.drop:
            self.sendClose(1002, "subprotocol ocpp1.6 required")
            return
        self.opened = True
        self.canned.connections += 1
        self.canned.open += 1

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        if self.opened:
            self.canned.open -= 1

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        try:
            msg = orjson.loads(payload)
            typ = msg[0]
            uid = msg[1]
        except (orjson.JSONDecodeError, TypeError, IndexError, KeyError):
            return
        canned = self.canned
        if typ != 2:
            if typ == 4:
                canned.probe_errors += 1
            elif typ == 3:
                canned.probe_results += 1
            return
        canned.calls += 1
        action = msg[2]
        if action == "Heartbeat":
            body = canned.heartbeat
        elif action == "BootNotification":
            body = canned.boot
        else:
            body = canned.other
        self.sendMessage(b"[3," + orjson.dumps(uid) + b"," + body)
        if canned.probe_call and action == "BootNotification":
            self.sendMessage(b'[2,"probe-1","GetLocalListVersion",{}]')


def main(argv: list[str] | None = None) -> int:
    """Parse options, listen, run the reactor."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--port", type=int, default=9220)
    p.add_argument("--interface", default="127.0.0.1")
    p.add_argument("--backlog", type=int, default=50, help="listen backlog (Twisted's default)")
    p.add_argument("--ping-interval", type=float, default=0.0, help="seconds; 0 = no pings")
    p.add_argument("--ping-timeout", type=float, default=10.0)
    p.add_argument("--probe-call", action="store_true", help="send each station one CALL")
    args = p.parse_args(argv)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    canned = Canned(args.probe_call)
    factory = WebSocketServerFactory(f"ws://{args.interface}:{args.port}")
    factory.protocol = CannedProtocol
    CannedProtocol.canned = canned
    options: dict[str, Any] = {"tcpNoDelay": True}
    if args.ping_interval > 0:
        options.update(autoPingInterval=args.ping_interval, autoPingTimeout=args.ping_timeout)
    factory.setProtocolOptions(**options)
    LoopingCall(canned.refresh).start(1.0, now=False)
    port = reactor.listenTCP(  # type: ignore[attr-defined]
        args.port, factory, backlog=args.backlog, interface=args.interface
    )
    reactor.addSystemEventTrigger(  # type: ignore[attr-defined]
        "before", "shutdown", lambda: print(canned.summary(), file=sys.stderr, flush=True)
    )
    host = port.getHost()
    print(f"canned_server listening on ws://{host.host}:{host.port}/ocpp/", flush=True)
    reactor.run()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
