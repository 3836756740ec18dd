"""Category classifier: estimator contract, top-k, explanations, robustness, skops blobs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from triage_core.config import defaults
from triage_core.errors import ConfigError, ModelError
from triage_core.models import registry
from triage_core.models.classifier import (
    TRUSTED_TYPES,
    ClassifierSettings,
    TicketClassifier,
    build_classifier,
    classifier_settings,
    predict_top,
    predict_top_json,
)
from triage_core.models.explain import explain, explain_many
from triage_core.models.features import TicketFeatures

KEYWORDS = {
    "billing": ["invoice", "charged twice", "payment failed", "monthly bill", "statement"],
    "refund": ["refund", "money back", "reimburse", "return the item", "credit my account"],
    "app_crash": ["crashes", "freezes", "error screen", "app closes", "keeps restarting"],
    "shipping_delivery": ["parcel", "courier", "tracking number", "delivery", "not shipped"],
}
OPENERS = ["Hi,", "Hello team,", "Good morning.", "Hey", "Dear support,", ""]
FILLERS = ["I need help with this", "since yesterday", "again today", "on my order",
           "as soon as possible", "it is urgent", "what can I do", "please look at it"]
CLOSERS = ["Thanks.", "Regards, Anna", "Best", "Cheers!", ""]


def make_tickets(n_per_class: int, seed: int) -> tuple[list[str], list[str]]:
    """Deterministic synthetic tickets: class keywords in a shared frame of filler text."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n_per_class):
        for cat, words in KEYWORDS.items():
            first, second = rng.choice(len(words), size=2, replace=False)
            parts = [OPENERS[rng.integers(len(OPENERS))], FILLERS[rng.integers(len(FILLERS))],
                     words[first], FILLERS[rng.integers(len(FILLERS))], words[second],
                     CLOSERS[rng.integers(len(CLOSERS))]]
            texts.append(" ".join(p for p in parts if p))
            labels.append(cat)
    return texts, labels


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str]]:
    return make_tickets(40, seed=1)


@pytest.fixture(scope="module")
def model(data: tuple[list[str], list[str]]) -> TicketClassifier:
    return TicketClassifier().fit(*data)


# -- estimator contract -------------------------------------------------------------------------


def test_sklearn_estimator_checks_that_apply_to_text() -> None:
    est = TicketClassifier()
    check_parameters_default_constructible("TicketClassifier", est)
    check_no_attributes_set_in_init("TicketClassifier", est)
    check_get_params_invariance("TicketClassifier", est)
    check_set_params("TicketClassifier", est)
    check_no_attributes_set_in_init("TicketFeatures", TicketFeatures())


def test_fit_returns_self_and_sets_fitted_attributes(data: tuple[list[str], list[str]]) -> None:
    est = TicketClassifier(C=0.7)
    assert not hasattr(est, "classes_")
    assert est.fit(*data) is est
    assert list(est.classes_) == sorted(KEYWORDS)
    assert est.weights_.shape == (est.features_.n_features_out_, 4)
    assert 0.02 <= est.temperature_ <= 50
    assert est.calibration_ == "temperature, 3-fold"


def test_clone_gives_unfitted_copy_with_same_params(model: TicketClassifier) -> None:
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "weights_")
    assert set(model.get_params()) == set(classifier_settings())
    assert TicketClassifier().get_params() == classifier_settings()
    features = TicketFeatures().get_params()
    assert features == {k: v for k, v in classifier_settings().items() if k in features}


def test_predict_proba_rows_sum_to_one_and_match_predict(model: TicketClassifier) -> None:
    texts, labels = make_tickets(15, seed=2)
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba >= 0).all()
    pred = model.predict(texts)
    assert list(pred) == list(model.classes_[proba.argmax(axis=1)])
    assert np.mean(pred == np.array(labels)) >= 0.95
    assert model.score(texts, labels) == pytest.approx(np.mean(pred == np.array(labels)))


