"""Incremental tickets (lift): a hand-computed difference in differences on a real DuckDB, the
settings, and the demo world's own record of caused tickets at several seeds and sizes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests._cli import ok, one_line_error, run
from triage_core import demo, marketing
from triage_core.errors import ConfigError, TriageError
from triage_core.marketing import LiftSettings
from triage_core.store import Store

LAUNCH = pd.Timestamp("2026-03-10 09:00:00")


def at(days: float, hours: float = 12) -> str:
    """A time ``days`` days after the launch day's start (noon by default)."""
    return str(LAUNCH.normalize() + pd.Timedelta(days=days, hours=hours))


def world(store: Store, customers: dict[str, str], touches: list[tuple[str, str]],
          tickets: dict[str, list[float]], categories: dict[str, str] | None = None) -> None:
    """customers: id -> segment; touches: (customer, campaign) at the launch; tickets: customer
    -> days (relative to the launch day) of its tickets."""
    store.import_frame("customers", pd.DataFrame(
        [(c, seg, "basic", "2024-01-01 00:00:00") for c, seg in customers.items()],
        columns=["customer_id", "segment", "plan", "created_at"]))
    store.import_frame("campaigns", pd.DataFrame(
        [(k, f"Campaign {k}", "email", str(LAUNCH), 1000.0, 5000.0)
         for k in sorted({k for _, k in touches} | {"K1"})],
        columns=["campaign_id", "name", "channel", "start_at", "spend", "revenue"]))
    if touches:
        store.import_frame("touchpoints", pd.DataFrame(
            [(c, k, str(LAUNCH), "open") for c, k in touches],
            columns=["customer_id", "campaign_id", "touched_at", "kind"]))
    rows = [(f"T{c}{i}", c, at(d), "solved", (categories or {}).get(c, "billing"))
            for c, days in tickets.items() for i, d in enumerate(days)]
    rows.append(("T_span", "C9", at(-60), "solved", "billing"))  # data begins well before
    store.import_frame("tickets", pd.DataFrame(
        rows, columns=["ticket_id", "customer_id", "created_at", "status", "category"]))


SMALL = {"min_control": 1, "bootstrap": 200}


def test_difference_in_differences_by_hand(store: Store) -> None:
    # touched: A (1 ticket before, 3 after: d = 2), B (0, 1: d = 1); untouched: C (1, 1: d = 0),
    # D (0, 1: d = 1) and C9, whose one ticket long before puts it in another prior-rate
    # stratum. Matched control mean d = 1/2; incremental = (2 - 1/2) + (1 - 1/2) = 2.
    world(store, {c: "consumer" for c in "ABCD"} | {"C9": "consumer"},
          [("A", "K1"), ("B", "K1")],
          {"A": [-3, 1, 2, 5], "B": [4], "C": [-2, 3], "D": [6]})
    df = marketing.campaign_lift(store, lift=SMALL)
    row = df.set_index("campaign_id").loc["K1"]
    assert row["exposed"] == 2 and row["control"] == 3
    assert row["incremental_tickets"] == pytest.approx(2.0)
    assert row["ci_low"] <= row["incremental_tickets"] <= row["ci_high"]
    assert row["incremental_per_1000"] == pytest.approx(1000.0)
    # billing costs 9 per ticket (no tier without triage): the cost follows the tickets
    assert row["incremental_cost"] == pytest.approx(18.0)
    assert np.isnan(row["incremental_negative"])  # no sentiment without triage
    assert row["attributed_tickets"] == pytest.approx(4)  # last touch credit: A 3 + B 1
    assert row["sampled_share"] == 1.0 and row["window_days"] == 21
    assert list(df.columns) == list(marketing.LIFT_COLUMNS)


