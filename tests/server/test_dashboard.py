"""The dashboard beside the server: cached results keyed on the data version (fresh after any
write, from this process or through the server), the server's connection shared, the optional
shared-password login."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from _served import ROOT, new_ticket
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from dashboard import data
from triage_core.config import default_config
from triage_core.server import context, version
from triage_core.server.background import Emerging
from triage_core.server.quick import QuickTriage
from triage_core.store import Store

APP = ROOT / "dashboard" / "streamlit_app.py"
TIMEOUT = 120


@pytest.fixture
def app(db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("TRIAGE_DB", str(db))
    st.cache_data.clear()
    old = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", "full")
    yield AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    st_config.set_option("client.showErrorDetails", old)
    st.cache_data.clear()


def tickets_metric(at: AppTest) -> str:
    assert not at.exception, at.exception
    return next(m.value for m in at.metric if m.label == "Tickets")


def add_ticket(db: Path, ticket_id: str) -> None:
    """A ticket written and triaged by another writer of this process, as the API's intake
    does it."""
    import pandas as pd

    with Store(db) as s, s.transaction():
        customer = s.scalar("SELECT min(customer_id) FROM customers")
        newest = str(s.scalar("SELECT max(created_at) FROM tickets"))  # in the default range
        s.import_frame("tickets", pd.DataFrame([new_ticket(ticket_id, customer,
                                                           created_at=newest)]))
        QuickTriage(default_config()).run(s, [ticket_id])


def test_cached_results_follow_the_data_version(app: AppTest, db: Path) -> None:
    app.run()
    before = tickets_metric(app)
    add_ticket(db, "DASH-1")
    app.run()
    assert tickets_metric(app) == before  # nothing said the data changed: cached
    version.bump(tickets_only=True)
    app.run()
    assert int(tickets_metric(app).replace(",", "")) == int(before.replace(",", "")) + 1


def test_cached_functions_keep_separate_results() -> None:
    calls: list[str] = []

    @data.cached(4)
    def first() -> str:
        calls.append("first")
        return "a"

    @data.cached(4)
    def second() -> str:
        calls.append("second")
        return "b"

    assert (first(), second(), first(), second()) == ("a", "b", "a", "b")
    assert calls == ["first", "second"]
    version.bump()
    assert (first(), second()) == ("a", "b") and len(calls) == 4


class _Served:
    def __init__(self, db: Path) -> None:
        self.db_path = str(db.resolve())
        self.store = Store(db)
        self.config = default_config()
        self.writes = 0
        self.emerging: Emerging | None = None

    def emerging_alerts(self) -> Emerging | None:
        return self.emerging

    def after_write(self) -> None:
        self.writes += 1
        version.bump()

    def reset_database(self) -> None:
        raise AssertionError("not used here")


def test_under_a_server_the_dashboard_uses_its_connection(
        app: AppTest, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = _Served(db)

    def no_own_connection(path: str) -> Store:
        raise AssertionError("the dashboard opened its own connection")

    monkeypatch.setattr(data, "_store", no_own_connection)
    context.serve(served)
    try:
        app.run()
        assert tickets_metric(app)
        ticket = served.store.scalar("SELECT min(ticket_id) FROM triaged_tickets"
                                     " WHERE priority_tier <> 'P1'")
        data.add_feedback(ticket, {"tier": "P1"}, "lead", "")
        assert served.writes == 1  # the server hears of the dashboard's writes
        # emerging topics: the server's background result, never computed by the page
        assert any("still looking for them in the background" in c.value for c in app.caption)
        served.emerging = Emerging([{"name": "outage / website", "terms": ["outage"],
                                     "size": 12, "ticket_ids": [ticket]}], time.time() - 300,
                                   1.0)
        app.run()
        assert not app.exception, app.exception
        assert [w.value for w in app.warning if "recent tickets about" in w.value] == [
            "12 recent tickets about outage / website"]
        assert any("Found 5 min ago." in c.value for c in app.caption)
    finally:
        context.serve(None)
        served.store.close()


def test_optional_shared_password(app: AppTest) -> None:
    app.secrets["dashboard_password"] = "s3cret pass"
    app.run()
    assert not app.metric and not app.exception
    app.text_input[0].input("guess")
    app.button[0].click()
    app.run()
    assert [e.value for e in app.error] == ["Wrong password."] and not app.metric
    app.text_input[0].input("s3cret pass")
    app.button[0].click()
    app.run()
    assert tickets_metric(app)
