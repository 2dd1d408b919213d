"""
The station page shows the station's security events (issue 20: "shown per
station in the API and the UI"), newest first, and its log and signed
firmware statuses, in headless Chromium against a real central system that
an OCPP station (a raw WebSocket client) sent them to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted
from selenium.webdriver.common.by import By

from tests.browser.conftest import base, goto, in_browser, js_errors, wait
from tests.integration.conftest import aio
from tests.integration.rawstation import now
from tests.web.conftest import WebCentral, start_web_central, stop_web_central

CP = "SEC-UI-1"


@pytest_twisted.async_yield_fixture
async def web(tmp_path: Path) -> AsyncIterator[WebCentral]:
    central = await start_web_central(tmp_path)
    yield central
    await stop_web_central(central)


@pytest_twisted.ensureDeferred
async def test_station_page_lists_security_events(web: WebCentral, browser: Any) -> None:
    station = await web.station(CP, boot=True)
    try:
        events = (
            ("StartupOfTheDevice", "cold boot", "2026-01-01T10:00:00Z"),
            ("InvalidFirmwareSignature", None, now()),
        )
        for kind, info, at in events:
            event: dict[str, Any] = {"type": kind, "timestamp": at}
            if info:
                event["techInfo"] = info
            reply = await aio(station.call("SecurityEventNotification", event))
            assert reply[0] == 3, reply
        status = {"status": "Uploaded", "requestId": 7}
        assert (await aio(station.call("LogStatusNotification", status)))[0] == 3

        def step() -> dict[str, Any]:
            goto(browser, f"{base(web)}#/station/{CP}")
            table = wait(browser).until(
                lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="security-events"] table')
            )
            rows = [r.text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
            facts = browser.find_element(By.CSS_SELECTOR, "dl.facts").text
            return {"rows": rows, "facts": facts, "errors": js_errors(browser)}

        seen = await in_browser(step)
    finally:
        await aio(station.close())
    assert len(seen["rows"]) == 2, seen["rows"]
    assert "InvalidFirmwareSignature" in seen["rows"][0]  # newest first
    assert "StartupOfTheDevice" in seen["rows"][1] and "cold boot" in seen["rows"][1]
    assert "Uploaded" in seen["facts"]
    assert seen["errors"] == []
