"""
The OCPP 1.6 security profiles (L{ocppcs.stationauth}) on a real central
system listening on plain TCP and on TLS (a throwaway CA, L{ocppcs.testca}),
with independent C{websockets} stations: profile 1 and 2 (HTTP Basic with
the AuthorizationKey set through the REST API, profile 2 over TLS only) and
profile 3 (client certificate whose CN is the identity). Every refusal is an
HTTP status before the upgrade, logged, counted in /metrics and listed in
the onboarding inbox.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.exceptions import InvalidMessage, InvalidStatus

from ocppcs.testca import TestCA
from tests.integration.conftest import aio, as_future
from tests.integration.rawstation import RawStation
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

#: A hex AuthorizationKey (the whitepaper's form): the password is its 16 bytes.
HEX_KEY = "00112233445566778899aabbccddeeff"
TEXT_KEY = "correct horse battery"


def basic(user: str, password: bytes | str) -> dict[str, str]:
    raw = password if isinstance(password, bytes) else password.encode()
    token = base64.b64encode(user.encode() + b":" + raw).decode()
    return {"Authorization": f"Basic {token}"}


class Secured:
    """A central system with a plain and a TLS listener, and the CA its TLS trusts."""

    def __init__(self, web: WebCentral, ca: TestCA, tmp: Path) -> None:
        self.web, self.ca, self.tmp = web, ca, tmp
        tls = web.service.listeners[1].port
        assert tls is not None
        self.tls_port = tls.getHost().port

    @property
    def ws(self) -> str:
        return self.web.station_url

    @property
    def wss(self) -> str:
        return f"wss://127.0.0.1:{self.tls_port}/ocpp"

    def context(self, client: str | None = None, ca: TestCA | None = None) -> ssl.SSLContext:
        """Verifies the server against the CA; with C{client}, presents its certificate."""
        context = ssl.create_default_context(cafile=str(self.ca.ca))
        if client is not None:
            cert, key = (ca or self.ca).client(client)
            context.load_cert_chain(str(cert), str(key))
        return context

    async def connects(self, url: str, identity: str, **kwargs: Any) -> None:
        """The station is upgraded and booted Accepted."""

        async def scenario() -> dict[str, Any]:
            station = await RawStation.connect(url, identity, **kwargs)
            try:
                return await station.boot()
            finally:
                await station.close()

        assert (await aio(scenario()))["status"] == "Accepted"

    async def refused(self, url: str, identity: str, **kwargs: Any) -> Any:
        """The HTTP response refusing the upgrade."""
        with pytest.raises(InvalidStatus) as refused:
            await aio(RawStation.connect(url, identity, **kwargs))
        return refused.value.response

    async def metric(self, name: str) -> str:
        response = await treq.get(f"http://127.0.0.1:{self.web.port}/metrics")
        return (await response.text()) if name else ""


@pytest_twisted.async_yield_fixture
async def secured(tmp_path: Path) -> AsyncIterator[Secured]:
    ca = TestCA(tmp_path / "ca")
    web = await start_web_central(
        tmp_path,
        server={"listen": ("tcp:0:interface=127.0.0.1", ca.listen(client_certificates=True))},
        security={
            "profile": 0,
            "profile_1": ("P1", "P1-NOKEY"),
            "profile_2": ("P2",),
            "profile_3": ("P3",),
        },
    )
    yield Secured(web, ca, tmp_path)
    await stop_web_central(web)


def refusal_count(metrics: str) -> int:
    found = re.search(r'ocppcs_refused_connections_total\{reason="auth"\} (\S+)', metrics)
    return int(float(found.group(1))) if found else 0


@pytest_twisted.ensureDeferred
async def test_profiles_1_and_2_basic_authentication(secured: Secured) -> None:
    api = secured.web.api
    for identity, key in (("P1", HEX_KEY), ("P2", TEXT_KEY)):
        reply = await api.put(f"/ChargePoint/{identity}/AuthorizationKey", {"key": key})
        assert reply.status == 200, reply.body
        assert reply.json == {"identity": identity, "stored": True, "changeConfiguration": None}

    # Profile 1: the hex key's bytes (as the OCTT sends them) or the hex text itself.
    await secured.connects(secured.ws, "P1", additional_headers=basic("P1", bytes.fromhex(HEX_KEY)))
    await secured.connects(secured.ws, "P1", additional_headers=basic("P1", HEX_KEY))
    wrong = await secured.refused(secured.ws, "P1", additional_headers=basic("P1", "x" * 16))
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith('Basic realm="ocpp"')
    assert wrong.reason_phrase == "security profile 1: wrong password"
    assert (await secured.refused(secured.ws, "P1")).status_code == 401
    other = basic("P2", TEXT_KEY)
    assert (await secured.refused(secured.ws, "P1", additional_headers=other)).status_code == 401
    nokey = basic("P1-NOKEY", HEX_KEY)
    assert (
        await secured.refused(secured.ws, "P1-NOKEY", additional_headers=nokey)
    ).status_code == 401

    # Profile 2: TLS only.
    right = basic("P2", TEXT_KEY)
    plain = await secured.refused(secured.ws, "P2", additional_headers=right)
    assert plain.status_code == 403 and "needs TLS" in plain.reason_phrase
    await secured.connects(secured.wss, "P2", additional_headers=right, ssl=secured.context())
    bad = basic("P2", TEXT_KEY + "!")
    tls_wrong = await secured.refused(
        secured.wss, "P2", additional_headers=bad, ssl=secured.context()
    )
    assert tls_wrong.status_code == 401
    # Profile 0 stations are not affected.
    await secured.connects(secured.ws, "P0")

    inbox = await api.get("/Onboarding/RefusedConnections", identity="P1")
    reasons = [e["reason"] for e in inbox.json["RefusedConnections"]]
    assert "security profile 1: wrong password" in reasons
    assert "security profile 1: no Basic credentials" in reasons
    assert "security profile 1: user 'P2' is not the identity" in reasons
    assert refusal_count(await secured.metric("refused")) == 6


@pytest_twisted.ensureDeferred
async def test_profile_3_client_certificates(secured: Secured) -> None:
    await secured.connects(secured.wss, "P3", ssl=secured.context(client="P3"))
    another = await secured.refused(secured.wss, "P3", ssl=secured.context(client="P1"))
    assert another.status_code == 403 and "for 'P1'" in another.reason_phrase
    none = await secured.refused(secured.wss, "P3", ssl=secured.context())
    assert none.status_code == 401 and "no client certificate" in none.reason_phrase
    assert (await secured.refused(secured.ws, "P3")).status_code == 403
    # A certificate from a CA the listener does not trust fails the TLS handshake
    # (with TLS 1.3 the client learns it once it reads: the connection ends).
    stranger = TestCA(secured.tmp / "stranger", "another CA")
    with pytest.raises((ssl.SSLError, InvalidMessage)):
        await secured.connects(secured.wss, "P3", ssl=secured.context("P3", stranger))
    inbox = await secured.web.api.get("/Onboarding/RefusedConnections", identity="P3")
    reasons = [e["reason"] for e in inbox.json["RefusedConnections"]]
    assert "security profile 3: the client certificate is for 'P1'" in reasons
    assert refusal_count(await secured.metric("refused")) == 3


class KeyStation(ChargePoint):
    """An C{ocpp} package station answering ChangeConfiguration with C{answer}."""

    answer = "Accepted"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changes: list[tuple[str, str]] = []

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> Any:
        self.changes.append((key, value))
        return call_result.ChangeConfiguration(status=self.answer)


@pytest_twisted.ensureDeferred
async def test_key_change_goes_through_change_configuration(secured: Secured) -> None:
    """
    A connected station gets ChangeConfiguration AuthorizationKey first; its
    Accepted stores the new key, its Rejected keeps the old one.
    """
    api, old, new, refused_key = secured.web.api, "A" * 16, "B" * 20, "C" * 24
    assert (await api.put("/ChargePoint/P1/AuthorizationKey", {"key": old})).status == 200

    async def connected(key: str, answer: str) -> tuple[KeyStation, Any, Any]:
        ws = await websockets.connect(
            f"{secured.ws}/P1", subprotocols=["ocpp1.6"], additional_headers=basic("P1", key)
        )
        station = KeyStation("P1", ws)
        station.answer = answer
        reader = asyncio.ensure_future(station.start())
        boot = await station.call(
            call.BootNotification(charge_point_vendor="Acme", charge_point_model="Key")
        )
        assert boot.status == "Accepted"
        return station, ws, reader

    async def close(ws: Any, reader: Any) -> None:
        await ws.close()
        reader.cancel()

    station, ws, reader = await aio(connected(old, "Accepted"))
    try:
        reply = await api.put("/ChargePoint/P1/AuthorizationKey", {"key": new})
        assert reply.status == 200, reply.body
        assert reply.json["changeConfiguration"] == "Accepted"
        assert station.changes == [("AuthorizationKey", new)]
    finally:
        await aio(close(ws, reader))
    with_old = basic("P1", old)
    assert (await secured.refused(secured.ws, "P1", additional_headers=with_old)).status_code == 401

    station, ws, reader = await aio(connected(new, "Rejected"))
    try:
        reply = await api.put("/ChargePoint/P1/AuthorizationKey", {"key": refused_key})
        assert reply.error(409) == (
            "The station answered ChangeConfiguration Rejected; the old key stays"
        )
        assert reply.json["error"]["status"] == "Rejected"
        assert station.changes == [("AuthorizationKey", refused_key)]
    finally:
        await aio(close(ws, reader))
    await secured.connects(secured.ws, "P1", additional_headers=basic("P1", new))
    refused = basic("P1", refused_key)
    assert (await secured.refused(secured.ws, "P1", additional_headers=refused)).status_code == 401


@pytest_twisted.ensureDeferred
async def test_bad_keys_are_refused(secured: Secured) -> None:
    api = secured.web.api
    for body in ({"key": "short"}, {"key": "x" * 41}, {"key": "é" * 16}, {}, {"key": 5}):
        (await api.put("/ChargePoint/P1/AuthorizationKey", body)).error(400)
    assert (await api.put("/ChargePoint/P1/AuthorizationKey", {"key": "k" * 16})).status == 200


@pytest_twisted.ensureDeferred
async def test_key_change_failing_on_the_station_keeps_the_old_key(secured: Secured) -> None:
    """A CALLERROR or no answer to ChangeConfiguration stores nothing."""
    api, old = secured.web.api, "D" * 16
    assert (await api.put("/ChargePoint/P1/AuthorizationKey", {"key": old})).status == 200

    async def scenario() -> list[Any]:
        station = await RawStation.connect(secured.ws, "P1", additional_headers=basic("P1", old))
        try:
            await station.boot()
            put = as_future(api.put("/ChargePoint/P1/AuthorizationKey", {"key": "E" * 16}))
            command = await station.recv()
            await station.send([4, command[1], "NotSupported", "no", {}])
            first = await put
            put = as_future(
                api.request(
                    "PUT",
                    "/ChargePoint/P1/AuthorizationKey",
                    params={"timeout": "0.5"},
                    json={"key": "F" * 16},
                )
            )
            await station.recv()  # and never answered
            return [command, first, await put]
        finally:
            await station.close()

    command, callerror, timeout = await aio(scenario())
    assert command[2:] == ["ChangeConfiguration", {"key": "AuthorizationKey", "value": "E" * 16}]
    assert "NotSupported; the old key stays" in callerror.error(502)
    timeout.error(504)
    await secured.connects(secured.ws, "P1", additional_headers=basic("P1", old))
