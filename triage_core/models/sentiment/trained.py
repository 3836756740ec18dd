"""Trained sentiment: ``SentimentModel`` (alias ``TrainedSentiment``), a scikit-learn
classifier fit on negative/neutral/positive labels or CSAT 1-5 (1-2 negative, 3 neutral, 4-5
positive); its score is P(positive) - P(negative).

It stacks three logistic regressions (TF-IDF word and character n-grams; the zero-shot
scorer's lexicon features; the mean word vector) under a fourth that calibrates their
probabilities. Saved models are skops blobs written and loaded by
:mod:`triage_core.models.registry`, which trusts the types in ``TRUSTED_TYPES``.
``sentiment.score_and_label`` and ``sentiment.explain_with`` take either kind of sentiment
model (:mod:`.dispatch`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.ensemble import StackingClassifier
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import LabelEncoder

from triage_core.errors import ModelError
from triage_core.models.mean_vectors import MeanWordVectors
from triage_core.models.sentiment.lexicon import LexiconSentiment
from triage_core.models.sentiment.settings import LABELS, SentimentSettings, default_settings
from triage_core.text import clean_body_series

__all__ = ["TRUSTED_TYPES", "LexiconFeatures", "SentimentModel", "TextCleaner",
           "TrainedSentiment", "labels_from_csat"]


def labels_from_csat(values: Iterable[Any]) -> np.ndarray:
    """Sentiment labels from labels or CSAT: 1-2 negative, 3 neutral, 4-5 positive."""
    out = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            lv = v.strip().lower()
            if lv in LABELS:
                out.append(lv)
                continue
            if lv.isdigit():
                v = int(lv)
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise ModelError(f"label {i}: expected negative/neutral/positive or CSAT 1-5, "
                             f"got {v!r}")
        if v != v or v not in (1, 2, 3, 4, 5):
            raise ModelError(f"label {i}: CSAT must be an integer 1-5, got {v!r}")
        out.append("negative" if v <= 2 else "neutral" if v == 3 else "positive")
    return np.array(out, dtype=object)


class TextCleaner(TransformerMixin, BaseEstimator):
    """Pipeline step: ``text.clean_body`` over a column of texts."""

    def fit(self, X: Any, y: Any = None) -> TextCleaner:
        return self

    def transform(self, X: Any) -> np.ndarray:
        return clean_body_series(pd.Series(list(X), dtype=object)).to_numpy(dtype=object)


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """Pipeline step: the zero-shot scorer's per-text features (``LexiconSentiment.features``).

    ``config`` is a ``[sentiment]`` section over the packaged defaults (None: the defaults at
    fit time); the settings used are frozen into ``settings_`` (a complete section) so a saved
    model scores the same later.
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config

    def fit(self, X: Any, y: Any = None) -> LexiconFeatures:
        settings = (default_settings() if self.config is None
                    else SentimentSettings.from_config(self.config))
        self.settings_ = settings.to_config()
        self.n_features_out_ = 7
        return self

    def _scorer(self) -> LexiconSentiment:
        scorer = self.__dict__.get("_scorer_cache")
        if scorer is None:
            scorer = LexiconSentiment(SentimentSettings.from_mapping(self.settings_))
            self.__dict__["_scorer_cache"] = scorer
        return scorer

    def transform(self, X: Any) -> np.ndarray:
        return self._scorer().features(list(X), clean=False)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_scorer_cache", None)
        return state


