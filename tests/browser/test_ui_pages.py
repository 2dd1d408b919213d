"""
The operator web UI in headless Chromium, against the real central system
with the four example emulated stations (sampling meter values every second):
the dashboard lists them live, a station's RemoteStartTransaction form starts
a transaction whose energy grows on the page, RemoteStopTransaction ends it,
an invalid form value is refused before anything is sent, and the log,
transactions, id tags and inbox pages show what the API holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import WAIT, in_browser, js_errors, screenshot
from tests.emulator.test_end_to_end import STATIONS, TAG, start, until
from tests.web.conftest import WebCentral, stop_web_central

CP = "EM-A0000004"


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """The central system and its emulated stations, for the whole module."""
    central = await start(tmp_path_factory)
    yield central
    await stop_web_central(central)


def base(web: WebCentral) -> str:
    return f"http://127.0.0.1:{web.port}/"


def wait(driver: Any, timeout: float = WAIT) -> WebDriverWait:
    return WebDriverWait(driver, timeout)


def goto(driver: Any, url: str) -> None:
    """Load C{url} afresh (a page already at that URL is reloaded)."""
    driver.get("about:blank")
    driver.get(url)


def click(driver: Any, element: Any) -> None:
    """Click C{element} once scrolled to the middle of the window (the header is sticky)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def open_command(driver: Any, operation: str) -> Any:
    """Open a command's form on the station page; the form."""
    button = wait(driver).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f'button.command[data-op="{operation}"]'))
    )
    click(driver, button)
    return wait(driver).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f'form[data-op="{operation}"]'))
    )


def fill_form(form: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        control = form.find_element(By.CSS_SELECTOR, f'[name="{name}"]')
        if control.tag_name == "select":
            Select(control).select_by_value(value)
        else:
            control.clear()
            control.send_keys(value)


def reply_text(driver: Any) -> str:
    return (
        wait(driver)
        .until(ec.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="reply"]')))
        .text
    )


@pytest_twisted.ensureDeferred
async def test_dashboard_shows_the_stations(web: WebCentral, browser: Any) -> None:
    def step() -> dict[str, Any]:
        goto(browser, base(web))
        wait(browser).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".station-card")) == len(STATIONS)
        )
        wait(browser).until(
            lambda d: "4 / 4" in d.find_element(By.CSS_SELECTOR, '[data-stat="online"]').text
        )
        cards = browser.find_elements(By.CSS_SELECTOR, ".station-card")
        found = {c.get_attribute("data-identity"): c.text for c in cards}
        search = browser.find_element(By.CSS_SELECTOR, 'input[type="search"]')
        search.send_keys("Kilowatt")
        wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".station-card")) == 1)
        filtered = browser.find_element(By.CSS_SELECTOR, ".station-card").get_attribute(
            "data-identity"
        )
        search.clear()
        search.send_keys(" ")
        search.clear()
        browser.execute_script("arguments[0].dispatchEvent(new Event('input'))", search)
        wait(browser).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".station-card")) == len(STATIONS)
        )
        screenshot(browser, "dashboard")
        return {"found": found, "filtered": filtered, "errors": js_errors(browser)}

    seen = await in_browser(step)
    assert sorted(seen["found"]) == sorted(STATIONS)
    for identity, text in seen["found"].items():
        assert "Online" in text and "Available" in text, (identity, text)
    assert seen["filtered"] == CP
    assert seen["errors"] == []


@pytest_twisted.ensureDeferred
async def test_invalid_value_is_refused_before_sending(web: WebCentral, browser: Any) -> None:
    def step() -> dict[str, Any]:
        goto(browser, base(web) + f"#/station/{CP}")
        form = open_command(browser, "RemoteStartTransaction")
        fill_form(form, {"idTag": "X" * 25, "connectorId": "1.5"})
        click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        summary = wait(browser).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, ".form-errors"))
        )
        text = summary.text
        invalid = [
            e.get_attribute("name")
            for e in form.find_elements(By.CSS_SELECTOR, "[aria-invalid=true]")
        ]
        screenshot(browser, "station-invalid-form")
        return {
            "text": text,
            "invalid": invalid,
            "replies": len(browser.find_elements(By.CSS_SELECTOR, '[data-testid="reply"]')),
        }

    seen = await in_browser(step)
    assert "idTag: at most 20 characters" in seen["text"]
    assert "connectorId: must be a whole number" in seen["text"]
    assert sorted(seen["invalid"]) == ["connectorId", "idTag"]
    assert seen["replies"] == 0
    log = await web.api.get("/Log", identity=CP, action="RemoteStartTransaction")
    assert log.json["Log"] == []


@pytest_twisted.ensureDeferred
async def test_remote_start_charges_live_and_remote_stop_ends_it(
    web: WebCentral, browser: Any
) -> None:
    def plug_and_start() -> dict[str, Any]:
        goto(browser, base(web) + f"#/station/{CP}")
        plug = wait(browser).until(
            ec.element_to_be_clickable(
                (By.CSS_SELECTOR, '[data-connector="1"] button[data-action="PlugIn"]')
            )
        )
        click(browser, plug)
        wait(browser).until(
            lambda d: (
                "Preparing" in d.find_element(By.CSS_SELECTOR, '[data-testid="status-1"]').text
            )
        )
        form = open_command(browser, "RemoteStartTransaction")
        fill_form(form, {"connectorId": "1", "idTag": TAG})
        click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        reply = reply_text(browser)
        wait(browser).until(
            lambda d: "Charging" in d.find_element(By.CSS_SELECTOR, '[data-testid="status-1"]').text
        )

        def energy(d: Any) -> float:
            found = d.find_elements(By.CSS_SELECTOR, '[data-testid="tx-energy"]')
            return float(found[0].get_attribute("data-wh")) if found else 0.0

        first = wait(browser).until(lambda d: energy(d) > 0 and energy(d))
        later = wait(browser).until(lambda d: energy(d) > first and energy(d))
        transaction = browser.find_element(By.CSS_SELECTOR, ".tx").get_attribute("data-transaction")
        browser.execute_script("document.querySelector('.tx').scrollIntoView({block: 'center'})")
        screenshot(browser, "station-charging")
        return {"reply": reply, "first": first, "later": later, "transaction": transaction}

    seen = await in_browser(plug_and_start)
    assert '"status": "Accepted"' in seen["reply"]
    assert 0 < seen["first"] < seen["later"]
    transaction = int(seen["transaction"])
    found = (await web.api.get(f"/Transaction/{transaction}")).json
    assert found["identity"] == CP and found["idTag"] == TAG and found["dateStop"] is None

    def stop() -> dict[str, Any]:
        form = open_command(browser, "RemoteStopTransaction")
        fill_form(form, {"transactionId": str(transaction)})
        click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        wait(browser).until(lambda d: "Accepted" in reply_text(d))
        wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="no-transaction"]'))
        )
        return {"errors": js_errors(browser)}

    stopped = await in_browser(stop)
    done = await until(
        lambda: web.api.get(f"/Transaction/{transaction}").addCallback(
            lambda r: r.json["dateStop"] is not None and r.json
        ),
        "the transaction stopped at the central system",
    )
    assert done["reason"] == "Remote"
    assert stopped["errors"] == []
