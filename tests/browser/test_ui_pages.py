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
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import base, click, goto, in_browser, js_errors, screenshot, wait
from tests.emulator.test_end_to_end import STATIONS, TAG, start, until
from tests.web.conftest import WebCentral, stop_web_central

CP = "EM-A0000004"


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """The central system and its emulated stations, for the whole module."""
    central = await start(tmp_path_factory)
    yield central
    await stop_web_central(central)


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


@pytest_twisted.ensureDeferred
async def test_log_page_shows_frames_live_with_filters_and_pause(
    web: WebCentral, browser: Any
) -> None:
    def frames(d: Any, action: str) -> list[Any]:
        return d.find_elements(By.CSS_SELECTOR, f'li.frame[data-action="{action}"]')

    def opened() -> int:
        goto(browser, base(web) + "#/log")
        # The recent history is there at once (GET /api/v1/Log).
        wait(browser).until(lambda d: frames(d, "StatusNotification"))
        wait(browser).until(lambda d: "LIVE" in d.find_element(By.ID, "live").text)
        return len(frames(browser, "ClearCache"))

    before = await in_browser(opened)
    assert (await web.api.post(f"/ChargePoint/{CP}/ClearCache")).json == {"status": "Accepted"}

    def live_then_filter() -> dict[str, Any]:
        wait(browser).until(lambda d: len(frames(d, "ClearCache")) == before + 2)
        action = browser.find_element(By.XPATH, '//label[contains(., "Action")]/input')
        action.send_keys("ClearCache")
        Select(
            browser.find_element(By.XPATH, '//label[contains(., "Direction")]/select')
        ).select_by_value("out")
        rows = browser.find_elements(By.CSS_SELECTOR, "li.frame")
        shown = {(r.get_attribute("data-action"), "CS→CP" in r.text) for r in rows}
        click(browser, browser.find_element(By.XPATH, '//button[text()="Pause"]'))
        return {"shown": shown, "rows": len(rows)}

    seen = await in_browser(live_then_filter)
    assert seen["shown"] == {("ClearCache", True)}
    assert seen["rows"] == before // 2 + 1
    assert (await web.api.post(f"/ChargePoint/{CP}/ClearCache")).json == {"status": "Accepted"}

    def paused_then_resumed() -> dict[str, Any]:
        wait(browser).until(lambda d: "new frames held" in d.page_source)
        held = len(browser.find_elements(By.CSS_SELECTOR, "li.frame"))
        click(browser, browser.find_element(By.XPATH, '//button[text()="Resume"]'))
        wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "li.frame")) == held + 1)
        first = browser.find_element(By.CSS_SELECTOR, "li.frame")
        click(browser, first.find_element(By.CSS_SELECTOR, "button"))
        payload = first.find_element(By.CSS_SELECTOR, "pre").text
        screenshot(browser, "log")
        return {"held": held, "payload": payload}

    later = await in_browser(paused_then_resumed)
    assert later["held"] == seen["rows"]
    assert later["payload"] == "{}"


@pytest_twisted.ensureDeferred
async def test_transactions_page_and_meter_values(web: WebCentral, browser: Any) -> None:
    listed = (await web.api.get("/CentralSystem/TransactionList", identity=CP)).json
    finished = [t for t in listed["TransactionList"] if t["dateStop"]]
    assert finished, "the remote start test ran first"
    tx = finished[0]
    detail = (await web.api.get(f"/Transaction/{tx['id']}")).json

    def step() -> dict[str, Any]:
        goto(browser, base(web) + "#/transactions")
        link = wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, str(tx["id"]))))
        row_text = link.find_element(By.XPATH, "./ancestor::tr").text
        click(browser, link)
        wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart path.line"))
        )
        rows = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
        screenshot(browser, "transaction")
        heading = browser.find_element(By.TAG_NAME, "h1").text
        goto(browser, base(web) + "#/transactions")
        field = wait(browser).until(
            ec.presence_of_element_located((By.XPATH, '//label[contains(., "idTag")]/input'))
        )
        field.send_keys("NO-SUCH-TAG\n")
        wait(browser).until(lambda d: "No transactions match" in d.page_source)
        field.clear()
        field.send_keys(TAG + "\n")
        wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, str(tx["id"]))))
        screenshot(browser, "transactions")
        return {"row": row_text, "rows": len(rows), "heading": heading}

    seen = await in_browser(step)
    assert CP in seen["row"] and TAG in seen["row"]
    assert seen["rows"] == len(detail["meterValues"]) > 0
    assert seen["heading"].startswith(f"Transaction {tx['id']}") and "Finished" in seen["heading"]


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

    def step() -> None:
        goto(browser, base(web) + "#/inbox")
        button = wait(browser).until(
            ec.element_to_be_clickable(
                (By.XPATH, '//tr[contains(., "NEW-STATION-9")]//button[text()="Register"]')
            )
        )
        screenshot(browser, "inbox")
        click(browser, button)
        wait(browser).until(lambda d: "NEW-STATION-9 registered" in d.page_source)

    await in_browser(step)
    station = (await web.api.get("/ChargePoint/NEW-STATION-9")).json
    assert station["registered"] is True


