"""Routing rules, fallbacks, capacity, least-loaded + round robin, and rule config."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from triage_core.errors import ConfigError, TriageError
from triage_core.ops.routing import (
    RoutingRules,
    agent_loads,
    default_rules,
    route,
    rule_teams,
)

T0 = pd.Timestamp("2026-03-02 10:00:00")

RULES = {
    "confidence_threshold": 0.5,
    "default_language": "en",
    "keep_assigned": True,
    "triage_queue": "triage_queue",
    "overflow_queue": "overflow_queue",
    "vip": {"segments": ["vip"], "team": "vip_desk", "senior_only": True,
            "require_skill": False},
    "categories": {
        "billing": {"team": "billing_team", "skill": "billing"},
        "refund": {"team": "billing_team", "skill": "refund"},
        "app_crash": {"team": "tech_support", "skill": "app_crash"},
        "product_question": {"team": "customer_success", "skill": ""},
    },
}


@pytest.fixture
def rules() -> RoutingRules:
    return RoutingRules.from_mapping(RULES)


def agents(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["agent_id", "team", "skills", "languages", "capacity",
                                       "senior", "current_load"])


def tickets(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"status": "new", "category": "billing", "category_confidence": 0.9,
            "segment": "consumer", "language": "en", "priority_score": 50.0, "created_at": T0}
    return pd.DataFrame([{**base, "ticket_id": f"T{i}", **r} for i, r in enumerate(rows)])


def decisions(out: pd.DataFrame) -> list[tuple[Any, Any]]:
    """(team, agent_id) per ticket, None for missing."""
    return [(None if pd.isna(t) else t, None if pd.isna(a) else a)
            for t, a in zip(out["team"], out["agent_id"], strict=True)]


STAFF = agents([
    ("B1", "billing_team", "billing;refund", "en", 5, 0, 0),
    ("B2", "billing_team", "billing", "en;de", 5, 0, 0),
    ("T1", "tech_support", "app_crash", "en", 5, 0, 0),
    ("C1", "customer_success", "", "en", 5, 0, 0),
    ("V1", "vip_desk", "", "en", 5, 0, 0),
    ("V2", "vip_desk", "", "en", 5, 1, 0),
])


# --------------------------------------------------------------------------- rules


def test_category_decides_the_team(rules: RoutingRules) -> None:
    out = route(tickets([{"category": "app_crash"}, {"category": "product_question"}]),
                STAFF, rules)
    assert decisions(out) == [("tech_support", "T1"), ("customer_success", "C1")]
    assert out["routing_reason"].iloc[0] == (
        "category app_crash -> tech_support; skill app_crash; least-loaded agent T1 (0/5)")
    assert out["routing_outcome"].tolist() == ["assigned", "assigned"]


def test_skill_restricts_the_agents_of_the_team(rules: RoutingRules) -> None:
    staff = STAFF.assign(current_load=[4, 0, 0, 0, 0, 0])  # B1 busier, but only B1 has refund
    out = route(tickets([{"category": "refund"}]), staff, rules)
    assert decisions(out) == [("billing_team", "B1")]
    assert out["routing_reason"].iloc[0].endswith("skill refund; least-loaded agent B1 (4/5)")


def test_language_needs_an_agent_who_speaks_it(rules: RoutingRules) -> None:
    staff = STAFF.assign(current_load=[0, 3, 0, 0, 0, 0])  # B2 busier, but only B2 speaks de
    out = route(tickets([{"language": "de"}, {"language": "DE-at"}, {"language": "en"}]),
                staff, rules)
    assert decisions(out) == [("billing_team", "B2"), ("billing_team", "B2"),
                              ("billing_team", "B1")]
    assert "language de; least-loaded agent B2 (3/5)" in out["routing_reason"].iloc[0]


def test_vip_goes_to_a_senior_agent_of_the_vip_desk(rules: RoutingRules) -> None:
    staff = STAFF.assign(current_load=[0, 0, 0, 0, 0, 4])  # V1 is idle but not senior
    out = route(tickets([{"segment": "VIP", "category": "app_crash"}]), staff, rules)
    assert decisions(out) == [("vip_desk", "V2")]
    assert out["routing_reason"].iloc[0] == (
        "category app_crash; VIP segment -> vip_desk; senior agent; "
        "least-loaded agent V2 (4/5)")


def test_low_or_missing_confidence_goes_to_triage(rules: RoutingRules) -> None:
    out = route(tickets([{"category_confidence": 0.41}, {"category_confidence": 0.5},
                         {"category_confidence": np.nan}]), STAFF, rules)
    assert decisions(out) == [("triage_queue", None), ("billing_team", "B1"),
                              ("triage_queue", None)]
    assert out["routing_reason"].iloc[0] == "confidence 0.41 < 0.50 -> triage_queue"
    assert out["routing_reason"].iloc[2] == "no category confidence -> triage_queue"
    assert out["routing_outcome"].tolist() == ["triage", "assigned", "triage"]


def test_unknown_or_missing_category_goes_to_triage(rules: RoutingRules) -> None:
    out = route(tickets([{"category": "weather"}, {"category": None}]), STAFF, rules)
    assert decisions(out) == [("triage_queue", None), ("triage_queue", None)]
    assert out["routing_reason"].tolist() == [
        "no routing rule for category weather -> triage_queue", "no category -> triage_queue"]


def test_team_at_capacity_overflows(rules: RoutingRules) -> None:
    staff = STAFF.assign(current_load=[5, 4, 0, 0, 0, 0])  # one billing slot left (B2)
    out = route(tickets([{"priority_score": 10.0}, {"priority_score": 90.0}]), staff, rules)
    assert decisions(out) == [("overflow_queue", None), ("billing_team", "B2")]
    assert out["routing_reason"].iloc[0] == (
        "category billing -> billing_team; skill billing; all 2 suitable agents at capacity "
        "-> overflow_queue")
    assert out["routing_outcome"].tolist() == ["overflow", "assigned"]


def test_no_agent_with_the_language_overflows(rules: RoutingRules) -> None:
    out = route(tickets([{"language": "fr"}]), STAFF, rules)
    assert decisions(out) == [("overflow_queue", None)]
    assert out["routing_reason"].iloc[0].endswith(
        "language fr; no suitable agent -> overflow_queue")


def test_least_loaded_first_round_robin_among_equals(rules: RoutingRules) -> None:
    staff = agents([
        ("A", "billing_team", "billing", "en", 3, 0, 2),
        ("C", "billing_team", "billing", "en", 3, 0, 0),
        ("B", "billing_team", "billing", "en", 3, 0, 0),
    ])
    prios = [60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 5.0]
    out = route(tickets([{"priority_score": p} for p in prios]), staff, rules)
    # slots by (load level, agent id): B0 C0 B1 C1 A2 B2 C2 -> one slot per ticket, by priority
    assert out["agent_id"].tolist() == ["B", "C", "B", "C", "A", "B", "C"]
    loads = [r.rsplit("(", 1)[1] for r in out["routing_reason"]]
    assert loads == ["0/3)", "0/3)", "1/3)", "1/3)", "2/3)", "2/3)", "2/3)"]


def test_higher_priority_first_then_older_first(rules: RoutingRules) -> None:
    staff = agents([("A", "billing_team", "billing", "en", 2, 0, 0)])
    out = route(tickets([
        {"priority_score": 40.0, "created_at": T0},
        {"priority_score": 40.0, "created_at": T0 - pd.Timedelta(hours=1)},
        {"priority_score": 70.0, "created_at": T0 + pd.Timedelta(hours=1)},
    ]), staff, rules)
    assert out["routing_outcome"].tolist() == ["overflow", "assigned", "assigned"]


def test_language_pools_go_before_general_pools(rules: RoutingRules) -> None:
    staff = agents([
        ("A", "billing_team", "billing", "en;de", 1, 0, 0),
        ("B", "billing_team", "billing", "en", 1, 0, 0),
    ])
    # the German ticket is less urgent, but only A can take it: A is kept for it
    out = route(tickets([{"priority_score": 90.0}, {"priority_score": 10.0, "language": "de"}]),
                staff, rules)
    assert out["agent_id"].tolist() == ["B", "A"]


def test_closed_tickets_keep_their_agent_and_do_not_count(rules: RoutingRules) -> None:
    staff = agents([("A", "billing_team", "billing", "en", 1, 0, 0)])
    out = route(tickets([
        {"status": "solved", "agent_id": "A"},
        {"status": "closed", "agent_id": "GONE", "category": "weather"},
        {"status": "open", "agent_id": None},
    ]), staff, rules)
    assert decisions(out) == [("billing_team", "A"), (None, "GONE"), ("billing_team", "A")]
    assert out["routing_outcome"].tolist() == ["closed", "closed", "assigned"]
    assert out["routing_reason"].iloc[0] == "solved: not routed, keeps its agent"


def test_assigned_open_tickets_are_kept_and_count_toward_load(rules: RoutingRules) -> None:
    staff = agents([("A", "billing_team", "billing", "en", 2, 0, 0),
                    ("B", "billing_team", "billing", "en", 2, 0, 1)])
    out = route(tickets([{"status": "pending", "agent_id": "A", "priority_score": 1.0},
                         {"agent_id": None}, {"agent_id": None}, {"agent_id": None}]),
                staff, rules)
    # A holds 1 (kept), B 1 (current_load): A1 B1 free -> A then B, the last overflows
    assert out["routing_outcome"].tolist() == ["kept", "assigned", "assigned", "overflow"]
    assert out["agent_id"].tolist()[:3] == ["A", "A", "B"]
    assert out["routing_reason"].iloc[0] == "already assigned to A; kept"
    moved = route(tickets([{"status": "pending", "agent_id": "A"}]), staff,
                  RoutingRules.from_mapping({**RULES, "keep_assigned": False}))
    assert moved["routing_outcome"].tolist() == ["assigned"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_capacity_is_never_exceeded_and_every_agent_fits(seed: int,
                                                         rules: RoutingRules) -> None:
    rng = np.random.default_rng(seed)
    teams = ["billing_team", "tech_support", "customer_success", "vip_desk"]
    skill_pool = ["billing", "refund", "app_crash", ""]
    staff = agents([
        (f"A{i:02d}", teams[i % 4],
         ";".join(rng.choice(skill_pool, rng.integers(1, 3), replace=False)),
         ";".join(["en", *rng.choice(["de", "es", "fr"], rng.integers(0, 2))]),
         int(rng.integers(0, 6)), int(rng.integers(0, 2)), int(rng.integers(0, 4)))
        for i in range(24)
    ])
    n = 600
    df = pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(n)],
        "status": rng.choice(["new", "open", "pending", "solved"], n),
        "category": rng.choice(["billing", "refund", "app_crash", "product_question", "x"], n),
        "category_confidence": rng.uniform(0.3, 1, n),
        "segment": rng.choice(["consumer", "vip"], n, p=[0.8, 0.2]),
        "language": rng.choice(["en", "de", "es", "fr"], n, p=[0.7, 0.1, 0.1, 0.1]),
        "priority_score": rng.uniform(0, 100, n),
        "created_at": T0 + pd.to_timedelta(rng.integers(0, 1000, n), unit="m"),
        "agent_id": rng.choice([None, "A01", "A05"], n, p=[0.9, 0.05, 0.05]),
    })
    out = route(df, staff, rules)
    loads = agent_loads(out, staff).set_index("agent_id")
    new = out[out["routing_outcome"] == "assigned"]["agent_id"].astype(str).value_counts()
    kept = out[out["routing_outcome"] == "kept"]["agent_id"].astype(str).value_counts()
    for aid, row in loads.iterrows():
        start = int(staff.set_index("agent_id").loc[aid, "current_load"]) + kept.get(aid, 0)
        assert new.get(aid, 0) <= max(0, row["capacity"] - start), aid
    by_id = staff.set_index("agent_id")
    for _, t in out[out["routing_outcome"] == "assigned"].iterrows():
        a = by_id.loc[t["agent_id"]]
        vip = t["segment"] == "vip"
        assert a["team"] == ("vip_desk" if vip else RULES["categories"][t["category"]]["team"])
        if vip:
            assert a["senior"] == 1
        else:
            skill = RULES["categories"][t["category"]]["skill"]
            assert not skill or skill in a["skills"].split(";")
        assert t["language"] == "en" or t["language"] in a["languages"].split(";")
        assert t["status"] != "solved"
        assert t["category_confidence"] >= 0.5
    # overflow only when no suitable agent had room, and every open ticket got a decision
    assert out["routing_outcome"].notna().all()
    closed = out["status"] == "solved"
    assert (out.loc[closed, "routing_outcome"] == "closed").all()


def test_route_does_not_modify_inputs(rules: RoutingRules) -> None:
    df = tickets([{"agent_id": None}, {"category": "refund", "agent_id": None}])
    staff = STAFF.copy()
    before_df, before_staff = df.copy(), staff.copy()
    out = route(df, staff, rules)
    pd.testing.assert_frame_equal(df, before_df)
    pd.testing.assert_frame_equal(staff, before_staff)
    assert {"team", "agent_id", "routing_reason", "routing_outcome"} <= set(out.columns)


def test_without_skills_column_skills_are_not_checked(rules: RoutingRules) -> None:
    staff = pd.DataFrame({"agent_id": ["X"], "team": ["billing_team"], "capacity": [1]})
    out = route(tickets([{"category": "refund"}]), staff, rules)
    assert decisions(out) == [("billing_team", "X")]


def test_bad_agents_and_tickets_are_reported(rules: RoutingRules) -> None:
    with pytest.raises(TriageError, match="missing column status"):
        route(tickets([{}]).drop(columns=["status"]), STAFF, rules)
    with pytest.raises(TriageError, match=r"missing column.*capacity"):
        route(tickets([{}]), STAFF.drop(columns=["capacity"]), rules)
    with pytest.raises(TriageError, match="agent_id 'B1' appears twice"):
        route(tickets([{}]), pd.concat([STAFF, STAFF.iloc[:1]]), rules)
    with pytest.raises(TriageError, match="capacity of agent 'T1' must be a whole number"):
        route(tickets([{}]), STAFF.assign(capacity=[5, 5, -1, 5, 5, 5]), rules)


def test_rule_teams_ignore_capacity(rules: RoutingRules) -> None:
    staff = STAFF.assign(capacity=0)
    df = tickets([{"category": "app_crash"}, {"category_confidence": 0.1},
                  {"segment": "vip"}])
    assert rule_teams(df, rules).tolist() == ["tech_support", "triage_queue", "vip_desk"]
    assert route(df, staff, rules)["team"].tolist() == ["overflow_queue", "triage_queue",
                                                        "overflow_queue"]


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"confidence_treshold": 0.5}, "unknown key 'confidence_treshold'"),
        ({"confidence_threshold": 1.5}, "confidence_threshold must be between 0 and 1"),
        ({"confidence_threshold": "high"}, "confidence_threshold must be a number"),
        ({"vip": {"senior_only": "yes"}}, "vip.senior_only must be true or false"),
        ({"vip": {"desk": "x"}}, "unknown key 'vip.desk'"),
        ({"categories": {"new_cat": {"skill": "x"}}}, "categories.new_cat.team must name"),
        ({"categories": {"billing": {"teem": "x"}}}, "unknown key 'categories.billing.teem'"),
        ({"overflow_queue": ""}, "overflow_queue must be a non-empty text"),
    ],
)
def test_bad_rules_are_rejected_naming_the_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RoutingRules.from_mapping(section)


def test_rules_round_trip_and_merge_over_defaults() -> None:
    packaged = default_rules()
    assert RoutingRules.from_mapping(packaged.to_dict()) == packaged
    custom = RoutingRules.from_mapping({"confidence_threshold": 0.7,
                                        "categories": {"billing": {"team": "finance"}}})
    assert custom.confidence_threshold == 0.7
    assert custom.rule("billing").team == "finance"
    assert custom.rule("billing").skill == "billing"  # kept from the default entry
    assert custom.rule("app_crash") == packaged.rule("app_crash")


def test_packaged_rules_cover_every_demo_category() -> None:
    cats = ["billing", "refund", "coupon_promo", "account_access", "app_crash",
            "shipping_delivery", "cancellation", "product_question", "feature_request",
            "security_fraud"]
    packaged = default_rules()
    teams = {packaged.rule(c).team for c in cats}
    assert teams == {"billing_team", "tech_support", "logistics", "customer_success",
                     "trust_safety"}
    assert packaged.vip_team == "vip_desk"
