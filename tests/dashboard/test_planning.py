"""The "Plan a campaign" page and the lift section of "Campaign impact", run headless with
AppTest on real DuckDB files. Expected values come from triage_core directly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.test_pages import OpenApp, assert_ok, chart, frame_with, metric, values
from triage_core import marketing
from triage_core.config import load_config
from triage_core.store import Store


def plan_inputs(at: AppTest) -> dict:
    """The plan the page's widgets describe, as triage_core takes it."""
    channel = at.selectbox(key="plan_channel").value
    spend = at.number_input(key="plan_spend").value
    return {"start": pd.Timestamp(at.date_input(key="plan_start").value),
            "end": pd.Timestamp(at.date_input(key="plan_end").value),
            "reach": float(at.number_input(key="plan_reach").value),
            "like": tuple(at.multiselect(key="plan_like").value),
            "channel": None if at.multiselect(key="plan_like").value or channel == "(any)"
            else channel,
            "spend": spend if spend > 0 else None,
            "revenue": at.number_input(key="plan_revenue").value}


def expected(db: Path, plan: dict) -> marketing.Forecast:
    cfg = load_config()
    with Store(db) as s:
        return marketing.forecast_campaign(s, marketing.Plan(**plan), forecast=cfg["forecast"],
                                           attribution=cfg["attribution"],
                                           routing=cfg["routing"])


def test_plan_page_shows_the_forecast(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "plan")
    assert_ok(at)
    assert at.title[0].value == "Plan a campaign"
    f = expected(demo_db, plan_inputs(at))
    assert metric(at, "Tickets") == f"{f.tickets:,.0f}"
    assert metric(at, "Support cost") == f"{f.support_cost:,.0f}"
    band = chart(at, "Forecast tickets per day after launch")
    assert [t["name"] for t in band["data"][1:]] == ["80% interval", "forecast"]
    assert values(band["data"][2], "y") == pytest.approx(f.daily["tickets"].to_numpy())
    staffing = frame_with(at, "campaign_peak_hours")
    assert set(staffing["team"]) == set(f.staffing["team"])
    assert set(staffing["status"]) <= {"ok", "tight", "over", "no agents"}
    verdicts = [e.value for kind in ("success", "warning", "error", "info") for e in at.get(kind)]
    assert any(v.lower().startswith(f.verdict[:12].lower()) for v in verdicts)
    with Store(demo_db) as s:
        bt = marketing.backtest(s, forecast=load_config()["forecast"])
    assert metric(at, "Campaigns") == f"{bt.n_campaigns:,.0f}"
    assert len(frame_with(at, "ape")) == len(bt.rows)


def test_plan_page_follows_the_inputs(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "plan")
    at.multiselect(key="plan_like").set_value(["CMP08"])
    at.number_input(key="plan_reach").set_value(5000)
    at.button[0].click().run()  # the form's submit button
    assert_ok(at)
    plan = plan_inputs(at)
    assert plan["like"] == ("CMP08",) and plan["reach"] == 5000.0
    f = expected(demo_db, plan)
    assert metric(at, "Tickets") == f"{f.tickets:,.0f}"
    assert frame_with(at, "weight")["campaign_id"].tolist() == ["CMP08"]


def test_plan_page_errors_are_shown_plainly(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "plan")
    at.date_input(key="plan_end").set_value(at.date_input(key="plan_start").value)
    at.button[0].click().run()
    assert_ok(at)
    assert any("must be after start" in e.value for e in at.error)


def test_plan_page_on_an_empty_database(open_app: OpenApp, empty_db: Path) -> None:
    at = open_app(empty_db, "plan")
    assert_ok(at)
    info = " ".join(i.value for i in at.info)
    assert "has no campaigns and no touchpoints and no tickets yet" in info
    assert "triage demo" in info  # an empty database: the demo is the quickest start
    assert not at.get("plotly_chart")


def test_plan_page_without_triage(open_app: OpenApp, loaded_db: Path) -> None:
    at = open_app(loaded_db, "plan")  # the forecast needs no triage
    assert_ok(at)
    assert metric(at, "Tickets") == f"{expected(loaded_db, plan_inputs(at)).tickets:,.0f}"


def test_campaign_page_lift_section(open_app: OpenApp, demo_db: Path) -> None:
    at = open_app(demo_db, "campaigns")
    assert "Lift asks what the campaign changed" in " ".join(c.value for c in at.caption)
    assert not [c for c in at.get("plotly_chart")
                if "caused vs credited" in json.loads(c.proto.spec)["layout"]["title"]["text"]]
    at.number_input(key="campaign_lift_window").set_value(14)
    at.toggle(key="campaign_lift_on").set_value(True).run()
    assert_ok(at)
    table = frame_with(at, "incremental_tickets").set_index("campaign_id")
    cfg = load_config()
    with Store(demo_db) as s:
        lift = marketing.campaign_lift(s, window_days=14, lift=cfg["lift"],
                                       attribution=cfg["attribution"]).set_index("campaign_id")
    pd.testing.assert_series_equal(table["incremental_tickets"], lift["incremental_tickets"],
                                   check_names=False)
    bars = chart(at, "Tickets caused vs credited per campaign")
    assert [t["name"] for t in bars["data"]] == ["attributed (last touch)",
                                                "incremental (caused)"]