class SentimentModel(ClassifierMixin, BaseEstimator):
    """Trained sentiment: a stacked, calibrated pair of linear models.

    One logistic regression reads TF-IDF word (1-2) and character (2-5) n-grams, another the
    zero-shot scorer's lexicon features (``LexiconFeatures``), a third (``word_vectors``) the
    idf-weighted mean of the shipped word vectors (``mean_vectors.MeanWordVectors``: words the
    training texts never used still count); a final logistic regression combines their
    out-of-fold class probabilities (``cv`` folds), which calibrates how much each view is
    trusted; the views are fit with ``class_weight``, the combining model with
    ``final_class_weight``. ``fit(texts, labels)`` takes negative/neutral/positive or CSAT 1-5;
    ``predict_proba`` gives class probabilities (columns in ``classes_`` order) and
    ``score_texts`` P(positive) - P(negative).
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced",
                 char_ngrams: bool = True, cv: int = 3, config: dict[str, Any] | None = None,
                 max_iter: int = 2000, word_vectors: bool = True,
                 languages: tuple[str, ...] | None = None,
                 final_class_weight: str | None = None) -> None:
        self.C = C
        self.class_weight = class_weight
        # The combining model keeps the training data's label shares: with them "balanced",
        # every tweet set whose share of negatives differs from the training set's lost
        # (macro-F1 by airline, trained on the other three: US Airways 0.733 -> 0.743,
        # Southwest 0.762 -> 0.771, Delta 0.751 -> 0.754, Virgin America 0.770 -> 0.760).
        self.final_class_weight = final_class_weight
        self.char_ngrams = char_ngrams
        self.cv = cv
        self.config = config
        self.max_iter = max_iter
        self.word_vectors = word_vectors
        self.languages = languages  # the languages it was trained on; None: not restricted

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("word_vectors", False)  # saved before the third view existed
        state.setdefault("languages", None)  # saved before languages were recorded
        state.setdefault("final_class_weight", "balanced")  # saved before it was a parameter
        super().__setstate__(state)

    def _pipeline(self) -> Pipeline:
        ngrams: list[tuple[str, Any]] = [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ]
        if self.char_ngrams:
            ngrams.append(("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                                    min_df=2, sublinear_tf=True)))
        text = Pipeline([
            ("features", FeatureUnion(ngrams)),
            ("classifier", LogisticRegression(C=self.C, class_weight=self.class_weight,
                                              max_iter=self.max_iter)),
        ])
        lexicon = Pipeline([
            ("features", LexiconFeatures(self.config)),
            ("classifier", LogisticRegression(class_weight=self.class_weight,
                                              max_iter=self.max_iter)),
        ])
        views = [("text", text), ("lexicon", lexicon)]
        if self.word_vectors:
            views.append(("meaning", Pipeline([
                ("features", MeanWordVectors()),
                ("classifier", LogisticRegression(class_weight=self.class_weight,
                                                  max_iter=self.max_iter)),
            ])))
        return Pipeline([
            ("clean", TextCleaner()),
            ("stack", StackingClassifier(
                views,
                final_estimator=LogisticRegression(class_weight=self.final_class_weight,
                                                   max_iter=self.max_iter),
                stack_method="predict_proba", cv=self.cv)),
        ])

    def fit(self, X: Any, y: Any) -> SentimentModel:
        texts = list(X)
        labels = labels_from_csat(y)
        if len(texts) != len(labels):
            raise ModelError(f"{len(texts)} texts but {len(labels)} labels")
        counts = pd.Series(labels).value_counts()
        if len(counts) < 2:
            raise ModelError("training needs at least two different sentiment labels")
        if counts.min() < self.cv:
            raise ModelError(f"training needs at least {self.cv} texts of every label; "
                             f"{counts.idxmin()!r} has {counts.min()}")
        self.pipeline_ = self._pipeline().fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        self._check_fitted()
        texts = list(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.pipeline_.predict_proba(texts)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score_texts(self, X: Any) -> np.ndarray:
        """P(positive) - P(negative) per text, in -1..+1."""
        return self.score_and_label(X)[0]

    def score_and_label(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(P(positive) - P(negative), most probable label) per text, one prediction pass."""
        proba = self.predict_proba(X)
        cls = list(self.classes_)
        zero = np.zeros(len(proba))
        pos = proba[:, cls.index("positive")] if "positive" in cls else zero
        neg = proba[:, cls.index("negative")] if "negative" in cls else zero
        labels = self.classes_[np.argmax(proba, axis=1)] if len(proba) else \
            np.array([], dtype=object)
        return np.asarray(pos - neg, dtype=float), np.asarray(labels, dtype=object)

    def explain(self, text: Any, k: int = 5) -> list[tuple[str, float]]:
        """The k words or word pairs that move this text's score most in the n-gram model:
        TF-IDF weight times (positive - negative) coefficient, by absolute contribution."""
        self._check_fitted()
        cleaned = self.pipeline_.named_steps["clean"].transform([text])
        text_model = self.pipeline_.named_steps["stack"].named_estimators_["text"]
        union = text_model.named_steps["features"]
        words: TfidfVectorizer = dict(union.transformer_list)["words"]
        x = words.transform(cleaned).tocsr()
        clf = text_model.named_steps["classifier"]
        cls = list(self.classes_)
        coef = clf.coef_
        if coef.shape[0] == 1:  # two classes: one row for classes_[1]
            direction = coef[0] if cls[1] != "negative" else -coef[0]
        else:
            direction = (coef[cls.index("positive")] if "positive" in cls else 0) - (
                coef[cls.index("negative")] if "negative" in cls else 0)
        direction = np.asarray(direction)[: len(words.vocabulary_)]
        names = words.get_feature_names_out()
        contrib = x.data * direction[x.indices]
        order = np.argsort(-np.abs(contrib), kind="stable")[:k]
        return [(str(names[x.indices[i]]), round(float(contrib[i]), 4)) for i in order
                if contrib[i] != 0]

    def _check_fitted(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise ModelError("the sentiment model is not trained yet: call fit() first")


TrainedSentiment = SentimentModel  # the name the pipeline and evaluation use


# Types a saved SentimentModel holds beyond skops' numpy, scipy and builtin defaults
# (reviewed): our four classes, the scikit-learn estimators of its pipeline (named where the
# installed scikit-learn defines them), and sklearn's Bunch (a dict subclass;
# StackingClassifier.named_estimators_).
TRUSTED_TYPES: list[str] = [
    *(f"{t.__module__}.{t.__qualname__}" for t in (
        FeatureUnion, LabelEncoder, LogisticRegression, Pipeline, StackingClassifier,
        TfidfTransformer, TfidfVectorizer)),
    "sklearn.utils._bunch.Bunch",
    "triage_core.models.mean_vectors.MeanWordVectors",
    "triage_core.models.sentiment.trained.LexiconFeatures",
    "triage_core.models.sentiment.trained.SentimentModel",
    "triage_core.models.sentiment.trained.TextCleaner",
]
