"""`make bench`, pages as users meet them: each dashboard page's first load in Chromium.

Starts `triage serve` on the given database (one process: dashboard and API, as `make run`
does), waits for its warm-up, then opens every page in a fresh browser context (a new session:
no cookies, no Streamlit session state) and times from the navigation until the page's script
has finished (Streamlit's ``data-test-script-state`` is ``notRunning`` and stays so for a
moment, so a rerun the page triggers itself is included). Each page is loaded ``--runs`` times,
each in a new tab (a new Streamlit session) of one browser profile: the first run meets cold
query caches (nobody opened the page since the server started), the later ones the caches the
first one filled, as a second user would. The first load of all, with an empty browser cache,
is reported on its own.

Usage: python -m benchmarks.browser_pages DB [--runs 3] [--pages overview explorer ...]
Needs Chromium at /usr/bin/chromium (Debian's package) and Playwright.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.server_load import CHROMIUM, LIMIT, start_server, wait_ready

# url path of each page (st.Page's default: the file name; the overview is the start page)
PAGES = {"overview": "", "campaigns": "campaigns", "sentiment": "sentiment", "plan": "plan",
         "queues": "queues", "tuning": "tuning", "explorer": "explorer", "review": "review",
         "models": "models", "topics": "topics", "data_io": "data_io"}
QUIET = 0.75  # seconds the script must stay finished before a load counts as done

_STATE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app ? app.getAttribute('data-test-script-state') : null;
}"""


def _load(page: Any, url: str) -> float:
    """Seconds from navigation until the script finished its last run of the load."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=LIMIT * 1000)
    done_at = None
    deadline = start + LIMIT
    while time.perf_counter() < deadline:
        state = page.evaluate(_STATE)
        now = time.perf_counter()
        if state == "notRunning":
            if done_at is None:
                done_at = now
            elif now - done_at >= QUIET:
                return done_at - start
        else:
            done_at = None
        page.wait_for_timeout(20)
    raise TimeoutError(f"{url} did not finish loading within {LIMIT:.0f} s")


def page_loads(base_url: str, pages: list[str], runs: int = 3) -> list[dict[str, Any]]:
    """Per page: every run's seconds, the first (cold query caches) and the median of the
    others. Each load is a new tab, so a new Streamlit session, in one browser profile that
    keeps Streamlit's static files cached, as a returning user's browser does; the very first
    load (an empty browser cache: the whole frontend is fetched and compiled) is reported on
    its own as ``empty browser cache``."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless=new", "--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            first = _load(page, f"{base_url.rstrip('/')}/{PAGES['data_io']}")
            page.close()
            out.append({"page": "empty browser cache (data page)", "first_s": round(first, 3),
                        "warm_median_s": None, "runs": [round(first, 3)], "errors": 0})
            print(f"  browser empty cache: data page {first:6.2f} s", file=sys.stderr,
                  flush=True)
            for name in pages:
                seconds, errors = [], 0
                for _ in range(runs):
                    page = context.new_page()
                    seconds.append(_load(page, f"{base_url.rstrip('/')}/{PAGES[name]}"))
                    errors += page.locator('[data-testid="stException"]').count()
                    page.close()
                row = {"page": name, "first_s": round(seconds[0], 3),
                       "warm_median_s": round(statistics.median(seconds[1:]), 3)
                       if len(seconds) > 1 else None,
                       "runs": [round(s, 3) for s in seconds], "errors": errors}
                print(f"  browser {name:<10} first {row['first_s']:6.2f} s  warm "
                      f"{row['warm_median_s'] or 0:6.2f} s  errors {errors}",
                      file=sys.stderr, flush=True)
                out.append(row)
            context.close()
        finally:
            browser.close()
    return out


def measure(db: Path, pages: list[str] | None = None, runs: int = 3) -> list[dict[str, Any]]:
    """Start a server on ``db``, wait for its warm-up, time the pages, stop the server."""
    if not CHROMIUM.exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: install Debian's chromium package")
    with tempfile.TemporaryDirectory() as tmp:
        proc, record = start_server(db, Path(tmp) / "serve.log")
        try:
            waited = wait_ready(record["url"])
            print(f"  server ready after {waited:.1f} s more", file=sys.stderr, flush=True)
            return page_loads(record["url"], pages or list(PAGES), runs)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="*", choices=list(PAGES))
    args = parser.parse_args()
    print(json.dumps(measure(args.db, args.pages, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
