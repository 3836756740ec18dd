"""Sentiment labels as a labeled file writes them: negative / neutral / positive in any case,
numbers or stars read when the scheme is clear (:func:`sentiment_reading`), or read by a
``--label-map`` (:func:`parse_label_map`); used by ``triage evaluate`` and the Model quality
page's upload (:mod:`triage_core.models.evaluate`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import TriageError, short_label
from triage_core.schema import SENTIMENT_LABELS

__all__ = ["check_sentiment_labels", "files_reading", "parse_label_map", "sentiment_reading"]


def _label_number(value: str) -> float | None:
    """A sentiment label written as a number ("4", "-1", "4.0", "4*", "4 stars") or as stars
    ("★★★", "***")."""
    v = value.strip()
    number = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)(?:\s*(?:\*|★|stars?))?", v, re.I)
    if number:
        return float(number.group(1))
    if re.fullmatch(r"★+|\*+", v):
        return float(len(v))
    return None


def parse_label_map(text: str) -> dict[str, str]:
    """``--label-map "0=negative,2=neutral,4=positive"`` -> {"0": "negative", ...} (pairs
    split at commas or semicolons; a value given twice, also as "2" and "2.0" or in another
    case, is refused)."""
    out: dict[str, str] = {}
    seen: dict[Any, str] = {}  # each key regardless of case, or its number: where it was
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        key, eq, written = part.rpartition("=")
        key, label = key.strip(), written.strip().lower()
        if not eq or not key:
            raise TriageError(f"--label-map: {part.strip()!r} is not VALUE=LABEL (for example "
                              "'0=negative,2=neutral,4=positive')")
        if label not in SENTIMENT_LABELS:
            raise TriageError(f"--label-map: {short_label(written.strip())!r} is not negative, "
                              "neutral or positive")
        same = _label_number(key)
        same = key.casefold() if same is None else same
        if same in seen:
            raise TriageError(f"--label-map: {short_label(key)!r} is given twice (also as "
                              f"{short_label(seen[same])!r})")
        seen[same] = key
        out[key] = label
    if not out:
        raise TriageError("--label-map: empty (for example '0=negative,2=neutral,4=positive')")
    return out


def _mapped(value: str, label_map: Mapping[str, str]) -> str | None:
    """The label ``label_map`` gives ``value``: its key as written, regardless of case, else
    the key of the same number ("4" for "4.0")."""
    v = value.strip()
    for key, label in label_map.items():
        if key.casefold() == v.casefold():
            return label
    number = _label_number(v)
    if number is None:
        return None
    return next((label for key, label in label_map.items() if _label_number(key) == number),
                None)


def sentiment_reading(values: Iterable[str]) -> dict[str, Any] | None:
    """How labels written as numbers or stars are read, when every value is one and the
    scheme is clear; None when the labels are not all numbers.

    - any number below 0: its sign (-1 / 0 / +1, or -2..+2);
    - numbers of 1-5 with a 5 among them, or four of them: stars, 1-2 negative, 3 neutral,
      4-5 positive (3 / 4 / 5 is no negative / neutral / positive);
    - three numbers: lowest negative, middle neutral, highest positive (0 / 1 / 2 as in
      TweetEval, 0 / 2 / 4 as in Sentiment140);
    - two numbers: lowest negative, highest positive (0 / 1 polarity sets).
    Anything else (a 1-10 scale, scores with decimals) raises an error that asks for
    ``--label-map``."""
    numbers = {v: _label_number(v) for v in set(values)}
    if not numbers or any(n is None for n in numbers.values()):
        return None
    distinct = sorted({n for n in numbers.values() if n is not None})
    ask = ("give --label-map, for example '0=negative,2=neutral,4=positive' (on the "
           "dashboard, as the label map)")
    fraction = next((v for v, n in sorted(numbers.items()) if n is not None and n != int(n)),
                    None)
    if fraction is not None:
        raise TriageError(f"a sentiment label with decimals ({short_label(fraction.strip())!r})"
                          f" is a score, not a class: {ask}")
    if distinct[0] < 0:
        how, read = "the sign", {n: SENTIMENT_LABELS[int(np.sign(n)) + 1] for n in distinct}
    elif set(distinct) <= {1, 2, 3, 4, 5} and (5 in distinct or len(distinct) >= 4):
        how, read = "stars: 1-2 negative, 3 neutral, 4-5 positive", {
            n: "negative" if n <= 2 else "neutral" if n == 3 else "positive" for n in distinct}
    elif len(distinct) == 3:
        how, read = "lowest negative, middle neutral, highest positive", dict(
            zip(distinct, SENTIMENT_LABELS, strict=True))
    elif len(distinct) == 2:
        how, read = "lowest negative, highest positive", {distinct[0]: "negative",
                                                          distinct[1]: "positive"}
    else:
        shown = ", ".join(f"{n:g}" for n in distinct[:8]) + (" …" if len(distinct) > 8 else "")
        raise TriageError(f"cannot tell which of the sentiment labels {shown} is negative, "
                          f"neutral or positive: {ask}")
    written = {}  # each number as the file writes it ("★★★", "4.0")
    for value, n in sorted(numbers.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0])):
        written.setdefault(n, value.strip())
    label_map = {written[n]: label for n, label in read.items()}
    glyphs = any(re.search(r"[★*]|star", v, re.I) for v in label_map)
    note = ("labels read as " + ("stars" if glyphs else "numbers") + " ("
            + (how.removeprefix("stars: ") if glyphs else how) + "): "
            + ", ".join(f"{k} → {v}" for k, v in label_map.items()))
    return {"map": label_map, "how": how, "note": note}


def files_reading(files: Sequence[tuple[str, Iterable[str]]], label_col: str
                   ) -> dict[str, Any] | None:
    """:func:`sentiment_reading` of the labels of the test file and the training file
    together; an error names the file at fault, and a number that one file alone would read
    otherwise than both together (-1 / 0 / 1 beside 0 / 1 / 2) asks for ``--label-map``."""
    alone = []
    for name, values in files:
        try:
            alone.append((name, sentiment_reading(values)))
        except TriageError as exc:
            raise TriageError(f"{name}, column {label_col!r}: {exc}") from None
    numbered = [(name, r) for name, r in alone if r is not None]
    if len(numbered) < 2:
        return numbered[0][1] if numbered else None
    names = " and ".join(name for name, _ in numbered)
    try:
        both = sentiment_reading([v for _, values in files for v in values])
    except TriageError as exc:
        raise TriageError(f"{names}, column {label_col!r}: {exc}") from None
    assert both is not None
    together = {_label_number(k): v for k, v in both["map"].items()}
    for name, r in numbered:
        for key, label in r["map"].items():
            if together[_label_number(key)] != label:
                raise TriageError(
                    f"{names}, column {label_col!r}: {name} alone reads {key!r} as {label}, "
                    f"both files together as {together[_label_number(key)]}: give "
                    "--label-map, for example '0=negative,2=neutral,4=positive'")
    return both


def check_sentiment_labels(labels: pd.Series, name: str, label_col: str,
                            rows: Sequence[int] | None = None,
                            label_map: Mapping[str, str] | None = None) -> pd.Series:
    """The labels as negative / neutral / positive (``label_map`` read first)."""
    norm = labels.str.lower()
    if label_map:
        norm = pd.Series([_mapped(v, label_map) or low for v, low in zip(labels, norm,
                                                                          strict=True)],
                         index=labels.index, dtype=object)
    bad = ~norm.isin(SENTIMENT_LABELS)
    if bad.any():  # the label as the file has it ('NEG', not 'neg'), with its data row
        at = int(np.flatnonzero(bad.to_numpy())[0])
        row = rows[at] if rows is not None and at < len(rows) else at + 1
        value = labels.iloc[at]
        hint = (" nor in --label-map" if label_map else
                " (numbers or stars: give --label-map, for example "
                "'0=negative,2=neutral,4=positive')"
                if _label_number(value) is not None else "")
        raise TriageError(f"{name}, row {row}, column {label_col!r}: {short_label(value)!r} is"
                          f" not negative, neutral or positive{hint}")
    return norm
