"""The triage pipeline on the shared demo world: triage_batch, incremental predict, triaged_tickets,
routing capacity, explanations, labeled data and training."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _world import WORLD_TICKETS

from triage_core.config import default_config
from triage_core.errors import ModelError, TriageError
from triage_core.models import registry
from triage_core.schema import OPEN_STATUSES, SENTIMENT_LABELS
from triage_core.store import Store
from triage_core.triage import pipeline, training
from triage_core.triage.batch import RESULT_COLUMNS, TriageModels, triage_batch

CONFIG = default_config()
CATEGORIES = {"billing", "refund", "coupon_promo", "account_access", "app_crash",
              "shipping_delivery", "cancellation", "product_question", "feature_request",
              "security_fraud"}
REQUIRED = ["ticket_id", "category", "category_confidence", "sentiment", "severity",
            "lifetime_value", "priority_score", "priority_tier", "sla_due_at", "team",
            "agent_id", "routing_reason", "escalated"]
OPEN = list(OPEN_STATUSES)


@pytest.fixture
def db(world_copy: Path) -> Iterator[Store]:
    """A private copy for tests that write."""
    with Store(world_copy) as s:
        yield s


@pytest.fixture(scope="module")
def models(world: Store) -> TriageModels:
    return pipeline.load_models(world, CONFIG)


def stale_batch(store: Store, n: int) -> pd.DataFrame:
    """Tickets as predict() hands them to triage_batch (with label and text_hash)."""
    return store.query("SELECT ticket_id, subject, body, category AS label, language,"
                       " hash(coalesce(subject, ''), coalesce(body, '')) AS text_hash"
                       " FROM tickets ORDER BY ticket_id LIMIT ?", [n])


# -- triage_batch -------------------------------------------------------------------------------


def test_triage_batch_is_pure_and_deterministic(world: Store,
                                                models: TriageModels) -> None:
    batch = stale_batch(world, 120)
    before = batch.copy(deep=True)
    first = triage_batch(batch, models)
    second = triage_batch(batch, models)
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(batch, before)  # the input is not mutated
    assert first.columns.tolist() == RESULT_COLUMNS
    assert first["ticket_id"].tolist() == batch["ticket_id"].tolist()
    assert first["text_hash"].tolist() == batch["text_hash"].tolist()
    assert (first["model_version"] == 1).all()
    # batches are independent: two halves give the same rows as the whole
    halves = pd.concat([triage_batch(batch.iloc[:50], models),
                        triage_batch(batch.iloc[50:], models)], ignore_index=True)
    pd.testing.assert_frame_equal(halves, first)
    # and the same values predict() stored for these tickets
    stored = world.query("SELECT * FROM triage_results WHERE ticket_id IN "
                         "(SELECT unnest(?::VARCHAR[])) ORDER BY ticket_id",
                         [batch["ticket_id"].tolist()])
    assert stored["category"].tolist() == first["category"].tolist()
    np.testing.assert_allclose(stored["sentiment"], first["sentiment"])
    np.testing.assert_allclose(stored["category_confidence"], first["category_confidence"])
    assert stored["severity"].tolist() == first["severity"].tolist()


def test_triage_batch_handles_odd_texts(models: TriageModels) -> None:
    batch = pd.DataFrame({
        "ticket_id": ["none", "empty", "long", "de", "zh", "emoji"],
        "subject": [None, "", "Refund", "Rückerstattung", "退款", None],
        "body": [None, "   ", "I want my money back. " * 20_000,
                 "Ich wurde doppelt belastet, bitte erstatten Sie mir das Geld zurück",
                 "我要退款，订单两次扣费", "😡😡😡 !!!"],
    })
    out = triage_batch(batch, models)
    assert out["ticket_id"].tolist() == batch["ticket_id"].tolist()
    # no letter or digit to read (nothing, blanks, emoji and "!!!"): no category, which
    # routing sends to the triage queue, rather than a guess with a confidence
    worded = out.set_index("ticket_id").drop(index=["none", "empty", "emoji"])
    blank = out.set_index("ticket_id").loc[["none", "empty", "emoji"]]
    assert blank["category"].isna().all() and blank["category_confidence"].isna().all()
    assert blank["category_top"].isna().all()
    assert set(worded["category"]) <= CATEGORIES
    assert worded["category_confidence"].between(0, 1).all()
    for top in worded["category_top"]:
        pairs = json.loads(top)
        assert len(pairs) == 3 and pairs[0][1] >= pairs[1][1] >= pairs[2][1]
    # German and Chinese are detected and not scored by the English lexicon; the rest are
    english = out.set_index("ticket_id").drop(index=["de", "zh"])
    assert english["sentiment"].between(-1, 1).all()
    assert set(english["sentiment_label"]) <= set(SENTIMENT_LABELS)
    foreign = out.set_index("ticket_id").loc[["de", "zh"]]
    assert foreign["language"].tolist() == ["de", "zh"]
    assert foreign["sentiment"].isna().all() and foreign["sentiment_label"].isna().all()
    assert out["severity"].between(1, 4).all()
    # no words at all: nothing to feel, neutral
    empty = out.set_index("ticket_id").loc[["none", "empty"]]
    assert (empty["sentiment"] == 0).all() and (empty["sentiment_label"] == "neutral").all()
    assert out.set_index("ticket_id").loc["long", "category"] == "refund"


def test_triage_batch_without_a_category_model(models: TriageModels) -> None:
    bare = TriageModels(None, None, models.sentiment, models.severity)
    batch = pd.DataFrame({"ticket_id": ["a", "b"], "subject": ["hi", "hi"],
                          "body": ["someone took over my account", "thanks"],
                          "label": ["security_fraud", None]})
    out = triage_batch(batch, bare)
    assert out["category"].isna().all() and out["category_confidence"].isna().all()
    assert out["model_version"].isna().all()
    # severity uses the known label: security_fraud defaults to 3, no category to 1
    assert out["severity"].tolist()[1] == 1
    assert out["severity"].tolist()[0] >= 3


def test_triage_batch_of_nothing(models: TriageModels) -> None:
    empty = pd.DataFrame({"ticket_id": pd.Series([], dtype=object),
                          "subject": pd.Series([], dtype=object),
                          "body": pd.Series([], dtype=object)})
    out = triage_batch(empty, models)
    assert out.empty and out.columns.tolist() == RESULT_COLUMNS


# -- predict: only new or changed tickets ----------------------------------------------------------


def new_ticket(store: Store) -> pd.DataFrame:
    customer = store.query("SELECT min(customer_id) AS c FROM customers")["c"].iloc[0]
    return pd.DataFrame({"ticket_id": ["NEW1"], "created_at": ["2026-06-30 23:00:00"],
                         "customer_id": [customer], "subject": ["app crashes"],
                         "body": ["The app crashes on start"], "status": ["new"]})


def test_predict_only_new_or_changed_tickets(db: Store) -> None:
    assert pipeline.predict(db, CONFIG) == 0  # everything is up to date
    tid = db.scalar("SELECT ticket_id FROM tickets ORDER BY ticket_id LIMIT 1 OFFSET 7")
    old = db.query("SELECT text_hash, scored_at FROM triage_results WHERE ticket_id = ?", [tid])
    db.execute("UPDATE tickets SET body = 'My parcel never arrived and tracking shows nothing.'"
               " WHERE ticket_id = ?", [tid])
    assert pipeline.predict(db, CONFIG) == 1
    new = db.query("SELECT text_hash, scored_at, category FROM triage_results"
                   " WHERE ticket_id = ?", [tid])
    expected = db.scalar("SELECT hash(coalesce(subject, ''), coalesce(body, '')) FROM tickets"
                         " WHERE ticket_id = ?", [tid])
    assert int(new["text_hash"].iloc[0]) == int(expected) != int(old["text_hash"].iloc[0])
    assert new["scored_at"].iloc[0] > old["scored_at"].iloc[0]
    assert new["category"].iloc[0] == "shipping_delivery"
    # only that row was rewritten
    assert db.scalar("SELECT count(*) FROM triage_results WHERE scored_at >= ?",
                     [new["scored_at"].iloc[0]]) == 1
    assert pipeline.predict(db, CONFIG) == 0

    db.import_frame("tickets", new_ticket(db))
    assert pipeline.predict(db, CONFIG) == 1
    assert pipeline.predict(db, CONFIG, full=True) == WORLD_TICKETS + 1


@pytest.mark.slow
def test_a_new_model_version_makes_every_ticket_stale(db: Store) -> None:
    assert pipeline.predict(db, CONFIG) == 0
    result = training.train(db, CONFIG, note="second")
    assert result["version"] == 2 and result["active"]
    assert pipeline.predict(db, CONFIG) == WORLD_TICKETS
    assert db.query("SELECT DISTINCT model_version FROM triage_results")[
        "model_version"].tolist() == [2]


def test_predict_small_batches_give_the_same_results(db: Store) -> None:
    before = db.query("SELECT ticket_id, category, sentiment, severity FROM triage_results"
                      " ORDER BY ticket_id")
    seen: list[int] = []

    class Bar:
        def update(self, n: int) -> None:
            seen.append(n)

        def close(self) -> None:
            seen.append(-1)

    n = pipeline.predict(db, CONFIG, full=True, batch_size=400,
                         progress=lambda *a, **k: Bar())
    assert n == WORLD_TICKETS
    whole, rest = divmod(WORLD_TICKETS, 400)
    assert seen == [400] * whole + [rest] * (rest > 0) + [-1]
    after = db.query("SELECT ticket_id, category, sentiment, severity FROM triage_results"
                     " ORDER BY ticket_id")
    pd.testing.assert_frame_equal(before, after)
    with pytest.raises(TriageError, match="unknown engine"):
        pipeline.predict(db, CONFIG, full=True, engine="spark")


def test_import_frame_right_after_a_scalar_query(db: Store) -> None:
    assert db.scalar("SELECT count(*) FROM tickets") == WORLD_TICKETS
    db.import_frame("tickets", new_ticket(db.cursor()))
    assert db.scalar("SELECT count(*) FROM tickets") == WORLD_TICKETS + 1


# -- triaged_tickets ------------------------------------------------------------------------


def test_triaged_tickets_has_what_the_issue_asks(world: Store) -> None:
    cols = world.columns("triaged_tickets")
    assert set(REQUIRED) <= set(cols)
    t = world.query("SELECT * FROM triaged_tickets")
    assert len(t) == WORLD_TICKETS and t["ticket_id"].is_unique
    assert set(t["category"].dropna()) <= CATEGORIES
    assert t["category"].notna().all()
    assert t["category_confidence"].between(0, 1).all()
    scored = t["language"] == "en"  # the lexicon's language; others are "not scored"
    assert t.loc[scored, "sentiment"].between(-1, 1).all()
    assert t.loc[~scored, "sentiment"].isna().all()
    assert t["severity"].between(1, 4).all()
    assert t["priority_score"].between(0, 100).all()
    assert set(t["priority_tier"]) <= {"P1", "P2", "P3", "P4"}
    assert t["escalated"].dtype == bool
    assert t["sla_due_at"].notna().all()
    is_open = t["status"].isin(OPEN)
    assert t.loc[is_open, "team"].notna().all() and t.loc[is_open, "routing_reason"].notna().all()
    # lifetime value comes from the customer
    ltv = world.query("SELECT t.lifetime_value AS a, coalesce(c.lifetime_value, 0) AS b"
                      " FROM triaged_tickets t JOIN tickets k USING (ticket_id)"
                      " LEFT JOIN customers c ON c.customer_id = k.customer_id")
    np.testing.assert_allclose(ltv["a"], ltv["b"])
    # labeled tickets keep their label, unlabeled ones show the prediction
    mismatch = world.scalar(
        "SELECT count(*) FROM triaged_tickets t JOIN tickets k USING (ticket_id)"
        " JOIN triage_results r USING (ticket_id)"
        " WHERE t.category IS DISTINCT FROM coalesce(k.category, r.category)")
    assert mismatch == 0


def _open_load(store: Store) -> pd.DataFrame:
    return store.query(
        "SELECT a.agent_id, a.capacity, count(t.ticket_id) AS n FROM agents a"
        " LEFT JOIN triaged_tickets t ON t.agent_id = a.agent_id"
        " AND t.status IN (SELECT unnest(?::VARCHAR[]))"
        " GROUP BY ALL", [OPEN])


def test_no_agent_over_capacity(world: Store) -> None:
    load = _open_load(world)
    assert (load["n"] <= load["capacity"]).all()
    assert load["n"].sum() > 0


def test_no_agent_over_capacity_when_capacity_is_scarce(db: Store) -> None:
    db.execute("UPDATE agents SET capacity = 1")
    db.execute("UPDATE tickets SET agent_id = NULL WHERE status IN (SELECT unnest(?::VARCHAR[]))",
               [OPEN])
    pipeline.triage(db, CONFIG)
    load = _open_load(db)
    assert (load["n"] <= 1).all()
    n_open = db.scalar("SELECT count(*) FROM tickets WHERE status IN"
                       " (SELECT unnest(?::VARCHAR[]))", [OPEN])
    assigned = int(load["n"].sum())
    assert 0 < assigned <= len(load) < n_open
    outcomes = db.query("SELECT routing_outcome, count(*) AS n FROM triaged_tickets"
                        " WHERE status IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1", [OPEN])
    counts = dict(zip(outcomes["routing_outcome"], outcomes["n"], strict=True))
    assert counts.get("overflow", 0) > 0
    assert counts.get("assigned", 0) == assigned
    assert db.scalar("SELECT count(*) FROM triaged_tickets WHERE routing_outcome = 'overflow'"
                     " AND team <> 'overflow_queue'") == 0


# -- explain, errors ---------------------------------------------------------------------------


def test_explain_names_words_of_the_ticket(world: Store) -> None:
    row = world.query("SELECT t.ticket_id, k.subject, k.body FROM triaged_tickets t"
                      " JOIN tickets k USING (ticket_id) WHERE t.language = 'en'"
                      " AND t.sentiment_label = 'negative' AND t.category_source = 'model'"
                      " ORDER BY t.sentiment LIMIT 1").iloc[0]
    out = pipeline.explain(world, CONFIG, row["ticket_id"], k=5)
    # the words as the features read them: lower case, every digit 0 (models/features.py)
    text = re.sub(r"\d", "0", f"{row['subject']} {row['body']}".lower())
    assert 1 <= len(out["category_words"]) <= 5
    for term, weight in out["category_words"]:
        assert weight > 0
        for word in term.replace("…", " ").split():
            assert word in text, (word, text)
            assert word.isalpha() or "'" in word or "-" in word, word  # no fragments
    for term, _ in out["sentiment_words"]:
        for word in term.split():  # sentiment words occur in the text
            assert word.lower() in text, (word, text)
    weights = [w for _, w in out["category_words"]]
    assert weights == sorted(weights, reverse=True)
    assert out["sentiment_words"]
    assert any(w < 0 for _, w in out["sentiment_words"])  # a negative ticket has a negative word
    with pytest.raises(TriageError, match="no ticket 'NOPE'"):
        pipeline.explain(world, CONFIG, "NOPE")


def test_explanation_terms_are_words_of_the_text_without_stop_words_or_fragments() -> None:
    from triage_core.models.explain import readable_terms

    text = "Refund please: my card was charged twice, in error. Can you help? Ref #30fa"
    terms = [("0fa", 0.9), ("in", 0.8), ("can", 0.7), ("refund", 0.6), ("card charged", 0.5),
             ("card … twice", 0.45), ("twice … card", 0.44), ("not happy", 0.4),
             ("of the", 0.3), ("charged", 0.2), ("error", 0.1)]
    assert readable_terms(terms, text, k=3) == [("refund", 0.6), ("card … twice", 0.45),
                                                ("charged", 0.2)]
    assert readable_terms(terms, text, k=10)[-1] == ("error", 0.1)
    # "card charged" is not in the text as a phrase, "not happy" not at all
    assert ("card charged", 0.5) not in readable_terms(terms, text, k=10)
    assert readable_terms([("Refund", -0.2)], text.upper(), k=1) == [("Refund", -0.2)]
    # a number a model reads as written (keep_digits) is a reason; digits made 0 are not in
    # the text as written
    code = "The page shows error 404 again"
    assert readable_terms([("000", 0.9), ("error 404", 0.8), ("404", 0.7), ("4o4", 0.6)],
                          code, k=5) == [("error 404", 0.8), ("404", 0.7)]
    # a contraction's parts are no words of the text; a possessive's first part is
    said = "I didn't get my refund and the customer's card won't work. Don't t."
    got = readable_terms([("didn", 0.9), ("i didn", 0.8), ("won", 0.7), ("customer", 0.6),
                          ("card", 0.5), ("don", 0.4)], said, k=10)
    assert got == [("customer", 0.6), ("card", 0.5)]
    assert readable_terms([("refund", 0.3)], "a 'refund' please", k=1) == [("refund", 0.3)]


def test_triage_refuses_an_empty_database_and_a_bad_time(store: Store, db: Store) -> None:
    with pytest.raises(TriageError, match="no tickets to triage"):
        pipeline.triage(store, CONFIG)
    with pytest.raises(TriageError, match="cannot read 'yesterday-ish' as a date or time"):
        pipeline.triage(db, CONFIG, as_of="yesterday-ish")
    # read one way only: not month first (pandas read 05.03.2024 as 3 May), not year 1900
    with pytest.raises(TriageError, match="write it as YYYY-MM-DD"):
        pipeline.triage(db, CONFIG, as_of="05.03.2024")
    with pytest.raises(TriageError, match="outside the years 1970-2100"):
        pipeline.triage(db, CONFIG, as_of="1900-01-01")
    summary = pipeline.triage(db, CONFIG, as_of="2026-06-30T12:00:00Z")
    assert summary["as_of"] == "2026-06-30 12:00:00"
    assert summary["predicted"] == 0 and summary["scored"] == WORLD_TICKETS
    assert sum(summary["tiers"].values()) == WORLD_TICKETS
    # an offset is the same moment in UTC, as timestamps are stored (it was dropped)
    summary = pipeline.triage(db, CONFIG, as_of="2026-07-01T00:00:00+05:00")
    assert summary["as_of"] == "2026-06-30 19:00:00"


# -- labeled data and training ----------------------------------------------------------------


def test_labeled_uses_the_fixed_holdout(world: Store) -> None:
    lab = training.labeled(world, CONFIG)
    assert len(lab) == world.scalar("SELECT count(*) FROM tickets WHERE category IS NOT NULL")
    assert not lab["corrected"].any()
    hashed = world.query("SELECT ticket_id, hash(ticket_id) % 5 = 0 AS h FROM tickets")
    expected = dict(zip(hashed["ticket_id"], hashed["h"], strict=True))
    assert lab["holdout"].tolist() == [expected[t] for t in lab["ticket_id"]]
    share = lab["holdout"].mean()
    assert 0.15 < share < 0.25
    version = registry.get_version(world, 1)
    assert version.n_train == int((~lab["holdout"]).sum())
    assert version.train_summary["n_holdout"] == int(lab["holdout"].sum())
    assert set(version.metrics) >= {"accuracy", "macro_f1", "per_class"}
    assert version.metrics["macro_f1"] > 0.6  # the demo categories are learnable


def test_labeled_caps_keep_the_newest(world: Store) -> None:
    capped = training.labeled(world, {"training": {"max_train_rows": 100, "max_holdout_rows": 30}})
    train, hold = capped[~capped["holdout"]], capped[capped["holdout"]]
    assert (len(train), len(hold)) == (100, 30)
    full = training.labeled(world, CONFIG)
    full_train = full[~full["holdout"]]
    assert train["created_at"].min() >= full_train.nlargest(100, "created_at")[
        "created_at"].min()
    with pytest.raises(TriageError, match="at least 1"):
        training.labeled(world, {"training": {"max_train_rows": 0}})


def test_train_needs_labels(loaded_store: Store) -> None:
    loaded_store.execute("UPDATE tickets SET category = NULL")
    with pytest.raises(ModelError, match="no labeled tickets"):
        training.train(loaded_store, CONFIG)
    loaded_store.execute("UPDATE tickets SET category = 'billing'")
    with pytest.raises(ModelError, match="at least two categories to train; import"):
        training.train(loaded_store, CONFIG)
    # two categories, but every ticket of one is in the holdout: said so, not "import some"
    held = training.labeled(loaded_store, CONFIG).query("holdout")["ticket_id"].iloc[0]
    loaded_store.execute("UPDATE tickets SET category = 'refund' WHERE ticket_id = ?", [held])
    with pytest.raises(ModelError, match=r"have 2, but the fixed holdout .* took every ticket of"
                       r" 'refund'; label more tickets"):
        training.train(loaded_store, CONFIG)
    assert registry.active_version(loaded_store) is None


@pytest.mark.slow
def test_campaign_view_is_stored_by_full_runs_and_stale_after_incremental_ones(
        db: Store) -> None:
    from triage_core import marketing
    from triage_core.ops import analytics

    pipeline.triage(db, CONFIG, full=True)
    stored = analytics.campaign_tables(db)
    assert stored is not None
    live = marketing.campaign_impact(db, "last_touch", config=CONFIG["attribution"])
    assert stored[0]["tickets"].sum() == pytest.approx(live["tickets"].sum())
    assert stored[0]["tickets"].sum() == pytest.approx(WORLD_TICKETS)

    db.import_frame("tickets", new_ticket(db))
    pipeline.triage(db, CONFIG)  # incremental: the stored view no longer covers every ticket
    assert db.scalar("SELECT value FROM settings WHERE key = 'scored_mode'") == "incremental"
    assert analytics.campaign_tables(db) is None

    pipeline.triage(db, CONFIG, refresh_campaigns=True)
    stored = analytics.campaign_tables(db)
    assert stored is not None
    assert stored[0]["tickets"].sum() == pytest.approx(WORLD_TICKETS + 1)


def test_locale_codes_are_read_as_their_language(world: Store, models: TriageModels) -> None:
    """Helpdesks export the requester's locale (en-US, pt_BR): the sentiment model covers
    en, so en-US tickets are scored like en ones, not left without a sentiment."""
    batch = stale_batch(world, 6).assign(language=["en-US", "en_GB", "EN", "en", " en-us ",
                                                   None])
    out = triage_batch(batch, models)
    assert out["language"].tolist()[:5] == ["en"] * 5
    assert out["sentiment"].notna().all() and out["sentiment_label"].notna().all()
    plain = triage_batch(batch.assign(language="en"), models)
    assert out["sentiment"].tolist() == plain["sentiment"].tolist()


def test_short_tickets_of_another_script_are_not_scored_as_the_default_language(
        world: Store, models: TriageModels) -> None:
    """A ticket too short to detect is taken to be in the default language (en), unless its
    letters are of another script: a short Chinese or Russian ticket got sentiment 0.0 as if
    it were English. Short English, accented Latin and wordless tickets are still scored."""
    bodies = ["退款还没到", "Где мой заказ?", "terrible!!", "Très déçu", "10/10 :)",
              "ok 好的谢谢你们"]
    batch = stale_batch(world, len(bodies)).assign(subject="", body=bodies, language=None)
    out = triage_batch(batch, models)
    # too short for the detector (the Russian one may be read as ru: not covered either)
    assert out["language"].drop(index=1).isna().all()
    assert out["sentiment"].isna().tolist() == [True, True, False, False, False, True]
    assert out["sentiment_label"].isna().tolist() == [True, True, False, False, False, True]
    assert out["sentiment"].iloc[2] < 0


def test_language_names_are_read_as_their_code(world: Store, models: TriageModels) -> None:
    """Freshdesk exports the language by name ("English"): such tickets got no sentiment,
    as a language the model does not cover. A name it does not know stays as written."""
    names = ["English", " english ", "English (UK)", "Deutsch", "Portuguese (BR)", "Klingon",
             "中文（简体）", "Spanish - Latin America"]
    out = triage_batch(stale_batch(world, 8).assign(language=names), models)
    assert out["language"].tolist() == ["en", "en", "en", "de", "pt", "klingon", "zh", "es"]
    assert out["sentiment"].notna().tolist()[:3] == [True] * 3
    assert out["sentiment"].isna().tolist()[5]


def test_language_candidates_are_checked_without_loading_the_detector() -> None:
    from py3langid import langid

    from triage_core.errors import ConfigError
    from triage_core.models import language

    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    assert set(ident.labels) == language.KNOWN_LANGUAGES  # the list is the shipped model's
    assert language.LanguageSettings.from_mapping({"candidates": ["EN", "de"]}).candidates == (
        "en", "de")
    with pytest.raises(ConfigError, match="does not know xx"):
        language.LanguageSettings.from_mapping({"candidates": ["en", "xx"]})
    with pytest.raises(ConfigError, match="max_chars"):
        language.LanguageSettings.from_mapping({"max_chars": 10})


def test_a_long_text_is_judged_on_its_beginning() -> None:
    """The detector reads every byte in Python, so a text is judged on its first max_chars
    characters: a German e-mail with a long English quote below is German."""
    from triage_core.models import language

    german = "Meine Bestellung ist immer noch nicht angekommen, bitte helfen Sie mir. " * 3
    english = "Please find the full order history and the terms of delivery below. " * 40
    settings = language.LanguageSettings.from_mapping({"max_chars": 250})
    assert list(language.detect([german + english], settings)) == ["de"]
    whole = language.LanguageSettings.from_mapping({"max_chars": 100_000})
    assert list(language.detect([german + english], whole)) == ["en"]


def test_many_texts_get_the_languages_py3langid_gives_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts walk the detector's automaton together: the same language and probability
    (to float rounding) as py3langid's classify of each text alone."""
    from triage_core.models import language
    from triage_core.text import ticket_text_series

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "tickets.parquet"
    t = pd.read_parquet(sample, columns=["subject", "body"]).head(3000)
    texts = [*ticket_text_series(t["subject"], t["body"]).tolist(),
        "HELLO WORLD, THIS TICKET IS WRITTEN IN CAPITALS", "😡😡😡!!!", "", "ok",
        "Straße über alles, grüße aus München", "日本語のテキストです。よろしくお願いします",
        "а это по-русски, заказ не пришёл", "e\u0301cole française, commande", "x" * 600,
        "\x00\x01 odd bytes \udcff here", "Mi pedido no ha llegado todavía, por favor ayúdenme"]
    # and made-up ones: any bytes in any order, of any length (the walk reads each byte's
    # predecessors: text boundaries, the first bytes of a text, runs of zero bytes)
    rnd = random.Random(7)
    letters = ("abcdefghijklmnopqrstuvwxyz äöüßéñçø ÄÖÜ日本語中文한국어"
               "русскийΕλληνικάالعربية\n.,!?0\x00")
    texts += ["".join(rnd.choice(letters) for _ in range(rnd.randint(0, 400))) for _ in range(400)]
    settings = language.LanguageSettings.from_mapping()
    ident = language._identifier(settings.candidates)
    cut = [text[:settings.max_chars] for text in texts]
    alone = [ident.classify(text) for text in cut]
    together = language._classify_many(ident, cut)
    assert [lang for lang, _ in together] == [lang for lang, _ in alone]
    # float32 sums of a text's features in another order: up to 5e-5 on the made-up texts
    assert np.allclose([p for _, p in together], [p for _, p in alone], atol=1e-4)
    assert len({lang for lang, _ in alone}) >= 5  # the texts are not all one language
    monkeypatch.setattr(language, "_BYTES", 5_000)  # the same in walks of a few texts each
    assert language._classify_many(ident, cut) == together
    one_by_one = np.concatenate([language.detect([text], settings) for text in texts])
    assert language.detect(texts, settings).tolist() == one_by_one.tolist()


