"""
Fixtures for the browser tests: headless Chromium (Debian's C{chromium} and
C{chromium-driver}, installed by C{scripts/browsers.sh}) driven by Selenium,
against the real central system running in the test's reactor.

Selenium's calls block, so every browser step runs in a thread
(L{in_browser}) while the reactor serves the page. A missing browser is a
failure, not a skip. Screenshots go to C{artifacts/screenshots/} (or
C{$OCPPCS_SCREENSHOTS}).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait
from twisted.internet.threads import deferToThread

T = TypeVar("T")

CHROMEDRIVER = "/usr/bin/chromedriver"
#: Where the screenshots are saved.
SHOTS = Path(
    os.environ.get("OCPPCS_SCREENSHOTS", Path(__file__).parents[2] / "artifacts" / "screenshots")
)
#: Seconds a browser wait may take.
WAIT = 15


def find_chromium() -> str | None:
    """The Chromium binary, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def new_driver(width: int = 1366, height: int = 900) -> Any:
    """A headless Chromium session of the given window size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = find_chromium()
    if binary is None or not Path(CHROMEDRIVER).exists():
        pytest.fail(
            "Chromium and its driver are needed for the browser tests: "
            "apt-get install chromium chromium-driver (scripts/browsers.sh does it as root)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--force-prefers-reduced-motion",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests."""
    driver = new_driver()
    yield driver
    driver.quit()


def in_browser(fn: Callable[..., T], *args: Any) -> Any:
    """Run a blocking browser step in a thread; a Deferred of its result."""
    return deferToThread(fn, *args)


def screenshot(driver: Any, name: str) -> Path:
    """Save the page as C{SHOTS/name.png}."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def js_errors(driver: Any) -> list[str]:
    """The page's console errors since the last call (failed requests included)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def base(web: Any) -> str:
    """The URL of the web UI of a running central system (L{tests.web.conftest.WebCentral})."""
    return f"http://127.0.0.1:{web.port}/"


def wait(driver: Any, timeout: float = WAIT) -> WebDriverWait:
    """A wait that retries when the page redrew the element it looked at."""
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def goto(driver: Any, url: str) -> None:
    """Load C{url} afresh (a page already at that URL is reloaded)."""
    driver.get("about:blank")
    driver.get(url)


def click(driver: Any, element: Any) -> None:
    """Click C{element} once scrolled to the middle of the window (the header is sticky)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
