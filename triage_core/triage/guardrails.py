"""When a newly trained model may become the active one.

A model is activated only when, on the fixed holdout,

1. it beats guessing clearly: its accuracy is above always answering the most common category
   by a one-sided binomial test at 1 % (z >= 2.33 with the majority share as the null), and its
   macro-F1 is above what a guess in proportion to the categories gets (1 / number of
   categories) by at least 0.05; and
2. it is not worse than the active model on the same tickets (macro-F1 >= the active model's
   minus ``tolerance``).

Otherwise the version is recorded but not activated, with the reason in words; ``--force``
activates it anyway. Holdouts under :data:`MIN_HOLDOUT` tickets cannot tell a model from a guess,
so with no active model the first one is activated with that said; with an active one the
new model is kept inactive.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MIN_HOLDOUT = 20
Z_ONE_PERCENT = 2.326
CHANCE_MARGIN = 0.05


@dataclass(frozen=True)
class Verdict:
    activate: bool
    reason: str
    baseline: dict[str, float]  # majority_accuracy, majority_macro_f1, chance_macro_f1


def baseline(labels: Sequence[Any]) -> dict[str, float]:
    """What guessing gets on these labels: always the most common, or in proportion."""
    counts = Counter(labels)
    n, k = len(labels), max(len(counts), 1)
    share = max(counts.values()) / n if n else 0.0
    # always answering the majority class: F1 2p/(1+p) for it, 0 for the others
    majority_f1 = (2 * share / (1 + share)) / k if n else 0.0
    return {"majority_accuracy": share, "majority_macro_f1": majority_f1,
            "chance_macro_f1": 1.0 / k}


def beats_guessing(m: Mapping[str, Any], labels: Sequence[Any]) -> tuple[bool, str]:
    """(clearly better than guessing, the evidence in words)."""
    base = baseline(labels)
    n = len(labels)
    p0 = base["majority_accuracy"]
    acc, f1 = float(m["accuracy"]), float(m["macro_f1"])
    z = (acc - p0) / math.sqrt(p0 * (1 - p0) / n) if 0 < p0 < 1 else (math.inf if acc > p0
                                                                        else -math.inf)
    words = (f"holdout accuracy {acc:.3f} against {p0:.3f} by always answering the holdout's"
             f" most common category, macro-F1 {f1:.3f} against"
             f" {base['chance_macro_f1']:.3f} by guessing")
    return (z >= Z_ONE_PERCENT and f1 >= base["chance_macro_f1"] + CHANCE_MARGIN), words


def judge(new: Mapping[str, Any] | None, labels: Sequence[Any],
          current: Mapping[str, Any] | None, tolerance: float = 0.0) -> Verdict:
    """Whether ``new`` (holdout metrics) may replace ``current`` (the active model's metrics on
    the same holdout, None when there is no active model)."""
    base = baseline(labels)
    if not new or len(labels) < MIN_HOLDOUT:
        if current is None:
            return Verdict(True, f"only {len(labels)} holdout tickets: too few to tell the model"
                           " from a guess; activated as the first model", base)
        return Verdict(False, f"only {len(labels)} holdout tickets: too few to show the new"
                       " model is not worse than the active one", base)
    ok, words = beats_guessing(new, labels)
    if not ok:
        return Verdict(False, f"no better than guessing: {words}", base)
    if current is not None and new["macro_f1"] < current["macro_f1"] - tolerance:
        return Verdict(False, f"worse than the active model on the same holdout: macro-F1"
                       f" {new['macro_f1']:.3f} against {current['macro_f1']:.3f}", base)
    return Verdict(True, f"better than guessing ({words})" + (
        "" if current is None else f" and not worse than the active model"
        f" ({new['macro_f1']:.3f} against {current['macro_f1']:.3f})"), base)
