"""A hostile world in a real browser: markup and personal data in every free-text field.

The demo world is imported with markup payloads (HTML, Markdown, Streamlit directives, links,
a script, an image with onerror, a bidirectional override) and e-mail addresses, phone and card
numbers in campaign, category, team, agent and segment names, customer and ticket ids, texts,
comments and a saved profile's name. Every page is opened in Chromium with masking on; no
element may come from a payload (a link to the payload's host, bold or styled text carrying
the payload's marker, an image), no payload may run, no personal value may be on screen, and
every export is checked the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_browser import (
    APP,
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGES,
    ROOT,
    RUN_TIMEOUT_MS,
    START_TIMEOUT,
    Server,
    free_port,
    full_page_screenshot,
    wait_for_run,
)

MARK = "XSSMARK"
EVIL = "evil.example"
PAYLOAD = (f'<a href="https://{EVIL}/a">{MARK}-a</a> <b>{MARK}-b</b> **{MARK}-md** '
           f'[{MARK}-link](https://{EVIL}/l) :red[{MARK}-red] '
           f'<span style="color:red">{MARK}-span</span> '
           '<img src="x" onerror="window.__xss=1"> <script>window.__xss=2</script> '
           f'\u202e{MARK}-rtl https://{EVIL}/bare '
           # Streamlit's icon codes (drawn even with the colons escaped) and line breaks (a
           # heading cut, a paragraph, a list item, a <br>)
           f':material/home: :streamlit: {MARK}-icon  \n{MARK}-br\n\n- {MARK}-li')
# An author is one line of at most 200 characters: the payload's link, bold and image (a
# bidirectional override is refused in an author, as in an id).
AUTHOR = (f'<a href="https://{EVIL}/a">{MARK}-a</a> <b>{MARK}-b</b> **{MARK}-md** '
          f'<img src="x" onerror="window.__xss=1"> :material/home: {MARK}-icon')
EMAIL, PHONE, CARD = "jane.doe@example.com", "+49 30 1234567", "4111 1111 1111 1111"
PERSONAL = [EMAIL, "jane.doe", PHONE, "1234567", CARD, "4111111111111111", "4111 1111"]
# In exports numbers are everywhere: a digit run counts only on its own, not inside a decimal.
PERSONAL_IN_FILES = [re.escape(EMAIL), "jane\\.doe", re.escape(PHONE), re.escape(CARD),
                     r"(?<![0-9.])1234567(?![0-9])", r"(?<![0-9.])4111111111111111(?![0-9])"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at "
                       "/usr/bin/chromium (apt-get install chromium)"),
]


def _hostile_files(out: Path) -> None:
    """The demo world's files with payloads and personal data written into them."""
    from triage_core import demo

    demo.generate(out, tickets=1500, seed=3)
    camps = pd.read_csv(out / "campaigns.csv", dtype=str)
    camps.loc[0, "name"] = PAYLOAD
    camps.loc[1, "name"] = f"Mail {EMAIL} call {PHONE}"
    camps.loc[2, "channel"] = f"<b>{MARK}-channel</b>"
    camps.to_csv(out / "campaigns.csv", index=False)
    agents = pd.read_csv(out / "agents.csv", dtype=str)
    agents.loc[0, "name"] = PAYLOAD
    agents.loc[1, "name"] = f"Agent {EMAIL}"
    agents.to_csv(out / "agents.csv", index=False)
    customers = pd.read_csv(out / "customers.csv", dtype=str)
    first = customers.loc[0, "customer_id"]
    customers.loc[0, "customer_id"] = EMAIL
    customers.loc[1, "segment"] = f"<b>{MARK}-segment</b>"
    customers.to_csv(out / "customers.csv", index=False)
    for name in ("tickets", "touchpoints"):
        frame = pd.read_parquet(out / f"{name}.parquet")
        frame.loc[frame["customer_id"] == first, "customer_id"] = EMAIL
        if name == "tickets":
            frame.loc[0, "ticket_id"] = f"TK-{EMAIL}"
            frame.loc[1, "subject"] = PAYLOAD
            frame.loc[1, "body"] = f"{PAYLOAD}\nCall {PHONE}, card {CARD}, mail {EMAIL}."
            labeled = frame["category"].notna()
            frame.loc[labeled[labeled].index[:40], "category"] = f"<b>{MARK}-cat</b>"
        frame.to_parquet(out / f"{name}.parquet", index=False)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from triage_core.config import load_config
    from triage_core.ops import feedback, priority, scoring
    from triage_core.store import Store
    from triage_core.triage import pipeline, training

    root = tmp_path_factory.mktemp("hostile")
    _hostile_files(root / "data")
    db = root / "hostile.duckdb"
    cfg = load_config()
    with Store(db) as store:
        store.import_directory(root / "data")
        training.train(store, cfg, force=True)
        pipeline.triage(store, cfg)
        ticket = store.scalar("SELECT min(ticket_id) FROM tickets")
        feedback.add(store, ticket, {"flag": "wrong"}, by=AUTHOR, comment=PAYLOAD)
        base = scoring.load_profile(store, cfg).to_dict()
        scoring.save_profile(store, priority.PriorityProfile.from_mapping(
            {**base, "name": f"<b>{MARK}-profile</b> {EMAIL} :material/home: {MARK}-icon"}),
            activate=True)
        pipeline.triage(store, cfg)
    return db


