"""
The web UI's login screen in headless Chromium, with C{[api] auth = basic}:
wrong and right passwords, the HttpOnly SameSite=Strict session cookie that
the page's JavaScript cannot read, live feeds and a state-changing request
(its CSRF header) under the cookie, and logout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.conftest import base, click, goto, in_browser, js_errors, screenshot, wait
from tests.web.conftest import WebCentral, start_web_central, stop_web_central
from tests.web.operators import ALICE, GOOD


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    central = await start_web_central(
        tmp_path_factory.mktemp("cs"), api={"auth": "basic", "users": (ALICE,)}
    )
    yield central
    await stop_web_central(central)


def log_in(driver: Any, password: str) -> None:
    user = wait(driver).until(ec.visibility_of_element_located((By.ID, "login-user")))
    user.clear()
    user.send_keys("alice")
    secret = driver.find_element(By.ID, "login-secret")
    secret.clear()
    secret.send_keys(password)
    click(driver, driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]"))


@pytest_twisted.ensureDeferred
async def test_login_work_logout(web: WebCentral, browser: Any) -> None:
    def login() -> dict[str, Any]:
        goto(browser, base(web))
        log_in(browser, "wrong")
        error = wait(browser).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#login-form .error").text
        )
        screenshot(browser, "login")
        log_in(browser, "wonder land")
        wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Dashboard")
        wait(browser).until(lambda d: "LIVE" in d.find_element(By.ID, "live").text)
        cookies = {c["name"]: c for c in browser.get_cookies()}
        readable = browser.execute_script("return document.cookie")
        goto(browser, base(web) + "#/idtags")
        tag = wait(browser).until(ec.presence_of_element_located((By.ID, "new-idtag")))
        tag.send_keys("LOGIN-TAG")
        click(browser, browser.find_element(By.XPATH, '//button[text()="Add / replace"]'))
        wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-idtag="LOGIN-TAG"]'))
        )
        return {"error": error, "cookies": cookies, "readable": readable}

    seen = await in_browser(login)
    assert seen["error"] == "Wrong user name or password"
    session = seen["cookies"]["ocppcs_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert "ocppcs_session" not in seen["readable"] and "ocppcs_csrf=" in seen["readable"]
    added = await web.api.request(
        "GET", "/IdTag/LOGIN-TAG", headers={"Authorization": GOOD["basic"]}
    )
    assert added.json["status"] == "Accepted"

    def logout() -> dict[str, Any]:
        click(browser, browser.find_element(By.ID, "logout"))
        wait(browser).until(ec.visibility_of_element_located((By.ID, "login-form")))
        status = browser.execute_script(
            "return fetch('/api/v1/Summary', {headers: {'X-Requested-With': 'ocppcs-ui'}})"
            ".then(r => r.status)"
        )
        goto(browser, base(web))
        again = wait(browser).until(ec.visibility_of_element_located((By.ID, "login-form")))
        return {"status": status, "again": again.is_displayed(), "errors": js_errors(browser)}

    out = await in_browser(logout)
    assert out["status"] == 401
    assert out["again"]
    # Only the expected refusals (401 and the wrong password's 403) reached the console.
    assert all(" 401 " in e or " 403 " in e for e in out["errors"]), out["errors"]
