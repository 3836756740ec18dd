"""Sentiment of support text on a -1..+1 scale, built on vaderSentiment.

Two modes:

* Zero-shot (:mod:`.lexicon`, ``LexiconSentiment``): VADER's lexicon plus a support-domain
  lexicon kept as data (``config/defaults/sentiment.toml``, read into ``SentimentSettings`` by
  :mod:`.settings`), every sentence scored on its own by the exact, vectorized VADER engine
  (:mod:`._vader`, ``VaderEngine``).
* Trained (:mod:`.trained`, ``SentimentModel`` alias ``TrainedSentiment``): a scikit-learn
  classifier stacking logistic regressions, fit on negative/neutral/positive labels or CSAT 1-5;
  saved through :mod:`triage_core.models.registry` with ``TRUSTED_TYPES``.

``score_and_label`` and ``explain_with`` take either kind of model (:mod:`.dispatch`); the
trained kind's names are imported on first use (scikit-learn comes with them). This module
states the public API and re-exports it: ``from triage_core.models import sentiment; sentiment.X``.
"""

from typing import Any

from triage_core.models.sentiment._vader import VaderEngine, reference_compounds, vader_lexicon
from triage_core.models.sentiment.dispatch import covered_languages, explain_with, score_and_label
from triage_core.models.sentiment.lexicon import (
    LexiconSentiment,
    explain,
    score_frame,
    score_texts,
)
from triage_core.models.sentiment.settings import (
    LABELS,
    PatternRule,
    SentimentBands,
    SentimentSettings,
    default_settings,
    label,
)

# The trained kind is a scikit-learn pipeline: its names are imported on first use, so a
# process that scores with the zero-shot model never imports scikit-learn.
_TRAINED = ("TRUSTED_TYPES", "LexiconFeatures", "SentimentModel", "TextCleaner",
            "TrainedSentiment", "labels_from_csat")


def __getattr__(name: str) -> Any:
    if name in _TRAINED:
        from triage_core.models.sentiment import trained

        return getattr(trained, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LABELS",
    "TRUSTED_TYPES",
    "LexiconFeatures",
    "LexiconSentiment",
    "PatternRule",
    "SentimentBands",
    "SentimentModel",
    "SentimentSettings",
    "TextCleaner",
    "TrainedSentiment",
    "VaderEngine",
    "covered_languages",
    "default_settings",
    "explain",
    "explain_with",
    "label",
    "labels_from_csat",
    "reference_compounds",
    "score_and_label",
    "score_frame",
    "score_texts",
    "vader_lexicon",
]
