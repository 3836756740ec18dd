"""The real dashboard in a real browser: `streamlit run` as a subprocess, Debian's Chromium
driven by Playwright. Every page must render without an exception; a full-page screenshot of
each, at 1440×900 and 1280×720, lands in tests/e2e/screenshots/ (git-ignored) for a human to
look at, and so do the key interactions (a campaign row ticked to drill down, a reassignment
and the queue it refreshes, a correction recorded on the ticked ticket).

Run with `make e2e` (needs /usr/bin/chromium: `apt-get install chromium`). Playwright's own
browser downloads are never used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest
from _world import WORLD_TICKETS, copy_db

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# page file -> (url path from the file name, "/" for the default page; sidebar link; heading)
PAGES = {
    "overview": ("", "Overview", "Support overview"),
    "campaigns": ("campaigns", "Campaign impact", "Campaign impact"),
    "sentiment": ("sentiment", "Sentiment trends", "Sentiment trends"),
    "queues": ("queues", "Routing queues", "Routing queues"),
    "tuning": ("tuning", "Priority tuning", "Priority tuning"),
    "explorer": ("explorer", "Ticket explorer", "Ticket explorer"),
    "review": ("review", "Review & feedback", "Review & feedback"),
    "models": ("models", "Model quality", "Model quality"),
    "data_io": ("data_io", "Data", "Data"),
    "plan": ("plan", "Plan a campaign", "Plan a campaign"),
}
START_TIMEOUT = 90  # seconds for the server to answer /_stcore/health
RUN_TIMEOUT_MS = 90_000  # a page's script run on 2 busy cores

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium; to run locally: "
                              "apt-get install chromium; make e2e"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_db(world_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the suite's demo world (built with the `triage demo` command, conftest.py)."""
    return copy_db(world_db, tmp_path_factory.mktemp("e2e"), "demo.duckdb")


class Server(NamedTuple):
    url: str
    log: Path

    def last_traceback(self) -> str:
        """The server log from its last traceback on (the browser only shows a redacted one)."""
        text = self.log.read_text(errors="replace")
        at = text.rfind("Traceback")
        return text[at:] if at >= 0 else "(no traceback in the server log)"


@pytest.fixture(scope="module")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`streamlit run` on a free port; always stops the process at the end."""
    port = free_port()
    log = tmp_path_factory.mktemp("e2e_log") / "streamlit.log"
    env = {**os.environ, "TRIAGE_DB": str(demo_db), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
             "--server.address", "localhost", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health in {START_TIMEOUT} s:\n"
                            f"{log.read_text()}")
            time.sleep(0.3)
        yield Server(base, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


VIEWPORT = {"width": 1440, "height": 1000}


@pytest.fixture(scope="module")
def tab(browser) -> Iterator[object]:
    """One tab for the module: a new tab is a new renderer process that compiles Streamlit's
    frontend again, most of the CPU a page costs. Every test still loads its page afresh (a new
    Streamlit session). Reduced motion, a user setting the app honours, spares the software
    compositor drawing the app's animations while a script runs."""
    context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    try:
        pg = context.new_page()
        pg.set_default_timeout(RUN_TIMEOUT_MS)
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(tab) -> object:
    tab.set_viewport_size(VIEWPORT)  # full_page_screenshot grows it
    return tab


