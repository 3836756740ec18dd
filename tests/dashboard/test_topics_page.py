"""The Topics page, the emerging-topic alert on the Overview, and the model-selection and
baseline tables of the Model quality page (AppTest on real DuckDB files)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _world import OUTAGE
from test_pages import OpenApp, assert_ok, frame_with, scalar

from triage_core.models import registry
from triage_core.store import Store


def test_models_page_shows_baselines_and_the_chosen_configuration(open_app: OpenApp,
                                                                  demo_db: Path) -> None:
    at = open_app(demo_db, "models")
    assert_ok(at)
    with Store(demo_db) as s:
        version = registry.get_version(s, 1)
    m, summary = version.metrics, version.train_summary
    base = frame_with(at, "model")
    assert base["model"].tolist() == ["version 1", "majority class", "TF-IDF + linear SVM",
                                      "margin"]
    assert base["accuracy"].iloc[0] == pytest.approx(m["accuracy"])
    assert base["macro_f1"].iloc[2] == pytest.approx(m["plain_baselines"]["tfidf_svm"]["macro_f1"])
    assert base["macro_f1"].iloc[3] == pytest.approx(m["margin"]["macro_f1"])
    cands = frame_with(at, "candidate")
    assert cands["candidate"].tolist() == [c["name"] for c in summary["selection"]["candidates"]]
    assert cands.loc[cands["chosen"], "candidate"].tolist() == [summary["selection"]["chosen"]]
    assert any(summary["selection"]["chosen"] in c.value for c in at.caption)


def test_topics_page_finds_renames_and_accepts(open_app: OpenApp, fresh_db: Path) -> None:
    unlabeled = scalar(fresh_db, "SELECT count(*) FROM tickets WHERE category IS NULL")
    at = open_app(fresh_db, "topics")
    assert_ok(at)
    assert any("No topics proposed" in i.value for i in at.info)
    at.button(key="topics_find").click().run()
    assert_ok(at)
    table = frame_with(at, "terms")
    assert table["tickets"].sum() == unlabeled and len(table) >= 2
    first = int(table["id"].iloc[0])
    at.text_input(key=f"topics_name_{first}").set_value("<b>Outages</b>").run()
    at.button(key="topics_rename").click().run()
    assert_ok(at)
    assert frame_with(at, "terms")["name"].iloc[0] == "<b>Outages</b>"  # shown as data
    assert all("<b>" not in h.value or "\\<b\\>" in h.value for h in at.subheader)
    at.button(key="topics_accept_all").click().run()
    assert_ok(at)
    assert at.success and f"{unlabeled:,} tickets labeled" in at.success[0].value
    with Store(fresh_db) as s:
        corrected = s.query("SELECT category, count(*) AS n FROM ticket_corrections"
                            " GROUP BY 1").set_index("category")["n"]
    assert corrected.sum() == unlabeled
    assert corrected["<b>Outages</b>"] == table["tickets"].iloc[0]


def test_overview_raises_an_emerging_topic_alert(open_app: OpenApp, fresh_db: Path) -> None:
    with Store(fresh_db) as s:
        customer = s.scalar("SELECT min(customer_id) FROM customers")
        newest = pd.Timestamp(s.scalar("SELECT max(created_at) FROM tickets"))
        s.import_frame("tickets", pd.DataFrame({
            "ticket_id": [f"OUT-{i}" for i in range(len(OUTAGE))],
            "created_at": [str(newest - pd.Timedelta(hours=i)) for i in range(len(OUTAGE))],
            "customer_id": customer, "status": "new", "subject": "", "body": OUTAGE}))
    at = open_app(fresh_db, "overview")
    assert_ok(at)
    warnings = [w.value for w in at.warning if "recent tickets about" in w.value]
    assert warnings, [w.value for w in at.warning]
    assert any("503" in w or "website" in w or "outage" in w for w in warnings)
    shown = pd.concat([d.value for d in at.dataframe if "ticket_id" in d.value.columns
                       and "body" in d.value.columns and len(d.value.columns) == 4])
    assert shown["ticket_id"].str.startswith("OUT-").any()
