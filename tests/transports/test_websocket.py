"""Tests for the station path rules of L{ocppcs.transports.websocket}."""

from __future__ import annotations

import pytest

from ocppcs.transports.stationpath import BadStationPath, parse_station_path


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/ocpp/CP1", ("CP1", "")),
        ("/ocpp/CP1/", ("CP1", "")),
        ("/ocpp/CP1/acme", ("CP1", "acme")),
        ("/ocpp/CP%201", ("CP 1", "")),
        ("/ocpp/" + "x" * 48, ("x" * 48, "")),
    ],
)
def test_valid_paths(path: str, expected: tuple[str, str]) -> None:
    """Identity and optional account come from the path, percent-decoded."""
    assert parse_station_path(path) == expected


@pytest.mark.parametrize(
    "path, status",
    [
        ("/ocpp/", 400),
        ("/ocpp/" + "x" * 49, 400),
        ("/ocpp/CP%0A1", 400),
        ("/ocpp/CP%FF", 400),
        ("/ocpp/a/b/c", 404),
        ("/other/CP1", 404),
    ],
)
def test_invalid_paths(path: str, status: int) -> None:
    """Empty, too long or unprintable identities and wrong paths are refused."""
    with pytest.raises(BadStationPath) as info:
        parse_station_path(path)
    assert info.value.status == status
