"""Backtest on a tiny hand-made history: every metric is worked out by hand below; the replay
of stored tickets (``triage backtest``) on the conftest store."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from triage_core.config import default_config
from triage_core.errors import ConfigError, TriageError
from triage_core.ops.backtest import backtest, compare, gini, replay
from triage_core.ops.priority import PriorityProfile
from triage_core.ops.routing import RoutingRules
from triage_core.store import Store
from triage_core.triage import pipeline

CONFIG = default_config()

DAY = pd.Timestamp("2026-02-02")
RULES = RoutingRules.from_mapping({
    "confidence_threshold": 0.5,
    "categories": {"billing": {"team": "billing_team", "skill": "billing"},
                   "app_crash": {"team": "tech_support", "skill": "app_crash"}},
})
AGENTS = pd.DataFrame({
    "agent_id": ["A1", "A2", "T1"],
    "team": ["billing_team", "billing_team", "tech_support"],
    "skills": ["billing", "billing", "app_crash"],
    "capacity": [2, 2, 1],
})


def profile(**weights: float) -> PriorityProfile:
    """Severity-only by default: sev 4 -> 100 (P1), 3 -> 66.7 (P2), 2 -> 33.3 (P3), 1 -> 0."""
    return PriorityProfile.from_mapping({
        "name": "severity", "weights": weights or {"severity": 1.0},
        "tiers": {"P1": 75, "P2": 50, "P3": 25},
        "sla": {"at_risk_fraction": 0.75,
                "P1": {"first_response_minutes": 30, "resolution_hours": 8},
                "P2": {"first_response_minutes": 120, "resolution_hours": 24},
                "P3": {"first_response_minutes": 480, "resolution_hours": 72},
                "P4": {"first_response_minutes": 1440, "resolution_hours": 168}},
    })


def at(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-02-02 {hhmm}")


def history(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"status": "closed", "category_confidence": 0.9, "sentiment": 0.0,
            "ltv_percentile": 0.5, "segment": "consumer", "language": "en",
            "first_response_at": pd.NaT, "agent_id": None}
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["first_response_at"] = pd.to_datetime(df["first_response_at"])
    return df


HISTORY = history([
    # id, category, severity -> tier (first-response SLA), actual first response, actual agent
    {"ticket_id": "H1", "category": "billing", "severity": 4, "created_at": at("09:00"),
     "first_response_at": at("09:20"), "agent_id": "A1"},   # P1 due 09:30: on time; team ok
    {"ticket_id": "H2", "category": "billing", "severity": 3, "created_at": at("09:10"),
     "first_response_at": at("11:30"), "agent_id": "T1"},   # P2 due 11:10: late; team wrong
    {"ticket_id": "H3", "category": "app_crash", "severity": 2, "created_at": at("10:00"),
     "first_response_at": at("12:00"), "agent_id": "T1"},   # P3 due 18:00: on time; team ok
    {"ticket_id": "H4", "category": "app_crash", "severity": 1, "created_at": at("10:30")},
    {"ticket_id": "H5", "category": "billing", "severity": 4, "created_at": at("11:00"),
     "category_confidence": 0.3, "first_response_at": at("11:40"),
     "agent_id": "A2"},                                     # P1 due 11:30: late; triage != team
    {"ticket_id": "H6", "category": "billing", "severity": 2, "created_at": at("12:00"),
     "agent_id": "X9"},                                     # agent unknown: not evaluable
])


def test_metrics_on_a_hand_made_history() -> None:
    result = backtest(HISTORY, AGENTS, RULES, profile())
    m = result.metrics
    assert m["tickets"] == 6
    # known teams: H1 A1 billing_team (rule billing_team: hit), H2 T1 tech_support (rule
    # billing_team: miss), H3 T1 tech_support (hit), H5 A2 billing_team (rule triage: miss)
    assert m["team_evaluable"] == 4
    assert m["team_accuracy"] == pytest.approx(2 / 4)
    # one day, one window. billing pool by score: H1 100, H2 66.7, H6 33.3 over slots
    # A1(0) A2(0) A1(1) -> H1 A1, H2 A2, H6 A1; app_crash: H3 33.3 takes T1's only slot,
    # H4 overflows; H5 goes to triage.
    assert m["assigned_share"] == pytest.approx(4 / 6)
    assert m["overflow_share"] == pytest.approx(1 / 6)
    assert m["triage_share"] == pytest.approx(1 / 6)
    replay = result.tickets.set_index("ticket_id")
    assert replay["agent_id"].fillna("-").to_dict() == {"H1": "A1", "H2": "A2", "H3": "T1",
                                                       "H4": "-", "H5": "-", "H6": "A1"}
    # responded: H1, H2, H3, H5; late: H2 and H5
    assert m["sla_evaluable"] == 4
    assert m["sla_breaches"] == 2
    assert m["breach_rate"] == pytest.approx(0.5)
    assert replay["sla_breached"].to_dict() == {"H1": False, "H2": True, "H3": False,
                                               "H4": False, "H5": True, "H6": False}
    # workload: A1 2, A2 1, T1 1; per capacity 1.0, 0.5, 1.0
    assert (m["workload_max"], m["workload_min"]) == (2, 1)
    assert m["workload_mean"] == pytest.approx(4 / 3)
    # Gini of (0.5, 1, 1): sum of |xi - xj| over ordered pairs = 4 * 0.5 = 2;
    # 2 * n^2 * mean = 2 * 9 * (2.5 / 3) = 15 -> G = 2/15
    assert m["balance_index"] == pytest.approx(1 - 2 / 15)
    assert result.tier_counts == {"P1": 2, "P2": 1, "P3": 2, "P4": 1}
    work = result.workload.set_index("agent_id")
    assert work["assigned"].to_dict() == {"A1": 2, "A2": 1, "T1": 1}
    json.dumps(result.to_dict())


def test_breaches_use_the_tier_reached_while_waiting() -> None:
    # Half severity, half wait: H2 (sev 3) arrives at 33.3 (P3, 480 min). Answered after
    # 140 min: 33.3 + 50 * 140/480 = 47.9 (P3), so on time under this profile.
    # H1 (sev 4) arrives at 50 (P2, 120 min); 20 min later 50 + 50 * 20/120 = 58.3: P2, ok.
    # H5 (sev 4) answered after 40 min: 50 + 50 * 40/120 = 66.7 (P2), on time.
    result = backtest(HISTORY, AGENTS, RULES, profile(severity=0.5, wait=0.5))
    assert result.metrics["sla_breaches"] == 0
    assert result.tier_counts == {"P1": 0, "P2": 2, "P3": 1, "P4": 3}
    late = history([{"ticket_id": "L", "category": "billing", "severity": 4,
                     "created_at": at("09:00"), "first_response_at": at("10:50")}])
    # 110 min: at P2 50 + 50 * 110/120 = 95.8 -> P1 (30 min): the response was late
    got = backtest(late, AGENTS, RULES, profile(severity=0.5, wait=0.5))
    assert got.metrics["sla_breaches"] == 1
    assert got.tickets["response_tier"].tolist() == ["P1"]


def test_capacity_is_freed_when_a_ticket_is_resolved() -> None:
    agents = pd.DataFrame({"agent_id": ["A1"], "team": ["billing_team"],
                           "skills": ["billing"], "capacity": [1]})
    rows = [
        {"ticket_id": "D1", "category": "billing", "severity": 1, "created_at": at("09:00")},
        {"ticket_id": "D2", "category": "billing", "severity": 1,
         "created_at": DAY + pd.Timedelta(days=1, hours=9)},
    ]
    # without resolved_at D1 is held for the P4 resolution SLA (168 h): D2 overflows
    held = backtest(history(rows), agents, RULES, profile())
    assert held.tickets["routing_outcome"].tolist() == ["assigned", "overflow"]
    assert held.workload["peak_load"].tolist() == [1]
    # resolved the same day: A1 is free again the next day
    freed = history(rows).assign(resolved_at=[at("15:00"), pd.NaT])
    got = backtest(freed, agents, RULES, profile())
    assert got.tickets["routing_outcome"].tolist() == ["assigned", "assigned"]
    # with a 2-day window both arrive together and compete for the one slot
    both = backtest(freed, agents, RULES, profile(), window="2D")
    assert both.tickets["routing_outcome"].tolist() == ["assigned", "overflow"]


def test_compare_puts_two_profiles_side_by_side() -> None:
    a = backtest(HISTORY, AGENTS, RULES, profile(), label="severity")
    b = backtest(HISTORY, AGENTS, RULES, profile(severity=0.5, wait=0.5), label="waiting")
    table = compare(a, b)
    assert list(table.columns) == ["metric", "severity", "waiting", "delta"]
    rows = table.set_index("metric")
    assert rows.loc["sla_breaches", "severity"] == 2
    assert rows.loc["sla_breaches", "waiting"] == 0
    assert rows.loc["sla_breaches", "delta"] == -2
    assert rows.loc["tier_P1", "delta"] == -2
    # counts and their differences stay whole numbers beside the shares (the CLI printed
    # "8,059.00 tickets")
    assert isinstance(rows.loc["tier_P1", "delta"], int)
    assert isinstance(rows.loc["sla_breaches", "delta"], int)
    json.dumps(table.to_dict(orient="records"))
    same = compare(a, a)
    assert list(same.columns) == ["metric", "severity (a)", "severity (b)", "delta"]


def test_gini_by_hand() -> None:
    assert gini([1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 3]) == pytest.approx(2 / 3)  # 12 / (2 * 9 * 1)
    assert gini([0, 0]) is None


def test_bad_window_is_reported() -> None:
    with pytest.raises(TriageError, match="window"):
        backtest(HISTORY, AGENTS, RULES, profile(), window="soon")


def test_replay_of_the_stored_tickets_compares_two_profiles(loaded_store: Store) -> None:
    """The conftest store: three tickets on 1, 2 and 3 February, two agents."""
    pipeline.triage(loaded_store, CONFIG)
    out = replay(loaded_store, CONFIG, "default", "sla_first", days=30)
    assert (out["days"], out["tickets"]) == (30, 3)
    assert list(out["profiles"]) == ["default", "sla_first"]
    assert out["profiles"]["sla_first"]["metrics"]["tickets"] == 3
    assert {r["metric"] for r in out["comparison"]} >= {"sla_breaches", "tier_P1"}
    json.dumps(out)
    # the window ends at the newest ticket (3 Feb 11:00): one day back holds only it
    alone = replay(loaded_store, CONFIG, "default", days=1)
    assert alone["tickets"] == 1 and "comparison" not in alone
    with pytest.raises(TriageError, match="--days must be positive"):
        replay(loaded_store, CONFIG, "default", days=0)
    with pytest.raises(ConfigError, match="unknown priority profile 'nope'"):
        replay(loaded_store, CONFIG, "nope")
