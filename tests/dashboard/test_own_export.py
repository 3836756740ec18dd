"""The pages on a helpdesk's own export, shaped unlike the demo: labels but no model, no
campaigns, touchpoints, agents, segments or lifetime values, and a quarter of the tickets in
languages the sentiment lexicon does not cover. Every page says what is missing in words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from triage_core.config import default_config
from triage_core.store import Store
from triage_core.triage import pipeline

OpenApp = Callable[..., AppTest]
ENGLISH = ["I was charged twice for my order, please refund me.",
           "The app crashes every time I open my account page.",
           "Where is my parcel? It should have arrived last week.",
           "How do I change the e-mail address of my account?"]
FRENCH = "Je n'arrive pas à me connecter à mon compte depuis hier, aidez-moi s'il vous plaît."
GERMAN = "Meine Bestellung ist immer noch nicht angekommen, das ist wirklich ärgerlich."


QUEUE: dict[str, object] = {}  # the largest open queue and its size, read before the app opens


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("export") / "export.duckdb"
    rows = []
    for i in range(120):
        body = FRENCH if i % 8 == 0 else GERMAN if i % 8 == 1 else ENGLISH[i % 4]
        rows.append({"ticket_id": str(7 + 97 * i), "customer_id": f"c{i % 40}",
                     "created_at": str(pd.Timestamp("2026-03-01") + pd.Timedelta(hours=7 * i)),
                     "status": "open" if i % 3 else "closed", "subject": "",
                     "body": body, "category": ["Billing", "Technical", "Shipping",
                                                "Account"][i % 4]})
    with Store(db) as s:
        s.import_frame("customers", pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)]}))
        s.import_frame("tickets", pd.DataFrame(rows))
        pipeline.triage(s, default_config())
        QUEUE["team"], QUEUE["n"] = s.query(
            "SELECT team, count(*) AS n FROM triaged_tickets WHERE status = 'open'"
            " GROUP BY team ORDER BY n DESC LIMIT 1").iloc[0]
    return db


def texts(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    parts = [e.value for kind in ("info", "warning", "caption", "markdown", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "")  # markdown escapes


def test_missing_sentiment_languages_are_named(open_app: OpenApp, export_db: Path) -> None:
    at = open_app(export_db)
    shown = texts(at)
    assert "have no sentiment score" in shown and "(de 15, fr 15)" in shown
    notes = [w.value for w in at.warning]
    assert any("lifetime value" in n for n in notes)
    assert all(n[:1].isupper() or n[:1].isdigit() for n in notes), notes  # sentences


def test_campaign_pages_say_there_are_no_campaigns(open_app: OpenApp, export_db: Path) -> None:
    for page in ("campaigns", "plan"):
        at = open_app(export_db, page)
        shown = texts(at)
        assert "no campaigns and no touchpoints yet" in shown, (page, shown)
        assert "widen the filters" not in shown and "triage demo" not in shown
        assert not any(s.label == "Attribution model" for s in at.selectbox)


def test_queues_count_the_whole_queue_and_say_there_are_no_agents(open_app: OpenApp,
                                                                  export_db: Path) -> None:
    at = open_app(export_db, "queues")
    shown = texts(at)
    at.selectbox(key="queues_team").set_value(QUEUE["team"]).run()
    assert f"{int(QUEUE['n']):,} open tickets in this queue." in texts(at)
    assert "No agents yet" in shown and "holds more open tickets" not in shown
    assert not any(b.label == "Reassign" for b in at.button)


def test_topics_say_every_ticket_has_a_category(open_app: OpenApp, export_db: Path) -> None:
    at = open_app(export_db, "topics")
    assert "Every ticket already has a category" in texts(at) and not at.error


def test_data_page_lists_only_user_tables(open_app: OpenApp, export_db: Path) -> None:
    at = open_app(export_db, "data_io")
    listed = set(at.dataframe[0].value["table"])
    assert {"tickets", "customers"} <= listed
    assert listed.isdisjoint({"settings", "api_tokens", "schema_version", "campaign_credits"})


def test_numbered_ticket_ids_sort_as_numbers(open_app: OpenApp, export_db: Path) -> None:
    at = open_app(export_db, "explorer")
    ids = at.dataframe[0].value["ticket_id"]
    assert pd.api.types.is_integer_dtype(ids)
    assert sorted(ids)[:3] == [7, 104, 201]  # as numbers: 104 before 1,000-something
    assert "Ticket " + str(ids.iloc[0]) in [s.value for s in at.subheader]