def test_window_decides_what_counts(store: Store) -> None:
    world(store, {c: "consumer" for c in "ABC"} | {"C9": "consumer"},
          [("A", "K1"), ("B", "K1")], {"A": [10], "B": [2], "C": [30]})
    wide = marketing.campaign_lift(store, lift=SMALL).iloc[0]
    narrow = marketing.campaign_lift(store, window_days=5, lift=SMALL).iloc[0]
    # 21 days: both touched customers wrote after the touch, C not (day 30): 1 + 1; 5 days:
    # A's ticket on day 10 falls outside: 0 + 1
    assert wide["incremental_tickets"] == pytest.approx(2.0)
    assert narrow["incremental_tickets"] == pytest.approx(1.0)
    assert narrow["window_days"] == 5


def test_sparse_strata_fall_back_to_coarser_matching(store: Store) -> None:
    world(store, {"A": "consumer", "V": "vip", "C": "consumer", "D": "consumer",
                  "C9": "consumer"},
          [("A", "K1"), ("V", "K1")], {"A": [1, 2], "V": [3], "C": [4], "D": [-4]})
    row = marketing.campaign_lift(store, lift={"min_control": 2}).iloc[0]
    # A (d 2) matches the consumers with no prior ticket: C (d 1), D (d -1), mean 0. No vip is
    # untouched: V (d 1) is matched within its tenure, C, D and C9 (d 0), mean 0. 2 + 1.
    assert row["incremental_tickets"] == pytest.approx(3.0)


def test_a_campaign_without_touches_has_no_estimate(store: Store) -> None:
    world(store, {"A": "consumer", "C9": "consumer"}, [], {"A": [1]})
    row = marketing.campaign_lift(store).iloc[0]
    assert row["campaign_id"] == "K1" and row["exposed"] == 0
    assert np.isnan(row["incremental_tickets"]) and np.isnan(row["ci_low"])


def test_settings_are_validated() -> None:
    assert LiftSettings.from_mapping().window_days == 21
    with pytest.raises(ConfigError, match="lift: window_days must be between 1 and 365"):
        LiftSettings.from_mapping({"window_days": 0})
    with pytest.raises(ConfigError, match="lift: prior_tickets must increase"):
        LiftSettings.from_mapping({"prior_tickets": [2, 1]})
    with pytest.raises(ConfigError, match="unknown key 'windows'"):
        LiftSettings.from_mapping({"windows": 3})
    with pytest.raises(ConfigError, match=re.escape("interval must be between 0.5 and 0.999")):
        LiftSettings.from_mapping({"interval": 1.5})


def test_unknown_model_is_refused(store: Store) -> None:
    with pytest.raises(TriageError, match="unknown attribution model 'nope'"):
        marketing.campaign_lift(store, model="nope")


# -- the demo world's truth ----------------------------------------------------------------------

# (tickets, seed): every campaign that caused at least 200 tickets is checked.
WORLDS = [(10_000, 3), pytest.param((25_000, 2), marks=pytest.mark.slow),
          pytest.param((50_000, 1), marks=pytest.mark.slow)]


@pytest.fixture(scope="module", params=WORLDS, ids=lambda w: f"{w[0]}-seed{w[1]}")
def demo_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[Path, dict[str, int]]:
    tickets, seed = request.param
    root = tmp_path_factory.mktemp(f"lift{tickets}_{seed}")
    demo.generate(root / "data", tickets=tickets, seed=seed)
    with Store(root / "world.duckdb") as s:
        s.import_directory(root / "data")
    return root / "world.duckdb", demo.caused_tickets(tickets, seed)


def test_lift_recovers_the_caused_tickets(demo_world: tuple[Path, dict[str, int]]) -> None:
    db, truth = demo_world
    with Store(db) as s:
        df = marketing.campaign_lift(s).set_index("campaign_id")
    big = {k: v for k, v in truth.items() if v >= 200}
    assert big, "the world must have campaigns that caused at least 200 tickets"
    for campaign, caused in big.items():
        row = df.loc[campaign]
        assert row["ci_low"] <= caused <= row["ci_high"], (campaign, caused, row.to_dict())
        assert abs(row["incremental_tickets"] - caused) <= 0.2 * caused, (campaign, caused)
    # what the story campaigns caused stands out from the campaigns that caused nothing
    caused_nothing = df.loc[[k for k, v in truth.items() if v == 0], "incremental_tickets"]
    assert caused_nothing.abs().max() < min(big.values()) / 2


