"""C{[cluster]}: its keys, errors naming section and key, and the node's name."""

from __future__ import annotations

import os
import socket

import pytest

from ocppcs.cluster.config import ClusterConfig, node_of
from ocppcs.config import ConfigError, parse_config


def test_keys_are_parsed() -> None:
    config = parse_config("[cluster]\nenable = true\nnode = A-1\nheartbeat = 0.5\nmissed = 4\n")
    assert config.cluster == ClusterConfig(enable=True, node="A-1", heartbeat=0.5, missed=4)
    assert config.cluster.dead_after == 2.0
    assert parse_config("").cluster == ClusterConfig()


@pytest.mark.parametrize(
    "text, key",
    [
        ("enable = maybe", "enable"),
        ("heartbeat = 0", "heartbeat"),
        ("missed = 0", "missed"),
        ("node = " + "x" * 201, "node"),
        ("nodes = A", "nodes"),
    ],
)
def test_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(f"[cluster]\n{text}\n")
    assert error.value.path == ("cluster", key)
    assert f"'cluster.{key}'" in str(error.value)


def test_node_name() -> None:
    host = socket.gethostname()
    assert node_of(ClusterConfig(node="N"), ("tcp:9220",)) == "N"
    assert node_of(ClusterConfig(), ("tcp:9220:interface=0.0.0.0",)) == f"{host}:9220"
    assert node_of(ClusterConfig(), ("unix:/tmp/s", "tcp6:9300")) == f"{host}:9300"
    assert node_of(ClusterConfig(), ("tcp:0:interface=127.0.0.1",)) == f"{host}:p{os.getpid()}"
