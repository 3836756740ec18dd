"""Scoring into triaged_tickets: profiles in the database, the active profile, previews,
manual reassignment, and re-scoring after data changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage_core.config import default_config
from triage_core.errors import ConfigError
from triage_core.ops import analytics, priority, scoring
from triage_core.schema import OPEN_STATUSES
from triage_core.store import Store
from triage_core.triage import pipeline

CONFIG = default_config()
OPEN = list(OPEN_STATUSES)


@pytest.fixture
def db(world_copy: Path) -> Iterator[Store]:
    with Store(world_copy) as s:
        yield s


def severity_only(name: str) -> priority.PriorityProfile:
    """Score = 100 * (severity - 1) / 3: severity 4 -> 100 (P1), 3 -> 66.7 (P2),
    2 -> 33.3 (P3), 1 -> 0 (P4) with tier thresholds 75 / 50 / 25."""
    return priority.PriorityProfile.from_mapping(
        {"weights": {"severity": 1.0}, "tiers": {"P1": 75, "P2": 50, "P3": 25}}, name=name)


EXPECTED_TIER = {1: "P4", 2: "P3", 3: "P2", 4: "P1"}


def check_severity_only(store: Store) -> None:
    t = store.query("SELECT severity, priority_score, priority_tier FROM triaged_tickets")
    np.testing.assert_allclose(t["priority_score"], 100 * (t["severity"] - 1) / 3)
    assert t["priority_tier"].tolist() == [EXPECTED_TIER[s] for s in t["severity"]]


def n_open(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM tickets WHERE status IN"
                            " (SELECT unnest(?::VARCHAR[]))", [OPEN]))


# -- profiles ----------------------------------------------------------------------------------


def test_profile_round_trip_and_the_database_wins(db: Store) -> None:
    config_default = scoring.load_profile(db, CONFIG, "default")
    assert config_default == scoring.settings(CONFIG).profile("default")
    mine = severity_only("default")
    scoring.save_profile(db, mine)
    loaded = scoring.load_profile(db, CONFIG, "default")
    assert loaded == mine and loaded != config_default
    assert loaded.weights.as_dict() == {"sentiment": 0.0, "value": 0.0, "severity": 1.0,
                                        "wait": 0.0, "boost": 0.0, "source": 0.0}
    # a new name is listed after the config's, and saving again replaces it
    scoring.save_profile(db, severity_only("night_shift"))
    names = scoring.profile_names(db, CONFIG)
    assert names[-1] == "night_shift" and names.count("default") == 1
    assert set(scoring.settings(CONFIG).names) <= set(names)
    changed = priority.PriorityProfile.from_mapping({"weights": {"wait": 1.0}},
                                                    name="night_shift")
    scoring.save_profile(db, changed)
    assert scoring.load_profile(db, CONFIG, "night_shift") == changed
    assert db.scalar("SELECT count(*) FROM priority_profiles") == 2


def test_unknown_profile_is_a_config_error(db: Store) -> None:
    with pytest.raises(ConfigError, match=r"unknown priority profile 'nope'.*default"):
        scoring.load_profile(db, CONFIG, "nope")
    with pytest.raises(ConfigError, match="unknown priority profile 'nope'"):
        scoring.score_all(db, CONFIG, "nope")
    db.execute("INSERT OR REPLACE INTO settings VALUES ('active_profile', 'gone')")
    with pytest.raises(ConfigError, match="'gone'"):
        scoring.score_all(db, CONFIG)


def test_score_all_uses_the_active_profile(db: Store) -> None:
    scoring.save_profile(db, severity_only("severity_only"), activate=True)
    tiers = scoring.score_all(db, CONFIG)
    assert db.scalar("SELECT value FROM settings WHERE key = 'scored_profile'") == \
        "severity_only"
    check_severity_only(db)
    by_hand = db.query("SELECT severity, count(*) AS n FROM triage_results GROUP BY 1")
    want = {EXPECTED_TIER[s]: n for s, n in zip(by_hand["severity"], by_hand["n"], strict=True)}
    assert dict(zip(tiers["priority_tier"], tiers["tickets"], strict=True)) == want
    # an explicit profile still wins over the active one
    scoring.score_all(db, CONFIG, "default")
    assert db.scalar("SELECT value FROM settings WHERE key = 'scored_profile'") == "default"
    t = db.query("SELECT severity, priority_score FROM triaged_tickets")
    assert not np.allclose(t["priority_score"], 100 * (t["severity"] - 1) / 3)


def test_the_saved_copy_of_the_default_profile_is_used_when_none_is_named(db: Store) -> None:
    scoring.save_profile(db, severity_only("default"))  # saved, not 'activated'
    assert scoring.load_profile(db, CONFIG) == scoring.load_profile(db, CONFIG, "default")
    scoring.score_all(db, CONFIG)
    check_severity_only(db)


# -- preview -----------------------------------------------------------------------------------


def test_preview_compares_two_profiles_on_the_open_tickets(db: Store) -> None:
    before = db.query("SELECT * FROM triaged_tickets ORDER BY ticket_id")
    frame = scoring.scoring_frame(db, open_only=True)
    agents = db.query("SELECT * FROM agents")
    saved = scoring.load_profile(db, CONFIG, "default")
    candidate = severity_only("candidate")
    as_of = scoring.data_time(db)
    p = scoring.preview(frame, agents, saved, candidate, scoring.rules(CONFIG), as_of, top=10)
    total = n_open(db)
    assert total > 20
    sums = p.tiers.groupby("profile")["tickets"].sum().to_dict()
    assert sums == {"saved": total, "preview": total}
    # the candidate's tiers follow severity alone
    sev = frame["severity"].map(EXPECTED_TIER).value_counts().to_dict()
    shown = p.tiers[p.tiers["profile"] == "preview"]
    assert dict(zip(shown["tier"], shown["tickets"], strict=True)) == sev
    # the saved side is what score_all wrote for the open tickets
    saved_now = before[before["status"].isin(OPEN)]["priority_tier"].value_counts().to_dict()
    mine = p.tiers[p.tiers["profile"] == "saved"]
    assert dict(zip(mine["tier"], mine["tickets"], strict=True)) == saved_now
    assert len(p.reorder) == 10 and p.reorder["rank"].tolist() == list(range(1, 11))
    assert len(p.p1) == sev.get("P1", 0)
    assert p.p1["priority_score"].is_monotonic_decreasing
    assert p.sla[["saved", "preview"]].sum().tolist() == [total, total]
    assert (p.workload["assigned_preview"] <= p.workload["capacity"]).all()
    old = before.set_index("ticket_id").loc[frame["ticket_id"], "priority_tier"].to_numpy()
    new = frame["severity"].map(EXPECTED_TIER).to_numpy()
    assert p.moved == int((old != new).sum()) > 0
    same = scoring.preview(frame, agents, saved, saved, scoring.rules(CONFIG), as_of)
    assert same.moved == 0 and same.rerouted == 0
    # "rank now" is the place in the queue the pages show (score, then oldest, then id)
    queue = analytics.tickets(db, analytics.Filters(), open_only=True, order="priority",
                              limit=10)
    assert same.reorder["ticket_id"].head(10).tolist() == queue["ticket_id"].tolist()
    assert (same.reorder["saved_rank"] == same.reorder["rank"]).all()
    teams = p.teams.set_index("team")
    assert int((teams["assigned"] + teams["waiting"]).sum()) == total
    assert int((teams["assigned_preview"] + teams["waiting_preview"]).sum()) == total
    # re-routing: the candidate may hand reassignable tickets to other agents, within capacity
    flags = frame["first_response_at"].isna()
    moved = scoring.preview(frame, agents, saved, candidate, scoring.rules(CONFIG), as_of,
                            reroute=flags)
    assert moved.rerouted == int((flags & frame["agent_id"].notna()).sum())
    assert (moved.workload["assigned_preview"] <= moved.workload["capacity"]).all()
    assert moved.workload["assigned"].tolist() == p.workload["assigned"].tolist()
    # nothing was written
    pd.testing.assert_frame_equal(db.query("SELECT * FROM triaged_tickets ORDER BY ticket_id"),
                                  before)


# -- reassign ----------------------------------------------------------------------------------


def open_load(store: Store) -> pd.DataFrame:
    return store.query(
        "SELECT a.agent_id, a.team, a.capacity, count(t.ticket_id) AS load FROM agents a"
        " LEFT JOIN triaged_tickets t ON t.agent_id = a.agent_id"
        " AND t.status IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL ORDER BY a.agent_id",
        [OPEN]).set_index("agent_id")


def test_reassign_refuses_what_it_cannot_do(db: Store) -> None:
    ticket = db.scalar("SELECT ticket_id FROM triaged_tickets WHERE status = 'open'"
                       " ORDER BY ticket_id LIMIT 1")
    closed = db.scalar("SELECT ticket_id FROM tickets WHERE status = 'closed'"
                       " ORDER BY ticket_id LIMIT 1")
    load = open_load(db)
    busy = load[load["load"] > 0].index[0]
    db.execute("UPDATE agents SET capacity = ? WHERE agent_id = ?",
               [int(load.loc[busy, "load"]), busy])
    n = int(load.loc[busy, "load"])
    with pytest.raises(ConfigError, match=rf"{busy} is at capacity \({n}/{n}\)"):
        scoring.reassign(db, ticket, busy)
    free = load[load["capacity"] > load["load"]].index[0]
    with pytest.raises(ConfigError, match="is closed; only open tickets"):
        scoring.reassign(db, closed, free)
    with pytest.raises(ConfigError, match="no agent 'AG999'"):
        scoring.reassign(db, ticket, "AG999")
    with pytest.raises(ConfigError, match="no ticket 'NOPE'"):
        scoring.reassign(db, "NOPE", free)
    assert db.scalar("SELECT count(*) FROM triaged_tickets WHERE routing_reason LIKE"
                     " 'manually%'") == 0


def test_reassign_sticks_through_rescoring(db: Store) -> None:
    row = db.query("SELECT ticket_id, agent_id, team FROM triaged_tickets"
                   " WHERE status = 'open' ORDER BY ticket_id LIMIT 1").iloc[0]
    load = open_load(db)
    target = load[(load["capacity"] > load["load"]) & (load.index != row["agent_id"])
                  & (load["team"] != row["team"])].index[0]
    scoring.reassign(db, row["ticket_id"], target, by="lead")
    after = db.query("SELECT agent_id, team, routing_reason FROM triaged_tickets"
                     " WHERE ticket_id = ?", [row["ticket_id"]]).iloc[0]
    assert (after["agent_id"], after["team"]) == (target, load.loc[target, "team"])
    assert after["routing_reason"] == f"manually reassigned to {target} by lead"
    assert open_load(db).loc[target, "load"] == load.loc[target, "load"] + 1

    pipeline.triage(db, CONFIG)  # keep_assigned: the manual choice survives re-scoring
    kept = db.query("SELECT agent_id, routing_outcome FROM triaged_tickets"
                    " WHERE ticket_id = ?", [row["ticket_id"]]).iloc[0]
    assert (kept["agent_id"], kept["routing_outcome"]) == (target, "kept")
    assert db.scalar("SELECT agent_id FROM tickets WHERE ticket_id = ?",
                     [row["ticket_id"]]) == target


# -- re-scoring follows the data -----------------------------------------------------------------


def test_rescoring_follows_reimported_tickets(db: Store, tmp_path: Path) -> None:
    """A ticket solved in the helpdesk, a label and a CSAT added later show after the next
    score."""
    was_open = db.query("SELECT ticket_id, created_at, customer_id FROM triaged_tickets"
                        " WHERE status = 'open' AND agent_id IS NOT NULL"
                        " ORDER BY ticket_id LIMIT 1").iloc[0]
    unlabeled = db.query("SELECT t.ticket_id, t.created_at, t.customer_id, t.category"
                         " FROM triaged_tickets t WHERE t.status = 'closed'"
                         " AND t.category_source = 'model' ORDER BY ticket_id LIMIT 1").iloc[0]
    label = "billing" if unlabeled["category"] != "billing" else "refund"
    f = tmp_path / "update.csv"
    f.write_text(
        "ticket_id,created_at,customer_id,status,category,csat\n"
        f"{was_open['ticket_id']},{was_open['created_at']},{was_open['customer_id']},solved,,\n"
        f"{unlabeled['ticket_id']},{unlabeled['created_at']},{unlabeled['customer_id']},closed,"
        f"{label},1\n", encoding="utf-8")
    assert db.import_file("tickets", f).existing_rows == 2
    pipeline.triage(db, CONFIG)
    solved = db.query("SELECT status, routing_outcome FROM triaged_tickets WHERE ticket_id = ?",
                      [was_open["ticket_id"]]).iloc[0]
    assert (solved["status"], solved["routing_outcome"]) == ("solved", "closed")
    relabeled = db.query("SELECT category, category_source, csat FROM triaged_tickets"
                         " WHERE ticket_id = ?", [unlabeled["ticket_id"]]).iloc[0]
    assert (relabeled["category"], relabeled["category_source"], relabeled["csat"]) == \
        (label, "label", 1)


def test_as_of_moves_the_sla_clock(db: Store) -> None:
    later = scoring.data_time(db) + dt.timedelta(days=30)
    scoring.score_all(db, CONFIG, as_of=later)
    statuses = db.query("SELECT DISTINCT sla_status FROM triaged_tickets"
                        " WHERE status IN (SELECT unnest(?::VARCHAR[]))", [OPEN])
    # a month on, every open ticket is past even the longest SLA (P4: 168 hours)
    assert statuses["sla_status"].tolist() == ["breached"]
    assert db.scalar("SELECT value FROM settings WHERE key = 'scored_as_of'") == str(later)


# -- alerts ------------------------------------------------------------------------------------


def test_alerts_are_open_escalations_and_sla_risks_most_urgent_first(db: Store) -> None:
    """An alert is an open ticket that is escalated or whose SLA is at risk or breached; the
    most urgent (highest priority score, then earliest due) comes first."""
    t = db.query("SELECT ticket_id, status, escalated, sla_status, priority_score"
                 " FROM triaged_tickets")
    alerting = t["escalated"] | t["sla_status"].isin(["at_risk", "breached"])
    want = t[t["status"].isin(OPEN) & alerting]
    got = analytics.alerts(db, analytics.Filters(), limit=100_000)
    assert set(got["ticket_id"]) == set(want["ticket_id"]) and len(got) == len(want)
    assert got["escalated"].any() and set(got["sla_status"]) >= {"at_risk", "breached"}
    assert got["priority_score"].is_monotonic_decreasing
    ties = got.groupby("priority_score")["sla_due_at"]
    assert ties.apply(lambda due: due.is_monotonic_increasing).all()
    assert (got.loc[got["escalated"], "escalation_reason"].str.len() > 0).all()
    assert got.loc[~got["escalated"], "escalation_reason"].eq("").all()
    top = analytics.alerts(db, analytics.Filters(), limit=5)
    assert top["ticket_id"].tolist() == got["ticket_id"].tolist()[:5]
    # full ties (same score and due time) in a fixed order: oldest, then by ticket id
    order = got.sort_values(["priority_score", "sla_due_at", "created_at", "ticket_id"],
                            ascending=[False, True, True, True], kind="stable")
    assert got["ticket_id"].tolist() == order["ticket_id"].tolist()


def test_queue_rank_breaks_ties_like_the_queue_pages() -> None:
    scored = pd.DataFrame({"ticket_id": ["T3", "T1", "T2", "T0"],
                           "priority_score": [50.0, 50.0, 50.0, 90.0],
                           "created_at": pd.to_datetime(["2026-01-02", "2026-01-02",
                                                         "2026-01-01", "2026-01-05"])},
                          index=[7, 3, 5, 1])
    rank = scoring._queue_rank(scored)
    assert rank.to_dict() == {1: 1, 5: 2, 3: 3, 7: 4}  # T0, then the oldest, then by id


def test_scoring_and_ticket_detail_give_the_views_category(db: Store) -> None:
    """The scoring frame and the ticket detail write out the ticket_categories view's columns
    (DuckDB would join every ticket through the view): the same category, source, prediction
    and confidence for corrected, labeled, predicted and unpredicted tickets."""
    from triage_core.ops import feedback

    ids = db.query("SELECT ticket_id, category FROM tickets ORDER BY ticket_id")
    labeled = ids.loc[ids["category"].notna(), "ticket_id"].tolist()
    unlabeled = ids.loc[ids["category"].isna(), "ticket_id"].tolist()
    assert len(labeled) >= 2 and len(unlabeled) >= 3
    cats = feedback.known_categories(db)
    for tid in (labeled[0], unlabeled[0]):
        shown = analytics.ticket_detail(db, tid)["category"]
        feedback.add(db, tid, {"category": next(c for c in cats if c != shown)}, by="ana")
    db.execute("DELETE FROM triage_results WHERE ticket_id = ?", [unlabeled[1]])
    view = db.query("SELECT ticket_id, category, category_source, predicted_category,"
                    " CASE WHEN category_source IN ('correction', 'label') THEN 1.0"
                    " ELSE model_confidence END"  # none for a ticket without a category
                    " AS category_confidence FROM ticket_categories ORDER BY ticket_id")
    assert set(view["category_source"].dropna()) == {"correction", "label", "model"}
    assert view["category_source"].isna().sum() == 1
    frame = scoring.scoring_frame(db).sort_values("ticket_id", ignore_index=True)
    pd.testing.assert_frame_equal(frame[view.columns], view, check_dtype=False)
    for tid in (labeled[0], labeled[1], unlabeled[0], unlabeled[1], unlabeled[2]):
        detail = analytics.ticket_detail(db, tid)
        row = view.loc[view["ticket_id"] == tid].iloc[0]
        for col in ("category", "category_source", "predicted_category"):
            assert detail[col] == row[col] or (pd.isna(detail[col]) and pd.isna(row[col]))
