"""`triage serve` in a real browser: the dashboard and the API from one process, and a ticket
posted to the API shows in an open dashboard session on its next run, without a restart."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from _served import call, live_server, new_ticket, triage_cmd

from triage_core.store import Store

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at "
                       "/usr/bin/chromium (apt-get install chromium)"),
]


def tickets_shown(page: object) -> int:
    card = page.get_by_test_id("stMetric").filter(has_text="Tickets").first  # type: ignore
    card.wait_for(timeout=TIMEOUT_MS)
    value = card.get_by_test_id("stMetricValue").inner_text()
    return int(re.sub(r"\D", "", value))


def test_dashboard_and_api_share_one_server(db: Path, tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    token = json.loads(triage_cmd("tokens", "create", "--db", str(db), "--name", "e2e",
                                  "--json").stdout)["token"]
    with Store(db, read_only=True) as s:
        customer = s.scalar("SELECT min(customer_id) FROM customers")
        newest = str(s.scalar("SELECT max(created_at) FROM tickets"))
    with live_server(db, tmp_path / "serve.log") as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--headless=new", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(live.url, timeout=TIMEOUT_MS)
        page.get_by_text("Support overview").first.wait_for(timeout=TIMEOUT_MS)
        before = tickets_shown(page)
        status, _ = call(live.url + "/api/v1/tickets", "POST",
                         new_ticket("E2E-1", customer, created_at=newest), token)
        assert status == 200
        shows_new = (
            "n => [...document.querySelectorAll('[data-testid=stMetric]')].some(m =>"
            " m.innerText.startsWith('Tickets') && m.querySelector("
            "'[data-testid=stMetricValue]')?.innerText.replace(/\\D/g, '') == n)")
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:  # rerun the same session (no restart) until the new ticket is counted
            page.mouse.click(700, 5)  # focus the page (a raw click: nothing to wait for)
            page.keyboard.press("r")  # Streamlit's rerun shortcut (ignored while it runs)
            try:
                page.wait_for_function(shows_new, arg=str(before + 1), timeout=15_000)
                break
            except PlaywrightTimeout:
                if time.monotonic() > deadline:
                    page.screenshot(path=str(tmp_path / "not_counted.png"), full_page=True)
                    raise
        assert tickets_shown(page) == before + 1
        browser.close()
        # the pages' modules are imported once Streamlit's runtime runs: imported before it,
        # every cached function logged "No runtime found" (40 warnings at each start)
        assert "No runtime found" not in (tmp_path / "serve.log").read_text()