@pytest.mark.parametrize(("n", "size", "procs"), [(1_000_000, 50_000, 2), (60_000, 50_000, 2),
                                                  (120_000, 50_000, 1), (7, 4, 3), (0, 10, 2)])
def test_batches_cover_every_ticket_once_and_end_small_with_several_processes(
        n: int, size: int, procs: int) -> None:
    """Batches follow each other without gaps; with several processes, the last
    ``procs * size`` tickets go in quarter batches so that no process idles at the end."""
    bounds = pipeline.batch_bounds(n, size, procs)
    assert [a for a, _ in bounds] == ([0, *(b for _, b in bounds[:-1])] if n else [])
    assert (bounds[-1][1] if bounds else 0) == n
    sizes = [b - a for a, b in bounds]
    assert all(0 < s <= size for s in sizes)
    tail = min(n, procs * size) if procs > 1 else 0
    in_tail = [b - a for a, b in bounds if a >= n - tail]
    assert sum(in_tail) == tail
    assert all(s <= max(1, size // 4) for s in in_tail)


def test_the_models_read_a_bounded_part_of_a_huge_ticket() -> None:
    """A pasted log or encoded attachment of megabytes held the server's intake for seconds:
    the models read the subject and cleaned body up to MAX_TEXT_CHARS; shorter tickets read
    exactly as before, and texts of other types are left to the cleaning."""
    from triage_core.text import ticket_text_series
    from triage_core.triage.batch import MAX_TEXT_CHARS, ticket_texts

    short = ["My invoice is wrong.\nPlease fix it.", "The app crashes on login."]
    huge = "I cannot upload my file. Log follows:\n" + "AAAA" * 500_000  # 2 MB
    batch = pd.DataFrame({"subject": ["Invoice", None, "Upload broken", "x" * 90_000, 7],
                          "body": [short[0], short[1], huge, "body", None]}, dtype=object)
    got = ticket_texts(batch)
    assert got.tolist()[:2] == ticket_text_series(batch["subject"][:2],
                                                  batch["body"][:2]).tolist()
    assert len(got[2]) == MAX_TEXT_CHARS and got[2].startswith("Upload broken\nI cannot upload")
    assert len(got[3]) == MAX_TEXT_CHARS and got[4] == "7"
