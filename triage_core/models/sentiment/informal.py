"""Informal text made readable for the lexicon: ``InformalText``.

Chat messages and social-media posts carry sentiment in forms a word lexicon misses:

- hashtags that join words (``#nothappy``, ``#badcustomerservice``) are split into words when
  one of them carries sentiment or is a negation (``not happy``, ``bad customer service``);
- letters repeated for emphasis (``sloooow``, ``sooo baaad``) are squeezed to the lexicon's
  word, a booster or a negation when there is one (``slow``, ``so bad``);
- words joined by an ellipsis (``tried...nothing works``) are separated.

Splitting uses the vocabulary of the shipped WordPiece tokenizer (its whole English words of
three or more letters, and a few common shorter ones) plus the sentiment lexicon: the split
with the fewest words wins. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from vaderSentiment.vaderSentiment import BOOSTER_DICT

from triage_core.models.embeddings import DATA_DIR

__all__ = ["InformalText"]

_HASHTAG = re.compile(r"(?<![\w#])#([A-Za-z]{4,40})\b")
# a word of at most 40 letters with a letter three times in a row (longer runs of letters are
# no word, and bounding them keeps a megabyte of "aaaa..." linear and cheap)
_ELONGATED = re.compile(r"\b(?=[A-Za-z]{3,40}\b)[A-Za-z]*?([A-Za-z])\1\1[A-Za-z]*")
_RUN = re.compile(r"([A-Za-z])\1{2,}")
_ELLIPSIS = r"(\.{2,}|…)([A-Za-z])"
_ELLIPSIS_PY = re.compile(_ELLIPSIS)
# RE2 (no back-references): a letter three times in a row, or a hashtag of 4+ letters
_MAYBE = "(?i)#[a-z]{4}|" + "|".join(c * 3 for c in "abcdefghijklmnopqrstuvwxyz")
_NEGATIONS = frozenset({"not", "no", "never", "dont", "cant", "wont", "nothing", "nobody"})
_LONGEST_PIECE = 20
# Longer texts are left as they are: informal writing is short, and a hostile megabyte of
# hashtags or ellipses would otherwise cost several times the scoring itself.
MAX_CHARS = 20_000
# the only words of one or two letters a hashtag is split into (else "apostrophefail" would
# become "ap os tr op he fail")
_SHORT_WORDS = frozenset({"a", "i", "am", "an", "as", "at", "be", "by", "do", "go", "he", "if",
                          "in", "is", "it", "me", "my", "no", "of", "ok", "on", "or", "so",
                          "to", "up", "us", "we"})


@functools.cache
def _vocabulary() -> frozenset[str]:
    """Whole words of the shipped WordPiece vocabulary (letters only, 2+ letters, or a / i)."""
    vocab = json.loads((DATA_DIR / "wordpiece_tokenizer.json").read_text())["model"]["vocab"]
    return frozenset(w for w in vocab
                     if w.isascii() and w.isalpha() and (len(w) > 2 or w in _SHORT_WORDS))


class InformalText:
    """Normalizes informal text for a lexicon (a mapping of lower-case words to valences)."""

    def __init__(self, lexicon: Mapping[str, float]) -> None:
        self._lexicon = frozenset(w for w in lexicon if w.isascii() and w.isalpha()
                                  and (len(w) > 2 or w in _SHORT_WORDS))
        self._words: frozenset[str] | None = None
        # what an elongated word may be squeezed to: a sentiment word, a booster ("sooo"),
        # a negation ("nooo")
        self._squeezable = self._lexicon | _NEGATIONS | {w for w in BOOSTER_DICT if " " not in w}

    # --- hashtags ---------------------------------------------------------------------------

    @functools.lru_cache(maxsize=4096)  # noqa: B019 -- one instance per scorer, kept for good
    def split_hashtag(self, tag: str) -> tuple[str, ...] | None:
        """The words of a hashtag body (``nothappy`` -> ``("not", "happy")``): the split into
        the fewest known words, or None when it is one word, cannot be split, or no part of
        it carries sentiment."""
        word = tag.lower()
        if self._words is None:
            self._words = _vocabulary() | self._lexicon
        words = self._words
        if word in words:
            return None
        n = len(word)
        best: list[tuple[str, ...] | None] = [None] * (n + 1)
        best[0] = ()
        for end in range(1, n + 1):
            for start in range(max(0, end - _LONGEST_PIECE), end):
                head, known = best[start], best[end]
                if (head is not None and word[start:end] in words
                        and (known is None or len(head) + 1 < len(known))):
                    best[end] = (*head, word[start:end])
        parts = best[n]
        if parts is None or len(parts) < 2:
            return None
        if not any(p in self._lexicon or p in _NEGATIONS for p in parts):
            return None
        return parts

    def _hashtag(self, match: re.Match[str]) -> str:
        parts = self.split_hashtag(match.group(1))
        return match.group(0) if parts is None else " ".join(parts)

    # --- elongation -------------------------------------------------------------------------

    def _squeeze(self, match: re.Match[str]) -> str:
        return self.squeeze(match.group(0))

    @functools.lru_cache(maxsize=4096)  # noqa: B019 -- one instance per scorer, kept for good
    def squeeze(self, word: str) -> str:
        """``sloooow`` -> ``slow`` when the squeezed word is known, else the word as it is."""
        if word.lower() in self._squeezable:
            return word
        for repl in (r"\1\1", r"\1"):
            squeezed = _RUN.sub(repl, word)
            if squeezed.lower() in self._squeezable:
                return squeezed
        return word

    # --- texts ------------------------------------------------------------------------------

    def normalize(self, text: str) -> str:
        """One text, normalized (one longer than ``MAX_CHARS`` as it is)."""
        if len(text) > MAX_CHARS:
            return text
        text = _ELLIPSIS_PY.sub(r"\1 \2", text)
        if "#" in text:
            text = _HASHTAG.sub(self._hashtag, text)
        return _ELONGATED.sub(self._squeeze, text)

    def normalize_array(self, arr: pa.Array) -> pa.Array:
        """Many texts (a pyarrow string array): RE2 separates ellipses everywhere and finds the
        few rows with a hashtag or a letter three times in a row; only those go through
        Python. Texts longer than ``MAX_CHARS`` stay as they are."""
        short = pc.less_equal(pc.utf8_length(arr), MAX_CHARS).to_numpy(zero_copy_only=False)
        if not short.all():
            done = self.normalize_array(arr.filter(pa.array(short)))
            return pc.replace_with_mask(arr, pa.array(short), done)
        arr = pc.replace_substring_regex(arr, pattern=_ELLIPSIS, replacement=r"\1 \2")
        rows = np.flatnonzero(pc.match_substring_regex(arr, pattern=_MAYBE)
                              .to_numpy(zero_copy_only=False))
        if rows.size == 0:
            return arr
        take = pa.array(rows)
        fixed = [self.normalize(t) for t in arr.take(take).to_pylist()]
        mask = np.zeros(len(arr), dtype=bool)
        mask[rows] = True
        return pc.replace_with_mask(arr, pa.array(mask), pa.array(fixed, type=arr.type))
