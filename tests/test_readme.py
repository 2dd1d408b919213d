"""
The README's examples work as printed after C{scripts/run}: every C{curl}
command of its code blocks is run, in order, against the real C{twistd
ocppcs --config conf/ocppcs.conf} (on a free port, in a copy of C{conf}, only
C{localhost:9220} rewritten) once the example stations are Accepted, and
answers 2xx with a sensible body; the remote start it shows ends up charging.
Its Python example calls a real example station.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater

from ocppcs.config import load_config
from ocppcs.service import build_central_system
from tests.emulator.test_twistd_demo import EXAMPLES, _get, _online
from tests.integration.conftest import aio
from tests.integration.test_restart import LISTENING, spawn

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
#: Where the README's commands send their requests (scripts/run's listener).
PRINTED = re.compile(r"^(?:http://)?localhost:9220(?=/)")
#: Seconds the README's remote start may take to charge (its demo driver plugs in after 3).
CHARGES_WITHIN = 15.0


def code_lines(text: str) -> list[str]:
    """The lines of the Markdown code blocks (indented or fenced), continuations joined."""
    lines: list[str] = []
    fenced = False
    for raw in text.splitlines():
        if raw.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or raw.startswith("    "):
            line = raw.strip()
            if lines and lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1].rstrip() + " " + line
            elif line:
                lines.append(line)
    return lines


@dataclass
class Curl:
    """One curl command line, as curl would send it."""

    line: str
    method: str = "GET"
    url: str = ""
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_curl(line: str) -> Curl:
    """The request C{line} makes (the options the README may use: -X, -d, -H, -s, -S)."""
    words = shlex.split(line)
    assert words[0] == "curl", line
    curl = Curl(line)
    rest = iter(words[1:])
    for word in rest:
        if word in ("-X", "--request"):
            curl.method = next(rest)
        elif word in ("-d", "--data"):
            curl.data = next(rest).encode()
            if curl.method == "GET":
                curl.method = "POST"
            curl.headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif word in ("-H", "--header"):
            name, _, value = next(rest).partition(":")
            curl.headers[name.strip()] = value.strip()
        elif word in ("-s", "-S", "-sS", "--silent"):
            pass
        elif word.startswith("-"):
            raise AssertionError(f"README: curl option {word} is not supported here: {line}")
        else:
            assert not curl.url, f"README: two URLs in {line}"
            curl.url = word
    assert PRINTED.match(curl.url), f"README: not a localhost:9220 URL: {line}"
    return curl


def readme_curls() -> list[Curl]:
    """Every curl command of the README, in order."""
    curls = [
        parse_curl(line)
        for line in code_lines(README.read_text("utf-8"))
        if line.startswith("curl ")
    ]
    assert curls, "no curl command in README.md"
    return curls


def test_readme_commands_parse() -> None:
    """Every README curl line is understood; the stations it names are the example ones."""
    named = set()
    for curl in readme_curls():
        named |= set(re.findall(r"/(?:ChargePoint|Station)/([^/]+)", curl.url))
    assert named and named <= EXAMPLES, named


def check_body(curl: Curl, status: int, body: Any) -> None:
    """A sensible answer for what C{curl} asked."""
    where = curl.line
    assert 200 <= status < 300, (where, status, body)
    assert not (isinstance(body, dict) and "error" in body), (where, body)
    path = PRINTED.sub("", curl.url)
    if re.fullmatch(r"/api/v1/ChargePoint/[^/]+/\w+", path):  # a command to a station
        assert body.get("status") == "Accepted", (where, body)
    elif path == "/api/v1/ChargePointList":
        assert {s["identity"] for s in body} >= EXAMPLES, (where, body)
    elif m := re.fullmatch(r"/api/v1/ChargePoint/([^/]+)", path):
        assert body["identity"] == m.group(1), (where, body)
    elif path.endswith("List") and isinstance(body, dict):
        assert isinstance(body[path.rsplit("/", 1)[1]], list), (where, body)
    elif m := re.fullmatch(r"/api/v1/Emulator/Station/([^/]+)(/\w+)?", path):
        identity = body.get("identity") or body.get("connector", {}).get("identity")
        assert identity in (None, m.group(1)) and body, (where, body)


async def run_curl(curl: Curl, base: str) -> tuple[int, Any]:
    """Send C{curl}'s request to C{base} instead of localhost:9220; the status and the body."""
    url = PRINTED.sub(base, curl.url)
    headers = {k: [v] for k, v in curl.headers.items()}
    response = await treq.request(
        curl.method, url, data=curl.data, headers=headers, persistent=False
    )
    content = await response.content()
    kind = (response.headers.getRawHeaders("Content-Type") or [""])[0]
    return response.code, orjson.loads(content) if "json" in kind else content.decode()


async def _charging(api: str, identity: str, connector_id: int) -> bool:
    station = await _get(f"{api}/Emulator/Station/{identity}")
    [connector] = [c for c in station["connectors"] if c["connectorId"] == connector_id]
    return bool(connector["status"] == "Charging")


@pytest_twisted.ensureDeferred
async def test_readme_commands_work_as_printed(tmp_path: Path) -> None:
    """Every curl line of the README, in order, against scripts/run's configuration."""
    curls = readme_curls()
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    args = ("--config", "conf/ocppcs.conf", "--listen", "tcp:0:interface=127.0.0.1")
    twistd = await aio(spawn(tmp_path, *args))
    try:
        port = int((await aio(twistd.wait_for_output(LISTENING))).group(1))
        base = f"http://127.0.0.1:{port}"
        api = f"{base}/api/v1"
        assert await _online(api) == EXAMPLES
        for curl in curls:
            status, body = await run_curl(curl, base)
            check_body(curl, status, body)
        # the README's remote start charges (its example station's demo driver plugs in)
        [remote] = [c for c in curls if c.url.endswith("/RemoteStartTransaction")]
        identity = remote.url.split("/")[-2]
        connector_id = orjson.loads(remote.data or b"{}")["connectorId"]
        deadline = reactor.seconds() + CHARGES_WITHIN
        while not await _charging(api, identity, connector_id):
            assert reactor.seconds() < deadline, f"{identity} did not charge after {remote.line}"
            await deferLater(reactor, 0.1, lambda: None)
        await aio(twistd.terminate())
    finally:
        await aio(twistd.kill())


def python_examples() -> list[str]:
    """The README's Python lines that call a station."""
    lines = code_lines(README.read_text("utf-8"))
    return [line for line in lines if line.startswith("d = service.commands.call(")]


@pytest_twisted.ensureDeferred
async def test_readme_python_example_calls_a_real_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    The README's C{service.commands.call(...)}, run as printed on the service
    C{conf/ocppcs.conf} builds (port 0, in a copy of C{conf}), gets the
    station's reply.
    """
    [example] = python_examples()
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    config = load_config("conf/ocppcs.conf")
    server = dataclasses.replace(config.server, listen=("tcp:0:interface=127.0.0.1",))
    config = dataclasses.replace(config, server=server)
    service = build_central_system(config, reactor)
    service.startService()
    try:
        await service.ready
        emulator = service.emulator
        assert emulator is not None
        await emulator.ready
        deadline = reactor.seconds() + 15
        while not all(s.online for s in emulator.stations.values()):
            assert reactor.seconds() < deadline, "the example stations did not come online"
            await deferLater(reactor, 0.05, lambda: None)
        namespace: dict[str, Any] = {"service": service}
        exec(example, namespace)  # noqa: S102 - the README's own example
        assert await namespace["d"] == {"status": "Accepted"}
    finally:
        await service.stopService()