def test_two_classes_give_two_probability_columns_and_1d_decision() -> None:
    texts, labels = make_tickets(20, seed=3)
    keep = [i for i, lab in enumerate(labels) if lab in ("refund", "app_crash")]
    est = TicketClassifier().fit([texts[i] for i in keep], [labels[i] for i in keep])
    probe = ["the app crashes on start", "I want a refund"]
    proba = est.predict_proba(probe)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(est.predict(probe)) == ["app_crash", "refund"]
    decision = est.decision_function(probe)
    assert decision.shape == (2,)
    assert decision[0] < 0 < decision[1]  # positive means classes_[1] == "refund"


def test_one_vs_rest_and_class_weights_by_label(data: tuple[list[str], list[str]]) -> None:
    ovr = TicketClassifier(multi_class="ovr").fit(*data)
    texts, labels = make_tickets(10, seed=5)
    assert np.mean(ovr.predict(texts) == np.array(labels)) >= 0.95
    vague = ["please look at it, it is urgent"]
    plain = ovr.predict_proba(vague)[0]
    heavy = TicketClassifier(multi_class="ovr", class_weight={"refund": 5.0}).fit(*data)
    heavy = heavy.predict_proba(vague)[0]
    refund = sorted(KEYWORDS).index("refund")
    assert heavy[refund] > plain[refund]
    with pytest.raises(ConfigError, match="class_weight needs multi_class = 'ovr'"):
        TicketClassifier(class_weight="balanced").fit(*data)


@pytest.mark.parametrize("class_weight", [None, "balanced", {"refund": 5.0}])
def test_a_one_vs_rest_fit_in_shares_is_the_whole_fit(class_weight: object) -> None:
    """fit_part + join_parts (a final fit spread over worker processes) solve each category's
    problem of the whole one-vs-rest fit: its positives at its class weight, every other
    category's tickets as negatives at C. Weights computed over a share's labels instead of
    all of them moved the scores by 0.17; only liblinear's coordinate order differs here."""
    texts, labels = make_tickets(40, seed=1)
    seen: dict[str, int] = {}
    keep = []  # refund, rarer than the others: "balanced" weighs the categories differently
    for i, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        if label != "refund" or seen[label] <= 8:
            keep.append(i)
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    test, test_labels = make_tickets(10, seed=5)
    whole = TicketClassifier(multi_class="ovr", class_weight=class_weight).fit(texts, labels)
    held = (whole.class_scores(test), test_labels)
    assert whole.splits(len(KEYWORDS)) and not whole.splits(2)
    assert not TicketClassifier().splits(len(KEYWORDS))  # Crammer-Singer: one problem
    for parts in (2, 3, 4):  # 4: one category per share, each a binary problem
        one = TicketClassifier(multi_class="ovr", class_weight=class_weight)
        pieces = [one.fit_part(texts, labels, i, parts) for i in reversed(range(parts))]
        joined = one.join_parts(pieces, held)
        np.testing.assert_allclose(joined.class_scores(test), whole.class_scores(test),
                                   atol=0.02)
        assert list(joined.predict(test)) == list(whole.predict(test))
        assert joined.calibration_.startswith("temperature, on 40 held-out rows")
    with pytest.raises(ModelError, match="held-out scores"):
        TicketClassifier(multi_class="ovr").join_parts(pieces, None)


def test_same_data_gives_identical_model(data: tuple[list[str], list[str]]) -> None:
    a = TicketClassifier().fit(*data).predict_proba(data[0][:20])
    b = TicketClassifier().fit(*data).predict_proba(data[0][:20])
    np.testing.assert_array_equal(a, b)


# -- top-k -------------------------------------------------------------------------------------


def test_predict_top_orders_labels_by_probability(model: TicketClassifier) -> None:
    texts = pd.Series(["my parcel never arrived, courier lost it",
                       "you charged twice on the invoice", ""], index=[10, 11, 12])
    top = predict_top(model, texts, k=3)
    assert list(top.columns) == ["category", "confidence", "top"]
    assert list(top.index) == [10, 11, 12]
    assert list(top["category"][:2]) == ["shipping_delivery", "billing"]
    proba = model.predict_proba(texts)
    for i, row in enumerate(top.itertuples()):
        assert len(row.top) == 3
        probs = [p for _, p in row.top]
        assert probs == sorted(probs, reverse=True)
        assert row.top[0] == (row.category, row.confidence)
        assert all(isinstance(lab, str) and isinstance(p, float) for lab, p in row.top)
        expected = sorted(zip(model.classes_, proba[i], strict=True), key=lambda t: -t[1])[:3]
        assert [lab for lab, _ in row.top] == [str(lab) for lab, _ in expected]


