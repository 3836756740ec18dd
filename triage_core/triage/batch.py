"""The unit of triage work: a pure function from a batch of tickets to a batch of results.

:func:`triage_batch` reads only its arguments (a pandas batch and the fitted models), so the
same code runs in this process, in a local process pool, on a Dask cluster or inside PySpark
(:mod:`triage_core.triage.engines`). It is a leaf: it imports no engine and no store.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from triage_core.models.language import LanguageSettings
from triage_core.models.severity import SeverityRules
from triage_core.text import SMALL_BATCH, text_series

# The columns of a result batch, in order (the table triage_results minus scored_at).
RESULT_COLUMNS = ["ticket_id", "text_hash", "category", "category_confidence", "category_top",
                  "sentiment", "sentiment_label", "severity", "severity_reasons",
                  "model_version", "language"]


@dataclass
class TriageModels:
    """Everything :func:`triage_batch` needs; plain objects, picklable for cluster workers."""

    category: Any | None  # fitted classifier, or None before the first training
    category_version: int | None
    sentiment: Any  # LexiconSentiment (zero-shot) or a trained sentiment model
    severity: SeverityRules
    # below this confidence a predicted category goes to the triage queue and does not bring
    # its category's default severity ([routing] confidence_threshold)
    confidence_threshold: float = 0.0
    language: LanguageSettings | None = None  # detection for tickets without a language
    default_language: str = "en"  # what an undetectable (short) text is taken to be


class Clock:
    """Adds the seconds since the previous lap to ``timings[name]`` (no-op without timings)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        if self.timings is None:
            return
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


# The models read at most this much of a ticket: subject and cleaned body together, the body
# cleaned from its first 4x as many characters. A pasted log or encoded attachment of megabytes
# held every other ticket of the server's intake for seconds (the cleaning, sentiment and
# severity rules are linear, about 1 s per 2 MB each); what a person writes is far shorter, and
# the category model already reads no more than its max_chars (20,000).
MAX_TEXT_CHARS = 50_000


def ticket_texts(batch: pd.DataFrame) -> pd.Series:
    """The model input of each ticket: subject and cleaned body (see :data:`MAX_TEXT_CHARS`)."""
    from triage_core.text import ticket_text_series

    texts = ticket_text_series(_cut(batch["subject"], MAX_TEXT_CHARS),
                               _cut(batch["body"], 4 * MAX_TEXT_CHARS))
    return _cut(texts, MAX_TEXT_CHARS)


def _cut(values: pd.Series, limit: int) -> pd.Series:
    """``values`` with texts longer than ``limit`` cut to it (the same Series when none is)."""
    # may hold other values than texts: only texts are cut (a few texts of a string dtype are
    # checked as a list too: pandas' string methods cost 0.2 ms a call)
    if (values.dtype == object or len(values) <= SMALL_BATCH) and not any(
            isinstance(v, str) and len(v) > limit for v in values.tolist()):
        return values
    if values.dtype == object:
        return values.map(lambda v: v[:limit] if isinstance(v, str) else v)
    return values.str.slice(0, limit) if (values.str.len() > limit).any() else values


def ticket_languages(batch: pd.DataFrame, texts: pd.Series, models: TriageModels) -> np.ndarray:
    """The given language of each ticket (its primary subtag: a locale such as ``en-US`` is
    ``en``), else the detected one, else None (undetectable)."""
    from triage_core.models.language import detect, primary

    given = (batch["language"].to_numpy(dtype=object) if "language" in batch
             else np.full(len(batch), None, dtype=object))
    out = np.array([(primary(g) or None) if isinstance(g, str) and g.strip() else None
                    for g in given], dtype=object)
    missing = np.flatnonzero(pd.isna(out))
    if missing.size:
        out[missing] = detect(texts.iloc[missing].tolist(), models.language)
    return out


