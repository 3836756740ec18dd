"""The `triage` verbs of the pipeline and the feedback loop, run in this process with click's
CliRunner against a copy of the shared demo world (tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import ok, one_line_error
from _cli import run as triage
from _world import WORLD_TICKETS

from triage_core.config import default_config
from triage_core.models import registry
from triage_core.ops import feedback, scoring
from triage_core.store import Store
from triage_core.triage import training

CONFIG = default_config()


@pytest.fixture
def db(world_copy: Path) -> Path:
    return world_copy


def test_score_json(db: Path) -> None:
    summary = json.loads(ok("score", "--json", db=db))
    assert set(summary) >= {"predicted", "scored", "model_version", "profile", "as_of", "tiers"}
    assert (summary["predicted"], summary["scored"], summary["model_version"],
            summary["profile"]) == (0, WORLD_TICKETS, 1, "default")
    assert sum(summary["tiers"].values()) == WORLD_TICKETS
    with Store(db) as s:
        tiers = s.query("SELECT priority_tier, count(*) AS n FROM triaged_tickets GROUP BY 1")
        assert summary["as_of"] == str(s.scalar("SELECT max(created_at) FROM tickets"))
    assert summary["tiers"] == dict(zip(tiers["priority_tier"], tiers["n"], strict=True))
    # the warnings of stderr are in the JSON too, for a script that reads only stdout
    from triage_core.ops import health

    with Store(db) as s:
        expected = health.messages(health.check(s, CONFIG))
    assert summary["warnings"] == expected


def test_backtest_json(db: Path) -> None:
    out = json.loads(ok("backtest", "--profile", "default", "--vs", "customer_value_first",
                        "--json", db=db))
    assert set(out) >= {"days", "tickets", "profiles", "comparison"}
    assert set(out["profiles"]) == {"default", "customer_value_first"}
    with Store(db) as s:
        recent = s.scalar("SELECT count(*) FROM tickets WHERE created_at >="
                          " (SELECT max(created_at) FROM tickets) - INTERVAL 30 DAY")
    assert out["days"] == 30 and out["tickets"] == recent
    assert isinstance(out["comparison"], list) and out["comparison"]
    r = triage("backtest", "--profile", "nope", "--json", db=db)
    assert "unknown priority profile 'nope'" in one_line_error(r)


def test_attribution_json(db: Path) -> None:
    records = json.loads(ok("attribution", "--json", db=db))
    assert isinstance(records, list) and len(records) > 1
    unattributed = [r for r in records if r["campaign_id"] is None]
    assert len(unattributed) == 1
    for r in records:
        assert {"campaign_id", "tickets", "negative_tickets", "support_cost",
                "roi_after_support"} <= set(r)
        assert isinstance(r["tickets"], float)
    # last touch gives every ticket a credit of exactly 1 somewhere
    assert sum(r["tickets"] for r in records) == pytest.approx(WORLD_TICKETS)
    with Store(db) as s:
        negative = s.scalar("SELECT count(*) FROM triaged_tickets"
                            " WHERE sentiment_label = 'negative'")
    assert sum(r["negative_tickets"] for r in records) == pytest.approx(negative)


def test_feedback_add_undo_list(db: Path) -> None:
    with Store(db) as s:
        tid, shown = s.query("SELECT ticket_id, category FROM triaged_tickets"
                             " WHERE category <> 'refund' ORDER BY ticket_id LIMIT 1").iloc[0]
    out = ok("feedback", "add", "--ticket", tid, "--category", "refund", "--by", "ana",
             "--comment", "customer wants money back", db=db)
    assert out.strip() == f"recorded feedback #1 on ticket {tid}"
    assert ok("feedback", "undo", "1", "--by", "lead", db=db).strip() == "undid feedback #1"
    listed = json.loads(ok("feedback", "list", "--json", "--ticket", tid, db=db))
    assert len(listed) == 1
    row = listed[0]
    assert (row["feedback_id"], row["ticket_id"], row["field"], row["old_value"],
            row["new_value"], row["author"], row["undone_by"]) == \
        (1, tid, "category", shown, "refund", "ana", "lead")
    assert row["undone_at"] is not None
    err = one_line_error(triage("feedback", "add", "--ticket", tid, "--category", "refnud",
                                db=db))
    assert "unknown category 'refnud'" in err


def test_review_json(db: Path) -> None:
    with Store(db) as s:
        threshold = scoring.rules(CONFIG).confidence_threshold
        top = feedback.review_queue(s, threshold, limit=1).iloc[0]
        feedback.add(s, top["ticket_id"], {"flag": "x"})
        want = feedback.review_queue(s, threshold, limit=20)["ticket_id"].tolist()
    queue = json.loads(ok("review", "--json", "--limit", "20", db=db))
    assert [r["ticket_id"] for r in queue] == want and len(queue) == 20
    scores = [r["teach_score"] for r in queue]
    assert scores == sorted(scores, reverse=True)
    assert queue[0]["ticket_id"] == top["ticket_id"] and queue[0]["flagged"] is True
    assert queue[0]["teach_score"] == pytest.approx(top["teach_score"] + 0.5)
    assert queue[0]["why"].startswith("flagged, ")


@pytest.mark.slow
def test_models_retrain_train_promote_rollback(db: Path) -> None:
    listed = json.loads(ok("models", "--json", db=db))
    assert [(m["version"], m["active"], m["kind"]) for m in listed] == [(1, True, "category")]
    assert 0 < listed[0]["macro_f1"] <= 1 and "model" not in listed[0]

    with Store(db) as s:
        lab = training.labeled(s, CONFIG)
        ids = lab.loc[~lab["holdout"] & (lab["label"] == "billing"), "ticket_id"].tolist()[:2]
        for tid in ids:
            feedback.add(s, tid, {"category": "refund"})
    result = json.loads(ok("retrain", "--json", db=db))
    assert set(result) >= {"version", "n_corrections_used", "metrics", "promoted"}
    assert (result["version"], result["n_corrections_used"]) == (2, 2)
    for which in ("new", "current"):
        assert set(result["metrics"][which]) == {"accuracy", "macro_f1"}
    new_f1, cur_f1 = result["metrics"]["new"]["macro_f1"], result["metrics"]["current"][
        "macro_f1"]
    assert result["promoted"] == (new_f1 >= cur_f1)

    # --force: this training set (labels plus corrections) may choose another configuration
    # than version 1's, which the guardrails could find a little worse
    out = ok("train", "--note", "from the cli", "--force", db=db)
    assert out.startswith("trained category model version 3 on ")
    assert "configuration '" in out and "plain TF-IDF + linear SVM on the same holdout" in out
    with Store(db) as s:
        assert registry.active_version(s) == 3
        assert registry.list_versions(s).set_index("version").loc[3, "note"].startswith(
            "from the cli")

    assert ok("models", "promote", "1", db=db).strip() == \
        "version 1 is now active; tickets re-scored"
    with Store(db) as s:
        assert registry.active_version(s) == 1
        assert s.query("SELECT DISTINCT model_version FROM triage_results")[
            "model_version"].tolist() == [1]
    assert ok("models", "rollback", "--kind", "category", db=db).strip() == \
        "rolled back: version 3 is active again; tickets re-scored"
    with Store(db) as s:
        assert registry.active_version(s) == 3
    # --json: an object (it printed the words)
    assert json.loads(ok("models", "promote", "1", "--json", db=db)) == {
        "action": "promote", "active_version": 1, "rescored": True}
    assert json.loads(ok("models", "rollback", "--json", db=db))["active_version"] == 3
    assert "no model version 99" in one_line_error(triage("models", "promote", "99", db=db))


@pytest.mark.slow
def test_models_rollback_defaults_to_the_category_model(db: Path) -> None:
    with Store(db) as s:
        training.train(s, CONFIG, force=True)  # version 2, active
    out = ok("models", "rollback", db=db)
    assert out.strip() == "rolled back: version 1 is active again; tickets re-scored"
    with Store(db) as s:
        assert registry.active_version(s) == 1


def test_import_csat_surveys(db: Path, tmp_path: Path) -> None:
    with Store(db) as s:
        happy = s.query("SELECT t.ticket_id FROM triaged_tickets t JOIN triage_results r"
                        " USING (ticket_id) WHERE t.sentiment_label = 'positive'"
                        " AND r.category_confidence >= 0.6 AND t.csat IS NULL"
                        " ORDER BY ticket_id LIMIT 1")["ticket_id"].iloc[0]
    f = tmp_path / "surveys.csv"
    f.write_text(f"ticket_id,score,comment\n{happy},1,not happy at all\n", encoding="utf-8")
    out = ok("import", "csat_surveys", str(f), db=db)
    assert "1 row into csat_surveys (1 new" in out
    queue = json.loads(ok("review", "--json", "--limit", "5000", db=db))
    row = next(r for r in queue if r["ticket_id"] == happy)
    assert row["csat"] == 1 and row["csat_disagrees"] is True
    assert "CSAT disagrees with sentiment" in row["why"]

    bad = tmp_path / "bad.csv"
    bad.write_text("ticket_id,score\nNOPE,6\n", encoding="utf-8")
    err = one_line_error(triage("import", "csat_surveys", str(bad), db=db))
    assert "bad.csv" in err and "score" in err


def test_a_first_model_too_small_to_judge_is_activated_with_a_warning(tmp_path: Path) -> None:
    """With a handful of labeled tickets the holdout is too small to tell the model from a
    guess: the first model is activated (something beats nothing), and `triage train` now
    says so in words, not only in --json (it printed a holdout accuracy of 0.000 and no
    warning)."""
    customers = tmp_path / "c.csv"
    customers.write_text("customer_id\nC1\n")
    rows = ["ticket_id,created_at,customer_id,status,subject,category"]
    words = {"billing": "refund charge invoice", "login": "password locked sign in"}
    for i in range(12):
        label = list(words)[i % 2]
        rows.append(f"T{i},2026-02-0{1 + i % 9} 10:00:00,C1,open,{words[label]} {i},{label}")
    tickets = tmp_path / "t.csv"
    tickets.write_text("\n".join(rows) + "\n")
    db = tmp_path / "small.duckdb"
    ok("import", "customers", str(customers), db=db)
    ok("import", "tickets", str(tickets), db=db)
    r = triage("train", db=db)
    assert r.exit_code == 0, r.stderr
    assert "activated untested" in r.stderr and "too few" in r.stderr, r.stderr
    with Store(db, read_only=True) as s:
        assert registry.active_version(s, "category") is not None
    # no verb trains a sentiment model into the database: the listing does not send to one
    shown = _sentiment_listing(db)
    assert "built-in lexicon" in shown and "triage train" not in shown, shown
    # no holdout ticket at all: said so, not "accuracy nan"; a retrain without a current
    # figure says "none", not "nan"
    few = tmp_path / "few.duckdb"
    ok("import", "customers", str(customers), db=few)
    (tmp_path / "few.csv").write_text("\n".join([rows[0], *rows[3:6]]) + "\n")  # T2-T4
    ok("import", "tickets", str(tmp_path / "few.csv"), db=few)
    r = triage("train", db=few)
    assert r.exit_code == 0, r.stderr
    assert "no holdout tickets to score it on" in r.stdout and "nan" not in r.stdout, r.stdout
    r = triage("retrain", "--force", db=few)
    assert r.exit_code == 0 and "nan" not in r.stdout, r.stdout


def _sentiment_listing(db: Path) -> str:
    r = triage("models", "--kind", "sentiment", db=db)
    assert r.exit_code == 0, r.stderr
    return r.stdout + r.stderr