def test_predict_top_k_is_clipped_to_the_number_of_classes(model: TicketClassifier) -> None:
    top = predict_top(model, ["refund please"], k=10)
    assert len(top["top"][0]) == 4
    assert sum(p for _, p in top["top"][0]) == pytest.approx(1.0)
    assert len(predict_top(model, ["refund please"], k=1)["top"][0]) == 1


def test_predict_top_of_no_texts_is_an_empty_frame(model: TicketClassifier) -> None:
    top = predict_top(model, [], k=3)
    assert list(top.columns) == ["category", "confidence", "top"]
    assert len(top) == 0


def test_top_json_is_json_dumps_of_the_top_lists(data: tuple[list[str], list[str]]) -> None:
    texts, labels = data
    odd = ['say "hi" \\ é', "日本", "tab\there"]  # labels JSON must escape
    model = TicketClassifier().fit(texts, [odd[i % 3] if i % 4 == 0 else lab
                                           for i, lab in enumerate(labels)])
    for k in (1, 3, 10):
        top = predict_top(model, texts[:50], k=k)
        category, confidence, as_json = predict_top_json(model, texts[:50], k=k)
        assert as_json == [json.dumps(t) for t in top["top"]]
        assert list(category) == list(top["category"])
        np.testing.assert_array_equal(confidence, top["confidence"].to_numpy())
    assert [len(x) for x in predict_top_json(model, [], k=3)] == [0, 0, 0]


# -- explanations ------------------------------------------------------------------------------


def test_explain_names_the_class_words(model: TicketClassifier) -> None:
    terms = explain(model, "Hello, I was charged twice and the invoice is wrong", k=5)
    words = [t for t, _ in terms]
    assert len(terms) == 5
    assert "invoice" in words and "charged" in words
    values = [v for _, v in terms]
    assert values == sorted(values, reverse=True) and values[-1] > 0
    assert not any(t.startswith("[") for t in words)  # no character n-grams


def test_explain_shows_word_pairs(model: TicketClassifier) -> None:
    terms = dict(explain(model, "I want my money back", k=20))
    assert "money back" in terms
    assert any(" … " in t for t in terms)  # a skip-gram such as "want … back"


def test_explanations_add_up_to_the_decision_score(model: TicketClassifier) -> None:
    text = "the app closes with an error screen every morning"
    terms = explain_many(model, [text], k=10_000, positive_only=False)[0]
    target = model.predict([text])[0]
    column = list(model.classes_).index(target)
    score = model.decision_function([text])[0, column] - model.intercept_[column]
    assert sum(v for _, v in terms) == pytest.approx(score, abs=1e-3)
    # an unseen word still gets credit through its character n-grams
    terms = dict(explain_many(model, ["crashesss"], k=50, positive_only=False)[0])
    assert set(terms) == {"crashesss"}


def test_explain_many_matches_explain_and_handles_odd_input(model: TicketClassifier) -> None:
    texts = ["refund please", "", None, float("nan"), "🙂🙂🙂", "parcel tracking number"]
    many = explain_many(model, texts, k=3)
    assert many == [explain(model, t, k=3) for t in texts]
    assert many[1] == many[2] == many[3] == many[4] == []
    assert explain_many(model, [], k=3) == []
    forced = explain_many(model, ["refund please"], k=3, category="refund")[0]
    assert forced[0][0] == "refund"
    with pytest.raises(ModelError, match="category"):
        explain_many(model, ["x"], category="nope")


# -- robustness --------------------------------------------------------------------------------


