"""Priority scores, contributions, tiers, SLA status, escalation and profile config.

Expected numbers are computed by hand in each test from the formula
score = 100 * sum(w_k * c_k) / sum(w).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from triage_core.errors import ConfigError, TriageError
from triage_core.ops.priority import (
    CONTRIB_COLUMNS,
    PriorityProfile,
    PrioritySettings,
    default_settings,
    ltv_percentile,
    replay_tiers,
    score,
)

T0 = pd.Timestamp("2026-03-02 10:00:00")


def profile_dict(**weights: float) -> dict[str, Any]:
    """A complete profile written out here, so the tests do not depend on packaged values."""
    return {
        "name": "test",
        "weights": weights,
        "tiers": {"P1": 75, "P2": 50, "P3": 25},
        "sla": {
            "at_risk_fraction": 0.75,
            "P1": {"first_response_minutes": 30, "resolution_hours": 8},
            "P2": {"first_response_minutes": 120, "resolution_hours": 24},
            "P3": {"first_response_minutes": 480, "resolution_hours": 72},
            "P4": {"first_response_minutes": 1440, "resolution_hours": 168},
        },
        "escalation": {"sentiment_threshold": -0.6, "vip_sentiment_threshold": -0.3,
                       "vip_segments": ["vip"], "vip_ltv_percentile": 0.95},
        "boost": {"segments": {"vip": 1.0, "smb": 0.5}, "campaigns": {"K1": 0.8}},
    }


def make_profile(**weights: float) -> PriorityProfile:
    return PriorityProfile.from_mapping(profile_dict(**weights))


def tickets(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"status": "open", "sentiment": 0.0, "severity": 1, "ltv_percentile": 0.0,
            "segment": "consumer", "campaign_id": None, "first_response_at": pd.NaT,
            "created_at": T0}
    df = pd.DataFrame([{**base, "ticket_id": f"T{i}", **r} for i, r in enumerate(rows)])
    df["created_at"] = pd.to_datetime(df["created_at"])
    df["first_response_at"] = pd.to_datetime(df["first_response_at"])
    return df


# --------------------------------------------------------------------------- scores


def test_weighted_blend_and_contributions_by_hand() -> None:
    prof = make_profile(sentiment=0.4, value=0.3, severity=0.2, wait=0.1)
    df = tickets([{"sentiment": -0.5, "ltv_percentile": 0.8, "severity": 3}])
    out = score(df, prof, T0 + pd.Timedelta(minutes=15)).iloc[0]
    # sentiment 0.5*40 = 20; value 0.8*30 = 24; severity 2/3*20 = 13.333...
    base = 0.5 * 40 + 0.8 * 30 + (2 / 3) * 20
    assert base == pytest.approx(57.3333333)  # -> P2, first-response SLA 120 min
    wait = 10 * (15 / 120)
    assert out["contrib_sentiment"] == pytest.approx(20.0)
    assert out["contrib_value"] == pytest.approx(24.0)
    assert out["contrib_severity"] == pytest.approx(13.333333333)
    assert out["contrib_wait"] == pytest.approx(1.25)
    assert out["contrib_boost"] == 0.0
    assert out["priority_score"] == pytest.approx(base + wait)  # 58.5833
    assert out["priority_tier"] == "P2"
    assert out["sla_due_at"] == T0 + pd.Timedelta(minutes=120)
    assert out["sla_status"] == "ok"


def test_contributions_always_add_up_to_the_score() -> None:
    prof = make_profile(sentiment=0.3, value=0.1, severity=0.3, wait=0.2, boost=0.1)
    rng = np.random.default_rng(7)
    n = 300
    df = pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(n)],
        "created_at": T0 - pd.to_timedelta(rng.integers(0, 5000, n), unit="m"),
        "status": rng.choice(["new", "open", "pending", "solved"], n),
        "sentiment": rng.uniform(-1, 1, n),
        "severity": rng.integers(1, 5, n),
        "ltv_percentile": rng.uniform(0, 1, n),
        "segment": rng.choice(["vip", "smb", "consumer"], n),
    })
    out = score(df, prof, T0)
    total = out[list(CONTRIB_COLUMNS)].sum(axis=1)
    np.testing.assert_allclose(total, out["priority_score"], rtol=0, atol=1e-9)
    assert out["priority_score"].between(0, 100).all()


def test_waiting_lifts_the_tier_and_the_wait_uses_the_final_tiers_sla() -> None:
    prof = make_profile(sentiment=0.4, value=0.3, severity=0.2, wait=0.1)
    df = tickets([{"sentiment": -1.0, "ltv_percentile": 0.5, "severity": 3}])
    out = score(df, prof, T0 + pd.Timedelta(minutes=100)).iloc[0]
    # without wait: 40 + 15 + 13.33 = 68.33 (P2, SLA 120 min); + 10*100/120 = 76.67 -> P1;
    # against the P1 SLA of 30 min the wait is full: 68.33 + 10 = 78.33, still P1.
    assert out["priority_tier"] == "P1"
    assert out["contrib_wait"] == pytest.approx(10.0)
    assert out["priority_score"] == pytest.approx(40 + 15 + 40 / 3 + 10)
    assert out["sla_due_at"] == T0 + pd.Timedelta(minutes=30)
    assert out["sla_status"] == "breached"


def test_boost_is_the_larger_of_segment_and_campaign() -> None:
    prof = make_profile(sentiment=0.5, boost=0.5)
    df = tickets([
        {"segment": "vip", "campaign_id": "K1"},   # max(1.0, 0.8)
        {"segment": "SMB", "campaign_id": "K1"},   # max(0.5, 0.8); segment is case-blind
        {"segment": "smb"},                        # 0.5
        {"segment": "consumer", "campaign_id": "K9"},  # neither listed
    ])
    out = score(df, prof, T0)
    assert out["contrib_boost"].tolist() == pytest.approx([50.0, 40.0, 25.0, 0.0])


def test_ltv_percentile_counts_each_customer_once() -> None:
    ltv = pd.Series([100.0, 300.0, 300.0, 300.0, 1000.0, np.nan])
    cust = pd.Series(["C1", "C2", "C2", "C3", "C4", "C5"])
    # distinct customers with a value: 100, 300 (C2), 300 (C3), 1000 -> share with LTV <= own
    got = ltv_percentile(ltv, cust)
    assert got.iloc[:5].tolist() == pytest.approx([1 / 4, 3 / 4, 3 / 4, 3 / 4, 1.0])
    assert np.isnan(got.iloc[5])  # no lifetime value: no percentile (neutral, never VIP)
    # without customer ids every row counts: 5 values
    assert ltv_percentile(ltv).iloc[:5].tolist() == pytest.approx([1 / 5, 4 / 5, 4 / 5, 4 / 5,
                                                                    1.0])


def test_missing_lifetime_values_are_neutral_never_vip() -> None:
    """A helpdesk without LTV data: every customer gets the same middle value, nobody is VIP
    by value (the old behaviour made everyone's percentile 1.0: all 'VIP')."""
    prof = make_profile(sentiment=0.3, value=0.2, severity=0.3, wait=0.1, boost=0.1)
    df = tickets([{"sentiment": -0.4, "lifetime_value": np.nan, "segment": None}] * 3
                 + [{"sentiment": 0.2, "lifetime_value": np.nan, "segment": None}])
    df = df.drop(columns=[c for c in ("ltv_percentile",) if c in df.columns])
    out = score(df, prof, T0)
    share = prof.weights.value / prof.weights.total
    assert out["contrib_value"].tolist() == pytest.approx([100 * share * 0.5] * 4)
    assert not out["escalated"].any()  # -0.4 is above the general threshold; VIP never applies
    assert out["contrib_boost"].tolist() == [0.0] * 4  # no segment, no boost


def test_score_computes_value_from_lifetime_value() -> None:
    prof = make_profile(value=1.0)
    df = tickets([{}, {}, {}]).drop(columns=["ltv_percentile"])
    df["lifetime_value"] = [50.0, 10.0, 50.0]
    df["customer_id"] = ["A", "B", "A"]
    out = score(df, prof, T0)
    assert out["priority_score"].tolist() == pytest.approx([100.0, 50.0, 100.0])


@pytest.mark.parametrize(
    ("sentiment", "tier"),
    [(-1.0, "P1"), (-0.75, "P1"), (-0.7499, "P2"), (-0.5, "P2"), (-0.4999, "P3"),
     (-0.25, "P3"), (-0.2499, "P4"), (0.0, "P4")],
)
def test_tier_boundaries_are_inclusive(sentiment: float, tier: str) -> None:
    prof = make_profile(sentiment=1.0)
    out = score(tickets([{"sentiment": sentiment}]), prof, T0)
    assert out["priority_score"].iloc[0] == pytest.approx(-sentiment * 100)
    assert out["priority_tier"].iloc[0] == tier


def test_score_on_a_threshold_despite_float_rounding_is_the_higher_tier() -> None:
    prof = make_profile(sentiment=0.1, severity=0.2)
    out = score(tickets([{"sentiment": -0.25, "severity": 4}]), prof, T0)
    # (0.1*0.25 + 0.2*1) / 0.3 = 0.75 exactly on paper; in floats 74.99999999999999
    assert out["priority_score"].iloc[0] == pytest.approx(75.0)
    assert out["priority_tier"].iloc[0] == "P1"


# --------------------------------------------------------------------------- SLA


def test_sla_clock_first_response_resolution_and_closed() -> None:
    prof = make_profile(severity=1.0)  # no wait term: the tier is fixed by severity
    responded = T0 + pd.Timedelta(minutes=10)
    df = tickets([
        {"severity": 4, "first_response_at": responded},            # P1, resolution 8 h
        {"severity": 1},                                             # P4, first response 24 h
        {"severity": 1, "created_at": T0 - pd.Timedelta(hours=18)},  # P4, 18/24 h elapsed
        {"severity": 1, "created_at": T0 - pd.Timedelta(hours=19)},  # 19/24 h > 75 %
        {"severity": 1, "created_at": T0 - pd.Timedelta(hours=24)},  # exactly due
        {"severity": 1, "created_at": T0 - pd.Timedelta(hours=25)},  # past due
        {"severity": 2, "status": "solved", "created_at": T0 - pd.Timedelta(days=9)},
    ])
    out = score(df, prof, T0 + pd.Timedelta(hours=7))
    assert out["sla_due_at"].iloc[0] == T0 + pd.Timedelta(hours=8)
    assert out["sla_status"].iloc[0] == "at_risk"  # 7 h of 8 h > 75 %
    assert out["sla_due_at"].iloc[1] == T0 + pd.Timedelta(hours=24)
    assert out["sla_status"].iloc[1] == "ok"
    later = score(df, prof, T0)
    assert later["sla_status"].tolist()[2:] == ["ok", "at_risk", "at_risk", "breached",
                                                "closed"]
    assert later["sla_due_at"].iloc[6] == T0 - pd.Timedelta(days=9) + pd.Timedelta(hours=8)


def test_closed_ticket_gets_no_wait_points() -> None:
    prof = make_profile(severity=0.5, wait=0.5)
    created = T0 - pd.Timedelta(days=3)
    df = tickets([{"severity": 1, "status": "closed", "created_at": created,
                   "first_response_at": created + pd.Timedelta(hours=6)},
                  {"severity": 1, "status": "solved", "created_at": created},
                  {"severity": 1, "status": "open", "created_at": T0 - pd.Timedelta(hours=6)}])
    out = score(df, prof, T0)
    # nobody waits on a closed ticket, answered or not; an open one waits 6/24 of 50 = 12.5
    assert out["contrib_wait"].tolist() == pytest.approx([0.0, 0.0, 12.5])
    assert out["priority_score"].tolist()[:2] == pytest.approx([0.0, 0.0])
    assert out["priority_tier"].astype(str).tolist()[:2] == ["P4", "P4"]
    assert out["sla_status"].astype(str).tolist()[:2] == ["closed", "closed"]


# --------------------------------------------------------------------------- escalation


def test_escalation_rules_and_reasons() -> None:
    prof = make_profile(sentiment=1.0)
    df = tickets([
        {"sentiment": -0.6},                                  # on the general threshold
        {"sentiment": -0.59},                                 # mild, not VIP
        {"sentiment": -0.35, "segment": "vip"},               # angry VIP by segment
        {"sentiment": -0.35, "ltv_percentile": 0.96},         # angry VIP by value
        {"sentiment": -0.25, "segment": "vip"},               # VIP, not angry enough
        {"sentiment": np.nan},
    ])
    out = score(df, prof, T0)
    assert out["escalated"].tolist() == [True, False, True, True, False, False]
    reasons = out["escalation_reason"].astype(object).where(out["escalated"], None).tolist()
    assert reasons == [
        "sentiment -0.60 <= -0.6",
        None,
        "VIP segment: sentiment -0.35 <= -0.3",
        "VIP (LTV percentile >= 0.95): sentiment -0.35 <= -0.3",
        None,
        None,
    ]


# --------------------------------------------------------------------------- contract


def test_score_does_not_modify_its_input_and_keeps_the_index() -> None:
    df = tickets([{"sentiment": -0.4, "severity": 2}, {"severity": 4}])
    df.index = pd.Index([10, 20])
    before = df.copy()
    out = score(df, make_profile(sentiment=1, severity=1), T0)
    pd.testing.assert_frame_equal(df, before)
    assert list(out.index) == [10, 20]
    for col in ("priority_score", "priority_tier", *CONTRIB_COLUMNS, "sla_due_at",
                "sla_status", "escalated", "escalation_reason"):
        assert col in out.columns


def test_score_accepts_text_times_and_an_aware_as_of() -> None:
    df = tickets([{"severity": 4}])
    df["created_at"] = ["2026-03-02T10:00:00Z"]
    out = score(df, make_profile(severity=1.0), "2026-03-02T11:00:00+01:00")
    # as_of is 10:00 UTC: nothing elapsed yet
    assert out["sla_status"].iloc[0] == "ok"
    assert out["sla_due_at"].iloc[0] == T0 + pd.Timedelta(minutes=30)


def test_missing_columns_are_named() -> None:
    with pytest.raises(TriageError, match="severity"):
        score(tickets([{}]).drop(columns=["severity"]), make_profile(severity=1), T0)
    with pytest.raises(TriageError, match="ltv_percentile or lifetime_value"):
        score(tickets([{}]).drop(columns=["ltv_percentile"]), make_profile(severity=1), T0)


def test_replay_tiers_at_arrival_and_at_first_response() -> None:
    prof = make_profile(severity=0.9, wait=0.1)
    df = tickets([{"severity": 3, "first_response_at": T0 + pd.Timedelta(minutes=90)}])
    out = replay_tiers(df, prof).iloc[0]
    # arrival: 90 * 2/3 = 60 -> P2, due +120 min; after 90 min: 60 + 10*90/120 = 67.5, P2
    assert out["priority_score"] == pytest.approx(60.0)
    assert out["priority_tier"] == "P2"
    assert out["sla_due_at"] == T0 + pd.Timedelta(minutes=120)
    assert out["response_tier"] == "P2"
    assert out["response_due_at"] == T0 + pd.Timedelta(minutes=120)


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"sentiment": 0, "value": 0, "severity": 0, "wait": 0, "boost": 0},
         "weights sum to 0"),
        ({}, "weights sum to 0"),
        ({"sentiment": 1, "value": -0.1}, "weights.value must be >= 0"),
        ({"sentiment": 1, "severity": math.nan}, "weights.severity must be a finite number"),
        ({"sentiment": 1, "sentimnet": 1}, "unknown key 'weights.sentimnet'"),
        ({"sentiment": True}, "weights.sentiment must be a number"),
        ({"sentiment": "high"}, "weights.sentiment must be a number"),
    ],
)
def test_bad_weights_are_rejected_naming_the_key(weights: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PriorityProfile.from_mapping({"name": "mine", "weights": weights})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wieghts": {"sentiment": 1}}, "unknown key 'wieghts'"),
        ({"tiers": {"P1": 40, "P2": 50}}, "tiers must satisfy"),
        ({"tiers": {"P4": 10}}, "unknown key 'tiers.P4'"),
        ({"sla": {"P1": {"first_response_minutes": 200}}},
         "sla.P2.first_response_minutes .* must be >="),
        ({"sla": {"P3": {"resolution_hours": -1}}}, "sla.P3 times must be > 0"),
        ({"sla": {"at_risk_fraction": 1.5}}, "at_risk_fraction"),
        ({"escalation": {"vip_sentiment_threshold": -0.9}}, "vip_sentiment_threshold"),
        ({"escalation": {"vip_segments": "vip"}}, "vip_segments must be a list"),
        ({"boost": {"segments": {"vip": 2}}}, "boost.segments.vip must be between 0 and 1"),
    ],
)
def test_bad_profile_settings_are_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PriorityProfile.from_mapping({"name": "mine", "weights": {"sentiment": 1}, **change},
                                  base=make_profile(severity=1))


