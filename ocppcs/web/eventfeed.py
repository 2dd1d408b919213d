# -*- test-case-name: tests.web.test_eventfeed -*-
"""
The station event feed for the web UI: what changes a station's state, as
it happens, over WebSocket (the same machinery as the log feed,
L{ocppcs.web.logfeed}, with its C{identity} filter and slow-reader limit).

    ws://HOST:PORT/ws/events[?identity=CP1&identity=CP2]

One JSON text message per event, each with C{type}, C{identity} and C{ts}:

    {"type": "connection", "online": true|false, "address": "127.0.0.1:5000",
     "protocol": "JSON"|"SOAP", "ocppVersion": "1.6"|"1.5"}
    {"type": "status", "connectorId", "status", "errorCode", "info"?}     StatusNotification
    {"type": "meter", "connectorId", "transactionId"?, "energy", "power"} MeterValues (Wh, W;
                                                                            null if not sampled)
    {"type": "boot"}                                 a BootNotification was answered
    {"type": "transaction", "action": "StartTransaction"|"StopTransaction",
     "transactionId"?}                               a transaction started or stopped (answered)

Station messages are reported as they arrive; boots and transactions once
the central system answered them (so the REST API already shows them).
"""

from __future__ import annotations

from typing import Any

import orjson

from ocppcs.backends.interface import FrameRecord
from ocppcs.channel import StationChannel
from ocppcs.framelog import FrameFanout
from ocppcs.isotime import iso_time
from ocppcs.locator import Live
from ocppcs.soap.frames import json_payload
from ocppcs.stations import StationRegistry
from ocppcs.web.api_views import address, protocol
from ocppcs.web.logfeed import MAX_BUFFER, LogFeed, LogFeedFactory, LogFeedResource

_PATHS = ("/ws/events", "/ws/events/")
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
_SCALE = {"kWh": 1000.0, "kW": 1000.0}


def meter_reading(payload: dict[str, Any]) -> tuple[float | None, float | None]:
    """The last energy register (Wh) and active import power (W) of a MeterValues payload."""
    energy = power = None
    for meter_value in payload.get("meterValue") or ():
        for sampled in meter_value.get("sampledValue") or ():
            if sampled.get("phase"):
                continue
            measurand = sampled.get("measurand", ENERGY)
            if measurand not in (ENERGY, POWER):
                continue
            try:
                number = float(sampled["value"]) * _SCALE.get(sampled.get("unit", ""), 1.0)
            except (KeyError, TypeError, ValueError):
                continue
            if measurand == ENERGY:
                energy = number
            else:
                power = number
    return energy, power


def encode_event(record: FrameRecord) -> bytes | None:
    """The event a frame makes, or C{None} for a frame that changes nothing shown."""
    kind, action, inbound = record.message_type, record.action, record.direction == "in"
    if inbound and kind == 2 and action in ("StatusNotification", "MeterValues"):
        index = 3
    elif not inbound and kind == 3 and action in ("BootNotification", "StartTransaction"):
        index = 2
    elif not inbound and kind == 3 and action == "StopTransaction":
        index = 2
    else:
        return None
    raw = record.raw
    if raw[:1] == b"<":  # an OCPP-S message
        payload = json_payload(raw)
    else:
        try:
            payload = orjson.loads(raw)[index]
        except (orjson.JSONDecodeError, IndexError, KeyError, TypeError):
            return None
    if not isinstance(payload, dict):
        return None
    event: dict[str, Any] = {"identity": record.identity, "ts": iso_time(record.ts)}
    if action == "StatusNotification":
        event["type"] = "status"
        for name in ("connectorId", "status", "errorCode", "info"):
            if name in payload:
                event[name] = payload[name]
    elif action == "MeterValues":
        energy, power = meter_reading(payload)
        event.update(
            type="meter", connectorId=payload.get("connectorId"), energy=energy, power=power
        )
        if "transactionId" in payload:
            event["transactionId"] = payload["transactionId"]
    elif action == "BootNotification":
        event["type"] = "boot"
    else:
        event.update(type="transaction", action=action)
        if "transactionId" in payload:
            event["transactionId"] = payload["transactionId"]
    return orjson.dumps(event)


def connection_event(session: StationChannel, online: bool, now: float) -> bytes:
    """The event of a station connecting or disconnecting (with its protocol and version)."""
    return orjson.dumps(
        {
            "type": "connection",
            "identity": session.identity,
            "ts": iso_time(now),
            "online": online,
            "address": address(None, Live.of(session)),
            **protocol(None, Live.of(session)),
        }
    )


def build_event_feed(
    reactor: Any,
    frames: FrameFanout,
    registry: StationRegistry,
    max_buffer: int = MAX_BUFFER,
    close_timeout: float = 5.0,
) -> LogFeedResource:
    """
    Build the C{/ws/events} resource: fed by C{frames} (while it has
    subscribers) and by C{registry}'s connections and disconnections.
    """
    feed = LogFeed(max_buffer, frames, encode=encode_event)

    def connected(session: StationChannel, online: bool) -> None:
        if feed.subscriber_count:
            feed.publish(session.identity, connection_event(session, online, reactor.seconds()))

    registry.connection_observers.append(connected)
    return LogFeedResource(LogFeedFactory(feed, reactor, close_timeout, paths=_PATHS))