@pytest_twisted.ensureDeferred
async def test_every_command_has_a_form_and_nested_forms_send(
    web: WebCentral, browser: Any
) -> None:
    from ocppcs.v16.actions import CENTRAL_ACTIONS

    def forms() -> dict[str, Any]:
        goto(browser, base(web) + f"#/station/{CP}")
        ops = []
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "button.command")))
        for button in browser.find_elements(By.CSS_SELECTOR, "button.command"):
            op = button.get_attribute("data-op")
            form = open_command(browser, op)
            ops.append((op, len(form.find_elements(By.CSS_SELECTOR, "input, select, textarea"))))
        return {"ops": dict(ops), "errors": js_errors(browser)}

    seen = await in_browser(forms)
    assert set(seen["ops"]) == CENTRAL_ACTIONS
    assert seen["ops"]["ClearCache"] == 0 and seen["ops"]["SetChargingProfile"] > 10
    assert seen["errors"] == []

    def set_profile() -> str:
        form = open_command(browser, "SetChargingProfile")
        p = "csChargingProfiles"
        fill_form(
            form,
            {
                "connectorId": "3",
                f"{p}.chargingProfileId": "77",
                f"{p}.stackLevel": "1",
                f"{p}.chargingProfilePurpose": "TxDefaultProfile",
                f"{p}.chargingProfileKind": "Absolute",
                f"{p}.chargingSchedule.chargingRateUnit": "W",
                f"{p}.chargingSchedule.chargingSchedulePeriod[0].startPeriod": "0",
                f"{p}.chargingSchedule.chargingSchedulePeriod[0].limit": "6000.5",
            },
        )
        start = form.find_element(By.NAME, f"{p}.chargingSchedule.startSchedule")
        browser.execute_script("arguments[0].value = '2020-01-02T03:04:05'", start)
        zone = start.find_element(By.XPATH, "following-sibling::select")
        Select(zone).select_by_value("UTC")
        click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        return reply_text(browser)

    assert '"status": "Accepted"' in await in_browser(set_profile)

    def send_list() -> str:
        form = open_command(browser, "SendLocalList")
        fill_form(form, {"listVersion": "3", "updateType": "Full"})
        click(browser, form.find_element(By.XPATH, './/button[contains(., "+ Add")]'))
        fill_form(form, {"localAuthorizationList[0].idTag": "LL-1"})
        click(browser, form.find_element(By.CSS_SELECTOR, '[aria-label="include idTagInfo"]'))
        fill_form(form, {"localAuthorizationList[0].idTagInfo.status": "Blocked"})
        click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        return reply_text(browser)

    assert '"status": "Accepted"' in await in_browser(send_list)

    async def sent(action: str) -> dict[str, Any]:
        frames = (await web.api.get("/Log", identity=CP, action=action)).json["Log"]
        return next(f["payload"] for f in frames if f["direction"] == "out")

    assert await sent("SetChargingProfile") == {
        "connectorId": 3,
        "csChargingProfiles": {
            "chargingProfileId": 77,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2020-01-02T03:04:05Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6000.5}],
            },
        },
    }
    assert await sent("SendLocalList") == {
        "listVersion": 3,
        "localAuthorizationList": [{"idTag": "LL-1", "idTagInfo": {"status": "Blocked"}}],
        "updateType": "Full",
    }


@pytest_twisted.ensureDeferred
async def test_phone_layout_and_dark_theme(web: WebCentral, browser: Any) -> None:
    def step() -> dict[str, Any]:
        browser.set_window_size(390, 844)
        try:
            goto(browser, base(web))
            wait(browser).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, ".station-card")) >= len(STATIONS)
            )
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            nav_hidden = not browser.find_element(By.ID, "nav").is_displayed()
            click(browser, browser.find_element(By.CSS_SELECTOR, "button.menu"))
            nav_shown = browser.find_element(By.ID, "nav").is_displayed()
            click(browser, browser.find_element(By.CSS_SELECTOR, "button.menu"))
            light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
            click(browser, browser.find_element(By.ID, "theme"))
            dark = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
            screenshot(browser, "dashboard-phone-dark")
            click(browser, browser.find_element(By.ID, "theme"))
            # Keyboard: the first Tab reaches the skip link, which has a visible focus.
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.keys import Keys

            goto(browser, base(web))
            ActionChains(browser).send_keys(Keys.TAB).perform()
            focused = browser.execute_script("return document.activeElement.textContent")
            return {
                "overflow": overflow,
                "nav": (nav_hidden, nav_shown),
                "themes": (light, dark),
                "focused": focused,
            }
        finally:
            browser.set_window_size(1366, 900)

    seen = await in_browser(step)
    assert seen["overflow"] <= 0
    assert seen["nav"] == (True, True)
    light, dark = seen["themes"]
    assert light != dark and dark == "rgb(13, 17, 23)"
    assert seen["focused"] == "Skip to content"
