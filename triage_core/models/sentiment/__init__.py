"""Sentiment of support text on a -1..+1 scale, built on vaderSentiment.

Two modes:

* Zero-shot (``LexiconSentiment``): VADER's lexicon plus a support-domain lexicon kept as data
  (``defaults/sentiment.toml``: single words, multi-word phrases and regex patterns). Text is
  cleaned first (quoted replies, signatures, greetings, headers, @handles, links), phrases become
  single tokens of the augmented lexicon, and every sentence is scored on its own; the text's
  score is a length-weighted mean of its sentence compounds in which negative sentences weigh
  more. Long e-mails therefore do not saturate to +-1.
* Trained (``SentimentModel``): a scikit-learn classifier stacking two logistic regressions
  (TF-IDF word and character n-grams; the zero-shot lexicon features) under a third that
  calibrates their probabilities; fit on negative/neutral/positive labels or CSAT 1-5 (1-2
  negative, 3 neutral, 4-5 positive); its score is P(positive) - P(negative). Saved with skops;
  load it with ``TRUSTED_TYPES``.

The lexicon scoring step is ``VaderEngine.compounds(sentences)``: an exact, vectorized
re-implementation of ``vaderSentiment.SentimentIntensityAnalyzer.polarity_scores(...)["compound"]``
(same rules, same float operations, same rounding) for any lexicon, many times faster than calling
``polarity_scores`` per text. ``reference_compounds`` calls vaderSentiment itself.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import threading
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.ensemble import StackingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from vaderSentiment import vaderSentiment as _vs

from triage_core.models.embeddings import MeanWordVectors
from triage_core.errors import ConfigError, ModelError
from triage_core.text import clean_body_array, clean_body_series, to_arrow

__all__ = [
    "LABELS",
    "TRUSTED_TYPES",
    "LexiconFeatures",
    "LexiconSentiment",
    "SentimentBands",
    "SentimentModel",
    "SentimentSettings",
    "TextCleaner",
    "TrainedSentiment",
    "VaderEngine",
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

LABELS = ("negative", "neutral", "positive")

# ============================================================================================
# Exact, vectorized VADER
# ============================================================================================


@functools.cache
def _analyzer() -> _vs.SentimentIntensityAnalyzer:
    return _vs.SentimentIntensityAnalyzer()


def vader_lexicon() -> dict[str, float]:
    """A copy of the lexicon shipped in vaderSentiment (no download)."""
    return dict(_analyzer().lexicon)


def reference_compounds(sentences: Iterable[str], lexicon: Mapping[str, float] | None = None,
                        ) -> np.ndarray:
    """Compound scores from vaderSentiment itself (slow; the reference ``VaderEngine`` matches)."""
    analyzer = _vs.SentimentIntensityAnalyzer.__new__(_vs.SentimentIntensityAnalyzer)
    analyzer.lexicon = dict(lexicon) if lexicon is not None else _analyzer().lexicon
    analyzer.emojis = _analyzer().emojis
    return np.array([analyzer.polarity_scores(s)["compound"] for s in sentences], dtype=float)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PY312 = sys.version_info >= (3, 12)  # sum() of floats is compensated from 3.12 on
_SORT_THIS = ("so", "this")


def _as_large_string(values: Sequence[str] | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.large_string()).fill_null("")
    return pa.array(list(values), type=pa.large_string()).fill_null("")


def _round4(values: np.ndarray) -> np.ndarray:
    """``round(x, 4)`` exactly as Python does it (numpy's scaling can differ near ties)."""
    scaled = values * 1e4
    out = np.round(scaled) / 1e4
    near_tie = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
    for i in np.flatnonzero(near_tie):
        out[i] = round(float(values[i]), 4)
    return out


def _strip_punc_if_word(token: str) -> str:
    stripped = token.strip(_vs.string.punctuation)
    return token if len(stripped) <= 2 else stripped


_NEGATE = frozenset(_vs.NEGATE)


def _negated_word(word: str) -> bool:
    return word in _NEGATE or "n't" in word


class VaderEngine:
    """VADER's compound score for a lexicon, computed for many sentences at once.

    Tokens are mapped to per-token attributes once (memoized), and VADER's rules (``no``,
    capitals, boosters and dampeners with distance damping, negation up to three words back,
    ``never so``/``without doubt``, special idioms, ``least``, ``kind of``, ``but``, punctuation
    emphasis, normalization with alpha=15, rounding to 4 decimals) are applied with numpy over
    all lexicon hits. The result equals ``polarity_scores(s)["compound"]`` of vaderSentiment
    with the same lexicon. Only the order-sensitive ``but`` rule runs in Python, for sentences
    that contain "but".
    """

    def __init__(self, lexicon: Mapping[str, float]) -> None:
        self.lexicon = dict(lexicon)
        emojis = _analyzer().emojis
        self._emojis = emojis
        # vaderSentiment replaces single characters only; none of them is ASCII
        self._emoji_chars = frozenset(k for k in emojis if len(k) == 1)
        # words that appear in VADER's multi-word special cases and booster n-grams
        grams = [k for k in _vs.SPECIAL_CASES if " " in k] + [k for k in _vs.BOOSTER_DICT
                                                              if " " in k]
        words = sorted({w for g in grams for w in g.split(" ")})
        self._special_code = {w: i + 1 for i, w in enumerate(words)}
        self._special_grams = [(tuple(self._special_code[w] for w in k.split(" ")), v)
                               for k, v in _vs.SPECIAL_CASES.items() if " " in k]
        self._booster_grams = [(tuple(self._special_code[w] for w in k.split(" ")), v)
                               for k, v in _vs.BOOSTER_DICT.items() if " " in k]
        self._reset_memo()
        self._lock = threading.Lock()

    # the token memo is cleared when it grows past this many distinct tokens
    MAX_MEMO = 2_000_000

    def _reset_memo(self) -> None:
        self._ids: dict[str, int] = {}
        self._lower: list[str] = []  # id -> lower-cased token (for explanations)
        self._attrs: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        # picklable for cluster workers: no lock, no memo (both are rebuilt)
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("_lock", "_ids", "_lower", "_attrs", "_word_flags")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_memo()
        self._lock = threading.Lock()

    # --- per-token attributes ---------------------------------------------------------------

    _ATTR_NAMES = ("in_lex", "lexval", "is_boost", "boost", "upper", "neg", "is_no", "or_nor",
                   "never", "so_this", "without", "doubt", "least", "at_very", "kind", "of",
                   "but", "special")
    _FLAG_WORDS = ("no", ("or", "nor"), "never", _SORT_THIS, "without", "doubt", "least",
                   ("at", "very"), "kind", "of", "but")

    @functools.cached_property
    def _word_flags(self) -> dict[str, tuple[Any, ...]]:
        """Rule flags (is_no ... but, special code) of the few words VADER's rules name."""
        words = {w for f in self._FLAG_WORDS for w in ((f,) if isinstance(f, str) else f)}
        words |= set(self._special_code)
        return {w: (*((w == f) if isinstance(f, str) else (w in f) for f in self._FLAG_WORDS),
                    self._special_code.get(w, 0))
                for w in words}

    def _token_row(self, raw: str) -> tuple[Any, ...]:
        w = _strip_punc_if_word(raw)
        lw = w.lower()
        lexval = self.lexicon.get(lw)
        boost = _vs.BOOSTER_DICT.get(lw)
        return (lexval is not None, 0.0 if lexval is None else lexval, boost is not None,
                0.0 if boost is None else boost, w.isupper(), _negated_word(lw),
                *self._word_flags.get(lw, self._NO_FLAGS))

    _NO_FLAGS = (False,) * 11 + (0,)

    def _global_ids(self, tokens: list[str]) -> np.ndarray:
        """Ids of distinct tokens in the memo (new tokens get their attributes computed)."""
        ids = self._ids
        get = ids.get
        out = np.fromiter((get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))
        missing = np.flatnonzero(out < 0)
        if missing.size:
            start = len(ids)
            rows = []
            for k in missing.tolist():
                t = tokens[k]
                i = get(t)
                if i is None:
                    i = len(ids)
                    ids[t] = i
                    rows.append(self._token_row(t))
                    self._lower.append(_strip_punc_if_word(t).lower())
                out[k] = i
            cols = list(zip(*rows, strict=True))
            for name, col in zip(self._ATTR_NAMES, cols, strict=True):
                dtype = float if name in ("lexval", "boost") else (
                    np.int64 if name == "special" else bool)
                new = np.array(col, dtype=dtype)
                old = self._attrs.get(name)
                self._attrs[name] = new if old is None else np.concatenate([old[:start], new])
        return out

    def _replace_emojis(self, text: str) -> str:
        """vaderSentiment's emoji loop: each emoji becomes its description, preceded by a
        space unless it starts the text or follows a space."""
        emojis = self._emojis

        def sub(m: re.Match[str]) -> str:
            desc = emojis.get(m.group(0))
            if desc is None:
                return m.group(0)
            k = m.start()
            return (" " + desc) if k and text[k - 1] != " " else desc

        return _NON_ASCII.sub(sub, text)

    # --- scoring ----------------------------------------------------------------------------

    def _emoji_free(self, arr: pa.Array) -> pa.Array:
        """Sentences with vaderSentiment's emoji replacement applied (Python only for the few
        non-ASCII sentences that hold an emoji)."""
        non_ascii = np.flatnonzero(~pc.string_is_ascii(arr).to_numpy(zero_copy_only=False))
        if non_ascii.size == 0:
            return arr
        texts = arr.take(pa.array(non_ascii)).to_pylist()
        emoji_free = self._emoji_chars.isdisjoint
        hit = [k for k, t in enumerate(texts) if not emoji_free(t)]
        if not hit:
            return arr
        mask = np.zeros(len(arr), dtype=bool)
        mask[non_ascii[hit]] = True
        fixed = pa.array([self._replace_emojis(texts[k]) for k in hit], type=pa.large_string())
        return pc.replace_with_mask(arr, pa.array(mask), fixed)

    def _tokenize(self, sentences: Sequence[str] | pa.Array,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Token ids (flat), tokens per sentence, and counts of "!" and "?" per sentence.

        pyarrow's utf8_split_whitespace uses exactly Python's whitespace set; dropping its
        empty pieces (from leading or trailing whitespace) gives ``str.split()``'s tokens.
        """
        arr = _as_large_string(sentences)
        arr = self._emoji_free(arr)
        if len(self._ids) > self.MAX_MEMO:
            self._reset_memo()
        ep = pc.count_substring(arr, "!").to_numpy(zero_copy_only=False).astype(np.int64)
        qm = pc.count_substring(arr, "?").to_numpy(zero_copy_only=False).astype(np.int64)
        pieces = pc.utf8_split_whitespace(arr)
        flat = pc.list_flatten(pieces)
        parent = pc.list_parent_indices(pieces).to_numpy(zero_copy_only=False)
        keep = pc.greater(pc.binary_length(flat), 0)
        flat = flat.filter(keep)
        parent = parent[keep.to_numpy(zero_copy_only=False)]
        lengths = np.bincount(parent, minlength=len(arr)).astype(np.int64)
        encoded = flat.dictionary_encode()
        uniques = encoded.dictionary.to_pylist()
        local = encoded.indices.to_numpy(zero_copy_only=False)
        tid = self._global_ids(uniques)[local] if uniques else np.zeros(0, dtype=np.int64)
        return tid, lengths, ep, qm

    def _sentiments(self, tid: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per-token sentiment values (VADER's ``sentiments`` list), before the ``but`` rule."""
        a = self._attrs
        n_tok = tid.size
        sent = np.repeat(np.arange(lengths.size), lengths)
        starts = np.cumsum(lengths) - lengths
        pos = np.arange(n_tok) - starts[sent]
        n = lengths[sent]
        upper = a["upper"][tid]
        n_upper = np.bincount(sent, weights=upper, minlength=lengths.size)
        cap_diff_sent = (lengths - n_upper > 0) & (lengths - n_upper < lengths)

        nxt_is_of = np.zeros(n_tok, dtype=bool)
        if n_tok > 1:
            nxt_is_of[:-1] = a["of"][tid[1:]] & (pos[:-1] < n[:-1] - 1)
        hit = a["in_lex"][tid] & ~a["is_boost"][tid] & ~(a["kind"][tid] & nxt_is_of)
        j = np.flatnonzero(hit)
        values = np.zeros(n_tok, dtype=float)
        if j.size == 0:
            return values
        p = pos[j]
        nj = n[j]
        cap_diff = cap_diff_sent[sent[j]]

        def at(k: int) -> tuple[np.ndarray, np.ndarray]:
            ok = (p + k >= 0) & (p + k < nj)
            return tid[np.where(ok, j + k, j)], ok

        t0 = tid[j]
        t_m1, ok_m1 = at(-1)
        t_m2, ok_m2 = at(-2)
        t_m3, ok_m3 = at(-3)
        t_p1, ok_p1 = at(1)
        t_p2, ok_p2 = at(2)
        in_lex = a["in_lex"]
        lexval = a["lexval"][t0]

        v = lexval.copy()
        v = np.where(a["is_no"][t0] & ok_p1 & in_lex[t_p1], 0.0, v)
        is_no = a["is_no"]
        by_no = ((ok_m1 & is_no[t_m1]) | (ok_m2 & is_no[t_m2])
                 | (ok_m3 & is_no[t_m3] & a["or_nor"][t_m1]))
        v = np.where(by_no, lexval * _vs.N_SCALAR, v)
        caps = a["upper"][t0] & cap_diff
        v = np.where(caps, np.where(v > 0, v + _vs.C_INCR, v - _vs.C_INCR), v)

        never, so_this, without, doubt, neg = (a["never"], a["so_this"], a["without"],
                                               a["doubt"], a["neg"])
        for start_i, (tk, ok) in enumerate(((t_m1, ok_m1), (t_m2, ok_m2), (t_m3, ok_m3))):
            active = ok & ~in_lex[tk]
            is_b = a["is_boost"][tk]
            b = a["boost"][tk]
            scalar = np.where(v < 0, b * -1, b)
            cap_b = a["upper"][tk] & cap_diff & is_b
            scalar = np.where(cap_b, np.where(v > 0, scalar + _vs.C_INCR,
                                              scalar - _vs.C_INCR), scalar)
            scalar = np.where(is_b, scalar, 0.0)
            if start_i == 1:
                scalar = np.where(scalar != 0, scalar * 0.95, scalar)
            elif start_i == 2:
                scalar = np.where(scalar != 0, scalar * 0.9, scalar)
            v = np.where(active, v + scalar, v)
            if start_i == 0:
                v = np.where(active & neg[t_m1], v * _vs.N_SCALAR, v)
            elif start_i == 1:
                boost_125 = never[t_m2] & so_this[t_m1]
                keep = without[t_m2] & doubt[t_m1]
                flip = neg[t_m2] & ~boost_125 & ~keep
                v = np.where(active & boost_125, v * 1.25, v)
                v = np.where(active & flip, v * _vs.N_SCALAR, v)
            else:
                boost_125 = (never[t_m3] & so_this[t_m2]) | so_this[t_m1]
                keep = without[t_m3] & (doubt[t_m2] | doubt[t_m1])
                flip = neg[t_m3] & ~boost_125 & ~keep
                v = np.where(active & boost_125, v * 1.25, v)
                v = np.where(active & flip, v * _vs.N_SCALAR, v)
                v = self._idioms(v, active, t0, t_m1, t_m2, t_m3, t_p1, ok_p1, t_p2, ok_p2)

        least = a["least"]
        least_m1 = ~in_lex[t_m1] & least[t_m1]
        first = ok_m2 & least_m1
        v = np.where(first & ~a["at_very"][t_m2], v * _vs.N_SCALAR, v)
        v = np.where(~first & ok_m1 & least_m1, v * _vs.N_SCALAR, v)
        values[j] = v
        return values

    def _idioms(self, v: np.ndarray, active: np.ndarray, t0: np.ndarray, t_m1: np.ndarray,
                t_m2: np.ndarray, t_m3: np.ndarray, t_p1: np.ndarray, ok_p1: np.ndarray,
                t_p2: np.ndarray, ok_p2: np.ndarray) -> np.ndarray:
        code = self._attrs["special"]
        c0, c_m1, c_m2, c_m3, c_p1, c_p2 = (code[t0], code[t_m1], code[t_m2], code[t_m3],
                                            code[t_p1], code[t_p2])
        if not (active & ((c_m1 > 0) | (c0 > 0))).any():
            return v

        def match(seq: tuple[np.ndarray, ...], gram: tuple[int, ...]) -> np.ndarray:
            if len(seq) != len(gram):
                return np.zeros(v.shape, dtype=bool)
            m = np.ones(v.shape, dtype=bool)
            for c, g in zip(seq, gram, strict=True):
                m &= c == g
            return m

        # first match among onezero, twoonezero, twoone, threetwoone, threetwo
        back = [(c_m1, c0), (c_m2, c_m1, c0), (c_m2, c_m1), (c_m3, c_m2, c_m1), (c_m3, c_m2)]
        found = np.zeros(v.shape, dtype=bool)
        new = v.copy()
        for seq in back:
            for gram, val in self._special_grams:
                m = active & ~found & match(seq, gram)
                new = np.where(m, val, new)
                found |= m
        for seq, ok in (((c0, c_p1), ok_p1), ((c0, c_p1, c_p2), ok_p2)):
            for gram, val in self._special_grams:
                m = active & ok & match(seq, gram)
                new = np.where(m, val, new)
        for seq in ((c_m3, c_m2, c_m1), (c_m3, c_m2), (c_m2, c_m1)):
            for gram, val in self._booster_grams:
                m = active & match(seq, gram)
                new = np.where(m, new + val, new)
        return new

    @staticmethod
    def _but_rule(values: np.ndarray, bi: int) -> np.ndarray:
        """vaderSentiment's ``_but_check`` on one sentence, including its ``list.index()``
        behaviour (a repeated value updates its first occurrence). Zeros never change, so only
        the non-zero values are walked."""
        where = np.flatnonzero(values).tolist()
        vals = values[where].tolist()
        for k in range(len(vals)):
            s = vals[k]
            q = vals.index(s)
            if where[q] < bi:
                vals[q] = s * 0.5
            elif where[q] > bi:
                vals[q] = s * 1.5
        out = values.copy()
        out[where] = vals
        return out

    def _apply_but(self, values: np.ndarray, tid: np.ndarray,
                   lengths: np.ndarray) -> np.ndarray:
        but_tok = np.flatnonzero(self._attrs["but"][tid])
        if but_tok.size == 0:
            return values
        starts = np.cumsum(lengths) - lengths
        sent = np.searchsorted(starts, but_tok, side="right") - 1
        seen: set[int] = set()
        for s, t in zip(sent.tolist(), but_tok.tolist(), strict=True):
            if s in seen:
                continue
            seen.add(s)
            a, b = int(starts[s]), int(starts[s] + lengths[s])
            values[a:b] = self._but_rule(values[a:b], t - a)
        return values

    @staticmethod
    def _segment_sums(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per-sentence ``sum()`` in Python's order (compensated on Python >= 3.12)."""
        sums = np.zeros(lengths.size, dtype=float)
        nz = np.flatnonzero(values)
        if nz.size == 0:
            return sums
        starts = np.cumsum(lengths) - lengths
        seg = np.searchsorted(starts, nz, side="right") - 1
        first_of_seg = np.r_[True, seg[1:] != seg[:-1]]
        group_start = np.flatnonzero(first_of_seg)
        rank = np.arange(nz.size) - np.repeat(group_start, np.diff(np.r_[group_start, nz.size]))
        comp = np.zeros(lengths.size, dtype=float)
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            sg = seg[sel]
            x = values[nz[sel]]
            acc = sums[sg]
            t = acc + x
            if _PY312:
                comp[sg] += np.where(np.abs(acc) >= np.abs(x), (acc - t) + x, (x - t) + acc)
            sums[sg] = t
        if _PY312:
            fix = (comp != 0) & np.isfinite(comp)
            sums = np.where(fix, sums + comp, sums)
        return sums

    def score(self, sentences: Sequence[str] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Compound per sentence and the number of tokens per sentence."""
        with self._lock:  # the token memo is shared state
            return self._score(sentences)

    def _score(self, sentences: Sequence[str] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
        tid, lengths, ep, qm = self._tokenize(sentences)
        if not self._attrs:  # no token seen yet
            return np.zeros(lengths.size), lengths
        values = self._sentiments(tid, lengths)
        values = self._apply_but(values, tid, lengths)
        total = self._segment_sums(values, lengths)
        ep_amp = np.minimum(ep, 4) * 0.292
        qm_amp = np.where(qm > 1, np.where(qm <= 3, qm * 0.18, 0.96), 0)
        amp = ep_amp + qm_amp
        total = np.where(total > 0, total + amp, np.where(total < 0, total - amp, total))
        compound = np.clip(total / np.sqrt(total * total + 15), -1.0, 1.0)
        compound = np.where(lengths > 0, compound, 0.0)
        return _round4(compound), lengths

    def compounds(self, sentences: Sequence[str] | pa.Array) -> np.ndarray:
        """``polarity_scores(s)["compound"]`` for every sentence, exactly."""
        return self.score(sentences)[0]

    def token_table(self, sentences: Sequence[str] | pa.Array,
                    ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(sentence index, lower-cased token, final valence) for every token with a non-zero
        valence, in order."""
        with self._lock:
            tid, lengths, _, _ = self._tokenize(sentences)
            if tid.size == 0:
                return np.zeros(0, dtype=np.int64), [], np.zeros(0)
            values = self._apply_but(self._sentiments(tid, lengths), tid, lengths)
            nz = np.flatnonzero(values)
            sent = np.repeat(np.arange(lengths.size), lengths)
            lower = self._lower
            return sent[nz], [lower[i] for i in tid[nz].tolist()], values[nz]

    def token_valences(self, sentence: str) -> list[tuple[str, float]]:
        """(token, final valence) for every token of one sentence, as VADER sums them."""
        with self._lock:
            tid, lengths, _, _ = self._tokenize([sentence])
            if tid.size == 0:
                return []
            values = self._apply_but(self._sentiments(tid, lengths), tid, lengths)
        tokens = (sentence if sentence.isascii() or self._emoji_chars.isdisjoint(sentence)
                  else self._replace_emojis(sentence)).split()
        return [(_strip_punc_if_word(t), float(v)) for t, v in zip(tokens, values, strict=True)]


# ============================================================================================
# Settings
# ============================================================================================


@dataclass(frozen=True)
class SentimentBands:
    """Label bands: negative if score <= neg_threshold, positive if >= pos_threshold."""

    neg_threshold: float = -0.05
    pos_threshold: float = 0.3


@dataclass(frozen=True)
class PatternRule:
    """A regular expression (matched case-insensitively) that counts as one lexicon token."""

    name: str
    regex: str
    valence: float


@dataclass(frozen=True)
class SentimentSettings:
    """Everything the zero-shot scorer needs; build it with ``from_config``."""

    bands: SentimentBands = field(default_factory=SentimentBands)
    negative_weight: float = 2.0
    question_weight: float = 0.5
    lexicon: tuple[tuple[str, float], ...] = ()
    phrases: tuple[tuple[str, float], ...] = ()
    patterns: tuple[PatternRule, ...] = ()
    ignore_words: tuple[str, ...] = ()

    _KEYS = ("neg_threshold", "pos_threshold", "negative_weight", "question_weight",
             "ignore_words", "lexicon", "phrases", "patterns")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SentimentSettings:
        """Validate a parsed ``sentiment`` TOML section; ConfigError names the bad key.

        Missing numbers take the packaged defaults' values; missing ``lexicon``, ``phrases``
        and ``patterns`` are empty (``config.load_config`` passes the merged section).
        """
        if not isinstance(config, Mapping):
            raise ConfigError("sentiment: expected a table of settings")
        for key in config:
            if key not in cls._KEYS:
                raise ConfigError(f"sentiment.{key}: unknown setting (known: "
                                  f"{', '.join(cls._KEYS)})")
        neg = _number(config, "neg_threshold", -0.05, -1.0, 1.0)
        pos = _number(config, "pos_threshold", 0.3, -1.0, 1.0)
        if neg >= pos:
            raise ConfigError(f"sentiment.neg_threshold: must be below pos_threshold "
                              f"({neg} >= {pos})")
        weight = _number(config, "negative_weight", 2.0, 0.0, 100.0)
        if weight == 0:
            raise ConfigError("sentiment.negative_weight: must be greater than 0")
        question_weight = _number(config, "question_weight", 0.5, 0.0, 1.0)
        ignore = config.get("ignore_words", [])
        if not isinstance(ignore, list) or not all(
                isinstance(w, str) and w and not any(c.isspace() for c in w) for w in ignore):
            raise ConfigError("sentiment.ignore_words: expected a list of single words")
        lexicon = []
        for word, val in _table(config, "lexicon").items():
            if not word or any(c.isspace() for c in word):
                raise ConfigError(f"sentiment.lexicon.{word!r}: a lexicon entry is one word; "
                                  "put multi-word entries under [phrases]")
            lexicon.append((word.lower(), _valence(val, f"sentiment.lexicon.{word!r}")))
        phrases = []
        for phrase, val in _table(config, "phrases").items():
            words = phrase.lower().split()
            if len(words) < 2:
                raise ConfigError(f"sentiment.phrases.{phrase!r}: a phrase has two or more "
                                  "words; put single words under [lexicon]")
            phrases.append((" ".join(words), _valence(val, f"sentiment.phrases.{phrase!r}")))
        patterns = []
        for name, rule in _table(config, "patterns").items():
            where = f"sentiment.patterns.{name}"
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ConfigError(f"{where}: pattern names use a-z, 0-9 and _")
            if not isinstance(rule, Mapping) or set(rule) != {"regex", "valence"}:
                raise ConfigError(f"{where}: expected a table with 'regex' and 'valence'")
            regex = rule["regex"]
            if not isinstance(regex, str):
                raise ConfigError(f"{where}.regex: expected a string")
            try:
                re.compile(regex)
            except re.error as exc:
                raise ConfigError(f"{where}.regex: invalid regular expression ({exc})") from None
            patterns.append(PatternRule(name, regex, _valence(rule["valence"],
                                                              f"{where}.valence")))
        return cls(SentimentBands(neg, pos), weight, question_weight, tuple(lexicon),
                   tuple(phrases), tuple(patterns), tuple(w.lower() for w in ignore))

    def to_config(self) -> dict[str, Any]:
        """The plain-dict form (round-trips through ``from_config``)."""
        return {
            "neg_threshold": self.bands.neg_threshold,
            "pos_threshold": self.bands.pos_threshold,
            "negative_weight": self.negative_weight,
            "question_weight": self.question_weight,
            "ignore_words": list(self.ignore_words),
            "lexicon": dict(self.lexicon),
            "phrases": dict(self.phrases),
            "patterns": {p.name: {"regex": p.regex, "valence": p.valence}
                         for p in self.patterns},
        }


def _number(config: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    val = config.get(key, default)
    if isinstance(val, bool) or not isinstance(val, int | float) or math.isnan(val):
        raise ConfigError(f"sentiment.{key}: expected a number, got {val!r}")
    if not lo <= val <= hi:
        raise ConfigError(f"sentiment.{key}: must be between {lo} and {hi}, got {val}")
    return float(val)


def _valence(val: Any, where: str) -> float:
    if isinstance(val, bool) or not isinstance(val, int | float) or not -4 <= val <= 4:
        raise ConfigError(f"{where}: expected a valence between -4 and 4, got {val!r}")
    return float(val)


def _table(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    val = config.get(key, {})
    if not isinstance(val, Mapping):
        raise ConfigError(f"sentiment.{key}: expected a table")
    return val


@functools.cache
def _default_config() -> dict[str, Any]:
    text = resources.files("triage_core").joinpath("config/defaults/sentiment.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def default_settings() -> SentimentSettings:
    """Settings from the packaged ``defaults/sentiment.toml``."""
    return SentimentSettings.from_config(_default_config())


def label(scores: Any, bands: SentimentBands | None = None) -> np.ndarray:
    """negative / neutral / positive for each score (NaN -> neutral)."""
    bands = bands or default_settings().bands
    s = np.asarray(scores, dtype=float)
    return np.where(s <= bands.neg_threshold, "negative",
                    np.where(s >= bands.pos_threshold, "positive", "neutral")).astype(object)


# ============================================================================================
# Zero-shot scorer
# ============================================================================================

_SENTENCE_END = r"([.!?])[ \t]+"  # a sentence ends at . ! or ? followed by blanks ...
_SENTENCE_BREAK = r"[ \t]*\n[ \t\n]*"  # ... or at a line break
_QUESTION = r"\?[ \t\r\n]*$"
_WORD_EDGE_L = r"(?<![A-Za-z0-9_'])"
_WORD_EDGE_R = r"(?![A-Za-z0-9_'])"


def _token_for(phrase: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


def _re2_accepts(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array([""]), pattern=pattern, ignore_case=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _missing_to_empty(texts: Sequence[Any] | pd.Series | pa.Array) -> pa.Array:
    if isinstance(texts, pa.Array | pa.ChunkedArray):
        return _as_large_string(texts)
    return to_arrow(texts if isinstance(texts, pd.Series) else list(texts))


class LexiconSentiment:
    """Zero-shot sentiment: VADER + support-domain lexicon, per-sentence scoring.

    Text goes through ``clean_body`` (unless ``clean=False``), phrases and patterns become
    single lexicon tokens, the text is split into sentences, every sentence gets VADER's
    compound (``VaderEngine``), and ``combine`` turns sentence compounds into one score.
    """

    def __init__(self, settings: SentimentSettings | None = None) -> None:
        self.settings = settings or default_settings()
        lexicon = vader_lexicon()
        for word in self.settings.ignore_words:
            lexicon.pop(word, None)
        lexicon.update(self.settings.lexicon)
        self._display: dict[str, str] = {}
        phrase_tokens: dict[str, str] = {}
        for phrase, val in self.settings.phrases:
            tok = _token_for(phrase)
            lexicon[tok] = val
            phrase_tokens[phrase] = tok
            self._display[tok] = phrase
        self._phrase_tokens = phrase_tokens
        # one regex per phrase, longest phrase first; the apostrophe-free form is the key of a
        # cheap substring test that decides whether the regex needs to run at all
        self._phrases: list[tuple[str, re.Pattern[str]]] = []
        for phrase in sorted(phrase_tokens, key=lambda p: (-len(p), p)):
            body = r"[ \t]+".join(re.escape(w).replace("'", "'?") for w in phrase.split())
            self._phrases.append((phrase.replace("'", ""), re.compile(
                _WORD_EDGE_L + body + _WORD_EDGE_R, re.IGNORECASE)))
        self._no_apostrophe = {p.replace("'", ""): t for p, t in phrase_tokens.items()}
        # RE2 finds the texts that may hold a phrase; only those go through Python
        self._phrase_filter = "|".join(
            r"[ \t]+".join(re.escape(w).replace("'", "'?") for w in p.split())
            for p in phrase_tokens) or None
        self._patterns: list[tuple[re.Pattern[str], str, str | None]] = []
        for rule in self.settings.patterns:
            tok = f"pattern_{rule.name}"
            lexicon[tok] = rule.valence
            self._display[tok] = rule.name.replace("_", " ")
            # RE2 pre-selects rows (its \b is ASCII-only, so it is at least as permissive;
            # whitespace is normalized by cleaning); Python-only syntax runs on every row
            self._patterns.append((re.compile(rule.regex, re.IGNORECASE), tok,
                                   rule.regex if _re2_accepts(rule.regex) else None))
        self.engine = VaderEngine(lexicon)

    # --- text preparation -------------------------------------------------------------------

    def _phrase_sub(self, match: re.Match[str]) -> str:
        text = match.group(0)
        key = " ".join(text.lower().split())
        tok = self._phrase_tokens.get(key) or self._no_apostrophe[key]
        return f" {tok.upper() if text.isupper() else tok} "

    def _substitute(self, text: str, phrases: bool, patterns: Sequence[int]) -> str:
        if phrases:
            low = " ".join(text.lower().replace("'", "").split())
            for key, regex in self._phrases:
                if key in low:
                    text = regex.sub(self._phrase_sub, text)
        for k in patterns:
            pattern, tok, _ = self._patterns[k]
            text = pattern.sub(f" {tok} ", text)
        return text

    def substitute(self, text: str) -> str:
        """Phrases (longest first) and then patterns in ``text`` replaced by lexicon tokens."""
        return self._substitute(text, True, range(len(self._patterns)))

    def prepare(self, texts: Sequence[Any] | pd.Series | pa.Array,
                clean: bool = True) -> pa.Array:
        """Cleaned texts with phrases and patterns replaced (a pyarrow string array)."""
        arr = _missing_to_empty(texts)
        if clean:
            arr = clean_body_array(arr)
        n = len(arr)
        if n == 0 or not (self._phrase_filter or self._patterns):
            return arr

        def rows_matching(regex: str | None) -> np.ndarray:
            if regex is None:
                return np.ones(n, dtype=bool)
            hit = pc.match_substring_regex(arr, pattern=regex, ignore_case=True)
            return hit.to_numpy(zero_copy_only=False)

        phrase_rows = (rows_matching(self._phrase_filter) if self._phrase_filter
                       else np.zeros(n, dtype=bool))
        pattern_rows = [rows_matching(rx) for _, _, rx in self._patterns]
        todo = phrase_rows.copy()
        for hit in pattern_rows:
            todo |= hit
        rows = np.flatnonzero(todo)
        if rows.size == 0:
            return arr
        texts_todo = arr.take(pa.array(rows)).to_pylist()
        fixed = [
            self._substitute(text, bool(phrase_rows[r]),
                             [k for k, hit in enumerate(pattern_rows) if hit[r]])
            for text, r in zip(texts_todo, rows.tolist(), strict=True)
        ]
        return pc.replace_with_mask(arr, pa.array(todo),
                                    pa.array(fixed, type=pa.large_string()))

    @staticmethod
    def split_sentences(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
        """(owner text index, sentence) for every non-blank sentence of every text."""
        marked = pc.replace_substring_regex(arr, pattern=_SENTENCE_END, replacement="\\1\n")
        pieces = pc.split_pattern_regex(marked, pattern=_SENTENCE_BREAK)
        flat = pc.list_flatten(pieces)
        owner = pc.list_parent_indices(pieces).to_numpy(zero_copy_only=False)
        keep = pc.match_substring_regex(flat, pattern=r"\S")
        return owner[keep.to_numpy(zero_copy_only=False)], flat.filter(keep)

    def sentences(self, text: Any, clean: bool = True) -> list[str]:
        """The sentences of one text as the scorer sees them (tokens for phrases)."""
        return self.split_sentences(self.prepare([text], clean))[1].to_pylist()

    # --- scoring ----------------------------------------------------------------------------

    def _sentence_table(self, prepared: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray,
                                                           np.ndarray]:
        owner, sentences = self.split_sentences(prepared)
        compounds, lengths = self.engine.score(sentences)
        question = pc.match_substring_regex(sentences, pattern=_QUESTION)
        question = question.to_numpy(zero_copy_only=False)
        compounds = np.where(question & (compounds > 0),
                             compounds * self.settings.question_weight, compounds)
        return owner, sentences, compounds, lengths

    def sentence_scores(self, texts: Sequence[Any] | pd.Series | pa.Array, clean: bool = True,
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(owner text index, compound, token count) for every sentence of every text.

        A question's positive compound is scaled by ``question_weight``."""
        owner, _, compounds, lengths = self._sentence_table(self.prepare(texts, clean))
        return owner, compounds, lengths

    def combine(self, owner: np.ndarray, compounds: np.ndarray, lengths: np.ndarray,
                n_texts: int) -> np.ndarray:
        """Length-weighted mean of the non-neutral sentence compounds of each text.

        Negative sentences weigh ``negative_weight`` times more; texts without sentiment-bearing
        sentences score 0.
        """
        w = lengths * np.where(compounds < 0, self.settings.negative_weight, 1.0)
        w = np.where(compounds != 0, w, 0.0)
        num = np.bincount(owner, weights=w * compounds, minlength=n_texts)
        den = np.bincount(owner, weights=w, minlength=n_texts)
        return np.divide(num, den, out=np.zeros(n_texts), where=den > 0)

    def score_texts(self, texts: Sequence[Any] | pd.Series | pa.Array,
                    clean: bool = True) -> np.ndarray:
        """Scores in -1..+1, one per text (missing or empty text scores 0)."""
        owner, compounds, lengths = self.sentence_scores(texts, clean)
        return self.combine(owner, compounds, lengths, len(texts))

    def label(self, scores: Any) -> np.ndarray:
        return label(scores, self.settings.bands)

    def features(self, texts: Sequence[Any] | pd.Series | pa.Array,
                 clean: bool = True) -> np.ndarray:
        """Per-text lexicon features: score, most negative and most positive sentence compound,
        share of negative and of positive sentences, "!" and "?" counts (capped at 4, / 4)."""
        prepared = self.prepare(texts, clean)
        n = len(prepared)
        owner, _, compounds, lengths = self._sentence_table(prepared)
        score = self.combine(owner, compounds, lengths, n)
        lo = np.zeros(n)
        hi = np.zeros(n)
        np.minimum.at(lo, owner, compounds)
        np.maximum.at(hi, owner, compounds)
        n_sent = np.maximum(np.bincount(owner, minlength=n), 1)
        share_neg = np.bincount(owner, weights=compounds < 0, minlength=n) / n_sent
        share_pos = np.bincount(owner, weights=compounds > 0, minlength=n) / n_sent
        excl = np.minimum(pc.count_substring(prepared, "!").to_numpy(zero_copy_only=False), 4)
        ques = np.minimum(pc.count_substring(prepared, "?").to_numpy(zero_copy_only=False), 4)
        return np.column_stack([score, lo, hi, share_neg, share_pos, excl / 4, ques / 4])

    def explain_many(self, texts: Sequence[Any] | pd.Series | pa.Array, k: int = 5,
                     clean: bool = True) -> list[list[tuple[str, float]]]:
        """For each text, the k words or phrases carrying its sentiment: their valence after
        VADER's rules (negation, boosters, capitals, ``but``), averaged over their occurrences,
        sorted by absolute valence (then by how often they occur)."""
        prepared = self.prepare(texts, clean)
        owner, sentences = self.split_sentences(prepared)
        sent_idx, terms, values = self.engine.token_table(sentences)
        out: list[list[tuple[str, float]]] = [[] for _ in range(len(prepared))]
        if values.size == 0 or k <= 0:
            return out
        display = [self._display.get(t, t) for t in terms]
        table = pd.DataFrame({"text": owner[sent_idx], "term": display, "value": values})
        table = table.groupby(["text", "term"], sort=False, as_index=False)["value"].agg(
            ["mean", "size"]).rename(columns={"mean": "value"})
        table["order"] = -table["value"].abs()
        table["count"] = -table["size"]
        table = table.sort_values(["text", "order", "count", "term"], kind="stable")
        table = table.groupby("text", sort=False).head(k)
        for text_i, term, value in zip(table["text"].tolist(), table["term"].tolist(),
                                       table["value"].tolist(), strict=True):
            out[text_i].append((term, round(value, 4)))
        return out

    def explain(self, text: Any, k: int = 5, clean: bool = True) -> list[tuple[str, float]]:
        """The k words or phrases carrying one text's sentiment (see ``explain_many``)."""
        return self.explain_many([text], k, clean)[0]

    def score_frame(self, frame: pd.DataFrame, text_column: str = "text", k: int = 3,
                    clean: bool = True) -> pd.DataFrame:
        """``sentiment``, ``sentiment_label`` and ``sentiment_terms`` (top-k terms as
        "word (+1.90); ...") for every row of ``frame``, same index."""
        if text_column not in frame.columns:
            raise ConfigError(f"score_frame: no column {text_column!r} in the frame")
        texts = frame[text_column]
        prepared = self.prepare(texts, clean)
        scores = self.score_texts(prepared, clean=False)
        terms = ["; ".join(f"{w} ({v:+.2f})" for w, v in row)
                 for row in self.explain_many(prepared, k, clean=False)]
        return pd.DataFrame({"sentiment": scores, "sentiment_label": self.label(scores),
                             "sentiment_terms": terms}, index=frame.index)


@functools.cache
def _default_scorer() -> LexiconSentiment:
    return LexiconSentiment()


def score_texts(texts: Sequence[Any] | pd.Series,
                settings: SentimentSettings | None = None) -> np.ndarray:
    """Zero-shot scores in -1..+1 for many texts (see ``LexiconSentiment``)."""
    scorer = _default_scorer() if settings is None else LexiconSentiment(settings)
    return scorer.score_texts(texts)


def explain(text: Any, k: int = 5,
            settings: SentimentSettings | None = None) -> list[tuple[str, float]]:
    """The k words or phrases carrying a text's sentiment, sorted by absolute valence."""
    scorer = _default_scorer() if settings is None else LexiconSentiment(settings)
    return scorer.explain(text, k)


def score_frame(frame: pd.DataFrame, text_column: str = "text",
                settings: SentimentSettings | None = None, k: int = 3) -> pd.DataFrame:
    """Score, label and top-k explanation terms for each row of a DataFrame."""
    scorer = _default_scorer() if settings is None else LexiconSentiment(settings)
    return scorer.score_frame(frame, text_column, k)


# ============================================================================================
# Trained mode
# ============================================================================================


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

    ``config`` is a sentiment settings dict (None: the packaged defaults at fit time); the
    settings used are frozen into ``settings_`` so a saved model scores the same later.
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
            scorer = LexiconSentiment(SentimentSettings.from_config(self.settings_))
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
    idf-weighted mean of the shipped word vectors (``embeddings.MeanWordVectors``: words the
    training texts never used still count); a final logistic regression combines their
    out-of-fold class probabilities (``cv`` folds), which calibrates how much each view is
    trusted. ``fit(texts, labels)`` takes negative/neutral/positive or CSAT 1-5;
    ``predict_proba`` gives class probabilities (columns in ``classes_`` order) and
    ``score_texts`` P(positive) - P(negative).
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced",
                 char_ngrams: bool = True, cv: int = 3, config: dict[str, Any] | None = None,
                 max_iter: int = 2000, word_vectors: bool = True) -> None:
        self.C = C
        self.class_weight = class_weight
        self.char_ngrams = char_ngrams
        self.cv = cv
        self.config = config
        self.max_iter = max_iter
        self.word_vectors = word_vectors

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("word_vectors", False)  # saved before the third view existed
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
                final_estimator=LogisticRegression(class_weight=self.class_weight,
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


def score_and_label(model: LexiconSentiment | SentimentModel,
                    texts: Sequence[Any] | pd.Series,
                    clean: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scores in -1..+1 and negative/neutral/positive labels from either kind of model.

    ``clean=False`` skips the zero-shot scorer's ``clean_body`` pass for texts that are already
    clean (e.g. from ``text.ticket_text_series``); a trained model always cleans.
    """
    if isinstance(model, LexiconSentiment):
        scores = model.score_texts(texts, clean)
        return scores, model.label(scores)
    if isinstance(model, SentimentModel):
        return model.score_and_label(texts)
    raise ModelError(f"not a sentiment model: {type(model).__name__}")


def explain_with(model: LexiconSentiment | SentimentModel, text: Any,
                 k: int = 5) -> list[tuple[str, float]]:
    """The k words behind one text's sentiment, from either kind of model."""
    if isinstance(model, LexiconSentiment | SentimentModel):
        return model.explain(text, k)
    raise ModelError(f"not a sentiment model: {type(model).__name__}")


# Types a saved SentimentModel holds beyond skops' defaults (reviewed): our four classes,
# and sklearn's Bunch (a dict subclass; StackingClassifier.named_estimators_).
TRUSTED_TYPES: list[str] = [
    "sklearn.utils._bunch.Bunch",
    "triage_core.models.embeddings.MeanWordVectors",
    "triage_core.models.sentiment.LexiconFeatures",
    "triage_core.models.sentiment.SentimentModel",
    "triage_core.models.sentiment.TextCleaner",
]
