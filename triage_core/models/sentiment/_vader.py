"""An exact, vectorized VADER: ``VaderEngine.compounds(sentences)``.

It re-implements ``vaderSentiment.SentimentIntensityAnalyzer.polarity_scores(...)["compound"]``
(same rules, same float operations, same rounding) for any lexicon, many times faster than
calling ``polarity_scores`` per text; it reads vaderSentiment's own rule constants.
``reference_compounds`` calls vaderSentiment itself; ``vader_lexicon`` is its shipped lexicon.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from vaderSentiment import vaderSentiment as _vs

__all__ = ["VaderEngine", "as_large_string", "reference_compounds", "vader_lexicon"]


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


def as_large_string(values: Sequence[str] | pa.Array) -> pa.Array:
    """Texts as one pyarrow ``large_string`` array, missing values as empty texts."""
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


def _hypothetical_word(word: str, words: frozenset[str]) -> bool:
    """Whether ``word`` (lower case) is one of ``words`` or a contraction of one: "should've"
    for "should", "that'd" and "I'd" for "would"."""
    word = word.replace("\u2019", "'")
    if word in words:
        return True
    if word.endswith("'ve"):
        return word[:-3] in words
    return word.endswith("'d") and "would" in words


class _Window(NamedTuple):
    """The tokens around each scored token: ids ``k`` tokens before (``t_m<k>``) and after
    (``t_p<k>``), whether that position is inside the sentence (``ok_...``; an id outside it is
    the token's own), and whether the token's sentence mixes capitals and lower case."""

    t0: np.ndarray
    t_m1: np.ndarray
    t_m2: np.ndarray
    t_m3: np.ndarray
    t_p1: np.ndarray
    t_p2: np.ndarray
    ok_m1: np.ndarray
    ok_m2: np.ndarray
    ok_m3: np.ndarray
    ok_p1: np.ndarray
    ok_p2: np.ndarray
    cap_diff: np.ndarray


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

    def __init__(self, lexicon: Mapping[str, float],
                 negated_negative: float | None = None,
                 hypothetical_weight: float | None = None,
                 hypothetical_words: Iterable[str] = (),
                 emojis: Mapping[str, str] | None = None) -> None:
        self.lexicon = dict(lexicon)
        # what a negated *negative* word's valence is multiplied by; None: VADER's own
        # N_SCALAR (-0.74, so "don't lose my bag" reads as praise). The zero-shot scorer sets
        # 0.0 (a negated complaint word is no evidence either way). Positive words are always
        # negated as VADER does ("not good" is negative).
        self.negated_negative = negated_negative
        # what a positive word's valence is multiplied by when it comes at or after one of
        # ``hypothetical_words`` in its sentence: demands and conditions ("you should get
        # better staff", "it would be great if someone answered"). None: no such rule
        # (VADER's scores exactly).
        self.hypothetical_weight = hypothetical_weight
        self.hypothetical_words = frozenset(w.lower() for w in hypothetical_words)
        # ``emojis``: emoji read as other words than VADER's descriptions of them
        emojis = {**_analyzer().emojis, **(emojis or {})}
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
        state.setdefault("negated_negative", None)  # pickled before the options existed
        state.setdefault("hypothetical_weight", None)
        state.setdefault("hypothetical_words", frozenset())
        self.__dict__.update(state)
        self._reset_memo()
        self._lock = threading.Lock()

    # --- per-token attributes ---------------------------------------------------------------

    _ATTR_NAMES = ("in_lex", "lexval", "is_boost", "boost", "upper", "neg", "is_no", "or_nor",
                   "never", "so_this", "without", "doubt", "least", "at_very", "kind", "of",
                   "but", "special", "hypothetical")
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
                *self._word_flags.get(lw, self._NO_FLAGS),
                _hypothetical_word(lw, self.hypothetical_words))

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
        arr = as_large_string(sentences)
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
        values = np.zeros(tid.size, dtype=float)
        hits = self._hits(tid, lengths)
        if hits is None:
            return values
        j, w = hits
        v = self._base_valence(w)
        v = self._preceding_words(v, w)
        values[j] = self._least(v, w)
        if self.hypothetical_weight is not None:
            values = self._hypothetical(values, tid, lengths)
        return values

    def _hypothetical(self, values: np.ndarray, tid: np.ndarray,
                      lengths: np.ndarray) -> np.ndarray:
        """Positive values at or after a hypothetical word of their sentence, weighted."""
        cue = self._attrs["hypothetical"][tid]
        if not cue.any():
            return values
        seen = np.cumsum(cue)  # cues up to and including each token, over all sentences
        starts = np.cumsum(lengths) - lengths
        sent = np.repeat(np.arange(lengths.size), lengths)
        before_sentence = seen[starts[sent]] - cue[starts[sent]]
        under = (seen - before_sentence > 0) & (values > 0)
        return np.where(under, values * self.hypothetical_weight, values)

    def _hits(self, tid: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, _Window] | None:
        """Positions of the tokens VADER scores (lexicon words other than boosters and the
        "kind" of "kind of") and their windows; None if there is none."""
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
        if j.size == 0:
            return None
        p = pos[j]
        nj = n[j]

        def at(k: int) -> tuple[np.ndarray, np.ndarray]:
            ok = (p + k >= 0) & (p + k < nj)
            return tid[np.where(ok, j + k, j)], ok

        (t_m1, ok_m1), (t_m2, ok_m2), (t_m3, ok_m3), (t_p1, ok_p1), (t_p2, ok_p2) = (
            at(k) for k in (-1, -2, -3, 1, 2))
        return j, _Window(tid[j], t_m1, t_m2, t_m3, t_p1, t_p2, ok_m1, ok_m2, ok_m3, ok_p1,
                          ok_p2, cap_diff_sent[sent[j]])

    def _base_valence(self, w: _Window) -> np.ndarray:
        """The lexicon valence after the "no" rules and the emphasis of capitals."""
        a = self._attrs
        in_lex, is_no = a["in_lex"], a["is_no"]
        lexval = a["lexval"][w.t0]
        v = lexval.copy()
        v = np.where(is_no[w.t0] & w.ok_p1 & in_lex[w.t_p1], 0.0, v)
        by_no = ((w.ok_m1 & is_no[w.t_m1]) | (w.ok_m2 & is_no[w.t_m2])
                 | (w.ok_m3 & is_no[w.t_m3] & a["or_nor"][w.t_m1]))
        v = np.where(by_no, lexval * self._n_scalar(lexval), v)
        caps = a["upper"][w.t0] & w.cap_diff
        return np.where(caps, np.where(v > 0, v + _vs.C_INCR, v - _vs.C_INCR), v)

    def _preceding_words(self, v: np.ndarray, w: _Window) -> np.ndarray:
        """Boosters, dampeners and negations one to three words back, then the idioms."""
        in_lex = self._attrs["in_lex"]
        for start_i, (tk, ok) in enumerate(((w.t_m1, w.ok_m1), (w.t_m2, w.ok_m2),
                                            (w.t_m3, w.ok_m3))):
            active = ok & ~in_lex[tk]
            v = np.where(active, v + self._booster(v, tk, w.cap_diff, start_i), v)
            v = self._negation(v, active, w, start_i)
            if start_i == 2:
                v = self._idioms(v, active, w)
        return v

    def _booster(self, v: np.ndarray, tk: np.ndarray, cap_diff: np.ndarray,
                 start_i: int) -> np.ndarray:
        """VADER's ``scalar_inc_dec`` of the word ``start_i + 1`` tokens back, damped with the
        distance (0 for a word that is no booster)."""
        a = self._attrs
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
        return scalar

    def _negation(self, v: np.ndarray, active: np.ndarray, w: _Window,
                  start_i: int) -> np.ndarray:
        """VADER's ``_negation_check`` for the word ``start_i + 1`` tokens back ("never so"
        boosts, "without doubt" keeps the sign)."""
        a = self._attrs
        never, so_this, without, doubt, neg = (a["never"], a["so_this"], a["without"],
                                               a["doubt"], a["neg"])
        if start_i == 0:
            return np.where(active & neg[w.t_m1], v * self._n_scalar(v), v)
        if start_i == 1:
            boost_125 = never[w.t_m2] & so_this[w.t_m1]
            keep = without[w.t_m2] & doubt[w.t_m1]
            flip = neg[w.t_m2] & ~boost_125 & ~keep
        else:
            boost_125 = (never[w.t_m3] & so_this[w.t_m2]) | so_this[w.t_m1]
            keep = without[w.t_m3] & (doubt[w.t_m2] | doubt[w.t_m1])
            flip = neg[w.t_m3] & ~boost_125 & ~keep
        v = np.where(active & boost_125, v * 1.25, v)
        return np.where(active & flip, v * self._n_scalar(v), v)

    def _n_scalar(self, v: np.ndarray) -> np.ndarray | float:
        """The factor negation multiplies the valences ``v`` by."""
        if self.negated_negative is None:
            return _vs.N_SCALAR
        return np.where(v < 0, self.negated_negative, _vs.N_SCALAR)

    def _least(self, v: np.ndarray, w: _Window) -> np.ndarray:
        """VADER's ``_least_check``: "least" before a word negates it, "at least" does not."""
        a = self._attrs
        least_m1 = ~a["in_lex"][w.t_m1] & a["least"][w.t_m1]
        first = w.ok_m2 & least_m1
        v = np.where(first & ~a["at_very"][w.t_m2], v * _vs.N_SCALAR, v)
        return np.where(~first & w.ok_m1 & least_m1, v * _vs.N_SCALAR, v)

    def _idioms(self, v: np.ndarray, active: np.ndarray, w: _Window) -> np.ndarray:
        """VADER's ``_special_idioms_check`` and booster n-grams, where ``active`` (the word
        three tokens back is no lexicon word)."""
        code = self._attrs["special"]
        c0, c_m1, c_m2, c_m3, c_p1, c_p2 = (code[w.t0], code[w.t_m1], code[w.t_m2],
                                            code[w.t_m3], code[w.t_p1], code[w.t_p2])
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
        for seq, ok in (((c0, c_p1), w.ok_p1), ((c0, c_p1, c_p2), w.ok_p2)):
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
