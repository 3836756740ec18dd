"""Sentiment of support text on a -1..+1 scale, built on vaderSentiment.

Two modes:

* Zero-shot (:mod:`.lexicon`, ``LexiconSentiment``): VADER's lexicon plus a support-domain
  lexicon kept as data (``config/defaults/sentiment.toml``, read into ``SentimentSettings`` by
  :mod:`.settings`), every sentence scored on its own by the exact, vectorized VADER engine
  (:mod:`._vader`, ``VaderEngine``).
* Trained (:mod:`.trained`, ``SentimentModel`` alias ``TrainedSentiment``): a scikit-learn
  classifier stacking logistic regressions, fit on negative/neutral/positive labels or CSAT 1-5;
  saved through :mod:`triage_core.models.registry` with ``TRUSTED_TYPES``.

``score_and_label`` and ``explain_with`` take either kind of model. This module states the
public API and re-exports it: ``from triage_core.models import sentiment; sentiment.X``.
"""

from triage_core.models.sentiment._vader import VaderEngine, reference_compounds, vader_lexicon
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
from triage_core.models.sentiment.trained import (
    TRUSTED_TYPES,
    LexiconFeatures,
    SentimentModel,
    TextCleaner,
    TrainedSentiment,
    covered_languages,
    explain_with,
    labels_from_csat,
    score_and_label,
)

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
