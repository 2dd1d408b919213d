# -*- test-case-name: tests.transports.test_limits,tests.integration.test_limits -*-
"""
Limits that keep one client from hurting the others (C{[server]}):

  - L{ConnectionCounts}: open station connections in total
    (C{max_connections}) and from one source address
    (C{max_connections_per_address}); the station endpoint refuses the
    upgrade beyond them with 503 (total) or 429 (per address), recorded as
    a refused connection of kind C{limit} and counted in C{/metrics};
  - L{MessageRate}: a token bucket per station connection: on average
    C{message_rate} messages per second, in bursts of up to
    C{message_burst}. A CALL beyond it gets a C{GenericError} CALLERROR
    saying so (nothing of it is processed or stored); after
    C{rate_close_after} refused in a row the connection is closed with
    1008 (policy violation).

The limits are read from the configuration in force each time they are
checked, so a reload changes them for every station at once.
"""

from __future__ import annotations

from collections.abc import Callable

from ocppcs.config import ServerConfig

#: The close code for a station that keeps sending too fast (RFC 6455, 7.4.1: policy violation).
RATE_CLOSE_CODE = 1008


class ConnectionCounts:
    """Open connections, in total and by source address."""

    def __init__(self) -> None:
        self.total = 0
        self._by_address: dict[str, int] = {}

    def of(self, address: str) -> int:
        """How many connections from C{address} are open."""
        return self._by_address.get(address, 0)

    def refusal(self, server: ServerConfig, address: str) -> tuple[int, str] | None:
        """The HTTP status and reason to refuse one more connection from C{address}, or C{None}."""
        if server.max_connections and self.total >= server.max_connections:
            return 503, f"Too many connections: this central system takes {server.max_connections}"
        limit = server.max_connections_per_address
        if limit and self.of(address) >= limit:
            return 429, f"Too many connections from {address}: at most {limit}"
        return None

    def opened(self, address: str) -> None:
        """Count one more connection from C{address}."""
        self.total += 1
        self._by_address[address] = self._by_address.get(address, 0) + 1

    def closed(self, address: str) -> None:
        """Count one connection from C{address} less."""
        self.total -= 1
        left = self._by_address.get(address, 0) - 1
        if left > 0:
            self._by_address[address] = left
        else:
            self._by_address.pop(address, None)


def host_of(peer: str) -> str:
    """The address part of an Autobahn peer (C{tcp4:127.0.0.1:5000} -> C{127.0.0.1})."""
    kind, _, rest = peer.partition(":")
    if kind in ("tcp4", "tcp6") and ":" in rest:
        return rest.rsplit(":", 1)[0]
    return peer


class MessageRate:
    """
    The token bucket of one station connection.

    @param server: gives the C{[server]} section in force (rate, burst, close_after).
    @param now: the clock's time in seconds.
    @ivar refused: messages refused in a row (back to 0 once one is allowed).
    """

    __slots__ = ("_last", "_now", "_server", "_tokens", "refused")

    def __init__(self, server: Callable[[], ServerConfig], now: Callable[[], float]) -> None:
        self._server = server
        self._now = now
        self._tokens = float(server().message_burst)
        self._last = now()
        self.refused = 0

    def allow(self) -> bool:
        """Whether one more message may be handled now (it takes a token)."""
        server = self._server()
        rate = server.message_rate
        if not rate:
            return True
        now = self._now()
        tokens = min(float(server.message_burst), self._tokens + (now - self._last) * rate)
        self._last = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            self.refused = 0
            return True
        self._tokens = tokens
        self.refused += 1
        return False

    @property
    def abusive(self) -> bool:
        """Whether C{rate_close_after} messages were refused in a row: time to close."""
        return self.refused >= self._server().rate_close_after

    def description(self) -> str:
        """The CALLERROR's description for a refused message."""
        server = self._server()
        return (
            f"Message rate exceeded: at most {server.message_rate:g} messages/s"
            f" (bursts of {server.message_burst}); retry later"
        )
