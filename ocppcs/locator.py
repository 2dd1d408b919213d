# -*- test-case-name: tests.test_locator,tests.web.test_api_commands -*-
"""
Where a station is connected, and the one way to call it wherever it is.

    locator.call(identity, action, payload, timeout) -> Deferred[reply payload]

A station is connected to this process (the L{StationRegistry}), to
another node of the cluster (L{IRemoteNodes}, see L{ocppcs.cluster}), or
nowhere: then the record tells an unknown station (L{UnknownStation}) from
an offline one (L{StationOffline}). Every failure is one of the
L{ocppcs.callerrors} exceptions, the same whichever node holds the station.

The follow-up bookkeeping of accepted commands (reservations) is done
above this, by L{ocppcs.followup.Commands}; REST, the web UI (through
REST) and SOAP call stations through that.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol

from twisted.internet.defer import Deferred, succeed

from ocppcs.callerrors import StationCallFailed
from ocppcs.channel import StationChannel
from ocppcs.stations import StationRegistry


class Live(NamedTuple):
    """
    A station's live connection, on this node or another.

    @ivar address: the station's peer address (as the transport reports it).
    @ivar account: the account of its connection URL, or C{""}.
    @ivar node: the cluster node holding the connection, or C{None} when the
        central system is not a cluster.
    @ivar transport: C{"json"} (OCPP-J) or C{"soap"} (OCPP-S), as the channel's.
    @ivar version: the OCPP version it speaks (C{"1.6"}, C{"1.5"}).
    """

    address: str
    account: str
    node: str | None = None
    transport: str = "json"
    version: str = "1.6"

    @classmethod
    def of(cls, channel: StationChannel, node: str | None = None) -> Live:
        """The live connection of a channel held by this process."""
        return cls(channel.address, channel.account, node, channel.transport, channel.version)


class Moved(StationCallFailed):
    """
    The node that was to hold the station no longer has it (it reconnected
    elsewhere, or just disconnected): look it up again. Raised by
    L{IRemoteNodes.call} only; never leaves L{StationLocator.call}.
    """

    def __init__(self, identity: str, action: str, node: str) -> None:
        super().__init__(identity, action, f"Charge point '{identity}' is no longer on {node}")
        self.node = node


class IRemoteNodes(Protocol):
    """The other nodes of a cluster, as the locator uses them."""

    #: This node's name.
    node: str

    def call(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float | None
    ) -> Deferred[dict[str, Any] | None]:
        """
        Have the live node other than this one that holds C{identity} call
        it: the reply payload, or C{None} when no other live node holds it.
        Fails like L{StationRegistry.call}; with L{Moved} when that node no
        longer had the station, with L{ocppcs.callerrors.StationDisconnected}
        when that node is gone before it answered.
        """

    def live(self, identities: list[str]) -> Deferred[dict[str, Live]]:
        """The stations among C{identities} connected to live other nodes."""

    def online_count(self) -> Deferred[int]:
        """How many stations are connected to live other nodes."""


#: How many times a call follows a station that moved while it was routed.
MAX_MOVES = 2


class StationLocator:
    """
    Finds the connection of a station (this process, another node, nowhere)
    and calls it there.

    @param registry: this process's connections; it also answers for a
        station connected nowhere (from the record).
    @param remote: the other nodes of the cluster, or C{None} on one node.
    """

    def __init__(self, registry: StationRegistry, remote: IRemoteNodes | None = None) -> None:
        self.registry = registry
        self.remote = remote

    @property
    def node(self) -> str | None:
        """This node's name in the cluster, or C{None} on one node."""
        return self.remote.node if self.remote is not None else None

    def call(
        self,
        identity: str,
        action: str,
        payload: dict[str, Any],
        timeout: float | None = None,
    ) -> Deferred[dict[str, Any]]:
        """
        Send a central-system-initiated OCPP 1.6 command to a station,
        wherever it is connected; see L{StationRegistry.call}.

        @return: a Deferred firing with the station's reply payload.
        """
        if self.remote is None or identity in self.registry:
            return self.registry.call(identity, action, payload, timeout)
        return Deferred.fromCoroutine(self._route(identity, action, payload, timeout))

    async def _route(
        self, identity: str, action: str, payload: dict[str, Any], timeout: float | None
    ) -> dict[str, Any]:
        remote = self.remote
        assert remote is not None
        for _ in range(MAX_MOVES + 1):
            if identity in self.registry:
                break
            try:
                reply = await remote.call(identity, action, payload, timeout)
            except Moved:
                continue
            if reply is None:
                break
            return reply
        return await self.registry.call(identity, action, payload, timeout)

    def local(self, identity: str) -> Live | None:
        """The connection of C{identity} to this process, or C{None}."""
        session = self.registry.get(identity)
        if session is None:
            return None
        return Live.of(session, self.node)

    def live(self, identities: Iterable[str]) -> Deferred[dict[str, Live]]:
        """
        The live connections of the stations among C{identities} (to this
        process or another node), by identity.
        """
        wanted = list(identities)
        here = {i: live for i in wanted if (live := self.local(i)) is not None}
        remote = self.remote
        elsewhere = [i for i in wanted if i not in here]
        if remote is None or not elsewhere:
            return succeed(here)

        def merge(there: dict[str, Live]) -> dict[str, Live]:
            return {**there, **here}

        return remote.live(elsewhere).addCallback(merge)

    def online_count(self) -> Deferred[int]:
        """How many stations are connected, to this node or any other."""
        count = len(self.registry)
        if self.remote is None:
            return succeed(count)
        return self.remote.online_count().addCallback(lambda there: there + count)
