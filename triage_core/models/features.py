"""Ticket text features for the category classifier (``TicketFeatures``).

Blocks, each L2-normalized on its own (the sparse ones TF-IDF weighted: sublinear tf, smooth
idf):

* words: unigrams and bigrams;
* skip-grams: ordered word pairs 2..``skip_window`` tokens apart ("card ... arrived"), which
  catch intents phrased with words in between;
* characters: n-grams of each word padded with spaces (like ``char_wb``), for typos, inflections
  and unseen words. They are computed as ``word counts @ (word x n-gram matrix)``, so a text
  costs a tokenization and a few sparse products instead of a Python loop over its characters;
* meaning (``semantic_weight`` > 0, on by default): the idf-weighted mean of the text's word
  vectors, which ``embeddings`` distills from a sentence encoder and the package ships, so that
  words never seen in training ("reimbursement") still count like their neighbours ("refund").
  It is one dense, L2-normalized block of 256 numbers.
* strongest meanings (``semantic_max_weight`` > 0, on by default): per dimension, the largest
  value among the vectors of the text's words (max pooling), centered on the training texts'
  and L2-normalized. The mean blurs a short text's one telling word among the others; the
  maximum keeps it (banking77 train split, 3-fold CV with two fold seeds: accuracy
  0.911 -> 0.915 and 0.909 -> 0.912). Punctuation and words without a vector take no part.

Text is NFKC-normalized, lower-cased and every digit becomes ``0``; a batch's tokens are found
and looked up in the vocabulary by :mod:`triage_core.models.tokens`. The parameters'
defaults are those of the packaged ``[classifier]`` section
(``config/defaults/classifier.toml``).
"""

from __future__ import annotations

import itertools
import math
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

from triage_core.config import Checker, section
from triage_core.errors import ModelError
from triage_core.models import packing
from triage_core.models.embeddings import load_word_vectors, word_vectors
from triage_core.models.estimator import Estimator
from triage_core.models.tokens import TOKEN, HashTable, normalize, span_hashes, token_spans

__all__ = ["FEATURE_PARAMS", "SKIP_MARK", "Blocks", "TicketFeatures", "as_text", "as_texts",
           "check_feature_params", "is_wordlike", "to_python"]

_WORDLIKE = re.compile(r"\w")
_MAX_WORD_CHARS = 30  # character n-grams look at the first 30 characters of a word
SKIP_MARK = " … "  # joins the two words of a skip-gram's name
# Vocabulary word vectors of each fitted TicketFeatures (derived data: never saved with it).
_VOCAB_VECTORS: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()
# The vocabulary's token hashes, likewise (see TicketFeatures._hash_table).
_VOCAB_HASHES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
# Which vocabulary words max pooling reads, likewise (see TicketFeatures._poolable).
_VOCAB_POOLED: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()
# The character n-grams of the vocabulary's words in float32, likewise (see
# TicketFeatures._word_ngrams32): with the fitted object's matrix they were made from.
_NGRAMS32: weakref.WeakKeyDictionary[Any, tuple[Any, Any]] = weakref.WeakKeyDictionary()
_POOL_CHUNK = 32768  # word vectors gathered at once by max pooling (32 MB of float32)


# ------------------------------------------------------------------------------------------
# Input coercion
# ------------------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float | np.floating) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# A word of the lead (``lead_words``) is cut to this many characters: a URL, a token or a text
# without spaces (Chinese, Japanese) is not copied whole.
LEAD_WORD_CHARS = 30


def as_texts(X: Any, subject_weight: int = 1, clean: bool = False,
             lead_words: int = 0) -> list[str]:
    """Texts from a sequence/Series of strings, or a DataFrame with subject and body columns.

    None/NaN become "". A DataFrame's subject is cleaned and joined to its cleaned body like
    ``text.ticket_text_series`` does, with the subject repeated ``subject_weight`` times. Plain
    texts are taken as that join's output: with ``clean`` they go through ``clean_body``
    first (quoted replies, signatures, greetings), and the first line of a text of several
    lines (the subject) is repeated ``subject_weight`` times. With ``lead_words`` > 0 the
    text's first that many words (the subject and the start of the body, or the title of a
    ticket whose fields were joined into one) are put once more before it.
    """
    texts = _raw_texts(X, subject_weight)
    if not (isinstance(X, pd.DataFrame) and {"subject", "body"} <= set(X.columns)):
        # (a DataFrame's subject and body are already cleaned and joined, the subject repeated)
        if clean:
            texts = _clean(texts)
        if subject_weight > 1:
            texts = [_repeat_head(t, subject_weight) for t in texts]
    if lead_words > 0:
        texts = [_lead(t, lead_words) for t in texts]
    return texts


