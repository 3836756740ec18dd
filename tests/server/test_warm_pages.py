"""The page warmer (dashboard/warm.py): under `triage serve` every page is opened once in the
background, before anyone does, and again after the data changed and went quiet, so a page's
first visitor finds its query results cached."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from _served import call, live_server, new_ticket, triage_cmd

from dashboard import warm
from triage_core.server.settings import ServerSettings

# cached query results of the pages' first views (dashboard/data.py), one or more per page
PAGE_CACHES = ("overview_kpis", "_alerts", "_campaign_impact", "_sentiment_trend", "forecast",
               "_queue_summary", "_open_frame", "_tickets", "_review_queue", "_model_versions",
               "_health")


def _warmed(log: Path) -> list[int]:
    return [int(v) for v in re.findall(r"pages warmed at data version (\d+)", log.read_text())]


def _wait(predicate, what: str, limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


@pytest.mark.slow
def test_the_server_opens_every_page_before_anyone_does(db: Path, tmp_path: Path,
                                                        customers: list[str]) -> None:
    log = tmp_path / "serve.log"
    with live_server(db, log) as live:
        _wait(lambda: call(live.url + "/api/v1/health")[1]["ready"], "server never ready")
        assert _warmed(log) == [0]
        text = log.read_text()
        assert "not finished" not in text and "failed" not in text, text
        with urllib.request.urlopen(live.url + "/_stcore/metrics", timeout=60) as resp:
            metrics = resp.read().decode()
        for name in PAGE_CACHES:
            assert f'cache="dashboard.data.{name}"' in metrics, name
        # a write makes the cached results stale: once it has been quiet, the pages again
        token = json.loads(triage_cmd("tokens", "create", "--db", str(db), "--name", "w",
                                      "--json").stdout)["token"]
        status, body = call(live.url + "/api/v1/tickets", "POST",
                            new_ticket("TWARM1", customers[0]), token=token)
        assert status in (200, 201), body
        _wait(lambda: len(_warmed(log)) >= 2, "pages not warmed after the write",
              limit=warm.QUIET + 240)
        assert _warmed(log)[-1] > 0
        assert call(live.url + "/api/v1/health")[1]["ready"]  # readiness stays


def test_page_warming_is_a_server_setting() -> None:
    assert ServerSettings.from_mapping().warm_pages is True
    assert ServerSettings.from_mapping({"warm_pages": False}).warm_pages is False
    with pytest.raises(Exception, match="warm_pages"):
        ServerSettings.from_mapping({"warm_pages": "sometimes"})
    assert set(warm.PAGES) >= {"", "tuning", "review", "plan", "campaigns"}
