"""Every dashboard page, run headless with Streamlit's AppTest on real DuckDB files.

Expected values are computed straight from the database (or the demo files), not from the
dashboard's own query helpers, so a wrong filter, cache or widget wiring shows up as a mismatch.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _world import WORLD_TICKETS, copy_db
from streamlit.testing.v1 import AppTest

from triage_core.config import load_config
from triage_core.marketing import AttributionSettings
from triage_core.models import registry
from triage_core.store import Store
from triage_core.triage import pipeline, training

OpenApp = Callable[..., AppTest]  # the open_app fixture (conftest.py)
PAGES = ("overview", "campaigns", "sentiment", "queues", "tuning", "explorer", "review",
         "models", "data_io")
TRIAGE_PAGES = ("overview", "campaigns", "sentiment", "queues", "tuning", "explorer", "review")


# -- helpers ------------------------------------------------------------------------------------

def query(db: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with Store(db) as s:
        return s.query(sql, params)


def scalar(db: Path, sql: str, params: list | None = None) -> Any:
    with Store(db) as s:
        return s.scalar(sql, params)


def assert_ok(at: AppTest) -> None:
    """No uncaught exception on the page (shows the app's traceback if there is one)."""
    if at.exception:
        e = at.exception[0]
        pytest.fail(f"page raised: {e.message}\n" + "\n".join(e.stack_trace))


def charts(at: AppTest) -> list[dict[str, Any]]:
    """The plotly figures on the page as plain JSON specs."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def chart(at: AppTest, title_start: str) -> dict[str, Any]:
    found = [c for c in charts(at) if title(c).startswith(title_start)]
    assert found, f"no chart titled {title_start!r}; have {[title(c) for c in charts(at)]}"
    return found[0]


def title(spec: dict[str, Any]) -> str:
    t = spec["layout"].get("title", {})
    return t.get("text", "") if isinstance(t, dict) else str(t)


def values(trace: dict[str, Any], axis: str) -> np.ndarray:
    """A trace's x/y/z values; plotly >= 6 stores numeric arrays base64-encoded."""
    v = trace.get(axis)
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:  # "rows, cols"
            arr = arr.reshape([int(n) for n in str(v["shape"]).split(",")])
        return arr
    return np.asarray(v if v is not None else [])


def bars(spec: dict[str, Any]) -> np.ndarray:
    """Every bar of a chart (full and partial periods are two traces), in x order."""
    traces = [t for t in spec["data"] if t.get("type") == "bar"]
    xs = np.concatenate([np.asarray(t["x"]) for t in traces])
    ys = np.concatenate([values(t, "y").astype(np.int64) for t in traces])
    return ys[np.argsort(xs, kind="stable")]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with column {column!r}"
    return found[0]


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


MARKDOWN_TYPES = ("markdown", "caption", "title", "header", "subheader", "info", "success",
                  "warning", "error", "latex")


def markdown_texts(at: AppTest) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer (incl. metric labels)."""
    out = [str(el.value) for t in MARKDOWN_TYPES for el in at.get(t)]
    out += [m.label for m in at.metric]
    return out


def count_label(at: AppTest) -> int:
    """The explorer's total from its page widget label 'Page (of N; X tickets)'."""
    label = at.number_input(key="explorer_page").label
    return int(label.split(";")[1].split("tickets")[0].replace(",", "").strip())


# -- every page, three database states ---------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_demo_db(open_app: OpenApp, demo_db: Path, page: str) -> None:
    at = open_app(demo_db, page)
    assert_ok(at)
    assert at.title, "every page has a title"
    assert not at.error, [e.value for e in at.error]
    if page in (*TRIAGE_PAGES, "models"):
        assert not any("No tickets yet" in i.value or "not triaged" in i.value
                       for i in at.info)
        assert at.get("plotly_chart") or at.dataframe, "the page shows data"
        for spec in charts(at):
            assert title(spec), "every chart has a title"
    # a missing value reads "–" in every table, never Streamlit's default "None"
    assert all(df.proto.placeholder == "–" for df in at.dataframe), page


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_empty_db(open_app: OpenApp, empty_db: Path, page: str) -> None:
    at = open_app(empty_db, page)
    assert_ok(at)
    infos = " ".join(i.value for i in at.info)
    if page in TRIAGE_PAGES:
        assert "No tickets yet" in infos
        assert not at.get("plotly_chart") and not at.dataframe
    elif page == "models":
        assert "No model trained yet" in infos
    else:  # data page: all counts zero, nothing to triage
        counts = frame_with(at, "rows")
        assert counts["rows"].sum() == 0
        assert button(at, "Triage all tickets").disabled


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_untriaged_db(open_app: OpenApp, loaded_db: Path, page: str) -> None:
    at = open_app(loaded_db, page)
    assert_ok(at)
    infos = " ".join(i.value for i in at.info)
    if page in TRIAGE_PAGES:
        assert "not triaged yet" in infos
    elif page == "models":
        assert "No model trained yet" in infos
    else:
        counts = frame_with(at, "rows").set_index("table")["rows"]
        assert counts["tickets"] == WORLD_TICKETS
        assert not button(at, "Triage all tickets").disabled


def test_sidebar_lists_every_filter_option(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db)
    channels = sorted(query(demo_db, "SELECT DISTINCT channel FROM tickets")["channel"])
    assert sorted(at.sidebar.multiselect(key="f_ticket_channels").options) == channels
    channels = sorted(query(demo_db, "SELECT DISTINCT channel FROM campaigns")["channel"])
    assert sorted(at.sidebar.multiselect(key="f_campaign_channels").options) == channels
    n_campaigns = scalar(demo_db, "SELECT count(*) FROM campaigns")
    assert len(at.sidebar.multiselect(key="f_campaigns").options) == n_campaigns
    assert at.sidebar.toggle(key="mask_pii").value is True


# -- widgets change what is shown ---------------------------------------------------------------

def test_overview_period_changes_the_volume_chart(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db)
    assert_ok(at)
    total = scalar(demo_db, "SELECT count(*) FROM tickets")
    assert metric(at, "Tickets") == f"{total:,}"
    weekly = bars(chart(at, "Tickets per week"))
    assert weekly.sum() == total

    at.segmented_control(key="overview_freq").set_value("day").run()
    assert_ok(at)
    daily = bars(chart(at, "Tickets per day"))
    days = query(demo_db, "SELECT count(DISTINCT created_at::DATE) AS n FROM tickets")["n"][0]
    assert len(daily) == days > len(weekly)
    assert daily.sum() == total


def test_sidebar_channel_filter_changes_overview_kpis(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db)
    before = metric(at, "Tickets")
    at.sidebar.multiselect(key="f_ticket_channels").set_value(["email"]).run()
    assert_ok(at)
    n_email = scalar(demo_db, "SELECT count(*) FROM tickets WHERE channel = 'email'")
    assert 0 < n_email < WORLD_TICKETS
    assert metric(at, "Tickets") == f"{n_email:,}" != before
    assert bars(chart(at, "Tickets per week")).sum() == n_email

    # a filter set on one page still holds on the next one
    at.switch_page("app_pages/explorer.py").run()
    assert_ok(at)
    assert count_label(at) == n_email


def test_sidebar_campaign_channel_is_not_the_ticket_channel(open_app: OpenApp,
                                                           demo_db: Path) -> None:
    """Campaign channel: tickets from customers an e-mail campaign touched in the lookback
    before the ticket, whatever channel the ticket came in through."""
    at = open_app(demo_db)
    at.sidebar.multiselect(key="f_campaign_channels").set_value(["email"]).run()
    assert_ok(at)
    lookback = AttributionSettings.from_mapping(load_config().get("attribution")).lookback_days
    touched = scalar(demo_db, f"""
        SELECT count(*) FROM tickets k WHERE EXISTS (
            SELECT 1 FROM touchpoints tp JOIN campaigns c USING (campaign_id)
            WHERE c.channel = 'email' AND tp.customer_id = k.customer_id
              AND tp.touched_at <= k.created_at
              AND tp.touched_at >= k.created_at - INTERVAL {lookback:g} DAY)""")
    by_ticket = scalar(demo_db, "SELECT count(*) FROM tickets WHERE channel = 'email'")
    assert 0 < touched < WORLD_TICKETS and touched != by_ticket
    assert metric(at, "Tickets") == f"{touched:,}"


def test_campaigns_page_channel_filters(open_app: OpenApp, demo_db: Path) -> None:
    """On the campaign page the campaign channel chooses campaign rows (their credit does not
    change); the ticket channel chooses the tickets that are attributed."""
    at = open_app(demo_db, "campaigns")
    assert_ok(at)
    everything = frame_with(at, "spend_full").set_index("campaign_id")["tickets"]
    at.sidebar.multiselect(key="f_campaign_channels").set_value(["email"]).run()
    assert_ok(at)
    email = frame_with(at, "spend_full").set_index("campaign_id")["tickets"]
    want = set(query(demo_db, "SELECT campaign_id FROM campaigns WHERE channel = 'email'")[
        "campaign_id"])
    assert set(email.index) == want and 0 < len(want) < len(everything)
    assert email.to_dict() == pytest.approx(everything[sorted(want)].to_dict())

    at.sidebar.multiselect(key="f_campaign_channels").set_value([]).run()
    at.sidebar.multiselect(key="f_ticket_channels").set_value(["email"]).run()
    assert_ok(at)
    by_ticket = frame_with(at, "spend_full").set_index("campaign_id")["tickets"]
    assert set(by_ticket.index) == set(everything.index)
    assert 0 < by_ticket.sum() < everything.sum()


def test_campaigns_model_picker_changes_the_table(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "campaigns")
    assert_ok(at)
    last = frame_with(at, "spend_full").set_index("campaign_id")["tickets"]
    assert at.selectbox(key="campaign_model").value == "last_touch"

    at.selectbox(key="campaign_model").set_value("first_touch").run()
    assert_ok(at)
    first = frame_with(at, "spend_full").set_index("campaign_id")["tickets"]
    assert "earliest campaign touch" in " ".join(c.value for c in at.caption)
    assert chart(at, "Attributed tickets per campaign (first touch")
    # one full credit per attributed ticket in both models: same total, different split
    assert first.sum() == pytest.approx(last.sum())
    assert not first.reindex(last.index).fillna(0).equals(last)


def test_campaigns_compare_adds_a_second_bar_series(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "campaigns")
    assert len(chart(at, "Attributed tickets per campaign")["data"]) == 1
    at.selectbox(key="campaign_compare").set_value("linear").run()
    assert_ok(at)
    spec = chart(at, "Attributed tickets per campaign: last_touch vs linear")
    assert [t["name"] for t in spec["data"]] == ["last_touch", "linear"]
    table = frame_with(at, "spend_full")
    assert "tickets_vs" in table.columns
    column = at.dataframe[next(i for i, d in enumerate(at.dataframe)
                           if "spend_full" in d.value.columns)]
    assert "Tickets (linear)" in str(column.proto)


def test_sentiment_group_by_changes_the_chart(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "sentiment")
    assert_ok(at)
    categories = set(query(demo_db, "SELECT DISTINCT category FROM triaged_tickets")["category"])
    names = {t["name"] for t in chart(at, "Mean sentiment")["data"]}
    assert names and names <= categories

    at.segmented_control(key="sentiment_by").set_value("channel").run()
    assert_ok(at)
    spec = chart(at, "Mean sentiment")
    assert title(spec).endswith("by channel")
    channels = set(query(demo_db, "SELECT DISTINCT channel FROM tickets")["channel"])
    assert {t["name"] for t in spec["data"]} == channels


def test_sentiment_threshold_filters_the_worst_tickets(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "sentiment")
    at.slider(key="sentiment_threshold").set_value(-0.5).run()
    assert_ok(at)
    worst = frame_with(at, "at_or_below")
    n_open = scalar(demo_db, "SELECT count(*) FROM triaged_tickets WHERE sentiment IS NOT NULL"
                             " AND status IN ('new', 'open', 'pending', 'on_hold')")
    expected = scalar(demo_db, "SELECT count(*) FROM triaged_tickets WHERE sentiment <= -0.5"
                               " AND status IN ('new', 'open', 'pending', 'on_hold')")
    # the 100 most negative open tickets (with a sentiment), those at or below the threshold
    assert len(worst) == min(n_open, 100)
    assert worst["sentiment"].is_monotonic_increasing
    assert int(worst["at_or_below"].sum()) == min(expected, 100)
    assert (worst.loc[worst["at_or_below"], "sentiment"] <= -0.5).all()


def test_queues_team_picker_changes_the_queue(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "queues")
    assert_ok(at)
    summary = frame_with(at, "open_tickets")
    teams = summary["team"].tolist()
    assert len(teams) >= 2
    shown = {}
    for team in teams[:2]:
        at.selectbox(key="queues_team").set_value(team).run()
        assert_ok(at)
        queue = frame_with(at, "due_in")
        in_db = query(demo_db, "SELECT ticket_id FROM triaged_tickets WHERE team = ? AND status"
                               " IN ('new', 'open', 'pending', 'on_hold')", [team])
        assert set(queue["ticket_id"]) <= set(in_db["ticket_id"])
        assert len(queue) == min(len(in_db), 300)
        assert int(summary.loc[summary["team"] == team, "open_tickets"].iloc[0]) == len(in_db)
        shown[team] = set(queue["ticket_id"])
    assert shown[teams[0]].isdisjoint(shown[teams[1]])


def _base_profile(at: AppTest) -> str:
    return at.selectbox(key="tuning_base").value


def test_tuning_sliders_change_the_preview(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "tuning")
    assert_ok(at)
    base = _base_profile(at)
    assert metric(at, "Tickets changing tier") == "0"

    for k in ("value", "severity", "wait", "boost"):
        at.slider(key=f"tuning_w_{k}_{base}").set_value(0.0)
    at.slider(key=f"tuning_w_sentiment_{base}").set_value(1.0).run()
    assert_ok(at)
    assert not at.error, [e.value for e in at.error]
    assert int(metric(at, "Tickets changing tier").replace(",", "")) > 0


def test_tuning_tier_thresholds_change_p1(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "tuning")
    base = _base_profile(at)
    # the preview re-scores with the saved weights, so only the thresholds move tickets
    open_scores = query(demo_db, "SELECT priority_score FROM triaged_tickets"
                                 " WHERE status IN ('new', 'open', 'pending', 'on_hold')")
    expected = int((open_scores["priority_score"] >= 2.0).sum())
    at.slider(key=f"tuning_p3_{base}").set_value(0.0)
    at.slider(key=f"tuning_p2_{base}").set_value(1.0)
    at.slider(key=f"tuning_p1_{base}").set_value(2.0).run()
    assert_ok(at)
    assert not at.error, [e.value for e in at.error]
    assert metric(at, "P1 tickets") == f"{expected:,}"
    assert expected > (open_scores["priority_score"] >= 75.0).sum()

    # thresholds out of order: one clear message naming the rule, no preview
    at.slider(key=f"tuning_p2_{base}").set_value(2.0).run()
    assert_ok(at)
    assert len(at.error) == 1 and "P1 > P2 > P3" in md_text(at.error[0].value)
    assert not at.get("plotly_chart")


OPEN_TIERS = ("SELECT ticket_id, priority_tier FROM triaged_tickets"
              " WHERE status IN ('new', 'open', 'pending', 'on_hold') ORDER BY ticket_id")


def test_tuning_save_profile_writes_and_activates(open_app: OpenApp, fresh_db: Path) -> None:
    before = query(fresh_db, OPEN_TIERS).set_index("ticket_id")["priority_tier"]
    at = open_app(fresh_db, "tuning")
    base = _base_profile(at)
    # the preview's "saved" side is exactly what is stored for the active profile
    p1_help = next(m.proto.help for m in at.metric if m.label == "P1 tickets")
    assert p1_help == f"saved profile: {(before == 'P1').sum():,}"

    at.slider(key=f"tuning_w_sentiment_{base}").set_value(1.0)
    at.slider(key=f"tuning_w_value_{base}").set_value(0.0).run()
    moved = int(metric(at, "Tickets changing tier").replace(",", ""))
    assert moved > 0
    at.text_input(key="tuning_name").set_value("night_shift")
    button(at, "Save profile").click().run()
    assert_ok(at)
    from dashboard.components import plain

    # the message is Markdown: the typed name arrives escaped
    assert any(plain("night_shift") in s.value for s in at.success), [e.value for e in at.error]
    body = scalar(fresh_db, "SELECT settings FROM priority_profiles WHERE name = 'night_shift'")
    assert body is not None
    assert json.loads(body)["weights"]["sentiment"] == pytest.approx(1.0)
    assert scalar(fresh_db, "SELECT value FROM settings WHERE key = 'active_profile'") \
        == "night_shift"
    # saving with "Make active" re-scored the tickets: the preview's count came true
    after = query(fresh_db, OPEN_TIERS).set_index("ticket_id")["priority_tier"]
    assert (after != before.reindex(after.index)).sum() == moved
    at.run()
    assert_ok(at)
    assert "night_shift" in at.selectbox(key="tuning_base").options
    marked = "**P** :red[x] $z^2$"  # a name with Markdown, colour and LaTeX
    at.text_input(key="tuning_name").set_value(marked)
    at.checkbox(key="tuning_activate").uncheck()
    button(at, "Save profile").click().run()
    assert_ok(at)
    assert any(f"Saved profile '{plain(marked)}'" in s.value for s in at.success)


def test_explorer_search_narrows_the_table(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "explorer")
    assert_ok(at)
    assert count_label(at) == WORLD_TICKETS
    at.text_input(key="explorer_search").set_value("refund").run()
    assert_ok(at)
    raw = query(demo_db, "SELECT ticket_id, subject, body FROM tickets")
    text = raw["subject"].fillna("") + "\n" + raw["body"].fillna("")
    hits = raw[text.str.contains("refund", case=False, regex=False)]
    assert 0 < len(hits) < WORLD_TICKETS
    assert count_label(at) == len(hits)
    table = frame_with(at, "priority_tier")
    assert len(table) == min(len(hits), 100)
    assert set(table["ticket_id"]) <= set(hits["ticket_id"])


def test_explorer_breaks_the_score_down_without_a_chart(open_app: OpenApp,
                                                        demo_db: Path) -> None:
    at = open_app(demo_db, "explorer")
    assert_ok(at)
    first = frame_with(at, "priority_tier")["ticket_id"].iloc[0]
    parts = frame_with(at, "points")
    assert {"Negative sentiment", "Severity", "Time waited vs SLA"} <= set(parts["part"])
    score = query(demo_db, "SELECT priority_score FROM triaged_tickets WHERE ticket_id = ?",
                  [first])["priority_score"].iloc[0]
    assert parts["points"].sum() == pytest.approx(score, abs=0.05)
    assert not at.get("plotly_chart")  # the explorer loads no plotting code in the browser


def test_explorer_feedback_records_a_correction(open_app: OpenApp, fresh_db: Path) -> None:
    at = open_app(fresh_db, "explorer")
    tid = next(str(k) for k in at.session_state if str(k).startswith(
        "explorer_fb_cat_")).removeprefix("explorer_fb_cat_")
    assert tid
    current = scalar(fresh_db, "SELECT category FROM triaged_tickets WHERE ticket_id = ?", [tid])
    new = next(c for c in at.selectbox(key=f"explorer_fb_cat_{tid}").options
               if not c.startswith("(keep") and c != current)
    at.selectbox(key=f"explorer_fb_cat_{tid}").set_value(new)
    at.text_input(key=f"explorer_fb_by_{tid}").set_value("Dana")
    button(at, f"Record feedback on {tid}").click().run()
    assert_ok(at)
    assert at.success and "Recorded on ticket" in at.success[0].value, [e.value for e in at.error]
    fb = query(fresh_db, "SELECT ticket_id, field, old_value, new_value, author FROM feedback")
    assert fb.to_dict("records") == [{"ticket_id": tid, "field": "category",
                                      "old_value": current, "new_value": new,
                                      "author": "Dana"}]
    assert scalar(fresh_db, "SELECT category FROM triaged_tickets WHERE ticket_id = ?",
                  [tid]) == new
    assert "Corrections on this ticket" in [c.value for c in at.caption]


def test_a_ticket_in_html_is_shown_as_text(open_app: OpenApp, fresh_db: Path) -> None:
    """An export's HTML description is shown without its tags (and never rendered)."""
    with Store(fresh_db) as s:
        s.execute("UPDATE tickets SET body = ?", ['<div dir="ltr">Card <b>declined</b>&nbsp;'
                                                  "again<br>Sent from my iPhone</div>"])
    at = open_app(fresh_db, "explorer")
    assert_ok(at)
    shown = [c.value for c in at.code]
    assert "Card declined again\nSent from my iPhone" in shown, shown
    assert "Message (its HTML shown as text)" in [c.value for c in at.caption]


@pytest.mark.slow
def test_review_retrain_creates_a_new_model_version(open_app: OpenApp, fresh_db: Path) -> None:
    at = open_app(fresh_db, "review")
    assert_ok(at)
    assert scalar(fresh_db, "SELECT count(*) FROM model_versions") == 1
    at.button(key="review_retrain").click().run()
    assert_ok(at)
    assert at.success and "Version 2" in at.success[0].value, [e.value for e in at.error]
    assert scalar(fresh_db, "SELECT count(*) FROM model_versions") == 2
    history = chart(at, "Model quality per version")
    assert list(history["data"][0]["x"]) == ["v1", "v2"]  # version labels


def test_models_page_shows_holdout_metrics(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "models")
    assert_ok(at)
    table = frame_with(at, "macro_f1")
    assert table["version"].tolist() == [1]
    with Store(demo_db) as s:
        m = registry.get_version(s, 1).metrics
    assert table["accuracy"].iloc[0] == pytest.approx(m["accuracy"])
    # the confusion matrix counts every holdout ticket once (1 in 5 labeled tickets by id hash)
    n_holdout = scalar(demo_db, "SELECT count(*) FROM tickets WHERE category IS NOT NULL"
                                f" AND hash(ticket_id) % {training.HOLDOUT_BUCKETS} = 0")
    heat = chart(at, "Confusion matrix")["data"][0]
    z = values(heat, "z")
    assert z.sum() == n_holdout
    assert np.trace(z) / n_holdout == pytest.approx(m["accuracy"])
    f1 = chart(at, "F1 per category")["data"][0]
    assert len(values(f1, "y")) == len(m["per_class"]) == z.shape[0]
    # every table has headers for people: a label for each column, never a raw name
    for df in at.dataframe:
        config = json.loads(df.proto.columns)
        shown = [c for c in df.value.columns if c not in ("_index",)]
        labels = [config.get(str(c), {}).get("label") for c in shown]
        assert all(lab and "_" not in lab for lab in labels), (shown, labels)


# -- data page: import, triage ------------------------------------------------------------------

def _tickets_csv(rows: list[dict[str, str]]) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


def test_data_import_of_a_valid_csv_adds_rows(open_app: OpenApp, fresh_db: Path) -> None:
    customer = scalar(fresh_db, "SELECT min(customer_id) FROM customers")
    csv = _tickets_csv([
        {"ticket_id": "NEW-1", "created_at": "2026-06-01 10:00:00", "customer_id": customer,
         "status": "open", "subject": "Charged twice", "body": "Please refund me."},
        {"ticket_id": "NEW-2", "created_at": "2026-06-01 11:00:00", "customer_id": customer,
         "status": "new", "subject": "App crash", "body": "It crashes on start."},
    ])
    at = open_app(fresh_db, "data_io")
    at.file_uploader(key="data_file").set_value(("new.csv", csv, "text/csv")).run()
    assert_ok(at)
    preview = frame_with(at, "ticket_id")
    assert preview["ticket_id"].tolist() == ["NEW-1", "NEW-2"]
    at.button(key="data_import").click().run()
    assert_ok(at)
    assert at.success and "2 new" in at.success[0].value, [e.value for e in at.error]
    assert scalar(fresh_db, "SELECT count(*) FROM tickets") == WORLD_TICKETS + 2

    at.button(key="data_triage").click().run()
    assert_ok(at)
    assert any("Predicted 2 new" in s.value for s in at.success), [e.value for e in at.error]
    assert scalar(fresh_db, "SELECT count(*) FROM triaged_tickets"
                            " WHERE ticket_id IN ('NEW-1', 'NEW-2')") == 2


def test_data_import_reads_dash_cells_as_empty(open_app: OpenApp, fresh_db: Path) -> None:
    """Zendesk writes "-" for no survey and no solve time: the page says it reads them as
    empty and imports (the "-" was a csat value to map by hand, the time refused)."""
    customer = scalar(fresh_db, "SELECT min(customer_id) FROM customers")
    csv = _tickets_csv([
        {"ticket_id": "DASH-1", "created_at": "2026-06-01 10:00:00", "customer_id": customer,
         "status": "open", "resolved_at": "-", "csat": "-"},
        {"ticket_id": "DASH-2", "created_at": "2026-06-01 11:00:00", "customer_id": customer,
         "status": "solved", "resolved_at": "2026-06-02 10:00:00", "csat": "4"}])
    at = open_app(fresh_db, "data_io")
    at.file_uploader(key="data_file").set_value(("dash.csv", csv, "text/csv")).run()
    assert_ok(at)
    captions = [c.value for c in at.caption]
    assert any("resolved_at: '-' read as empty" in md_text(c) for c in captions), captions
    at.button(key="data_import").click().run()
    assert_ok(at)
    assert at.success and "2 new" in at.success[0].value, [e.value for e in at.error]
    got = query(fresh_db, "SELECT ticket_id, resolved_at IS NULL AS open, csat FROM tickets"
                          " WHERE ticket_id LIKE 'DASH-%' ORDER BY ticket_id")
    assert got["open"].tolist() == [True, False]
    assert pd.isna(got["csat"].iloc[0]) and got["csat"].iloc[1] == 4


def test_data_import_of_labels_updates_existing_tickets(open_app: OpenApp,
                                                        fresh_db: Path) -> None:
    """A spreadsheet of ticket ids and categories: the page says it can only update, and the
    import labels those tickets and keeps the rest of them."""
    first, second = query(fresh_db, "SELECT ticket_id FROM tickets ORDER BY 1 LIMIT 2"
                          )["ticket_id"].tolist()
    before = query(fresh_db, "SELECT * FROM tickets ORDER BY ticket_id")
    csv = _tickets_csv([{"ticket_id": first, "category": "Refunds"},
                        {"ticket_id": second, "category": "Login"}])
    at = open_app(fresh_db, "data_io")
    at.file_uploader(key="data_file").set_value(("labels.csv", csv, "text/csv")).run()
    assert_ok(at)
    shown = [md_text(w.value) for w in at.warning]
    assert any(w.startswith("labels.csv has no created_at, customer_id, status: it can only"
                            " update tickets that exist") for w in shown), shown
    at.button(key="data_import").click().run()
    assert_ok(at)
    assert at.success and "0 new, 2 updated" in at.success[0].value, [e.value for e in at.error]
    after = query(fresh_db, "SELECT * FROM tickets ORDER BY ticket_id")
    assert after["category"].iloc[:2].tolist() == ["Refunds", "Login"]
    same = [c for c in before.columns if c != "category"]
    pd.testing.assert_frame_equal(after[same], before[same])


def test_data_import_advice_names_the_page_not_the_cli(open_app: OpenApp,
                                                       fresh_db: Path) -> None:
    """A required column the file lacks: the page says to pick it above, not to rerun a
    command with --mapping or --map, in its preview and when the import is refused."""
    csv = _tickets_csv([{"ticket_id": "NEW-9", "created_at": "2026-06-01 10:00:00",
                         "status": "open"}])
    at = open_app(fresh_db, "data_io")
    at.file_uploader(key="data_file").set_value(("new.csv", csv, "text/csv")).run()
    assert_ok(at)
    at.button(key="data_import").click().run()
    assert_ok(at)
    shown = [md_text(w.value) for w in at.warning] + [md_text(e.value) for e in at.error]
    # the preview: what the import can do with it; the refusal (no such ticket exists yet)
    assert any(m.startswith("new.csv has no customer_id: it can only update tickets that"
                            " exist") for m in shown), shown
    missing = [m for m in shown if "missing required column for tickets: customer_id" in m]
    assert len(missing) == 1, shown
    assert "pick them under Columns above" in missing[0] and "--map" not in missing[0]
    assert scalar(fresh_db, "SELECT count(*) FROM tickets WHERE ticket_id = 'NEW-9'") == 0


def test_data_page_preset_chosen_after_the_upload_fills_its_columns(open_app: OpenApp,
                                                                     fresh_db: Path) -> None:
    """Choosing the Zendesk preset after the file's columns were guessed: the pickers show
    the preset's columns (its first reply column stayed "(not in the file)", the guess), and
    the import reads the first reply minutes."""
    csv = (b"Id,Requester id,Subject,Status,Created at,First reply time in minutes\n"
           b"Z-1,ZC-1,Hi,Open,2026-06-01 10:00:00 +0100,95\n")
    at = open_app(fresh_db, "data_io")
    at.file_uploader(key="data_file").set_value(("zendesk.csv", csv, "text/csv")).run()
    assert_ok(at)
    assert at.selectbox(key="data_col_tickets_first_response_at").value == "(not in the file)"
    at.selectbox(key="data_mapping_source").set_value("zendesk").run()
    assert_ok(at)
    picked = at.selectbox(key="data_col_tickets_zendesk_first_response_at").value
    assert picked == "First reply time in minutes"
    at.checkbox(key="data_create_missing").check().run()
    at.button(key="data_import").click().run()
    assert_ok(at)
    assert at.success and "1 new" in at.success[0].value, [e.value for e in at.error]
    got = query(fresh_db, "SELECT first_response_at FROM tickets WHERE ticket_id = 'Z-1'")
    assert got["first_response_at"].iloc[0] == pd.Timestamp("2026-06-01 10:35:00")


def md_text(markdown: str) -> str:
    """What a Markdown message shows: escapes and link-breaking zero-width spaces removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def test_data_import_of_a_bad_csv_names_row_and_column(open_app: OpenApp,
                                                       fresh_db: Path) -> None:
    customer = scalar(fresh_db, "SELECT min(customer_id) FROM customers")
    csv = _tickets_csv([
        {"ticket_id": "BAD-1", "created_at": "2026-06-01 10:00:00", "customer_id": customer,
         "status": "open"},
        {"ticket_id": "BAD-2", "created_at": "last tuesday", "customer_id": customer,
         "status": "open"},
    ])
    before = query(fresh_db, "SELECT count(*) AS n FROM tickets")["n"][0]
    at = open_app(fresh_db, "data_io")
    at.file_uploader(key="data_file").set_value(("bad.csv", csv, "text/csv")).run()
    at.button(key="data_import").click().run()
    assert_ok(at)
    assert not at.success
    assert len(at.error) == 1
    msg = md_text(at.error[0].value)
    assert "bad.csv" in msg and "row 2" in msg and "created_at" in msg, msg
    assert "Traceback" not in msg
    assert query(fresh_db, "SELECT count(*) AS n FROM tickets")["n"][0] == before


def test_data_triage_button_triages_a_loaded_db(open_app: OpenApp, loaded_db: Path,
                                                tmp_path: Path) -> None:
    db = tmp_path / "loaded_copy.duckdb"
    db.write_bytes(loaded_db.read_bytes())
    at = open_app(db, "data_io")
    at.button(key="data_triage").click().run()
    assert_ok(at)
    assert any(f"Predicted {WORLD_TICKETS:,}" in s.value for s in at.success), \
        [e.value for e in at.error]
    assert scalar(db, "SELECT count(*) FROM triaged_tickets") == WORLD_TICKETS
    at.switch_page("app_pages/overview.py").run()
    assert_ok(at)
    assert metric(at, "Tickets") == f"{WORLD_TICKETS:,}"


# -- untrusted text: never Markdown, PII masked -------------------------------------------------

XSS_SUBJECT = "**bold** <script>alert(1)</script>"
XSS_BODY = "Click [here](http://evil.example) _now_ <img src=x onerror=alert(1)>"
PII_BODY = "Please reply to jane.doe@example.com about my refund."
NUMBERED = "4155550123"  # a helpdesk's numeric id, shaped like a US phone number
MARKUP_ID = "TMD**x** :red[y] $z^2$"  # an id with Markdown, Streamlit colour and LaTeX
MARKUP_PRIORITY = ":red[urgent] **now**"  # the helpdesk's own priority: any text


@pytest.fixture(scope="module")
def special_db(world_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy plus two open tickets with hostile and personal text, triaged (read-only)."""
    tmp_path = tmp_path_factory.mktemp("special")
    db = copy_db(world_db, tmp_path, "special.duckdb")
    with Store(db) as s:
        customer = s.scalar("SELECT min(customer_id) FROM customers")
        newest = s.scalar("SELECT max(created_at) FROM tickets")
        frame = pd.DataFrame([
            {"ticket_id": "TXSS1", "created_at": str(newest), "customer_id": customer,
             "status": "open", "channel": "email", "subject": XSS_SUBJECT, "body": XSS_BODY},
            {"ticket_id": "TPII1", "created_at": str(newest), "customer_id": customer,
             "status": "open", "channel": "email", "subject": "Refund",
             "body": PII_BODY},
            {"ticket_id": NUMBERED, "created_at": str(newest), "customer_id": customer,
             "status": "open", "channel": "email", "subject": "Invoice", "body": "Wrong total."},
            {"ticket_id": MARKUP_ID, "created_at": str(newest), "customer_id": customer,
             "status": "open", "channel": "email", "subject": "Login", "body": "Locked out.",
             "source_priority": MARKUP_PRIORITY},
        ])
        path = tmp_path / "special.csv"
        frame.to_csv(path, index=False)
        s.import_file("tickets", path)
        pipeline.triage(s, load_config())
    return db


def _no_markdown_leak(at: AppTest) -> None:
    for text in markdown_texts(at):
        for bad in ("<script>", "**bold**", "evil.example", "onerror"):
            assert bad not in text, f"ticket text rendered as Markdown: {text!r}"


@pytest.mark.parametrize("page", TRIAGE_PAGES)
def test_ticket_text_is_never_markdown(open_app: OpenApp, special_db: Path, page: str) -> None:
    at = open_app(special_db, page)
    assert_ok(at)
    if page == "explorer":
        at.text_input(key="explorer_search").set_value("TXSS1").run()
        assert_ok(at)
        # the ticket is on screen, as plain text and code, not Markdown
        assert XSS_SUBJECT in [t.value for t in at.text]
        assert XSS_BODY in [c.value for c in at.code]
    if page == "queues":
        at.selectbox(key="queues_team").set_value(
            scalar(special_db, "SELECT team FROM triaged_tickets WHERE ticket_id = 'TXSS1'")
        ).run()
        assert_ok(at)
        assert XSS_SUBJECT in frame_with(at, "due_in")["subject"].tolist()
    _no_markdown_leak(at)


def test_ids_and_helpdesk_values_in_labels_are_not_markdown(open_app: OpenApp,
                                                            special_db: Path) -> None:
    """A ticket id in the feedback button's label and the helpdesk's priority in a metric:
    both render Markdown, so they must arrive escaped."""
    from dashboard.components import plain

    at = open_app(special_db, "explorer")
    at.text_input(key="explorer_search").set_value(MARKUP_ID).run()
    assert_ok(at)
    labels = [b.label for b in at.button]
    assert f"Record feedback on {plain(MARKUP_ID)}" in labels, labels
    assert metric(at, "Helpdesk priority") == plain(MARKUP_PRIORITY)


def test_explorer_masks_pii_unless_turned_off(open_app: OpenApp, special_db: Path) -> None:
    at = open_app(special_db, "explorer")
    at.text_input(key="explorer_search").set_value("TPII1").run()
    assert_ok(at)
    body = "\n".join(c.value for c in at.code)
    assert "jane.doe@example.com" not in body
    assert "[email]" in body

    at.sidebar.toggle(key="mask_pii").set_value(False).run()
    assert_ok(at)
    assert PII_BODY in [c.value for c in at.code]


def test_numeric_ticket_ids_are_shown_as_they_are(open_app: OpenApp, special_db: Path) -> None:
    """Masking hides phone numbers in text, not the digits of an id agents look tickets up by."""
    at = open_app(special_db, "explorer")
    at.text_input(key="explorer_search").set_value(NUMBERED).run()
    assert_ok(at)
    ids = frame_with(at, "ticket_id")["ticket_id"].astype(str).tolist()
    assert NUMBERED in ids and not any("phone" in i for i in ids)
    shown = " ".join(markdown_texts(at) + [t.value for t in at.text])
    assert NUMBERED in shown and "[phone" not in shown


# -- the questions a demo audience asks ----------------------------------------------------------

def test_campaigns_page_answers_cost_roi_and_what_to_fix(open_app: OpenApp,
                                                         demo_db: Path) -> None:
    at = open_app(demo_db, "campaigns")
    assert_ok(at)
    assert metric(at, "Cost per ticket").startswith("$")  # what does one ticket cost?
    assert re.fullmatch(r"[+−]?[\d,]+\.\d %", metric(at, "ROI after support cost"))
    texts = " ".join(markdown_texts(at))
    assert "ROI after support cost** = (revenue − spend − support cost) ÷ spend" in texts
    assert "Campaigns to fix" in [h.value for h in at.subheader]
    fix = frame_with(at, "reason")  # which campaign to stop or fix, and why, in words
    assert len(fix) and fix["reason"].str.len().min() > 20
    costs = frame_with(at, "base_cost")
    assert {"P1", "P2", "P3", "P4"} <= set(costs.columns)
    table = frame_with(at, "spend_full")
    assert (table["spend"] <= table["spend_full"] + 1e-6).all()
    # the drill-down follows the campaign picked (a ticked row sets the same picker)
    second = table.iloc[1]
    at.selectbox(key="campaign_drill").set_value(second["campaign_id"]).run()
    assert_ok(at)
    heading = [h.value for h in at.subheader if h.value.startswith("Drill\\-down")]
    assert heading and heading[0].replace("\\", "").endswith(second["name"])


def test_campaign_money_follows_the_date_filter(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "campaigns")
    whole = frame_with(at, "spend_full").set_index("campaign_id")
    _lo, hi = at.sidebar.date_input(key="f_dates").value
    at.sidebar.date_input(key="f_dates").set_value((hi - pd.Timedelta(days=20), hi)).run()
    assert_ok(at)
    late = frame_with(at, "spend_full").set_index("campaign_id")
    assert late["spend"].sum() < whole["spend"].sum()  # spend follows the filter too
    assert late["spend_full"].sum() == pytest.approx(whole["spend_full"].sum())


def test_overview_kpis_show_the_change_against_the_previous_period(
        open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db)
    _lo, hi = at.sidebar.date_input(key="f_dates").value
    start = hi - pd.Timedelta(days=27)
    at.sidebar.date_input(key="f_dates").set_value((start, hi)).run()
    assert_ok(at)
    now = scalar(demo_db, "SELECT count(*) FROM tickets WHERE created_at >= ?::DATE"
                          " AND created_at < ?::DATE + 1", [str(start), str(hi)])
    before = scalar(demo_db, "SELECT count(*) FROM tickets WHERE created_at >= ?::DATE - 28"
                             " AND created_at < ?::DATE", [str(start), str(start)])
    tickets = next(m for m in at.metric if m.label == "Tickets")
    assert tickets.value == f"{now:,}"
    assert tickets.proto.delta.replace("−", "-") == f"{now - before:+,}"
    assert any("change against the previous 28 days" in c.value for c in at.caption)


def test_explorer_refuses_a_correction_to_the_current_value(open_app: OpenApp,
                                                            fresh_db: Path) -> None:
    at = open_app(fresh_db, "explorer")
    tid = next(str(k) for k in at.session_state if str(k).startswith(
        "explorer_fb_cat_")).removeprefix("explorer_fb_cat_")
    current = scalar(fresh_db, "SELECT category FROM triaged_tickets WHERE ticket_id = ?", [tid])
    at.selectbox(key=f"explorer_fb_cat_{tid}").set_value(current)
    button(at, f"Record feedback on {tid}").click().run()
    assert_ok(at)
    assert at.error and "Nothing recorded" in at.error[0].value
    assert scalar(fresh_db, "SELECT count(*) FROM feedback") == 0


def test_queues_reassignment_refreshes_the_queue(open_app: OpenApp, fresh_db: Path) -> None:
    at = open_app(fresh_db, "queues")
    team = at.selectbox(key="queues_team").value
    queue = frame_with(at, "due_in")
    assert not queue.empty and queue["due_in"].str.contains(r"^in |overdue$|due now").all()
    ticket = at.selectbox(key="reassign_ticket").value
    free = query(fresh_db, """SELECT a.agent_id FROM agents a LEFT JOIN triaged_tickets t
                              ON t.agent_id = a.agent_id AND t.status IN ('new', 'open',
                              'pending', 'on_hold') WHERE a.team <> ? GROUP BY ALL
                              HAVING count(t.ticket_id) < any_value(a.capacity)
                              ORDER BY 1 LIMIT 1""", [team])
    if free.empty:
        pytest.skip("every agent of the other teams is at capacity")
    at.selectbox(key="reassign_agent").set_value(free["agent_id"].iloc[0])
    button(at, "Reassign").click().run()
    assert_ok(at)
    assert at.success and "reassigned to" in at.success[0].value
    # the page reran after the write: the ticket left this team's queue at once
    assert ticket not in set(frame_with(at, "due_in")["ticket_id"])
    assert scalar(fresh_db, "SELECT agent_id FROM triaged_tickets WHERE ticket_id = ?",
                  [ticket]) == free["agent_id"].iloc[0]


RTL = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "C7\u202egpj.exe" shows as "C7exe.jpg"


@pytest.fixture(scope="module")
def bidi_db(world_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy whose campaign and agent names and one ticket's language hold a bidi
    override or Markdown (written by SQL: names are free text an import accepts)."""
    db = copy_db(world_db, tmp_path_factory.mktemp("bidi"), "bidi.duckdb")
    with Store(db) as s:
        s.execute("UPDATE campaigns SET name = 'Promo ' || ? || 'gpj.exe'", [RTL])
        s.execute("UPDATE agents SET name = name || ? || 'xe'", [RTL])
        customer = s.scalar("SELECT min(customer_id) FROM customers")
        newest = s.scalar("SELECT max(created_at) FROM tickets")
        path = db.parent / "lang.csv"
        pd.DataFrame([{"ticket_id": "TLANG1", "created_at": str(newest),
                       "customer_id": customer, "status": "open", "subject": "Hilfe",
                       "body": "Mein Konto ist gesperrt.", "language": "**LANGMD**"}]
                     ).to_csv(path, index=False)
        s.import_file("tickets", path)
        pipeline.triage(s, load_config())
    return db


def _options_and_cells(at: AppTest) -> list[str]:
    """Every option of every selectbox and multiselect (as shown) and every text cell."""
    out: list[str] = []
    for widgets in (at.selectbox, at.multiselect, at.sidebar.selectbox,
                    at.sidebar.multiselect):
        for w in widgets:
            out += [str(o) for o in w.options]
    for frame in at.dataframe:
        value = frame.value
        out += [str(c) for c in value.columns]
        for col in value.columns:
            out += [v for v in value[col].tolist() if isinstance(v, str)]
    return out


@pytest.mark.parametrize("page", ["campaigns", "queues", "plan"])
def test_bidi_overrides_never_reach_options_or_tables(open_app: OpenApp, bidi_db: Path,
                                                      page: str) -> None:
    at = open_app(bidi_db, page)
    assert_ok(at)
    for masked in (True, False):
        if not masked:
            at.sidebar.toggle(key="mask_pii").set_value(False).run()
            assert_ok(at)
        shown = _options_and_cells(at)
        assert any("gpj.exe" in s or "xe" in s for s in shown), (page, shown[:20])
        assert not [s for s in shown if RTL in s], page


def test_a_language_in_a_tooltip_is_not_markdown(open_app: OpenApp, bidi_db: Path) -> None:
    from dashboard.components import plain

    at = open_app(bidi_db, "explorer")
    at.text_input(key="explorer_search").set_value("TLANG1").run()
    assert_ok(at)
    helps = [m.help for m in at.metric if m.label == "Sentiment"]
    assert helps and plain("**LANGMD**") in helps[0], helps


def test_a_ticket_dated_far_ahead_does_not_stretch_the_default_range(open_app: OpenApp,
                                                                     fresh_db: Path) -> None:
    """One ticket dated 2100 (a typo in the year) stretched the Overview's weekly charts to
    2100; the default date range ends at the demo's last day, the picker still reaches it,
    and the data-health warning above the charts names it."""
    with Store(fresh_db) as s:
        last = s.scalar("SELECT max(created_at)::DATE FROM tickets")
        customer = s.scalar("SELECT min(customer_id) FROM customers")
        s.import_frame("tickets", pd.DataFrame([{
            "ticket_id": "TYPO-1", "created_at": "2100-06-30T10:00:00Z",
            "customer_id": customer, "status": "open", "channel": "email",
            "subject": "Refund", "body": "Charged twice."}]))
        pipeline.triage(s, load_config())
    at = open_app(fresh_db)
    assert_ok(at)
    picker = at.sidebar.date_input(key="f_dates")
    assert picker.value[1] == last
    assert str(picker.max) == "2100-06-30"
    assert metric(at, "Tickets") == f"{WORLD_TICKETS:,}"  # the 2100 ticket is left out
    periods = [pd.Timestamp(x) for c in charts(at) for t in c["data"] for x in t.get("x") or []
               if isinstance(x, str) and x[:2] in ("19", "20", "21")]
    assert periods and max(periods).year == last.year
    assert any("the default date range do not run to it" in str(w.value) for w in at.warning)
    picker.set_value((picker.value[0], picker.max)).run()  # the user can still reach it
    assert_ok(at)
    assert metric(at, "Tickets") == f"{WORLD_TICKETS + 1:,}"
