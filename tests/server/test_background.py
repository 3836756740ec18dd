"""Emerging-topic alerts found by the server in the background: ready at start, found again
after new tickets, and what the health route reports."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import pytest
from _served import Api
from _world import OUTAGE

from triage_core.triage import labeling


def wait_for(check: Callable[[], object], seconds: float = 240) -> object:
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return value


def test_emerging_alerts_come_from_the_background(serve_api: Callable[..., Api],
                                                  customers: list[str]) -> None:
    api = serve_api(topics={})
    wait_for(lambda: api.client.get("/api/v1/health").json()["ready"])
    first = api.server.emerging_alerts()
    assert first is not None and first.seconds > 0
    assert not any("outage" in a["terms"] for a in first.alerts)
    newest = pd.Timestamp(api.query("SELECT max(created_at) FROM tickets").iloc[0, 0])
    rows = [{"ticket_id": f"OUT-{i}", "customer_id": customers[i % len(customers)],
             "created_at": (newest + pd.Timedelta(minutes=i + 1)).isoformat(),
             "status": "new", "channel": "email", "subject": "", "body": text}
            for i, text in enumerate(OUTAGE)]
    assert api.post("/api/v1/tickets", rows).status_code == 200
    api.server.emerging.refresh_now()
    found = wait_for(lambda: (e := api.server.emerging_alerts()) is not None
                     and e.computed_at > first.computed_at and e)
    outage = [a for a in found.alerts if any(t.startswith("OUT-") for t in a["ticket_ids"])]
    assert outage and outage[0]["size"] == len(OUTAGE)
    assert {"outage", "website"} <= set(outage[0]["terms"])


def test_a_search_is_abandoned_at_its_next_step_when_the_server_stops(
        serve_api: Callable[..., Api], caplog: pytest.LogCaptureFixture) -> None:
    api = serve_api(topics={})
    wait_for(lambda: api.client.get("/api/v1/health").json()["ready"])
    steps: list[int] = []

    def stop_at_the_second_step() -> None:
        steps.append(1)
        if len(steps) == 2:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        labeling.emerging_alerts(api.server.store, api.server.config, stop_at_the_second_step)
    assert len(steps) == 2  # nothing ran after the step that said stop
    watch = api.server.emerging
    before = watch.latest()
    watch._stop.set()  # what stop() does before it waits for the thread
    watch._compute()
    assert watch.latest() is before  # abandoned: no result replaced the last one ...
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # ... and no error logged


def test_scikit_learn_is_imported_before_the_servers_threads_start(tmp_path) -> None:
    """Threads that import scikit-learn for the first time at once can meet its package
    half-initialized (ImportError "partially initialized module 'sklearn.base'"): the server
    imports it in its own thread before it starts any other. Checked in a fresh process, where
    nothing imported it yet: it is there as soon as ``start`` has begun its threads."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import sys, threading
        from triage_core.config import default_config
        from triage_core.server.app import _SCIKIT_LEARN, Server
        from triage_core.cli.server import CliVerbs
        from triage_core.store import Store
        Store({str(tmp_path / "s.duckdb")!r}).close()
        before = "sklearn" in sys.modules
        seen = []
        started = threading.Thread.start
        def start(self):  # what the server imported when it starts each of its threads
            seen.append(all(name in sys.modules for name in _SCIKIT_LEARN))
            started(self)
        threading.Thread.start = start
        server = Server({str(tmp_path / "s.duckdb")!r}, default_config(), CliVerbs())
        server.start()
        server.stop()
        print(before, bool(seen) and all(seen))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split()[-2:] == ["False", "True"]
