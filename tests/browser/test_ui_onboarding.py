"""
The operator web UI's id tags and onboarding inbox in headless Chromium,
against the real central system with the C{known} registration and C{list}
authorization policies (no emulated stations; raw WebSocket stations play
the visitors): id tags are added, blocked, given an expiry and deleted; a
station that booted with an unknown identity, an idTag that was refused and
a refused connection attempt show up in the inbox, and one click accepts or
registers each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import base, click, goto, in_browser, js_errors, screenshot, wait
from tests.integration.conftest import aio
from tests.web.conftest import WebCentral, start_web_central, stop_web_central


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """The central system, admitting only known stations and listed idTags."""
    central = await start_web_central(
        tmp_path_factory.mktemp("cs"), registration="known", authorization="list"
    )
    yield central
    await stop_web_central(central)


def accept(driver: Any, row_text: str, toast: str) -> str:
    """
    On the inbox page, click Accept in the row that contains C{row_text},
    wait for the C{toast} and for the redrawn inbox without that row; the
    row's text as it was listed.
    """
    xpath = f'//tr[contains(., "{row_text}")]//button[text()="Accept"]'
    button = wait(driver).until(ec.element_to_be_clickable((By.XPATH, xpath)))
    text = button.find_element(By.XPATH, "./ancestor::tr").text
    click(driver, button)
    wait(driver).until(lambda d: toast in d.page_source)
    wait(driver).until(lambda d: not d.find_elements(By.XPATH, xpath))
    return text


@pytest_twisted.ensureDeferred
async def test_id_tags_page(web: WebCentral, browser: Any) -> None:
    def add() -> None:
        goto(browser, base(web) + "#/idtags")
        tag = wait(browser).until(ec.presence_of_element_located((By.ID, "new-idtag")))
        tag.send_keys("UI-TAG-1")
        Select(browser.find_element(By.ID, "new-status")).select_by_value("Accepted")
        click(browser, browser.find_element(By.XPATH, '//button[text()="Add / replace"]'))
        wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]'))
        )

    await in_browser(add)
    assert (await web.api.get("/IdTag/UI-TAG-1")).json["status"] == "Accepted"

    def block_and_expire() -> None:
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]')
        click(browser, row.find_element(By.XPATH, './/button[text()="Block"]'))
        wait(browser).until(
            lambda d: "Blocked" in d.find_element(By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]').text
        )
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]')
        expiry = row.find_element(By.CSS_SELECTOR, 'input[type="datetime-local"]')
        browser.execute_script(
            "arguments[0].value = '2031-05-06T07:08';"
            "arguments[0].dispatchEvent(new Event('input'))",
            expiry,
        )
        click(browser, row.find_element(By.XPATH, './/button[text()="Set expiry"]'))
        wait(browser).until(
            lambda d: "2031" in d.find_element(By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]').text
        )
        screenshot(browser, "idtags")

    await in_browser(block_and_expire)
    tag = (await web.api.get("/IdTag/UI-TAG-1")).json
    assert tag["status"] == "Blocked"
    assert tag["expiryDate"].startswith("2031-05-0")

    def delete() -> None:
        row = browser.find_element(By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]')
        click(browser, row.find_element(By.XPATH, './/button[text()="Delete"]'))
        wait(browser).until(ec.alert_is_present()).accept()
        wait(browser).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-idtag="UI-TAG-1"]')
        )

    await in_browser(delete)
    (await web.api.get("/IdTag/UI-TAG-1")).error(404)


@pytest_twisted.ensureDeferred
async def test_inbox_registers_a_refused_station(web: WebCentral, browser: Any) -> None:
    import websockets
    from websockets.exceptions import InvalidStatus

    from tests.integration.conftest import aio

    async def refused() -> None:
        # No common subprotocol: closed at once (OCPP-J 1.6, 3.1.2), and recorded.
        try:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{web.port}/ocpp/NEW-STATION-9", subprotocols=["ocpp2.0.1"]
            )
            await ws.wait_closed()
        except InvalidStatus:
            pass

    await aio(refused())
    listed = (await web.api.get("/Onboarding/RefusedConnections", identity="NEW-STATION-9")).json
    assert listed["total"] == 1
    (await web.api.get("/ChargePoint/NEW-STATION-9")).error(404)

    row = '//tr[contains(., "NEW-STATION-9")]'

    def state() -> str:
        # The row says so once the station is registered, instead of offering it again.
        return wait(browser).until(
            lambda d: (
                d.find_elements(By.XPATH, f'{row}//*[text()="Registered"]')
                and d.find_element(By.XPATH, row).text
            )
        )

    def step() -> dict[str, Any]:
        goto(browser, base(web) + "#/inbox")
        button = wait(browser).until(
            ec.element_to_be_clickable((By.XPATH, f'{row}//button[text()="Register"]'))
        )
        screenshot(browser, "inbox")
        click(browser, button)
        wait(browser).until(lambda d: "NEW-STATION-9 registered" in d.page_source)
        done = state()
        goto(browser, base(web) + "#/inbox")
        reopened = state()
        return {
            "done": done,
            "reopened": reopened,
            "buttons": len(browser.find_elements(By.XPATH, f"{row}//button")),
        }

    seen = await in_browser(step)
    station = (await web.api.get("/ChargePoint/NEW-STATION-9")).json
    assert station["registered"] is True
    assert "No supported subprotocol" in seen["done"] and "Registered" in seen["reopened"]
    assert seen["buttons"] == 0


@pytest_twisted.ensureDeferred
async def test_inbox_accepts_a_waiting_station_and_a_refused_id_tag(
    web: WebCentral, browser: Any
) -> None:
    """
    A station of unknown identity boots Rejected (the C{known} policy) and an
    unknown idTag's Authorize is answered Invalid (the C{list} policy): the
    inbox lists both; one click on Accept each makes the station's next
    BootNotification Accepted and the tag Accepted.
    """
    (await web.api.get("/ChargePoint/UI-WAIT-1")).error(404)
    waiting = await web.station("UI-WAIT-1")
    await web.api.put("/ChargePoint/UI-KNOWN-1")
    known = await web.station("UI-KNOWN-1", boot=True)
    try:
        assert (await aio(waiting.boot()))["status"] == "Rejected"
        refused = await aio(known.result("Authorize", {"idTag": "UI-REFUSED-1"}))
        assert refused["idTagInfo"]["status"] == "Invalid"
        (await web.api.get("/IdTag/UI-REFUSED-1")).error(404)

        def both() -> dict[str, str]:
            goto(browser, base(web) + "#/inbox")
            for text in ("UI-WAIT-1", "UI-REFUSED-1"):
                wait(browser).until(
                    ec.presence_of_element_located((By.XPATH, f'//tr[contains(., "{text}")]'))
                )
            screenshot(browser, "inbox-waiting")
            return {
                "station": accept(browser, "UI-WAIT-1", "UI-WAIT-1 accepted"),
                "tag": accept(browser, "UI-REFUSED-1", "UI-REFUSED-1 accepted"),
            }

        rows = await in_browser(both)
        assert "Rejected" in rows["station"] and "Acme / Raw" in rows["station"]
        assert "Invalid" in rows["tag"] and "UI-KNOWN-1" in rows["tag"]
        assert "Authorize" in rows["tag"]
        assert (await aio(waiting.boot()))["status"] == "Accepted"
        assert (await web.api.get("/ChargePoint/UI-WAIT-1")).json["registered"] is True
        tag = (await web.api.get("/IdTag/UI-REFUSED-1")).json
        assert tag["status"] == "Accepted"
        accepted = await aio(known.result("Authorize", {"idTag": "UI-REFUSED-1"}))
        assert accepted["idTagInfo"]["status"] == "Accepted"

        def emptied() -> list[str]:
            goto(browser, base(web) + "#/inbox")
            wait(browser).until(lambda d: "No idTag was refused." in d.page_source)
            empty = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "p.empty")]
            return {"empty": empty, "errors": js_errors(browser)}

        after = await in_browser(emptied)
        assert "No station is waiting." in after["empty"]
        assert after["errors"] == []
    finally:
        await aio(waiting.close())
        await aio(known.close())