def _lead(text: str, words: int) -> str:
    """The text's first ``words`` words (split at white space, each cut to ``LEAD_WORD_CHARS``
    characters; a subject repeated for ``subject_weight`` is read once), a line break, the
    text."""
    first, sep, rest = text.partition("\n")
    while sep and first and (rest == first or rest.startswith(first + "\n")):
        rest = rest[len(first) + 1:]  # a repetition of the subject
    head = [w[:LEAD_WORD_CHARS] for w in f"{first} {rest}".split(maxsplit=words)[:words]]
    return " ".join(head) + "\n" + text if head else text


def _clean(texts: list[str]) -> list[str]:
    """``clean_body`` over each text, then over all but its first line (the subject, whose
    body may start with a greeting of its own)."""
    from triage_core.text import clean_body_series

    once = clean_body_series(pd.Series(texts, dtype=object)).tolist()
    heads, _, rests = zip(*(t.partition("\n") for t in once), strict=True) if once else ((),) * 3
    bodies = clean_body_series(pd.Series(rests, dtype=object)).tolist()
    return [f"{h}\n{b}" if b else h for h, b in zip(heads, bodies, strict=True)]


def _repeat_head(text: str, times: int) -> str:
    head, sep, rest = text.partition("\n")
    return "\n".join([head] * times + [rest]) if sep and head and rest else text


def _raw_texts(X: Any, subject_weight: int) -> list[str]:
    if isinstance(X, str):
        raise ModelError("expected a list of texts, got a single string (wrap it in a list)")
    if isinstance(X, pd.DataFrame):
        cols = set(X.columns)
        if {"subject", "body"} <= cols:
            from triage_core.text import ticket_text_series

            blank = [""] * len(X)
            subjects = ticket_text_series(X["subject"].map(as_text), blank)
            bodies = ticket_text_series(blank, X["body"].map(as_text))
            return ["\n".join([s] * subject_weight * bool(s) + [b] * bool(b))
                    for s, b in zip(subjects.map(as_text), bodies.map(as_text), strict=True)]
        if "text" in cols:
            return [as_text(v) for v in X["text"].tolist()]
        if X.shape[1] == 1:
            return [as_text(v) for v in X.iloc[:, 0]]
        raise ModelError("a DataFrame of tickets needs 'subject' and 'body' columns, or 'text'")
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 1:
            raise ModelError(f"expected one column of texts, got an array of shape {X.shape}")
        X = X[:, 0]
    if isinstance(X, pd.Series):
        X = X.tolist()  # in one step: iterating an Arrow-backed column costs 1 us a value
    try:
        return [as_text(v) for v in X]
    except TypeError:
        raise ModelError(f"expected a list of texts, got {type(X).__name__}") from None


def _char_ngrams(word: str, lo: int, hi: int) -> list[str]:
    """n-grams of `` word `` (padded with spaces) for n in lo..hi; a short word gives itself."""
    w = f" {word[:_MAX_WORD_CHARS]} "
    size = len(w)
    return [w[i:i + n] for n in range(lo, hi + 1) for i in range(max(size - n + 1, 1))]


# ------------------------------------------------------------------------------------------
# Features
# ------------------------------------------------------------------------------------------


class _Parsed(NamedTuple):
    """Tokens of a batch: ``ids`` (vocabulary id, or V + j for the j-th unknown word)."""

    n_docs: int
    ids: np.ndarray  # int64, one per token, in document order
    doc: np.ndarray  # int64 document index of each token
    unknown: list[str]  # words outside the vocabulary, in order of their extended id