def test_sampling_large_campaigns_keeps_the_truth(demo_world: tuple[Path, dict[str, int]]
                                                  ) -> None:
    db, truth = demo_world
    if max(truth.values()) < 500:
        pytest.skip("needs a campaign that caused 500 tickets")
    campaign = max(truth, key=truth.get)
    with Store(db) as s:
        row = marketing.campaign_lift(s, campaigns=[campaign],
                                      lift={"max_exposed": 600, "max_control": 1200}).iloc[0]
        full = marketing.campaign_lift(s, campaigns=[campaign]).iloc[0]
    assert row["sampled_share"] < 0.8  # the touched customers are counted from the sample:
    assert abs(row["exposed"] - full["exposed"]) <= 0.1 * full["exposed"]
    assert row["control"] < full["control"]
    assert row["ci_low"] <= truth[campaign] <= row["ci_high"]
    assert row["ci_high"] - row["ci_low"] > full["ci_high"] - full["ci_low"]  # less sure


def test_lift_is_deterministic(demo_world: tuple[Path, dict[str, int]]) -> None:
    db, _ = demo_world
    with Store(db) as s:
        a = marketing.campaign_lift(s, campaigns=["CMP08", "CMP01"])
        b = marketing.campaign_lift(s, campaigns=["CMP01", "CMP08"])
    pd.testing.assert_frame_equal(a, b)


# -- the command line ----------------------------------------------------------------------------

def test_cli_lift_json_and_truth_out(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    truth_file = tmp_path / "truth.json"
    out = ok("demo", "--tickets", "4000", "--seed", "2", "--no-triage", "--truth-out",
             str(truth_file), db=db)
    assert "caused tickets per campaign" in out
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    assert truth == demo.caused_tickets(4000, 2)
    assert len(truth) == 25 and sum(truth.values()) > 0
    with Store(db) as s:  # the truth never enters the database
        tables = " ".join(s.counts())
    assert "truth" not in tables and "caused" not in tables
    rows = json.loads(ok("lift", "--json", "--window-days", "14", db=db))
    assert {r["campaign_id"] for r in rows} == set(truth)
    for r in rows:
        assert {"campaign_id", "exposed", "control", "incremental_tickets", "ci_low",
                "ci_high"} <= set(r)
        assert r["window_days"] == 14
    text = ok("lift", "--campaign", "CMP08", db=db)
    assert "CMP08" in text and "CMP09" not in text


def test_cli_lift_errors(tmp_path: Path) -> None:
    line = one_line_error(run("lift", db=tmp_path / "missing.duckdb"))
    assert "no such database" in line
    Store(tmp_path / "empty.duckdb").close()
    r = run("lift", "--json", db=tmp_path / "empty.duckdb")
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    assert "warning: no campaign has touched" in r.stderr
    assert "outside the dates of the imported tickets" in r.stderr  # the likely reason
    with Store(tmp_path / "empty.duckdb") as s:  # a campaign but no tickets around its touch
        s.import_frame("campaigns", pd.DataFrame(
            [("LATE", "Late", "email", "2026-03-01 00:00:00")],
            columns=["campaign_id", "name", "channel", "start_at"]))
    r = run("lift", "--campaign", "LATE", db=tmp_path / "empty.duckdb")
    assert r.exit_code == 0
    assert "warning: campaign 'LATE' has no touched and untouched customers" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[lift]\nwindow_days = -2\n", encoding="utf-8")
    line = one_line_error(run("lift", "--config", str(bad), db=tmp_path / "empty.duckdb"))
    assert "lift: window_days must be between 1 and 365" in line
