# -*- test-case-name: tests.test_tap,tests.soap.test_station,tests.cluster.test_config -*-
"""
The optional parts of a central system, built for L{ocppcs.service}: the
OCPP-S Central System service, the emulated stations, this node of a
cluster; and the URL the emulated stations reach this process at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address

from ocppcs.backends.interface import IRecord
from ocppcs.backends.select import check_writable
from ocppcs.cluster.config import node_of
from ocppcs.cluster.node import ClusterNode
from ocppcs.config import Config, ConfigError
from ocppcs.confighold import ConfigHolder
from ocppcs.emulator.service import EmulatorService
from ocppcs.framelog import FrameFanout
from ocppcs.listeners import ListenerService
from ocppcs.ocppj.schemas import SchemaSet
from ocppcs.soap.service import CentralSystemSoap
from ocppcs.soap.station import SoapStations
from ocppcs.stationauth import StationAuth
from ocppcs.stations import StationRegistry
from ocppcs.tlslisten import is_tls
from ocppcs.v16.central import CentralSystem


def build_soap(
    config: Config,
    reactor: Any,
    central: CentralSystem,
    registry: StationRegistry,
    backend: IRecord,
    schemas: SchemaSet,
    frames: FrameFanout,
    station_auth: StationAuth | None = None,
) -> CentralSystemSoap:
    """The OCPP-S Central System service at C{/Ocpp} (L{ocppcs.soap.service})."""
    stations = SoapStations(
        registry,
        backend,
        reactor,
        schemas,
        config.central.heartbeat_interval,
        config.server.call_timeout,
    )
    return CentralSystemSoap(
        reactor,
        central,
        registry,
        stations,
        schemas,
        frames,
        config.server.soap_max_body,
        station_auth=station_auth,
    )


def build_emulator(
    config: Config | ConfigHolder, reactor: Any, listeners: list[ListenerService] | None = None
) -> EmulatorService:
    """
    The emulated stations of C{config} (not started). With C{listeners} and
    no C{[emulator] url}, they connect to this central system's first TCP
    listener instead of their C{CentralSystemURL}.
    """
    holder = config if isinstance(config, ConfigHolder) else ConfigHolder(config)
    config = holder.current
    check_writable(config.emulator.state, ("emulator", "state"))
    if not Path(config.emulator.path).is_dir():
        raise ConfigError(f"{config.emulator.path} is not a folder", ("emulator", "path"))
    url: Any = config.emulator.url
    if not url and listeners is not None:
        url = lambda: own_url(listeners)  # noqa: E731 - read once the listeners are up
    return EmulatorService(
        config.emulator, reactor, call_timeout=config.server.call_timeout, url=url
    )


def build_cluster(config: Config, reactor: Any, registry: StationRegistry) -> ClusterNode | None:
    """This node of the cluster on C{[postgres]}, with C{[cluster] enable} (not started)."""
    if not config.cluster.enable:
        return None
    from ocppcs.backends.postgres.conninfo import conninfo

    node = node_of(config.cluster, config.server.listen)
    dsn = conninfo(config.postgres, application_name=f"ocppcs-cluster {node}")
    return ClusterNode(reactor, config.cluster, dsn, registry, config.server.call_timeout, node)


def first_tcp_address(listeners: list[ListenerService], plain: bool = False) -> Any:
    """
    The address of the first TCP listener (C{host}, C{port}), or C{None} if
    none; with C{plain}, of the first one without TLS.
    """
    for listener in listeners:
        if plain and is_tls(listener.description):
            continue
        port = listener.port
        host = port.getHost() if port is not None else None
        if isinstance(host, IPv4Address | IPv6Address) and host.type == "TCP":
            return host
    return None


def own_url(listeners: list[ListenerService]) -> str:
    """C{ws://127.0.0.1:PORT/ocpp} of the first plain TCP listener, or C{""} if none."""
    host = first_tcp_address(listeners, plain=True)  # the emulated stations speak ws:// only
    if host is None:
        return ""
    loopback = "[::1]" if ":" in host.host else "127.0.0.1"
    return f"ws://{loopback}:{host.port}/ocpp"
