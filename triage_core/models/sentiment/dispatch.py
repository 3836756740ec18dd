"""What works on either kind of sentiment model, without importing the trained kind.

A zero-shot model (``LexiconSentiment``) needs no scikit-learn; a trained model
(:mod:`.trained`) is a scikit-learn pipeline, and whoever loaded one has imported
scikit-learn already. So these functions check for the zero-shot kind first and import
:mod:`.trained` only for a model that is not of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import ModelError
from triage_core.models.sentiment.lexicon import LexiconSentiment


def _trained(model: Any) -> bool:
    """Whether ``model`` is a trained sentiment model (imported only for a non-lexicon one)."""
    from triage_core.models.sentiment.trained import SentimentModel

    return isinstance(model, SentimentModel)


def score_and_label(model: Any, texts: Sequence[Any] | pd.Series,
                    clean: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scores in -1..+1 and negative/neutral/positive labels from either kind of model.

    ``clean=False`` skips the zero-shot scorer's ``clean_body`` pass for texts that are already
    clean (e.g. from ``text.ticket_text_series``); a trained model always cleans.
    """
    if isinstance(model, LexiconSentiment):
        scores = model.score_texts(texts, clean)
        return scores, model.label(scores)
    if _trained(model):
        return model.score_and_label(texts)
    raise ModelError(f"not a sentiment model: {type(model).__name__}")


def covered_languages(model: Any) -> frozenset[str] | None:
    """The languages ``model`` can score (None: any). The zero-shot lexicon covers the
    configured ``[sentiment] languages``; a trained model the ones it was trained on."""
    if isinstance(model, LexiconSentiment):
        langs = model.settings.languages
    else:
        langs = getattr(model, "languages", None)
    return frozenset(langs) if langs else None


def explain_with(model: Any, text: Any, k: int = 5) -> list[tuple[str, float]]:
    """The k words behind one text's sentiment, from either kind of model."""
    if isinstance(model, LexiconSentiment) or _trained(model):
        return model.explain(text, k)
    raise ModelError(f"not a sentiment model: {type(model).__name__}")
