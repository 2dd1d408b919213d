"""
Micro-benchmark of reading one inbound frame (L{ocppcs.ocppj.frames.parse}):
what the depth check (L{ocppcs.ocppj.jsontext.too_deep}) adds on the hot path
to orjson's own parsing, for the frames of the load generator's mix and for a
MeterValues batch replayed after an outage.

    .venv/bin/python bench/frames_bench.py [--old PATH/TO/frames.py]

C{--old} also times another version of C{frames.py} (e.g. one extracted with
C{git show REV:ocppcs/ocppj/frames.py}) on the same frames. Prints the best
of several runs, in µs per frame.
"""

from __future__ import annotations

import argparse
import importlib.util
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson

from ocppcs.ocppj import frames, jsontext

SAMPLE = {"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}


def meter_values(readings: int, samples: int) -> bytes:
    return orjson.dumps(
        [
            2,
            "m1",
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 42,
                "meterValue": [
                    {"timestamp": "2026-12-03T08:00:00Z", "sampledValue": [SAMPLE] * samples}
                ]
                * readings,
            },
        ]
    )


FRAMES = {
    "Heartbeat": b'[2,"h1","Heartbeat",{}]',
    "StatusNotification": orjson.dumps(
        [
            2,
            "s1",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        ]
    ),
    "MeterValues, 3 samples": meter_values(1, 3),
    "MeterValues, 10 x 8 samples": meter_values(10, 8),
    "MeterValues, 1,000 x 8 (replay)": meter_values(1000, 8),
}


def best(fn: Callable[[], Any], number: int) -> float:
    """µs per call, the best of 7 runs of C{number} calls."""
    return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    options.add_argument("--old", help="another frames.py to time on the same frames")
    args = options.parse_args()
    old = None
    if args.old:
        spec = importlib.util.spec_from_file_location("old_frames", args.old)
        assert spec is not None and spec.loader is not None
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
    print(f"{'frame':34} {'bytes':>8} {'orjson':>9} {'too_deep':>9} {'parse':>9} {'old parse':>10}")
    for name, data in FRAMES.items():
        number = 200 if len(data) > 100_000 else 20_000
        value = orjson.loads(data)
        row = [
            best(partial(orjson.loads, data), number),
            best(partial(jsontext.too_deep, data, value), number),
            best(partial(frames.parse, data), number),
        ]
        old_parse = f"{best(partial(old.parse, data), number):10.2f}" if old else f"{'-':>10}"
        print(f"{name:34} {len(data):8} {row[0]:9.2f} {row[1]:9.2f} {row[2]:9.2f} {old_parse}")


if __name__ == "__main__":
    main()