def wait_for_run(pg, heading: str | None = None) -> None:
    """Until the app is connected, its script has finished and charts have drawn."""
    from playwright.sync_api import expect

    if heading is not None:  # after a page change: the new page's heading first
        expect(pg.locator('[data-testid="stMain"] h1').first).to_have_text(
            heading, timeout=RUN_TIMEOUT_MS)
    pg.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
                         '[data-test-script-state="notRunning"]')
    pg.wait_for_selector('[data-testid="stMain"] h1')
    pg.wait_for_function(  # every plotly chart has drawn its SVG (asked every 100 ms, not
        # on every animation frame: that would make the page draw frames while it waits)
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                 .every(c => c.querySelector('.main-svg'))""", polling=100)
    pg.wait_for_load_state("networkidle")
    pg.wait_for_timeout(500)  # let the last frames paint before a screenshot


VIEWPORTS = {"1440x900": {"width": 1440, "height": 900},
             "1280x720": {"width": 1280, "height": 720}}


def full_page_screenshot(pg, name: str, width: int = 1440) -> Path:
    """Streamlit scrolls inside its main container: grow the viewport to fit it first."""
    height = pg.evaluate(
        """() => Math.max(document.body.scrollHeight,
                 ...[...document.querySelectorAll('[data-testid="stMain"], section')]
                   .map(e => e.scrollHeight))""")
    pg.set_viewport_size({"width": width, "height": min(max(int(height) + 40, 720), 9000)})
    pg.wait_for_timeout(400)
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def assert_no_error(pg, name: str, server: Server) -> None:
    exceptions = pg.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{name} shows an exception:\n{server.last_traceback()}"
    text = pg.locator('[data-testid="stApp"]').inner_text()
    assert "Traceback" not in text, f"{name}: a traceback is shown"


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_in_chromium(server: Server, page, name: str, size: str) -> None:
    url_path, _, heading = PAGES[name]
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(f"{server.url}/{url_path}")
    wait_for_run(page, heading)
    # first, so a broken page can be looked at
    shot = full_page_screenshot(page, f"{name}_{size}", VIEWPORTS[size]["width"])
    assert shot.stat().st_size > 10_000
    assert_no_error(page, name, server)
    text = page.locator('[data-testid="stMain"]').inner_text()
    for raw in ("moved_by", "saved_rank", "due_in_h", "23:59:59"):  # people read this page
        assert raw not in text, f"{name} shows {raw!r}"


def test_sidebar_navigation_and_filter(server: Server, page) -> None:
    """Click through the sidebar like a user: a filter set on one page holds on the next."""
    from playwright.sync_api import expect

    page.goto(server.url)
    wait_for_run(page, "Support overview")
    nav = page.locator('[data-testid="stSidebarNav"]')
    for name, (_, link_text, _) in PAGES.items():
        link = nav.get_by_role("link", name=link_text, exact=True)
        assert link.count() == 1, f"no sidebar link for {name}"

    tickets = page.locator('[data-testid="stMetric"]', has_text="Tickets").first
    value = tickets.locator('[data-testid="stMetricValue"]')
    expect(value).to_have_text(f"{WORLD_TICKETS:,}")
    channel = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]',
                           has_text="Ticket channel")
    channel.locator("input").click()
    page.get_by_role("option", name="email", exact=True).click()
    page.keyboard.press("Escape")
    expect(value).not_to_have_text(f"{WORLD_TICKETS:,}", timeout=RUN_TIMEOUT_MS)  # rerun landed
    wait_for_run(page)
    filtered = value.inner_text()
    assert int(filtered.replace(",", "")) > 0

    nav.get_by_role("link", name="Ticket explorer", exact=True).click()
    page.wait_for_url(f"{server.url}/explorer")
    wait_for_run(page, "Ticket explorer")
    assert_no_error(page, "explorer", server)
    assert f"{filtered} tickets" in page.locator('[data-testid="stMain"]').inner_text()


def test_plan_a_campaign_in_chromium(server: Server, page) -> None:
    """Pick a similar campaign, change the reach, forecast: the numbers follow the inputs."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/plan")
    wait_for_run(page, "Plan a campaign")
    tickets = page.locator('[data-testid="stMetric"]', has_text="Tickets").first
    value = tickets.locator('[data-testid="stMetricValue"]')
    before = value.inner_text()
    like = page.locator('[data-testid="stMultiSelect"]', has_text="Like these past campaigns")
    like.locator("input").click()
    page.keyboard.type("Spring Sale 40% off")  # the list shows a few options at a time
    page.get_by_role("option", name="Spring Sale 40% off", exact=True).click()
    page.keyboard.press("Escape")
    reach = page.get_by_label("Expected reach (customers)")
    reach.fill("20000")
    page.get_by_role("button", name="Forecast").click()
    expect(value).not_to_have_text(before, timeout=RUN_TIMEOUT_MS)
    wait_for_run(page)
    assert_no_error(page, "plan", server)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Staffing" in main and "How good is the forecast?" in main  # tables are canvases
    full_page_screenshot(page, "plan_spring_sale")


# -- the key interactions ------------------------------------------------------------------------

def grid_row(pg, key: str, row: int) -> None:
    """Tick row ``row`` (0 = first) of the st.dataframe whose key is ``key``: its selection
    checkbox is drawn on the canvas, left of the first column."""
    grid = pg.locator(f'.st-key-{key} [data-testid="stDataFrame"]')
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    header, height = 35, 35  # Streamlit's default header and row heights
    pg.mouse.click(box["x"] + 18, box["y"] + header + height * row + height / 2)


