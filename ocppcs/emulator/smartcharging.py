# -*- test-case-name: tests.emulator.test_smartcharging -*-
"""
The smart-charging store of an emulated charge point (OCPP 1.6 Smart
Charging feature profile, sections 3.13, 5.6, 5.7, 5.16 and 7.x).

Profiles are kept as the OCPP-J C{csChargingProfiles} dicts the central
system sent; times are parsed on use into aware UTC datetimes.

SetChargingProfile answers C{Rejected} for: an unknown connector (0, the
station itself, is always known); C{ChargePointMaxProfile} off connector 0;
C{TxProfile} on connector 0, with no transaction on the connector, or with
another C{transactionId}; C{stackLevel} outside 0..C{max_stack_level}; an
unknown purpose, kind or recurrency, a Recurring profile without
C{recurrencyKind} or C{startSchedule}, an unreadable time, C{validFrom} not
before C{validTo}; a unit not allowed; no periods or more than
C{max_periods}, a first period not at 0, starts not strictly increasing, a
negative limit; more than C{max_profiles} profiles once installed.

Composition at one instant, for connector C{c > 0}::

    TxProfile on c (highest valid stackLevel; only while a transaction runs)
      else TxDefaultProfile on c (highest valid stackLevel)
      else TxDefaultProfile on 0 (highest valid stackLevel)
    min(that, ChargePointMaxProfile on 0 (highest valid stackLevel))
    nothing at all -> the connector's maximum

The ChargePointMaxProfile limits the station as a whole: the station takes
each connector's own limit (L{ChargingProfiles.connector_limit_watts}) and
splits the station's (L{ChargingProfiles.station_limit_watts}) across its
connectors with L{share_station_limit}. A Relative ChargePointMaxProfile,
belonging to no transaction, is read as starting at the instant it is looked
at, so its first period holds for as long as it is valid.
L{ChargingProfiles.next_change} says when to look again. The composite
schedule itself is built by L{ocppcs.emulator.composite}.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ocppcs.emulator.composite import composite_schedule
from ocppcs.emulator.schedules import (  # noqa: F401 - format_time, parse_time, share_station_limit re-exported
    CP_MAX,
    PURPOSES,
    TX,
    TX_DEFAULT,
    as_utc,
    breakpoints,
    check_profile,
    first_change,
    first_period,
    first_valid,
    fixed_points,
    format_time,
    in_watts,
    is_recurring,
    parse_time,
    period_key,
    share_station_limit,
)
from ocppcs.emulator.spec import ConnectorSpec


class ChargingProfiles:
    """Installed charging profiles of one station, by connector, purpose and stack level."""

    def __init__(
        self,
        connector_ids: Sequence[int],
        max_stack_level: int = 8,
        max_profiles: int = 20,
        allowed_units: Sequence[str] = ("A", "W"),
        max_periods: int = 48,
        installed: list[dict[str, Any]] | None = None,
    ) -> None:
        """
        @param connector_ids: the station's connectors (1, 2, ...); 0 is implied.
        @param max_stack_level: C{ChargeProfileMaxStackLevel}.
        @param max_profiles: C{MaxChargingProfilesInstalled}.
        @param allowed_units: C{ChargingScheduleAllowedChargingRateUnit}, as C{"A"}/C{"W"}.
        @param max_periods: C{ChargingScheduleMaxPeriods}.
        @param installed: profiles from L{to_json}, restored without checks.
        """
        self._connector_ids = list(connector_ids)
        self._known = {0, *self._connector_ids}
        self._max_stack_level = max_stack_level
        self._max_profiles = max_profiles
        self._allowed_units = tuple(allowed_units)
        self._max_periods = max_periods
        self._installed: list[tuple[int, dict[str, Any]]] = [
            (entry["connectorId"], copy.deepcopy(entry["csChargingProfiles"]))
            for entry in installed or []
        ]

    def set(
        self, connector_id: int, profile: dict[str, Any], active_transaction_id: int | None
    ) -> str:
        """
        Install a profile (SetChargingProfile), replacing the one with the same
        C{chargingProfileId} and the one with the same connector, purpose and
        C{stackLevel}.

        @param connector_id: the request's C{connectorId}.
        @param profile: the request's C{csChargingProfiles}.
        @param active_transaction_id: the transaction running on the connector, if any.
        @return: C{"Accepted"} or C{"Rejected"} (never C{"NotSupported"}: the
            station says that when it lacks the SmartCharging feature profile).
        """
        if connector_id not in self._known:
            return "Rejected"
        if not check_profile(
            profile, self._max_stack_level, self._allowed_units, self._max_periods
        ):
            return "Rejected"
        purpose = profile["chargingProfilePurpose"]
        if purpose == CP_MAX and connector_id != 0:
            return "Rejected"
        if purpose == TX and (
            connector_id == 0
            or active_transaction_id is None
            or profile.get("transactionId", active_transaction_id) != active_transaction_id
        ):
            return "Rejected"
        kept = [
            (c, p)
            for c, p in self._installed
            if p["chargingProfileId"] != profile["chargingProfileId"]
            and (c, p["chargingProfilePurpose"], p["stackLevel"])
            != (connector_id, purpose, profile["stackLevel"])
        ]
        if len(kept) >= self._max_profiles:
            return "Rejected"
        self._installed = [*kept, (connector_id, copy.deepcopy(profile))]
        return "Accepted"

    def clear(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> str:
        """
        Remove profiles (ClearChargingProfile).

        @param profile_id: remove this profile only, whatever the other criteria say.
        @param connector_id: else remove those on this connector (0: the station's own).
        @param purpose: ... with this purpose.
        @param stack_level: ... at this stack level. C{None} criteria match anything.
        @return: C{"Accepted"} when at least one was removed, else C{"Unknown"}.
        """

        def matches(c: int, p: dict[str, Any]) -> bool:
            if profile_id is not None:
                return p["chargingProfileId"] == profile_id
            return (
                connector_id in (None, c)
                and purpose in (None, p["chargingProfilePurpose"])
                and stack_level in (None, p["stackLevel"])
            )

        kept = [(c, p) for c, p in self._installed if not matches(c, p)]
        removed = len(kept) < len(self._installed)
        self._installed = kept
        return "Accepted" if removed else "Unknown"

    def transaction_ended(self, connector_id: int) -> None:
        """
        Drop the TxProfiles of a connector: they hold for one transaction only.

        @param connector_id: where the transaction ended.
        """
        self._installed = [
            (c, p)
            for c, p in self._installed
            if not (c == connector_id and p["chargingProfilePurpose"] == TX)
        ]

    def _on(self, connector_id: int, purpose: str) -> list[dict[str, Any]]:
        """The profiles on C{connector_id} with C{purpose}, highest C{stackLevel} first."""
        found = [
            p
            for c, p in self._installed
            if c == connector_id and p["chargingProfilePurpose"] == purpose
        ]
        return sorted(found, key=lambda p: -p["stackLevel"])

    def _layers(self, connector_id: int, active: bool) -> list[list[dict[str, Any]]]:
        """The profile groups that choose a connector's limit, in order of precedence."""
        layers = [self._on(connector_id, TX)] if active else []
        layers.append(self._on(connector_id, TX_DEFAULT))
        if connector_id != 0:
            layers.append(self._on(0, TX_DEFAULT))
        return layers

    def _tx_period(
        self, connector_id: int, t: datetime, origin: datetime, active: bool
    ) -> tuple[str, dict[str, Any]] | None:
        """The C{(unit, period)} of the connector's own profiles at C{t}, as L{first_period}."""
        for group in self._layers(connector_id, active):
            found = first_period(group, t, origin)
            if found is not None:
                return found
        return None

    def _limit_at(
        self, connector_id: int, t: datetime, origin: datetime, active: bool, spec: ConnectorSpec
    ) -> tuple[float, int] | None:
        """The composite limit at C{t} as C{(watts, phases)}; C{None} when no profile applies."""
        chosen = in_watts(self._tx_period(connector_id, t, origin, active), spec)
        cap = first_valid(self._on(0, CP_MAX), t, origin, spec)
        limits = [limit for limit in (chosen, cap) if limit is not None]
        return min(limits, key=lambda limit: limit[0]) if limits else None

    def composite(
        self,
        connector_id: int,
        duration: int,
        unit: str | None,
        now: datetime,
        transaction_start: datetime | None,
        spec_by_connector: Mapping[int, ConnectorSpec],
    ) -> dict[str, Any] | None:
        """
        The composite schedule (GetCompositeSchedule) from C{now} for C{duration} s.

        @param connector_id: the connector, or 0 for the station as a whole.
        @param unit: C{"A"}, C{"W"}, or C{None} for the connector's own (A for AC, W for DC).
        @param transaction_start: when the running transaction began; C{None} when none runs.
        @param spec_by_connector: the connectors' physical specs, by id.
        @return: the C{chargingSchedule} dict, or C{None} when the connector is
            unknown or the unit not allowed (the station then answers C{Rejected}).
        """
        if connector_id not in self._known:
            return None
        specs = [spec_by_connector[c] for c in self._connector_ids if c in spec_by_connector]
        spec = specs[0] if connector_id == 0 and specs else spec_by_connector.get(connector_id)
        if spec is None:
            return None
        unit = unit or ("W" if spec.current_type == "DC" else "A")
        if unit not in self._allowed_units:
            return None
        max_w = sum(s.max_power_w for s in specs) if connector_id == 0 else spec.max_power_w
        now = as_utc(now)
        active = transaction_start is not None
        origin = as_utc(transaction_start) if transaction_start is not None else now
        relevant = [p for group in self._layers(connector_id, active) for p in group]
        return composite_schedule(
            relevant + self._on(0, CP_MAX),
            lambda t: self._limit_at(connector_id, t, origin, active, spec),
            now,
            duration,
            origin,
            unit,
            spec,
            max_w,
        )

    def limit_watts(
        self,
        connector_id: int,
        now: datetime,
        transaction_start: datetime | None,
        spec: ConnectorSpec,
    ) -> float | None:
        """
        The lower of L{connector_limit_watts} and L{station_limit_watts} at C{now}.

        The station limit is the whole station's: a station with more than one
        connector charging must share it among them (L{share_station_limit})
        rather than let each draw up to this.

        @param transaction_start: when the running transaction began; C{None} when none runs.
        @param spec: the connector's physical spec (for A to W).
        @return: the limit in W, or C{None} when no profile applies or the connector is unknown.
        """
        if connector_id not in self._known:
            return None
        own = self.connector_limit_watts(connector_id, now, transaction_start, spec)
        limits = [w for w in (own, self.station_limit_watts(now, spec)) if w is not None]
        return min(limits) if limits else None

    def connector_limit_watts(
        self,
        connector_id: int,
        now: datetime,
        transaction_start: datetime | None,
        spec: ConnectorSpec,
    ) -> float | None:
        """
        The connector's own limit at C{now}: its TxProfile, else TxDefaultProfile
        (its own, else connector 0's), without the ChargePointMaxProfile.

        @param transaction_start: when the running transaction began (a Relative
            schedule starts then); C{None} when none runs: no TxProfile applies and
            a Relative schedule starts at C{now}.
        @param spec: the connector's physical spec (for A to W).
        @return: the limit in W, or C{None} when no profile applies or the connector is unknown.
        """
        if connector_id not in self._known:
            return None
        now = as_utc(now)
        active = transaction_start is not None
        origin = as_utc(transaction_start) if transaction_start is not None else now
        found = in_watts(self._tx_period(connector_id, now, origin, active), spec)
        return None if found is None else found[0]

    def station_limit_watts(self, now: datetime, spec: ConnectorSpec) -> float | None:
        """
        The whole station's limit at C{now}: its ChargePointMaxProfile (a Relative
        one starting at C{now}).

        @param spec: the spec to turn A into W with, normally the first connector's.
        @return: the limit in W, or C{None} when no ChargePointMaxProfile applies.
        """
        now = as_utc(now)
        found = first_valid(self._on(0, CP_MAX), now, now, spec)
        return None if found is None else found[0]

    def next_change(
        self, now: datetime, transaction_starts: Mapping[int, datetime | None]
    ) -> datetime | None:
        """
        When L{connector_limit_watts} of a connector or L{station_limit_watts}
        next changes: the first instant after C{now} at which one of them
        differs from its value at C{now}, for any spec.

        @param transaction_starts: the start of the transaction running on each
            connector, by id; a connector left out, or C{None}, has none.
        @return: that instant, strictly after C{now}; C{None} when, the profiles
            staying as they are, no limit ever changes.
        """
        now = as_utc(now)
        origins: dict[int, datetime | None] = {}
        for c in self._connector_ids:
            start = transaction_starts.get(c)
            origins[c] = None if start is None else as_utc(start)
        watched: list[tuple[dict[str, Any], datetime | None]] = [
            (p, None) for p in self._on(0, CP_MAX)
        ]
        for c, origin in origins.items():
            watched += [(p, origin) for g in self._layers(c, origin is not None) for p in g]

        def state(t: datetime) -> Hashable:
            own = tuple(
                period_key(self._tx_period(c, t, origin or t, origin is not None))
                for c, origin in origins.items()
            )
            return own, period_key(first_period(self._on(0, CP_MAX), t, t))

        def repeats(lo: datetime, hi: datetime) -> set[datetime]:
            return {
                point
                for profile, origin in watched
                if is_recurring(profile)
                for point in breakpoints(profile, lo, hi, origin or lo)
            }

        fixed = {
            point for profile, origin in watched for point in fixed_points(profile, now, origin)
        }
        return first_change(now, state, fixed, repeats)

    def to_json(self) -> list[dict[str, Any]]:
        """
        @return: the installed profiles as C{{"connectorId", "csChargingProfiles"}}
            dicts, for the C{installed} argument of a new store.
        """
        return [
            {"connectorId": c, "csChargingProfiles": copy.deepcopy(p)} for c, p in self._installed
        ]

    def profiles(self, connector_id: int | None = None) -> list[dict[str, Any]]:
        """
        @param connector_id: only those installed on this connector; C{None} for all.
        @return: the installed profiles like L{to_json}, by connector, purpose and stack level.
        """
        entries = [e for e in self.to_json() if connector_id in (None, e["connectorId"])]
        return sorted(
            entries,
            key=lambda e: (
                e["connectorId"],
                PURPOSES.index(e["csChargingProfiles"]["chargingProfilePurpose"]),
                e["csChargingProfiles"]["stackLevel"],
            ),
        )