def test_odd_inputs_never_crash(model: TicketClassifier) -> None:
    odd = ["", None, float("nan"), pd.NA, "😀" * 50, "x" * 100_000, "word " * 20_000,
           "Meine Karte ist nicht angekommen, bitte helfen", "返金してください",
           "\x00\u200b\ufeff  \t\n", 12345, b"bytes refund", "ＲＥＦＵＮＤ full-width"]
    proba = model.predict_proba(odd)
    assert proba.shape == (len(odd), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.isfinite(proba).all()
    top = predict_top(model, odd)
    assert len(top) == len(odd)
    assert model.predict(["ＲＥＦＵＮＤ"])[0] == "refund"  # NFKC folds full-width letters
    assert len(explain_many(model, odd)) == len(odd)
    assert model.predict([]).shape == (0,)
    assert model.predict_proba([]).shape == (0, 4)


def test_dataframe_with_subject_and_body(model: TicketClassifier) -> None:
    frame = pd.DataFrame({"subject": ["Refund", None, "Re: parcel"],
                          "body": ["I want my money back", "the app crashes", None]})
    joined = ["Refund\nI want my money back", "the app crashes", "parcel"]
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(joined))
    heavy = clone(model).set_params(subject_weight=3)
    assert heavy.subject_weight == 3
    with pytest.raises(ModelError, match="subject"):
        model.predict(pd.DataFrame({"a": [1], "b": [2]}))


def test_small_data_with_rare_classes_still_calibrates() -> None:
    texts, labels = make_tickets(30, seed=4)
    texts += ["my password reset link does not work", "locked out of my account",
              "someone used my card, fraud"]
    labels += ["account_access", "account_access", "security_fraud"]
    est = TicketClassifier().fit(texts, labels)
    assert est.calibration_ == "temperature, 2-fold, 1 single-example categories left out"
    assert len(est.classes_) == 6
    np.testing.assert_allclose(est.predict_proba(["fraud on my card"]).sum(), 1.0)
    tiny = TicketClassifier().fit(["refund", "crash"], ["refund", "app_crash"])
    assert tiny.calibration_.startswith("none")
    assert tiny.temperature_ == 1.0
    assert list(tiny.predict(["refund please"])) == ["refund"]


def test_bad_training_data_gives_clear_errors() -> None:
    with pytest.raises(ModelError, match="at least two categories"):
        TicketClassifier().fit(["a", "b", "c"], ["billing"] * 3)
    with pytest.raises(ModelError, match="2 texts but 3 labels"):
        TicketClassifier().fit(["a", "b"], ["x", "y", "z"])
    with pytest.raises(ModelError, match="labels are empty"):
        TicketClassifier().fit(["a", "b", "c"], ["x", None, "y"])
    with pytest.raises(ModelError, match="single string"):
        TicketClassifier().fit("some text", ["x"])
    with pytest.raises(ModelError, match="not trained"):
        TicketClassifier().predict(["a"])


# -- configuration -----------------------------------------------------------------------------


def test_settings_from_a_config_section() -> None:
    est = build_classifier({"C": 2, "char_ngram_range": [1, 3], "class_weight": "none"})
    assert est.C == 2 and est.char_ngram_range == (1, 3) and est.class_weight is None
    est = build_classifier({"multi_class": "ovr", "class_weight": {"refund": 2.5}})
    assert est.class_weight == {"refund": 2.5}
    # the defaults are the packaged TOML's values ("none" is TOML's way to say no weights)
    packaged = defaults("classifier")
    assert classifier_settings(None) == {**packaged, "class_weight": None,
                                         "char_ngram_range": tuple(packaged["char_ngram_range"])}
    assert ClassifierSettings.from_mapping(packaged) == ClassifierSettings.from_config()
    with pytest.raises(ConfigError, match="classifier: C is missing"):
        ClassifierSettings.from_mapping({k: v for k, v in packaged.items() if k != "C"})


