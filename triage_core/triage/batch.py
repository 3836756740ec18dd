"""The unit of triage work: a pure function from a batch of tickets to a batch of results.

:func:`triage_batch` reads only its arguments (a pandas batch and the fitted models), so the
same code runs in this process, in a local process pool, on a Dask cluster or inside PySpark
(:mod:`triage_core.triage.engines`). It is a leaf: it imports no engine and no store.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from triage_core.models.severity import SeverityRules

# The columns of a result batch, in order (the table triage_results minus scored_at).
RESULT_COLUMNS = ["ticket_id", "text_hash", "category", "category_confidence", "category_top",
                  "sentiment", "sentiment_label", "severity", "severity_reasons",
                  "model_version"]


@dataclass
class TriageModels:
    """Everything :func:`triage_batch` needs; plain objects, picklable for cluster workers."""

    category: Any | None  # fitted classifier, or None before the first training
    category_version: int | None
    sentiment: Any  # LexiconSentiment (zero-shot) or a trained sentiment model
    severity: SeverityRules


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


def ticket_texts(batch: pd.DataFrame) -> pd.Series:
    """The model input of each ticket: subject and cleaned body."""
    from triage_core.text import ticket_text_series

    return ticket_text_series(batch["subject"], batch["body"])


def triage_batch(batch: pd.DataFrame, models: TriageModels,
                 timings: dict[str, float] | None = None) -> pd.DataFrame:
    """Pure: a batch with ticket_id, subject, body (and optional label, text_hash) -> results.

    Category, confidence and top 3 come from the classifier (when there is none, nothing);
    sentiment -1..+1 and its label from the sentiment model; severity 1-4 from the rules,
    using the known label or the predicted category.
    """
    from triage_core.models import classifier, sentiment

    clock = Clock(timings)
    n = len(batch)
    texts = ticket_texts(batch)
    clock.lap("text")
    out = pd.DataFrame({"ticket_id": batch["ticket_id"].to_numpy()})
    out["text_hash"] = batch["text_hash"].to_numpy() if "text_hash" in batch else 0
    if models.category is not None and n:
        top = classifier.predict_top(models.category, texts, k=3)
        out["category"] = top["category"].to_numpy()
        out["category_confidence"] = top["confidence"].to_numpy(dtype=float)
        out["category_top"] = [json.dumps(t) for t in top["top"]]
    else:
        out["category"] = None
        out["category_confidence"] = np.nan
        out["category_top"] = None
    clock.lap("category")
    scores, labels = sentiment.score_and_label(models.sentiment, texts, clean=False)
    out["sentiment"] = scores
    out["sentiment_label"] = labels
    clock.lap("sentiment")
    known = batch["label"] if "label" in batch else pd.Series([None] * n)
    effective = known.where(known.notna(), out["category"].to_numpy()).reset_index(drop=True)
    sev = models.severity.assess(texts.reset_index(drop=True), effective)
    out["severity"] = sev["severity"].to_numpy()
    out["severity_reasons"] = sev["severity_reason"].to_numpy()
    clock.lap("severity")
    out["model_version"] = models.category_version
    return out[RESULT_COLUMNS]
