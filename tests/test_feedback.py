"""The feedback loop (issue 7): corrections with audit trail and undo, retraining with them,
promotion only when not worse, persistence across restarts, review queue and CSAT surveys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from triage_core.config import default_config
from triage_core.errors import ImportValidationError, TriageError
from triage_core.models import registry
from triage_core.models.evaluate import metrics
from triage_core.ops import feedback, scoring
from triage_core.store import Store
from triage_core.text import ticket_text_series
from triage_core.triage import pipeline, training

CONFIG = default_config()
# the review queue's "low confidence" is routing's: below it a ticket goes to the triage queue
THRESHOLD = scoring.rules(CONFIG).confidence_threshold


@pytest.fixture
def db_path(world_copy: Path) -> Path:
    return world_copy


@pytest.fixture
def db(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as s:
        yield s


def training_ticket(store: Store, label: str, n: int = 0, holdout: bool = False) -> str:
    """The n-th labeled ticket of ``label`` inside or outside the fixed holdout."""
    lab = training.labeled(store, CONFIG)
    pick = lab[(lab["label"] == label) & (lab["holdout"] == holdout)].sort_values("ticket_id")
    return str(pick["ticket_id"].iloc[n])


def triaged(store: Store, ticket_id: str) -> dict:
    return store.query("SELECT * FROM triaged_tickets WHERE ticket_id = ?",
                       [ticket_id]).iloc[0].to_dict()


# -- corrections change the training label ---------------------------------------------------


def test_a_correction_changes_the_training_label(db: Store) -> None:
    tid = training_ticket(db, "billing")
    ids = feedback.add(db, tid, {"category": "refund"}, by="ana", comment="asked for money back")
    assert ids == [1]
    lab = training.labeled(db, CONFIG).set_index("ticket_id")
    assert lab.loc[tid, "label"] == "refund" and bool(lab.loc[tid, "corrected"])
    assert int(lab["corrected"].sum()) == 1
    # shown at once in triaged_tickets, with the audit trail of what was shown before
    row = triaged(db, tid)
    assert (row["category"], row["category_source"], row["category_confidence"]) == \
        ("refund", "correction", 1.0)
    audit = feedback.list_feedback(db, tid).iloc[0]
    assert (audit["field"], audit["old_value"], audit["new_value"], audit["author"],
            audit["comment"]) == ("category", "billing", "refund", "ana", "asked for money back")
    assert pd.isna(audit["undone_at"])
    # the newest correction wins; the old one stays in the trail
    feedback.add(db, tid, {"category": "cancellation"}, by="ben")
    assert training.labeled(db, CONFIG).set_index("ticket_id").loc[tid, "label"] == \
        "cancellation"
    trail = feedback.list_feedback(db, tid)
    assert trail["new_value"].tolist() == ["cancellation", "refund"]
    assert trail["old_value"].tolist() == ["refund", "billing"]
    assert feedback.effective(db, tid) == {"category": "cancellation"}


def test_corrections_are_validated(db: Store) -> None:
    tid = training_ticket(db, "billing")
    with pytest.raises(TriageError, match="unknown category 'billling'; known"):
        feedback.add(db, tid, {"category": "billling"})
    # one that differs from a known one in case or blanks only: named
    with pytest.raises(TriageError, match="unknown category 'Refund'; did you mean 'refund'"):
        feedback.add(db, tid, {"category": "Refund "})
    with pytest.raises(TriageError, match="tier must be one of P1, P2, P3, P4"):
        feedback.add(db, tid, {"tier": "P0"})
    with pytest.raises(TriageError, match="sentiment must be one of"):
        feedback.add(db, tid, {"sentiment": "angry"})
    with pytest.raises(TriageError, match="no ticket 'NOPE'"):
        feedback.add(db, "NOPE", {"category": "billing"})
    with pytest.raises(TriageError, match="nothing to record"):
        feedback.add(db, tid, {"category": "  ", "tier": None})
    assert feedback.summary(db) == {"active": 0, "undone": 0, "tickets": 0}
    # normalized values; a new category only when asked for (values the ticket does not show)
    now = triaged(db, tid)
    tier = "P2" if now["priority_tier"] != "P2" else "P3"
    senti = "negative" if now["sentiment_label"] != "negative" else "positive"
    feedback.add(db, tid, {"tier": f" {tier.lower()} ", "sentiment": senti.capitalize()})
    feedback.add(db, tid, {"category": "loyalty_points"}, allow_new_category=True)
    assert feedback.effective(db, tid) == {"tier": tier, "sentiment": senti,
                                           "category": "loyalty_points"}
    row = triaged(db, tid)
    assert (row["priority_tier"], row["sentiment_label"], row["category"]) == \
        (tier, senti, "loyalty_points")
    # a correction to the value the ticket already shows is refused, whole
    before = feedback.summary(db)
    with pytest.raises(TriageError, match="category is already loyalty_points: nothing recorded"):
        feedback.add(db, tid, {"category": "loyalty_points", "tier": "P1"},
                     allow_new_category=True)
    with pytest.raises(TriageError, match=f"tier is already {tier}"):
        feedback.add(db, tid, {"tier": tier.lower()})
    # a new category is one short line (a pasted paragraph or a line break was taken)
    for bad in ("two\nlines", "tab\there", "x" * (feedback.MAX_NEW_CATEGORY + 1)):
        with pytest.raises(TriageError, match="a new category is one line of at most 100"):
            feedback.add(db, tid, {"category": bad}, allow_new_category=True)
    assert feedback.summary(db) == before
    # free text is bounded too (a megabyte comment or flag would be kept forever)
    from triage_core.schema import MAX_ID_CHARS, MAX_NOTE_CHARS

    for change, extra, what in (({"flag": "x" * (MAX_NOTE_CHARS + 1)}, {}, "flag"),
                                ({"flag": "wrong"}, {"comment": "c" * (MAX_NOTE_CHARS + 1)},
                                 "comment"),
                                ({"flag": "wrong"}, {"by": "b" * (MAX_ID_CHARS + 1)}, "author")):
        with pytest.raises(TriageError, match=f"the {what} is .* characters long; at most"):
            feedback.add(db, tid, change, **extra)
    assert feedback.summary(db) == before
    # an author is one line: a line break forged a row of `triage feedback list`
    for forged in ("mallory\n  99  TK0000001  category  billing  alice", "\u202enimda"):
        with pytest.raises(TriageError, match="an author is one line of text"):
            feedback.add(db, tid, {"flag": "wrong"}, by=forged)
    assert feedback.summary(db) == before
    feedback.add(db, tid, {"flag": "f" * MAX_NOTE_CHARS}, comment="c" * MAX_NOTE_CHARS,
                 by="b" * MAX_ID_CHARS)
    feedback.add(db, tid, {"category": "y" * feedback.MAX_NEW_CATEGORY},
                 allow_new_category=True)


# -- retraining and promotion ----------------------------------------------------------------


@pytest.mark.slow
def test_retrain_after_corrections_records_a_new_version(db: Store) -> None:
    corrected = [training_ticket(db, "billing", n) for n in range(3)]
    for tid in corrected:
        feedback.add(db, tid, {"category": "refund"}, by="ana")
    result = training.retrain(db, CONFIG, by="test")
    assert set(result) >= {"version", "n_corrections_used", "metrics", "promoted"}
    assert result["version"] == 2 and result["current_version"] == 1
    assert result["n_corrections_used"] == 3
    for which in ("new", "current"):
        assert set(result["metrics"][which]) == {"accuracy", "macro_f1"}
        assert 0.5 < result["metrics"][which]["macro_f1"] <= 1
    # the current model is scored on the same holdout as when it was trained
    v1 = registry.get_version(db, 1)
    assert result["metrics"]["current"]["macro_f1"] == pytest.approx(v1.metrics["macro_f1"])
    new_f1, cur_f1 = (result["metrics"][k]["macro_f1"] for k in ("new", "current"))
    assert result["promoted"] == (new_f1 >= cur_f1)
    v2 = registry.get_version(db, 2)
    assert v2.n_corrections == 3 and v2.train_summary["compared_with"] == 1
    assert v2.metrics["macro_f1"] == pytest.approx(new_f1)
    assert registry.active_version(db) == (2 if result["promoted"] else 1)
    # the recorded holdout metrics are the new model's, recomputed by hand
    lab = training.labeled(db, CONFIG)
    hold = lab[lab["holdout"]]
    model = registry.load(db, "category", 2)
    texts = ticket_text_series(hold["subject"], hold["body"]).tolist()
    assert metrics(hold["label"].tolist(), list(model.predict(texts)))["macro_f1"] == \
        pytest.approx(new_f1)


def poison(store: Store) -> int:
    """Relabel every billing ticket outside the holdout as refund: a worse model on the
    (untouched) holdout. Written in one statement: hundreds of feedback.add calls are slow."""
    lab = training.labeled(store, CONFIG)
    ids = lab.loc[(lab["label"] == "billing") & ~lab["holdout"], "ticket_id"].tolist()
    store.execute(
        "INSERT INTO feedback (feedback_id, ticket_id, field, new_value, author, created_at)"
        " SELECT 1000 + row_number() OVER (ORDER BY id), id, 'category', 'refund', 'vandal',"
        " now()::TIMESTAMP FROM (SELECT unnest(?::VARCHAR[]) AS id)", [ids])
    return len(ids)


@pytest.mark.slow
def test_a_worse_model_is_not_promoted_unless_forced(db: Store) -> None:
    n = poison(db)
    assert n > 50
    kept = training.retrain(db, CONFIG)
    assert kept["n_corrections_used"] == n
    assert kept["metrics"]["new"]["macro_f1"] < kept["metrics"]["current"]["macro_f1"]
    assert kept["promoted"] is False
    assert registry.active_version(db) == 1
    assert not registry.get_version(db, kept["version"]).active
    # the triage still uses version 1
    assert db.query("SELECT DISTINCT model_version FROM triage_results")[
        "model_version"].tolist() == [1]

    forced = training.retrain(db, CONFIG, force=True)
    assert forced["promoted"] is True and forced["version"] == kept["version"] + 1
    assert registry.active_version(db) == forced["version"]
    notes = registry.list_versions(db).set_index("version")["note"]
    assert notes[forced["version"]] == "retrain (forced)" and notes[kept["version"]] == "retrain"
    # promotion re-triages with the new model
    assert db.query("SELECT DISTINCT model_version FROM triage_results")[
        "model_version"].tolist() == [forced["version"]]

    # a tolerance wide enough lets the worse model through without force
    registry.activate_version(db, 1)
    lenient = training.retrain(db, CONFIG, tolerance=1.0)
    assert lenient["promoted"] is True and lenient["current_version"] == 1


@pytest.mark.slow
def test_promote_and_rollback_switch_the_model_and_retriage(db: Store) -> None:
    second = training.train(db, CONFIG, note="second", activate=False)
    assert registry.active_version(db) == 1
    training.promote(db, CONFIG, second["version"])
    assert registry.active_version(db) == 2
    assert db.query("SELECT DISTINCT model_version FROM triage_results")[
        "model_version"].tolist() == [2]
    assert training.rollback(db, CONFIG) == 1
    assert registry.active_version(db) == 1
    assert db.query("SELECT DISTINCT model_version FROM triage_results")[
        "model_version"].tolist() == [1]


# -- persistence and undo --------------------------------------------------------------------


def test_corrections_survive_a_restart_and_scoring_applies_them(db_path: Path) -> None:
    with Store(db_path) as s:
        unlabeled = s.query("SELECT t.ticket_id, t.category FROM triaged_tickets t"
                            " WHERE t.category_source = 'model' ORDER BY ticket_id LIMIT 1"
                            ).iloc[0]
        # a labeled ticket the model does not already call negative (a correction to the
        # value a ticket already shows is refused)
        labeled = next(t for t in (training_ticket(s, "app_crash", n) for n in range(20))
                       if triaged(s, t)["sentiment_label"] != "negative")
        wrong = "billing" if unlabeled["category"] != "billing" else "refund"
        feedback.add(s, unlabeled["ticket_id"], {"category": wrong, "tier": "P1"}, by="ana")
        feedback.add(s, labeled, {"category": "account_access", "sentiment": "negative"})
    with Store(db_path) as s:  # a new process would see the same
        assert feedback.effective(s, unlabeled["ticket_id"]) == {"category": wrong, "tier": "P1"}
        assert len(feedback.list_feedback(s)) == 4
        lab = training.labeled(s, CONFIG).set_index("ticket_id")
        assert lab.loc[unlabeled["ticket_id"], "label"] == wrong  # a new training example
        assert lab.loc[labeled, "label"] == "account_access"
        s.execute("DROP TABLE triaged_tickets")  # scoring re-derives everything
        scoring.score_all(s, CONFIG)
        a, b = triaged(s, unlabeled["ticket_id"]), triaged(s, labeled)
        assert (a["category"], a["category_source"], a["category_confidence"]) == \
            (wrong, "correction", 1.0)
        assert a["predicted_category"] == unlabeled["category"]  # the model's guess is kept
        assert a["priority_tier"] == "P1"
        assert (b["category"], b["category_source"], b["sentiment_label"]) == \
            ("account_access", "correction", "negative")
        assert b["sentiment"] <= -0.5
        assert s.scalar("SELECT count(*) FROM triaged_tickets WHERE category_source ="
                        " 'correction'") == 2


@pytest.mark.slow
def test_undo_stops_a_correction_but_keeps_the_audit_trail(db: Store) -> None:
    tid = training_ticket(db, "shipping_delivery")
    (fid,) = feedback.add(db, tid, {"category": "refund"}, by="ana")
    feedback.undo(db, fid, by="lead")
    assert feedback.effective(db, tid) == {}
    lab = training.labeled(db, CONFIG).set_index("ticket_id")
    assert lab.loc[tid, "label"] == "shipping_delivery" and not lab.loc[tid, "corrected"]
    audit = feedback.list_feedback(db, tid).iloc[0]
    assert audit["new_value"] == "refund" and audit["undone_by"] == "lead"
    assert pd.notna(audit["undone_at"]) and audit["undone_at"] >= audit["created_at"]
    assert feedback.summary(db) == {"active": 0, "undone": 1, "tickets": 1}
    scoring.score_all(db, CONFIG)
    row = triaged(db, tid)
    assert (row["category"], row["category_source"]) == ("shipping_delivery", "label")
    with pytest.raises(TriageError, match="already undone"):
        feedback.undo(db, fid)
    with pytest.raises(TriageError, match="no feedback #999"):
        feedback.undo(db, 999)
    # an undone correction does not count in retraining
    assert training.retrain(db, CONFIG)["n_corrections_used"] == 0


def test_undo_shows_at_once_in_triaged_tickets(db: Store) -> None:
    tid = training_ticket(db, "shipping_delivery")
    before = triaged(db, tid)
    (fid,) = feedback.add(db, tid, {"category": "refund"})
    assert triaged(db, tid)["category_source"] == "correction"
    feedback.undo(db, fid)
    after = triaged(db, tid)
    assert (after["category"], after["category_source"]) == \
        (before["category"], before["category_source"])


# -- review queue and CSAT ---------------------------------------------------------------------


def expected_queue(store: Store, threshold: float = THRESHOLD) -> pd.DataFrame:
    """The review queue recomputed in pandas from the raw tables.

    Low confidence only counts for tickets without a human label (a labeled ticket teaches
    nothing new); flags and CSAT disagreements count for every ticket."""
    t = store.query("SELECT t.ticket_id, t.sentiment_label, r.category_confidence AS conf,"
                    " k.csat AS ticket_csat, s.score AS survey,"
                    " k.category IS NOT NULL AS has_label FROM triaged_tickets t"
                    " JOIN tickets k USING (ticket_id) LEFT JOIN triage_results r"
                    " USING (ticket_id) LEFT JOIN csat_surveys s USING (ticket_id)")
    fb = store.query("SELECT ticket_id, field FROM feedback WHERE undone_at IS NULL")
    flagged = set(fb.loc[fb["field"] == "flag", "ticket_id"])
    corrected = set(fb.loc[fb["field"].isin(["category", "sentiment"]), "ticket_id"])
    csat = t["survey"].fillna(t["ticket_csat"])
    disagree = (((csat <= 2) & (t["sentiment_label"] == "positive"))
                | ((csat >= 4) & (t["sentiment_label"] == "negative"))).fillna(False)
    t = t.assign(flagged=t["ticket_id"].isin(flagged), disagree=disagree.astype(bool))
    t["score"] = (1 - t["conf"].fillna(1)) + 0.5 * t["flagged"] + 0.25 * t["disagree"]
    keep = (~t["ticket_id"].isin(corrected)
            & (t["flagged"] | ((t["conf"] < threshold) & ~t["has_label"]) | t["disagree"]))
    return t[keep].set_index("ticket_id")


def test_review_queue_orders_by_what_teaches_most(db: Store) -> None:
    confident = db.query("SELECT ticket_id, category_confidence FROM triage_results"
                         " WHERE category_confidence > 0.95 AND ticket_id NOT IN"
                         " (SELECT ticket_id FROM tickets WHERE csat IS NOT NULL)"
                         " ORDER BY ticket_id LIMIT 1").iloc[0]
    feedback.add(db, confident["ticket_id"], {"flag": "looks wrong"})
    unsure = expected_queue(db).sort_values("conf").index[:2].tolist()
    feedback.add(db, unsure[0], {"category": "billing"})  # corrected: leaves the queue
    feedback.add(db, unsure[1], {"sentiment": "neutral"})  # so does a sentiment correction

    queue = feedback.review_queue(db, THRESHOLD, limit=100_000)
    want = expected_queue(db)
    assert set(queue["ticket_id"]) == set(want.index)
    assert not set(unsure) & set(queue["ticket_id"])
    assert len(queue) > 50
    scores = queue["teach_score"].tolist()
    assert scores == sorted(scores, reverse=True)
    assert queue["teach_score"].tolist() == pytest.approx(
        want.loc[queue["ticket_id"], "score"].tolist())
    flagged = queue.set_index("ticket_id").loc[confident["ticket_id"]]
    assert flagged["teach_score"] == pytest.approx(1 - confident["category_confidence"] + 0.5)
    assert flagged["why"] == "flagged"
    # uncertainty first: among plain low-confidence tickets, the least sure comes first
    plain = queue[(queue["why"] == "low confidence")]
    assert plain["model_confidence"].is_monotonic_increasing
    assert feedback.review_queue(db, THRESHOLD, limit=5)["ticket_id"].tolist() == \
        queue["ticket_id"].tolist()[:5]


def test_review_queue_low_confidence_follows_the_threshold_given(db: Store) -> None:
    assert THRESHOLD < 0.8
    low = {}
    for threshold in (THRESHOLD, 0.8):
        queue = feedback.review_queue(db, threshold, limit=100_000)
        assert set(queue["ticket_id"]) == set(expected_queue(db, threshold).index)
        plain = queue[queue["why"] == "low confidence"]
        assert (plain["model_confidence"] < threshold).all()
        low[threshold] = set(plain["ticket_id"])
    assert low[THRESHOLD] < low[0.8]


def test_csat_survey_links_to_its_ticket_and_makes_a_review_candidate(
        db: Store, tmp_path: Path) -> None:
    happy = db.query("SELECT t.ticket_id FROM triaged_tickets t JOIN triage_results r"
                     " USING (ticket_id) WHERE t.sentiment_label = 'positive'"
                     " AND r.category_confidence >= ? AND t.csat IS NULL"
                     " ORDER BY ticket_id LIMIT 2", [THRESHOLD])["ticket_id"].tolist()
    queue = feedback.review_queue(db, THRESHOLD, limit=100_000)
    assert not set(happy) & set(queue["ticket_id"])
    surveys = tmp_path / "csat_surveys.csv"
    surveys.write_text("ticket_id,score,comment,answered_at\n"
                       f"{happy[0]},1,awful,2026-07-01 10:00:00\n"
                       f"{happy[1]},5,great,2026-07-01 11:00:00\n", encoding="utf-8")
    result = db.import_file("csat_surveys", surveys)
    assert result.new_rows == 2
    linked = db.query("SELECT s.ticket_id, s.score FROM csat_surveys s JOIN tickets k"
                      " USING (ticket_id) ORDER BY s.score")
    assert linked.values.tolist() == [[happy[0], 1], [happy[1], 5]]
    queue = feedback.review_queue(db, THRESHOLD, limit=100_000).set_index("ticket_id")
    assert happy[0] in queue.index and happy[1] not in queue.index
    row = queue.loc[happy[0]]
    assert row["csat"] == 1 and bool(row["csat_disagrees"])
    assert row["why"] == "CSAT disagrees with sentiment"
    assert row["teach_score"] == pytest.approx(1 - row["model_confidence"] + 0.25)

    bad = tmp_path / "bad.csv"
    bad.write_text("ticket_id,score\nNO_SUCH_TICKET,3\n", encoding="utf-8")
    with pytest.raises(ImportValidationError, match=r"NO_SUCH_TICKET.*does not exist in tickets"):
        db.import_file("csat_surveys", bad)


def test_csat_vs_sentiment_prefers_surveys(loaded_store: Store, tmp_path: Path) -> None:
    """Hand-made: T2 (csat 4) and T3 (csat 5) are in different weeks; a survey for T3 says 1."""
    pipeline.triage(loaded_store, CONFIG)
    before = feedback.csat_vs_sentiment(loaded_store, "day")
    assert before["csat"].dropna().tolist() == [4.0, 5.0]
    assert before["surveys"].tolist() == [0, 1, 1]
    f = tmp_path / "s.csv"
    f.write_text("ticket_id,score\nT3,1\n", encoding="utf-8")
    loaded_store.import_file("csat_surveys", f)
    after = feedback.csat_vs_sentiment(loaded_store, "day")
    assert after["csat"].dropna().tolist() == [4.0, 1.0]
    sentiment = loaded_store.query("SELECT sentiment FROM triage_results ORDER BY ticket_id")
    assert after["mean_sentiment"].tolist() == pytest.approx(sentiment["sentiment"].tolist())
    with pytest.raises(TriageError, match="freq must be"):
        feedback.csat_vs_sentiment(loaded_store, "hour")


def test_a_training_note_of_megabytes_is_refused_before_training(db: Store) -> None:
    from triage_core.schema import MAX_NOTE_CHARS

    versions = db.scalar("SELECT count(*) FROM model_versions")
    with pytest.raises(TriageError, match="the note is 5,001 characters long; at most 5,000"):
        training.train(db, CONFIG, note="n" * (MAX_NOTE_CHARS + 1))
    assert db.scalar("SELECT count(*) FROM model_versions") == versions
    assert registry.active_version(db, "category") is not None
