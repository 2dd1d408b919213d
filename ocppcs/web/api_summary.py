# -*- test-case-name: tests.web.test_api_ui -*-
"""
REST routes for the operator web UI (L{ocppcs.web.ui}), usable by any client:

    GET /api/v1/Summary[?hours=N][&stations=false]
                                        the dashboard: counts, energy, every station
                                        (stations=false: counts and energy only)
    GET /api/v1/Schema/{Operation}      the official OCPP 1.6 request schema of a command

The summary covers the first C{[api] max_page_size} stations; C{chargingNow}
counts every open transaction. Its energy
figures come from the transactions started in the window (and the day
before it): a finished transaction's energy is spread evenly over its
duration, a running one's is its last energy register reading minus its
C{meterStart}, spread likewise up to now.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from twisted.web.iweb import IRequest

from ocppcs.backends.views import MeterValueView
from ocppcs.v16.actions import CENTRAL_CALLS
from ocppcs.web import api_views as views
from ocppcs.web.api_base import ApiBase, app
from ocppcs.web.http import ApiError, int_arg, iso_time, json_body, parse_time, query_args

#: The default and largest C{hours} of the energy chart.
DEFAULT_HOURS = 12
MAX_HOURS = 72
#: The measurand of a sampled value that has none (OCPP 1.6, 7.31).
ENERGY = "Energy.Active.Import.Register"


@cache
def command_schema(operation: str) -> bytes:
    """The official request schema of C{operation} (one of the 19), as shipped by C{ocpp}."""
    return files("ocpp.v16.schemas").joinpath(f"{operation}.json").read_bytes()


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parse_time(text, "timestamp").timestamp()
    except ApiError:
        return None


def last_energy(meter_values: list[MeterValueView]) -> float | None:
    """The last energy register reading of C{meter_values}, in Wh, or C{None}."""
    reading = None
    for value in meter_values:
        if (value.measurand or ENERGY) != ENERGY or value.phase:
            continue
        try:
            number = float(value.value)
        except (TypeError, ValueError):
            continue
        reading = number * 1000 if value.unit == "kWh" else number
    return reading


def spread(
    bins: list[float], first: float, width: float, start: float, stop: float, wh: float
) -> None:
    """Add C{wh}, delivered evenly over [start, stop], to the bins from C{first}."""
    if wh <= 0:
        return
    if stop <= start:
        stop = start + 1
    rate = wh / (stop - start)
    for i in range(len(bins)):
        low, high = first + i * width, first + (i + 1) * width
        overlap = min(high, stop) - max(low, start)
        if overlap > 0:
            bins[i] += rate * overlap


class SummaryRoutes(ApiBase):
    """The dashboard summary and the command schemas."""

    @app.route("/v1/Schema/<operation>", methods=["GET"])
    def schema(self, request: IRequest, operation: str) -> bytes:
        """The official JSON schema (draft-04) of a command's request payload."""
        query_args(request, set())
        if operation not in CENTRAL_CALLS:
            raise ApiError(
                404, f"No command {operation!r}: one of {', '.join(sorted(CENTRAL_CALLS))}"
            )
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Cache-Control", b"max-age=3600")
        return command_schema(operation)

    @app.route("/v1/Summary", methods=["GET"])
    async def summary(self, request: IRequest) -> bytes:
        """Counts for the dashboard, hourly energy, and every station with its connectors."""
        args = query_args(request, {"hours", "stations"})
        hours = int_arg(args, "hours", DEFAULT_HOURS, 1, MAX_HOURS)
        with_stations = args.get("stations", "true")
        if with_stations not in ("true", "false"):
            raise ApiError(400, "stations must be true or false")
        store = self.store()
        limit = self.config.api.max_page_size if with_stations == "true" else 1
        total, rows = await store.station_page(limit, 0)
        if with_stations == "false":
            rows = []
        stations = []
        live = await self.locator.live(row.identity for row in rows)
        for row in rows:
            detail = await store.station_detail(row.identity)
            if detail is not None:
                entry = views.station_detail(detail, live.get(row.identity))
                stations.append(entry)
        statuses: Counter[str] = Counter()
        for station in stations:
            for connector in station["connectors"]:
                if connector["connectorId"] > 0 and connector.get("status"):
                    statuses[connector["status"]] += 1
        now = self.clock.seconds()
        width = 3600.0
        first = (now // width - hours + 1) * width
        bins = [0.0] * hours
        midnight = datetime.fromtimestamp(now, UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        today = [0.0]
        since = min(first, midnight.timestamp()) - 86400
        await self._energy(bins, first, width, today, midnight.timestamp(), since, now)
        # Every open transaction, also one started before the energy window.
        charging = await store.count_open_transactions()
        if with_stations == "true":
            online = sum(1 for s in stations if s["online"])
        else:
            online = min(total, await self.locator.online_count())
        body: dict[str, Any] = {
            "serverTime": iso_time(now),
            "stations": {"total": total, "online": online, "offline": total - online},
            "chargingNow": charging,
            "energyToday": round(today[0], 1),
            "energyByHour": [
                {"hour": iso_time(first + i * width), "energy": round(v, 1)}
                for i, v in enumerate(bins)
            ],
        }
        if with_stations == "true":
            body["connectors"] = dict(sorted(statuses.items()))
            body["Stations"] = stations
        return json_body(request, body)

    async def _energy(
        self,
        bins: list[float],
        first: float,
        width: float,
        today: list[float],
        midnight: float,
        since: float,
        now: float,
    ) -> None:
        """Fill the hourly C{bins} and C{today} from the transactions started since C{since}."""
        store = self.store()
        limit = self.config.api.max_page_size
        date_from = iso_time(since)
        _, rows = await store.transaction_page(None, date_from, None, limit, 0)
        for row in rows:
            start = _seconds(row.start_timestamp)
            if start is None:
                continue
            if row.meter_stop is not None:
                stop = _seconds(row.stop_timestamp) or start
                wh = float(row.meter_stop - row.meter_start)
            else:
                detail = await store.transaction_detail(row.id)
                reading = last_energy(detail.meter_values or [] if detail else [])
                stop = now
                wh = 0.0 if reading is None else reading - row.meter_start
            spread(bins, first, width, start, stop, wh)
            spread(today, midnight, now - midnight + 1, start, stop, wh)