@pytest.mark.parametrize(("section", "key"), [
    ({"C": 0}, "C"),
    ({"C": "high"}, "C"),
    ({"char_ngram_range": [0, 3]}, "char_ngram_range"),
    ({"char_ngram_range": [4, 2]}, "char_ngram_range"),
    ({"skip_window": 0}, "skip_window"),
    ({"skip_weight": -1}, "skip_weight"),
    ({"calibration_cv": 1}, "calibration_cv"),
    ({"subject_weight": 1.5}, "subject_weight"),
    ({"lead_words": -1}, "lead_words must"),
    ({"lead_words": 1001}, "lead_words must"),
    ({"lead_words": 2.5}, "lead_words must"),
    ({"neighbor_weight": -0.5}, "neighbor_weight must"),
    ({"neighbor_weight": 1.0, "semantic_weight": 0.0, "semantic_max_weight": 0.0},
     "neighbor_weight needs the word-vector blocks"),
    ({"neighbor_k": 0}, "neighbor_k must"),
    ({"neighbor_k": 2.0}, "neighbor_k must"),
    ({"class_weight": "heavy", "multi_class": "ovr"}, "class_weight"),
    ({"class_weight": {"refund": 0}, "multi_class": "ovr"}, "class_weight"),
    ({"class_weight": "balanced"}, "class_weight"),
    ({"multi_class": "ovo"}, "multi_class"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_settings_name_the_key(section: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        classifier_settings(section)


def test_fit_validates_parameters(data: tuple[list[str], list[str]]) -> None:
    with pytest.raises(ConfigError, match="C must be"):
        TicketClassifier(C=-1).fit(*data)


# -- saving and loading (through the registry: the one skops loader) --------------------------


@pytest.mark.parametrize("save", ["ours", "skops"])
def test_round_trip_gives_identical_predictions(model: TicketClassifier, save: str) -> None:
    """Saved in our own format (what ``registry.dumps`` writes) or as a skops file (what
    earlier versions wrote), the model predicts and explains exactly as before saving."""
    blob = registry.dumps(model) if save == "ours" else sio.dumps(model)
    if save == "skops":
        assert sorted(sio.get_untrusted_types(data=blob)) == sorted(TRUSTED_TYPES)
    loaded = registry.loads(blob, trusted=TRUSTED_TYPES)
    assert type(loaded) is TicketClassifier and loaded.get_params() == model.get_params()
    texts = make_tickets(5, seed=9)[0] + ["", "unseen wordz"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert explain_many(loaded, texts) == explain_many(model, texts)
    again = registry.loads(blob)
    assert list(again.predict(texts)) == list(model.predict(texts))


def test_loading_refuses_untrusted_types(model: TicketClassifier) -> None:
    with pytest.raises(ModelError, match="TicketClassifier"):
        registry.loads(registry.dumps(model), trusted=[])


class Intruder(BaseEstimator):
    """A type nobody reviewed."""


def test_loading_refuses_foreign_or_broken_files() -> None:
    with pytest.raises(ModelError, match="not on the trusted list"):
        registry.loads(sio.dumps(Intruder()))
    with pytest.raises(ModelError, match="not a readable"):
        registry.loads(b"not a zip file")


def test_subject_weight_and_cleaning_of_plain_texts(data: tuple[list[str], list[str]]) -> None:
    from triage_core.models.features import as_texts

    texts = ["Refund\nI want my money back", "one line only", "Parcel\n\nlate"]
    assert as_texts(texts, 2) == ["Refund\nRefund\nI want my money back", "one line only",
                                  "Parcel\nParcel\n\nlate"]
    mail = ["Login broken\nHi team,\nI cannot log in.\n\nThanks,\nJane Doe\nACME Corp"]
    assert as_texts(mail, 1, clean=True) == ["Login broken\nI cannot log in."]
    clean = TicketClassifier(clean_text=True, subject_weight=2, calibration_cv=0)
    clean.fit(*data)
    signed = [t + "\n\nBest regards,\nJane Doe\nACME Corp" for t in data[0][:8]]
    np.testing.assert_allclose(clean.class_scores(signed), clean.class_scores(data[0][:8]),
                               atol=1e-9)  # the signature is cleaned away


def test_lead_words_count_the_opening_words_once_more(data: tuple[list[str], list[str]]
                                                       ) -> None:
    """A title run into the body (no subject line): with ``lead_words`` = N the first N words
    are put once more before the text, so they weigh like a repeated subject."""
    from triage_core.models.features import as_texts

    texts = ["reset passwords for external accounts", "", "one", "  two  words ", None]
    assert as_texts(texts, lead_words=3) == [
        "reset passwords for\nreset passwords for external accounts", "", "one\none",
        "two words\n  two  words ", ""]
    assert as_texts(texts[:1], lead_words=0) == texts[:1]
    # after cleaning and the subject's repetition; the same for subject and body columns
    # after cleaning; a subject repeated for subject_weight is read once for the lead
    mail = ["Login broken\nHi team,\nI cannot log in.\n\nThanks,\nJane Doe\nACME Corp"]
    assert as_texts(mail, 2, clean=True, lead_words=3) == [
        "Login broken I\nLogin broken\nLogin broken\nI cannot log in."]
    frame = pd.DataFrame({"subject": ["Login broken"], "body": ["I cannot log in."]})
    assert as_texts(frame, 1, lead_words=3) == ["Login broken I\nLogin broken\nI cannot log in."]
    assert as_texts(frame, 3, lead_words=3)[0].startswith("Login broken I\nLogin broken\n")
    # a long first word (a URL, a text without spaces) is cut, not copied whole
    url = "https://example.com/" + "x" * 200
    assert as_texts([url + " down"], lead_words=2) == [url[:30] + " down\n" + url + " down"]
    lead = TicketClassifier(lead_words=3, calibration_cv=0).fit(*data)
    words = sorted({w for t in data[0] for w in t.lower().split() if w.isalpha()})[:6]
    plain = TicketClassifier(calibration_cv=0).fit(*data)
    assert lead.lead_words == 3 and lead.get_params()["lead_words"] == 3
    assert not np.allclose(lead.class_scores(data[0][:5]), plain.class_scores(data[0][:5]))
    # the opening words count twice, the rest once
    vocab = lead.features_.vocabulary_
    text = " ".join(w for w in ["refund", "my", "order", "the", "package", "arrived", *words]
                    if w in vocab)
    row = lead.features_.blocks(lead._texts([text])).word_counts.toarray()[0]
    first, *_, last = text.split()
    assert row[vocab[first]] == 2 and row[vocab[last]] == 1
    loaded = registry.loads(registry.dumps(lead))
    assert loaded.lead_words == 3
    np.testing.assert_array_equal(loaded.predict_proba(data[0][:5]),
                                  lead.predict_proba(data[0][:5]))


def test_held_out_scores_calibrate_without_new_folds(data: tuple[list[str], list[str]]) -> None:
    texts, labels = data
    half = len(texts) // 2
    first = TicketClassifier(calibration_cv=0).fit(texts[:half], labels[:half])
    held = (first.class_scores(texts[half:]), labels[half:])
    model = TicketClassifier().fit(texts, labels, held_out=held)
    assert "held-out rows of model selection" in model.calibration_
    proba = model.predict_proba(texts[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.temperature_ != TicketClassifier().fit(texts, labels).temperature_


def test_models_saved_before_clean_text_load(data: tuple[list[str], list[str]]) -> None:
    model = TicketClassifier(calibration_cv=0).fit(*data)
    state = model.__getstate__()
    del state["clean_text"], state["lead_words"]
    old = TicketClassifier.__new__(TicketClassifier)
    old.__setstate__(state)
    assert old.clean_text is False and old.lead_words == 0
    np.testing.assert_array_equal(old.predict(data[0][:10]), model.predict(data[0][:10]))


def test_a_block_that_weighs_nothing_is_not_computed(data: tuple[list[str], list[str]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With skip_weight 0 (the plain TF-IDF configurations) no skip-gram is kept or counted,
    and a model saved with skip-grams but weight 0 scores exactly as when they were counted."""
    texts, labels = data
    plain = TicketClassifier(skip_weight=0.0, semantic_weight=0.0).fit(texts, labels)
    assert plain.features_.block_sizes()[2] == 0
    old = TicketClassifier(skip_weight=0.8, semantic_weight=0.0).fit(texts, labels)
    assert old.features_.block_sizes()[2] > 0
    old.features_.skip_weight = 0.0  # as a saved model whose skip block weighs nothing
    blocks = old.features_.blocks(texts)
    assert blocks.skips.shape == (len(texts), old.features_.block_sizes()[2])
    assert blocks.skips.nnz == 0
    scores = old.class_scores(texts)
    monkeypatch.setattr(TicketFeatures, "_skip_pairs",
                        lambda self, parsed: self._pairs(parsed, 2, self.skip_window))
    counted = old.features_.blocks(texts)
    assert counted.skips.nnz > 0 and not counted.skips.data.any()  # counted, all zero
    np.testing.assert_array_equal(old.class_scores(texts), scores)


def test_many_categories_of_few_tickets_train_without_warnings() -> None:
    """25 categories in 30 tickets (a helpdesk's assignment groups): scikit-learn warns that
    the labels might be a continuous target; for us that is normal, not a mistake (the
    warning would be an error here, as every warning in the tests)."""
    texts = [f"ticket about topic {i % 25} word{i % 25}" for i in range(30)]
    labels = [f"group_{i % 25}" for i in range(30)]
    model = TicketClassifier(calibration_cv=0).fit(texts, labels)
    assert len(model.classes_) == 25


# -- similar training tickets (neighbor_weight) -----------------------------------------------


def _brute_neighbors(model: TicketClassifier, train: list[str], labels: list[str],
                     texts: list[str], base: np.ndarray) -> np.ndarray:
    """The bonus by its definition, from every training ticket: among each text's 3 best
    categories of ``base``, weight x the mean of its k largest cosine similarities to that
    category's training tickets (word-vector blocks side by side)."""
    def vectors(xs: list[str]) -> np.ndarray:
        b = model.features_.blocks(model._texts(xs))
        v = np.hstack([b.semantic, b.semantic_max]).astype(np.float64)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)

    train_v, text_v = vectors(train), vectors(texts)
    labels_arr = np.asarray(labels)
    out = np.zeros_like(base)
    for i, row in enumerate(base):
        for c in np.argsort(-row)[:3]:
            sims = np.sort(text_v[i] @ train_v[labels_arr == model.classes_[c]].T)[::-1]
            out[i, c] = model.neighbor_weight * sims[:model.neighbor_k].mean()
    return out


def test_similar_training_tickets_raise_the_best_categories(
        data: tuple[list[str], list[str]]) -> None:
    """With neighbor_weight > 0 each of a ticket's 3 best SVM categories gains weight x the
    mean cosine similarity of its k most similar training tickets of that category; the SVM
    itself is the one fitted without it."""
    texts, labels = data
    test = make_tickets(6, seed=4)[0] + ["", "completely unrelated words here"]
    plain = TicketClassifier(calibration_cv=0).fit(texts, labels)
    near = TicketClassifier(calibration_cv=0, neighbor_weight=0.7, neighbor_k=2)
    near.fit(texts, labels)
    np.testing.assert_array_equal(near.weights_, plain.weights_)
    base = plain.class_scores(test)
    bonus = near.class_scores(test) - base
    # the training vectors are kept as float16 (3 significant digits)
    np.testing.assert_allclose(bonus, _brute_neighbors(near, texts, labels, test, base),
                               atol=1e-3)
    assert (bonus[:-2] != 0).sum(axis=1).tolist() == [3] * (len(test) - 2)  # 3 of 4
    assert not bonus[-2].any()  # an empty text is similar to nothing
    assert near.neighbors_.shape == (len(texts), near.features_.semantic_dims()
                                     + near.features_.semantic_max_dims())
    assert near.neighbors_.dtype == np.float16
    proba = near.predict_proba(test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(near.classes_[proba.argmax(axis=1)]) == list(near.predict(test))
    # in small pieces (a large batch against a large category): the same scores
    import triage_core.models.classifier as classifier

    whole = near.class_scores(test)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(classifier, "NEIGHBOR_CELLS", 7)
        np.testing.assert_allclose(near.class_scores(test), whole, rtol=0, atol=1e-6)
    # saved and loaded: the same scores, without the float32 copy made for predicting;
    # a model saved before the keys: no neighbors
    assert "_neighbors32" in near.__dict__ and "_neighbors32" not in near.__getstate__()
    loaded = registry.loads(registry.dumps(near))
    np.testing.assert_array_equal(loaded.class_scores(test), near.class_scores(test))
    state = plain.__getstate__()
    for key in ("neighbor_weight", "neighbor_k", "neighbors_", "neighbor_starts_"):
        del state[key]
    old = TicketClassifier.__new__(TicketClassifier)
    old.__setstate__(state)
    assert old.neighbor_weight == 0.0
    np.testing.assert_array_equal(old.class_scores(test), base)


def test_similar_tickets_decide_what_the_words_alone_do_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An exclusive-or of two words (red car and blue bike are one category, red bike and
    blue car the other), several words apart: no word or word pair tells the categories apart,
    so the SVM's scores nearly tie; the most similar training tickets, which share both
    words, give the right category a clear lead. The temperature is fitted on scores with the
    bonus, as predictions have it; a kept sample of the training tickets still holds every
    category in its share."""
    import triage_core.models.classifier as classifier

    xor = {("red", "car"): "alpha", ("blue", "bike"): "alpha", ("red", "bike"): "beta",
           ("blue", "car"): "beta"}
    fill = ["please help me with the", "i have a question about my",
            "there is a problem with this"]
    texts = [f"{c} {f} {v}" for (c, v) in xor for f in fill]
    labels = [xor[key] for key in xor for _ in fill]
    test = [f"{c} is my favourite and so is the {v}" for (c, v) in xor]
    right = np.array([0, 0, 1, 1])  # alpha, alpha, beta, beta
    rows = np.arange(len(test))

    def lead(model: TicketClassifier) -> np.ndarray:
        scores = model.class_scores(test)
        return scores[rows, right] - scores[rows, 1 - right]

    words = TicketClassifier(skip_weight=0.0).fit(texts, labels)
    near = TicketClassifier(skip_weight=0.0, neighbor_weight=1.0).fit(texts, labels)
    assert np.abs(lead(words)).mean() < 0.05  # about a tie (scores are about +-1 apart)
    assert (lead(near) - lead(words)).min() > 0.05
    assert near.calibration_.startswith("temperature") and near.temperature_ != 1.0
    assert near.temperature_ != words.temperature_
    monkeypatch.setattr(classifier, "MAX_NEIGHBOR_ROWS", 6)
    sampled = TicketClassifier(neighbor_weight=1.0, calibration_cv=0).fit(texts, labels)
    assert len(sampled.neighbors_) == 6
    assert np.diff(sampled.neighbor_starts_).tolist() == [3, 3]
    # a large category is sampled down, so a ticket's cost does not grow with the training set
    monkeypatch.setattr(classifier, "MAX_NEIGHBOR_ROWS", 100)
    monkeypatch.setattr(classifier, "MAX_NEIGHBORS_PER_CLASS", 2)
    capped = TicketClassifier(neighbor_weight=1.0, calibration_cv=0).fit(texts, labels)
    assert np.diff(capped.neighbor_starts_).tolist() == [2, 2]
    kept = capped.neighbors_.astype(np.float32)
    everyone = near.neighbors_.astype(np.float32)
    assert all((np.abs(everyone - row).sum(axis=1) < 1e-6).any() for row in kept)


def test_a_fit_in_shares_keeps_the_similar_tickets(data: tuple[list[str], list[str]]) -> None:
    texts, labels = data
    test = make_tickets(5, seed=6)[0]
    whole = TicketClassifier(multi_class="ovr", neighbor_weight=1.0).fit(texts, labels)
    one = TicketClassifier(multi_class="ovr", neighbor_weight=1.0)
    pieces = [one.fit_part(texts, labels, i, 2) for i in range(2)]
    joined = one.join_parts(pieces, (whole.class_scores(test), make_tickets(5, seed=6)[1]))
    np.testing.assert_array_equal(joined.neighbors_, whole.neighbors_)
    np.testing.assert_allclose(joined.class_scores(test), whole.class_scores(test), atol=0.02)
