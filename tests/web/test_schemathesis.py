"""
A property-based run of the OpenAPI document with schemathesis against the
real service: C{twistd ocppcs} in a subprocess on a free port, seeded with
stations, transactions, id tags and refusals through its own API and real
stations, with one station connected throughout that answers every command.

For every documented operation, generated requests (valid ones, and invalid
ones, which must be rejected with a 4xx) never get a 500, and every response
matches the document: status code, content type, headers and schema (the
5xx a command may answer, e.g. 503 for a station that is not connected, are
documented; no other route documents a 5xx). Then the same with path
parameters naming the seeded records, so that responses with data are
checked too, and commands reach a live station.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ocppcs.web import openapi
from tests.web.test_api_commands import COMMANDS

TWISTD = Path(sys.executable).parent / "twistd"
LISTENING = re.compile(r"Listening on IPv4Address\(type='TCP', host='127\.0\.0\.1', port=(\d+)\)")
READY = "Backend embedded ready"
WAIT = 20.0
#: Examples per operation and generation mode (more for a longer, deeper run).
EXAMPLES = int(os.environ.get("OCPPCS_SCHEMATHESIS_EXAMPLES", "15"))

SCHEMA = schemathesis.openapi.from_dict(openapi.document())
OPERATIONS = [
    (path, method.upper())
    for path, item in openapi.document()["paths"].items()
    for method in item
    if method in ("get", "put", "post", "delete")
]


def not_an_internal_error(ctx: Any, response: Any, case: Any) -> None:
    """
    No 500. The other 5xx of the commands (station not connected, no reply,
    an invalid reply) are outcomes the document lists, which
    C{status_code_conformance} checks; no other route documents a 5xx.
    """
    assert response.status_code != 500, f"500 from {case.operation.label}: {response.text}"


CHECKS = [
    not_an_internal_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Path parameters naming seeded records.
SEEDED = {"identity": ["CP1", "CP-LIVE", "CP-REJ"], "idTag": ["TAG1", "BADTAG"], "id": [1, 2]}

CONFIG = """\
[server]
listen = tcp:0:interface=127.0.0.1
call_timeout = 2
[central]
registration = known
authorization = list
[embedded]
path = {store}
"""


class Server:
    """C{twistd -n ocppcs} in a subprocess, its output collected by a thread."""

    def __init__(self, folder: Path) -> None:
        config = folder / "ocppcs.conf"
        config.write_text(CONFIG.format(store=folder / "store" / "ocppcs.sqlite3"), "utf-8")
        self.process = subprocess.Popen(
            [str(TWISTD), "-n", "--pidfile", str(folder / "twistd.pid"), "--logfile", "-"]
            + ["ocppcs", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=folder,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> int:
        """The port, once listening and the backend is ready."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            match = LISTENING.search(self.output)
            if match and READY in self.output:
                return int(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"twistd did not start:\n{self.output}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(WAIT)
        self._reader.join(WAIT)


def station(url: str, identity: str) -> ClientConnection:
    return connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], open_timeout=5)  # type: ignore[list-item]


def call(ws: ClientConnection, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps([2, str(time.monotonic_ns()), action, payload]))
    reply = json.loads(ws.recv(timeout=5))
    assert reply[0] == 3, reply
    return reply[2]


def answer_commands(ws: ClientConnection) -> None:
    """The live station: answer every command with a valid reply until closed."""
    try:
        while True:
            frame = json.loads(ws.recv())
            if frame[0] == 2:
                ws.send(json.dumps([3, frame[1], COMMANDS[frame[2]][1]]))
    except (ConnectionClosed, OSError, KeyError):
        return


def seed(base: str, url: str) -> None:
    """Stations, transactions, id tags, a reservation and refusals to look at."""
    with requests.Session() as http:
        for identity in ("CP1", "CP-LIVE"):
            assert http.put(f"{base}/ChargePoint/{identity}").status_code == 200
        http.put(f"{base}/IdTag/TAG1", json={"status": "Accepted"})
        http.put(f"{base}/IdTag/TAG2", json={"status": "Blocked", "expiryDate": "2030-01-01"})
    now = "2026-01-01T00:00:00Z"
    with station(url, "CP1") as ws:
        call(ws, "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
        for connector in (0, 1):
            status = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
            call(ws, "StatusNotification", status)
        call(ws, "FirmwareStatusNotification", {"status": "Installed"})
        call(ws, "DiagnosticsStatusNotification", {"status": "Uploaded"})
        start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 10, "timestamp": now}
        txn = call(ws, "StartTransaction", start)["transactionId"]
        sample = {"timestamp": now, "sampledValue": [{"value": "12", "unit": "Wh"}]}
        call(ws, "MeterValues", {"connectorId": 1, "transactionId": txn, "meterValue": [sample]})
        stop = {
            "transactionId": txn,
            "meterStop": 20,
            "timestamp": now,
            "transactionData": [sample],
        }
        call(ws, "StopTransaction", stop)
        call(ws, "StartTransaction", {**start, "meterStart": 20})
        call(ws, "Authorize", {"idTag": "BADTAG"})
    with station(url, "CP-REJ") as ws:
        call(ws, "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server]]:
    """The running service's API base URL; one live station answers commands throughout."""
    running = Server(tmp_path_factory.mktemp("schemathesis"))
    try:
        port = running.wait_ready()
        base, url = f"http://127.0.0.1:{port}/api/v1", f"ws://127.0.0.1:{port}/ocpp"
        seed(base, url)
        with station(url, "CP-LIVE") as live:
            call(live, "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "L"})
            answering = threading.Thread(target=answer_commands, args=(live,), daemon=True)
            answering.start()
            reservation = {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "TAG1"}
            with requests.Session() as http:
                reply = http.post(
                    f"{base}/ChargePoint/CP-LIVE/ReserveNow",
                    json={**reservation, "reservationId": 7},
                )
            assert reply.status_code == 200, reply.text
            try:
                yield base, running
            finally:
                live.close()
                answering.join(WAIT)
    finally:
        running.stop()


def run(base: str, operation: Any, mode: GenerationMode, examples: int, **strategy: Any) -> None:
    session = requests.Session()
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, **strategy))
    def test(case: Any) -> None:
        case.call_and_validate(base_url=base, session=session, checks=checks, timeout=10)

    try:
        test()
    except Unsatisfiable:
        # Nothing in this operation's request can be made invalid (e.g. no parameters).
        assert mode == GenerationMode.NEGATIVE
    finally:
        session.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_generated(
    server: tuple[str, Server], path: str, method: str, mode: GenerationMode
) -> None:
    """Generated requests: never a 5xx; every response as documented."""
    run(server[0], SCHEMA[path][method], mode, EXAMPLES)


SEEDED_OPERATIONS = [
    (path, method, name, value)
    for path, method in OPERATIONS
    for name, values in SEEDED.items()
    if "{" + name + "}" in path
    for value in values
]


@pytest.mark.parametrize(("path", "method", "name", "value"), SEEDED_OPERATIONS)
def test_seeded(server: tuple[str, Server], path: str, method: str, name: str, value: Any) -> None:
    """Requests about seeded records (and commands to the live station): as documented."""
    operation = SCHEMA[path][method]
    run(
        server[0],
        operation,
        GenerationMode.POSITIVE,
        max(EXAMPLES // 3, 1),
        path_parameters={name: value},
    )


def test_no_tracebacks(server: tuple[str, Server]) -> None:
    """Nothing the requests did made the server log a traceback."""
    assert "Traceback" not in server[1].output, server[1].output
