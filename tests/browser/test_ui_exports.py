"""
The operator web UI's transactions pages and CSV exports in headless
Chromium, against the real central system with the four example emulated
stations: a finished transaction (the module's own, charged through the
REST API) is listed, filtered and shown with its meter values; the CSV files
the live log, the transactions list and a transaction's meter values export
(saved by Chromium into a temporary folder) hold what the API answers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.conftest import (
    base,
    click,
    downloaded,
    goto,
    in_browser,
    js_errors,
    screenshot,
    wait,
)
from tests.emulator.test_end_to_end import (
    TAG,
    closed,
    command,
    remote_start,
    samples,
    start,
    transaction,
    unplug,
    until,
)
from tests.web.conftest import WebCentral, stop_web_central

CP = "EM-A0000004"


@pytest_twisted.async_yield_fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebCentral]:
    """The central system and its emulated stations, for the whole module."""
    central = await start(tmp_path_factory)
    yield central
    await stop_web_central(central)


@pytest_twisted.async_fixture(scope="module")
async def charged(web: WebCentral) -> int:
    """
    The id of a finished transaction on C{CP}/1 with periodic meter values:
    started and stopped through the REST API, the vehicle unplugged after.
    """
    transaction_id = await remote_start(web, CP, 1)

    async def sampled() -> bool:
        found = await transaction(web, transaction_id)
        return len(samples(found, "Energy.Active.Import.Register")) >= 2

    await until(sampled, "two periodic meter values")
    stop = {"transactionId": transaction_id}
    assert (await command(web, CP, "RemoteStopTransaction", stop)) == {"status": "Accepted"}
    await closed(web, transaction_id)
    await unplug(web, CP, 1)
    return transaction_id


def read_csv(path: Path) -> list[list[str]]:
    """The rows of a CSV file the UI saved (RFC 4180, CRLF line ends)."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def cell(value: Any) -> str:
    """A JSON value as the UI's CSV writes it (C{csvLine} in dom.js)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def export(driver: Any, folder: Path) -> Path:
    """Click the page's "Export CSV" button; the file Chromium saved in C{folder}."""
    button = wait(driver).until(
        ec.element_to_be_clickable((By.XPATH, '//button[text()="Export CSV"]'))
    )
    return downloaded(driver, folder, lambda: click(driver, button))


@pytest_twisted.ensureDeferred
async def test_transactions_page_and_meter_values(
    web: WebCentral, browser: Any, charged: int
) -> None:
    listed = (await web.api.get("/CentralSystem/TransactionList", identity=CP)).json
    finished = [t for t in listed["TransactionList"] if t["dateStop"]]
    assert [t["id"] for t in finished] == [charged]
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
async def test_transactions_csv_export(
    web: WebCentral, browser: Any, charged: int, tmp_path: Path
) -> None:
    """The transactions page exports the listed transactions, as the API lists them."""

    def step() -> Path:
        goto(browser, base(web) + "#/transactions")
        wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, str(charged))))
        return export(browser, tmp_path / "list")

    saved = await in_browser(step)
    assert saved.name == "transactions.csv"
    header, *rows = read_csv(saved)
    assert header == [
        "id",
        "identity",
        "connectorId",
        "idTag",
        "dateStart",
        "dateStop",
        "meterStart",
        "meterStop",
        "energyWh",
        "reason",
    ]
    listed = (await web.api.get("/CentralSystem/TransactionList", limit="1000")).json
    keys = ("id", "identity", "connectorId", "idTag", "dateStart", "dateStop")
    expected = [
        [cell(t[k]) for k in keys]
        + [cell(t[k]) for k in ("meterStart", "meterStop", "value")]
        + [cell(t["reason"])]
        for t in listed["TransactionList"]
    ]
    assert rows == expected
    assert [r[0] for r in rows].count(str(charged)) == 1


@pytest_twisted.ensureDeferred
async def test_meter_values_csv_export(
    web: WebCentral, browser: Any, charged: int, tmp_path: Path
) -> None:
    """A transaction's page exports its meter values, as C{GET /Transaction/{id}} has them."""

    def step() -> Path:
        goto(browser, base(web) + f"#/transactions/{charged}")
        wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart path.line"))
        )
        return export(browser, tmp_path / "meter")

    saved = await in_browser(step)
    assert saved.name == f"transaction-{charged}-meter-values.csv"
    header, *rows = read_csv(saved)
    assert header == ["timestamp", "measurand", "value", "unit", "phase", "context", "source"]
    detail = (await web.api.get(f"/Transaction/{charged}")).json
    assert len(detail["meterValues"]) > 2
    assert rows == [
        [
            cell(m["timestamp"]),
            m.get("measurand") or "Energy.Active.Import.Register",
            cell(m["value"]),
            cell(m.get("unit")),
            cell(m.get("phase")),
            cell(m.get("context")),
            cell(m.get("source")),
        ]
        for m in detail["meterValues"]
    ]


@pytest_twisted.ensureDeferred
async def test_log_csv_export(web: WebCentral, browser: Any, tmp_path: Path) -> None:
    """
    The live log exports the frames its filters show: the station's
    ClearCache frames, history and live, as C{GET /api/v1/Log} has them.
    """
    assert (await web.api.post(f"/ChargePoint/{CP}/ClearCache")).json == {"status": "Accepted"}

    def opened() -> None:
        goto(browser, base(web) + "#/log")
        wait(browser).until(lambda d: "LIVE" in d.find_element(By.ID, "live").text)
        station = browser.find_element(By.XPATH, '//label[contains(., "Station")]/input')
        station.send_keys(CP)
        action = browser.find_element(By.XPATH, '//label[contains(., "Action")]/input')
        action.send_keys("ClearCache")
        wait(browser).until(
            lambda d: (
                len(d.find_elements(By.CSS_SELECTOR, 'li.frame[data-action="ClearCache"]')) == 2
            )
        )

    await in_browser(opened)
    # One more, live over /ws/log while the page is open.
    assert (await web.api.post(f"/ChargePoint/{CP}/ClearCache")).json == {"status": "Accepted"}

    def step() -> Path:
        wait(browser).until(
            lambda d: (
                len(d.find_elements(By.CSS_SELECTOR, 'li.frame[data-action="ClearCache"]')) == 4
            )
        )
        return export(browser, tmp_path / "log")

    saved = await in_browser(step)
    assert saved.name.startswith("ocpp-log-") and saved.suffix == ".csv"
    header, *rows = read_csv(saved)
    assert header == [
        "Timestamp",
        "Identity",
        "Direction",
        "MessageType",
        "UniqueId",
        "Action",
        "Payload",
    ]
    frames = (await web.api.get("/Log", identity=CP, action="ClearCache")).json["Log"]
    assert len(frames) == 4
    expected = [
        [f["ts"], f["identity"], f["direction"], f["messageType"], f["uniqueId"], f["action"]]
        for f in frames
    ]
    assert [r[:6] for r in rows] == expected
    assert [json.loads(r[6]) for r in rows] == [f["payload"] for f in frames]
    assert await in_browser(js_errors, browser) == []