def test_profile_round_trips_through_json() -> None:
    prof = make_profile(sentiment=0.4, value=0.3, severity=0.2, wait=0.1)
    text = json.dumps(prof.to_dict())
    assert PriorityProfile.from_mapping(json.loads(text)) == prof


def test_weights_left_out_are_zero_and_other_tables_come_from_the_base() -> None:
    base = make_profile(sentiment=1)
    prof = PriorityProfile.from_mapping({"weights": {"value": 2}, "tiers": {"P1": 90}},
                                     name="value_only", base=base)
    assert prof.name == "value_only"
    assert prof.weights.as_dict() == {"sentiment": 0, "value": 2, "severity": 0, "wait": 0,
                                      "boost": 0, "source": 0}
    assert prof.tier_thresholds == (90, 50, 25)
    assert prof.sla == base.sla


def test_packaged_settings_hold_documented_profiles() -> None:
    settings = default_settings()
    assert settings.active_profile == "default"
    assert {"default", "customer_value_first"} <= set(settings.names)
    default, value_first = settings.profile(), settings.profile("customer_value_first")
    assert value_first.weights.value > default.weights.value
    assert value_first.sla == default.sla  # inherited from default
    assert PrioritySettings.from_mapping(settings.to_dict()) == settings


def test_settings_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        PrioritySettings.from_mapping({"active_profile": "nope"})
    with pytest.raises(ConfigError, match="unknown key 'profile'"):
        PrioritySettings.from_mapping({"profile": "x"})
    with pytest.raises(ConfigError, match=r"priority: profiles\.default must be a table"):
        PrioritySettings.from_mapping({"profiles": {"default": "x"}})
    with pytest.raises(ConfigError, match=r"priority profile 'default': sla\.P3 must be a table"):
        PrioritySettings.from_mapping({"profiles": {"default": {"sla": {"P3": 5}}}})
    with pytest.raises(ConfigError, match=r"priority profile 'extra': weights\.wait must be"):
        PrioritySettings.from_mapping({"profiles": {"extra": {"weights": {"wait": -1}}}})