@pytest.fixture(scope="module")
def hostile_server(hostile_db: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("hostile_log") / "streamlit.log"
    env = {**os.environ, "TRIAGE_DB": str(hostile_db),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
             "--server.address", "localhost", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text()}")
            time.sleep(0.3)
        yield Server(base, log)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def outside_requests() -> list[str]:
    return []


@pytest.fixture(scope="module")
def hostile_page(hostile_server: Server, outside_requests: list[str]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.on("request", lambda r: None if r.url.startswith(
            (hostile_server.url, "data:", "blob:", "about:")) else outside_requests.append(
            r.url))
        pg = context.new_page()
        pg.set_default_timeout(RUN_TIMEOUT_MS)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


# Elements a payload would create, found anywhere in the document (HTML and chart SVG).
_INJECTED = f"""() => {{
  const hits = [];
  const marked = (e) => (e.textContent || '').includes('{MARK}');
  for (const a of document.querySelectorAll('a')) {{
    const href = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
    if (href.includes('{EVIL}')) hits.push('link ' + href);
  }}
  for (const e of document.querySelectorAll('b, strong, em, i')) {{
    if (marked(e)) hits.push('bold/italic: ' + e.textContent.slice(0, 60));
  }}
  for (const e of document.querySelectorAll('[style]')) {{
    const s = e.getAttribute('style') || '';
    if (marked(e) && e.children.length === 0 && /color:\\s*red|font-weight:\\s*bold/.test(s))
      hits.push('styled: ' + e.textContent.slice(0, 60));
  }}
  for (const img of document.querySelectorAll('img[src="x"]')) hits.push('img');
  const icons = '[data-testid="stIconMaterial"], [data-testid="stIconEmoji"], span[role="img"]';
  for (const e of document.querySelectorAll(icons)) {{
    const host = e.closest('[data-testid="stMarkdownContainer"], [data-testid="stWidgetLabel"]');
    if (host && marked(host)) hits.push('icon: ' + host.textContent.slice(0, 60));
  }}
  const starts = (e, s) => (e.textContent || '').trim().startsWith(s);
  for (const e of document.querySelectorAll('li')) {{
    if (starts(e, '{MARK}-li')) hits.push('list item: ' + e.textContent.slice(0, 60));
  }}
  for (const e of document.querySelectorAll('br')) {{
    const p = e.parentElement;
    if (p && marked(p)) hits.push('line break: ' + p.textContent.slice(0, 60));
  }}
  for (const e of document.querySelectorAll('p')) {{
    if (starts(e, '{MARK}-br')) hits.push('paragraph: ' + e.textContent.slice(0, 60));
  }}
  for (const s of document.querySelectorAll('script')) {{
    if ((s.textContent || '').includes('__xss')) hits.push('script');
  }}
  if (window.__xss) hits.push('payload ran: ' + window.__xss);
  return hits;
}}"""
# What the app shows (the file uploader's chip shows the user's own local file name: not data
# from the database, and not the app's to change).
_VISIBLE_TEXT = """() => {
  const skip = [...document.querySelectorAll('[data-testid="stFileUploaderFile"]')];
  skip.forEach(e => { e.dataset.hidden = e.style.display; e.style.display = 'none'; });
  const text = [document.body.innerText,
    ...[...document.querySelectorAll('svg text')].map(t => t.textContent)].join('\\n');
  skip.forEach(e => { e.style.display = e.dataset.hidden || ''; });
  return text;
}"""


def _check(pg, name: str) -> None:
    full_page_screenshot(pg, f"hostile_{name}")
    assert pg.locator('[data-testid="stException"]').count() == 0, name
    injected = pg.evaluate(_INJECTED)
    assert injected == [], f"{name}: markup from the data was rendered: {injected}"
    text = pg.evaluate(_VISIBLE_TEXT)
    shown = [p for p in PERSONAL if p in text]
    ctx = [text[max(0, text.find(p) - 150):text.find(p) + 80] for p in shown]
    assert not shown, f"{name}: personal data on screen with masking on: {shown} {ctx}"
    assert "\u202e" not in text, f"{name}: a bidirectional override reached the screen"


@pytest.mark.parametrize("name", list(PAGES))
def test_hostile_world_page(hostile_server: Server, hostile_page, name: str) -> None:
    url_path, _, heading = PAGES[name]
    hostile_page.goto(f"{hostile_server.url}/{url_path}")
    wait_for_run(hostile_page, heading)
    _check(hostile_page, name)


def test_hostile_world_has_the_payloads_masked_in_exports(
        hostile_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table and queue export, as the Data page makes them with masking on (on a copy:
    the server above holds the database)."""
    from streamlit.testing.v1 import AppTest

    copy = tmp_path / "copy.duckdb"
    shutil.copy(hostile_db, copy)

    script = """
import streamlit as st
from dashboard import data
st.session_state["mask_pii"] = True
out = {}
for name in data.exportable():
    out[name] = data.export_bytes(name, "csv").decode("utf-8")
st.session_state["exports"] = out
"""
    at = AppTest.from_string(script, default_timeout=300)
    monkeypatch.setenv("TRIAGE_DB", str(copy))
    at.run()
    assert not at.exception, at.exception
    exports = at.session_state["exports"]
    assert len(exports) >= 8
    for name, body in exports.items():
        leaked = [p for p in PERSONAL_IN_FILES if re.search(p, body)]
        assert not leaked, f"export {name!r} holds personal data: {leaked}"
    assert any("[email " in body for body in exports.values())


def test_the_app_makes_no_outside_request(hostile_page, outside_requests: list[str]) -> None:
    """Runs after the pages above (same browser): fonts, icons and scripts all come from the
    app itself; nothing is fetched from the internet."""
    assert outside_requests == [], sorted(set(outside_requests))[:10]


def test_payload_file_names_are_shown_as_text(hostile_server: Server, hostile_page,
                                              tmp_path: Path) -> None:
    """An upload whose file and column names hold payloads and personal data."""
    upload = tmp_path / f"<b>{MARK}-file<i> {EMAIL}.csv"
    upload.write_text(f"ticket_id,{EMAIL},<b>{MARK}-col</b>\nT1,x,y\n", encoding="utf-8")
    hostile_page.goto(f"{hostile_server.url}/data_io")
    wait_for_run(hostile_page, "Data")
    hostile_page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        str(upload))
    wait_for_run(hostile_page)
    _check(hostile_page, "data_upload")


def test_exports_have_safe_file_names(hostile_db: Path) -> None:
    from dashboard.data import safe_file_name

    assert safe_file_name("../../etc/passwd") == "etc_passwd"
    assert safe_file_name(f"queue: <b>{MARK}</b>") == f"queue_b_{MARK}_b"
    assert re.fullmatch(r"[A-Za-z0-9._-]*", safe_file_name(PAYLOAD))
    assert json.dumps(safe_file_name("\u202egpj.exe")) == '"gpj.exe"'