def _sentiment(models: TriageModels, texts: pd.Series,
               languages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels; tickets in a language the sentiment model does not cover are not
    scored (NaN, label None), and not computed either. A ticket of no detected language is
    taken to be in the default language, unless its letters are of another script than every
    covered language's (a short Chinese ticket is not English: it is not scored either)."""
    from triage_core.models import sentiment
    from triage_core.models.language import LATIN_SCRIPT, other_script

    covered = sentiment.covered_languages(models.sentiment)
    scores = np.full(len(texts), np.nan)
    labels = np.full(len(texts), None, dtype=object)
    undetected = np.flatnonzero(pd.isna(languages))
    lang = np.where(pd.isna(languages), models.default_language, languages).astype(object)
    if covered is not None and covered <= LATIN_SCRIPT and undetected.size:
        foreign = other_script(texts.iloc[undetected].tolist(), models.default_language)
        lang[undetected[foreign]] = None
    todo = np.arange(len(texts)) if covered is None else np.flatnonzero(
        np.isin(lang.astype(str), list(covered)))
    if todo.size:
        s, lab = sentiment.score_and_label(models.sentiment, texts.iloc[todo], clean=False)
        scores[todo], labels[todo] = s, lab
    return scores, labels


# A batch larger than this is triaged in parts of this size. Every row's result is its own:
# the parts give the same categories, labels and scores, and confidences that can differ in
# the eighth decimal (float32 sums in another order, as between any two batch sizes: on
# 60,000 tickets of the 1M world, at most 6e-8). A 50,000-ticket batch's intermediate arrays (the
# sparse feature blocks, the texts) are hundreds of megabytes, which the allocator maps and
# unmaps from the kernel on every batch: on 200,000 demo tickets in one process, system time
# 3.7-4.0 s and wall 17.2 s with parts of 50,000, 0.7 s and 15.0 s with parts of 5,000.
PART = 5_000


_WORD = re.compile(r"[^\W_]")  # a letter or digit, of any script


def wordless(texts: pd.Series) -> np.ndarray:
    """Which model inputs (:func:`ticket_texts`) hold no letter or digit at all."""
    search = _WORD.search
    return np.fromiter((not (isinstance(t, str) and search(t)) for t in texts.tolist()),
                       dtype=bool, count=len(texts))


def _categories(model: Any, texts: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category, confidence and top 3 (JSON) of each text."""
    from triage_core.models import classifier

    category, confidence, top = classifier.predict_top_json(model, texts, k=3)
    return category.astype(object), confidence.astype(float), np.array(top, dtype=object)


def language_and_sentiment(batch: pd.DataFrame, models: TriageModels,
                           texts: pd.Series | None = None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The languages, sentiment scores and sentiment labels of :func:`triage_batch` (``batch``
    with subject, body and optional language; ``texts``: its :func:`ticket_texts`, if made
    already)."""
    texts = ticket_texts(batch) if texts is None else texts
    languages = ticket_languages(batch, texts, models)
    return (languages, *_sentiment(models, texts, languages))


def triage_batch(batch: pd.DataFrame, models: TriageModels,
                 timings: dict[str, float] | None = None,
                 elsewhere: Any = None) -> pd.DataFrame:
    """Pure: a batch with ticket_id, subject, body (and optional label, text_hash) -> results
    (:func:`triage_columns` as a DataFrame)."""
    out = triage_columns(batch, models, timings, elsewhere)
    return pd.DataFrame({c: out[c] for c in RESULT_COLUMNS})


def triage_columns(batch: pd.DataFrame, models: TriageModels,
                   timings: dict[str, float] | None = None,
                   elsewhere: Any = None) -> dict[str, np.ndarray]:
    """The result columns of :func:`triage_batch` (:data:`RESULT_COLUMNS`, as arrays).

    Category, confidence and top 3 come from the classifier (when there is none, nothing);
    sentiment -1..+1 and its label from the sentiment model; severity 1-4 from the rules,
    using the known label or the predicted category. A batch of more than :data:`PART`
    tickets is triaged in parts of that size.

    ``elsewhere``: languages and sentiment are being computed elsewhere (the server's helper
    process, :mod:`triage_core.server.helper`): its ``result()`` gives them, the same as
    :func:`language_and_sentiment` of ``batch``, and its ``made_texts()`` the batch's
    :func:`ticket_texts` as a list when they were made there too (else None: made here).
    """
    clock = Clock(timings)
    n = len(batch)
    made = elsewhere.made_texts() if elsewhere is not None else None
    texts = ticket_texts(batch) if made is None else text_series(made)
    clock.lap("text")
    # columns gathered first and framed once: each DataFrame.__setitem__ costs about 0.7 ms,
    # which is most of the time of the server's small batches
    out: dict[str, Any] = {
        "ticket_id": batch["ticket_id"].to_numpy(),
        "text_hash": batch["text_hash"].to_numpy() if "text_hash" in batch
        else np.zeros(n, dtype=np.int64)}
    if models.category is not None and n:
        parts = [_categories(models.category, texts.iloc[i:i + PART])
                 for i in range(0, n, PART)]
        out["category"], out["category_confidence"], out["category_top"] = (
            np.concatenate(column) for column in zip(*parts, strict=True))
        # a ticket without a word to read (an empty body, "<p></p>", a subject of only
        # "Re: Fwd:" over a quoted thread) gets no category: the model would give it its
        # intercepts' favourite at a confidence that looks real, and route it
        blank = wordless(texts)
        if blank.any():
            out["category"][blank] = None
            out["category_confidence"][blank] = np.nan
            out["category_top"][blank] = None
    else:
        out["category"] = np.full(n, None, dtype=object)
        out["category_confidence"] = np.full(n, np.nan)
        out["category_top"] = np.full(n, None, dtype=object)
    clock.lap("category")
    if elsewhere is None:
        out["language"] = ticket_languages(batch, texts, models)
        clock.lap("language")
        out["sentiment"], out["sentiment_label"] = _sentiment(models, texts, out["language"])
        clock.lap("sentiment")
    known = (batch["label"].to_numpy(dtype=object) if "label" in batch
             else np.full(n, None, dtype=object))
    trusted = np.where(out["category_confidence"] >= models.confidence_threshold,
                       out["category"], None)
    effective = np.where(pd.isna(known), trusted, known)
    out["severity"], _, reasons = models.severity.assess_columns(texts.reset_index(drop=True),
                                                                 list(effective))
    out["severity_reasons"] = np.array(reasons, dtype=object)
    clock.lap("severity")
    if elsewhere is not None:
        out["language"], out["sentiment"], out["sentiment_label"] = elsewhere.result()
    out["model_version"] = np.full(n, models.category_version, dtype=object) \
        if models.category_version is None else np.full(n, models.category_version)
    return out