class Blocks(NamedTuple):
    words: sparse.csr_matrix
    chars: sparse.csr_matrix
    skips: sparse.csr_matrix
    semantic: np.ndarray  # docs x dims float32, weighted (docs x 0 when the block is off)
    semantic_max: np.ndarray  # docs x dims float32, weighted max pooling (docs x 0 when off)
    word_counts: sparse.csr_matrix  # docs x (V + unknown) raw token counts
    char_counts: sparse.csr_matrix  # raw n-gram counts, same structure as ``chars``
    word_ngrams: sparse.csr_matrix  # (V + unknown) x n-grams
    unknown: list[str]  # words outside the vocabulary (extended ids V, V + 1, ...)
    semantic_scale: np.ndarray  # per doc: weight / (sum of word weights * vector norm)
    word_weights: sparse.csr_matrix  # word counts * idf, same structure as ``word_counts``
    unknown_vectors: np.ndarray  # unknown x dims: word vectors of the unknown words
    semantic_max_scale: np.ndarray  # per doc: weight / norm of the centered max pooling


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and the length of each run."""
    if len(sorted_values) == 0:
        return sorted_values, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    return sorted_values[starts], np.diff(np.r_[starts, len(sorted_values)])


def _count_matrix(docs: np.ndarray, keys: np.ndarray, n_docs: int,
                  vocab_keys: np.ndarray | None = None, n_cols: int = 0) -> sparse.csr_matrix:
    """Document x feature counts of integer ``keys``.

    The feature of a key is its position in the sorted ``vocab_keys`` (keys outside it are
    dropped), or the key itself (< n_cols) when ``vocab_keys`` is None. One sort of the
    key-major (key, doc) pairs gives the counts and sorted lookups. (Sorting beats
    ``np.unique``, whose hashing is very slow on these structured keys.)
    """
    if len(keys) and int(keys.max()) >= (2**62) // max(n_docs, 1):
        raise ModelError(f"too many texts in one batch ({n_docs}); predict in smaller batches")
    uniq, counts = _runs(np.sort(keys * n_docs + docs))
    key, doc = np.divmod(uniq, n_docs)
    if vocab_keys is None:
        cols = key
    else:
        n_cols = len(vocab_keys)
        cols = np.searchsorted(vocab_keys, key)
        cols[cols >= n_cols] = 0
        hit = vocab_keys[cols] == key if n_cols else np.zeros(len(key), bool)
        doc, cols, counts = doc[hit], cols[hit], counts[hit]
    return sparse.csr_matrix((counts.astype(np.float64), (doc, cols)), shape=(n_docs, n_cols))


# 1 + log(count) of the counts 1..1024 (index = count): most counts are small whole numbers,
# and a lookup costs a fraction of a logarithm
_SUBLINEAR = np.concatenate([[0.0], np.log(np.arange(1, 1025)) + 1.0]).astype(np.float32)


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray, weight: float) -> sparse.csr_matrix:
    """Sublinear tf * idf, rows L2-normalized, times the block weight (same structure), in
    float32 (the precision the classifier uses)."""
    whole = counts.data.astype(np.int32)  # counts: whole numbers >= 1
    if whole.size and whole.max() < len(_SUBLINEAR):
        data = _SUBLINEAR[whole]
    else:
        data = (np.log(counts.data) + 1.0).astype(np.float32)
    data *= idf.astype(np.float32)[counts.indices]
    sq = np.zeros(counts.shape[0], np.float32)
    lengths = np.diff(counts.indptr)
    nonempty = lengths > 0
    if data.size:
        sq[nonempty] = np.add.reduceat(data * data, counts.indptr[:-1][nonempty])
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    data *= np.repeat((weight / norms).astype(np.float32), lengths)
    return sparse.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)


def _idf(counts: sparse.csr_matrix) -> np.ndarray:
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((1 + n) / (1 + df)) + 1.0


_MAX_BLOCK_WEIGHT = 1e6  # a block's weight: relative, about 1 (features are float32)
FEATURE_PARAMS = ("char_ngram_range", "skip_window", "word_weight", "char_weight",
                  "skip_weight", "pair_min_df", "max_pair_features", "max_chars",
                  "semantic_weight", "semantic_max_weight", "keep_digits")


def to_python(value: Any) -> Any:
    """A numpy scalar (e.g. from a parameter search) as the Python number it holds."""
    return value.item() if isinstance(value, np.generic) else value


def check_feature_params(params: Mapping[str, Any], check: Checker) -> dict[str, Any]:
    """The ``FEATURE_PARAMS`` of ``params``, validated (``char_ngram_range`` as a tuple)."""
    rng = params["char_ngram_range"]
    if (not isinstance(rng, Sequence) or len(rng) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in rng)
            or not 1 <= rng[0] <= rng[1] <= 8):
        check.fail(f"char_ngram_range must be [low, high] with 1 <= low <= high <= 8, "
                   f"got {rng!r}")
    out: dict[str, Any] = {"char_ngram_range": tuple(rng)}
    for key, lowest in (("skip_window", 1), ("pair_min_df", 1), ("max_pair_features", 0),
                        ("max_chars", 100)):
        out[key] = check.integer(to_python(params[key]), key, lo=lowest)
    for key in ("word_weight", "char_weight", "skip_weight", "semantic_weight",
                "semantic_max_weight"):
        # at most 1e6: the features are float32 (a weight of 1e39 overflowed to infinity)
        out[key] = check.number(to_python(params[key]), key, lo=0, hi=_MAX_BLOCK_WEIGHT)
    out["keep_digits"] = check.flag(to_python(params["keep_digits"]), "keep_digits")
    return {key: out[key] for key in FEATURE_PARAMS}


# the packaged [classifier] section's values: the defaults of TicketFeatures' parameters
_DEFAULTS = check_feature_params(section("classifier"), Checker("classifier"))


# Vocabularies (token -> column) kept packed in a saved model's state (models/packing.py).
_PACKED = ("vocabulary_", "ngram_vocabulary_")


class TicketFeatures(Estimator):
    """Texts -> [word 1-2 grams | character n-grams | skip-grams] TF-IDF blocks (CSR).

    Word pairs (bigrams and skip-grams) seen in fewer than ``pair_min_df`` training texts are
    dropped, and at most ``max_pair_features`` of each kind (the most frequent) are kept.

    With ``semantic_weight`` > 0 a fourth, dense block follows: the idf-weighted mean of the
    text's word vectors (``embeddings``: distilled from a sentence encoder, shipped with the
    package), centered on the training texts' mean and L2-normalized. Words never seen in
    training still get a vector there, so a ticket saying "reimbursement" lands near the
    tickets that said "refund". With ``semantic_max_weight`` > 0 a fifth follows: the largest
    value of each dimension among the vectors of the text's words, centered on the training
    texts' and L2-normalized (0 for a text without words).
    """

    def __init__(self, char_ngram_range: tuple[int, int] = _DEFAULTS["char_ngram_range"],
                 skip_window: int = _DEFAULTS["skip_window"],
                 word_weight: float = _DEFAULTS["word_weight"],
                 char_weight: float = _DEFAULTS["char_weight"],
                 skip_weight: float = _DEFAULTS["skip_weight"],
                 pair_min_df: int = _DEFAULTS["pair_min_df"],
                 max_pair_features: int = _DEFAULTS["max_pair_features"],
                 max_chars: int = _DEFAULTS["max_chars"],
                 semantic_weight: float = _DEFAULTS["semantic_weight"],
                 semantic_max_weight: float = _DEFAULTS["semantic_max_weight"],
                 keep_digits: bool = _DEFAULTS["keep_digits"]) -> None:
        self.char_ngram_range = char_ngram_range
        self.skip_window = skip_window
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.skip_weight = skip_weight
        self.pair_min_df = pair_min_df
        self.max_pair_features = max_pair_features
        self.max_chars = max_chars
        self.semantic_weight = semantic_weight
        self.semantic_max_weight = semantic_max_weight
        self.keep_digits = keep_digits

    def __getstate__(self) -> dict[str, Any]:
        return packing.pack_state(super().__getstate__(), _PACKED)

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("semantic_weight", 0.0)  # saved before the semantic block existed
        state.setdefault("semantic_max_weight", 0.0)  # saved before max pooling existed
        state.setdefault("keep_digits", False)  # saved when every digit became 0
        super().__setstate__(packing.unpack_state(state, _PACKED))

    # -- parsing -----------------------------------------------------------------------------

    def _tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return [TOKEN.findall(normalize(t, self.max_chars, self.keep_digits)) for t in texts]

    def _parse(self, tokens: list[list[str]]) -> _Parsed:
        vocab = self.vocabulary_
        flat = list(itertools.chain.from_iterable(tokens))
        ids = np.fromiter(map(vocab.get, flat, itertools.repeat(-1)), dtype=np.int64,
                          count=len(flat))
        lengths = np.fromiter((len(d) for d in tokens), dtype=np.int64, count=len(tokens))
        doc = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        unknown: dict[str, int] = {}
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            v = len(vocab)
            ids[missing] = [v + unknown.setdefault(flat[i], len(unknown)) for i in missing]
        return _Parsed(len(tokens), ids, doc, list(unknown))

    def _parse_texts(self, texts: list[str]) -> _Parsed:
        """``_parse(_tokenize(texts))`` without a Python string per token: ``token_spans``
        finds the tokens and ``span_hashes`` looks them up in the vocabulary."""
        table = self._hash_table()
        if table is None:  # two vocabulary words share a hash (never seen): look up by name
            return self._parse(self._tokenize(texts))
        spans = token_spans(texts, self.max_chars, self.keep_digits)
        h = span_hashes(spans.cp, spans.starts, spans.lengths)
        ids = table.find(h, spans.lengths)
        n = len(texts)
        doc = np.repeat(np.arange(n, dtype=np.int64), spans.counts)
        missing = np.flatnonzero(ids < 0)
        unknown: list[str] = []
        if len(missing):
            _, first, inverse = np.unique(h[missing], return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")  # by first occurrence, as _parse numbers
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            ids[missing] = len(self.vocabulary_) + rank[inverse.ravel()]
            unknown = [spans.token(int(missing[first[j]])) for j in order]
        return _Parsed(n, ids, doc, unknown)

    def _hash_table(self) -> HashTable | None:
        """The vocabulary by token hash, made once per fitted object; None if two words
        share a hash."""
        if self in _VOCAB_HASHES:
            return _VOCAB_HASHES[self]
        words = self.words()
        lengths = np.fromiter(map(len, words), np.int64, count=len(words))
        cp = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), np.uint32)
        table = HashTable.build(span_hashes(cp, np.cumsum(lengths) - lengths, lengths),
                                 lengths)
        _VOCAB_HASHES[self] = table
        return table

    def _pairs(self, parsed: _Parsed, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Keys a * V + b of known-word pairs (a, b) that are lo..hi tokens apart."""
        v = len(self.vocabulary_)
        ids, doc = parsed.ids, parsed.doc
        keys, docs = [], []
        for d in range(lo, min(hi, len(ids) - 1) + 1):
            a, b = ids[:-d], ids[d:]
            ok = (doc[:-d] == doc[d:]) & (a < v) & (b < v)
            keys.append(a[ok] * v + b[ok])
            docs.append(doc[:-d][ok])
        if not keys:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(keys), np.concatenate(docs)

    def _skip_pairs(self, parsed: _Parsed) -> tuple[np.ndarray, np.ndarray]:
        """The skip-gram keys, or none when the block weighs nothing (``skip_weight`` 0, as in
        the plain TF-IDF configuration): its features could only ever be zero."""
        if self.skip_weight == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return self._pairs(parsed, 2, self.skip_window)

    def _select_pairs(self, keys: np.ndarray, docs: np.ndarray, n_docs: int) -> np.ndarray:
        """Sorted pair keys kept as features (document frequency and count limits)."""
        uniq, df = _runs(_runs(np.sort(keys * n_docs + docs))[0] // n_docs)
        keep = df >= self.pair_min_df
        if keep.sum() > self.max_pair_features:
            order = np.lexsort((uniq, -df))  # most frequent first, ties by key
            chosen = order[keep[order]][: self.max_pair_features]
            keep = np.zeros(len(uniq), bool)
            keep[chosen] = True
        return uniq[keep]

    def _ngram_matrix(self, words: Sequence[str], grams: dict[str, int],
                      grow: bool) -> sparse.csr_matrix:
        lo, hi = self.char_ngram_range
        rows: list[int] = []
        cols: list[int] = []
        for i, w in enumerate(words):
            for g in _char_ngrams(w, lo, hi):
                j = grams.setdefault(g, len(grams)) if grow else grams.get(g)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words), len(grams)))
        m.sum_duplicates()
        return m

    # -- fit / transform ---------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> TicketFeatures:
        self._fit_blocks(as_texts(X))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> sparse.csr_matrix:
        return self._stack(self._fit_blocks(as_texts(X)))

    def _fit_blocks(self, texts: list[str]) -> Blocks:
        check_feature_params(self.get_params(), Checker("classifier"))
        tokens = self._tokenize(texts)
        words = sorted(set(itertools.chain.from_iterable(tokens)))
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        _VOCAB_HASHES.pop(self, None)  # derived from the vocabulary just replaced
        _VOCAB_VECTORS.pop(self, None)
        _VOCAB_POOLED.pop(self, None)
        v = len(words)
        parsed = self._parse(tokens)
        n = parsed.n_docs
        if (n + 1) * (v + 1) ** 2 >= 2**62:
            raise ModelError(f"too much text to train on at once ({n} texts, {v} words)")
        pairs = self._pairs(parsed, 1, 1), self._skip_pairs(parsed)
        (bk, bd), (sk, sd) = pairs
        self.word_keys_ = np.concatenate(
            [np.arange(v, dtype=np.int64), v + self._select_pairs(bk, bd, n)])
        self.skip_keys_ = self._select_pairs(sk, sd, n)
        grams: dict[str, int] = {}
        self.word_ngrams_ = self._ngram_matrix(words, grams, grow=True)
        self.ngram_vocabulary_ = grams
        blocks = self._raw(parsed, pairs)
        self.idf_words_ = _idf(blocks[0])
        self.idf_chars_ = _idf(blocks[1])
        self.idf_skips_ = _idf(blocks[2])
        self._fit_semantic(blocks[3])
        if self._max_on():
            self.semantic_max_mean_ = np.zeros(load_word_vectors().table.shape[1], np.float32)
            pooled = self._max_pool(blocks[3], self._unknown_vectors(blocks[5]), blocks[5])[0]
            used = pooled.any(axis=1)
            if used.any():
                self.semantic_max_mean_ = pooled[used].mean(axis=0).astype(np.float32)
        self.n_features_out_ = (len(self.word_keys_) + len(grams) + len(self.skip_keys_)
                                + self.semantic_dims() + self.semantic_max_dims())
        return self._weigh(*blocks)

    # -- the semantic block ------------------------------------------------------------------

    def _semantic_on(self) -> bool:
        return self.semantic_weight > 0

    def _max_on(self) -> bool:
        return getattr(self, "semantic_max_weight", 0) > 0

    def _vectors_on(self) -> bool:
        return self._semantic_on() or self._max_on()

    def semantic_dims(self) -> int:
        return len(self.semantic_mean_) if self._semantic_on() else 0

    def semantic_max_dims(self) -> int:
        return len(self.semantic_max_mean_) if self._max_on() else 0

    def _fit_semantic(self, word_counts: sparse.csr_matrix) -> None:
        if not self._vectors_on():
            return
        wv = load_word_vectors()
        n = word_counts.shape[0]
        self.semantic_table_ = wv.sha256
        self.idf_semantic_ = _idf(word_counts).astype(np.float32)
        self.semantic_unseen_idf_ = float(math.log(1 + n) + 1.0)  # a word in no training text
        weights = self._word_weights(word_counts)
        total = np.asarray(weights.sum(axis=1)).ravel()
        sums = weights @ self._vocab_vectors()
        used = total > 0
        mean = (sums[used] / total[used, None]).mean(axis=0) if used.any() else sums.sum(0)
        self.semantic_mean_ = mean.astype(np.float32)

    def _vocab_vectors(self) -> np.ndarray:
        """V x dims vectors of the vocabulary words, computed once per fitted object."""
        wv = load_word_vectors()
        if self.semantic_table_ != wv.sha256:
            raise ModelError("this category model was trained with other word vectors than "
                             "the installed ones; train it again (triage train)")
        cached = _VOCAB_VECTORS.get(self)
        if cached is None or cached.shape[0] != len(self.vocabulary_):
            cached = word_vectors(self.words(), wv)
            _VOCAB_VECTORS[self] = cached
        return cached

    def _word_ngrams32(self) -> sparse.csr_matrix:
        """``word_ngrams_`` in float32, converted once per fitted object (it was copied on
        every prediction: 0.17 of the 1.7 ms the demo model took for 20 texts, and it grows
        with the vocabulary)."""
        cached = _NGRAMS32.get(self)
        if cached is None or cached[0] is not self.word_ngrams_:
            cached = (self.word_ngrams_, self.word_ngrams_.astype(np.float32))
            _NGRAMS32[self] = cached
        return cached[1]

    def _poolable(self) -> np.ndarray:
        """Per vocabulary word: whether max pooling reads it (a word, not punctuation, with a
        vector), computed once per fitted object."""
        cached = _VOCAB_POOLED.get(self)
        if cached is None or len(cached) != len(self.vocabulary_):
            vectors = self._vocab_vectors()
            cached = (np.fromiter(map(is_wordlike, self.words()), bool, len(self.vocabulary_))
                      & vectors.any(axis=1))
            _VOCAB_POOLED[self] = cached
        return cached

    def _unknown_vectors(self, unknown: list[str]) -> np.ndarray:
        dims = load_word_vectors().table.shape[1]
        return word_vectors(unknown) if unknown else np.zeros((0, dims), np.float32)

    def _max_pool(self, word_counts: sparse.csr_matrix, unknown_vectors: np.ndarray,
                  unknown: list[str], owners: bool = False
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per text, the largest value of every dimension among its words' vectors (0 for a
        text without words), and with ``owners`` the column (extended word id) holding it.

        Texts are taken shortest first, a chunk of similar lengths at a time, each padded to
        the chunk's longest with its own first word (which cannot change a maximum): one
        gather and one ``max`` per chunk, and never more than about ``_POOL_CHUNK`` word
        vectors held at once. (``np.maximum.reduceat`` over rows was ten times slower.)"""
        n = word_counts.shape[0]
        v = len(self.vocabulary_)
        vocab = self._vocab_vectors()
        dims = vocab.shape[1]
        poolable = np.concatenate([self._poolable(),
                                   np.fromiter((is_wordlike(w) for w in unknown), bool,
                                               len(unknown))
                                   & unknown_vectors.any(axis=1)])
        counts = word_counts.tocsr()
        keep = poolable[counts.indices]
        cols = counts.indices[keep].astype(np.int64)
        kept = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
        lengths = kept[counts.indptr[1:]] - kept[counts.indptr[:-1]]
        starts = kept[counts.indptr[:-1]]
        pooled = np.zeros((n, dims), np.float32)
        owner = np.full((n, dims), -1, np.int64) if owners else None
        order = np.argsort(lengths, kind="stable")
        order = order[lengths[order] > 0]
        sorted_lengths = lengths[order]
        i = 0
        while i < len(order):
            # the most texts from here whose padded size stays within the budget
            m = min(len(order) - i, _POOL_CHUNK)
            sizes = np.arange(1, m + 1) * sorted_lengths[i:i + m]
            j = i + max(1, int(np.searchsorted(sizes, _POOL_CHUNK, "right")))
            rows = order[i:j]
            longest = int(lengths[rows[-1]])
            offsets = np.minimum(np.arange(longest)[None, :], lengths[rows, None] - 1)
            ids = cols[starts[rows, None] + offsets]  # rows x longest, padded by repeats
            gathered = vocab[np.minimum(ids, v - 1)] if v else \
                np.zeros((*ids.shape, dims), np.float32)
            unseen = ids >= v
            if unseen.any():
                gathered[unseen] = unknown_vectors[ids[unseen] - v]
            pooled[rows] = gathered.max(axis=1)
            if owner is not None:
                at = gathered.argmax(axis=1)  # rows x dims: position of the maximum
                owner[rows] = np.take_along_axis(ids, at, axis=1)
            i = j
        return pooled, owner

    def _semantic_max(self, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weighted, centered, L2-normalized max pooling, and each text's scale."""
        n = pooled.shape[0]
        used = pooled.any(axis=1)
        centered = np.where(used[:, None], pooled - self.semantic_max_mean_, 0.0)
        norms = np.linalg.norm(centered, axis=1)
        scale = np.zeros(n, np.float32)
        ok = norms > 0
        scale[ok] = self.semantic_max_weight / norms[ok]
        # explanations credit dimension d of text i to the word holding its maximum:
        # scale_i * (vector_owner[d] - max mean[d]) * coef[d]
        return (centered * scale[:, None]).astype(np.float32), scale

    def _word_weights(self, word_counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """counts * idf; words outside the vocabulary get the idf of a word in no text."""
        idf = np.full(word_counts.shape[1], self.semantic_unseen_idf_, np.float32)
        idf[: len(self.idf_semantic_)] = self.idf_semantic_
        return sparse.csr_matrix(
            (word_counts.data.astype(np.float32) * idf[word_counts.indices],
             word_counts.indices, word_counts.indptr), shape=word_counts.shape)

    def _semantic(self, word_counts: sparse.csr_matrix, unknown: list[str]
                  ) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix, np.ndarray]:
        n = word_counts.shape[0]
        if not self._vectors_on():
            return (np.zeros((n, 0), np.float32), np.zeros(n, np.float32),
                    sparse.csr_matrix(word_counts.shape, dtype=np.float32),
                    np.zeros((len(unknown), 0), np.float32))
        unknown_vectors = self._unknown_vectors(unknown)
        if not self._semantic_on():
            return (np.zeros((n, 0), np.float32), np.zeros(n, np.float32),
                    sparse.csr_matrix(word_counts.shape, dtype=np.float32), unknown_vectors)
        v = len(self.vocabulary_)
        weights = self._word_weights(word_counts)
        sums = np.asarray(weights[:, :v] @ self._vocab_vectors(), dtype=np.float32)
        if unknown:
            sums += weights[:, v:] @ unknown_vectors
        total = np.asarray(weights.sum(axis=1), dtype=np.float32).ravel()
        centered = sums - total[:, None] * self.semantic_mean_  # = total * (mean - train mean)
        norms = np.linalg.norm(centered, axis=1)
        scale = np.zeros(n, np.float32)
        ok = norms > 0
        scale[ok] = self.semantic_weight / norms[ok]
        # explanations credit word j of text i with weight_ij * scale_i * (vector_j - mean) . coef
        return (centered * scale[:, None]).astype(np.float32), scale, weights, unknown_vectors

    def _raw(self, parsed: _Parsed, pairs: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None
             ) -> tuple[Any, ...]:
        """Raw counts of the blocks, word counts (extended ids), extended n-gram matrix."""
        n, v = parsed.n_docs, len(self.vocabulary_)
        (bk, bd), (sk, sd) = pairs or (self._pairs(parsed, 1, 1), self._skip_pairs(parsed))
        known = parsed.ids < v
        words = _count_matrix(np.concatenate([parsed.doc[known], bd]),
                              np.concatenate([parsed.ids[known], bk + v]), n, self.word_keys_)
        skips = _count_matrix(sd, sk, n, self.skip_keys_)
        word_counts = _count_matrix(parsed.doc, parsed.ids, n, None, v + len(parsed.unknown))
        # in float32 (counts are small whole numbers, exact in either): scipy multiplies these
        # about twice as fast as in float64
        word_ngrams = self._word_ngrams32()
        if parsed.unknown:
            extra = self._ngram_matrix(parsed.unknown, self.ngram_vocabulary_, grow=False)
            word_ngrams = sparse.vstack([word_ngrams, extra.astype(np.float32)], format="csr")
        chars = sparse.csr_matrix(word_counts.astype(np.float32) @ word_ngrams)
        return words, chars, skips, word_counts, word_ngrams, parsed.unknown

    def _weigh(self, words: sparse.csr_matrix, chars: sparse.csr_matrix,
               skips: sparse.csr_matrix, word_counts: sparse.csr_matrix,
               word_ngrams: sparse.csr_matrix, unknown: list[str]) -> Blocks:
        semantic, scale, weights, unknown_vectors = self._semantic(word_counts, unknown)
        n = word_counts.shape[0]
        if self._max_on():
            semantic_max, max_scale = self._semantic_max(
                self._max_pool(word_counts, unknown_vectors, unknown)[0])
        else:
            semantic_max, max_scale = np.zeros((n, 0), np.float32), np.zeros(n, np.float32)
        return Blocks(_tfidf(words, self.idf_words_, self.word_weight),
                       _tfidf(chars, self.idf_chars_, self.char_weight),
                       _tfidf(skips, self.idf_skips_, self.skip_weight),
                       semantic, semantic_max, word_counts, chars, word_ngrams, unknown,
                       scale, weights, unknown_vectors, max_scale)

    def blocks(self, X: Any) -> Blocks:
        """The weighted feature blocks of ``X`` plus the counts explanations need."""
        if not hasattr(self, "vocabulary_"):
            raise ModelError("the features are not fitted yet: call fit() first")
        return self._weigh(*self._raw(self._parse_texts(as_texts(X))))

    @staticmethod
    def _stack(b: Blocks, dtype: type = np.float32) -> sparse.csr_matrix:
        parts = [b.words, b.chars, b.skips]
        for dense in (b.semantic, b.semantic_max):
            if dense.shape[1]:
                parts.append(sparse.csr_matrix(dense))
        return sparse.hstack(parts, format="csr", dtype=dtype)

    def transform(self, X: Any) -> sparse.csr_matrix:
        return self._stack(self.blocks(X))

    def block_sizes(self) -> tuple[int, int, int]:
        return len(self.word_keys_), len(self.ngram_vocabulary_), len(self.skip_keys_)

    def words(self) -> list[str]:
        """Vocabulary words by id."""
        out = [""] * len(self.vocabulary_)
        for w, i in self.vocabulary_.items():
            out[i] = w
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        words = self.words()
        grams = [""] * len(self.ngram_vocabulary_)
        for g, i in self.ngram_vocabulary_.items():
            grams[i] = f"[{g}]"
        return np.array([self._word_feature(words, k) for k in self.word_keys_] + grams
                        + [self._pair_name(words, k, SKIP_MARK) for k in self.skip_keys_]
                        + [f"<meaning {i}>" for i in range(self.semantic_dims())]
                        + [f"<strongest meaning {i}>" for i in range(self.semantic_max_dims())],
                        dtype=object)

    def _word_feature(self, words: list[str], key: int) -> str:
        v = len(words)
        return words[key] if key < v else self._pair_name(words, key - v, " ")

    @staticmethod
    def _pair_name(words: list[str], key: int, sep: str) -> str:
        a, b = divmod(int(key), len(words))
        return f"{words[a]}{sep}{words[b]}"



def is_wordlike(term: str) -> bool:
    """Whether a term holds a word character (punctuation-only terms are never shown)."""
    return _WORDLIKE.search(term) is not None
