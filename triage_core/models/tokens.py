"""Tokens of ticket texts, found in NumPy and looked up by hash (for ``features``).

Text is NFKC-normalized, lower-cased and every digit becomes ``0`` (unless ``keep_digits``:
then "error 404" and "error 500" stay apart); its tokens are
``\\w+|[^\\w\\s]`` (``TOKEN``). :func:`token_spans` finds the tokens of a batch in NumPy,
:func:`span_hashes` gives each a 64-bit hash of its code points, and :class:`HashTable` looks
those up among a vocabulary's hashes, so only words outside the vocabulary ever become Python
strings. The result is exactly that of the regular expression, one text at a time
(:func:`tokenize`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["TOKEN", "HashTable", "normalize", "span_hashes", "token_spans", "tokenize",
           "tokenize_many"]

TOKEN = re.compile(r"\w+|[^\w\s]")
_DIGIT = re.compile(r"\d")


def normalize(text: str, max_chars: int, keep_digits: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text[:max_chars]).lower()
    return text if keep_digits else _DIGIT.sub("0", text)


def tokenize(text: str, max_chars: int, keep_digits: bool = False) -> list[str]:
    """The tokens of one text, one at a time (what :func:`tokenize_many` gives each text)."""
    return TOKEN.findall(normalize(text, max_chars, keep_digits))


# What each ASCII character becomes (lower case, digits 0) and its class for ``TOKEN``:
# 0 = whitespace (\s), 1 = word character (\w), 2 = any other character (a token of its own).
_ASCII_MAP = np.array([ord(_DIGIT.sub("0", chr(c).lower())) for c in range(128)], np.uint32)
_SPACE, _WORD, _OTHER = 0, 1, 2


def _char_class(c: str) -> int:
    """A character's class, as ``re``'s \\w and \\s see it in a str pattern."""
    if c.isalnum() or c == "_":
        return _WORD
    return _SPACE if c.isspace() else _OTHER


_BMP_MAP = np.arange(65536, dtype=np.uint32)
_BMP_MAP[:128] = _ASCII_MAP
_BMP_MAP_DIGITS = _BMP_MAP.copy()  # the same, digits kept
_BMP_MAP_DIGITS[48:58] = np.arange(48, 58, dtype=np.uint32)
_CLASS_MEMO: dict[int, int] = {}  # classes of the code points above the BMP seen so far


@functools.cache
def _bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """The class of every code point of the Basic Multilingual Plane, and a pseudo-random
    64-bit value of each for ``span_hashes`` (0 for whitespace, which no token holds, so a
    span's sum may run on over the blanks after it); made on first use."""
    classes = np.array([_char_class(chr(c)) for c in range(65536)], np.uint8)
    values = _code_values(np.arange(65536, dtype=np.uint32))
    values[classes == _SPACE] = 0
    return classes, values


def _normalized_classes(cp: np.ndarray, keep_digits: bool = False
                        ) -> tuple[np.ndarray, np.ndarray]:
    """ASCII code points lowered and digits made 0 (unless ``keep_digits``), and the class of
    every code point."""
    low = cp & 0xFFFF
    out = (_BMP_MAP_DIGITS if keep_digits else _BMP_MAP)[low]
    cls = _bmp_tables()[0][low]
    high = np.flatnonzero(cp > 0xFFFF)
    if high.size:  # above the BMP: kept as they are (no upper case, no digit), classed by str
        out[high] = cp[high]
        uniq, inv = np.unique(cp[high], return_inverse=True)
        if len(_CLASS_MEMO) > 100_000:
            _CLASS_MEMO.clear()
        got = []
        for c in uniq.tolist():
            if c not in _CLASS_MEMO:
                _CLASS_MEMO[c] = _char_class(chr(c))
            got.append(_CLASS_MEMO[c])
        cls[high] = np.array(got, np.uint8)[inv.ravel()]
    return out, cls


class _Spans(NamedTuple):
    """Tokens of many texts as spans of one array of code points."""

    cp: np.ndarray  # uint32 code points of the normalized texts, one blank between texts
    starts: np.ndarray  # int64 position of each token's first code point, ascending
    lengths: np.ndarray  # int64 code points in each token
    counts: np.ndarray  # int64 tokens of each text

    def token(self, i: int) -> str:
        s = int(self.starts[i])
        return self.cp[s:s + int(self.lengths[i])].tobytes().decode("utf-32-le", "surrogatepass")


def token_spans(texts: Sequence[str], max_chars: int, keep_digits: bool = False) -> _Spans:
    """The tokens of many texts at once: exactly ``tokenize`` of each text (NFKC, lower case,
    digits 0, ``\\w+|[^\\w\\s]``), with the regular expression's walk done over the code
    points of all texts together in NumPy. ASCII texts need no Python step at all; the
    others are normalized one by one first."""
    n = len(texts)
    prepared = [t[:max_chars] if t.isascii() else normalize(t, max_chars, keep_digits)
                for t in texts]
    # one blank between texts, so no token runs from one text into the next
    cp = np.frombuffer(" ".join(prepared).encode("utf-32-le", "surrogatepass"), np.uint32)
    cp, cls = _normalized_classes(cp, keep_digits)
    word = cls == _WORD
    other = cls == _OTHER
    first = other.copy()  # a word's first character, or a punctuation character
    last = other.copy()  # a word's last character, or a punctuation character
    if len(cp):
        first[0] |= word[0]
        first[1:] |= word[1:] & ~word[:-1]
        last[-1] |= word[-1]
        last[:-1] |= word[:-1] & ~word[1:]
    starts = np.flatnonzero(first)
    lengths = np.flatnonzero(last) - starts + 1
    ends = np.cumsum(np.fromiter(map(len, prepared), np.int64, count=n) + 1)
    counts = np.diff(np.searchsorted(starts, ends), prepend=0).astype(np.int64)
    return _Spans(cp, starts, lengths, counts)


def tokenize_many(texts: Sequence[str], max_chars: int, keep_digits: bool = False
                  ) -> tuple[list[str], np.ndarray]:
    """``token_spans`` as strings: all tokens, flat, and how many each text has."""
    spans = token_spans(texts, max_chars, keep_digits)
    return [spans.token(i) for i in range(len(spans.starts))], spans.counts


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer, elementwise (a bijection of uint64; wraps around)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _code_values(cp: np.ndarray) -> np.ndarray:
    return _mix64(cp.astype(np.uint64) * _GOLDEN + np.uint64(1))


def _values(cp: np.ndarray) -> np.ndarray:
    """``_code_values`` of each code point, but 0 for whitespace."""
    out = _bmp_tables()[1][cp & 0xFFFF]
    high = cp > 0xFFFF
    if high.any():  # no whitespace up there
        out[high] = _code_values(cp[high])
    return out


def span_hashes(cp: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each span ``cp[start:start + length]``: the sum of a pseudo-random
    value of each code point times an odd pseudo-random factor of its place in the span,
    mixed with the span's length. Equal spans hash alike; two different ones collide with a
    chance of about 2**-64. Spans are ascending and non-empty, and only whitespace lies
    between one span and the next (tokens; or words laid end to end)."""
    if len(starts) == 0:
        return np.zeros(0, np.uint64)
    size = len(cp)
    index = np.int32 if size < 2**31 else np.int64
    at = np.zeros(size, index)
    at[starts] = starts
    place = np.arange(size, dtype=index) - np.maximum.accumulate(at)
    longest = int(lengths.max())
    np.minimum(place, longest - 1, out=place)  # blanks between spans: any place will do
    factors = _mix64(np.arange(longest, dtype=np.uint64) + _GOLDEN) | np.uint64(1)
    values = _values(cp) * factors[place]
    sums = np.add.reduceat(values, starts)
    return _mix64(sums + lengths.astype(np.uint64) * _GOLDEN)


class HashTable(NamedTuple):
    """Open addressing (linear probing, at most a quarter full) from 64-bit hashes to ids."""

    keys: np.ndarray  # uint64 hash in each slot
    ids: np.ndarray  # int64 id in each slot, -1 for an empty slot
    lengths: np.ndarray  # int64 length of the token in each slot
    shift: np.uint64  # a hash's home slot is its top bits

    @classmethod
    def build(cls, hashes: np.ndarray, lengths: np.ndarray) -> HashTable | None:
        """The table of ids 0..n-1 by their hashes; None if two hashes are equal."""
        if len(np.unique(hashes)) < len(hashes):
            return None
        bits = max(4, int(len(hashes) * 4 - 1).bit_length())
        size = 1 << bits
        keys = np.zeros(size, np.uint64)
        ids = np.full(size, -1, np.int64)
        slot_lengths = np.zeros(size, np.int64)
        shift = np.uint64(64 - bits)
        todo = np.arange(len(hashes), dtype=np.int64)
        pos = (hashes >> shift).astype(np.int64)
        while len(todo):
            free = ids[pos] < 0
            # of the ids wanting the same free slot, the first takes it
            slots, first = np.unique(pos[free], return_index=True)
            taken = np.flatnonzero(free)[first]
            ids[slots] = todo[taken]
            keys[slots] = hashes[todo[taken]]
            slot_lengths[slots] = lengths[todo[taken]]
            rest = np.ones(len(todo), bool)
            rest[taken] = False
            todo = todo[rest]
            pos = (pos[rest] + 1) & (size - 1)
        return cls(keys, ids, slot_lengths, shift)

    def find(self, hashes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The id of each hash whose token has that length, else -1."""
        out = np.full(len(hashes), -1, np.int64)
        todo = np.arange(len(hashes), dtype=np.int64)
        pos = (hashes >> self.shift).astype(np.int64)
        mask = len(self.ids) - 1
        while len(todo):
            slot_ids = self.ids[pos]
            hit = (self.keys[pos] == hashes[todo]) & (slot_ids >= 0)
            found = hit & (self.lengths[pos] == lengths[todo])
            out[todo[found]] = slot_ids[found]
            going = ~hit & (slot_ids >= 0)  # an occupied slot of another hash: probe on
            todo = todo[going]
            pos = (pos[going] + 1) & mask
        return out