def test_campaign_row_tick_drills_down(server: Server, page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/campaigns")
    wait_for_run(page, "Campaign impact")
    heading = page.locator('[data-testid="stMain"] h3', has_text="Drill-down:")
    first = heading.inner_text()
    grid_row(page, "campaign_table", 2)  # the third campaign by tickets
    expect(heading).not_to_have_text(first, timeout=RUN_TIMEOUT_MS)
    wait_for_run(page)
    assert_no_error(page, "campaigns", server)
    picked = heading.inner_text().removeprefix("Drill-down: ")
    assert picked == selected(page, "campaign_drill")  # the picker follows the ticked row
    full_page_screenshot(page, "campaigns_row_drilldown")


def test_reassignment_refreshes_the_queue(server: Server, page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/queues")
    wait_for_run(page, "Routing queues")
    ticket, team = selected(page, "reassign_ticket"), selected(page, "queues_team")
    labels = all_options(page, "reassign_agent")  # "AG001 – Name (team, 21/25)"
    free = [x for x in labels if _room(x) and f"({team}," not in x]
    if not free:
        pytest.skip("every agent of the other teams is at capacity")
    agent = free[0].split(" ")[0]
    page.keyboard.type(agent)
    option = page.get_by_role("option").filter(has_text=agent).first
    expect(option).to_be_visible()
    option.click()
    page.get_by_role("button", name="Reassign", exact=True).click()
    done = page.locator('[data-testid="stAlert"]', has_text="reassigned to")
    expect(done).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_for_run(page)
    assert_no_error(page, "queues", server)
    assert ticket in done.inner_text() and agent in done.inner_text()
    # the reassigned ticket left this team's queue at once: the picker starts with another
    assert selected(page, "reassign_ticket") != ticket
    full_page_screenshot(page, "queues_after_reassignment")


def open_list(pg, key: str) -> None:
    """Open a selectbox's list (a click can land while the page still settles: try again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = pg.locator(f'.st-key-{key} input[role="combobox"]')
    for _ in range(4):
        box.click()
        try:
            pg.locator('[role="listbox"]').first.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            pg.keyboard.press("Escape")
    pytest.fail(f"the list of {key} did not open")


def all_options(pg, key: str) -> list[str]:
    """Every option of selectbox ``key``'s list, opened (and opened again should a rerun of
    the still settling page close it before it is read: seen once in CI under load),
    scrolled through, read as it draws."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    listbox = pg.locator('[role="listbox"]').first
    for _ in range(3):
        open_list(pg, key)
        try:
            listbox.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    listbox.wait_for()
    seen: dict[str, None] = {}
    height = listbox.evaluate("e => e.scrollHeight")
    for top in range(0, int(height) + 200, 200):
        listbox.evaluate(f"e => {{ e.scrollTop = {top}; }}")
        pg.wait_for_timeout(80)
        options = listbox.get_by_role("option")
        for i in range(options.count()):
            seen[options.nth(i).inner_text()] = None
    return list(seen)


def _room(label: str) -> bool:
    """Whether an agent label '... (team, 21/25)' has free capacity."""
    try:
        used, cap = label.rsplit(",", 1)[1].strip(" )").split("/")
        return int(used) < int(cap)
    except (IndexError, ValueError):
        return False


def selected(pg, key: str) -> str:
    """The option a selectbox (a combobox input) shows."""
    return pg.locator(f'.st-key-{key} input[role="combobox"]').input_value().strip()


def test_correction_goes_to_the_ticked_ticket(server: Server, page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/explorer")
    wait_for_run(page, "Ticket explorer")
    heading = page.locator('[data-testid="stMain"] h3', has_text="Ticket ")
    first = heading.inner_text()
    grid_row(page, "explorer_table", 3)
    expect(heading).not_to_have_text(first, timeout=RUN_TIMEOUT_MS)
    wait_for_run(page)
    ticket = heading.inner_text().removeprefix("Ticket ").strip()
    # Esc clears the table's selection: the ticket (and its form) must stay
    page.keyboard.press("Escape")
    wait_for_run(page)
    assert heading.inner_text().removeprefix("Ticket ").strip() == ticket
    form = page.locator('[data-testid="stForm"]', has_text=f"Correct ticket {ticket}")
    expect(form).to_be_visible()
    # flag the prediction (never a no-op, unlike a value equal to the current one)
    form.get_by_text("Flag as wrong without a corrected value").click()
    form.get_by_role("button", name=f"Record feedback on {ticket}").click()
    done = page.locator('[data-testid="stAlert"]', has_text=f"Recorded on ticket {ticket}")
    refused = page.locator('[data-testid="stAlert"]', has_text="Nothing recorded")
    expect(done.or_(refused)).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_for_run(page)
    assert_no_error(page, "explorer", server)
    assert refused.count() == 0, refused.inner_text()
    full_page_screenshot(page, "explorer_correction")


def test_an_evaluated_file_shows_its_mistakes(server: Server, page, tmp_path: Path) -> None:
    """Model quality, "Evaluate on your own labeled file": the rows the model got wrong, as
    text (markup in them is not rendered), and every row's prediction to download."""
    from playwright.sync_api import expect

    upload = tmp_path / "labeled.csv"
    pd.DataFrame({"text": ["I was charged twice for my order, please refund",
                           "<b>my parcel</b> **never arrived** at [the depot](http://x.example)",
                           "I cannot log in to my account"],
                  "category": ["billing", "made-up category", "account"]}).to_csv(
        upload, index=False)
    page.goto(f"{server.url}/models")
    wait_for_run(page, "Model quality")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        str(upload))
    wait_for_run(page)
    page.get_by_role("button", name="Evaluate", exact=True).click()
    wait_for_run(page)
    expect(page.get_by_text("3 of 3 rows predicted wrong")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    download = page.get_by_role("button", name="Download every row's prediction (CSV)")
    expect(download).to_be_visible()
    assert page.locator("b", has_text="my parcel").count() == 0  # not rendered as HTML
    assert page.locator('a[href="http://x.example"]').count() == 0  # nor as Markdown
    with page.expect_download() as got:
        download.click()
    rows = pd.read_csv(got.value.path())
    assert rows["row"].tolist() == [1, 2, 3]
    assert not rows.loc[1, "correct"]  # no model predicts a category it never saw
    assert "**never arrived**" in rows.loc[1, "text"]
    assert_no_error(page, "models", server)
    full_page_screenshot(page, "models_evaluate_upload")


def test_sentiment_labels_written_as_numbers_are_read_and_said(server: Server, page,
                                                              tmp_path: Path) -> None:
    """A labeled file with -1 / 0 / 1 (as many public sentiment sets): evaluated, with a note
    of how the numbers were read (it was refused: "map them to the three words first")."""
    from playwright.sync_api import expect

    upload = tmp_path / "moods.csv"
    pd.DataFrame({"text": ["This is terrible, I am furious and want my money back",
                           "My order number is 1234 and it ships on Tuesday",
                           "Thank you so much, the agent was wonderful"],
                  "mood": [-1, 0, 1]}).to_csv(upload, index=False)
    page.goto(f"{server.url}/models")
    wait_for_run(page, "Model quality")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        str(upload))
    wait_for_run(page)
    open_list(page, "models_task")
    page.get_by_role("option", name="sentiment", exact=True).click()
    wait_for_run(page)
    open_list(page, "models_label")
    page.get_by_role("option", name="mood", exact=True).click()
    wait_for_run(page)
    expect(page.locator(".st-key-models_label_map input")).to_be_visible()  # other schemes
    page.get_by_role("button", name="Evaluate", exact=True).click()
    wait_for_run(page)
    note = page.locator('[data-testid="stAlert"]', has_text="Labels read as numbers (the sign)")
    expect(note).to_be_visible(timeout=RUN_TIMEOUT_MS)
    assert "-1 → negative, 0 → neutral, 1 → positive" in note.inner_text()
    expect(page.get_by_text("3 rows evaluated")).to_be_visible()
    assert_no_error(page, "models", server)
    full_page_screenshot(page, "models_evaluate_numbers")


def test_a_file_with_its_own_time_format_imports_from_the_data_page(server: Server, page,
                                                                     tmp_path: Path) -> None:
    """US dates (03/13/2026 2:30 PM): the Data page shows the format that fits every value,
    pre-filled, and imports with it. Last in this module: it adds a campaign."""
    from playwright.sync_api import expect

    upload = tmp_path / "us_campaigns.csv"
    upload.write_text("campaign_id,name,start_at,end_at\n"
                      "US-DATES,Spring mailing,03/13/2026 2:30 PM,03/20/2026 5:00 PM\n",
                      encoding="utf-8")
    page.goto(f"{server.url}/data_io")
    wait_for_run(page, "Data")
    open_list(page, "data_table")
    page.get_by_role("option", name="campaigns", exact=True).click()
    wait_for_run(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        str(upload))
    wait_for_run(page)
    field = page.locator(".st-key-data_format_start_at input")
    expect(field).to_have_value("%m/%d/%Y %I:%M %p")
    expect(page.locator(".st-key-data_format_end_at input")).to_have_value("%m/%d/%Y %I:%M %p")
    page.get_by_role("button", name="Import", exact=True).click()
    done = page.locator('[data-testid="stAlert"]', has_text="1 row into campaigns")
    expect(done).to_be_visible(timeout=RUN_TIMEOUT_MS)
    assert_no_error(page, "data_io", server)
    full_page_screenshot(page, "data_io_time_format")
