"""The shipped word vectors and the classifier's semantic block built on them."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from triage_core.errors import ModelError
from triage_core.models import registry
from triage_core.models.classifier import TRUSTED_TYPES, TicketClassifier
from triage_core.models.embeddings import DATA_DIR, load_word_vectors, word_vectors
from triage_core.models.explain import explain_many


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_shipped_table_matches_its_sidecar() -> None:
    meta = json.loads((DATA_DIR / "wordpiece_vectors.json").read_text())
    wv = load_word_vectors()
    assert wv.table.shape == (meta["vocab_size"], meta["dims"])
    assert wv.table.dtype == np.float32 and np.isfinite(wv.table).all()
    assert wv.sha256 == meta["sha256"]


def test_related_words_are_closer_than_unrelated_ones() -> None:
    vec = dict(zip(["refund", "reimbursement", "password", "login", "parcel", "package"],
                   word_vectors(["refund", "reimbursement", "password", "login", "parcel",
                                 "package"]), strict=True))
    assert cosine(vec["refund"], vec["reimbursement"]) > cosine(vec["refund"], vec["password"])
    assert cosine(vec["password"], vec["login"]) > cosine(vec["password"], vec["parcel"])
    assert cosine(vec["parcel"], vec["package"]) > cosine(vec["parcel"], vec["login"])


def test_word_vectors_of_odd_words() -> None:
    out = word_vectors(["refund", "", "🙂", "reimbursements", "REFUND"])
    assert out.shape == (5, load_word_vectors().table.shape[1])
    assert not out[1].any() and not out[2].any()  # nothing, or only an unknown piece
    assert out[3].any()  # several pieces: their mean
    np.testing.assert_array_equal(out[0], out[4])  # the tokenizer lower-cases
    assert word_vectors([]).shape == (0, out.shape[1])


def test_a_changed_table_is_refused(tmp_path: Path) -> None:
    for name in ("wordpiece_vectors.npy", "wordpiece_vectors.json", "wordpiece_tokenizer.json"):
        shutil.copyfile(DATA_DIR / name, tmp_path / name)
    table = np.load(tmp_path / "wordpiece_vectors.npy")
    table[0, 0] += 1
    np.save(tmp_path / "wordpiece_vectors.npy", table)
    with pytest.raises(ModelError, match="checksum"):
        load_word_vectors(tmp_path)
    (tmp_path / "wordpiece_tokenizer.json").write_text("{")
    with pytest.raises(ModelError, match="cannot be read"):
        load_word_vectors(tmp_path)


# -- the semantic block in the classifier --------------------------------------------------------

TRAIN = {
    "refund": ["I want a refund for my order", "please refund the money", "refund my payment",
               "how long does a refund take", "where is my refund"],
    "login": ["I cannot log in to my account", "my password does not work",
              "reset my password please", "the login page rejects me", "locked out of login"],
}


def fit(weight: float, max_weight: float = 0.0) -> TicketClassifier:
    texts = [t for ts in TRAIN.values() for t in ts]
    labels = [c for c, ts in TRAIN.items() for _ in ts]
    return TicketClassifier(semantic_weight=weight, semantic_max_weight=max_weight,
                            calibration_cv=0).fit(texts, labels)


def test_unseen_synonyms_are_understood_only_with_the_semantic_block() -> None:
    unseen = ["reimbursement", "money back", "credentials", "sign in"]
    with_vectors, without = fit(0.8), fit(0.0)
    assert list(with_vectors.predict(unseen)) == ["refund", "refund", "login", "login"]
    assert with_vectors.features_.semantic_dims() == load_word_vectors().table.shape[1]
    assert without.features_.semantic_dims() == 0
    # words sharing nothing with the training texts: only their meaning separates them
    new = ["reimbursement", "credentials"]
    margin = lambda m: np.abs(m.decision_function(new))  # noqa: E731
    assert (margin(with_vectors) > 2 * margin(without)).all()


def test_semantic_credit_goes_to_words_and_adds_up() -> None:
    model = fit(0.8)
    text = "reimbursement of my purchase"
    terms = dict(explain_many(model, [text], k=100, positive_only=False)[0])
    column = list(model.classes_).index("refund")
    score = model._scores(model._blocks([text]))[0, column] - model.intercept_[column]
    assert "reimbursement" in terms
    assert sum(terms.values()) == pytest.approx(score, abs=1e-4)


def test_both_word_vector_blocks_understand_unseen_synonyms() -> None:
    both, only_max = fit(0.8, 1.0), fit(0.0, 1.0)
    dims = load_word_vectors().table.shape[1]
    assert both.features_.semantic_dims() == both.features_.semantic_max_dims() == dims
    assert only_max.features_.semantic_dims() == 0
    assert both.features_.transform(["refund"]).shape[1] == both.features_.n_features_out_
    unseen = ["reimbursement", "money back", "credentials", "sign in"]
    assert list(both.predict(unseen)) == ["refund", "refund", "login", "login"]
    # a word no training text had still moves the max-pooled block's scores
    assert np.abs(only_max.decision_function(["reimbursement"])).min() > 0


@pytest.mark.parametrize("weights", [(0.0, 1.0), (0.8, 1.0)])
def test_max_pooling_credit_goes_to_words_and_adds_up(weights: tuple[float, float]) -> None:
    model = fit(*weights)
    texts = ["reimbursement of my purchase", "!!!", "", "credentials credentials"]
    explained = explain_many(model, texts, k=100, positive_only=False)
    scores = model._scores(model._blocks(texts))
    predicted = scores.argmax(axis=1)
    for i in (0, 3):  # texts with words (punctuation-only terms are never listed)
        total = scores[i, predicted[i]] - model.intercept_[predicted[i]]
        assert sum(v for _, v in explained[i]) == pytest.approx(total, abs=1e-4)
    assert "reimbursement" in dict(explained[0])
    assert explained[2] == []
    # punctuation has no place in the max pooling: a text without words leaves it at 0
    assert not model._blocks(["!!!", ""]).semantic_max.any()
    # the pooled block of a text holds, per dimension, its largest word value (centered)
    blocks = model._blocks(["refund reimbursement"])
    pooled = model.features_._max_pool(blocks.word_counts, blocks.unknown_vectors,
                                       blocks.unknown)[0]
    both = np.vstack([model.features_._vocab_vectors()[model.features_.vocabulary_["refund"]],
                      blocks.unknown_vectors[0]])
    assert np.allclose(pooled[0], both.max(axis=0))


def test_max_pooling_is_the_same_in_any_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from triage_core.models import features

    model = fit(0.8, 1.0)
    texts = ["reimbursement of my purchase", "", "sign in please", "refund", "?", "login"] * 7
    whole = model.decision_function(texts)
    monkeypatch.setattr(features, "_POOL_CHUNK", 3)  # gather a few words at a time
    assert np.array_equal(model.decision_function(texts), whole)


def test_model_saved_without_max_pooling_still_loads() -> None:
    model = fit(0.8)
    del model.semantic_max_weight, model.features_.semantic_max_weight  # as saved before it
    loaded = registry.loads(registry.dumps(model))
    assert loaded.semantic_max_weight == 0.0 and loaded.features_.semantic_max_dims() == 0
    assert np.array_equal(loaded.decision_function(["refund please"]),
                          model.decision_function(["refund please"]))


def test_model_saved_without_the_block_still_loads() -> None:
    model = fit(0.0)
    del model.semantic_weight, model.features_.semantic_weight  # as saved before the block
    loaded = registry.loads(registry.dumps(model))
    assert loaded.semantic_weight == 0.0 and loaded.features_.semantic_weight == 0.0
    assert list(loaded.predict(["refund please"])) == ["refund"]
    assert "semantic_weight" in loaded.get_params()


def test_round_trip_keeps_the_block_and_refuses_other_vectors() -> None:
    model = fit(0.8)
    texts = ["reimbursement", "sign in", ""]
    old = sio.dumps(model)  # as saved before our own format
    assert sorted(sio.get_untrusted_types(data=old)) == sorted(TRUSTED_TYPES)
    np.testing.assert_array_equal(registry.loads(old).predict_proba(texts),
                                  model.predict_proba(texts))
    loaded = registry.loads(registry.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    loaded.features_.semantic_table_ = "0" * 64  # trained on another table
    with pytest.raises(ModelError, match="other word vectors"):
        loaded.predict(texts)


# -- mean word vectors (the trained sentiment model's third view) ------------------------------


def test_mean_word_vectors_fit_and_transform() -> None:
    from triage_core.models.mean_vectors import MeanWordVectors

    est = MeanWordVectors().fit(["the refund never came", "great service, thanks!", ""])
    out = est.transform(["refund please", "", "🙂", "an unseen word: reimbursement"])
    assert out.shape == (4, load_word_vectors().table.shape[1]) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out[[0, 3]], axis=1), 1.0, rtol=1e-5)
    assert not out[1].any() and not out[2].any()
    assert est.transform([]).shape == (0, out.shape[1])
    # idf: a word in every training text counts less than a rare one
    assert est.idf_[est.vocabulary_["the"]] < est.unseen_idf_
    assert est.transform(["refund please"]).tolist() == out[:1].tolist()  # batch-independent


def test_mean_word_vectors_refuse_other_vectors() -> None:
    from triage_core.models.mean_vectors import MeanWordVectors

    est = MeanWordVectors().fit(["a b"])
    est.table_sha256_ = "0" * 64
    with pytest.raises(ModelError, match="other word vectors"):
        est.transform(["a"])
    with pytest.raises(ModelError, match="not fitted"):
        MeanWordVectors().transform(["a"])


def test_sentiment_model_uses_the_vectors_and_old_models_still_load() -> None:
    from triage_core.models.sentiment import TRUSTED_TYPES as SENTIMENT_TYPES
    from triage_core.models.sentiment import SentimentModel

    texts = ["terrible, still waiting", "awful support", "this is broken again",
             "thanks, great help", "wonderful, solved fast", "love it, thank you",
             "my order number is 12", "the parcel arrives monday", "what are your hours"]
    labels = ["negative"] * 3 + ["positive"] * 3 + ["neutral"] * 3
    texts, labels = texts * 2, labels * 2  # the n-gram view keeps words seen twice
    model = SentimentModel().fit(texts, labels)
    assert "meaning" in model.pipeline_.named_steps["stack"].named_estimators_
    old = SentimentModel(word_vectors=False).fit(texts, labels)
    del old.word_vectors  # as saved before the third view existed
    loaded = registry.loads(registry.dumps(old), trusted=SENTIMENT_TYPES)
    assert loaded.word_vectors is False
    assert "meaning" not in loaded.pipeline_.named_steps["stack"].named_estimators_
    np.testing.assert_array_equal(loaded.predict_proba(texts), old.predict_proba(texts))
    # saved while MeanWordVectors lived in triage_core.models.embeddings: still loads
    blob = registry.dumps(model)
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(moved, "w") as zf:
        for name in src.namelist():
            data = src.read(name)
            if name == "schema.json":
                assert b"triage_core.models.mean_vectors" in data
                data = data.replace(b"triage_core.models.mean_vectors",
                                    b"triage_core.models.embeddings")
            zf.writestr(name, data)
    np.testing.assert_array_equal(registry.loads(moved.getvalue()).predict_proba(texts),
                                  model.predict_proba(texts))