def test_settings_put_a_section_over_the_packaged_defaults() -> None:
    packaged = default_settings()
    assert PrioritySettings.from_mapping(None) == packaged
    assert PrioritySettings.from_mapping({"profiles": {}}) == packaged
    changed = PrioritySettings.from_mapping(
        {"profiles": {"default": {"sla": {"P3": {"first_response_minutes": 600}}}}})
    p3 = changed.profile("default").sla[2]
    assert p3.first_response_minutes == 600
    assert p3.resolution_hours == packaged.profile("default").sla[2].resolution_hours
    # another profile takes what it leaves out from the default of the same settings
    assert changed.profile("sla_first").sla == changed.profile("default").sla


def test_the_helpdesks_own_priority_counts_only_with_a_weight() -> None:
    """source_priority is mapped case-blind through source_levels; weight 0 adds nothing."""
    rows = [{"source_priority": p} for p in ("Urgent", "low", "HIGH", None, "whatever")]
    off = score(tickets(rows), make_profile(sentiment=1.0), T0)
    assert off["contrib_source"].tolist() == [0.0] * 5
    levels = {"low": 0.0, "high": 0.5, "urgent": 1.0}
    on = PriorityProfile.from_mapping({"name": "src", "weights": {"source": 1.0},
                                       "source_levels": levels})
    got = score(tickets(rows), on, T0)
    assert got["contrib_source"].tolist() == pytest.approx([100.0, 0.0, 50.0, 0.0, 0.0])
    assert got["priority_score"].tolist() == pytest.approx(got["contrib_source"].tolist())
