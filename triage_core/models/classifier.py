"""Ticket category classifier: word, skip-gram and character n-gram TF-IDF + a linear SVM.

``TicketClassifier`` follows scikit-learn's estimator contract (``clone``, ``get_params``,
``fit`` returns self, ``classes_``, ``predict``, ``predict_proba``). Features, each block
L2-normalized on its own (the sparse ones TF-IDF weighted: sublinear tf, smooth idf):

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

Text is NFKC-normalized, lower-cased and every digit becomes ``0``. The classifier is a linear
SVM (``LinearSVC``, Crammer-Singer multi-class by default: one joint problem over all classes);
probabilities are ``softmax(decision / T)`` with the temperature ``T`` fitted on held-out
decision values of the training data (temperature scaling), so they sum to 1 and
``confidence`` is close to the observed accuracy at that confidence.

Saved with skops; load with ``TRUSTED_TYPES`` (``save_model`` / ``load_model``).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import skops.io as sio
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from triage_core.models.embeddings import load_word_vectors, word_vectors
from triage_core.errors import ConfigError, ModelError

__all__ = [
    "DEFAULTS",
    "TRUSTED_TYPES",
    "TicketClassifier",
    "TicketFeatures",
    "build_classifier",
    "classifier_settings",
    "explain",
    "explain_many",
    "load_model",
    "predict_top",
    "save_model",
]

# Chosen by 5-fold cross-validation on the banking77 train split only (accuracy 0.918 there,
# 0.912 with semantic_weight 0; 0.928 on its official test split), checked on the demo tickets.
# Keys = TicketClassifier params.
DEFAULTS: dict[str, Any] = {
    "C": 0.5,
    "multi_class": "crammer_singer",
    "class_weight": None,
    "char_ngram_range": (2, 4),
    "skip_window": 8,
    "word_weight": 1.0,
    "char_weight": 1.0,
    "skip_weight": 0.8,
    "pair_min_df": 2,
    "max_pair_features": 500_000,
    "calibration_cv": 3,
    "subject_weight": 1,
    "max_chars": 20_000,
    "semantic_weight": 0.8,
    "random_state": 0,
}

_TOKEN = re.compile(r"\w+|[^\w\s]")
_DIGIT = re.compile(r"\d")
_WORDLIKE = re.compile(r"\w")
_MAX_WORD_CHARS = 30  # character n-grams look at the first 30 characters of a word
_SKIP_MARK = " … "
# Vocabulary word vectors of each fitted TicketFeatures (derived data: never saved with it).
_VOCAB_VECTORS: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


# ------------------------------------------------------------------------------------------
# Input coercion
# ------------------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
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


def _as_texts(X: Any, subject_weight: int = 1) -> list[str]:
    """Texts from a sequence/Series of strings, or a DataFrame with subject and body columns.

    None/NaN become "". A DataFrame's subject is cleaned and joined to its cleaned body like
    ``text.ticket_text_series`` does, with the subject repeated ``subject_weight`` times.
    """
    if isinstance(X, str):
        raise ModelError("expected a list of texts, got a single string (wrap it in a list)")
    if isinstance(X, pd.DataFrame):
        cols = set(X.columns)
        if {"subject", "body"} <= cols:
            from triage_core.text import ticket_text_series

            blank = [""] * len(X)
            subjects = ticket_text_series(X["subject"].map(_as_text), blank)
            bodies = ticket_text_series(blank, X["body"].map(_as_text))
            return ["\n".join([s] * subject_weight * bool(s) + [b] * bool(b))
                    for s, b in zip(subjects.map(_as_text), bodies.map(_as_text), strict=True)]
        if "text" in cols:
            return [_as_text(v) for v in X["text"]]
        if X.shape[1] == 1:
            return [_as_text(v) for v in X.iloc[:, 0]]
        raise ModelError("a DataFrame of tickets needs 'subject' and 'body' columns, or 'text'")
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 1:
            raise ModelError(f"expected one column of texts, got an array of shape {X.shape}")
        X = X[:, 0]
    try:
        return [_as_text(v) for v in X]
    except TypeError:
        raise ModelError(f"expected a list of texts, got {type(X).__name__}") from None


def _normalize(text: str, max_chars: int) -> str:
    text = unicodedata.normalize("NFKC", text[:max_chars]).lower()
    return _DIGIT.sub("0", text)


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


class _Blocks(NamedTuple):
    words: sparse.csr_matrix
    chars: sparse.csr_matrix
    skips: sparse.csr_matrix
    semantic: np.ndarray  # docs x dims float32, weighted (docs x 0 when the block is off)
    word_counts: sparse.csr_matrix  # docs x (V + unknown) raw token counts
    char_counts: sparse.csr_matrix  # raw n-gram counts, same structure as ``chars``
    word_ngrams: sparse.csr_matrix  # (V + unknown) x n-grams
    unknown: list[str]  # words outside the vocabulary (extended ids V, V + 1, ...)
    semantic_scale: np.ndarray  # per doc: weight / (sum of word weights * vector norm)
    word_weights: sparse.csr_matrix  # word counts * idf, same structure as ``word_counts``
    unknown_vectors: np.ndarray  # unknown x dims: word vectors of the unknown words


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


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray, weight: float) -> sparse.csr_matrix:
    """Sublinear tf * idf, rows L2-normalized, times the block weight (same structure)."""
    data = np.log(counts.data) + 1.0
    data *= idf[counts.indices]
    sq = np.zeros(counts.shape[0])
    lengths = np.diff(counts.indptr)
    nonempty = lengths > 0
    if data.size:
        sq[nonempty] = np.add.reduceat(data * data, counts.indptr[:-1][nonempty])
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    data *= np.repeat(weight / norms, lengths)
    return sparse.csr_matrix((data.astype(np.float32), counts.indices, counts.indptr),
                             shape=counts.shape)


def _idf(counts: sparse.csr_matrix) -> np.ndarray:
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((1 + n) / (1 + df)) + 1.0


class TicketFeatures(TransformerMixin, BaseEstimator):
    """Texts -> [word 1-2 grams | character n-grams | skip-grams] TF-IDF blocks (CSR).

    Word pairs (bigrams and skip-grams) seen in fewer than ``pair_min_df`` training texts are
    dropped, and at most ``max_pair_features`` of each kind (the most frequent) are kept.

    With ``semantic_weight`` > 0 a fourth, dense block follows: the idf-weighted mean of the
    text's word vectors (``embeddings``: distilled from a sentence encoder, shipped with the
    package), centered on the training texts' mean and L2-normalized. Words never seen in
    training still get a vector there, so a ticket saying "reimbursement" lands near the
    tickets that said "refund".
    """

    def __init__(self, char_ngram_range: tuple[int, int] = (2, 4), skip_window: int = 8,
                 word_weight: float = 1.0, char_weight: float = 1.0, skip_weight: float = 0.8,
                 pair_min_df: int = 2, max_pair_features: int = 500_000,
                 max_chars: int = 20_000, semantic_weight: float = 0.8) -> None:
        self.char_ngram_range = char_ngram_range
        self.skip_window = skip_window
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.skip_weight = skip_weight
        self.pair_min_df = pair_min_df
        self.max_pair_features = max_pair_features
        self.max_chars = max_chars
        self.semantic_weight = semantic_weight

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("semantic_weight", 0.0)  # saved before the semantic block existed
        super().__setstate__(state)

    # -- parsing -----------------------------------------------------------------------------

    def _tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return [_TOKEN.findall(_normalize(t, self.max_chars)) for t in texts]

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
        self._fit_blocks(_as_texts(X))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> sparse.csr_matrix:
        return self._stack(self._fit_blocks(_as_texts(X)))

    def _fit_blocks(self, texts: list[str]) -> _Blocks:
        _check_features(self.get_params())
        tokens = self._tokenize(texts)
        words = sorted(set(itertools.chain.from_iterable(tokens)))
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        v = len(words)
        parsed = self._parse(tokens)
        n = parsed.n_docs
        if (n + 1) * (v + 1) ** 2 >= 2**62:
            raise ModelError(f"too much text to train on at once ({n} texts, {v} words)")
        pairs = self._pairs(parsed, 1, 1), self._pairs(parsed, 2, self.skip_window)
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
        self.n_features_out_ = (len(self.word_keys_) + len(grams) + len(self.skip_keys_)
                                + self.semantic_dims())
        return self._weigh(*blocks)

    # -- the semantic block ------------------------------------------------------------------

    def _semantic_on(self) -> bool:
        return self.semantic_weight > 0

    def semantic_dims(self) -> int:
        return len(self.semantic_mean_) if self._semantic_on() else 0

    def _fit_semantic(self, word_counts: sparse.csr_matrix) -> None:
        if not self._semantic_on():
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
        if not self._semantic_on():
            return (np.zeros((n, 0), np.float32), np.zeros(n, np.float32),
                    sparse.csr_matrix(word_counts.shape, dtype=np.float32),
                    np.zeros((len(unknown), 0), np.float32))
        v = len(self.vocabulary_)
        weights = self._word_weights(word_counts)
        unknown_vectors = word_vectors(unknown)
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
        (bk, bd), (sk, sd) = pairs or (self._pairs(parsed, 1, 1),
                                       self._pairs(parsed, 2, self.skip_window))
        known = parsed.ids < v
        words = _count_matrix(np.concatenate([parsed.doc[known], bd]),
                              np.concatenate([parsed.ids[known], bk + v]), n, self.word_keys_)
        skips = _count_matrix(sd, sk, n, self.skip_keys_)
        word_counts = _count_matrix(parsed.doc, parsed.ids, n, None, v + len(parsed.unknown))
        word_ngrams = self.word_ngrams_
        if parsed.unknown:
            extra = self._ngram_matrix(parsed.unknown, self.ngram_vocabulary_, grow=False)
            word_ngrams = sparse.vstack([word_ngrams, extra], format="csr")
        chars = sparse.csr_matrix(word_counts @ word_ngrams)
        return words, chars, skips, word_counts, word_ngrams, parsed.unknown

    def _weigh(self, words: sparse.csr_matrix, chars: sparse.csr_matrix,
               skips: sparse.csr_matrix, word_counts: sparse.csr_matrix,
               word_ngrams: sparse.csr_matrix, unknown: list[str]) -> _Blocks:
        semantic, scale, weights, unknown_vectors = self._semantic(word_counts, unknown)
        return _Blocks(_tfidf(words, self.idf_words_, self.word_weight),
                       _tfidf(chars, self.idf_chars_, self.char_weight),
                       _tfidf(skips, self.idf_skips_, self.skip_weight),
                       semantic, word_counts, chars, word_ngrams, unknown,
                       scale, weights, unknown_vectors)

    def blocks(self, X: Any) -> _Blocks:
        """The weighted feature blocks of ``X`` plus the counts explanations need."""
        if not hasattr(self, "vocabulary_"):
            raise ModelError("the features are not fitted yet: call fit() first")
        return self._weigh(*self._raw(self._parse(self._tokenize(_as_texts(X)))))

    @staticmethod
    def _stack(b: _Blocks, dtype: type = np.float32) -> sparse.csr_matrix:
        parts = [b.words, b.chars, b.skips]
        if b.semantic.shape[1]:
            parts.append(sparse.csr_matrix(b.semantic))
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
                        + [self._pair_name(words, k, _SKIP_MARK) for k in self.skip_keys_]
                        + [f"<meaning {i}>" for i in range(self.semantic_dims())],
                        dtype=object)

    def _word_feature(self, words: list[str], key: int) -> str:
        v = len(words)
        return words[key] if key < v else self._pair_name(words, key - v, " ")

    @staticmethod
    def _pair_name(words: list[str], key: int, sep: str) -> str:
        a, b = divmod(int(key), len(words))
        return f"{words[a]}{sep}{words[b]}"


def _check_features(params: Mapping[str, Any]) -> None:
    rng = params["char_ngram_range"]
    if (not isinstance(rng, Sequence) or len(rng) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in rng)
            or not 1 <= rng[0] <= rng[1] <= 8):
        raise ConfigError(f"classifier: char_ngram_range must be [low, high] with "
                          f"1 <= low <= high <= 8, got {rng!r}")
    _check_int(params, "skip_window", 1)
    _check_int(params, "pair_min_df", 1)
    _check_int(params, "max_pair_features", 0)
    _check_int(params, "max_chars", 100)
    for key in ("word_weight", "char_weight", "skip_weight", "semantic_weight"):
        _check_number(params, key, 0.0)


def _check_int(params: Mapping[str, Any], key: str, minimum: int) -> None:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"classifier: {key} must be an integer >= {minimum}, got {value!r}")


def _check_number(params: Mapping[str, Any], key: str, minimum: float,
                  strict: bool = False) -> None:
    value = params[key]
    bad = (isinstance(value, bool) or not isinstance(value, int | float | np.number)
           or not math.isfinite(value) or value < minimum or (strict and value == minimum))
    if bad:
        op = ">" if strict else ">="
        raise ConfigError(f"classifier: {key} must be a number {op} {minimum}, got {value!r}")


# ------------------------------------------------------------------------------------------
# Classifier
# ------------------------------------------------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


# Held-out scores enough to fit the one temperature: on large data only the first folds run.
_CALIBRATION_ROWS = 3000
_TEMPERATURE_BOUNDS = (0.02, 50.0)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """T minimizing the log loss of softmax(scores / T) (temperature scaling).

    Bounded so that a tiny, perfectly separated training set cannot drive T to 0.
    """
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))

    lo, hi = (math.log(b) for b in _TEMPERATURE_BOUNDS)
    res = minimize_scalar(nll, bounds=(lo, hi), method="bounded")
    return float(math.exp(res.x))


class TicketClassifier(ClassifierMixin, BaseEstimator):
    """Ticket text -> category with calibrated probabilities (see the module docstring).

    ``X``: a sequence or Series of texts (None/NaN are empty texts), or a DataFrame with
    ``subject`` and ``body`` (or ``text``) columns. ``C`` is the SVM's inverse regularization,
    ``calibration_cv`` the folds used to fit the temperature (0: no calibration, T = 1; fewer
    folds are used when a class is small, and classes with one example sit out of it). Folds
    run until 3,000 held-out rows are scored, so a large training set costs one extra fit.
    ``class_weight`` ("balanced" or {category: weight}) needs ``multi_class="ovr"``.
    """

    def __init__(self, C: float = 0.5, multi_class: str = "crammer_singer",
                 class_weight: str | dict[str, float] | None = None,
                 char_ngram_range: tuple[int, int] = (2, 4), skip_window: int = 8,
                 word_weight: float = 1.0, char_weight: float = 1.0, skip_weight: float = 0.8,
                 pair_min_df: int = 2, max_pair_features: int = 500_000,
                 calibration_cv: int = 3, subject_weight: int = 1, max_chars: int = 20_000,
                 semantic_weight: float = 0.8, random_state: int | None = 0) -> None:
        self.C = C
        self.multi_class = multi_class
        self.class_weight = class_weight
        self.char_ngram_range = char_ngram_range
        self.skip_window = skip_window
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.skip_weight = skip_weight
        self.pair_min_df = pair_min_df
        self.max_pair_features = max_pair_features
        self.calibration_cv = calibration_cv
        self.subject_weight = subject_weight
        self.max_chars = max_chars
        self.semantic_weight = semantic_weight
        self.random_state = random_state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("semantic_weight", 0.0)  # saved before the semantic block existed
        super().__setstate__(state)

    def _features(self) -> TicketFeatures:
        """The feature extractor, with this classifier's values of its parameters."""
        params = {k: getattr(self, k) for k in TicketFeatures._get_param_names()}
        params["char_ngram_range"] = tuple(params["char_ngram_range"])
        return TicketFeatures(**params)

    def _svm(self, classes: np.ndarray) -> LinearSVC:
        """The SVM for labels encoded as indices into ``classes``."""
        weights = self.class_weight
        if isinstance(weights, Mapping):  # keyed by label: translate to label indices
            weights = {i: float(weights[c]) for i, c in enumerate(classes) if c in weights}
        # tol 1e-2 (liblinear's default is 1e-4): the same accuracy as 1e-3 in every fold of
        # the banking77 cross-validation and on the demo holdout, while the Crammer-Singer
        # solver fits 30,000 demo tickets in about 7 s, where 1e-3 took 12-54 s depending on
        # the coordinate order (its iteration count swings with it).
        return LinearSVC(C=self.C, multi_class=self.multi_class, class_weight=weights,
                         tol=1e-2, max_iter=2000, random_state=self.random_state)

    @staticmethod
    def _fit_svm(svm: LinearSVC, X: sparse.csr_matrix, y: np.ndarray) -> LinearSVC:
        with warnings.catch_warnings():
            # liblinear stopping at max_iter still gives a usable model; the warning is
            # not actionable for someone training from the dashboard or CLI.
            warnings.simplefilter("ignore", ConvergenceWarning)
            return svm.fit(X, y)

    @staticmethod
    def _svm_scores(svm: LinearSVC, X: sparse.csr_matrix) -> np.ndarray:
        d = svm.decision_function(X)
        return np.column_stack([-d / 2, d / 2]) if d.ndim == 1 else d

    def fit(self, X: Any, y: Any) -> TicketClassifier:
        """Fit features, the SVM on all rows and the temperature on cross-validated scores."""
        _check_params(self.get_params())
        texts = _as_texts(X, self.subject_weight)
        classes, yi = _encode_labels(y, len(texts))
        if len(classes) < 2:
            found = f"only {classes[0]!r}" if len(classes) else "no labels"
            raise ModelError(f"need tickets of at least two categories to train, found {found}")
        features = self._features()
        # float64 straight away: liblinear's wrapper would otherwise copy a float32 matrix
        Xf = features._stack(features._fit_blocks(texts), np.float64)
        svm = self._fit_svm(self._svm(classes), Xf, yi)
        coef = svm.coef_
        intercept = np.atleast_1d(svm.intercept_)
        if coef.shape[0] == 1:  # binary: scores (-d/2, d/2) for (classes[0], classes[1])
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.features_ = features
        self.classes_ = classes
        # n_features x n_classes, float32: half the size and memory traffic of float64
        self.weights_ = np.ascontiguousarray(coef.T, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.temperature_, self.calibration_ = self._calibrate(Xf, yi, classes)
        return self

    def _calibrate(self, X: sparse.csr_matrix, y: np.ndarray,
                   classes: np.ndarray) -> tuple[float, str]:
        if not self.calibration_cv:
            return 1.0, "none"
        counts = np.bincount(y)
        eligible = counts >= 2
        if eligible.sum() < 2:
            return 1.0, "none: fewer than two categories with two or more examples"
        rows = np.flatnonzero(eligible[y])
        Xs = X if eligible.all() else X[rows]  # no copy of a large matrix when none sits out
        ys = np.searchsorted(np.flatnonzero(eligible), y[rows])
        k = int(min(self.calibration_cv, counts[eligible].min()))
        folds = StratifiedKFold(k, shuffle=True, random_state=self.random_state)
        held: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for train, test in folds.split(np.zeros(len(ys)), ys):
            svm = self._fit_svm(self._svm(classes[eligible]), Xs[train], ys[train])
            held.append(test)
            scores.append(self._svm_scores(svm, Xs[test]))
            if sum(map(len, held)) >= _CALIBRATION_ROWS:
                break  # enough held-out scores for one parameter: skip the other folds
        used = len(held)
        note = f"temperature, {k}-fold" if used == k else f"temperature, {used} of {k} folds"
        if not eligible.all():
            note += f", {int((~eligible).sum())} single-example categories left out"
        return _fit_temperature(np.vstack(scores), ys[np.concatenate(held)]), note

    # -- prediction --------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ModelError("the category model is not trained yet: call fit() first")

    def _scores(self, blocks: _Blocks) -> np.ndarray:
        w = self.weights_
        nw, nc, ns = self.features_.block_sizes()
        out = (blocks.words @ w[:nw]).astype(np.float64)
        out += blocks.chars @ w[nw:nw + nc]
        out += blocks.skips @ w[nw + nc:nw + nc + ns]
        if blocks.semantic.shape[1]:
            # through scipy, not BLAS: BLAS sums in an order that depends on its thread count,
            # and a ticket must score the same in a Dask worker as here
            out += sparse.csr_matrix(blocks.semantic) @ w[nw + nc + ns:]
        out += self.intercept_
        return out

    def _blocks(self, X: Any) -> _Blocks:
        self._check_fitted()
        return self.features_.blocks(_as_texts(X, self.subject_weight))

    def decision_function(self, X: Any) -> np.ndarray:
        """SVM scores, n_samples x n_classes (a 1-d score for two classes, as in sklearn)."""
        s = self._scores(self._blocks(X))
        return s[:, 1] - s[:, 0] if len(self.classes_) == 2 else s

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, columns in ``classes_`` order; each row sums to 1."""
        return _softmax(self._scores(self._blocks(X)) / self.temperature_)

    def predict(self, X: Any) -> np.ndarray:
        scores = self._scores(self._blocks(X))
        return self.classes_[scores.argmax(axis=1)]


def _encode_labels(y: Any, n_texts: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted classes, index of each label), refusing missing or mixed-type labels."""
    if isinstance(y, str):
        raise ModelError("expected a list of labels, got a single string")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ModelError("expected one column of labels")
        y = y.iloc[:, 0]
    try:
        labels = list(y)
    except TypeError:
        raise ModelError(f"expected a list of labels, got {type(y).__name__}") from None
    if len(labels) != n_texts:
        raise ModelError(f"{n_texts} texts but {len(labels)} labels")
    if any(_as_text(v) == "" for v in labels):
        raise ModelError("some labels are empty; every training text needs a category")
    try:
        classes, yi = np.unique(np.asarray(labels), return_inverse=True)
    except TypeError:
        raise ModelError("labels mix types (e.g. numbers and text); use text labels") from None
    return classes, yi.ravel()


def _check_params(params: Mapping[str, Any]) -> None:
    _check_features(params)
    _check_number(params, "C", 0.0, strict=True)
    if params["multi_class"] not in ("crammer_singer", "ovr"):
        raise ConfigError(f"classifier: multi_class must be 'crammer_singer' or 'ovr', "
                          f"got {params['multi_class']!r}")
    cw = params["class_weight"]
    ok = cw is None or cw == "balanced" or (isinstance(cw, Mapping) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in cw.values()))
    if not ok:
        raise ConfigError(f"classifier: class_weight must be 'balanced', a table of "
                          f"category = positive weight, or none; got {cw!r}")
    if cw is not None and params["multi_class"] == "crammer_singer":
        raise ConfigError("classifier: class_weight needs multi_class = 'ovr' (the "
                          "Crammer-Singer solver ignores class weights)")
    cv = params["calibration_cv"]
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv == 1 or cv < 0:
        raise ConfigError(f"classifier: calibration_cv must be 0 (off) or an integer >= 2, "
                          f"got {cv!r}")
    _check_int(params, "subject_weight", 0)
    rs = params["random_state"]
    if rs is not None and (isinstance(rs, bool) or not isinstance(rs, int | np.integer)):
        raise ConfigError(f"classifier: random_state must be an integer or None, got {rs!r}")


def classifier_settings(section: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``DEFAULTS`` updated with a parsed TOML section, validated (ConfigError names the key)."""
    section = dict(section or {})
    unknown = sorted(set(section) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"classifier: unknown key {unknown[0]!r} "
                          f"(known: {', '.join(sorted(DEFAULTS))})")
    settings = {**DEFAULTS, **section}
    if isinstance(settings["char_ngram_range"], list):
        settings["char_ngram_range"] = tuple(settings["char_ngram_range"])
    if settings["class_weight"] in ("", "none"):
        settings["class_weight"] = None
    _check_params(settings)
    return settings


def build_classifier(section: Mapping[str, Any] | None = None) -> TicketClassifier:
    """An unfitted ``TicketClassifier`` from a (possibly empty) config section."""
    return TicketClassifier(**classifier_settings(section))


# ------------------------------------------------------------------------------------------
# Helpers: top-k and explanations
# ------------------------------------------------------------------------------------------


def predict_top(model: TicketClassifier, texts: Any, k: int = 3) -> pd.DataFrame:
    """category, confidence and ``top``: a list of the k best (label, probability) tuples.

    ``top`` holds plain Python lists of (str, float) tuples, best first, so it can be shown
    as is or stored with ``json.dumps`` (tuples become [label, probability] pairs).
    """
    proba = model.predict_proba(texts)
    k = max(1, min(int(k), proba.shape[1]))
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    best = np.take_along_axis(proba, order, axis=1)
    labels = model.classes_[order]
    top = [[(str(lab), float(p)) for lab, p in zip(lr, pr, strict=True)]
           for lr, pr in zip(labels, best, strict=True)]
    index = texts.index if isinstance(texts, pd.Series | pd.DataFrame) else None
    return pd.DataFrame({"category": labels[:, 0].astype(str), "confidence": best[:, 0],
                         "top": top}, index=index)


def explain(model: TicketClassifier, text: Any, k: int = 5) -> list[tuple[str, float]]:
    """The k words or word pairs pushing ``text`` hardest toward its predicted category."""
    return explain_many(model, [text], k)[0]


def explain_many(model: TicketClassifier, texts: Any, k: int = 5,
                 category: str | Sequence[str] | None = None,
                 positive_only: bool = True) -> list[list[tuple[str, float]]]:
    """For each text, up to k (term, contribution) with positive contributions, largest first.

    ``positive_only=False`` lists terms pushing either way, by absolute contribution; with a
    large k they add up to the text's score for the category minus the intercept (except
    punctuation-only terms, which are never listed).

    A contribution is the feature's TF-IDF value times the SVM weight of the category (the
    predicted one, or ``category``). Terms are words, bigrams ("card arrived") and skip-grams
    ("card … arrived"); a word's character n-grams are credited to the word (each n-gram's
    contribution shared among the words of the text containing it), so no char-gram is shown,
    and so is the word's exact share of the semantic block (its weight in the text's mean
    word vector times that vector's score).
    Vectorized over the batch: thousands of texts take well under a second.
    """
    model._check_fitted()
    blocks = model._blocks(texts)
    n = blocks.words.shape[0]
    if n == 0:
        return []
    classes = list(model.classes_)
    if category is None:
        target = model._scores(blocks).argmax(axis=1)
    else:
        wanted = [category] * n if isinstance(category, str) else list(category)
        if len(wanted) != n or any(c not in classes for c in wanted):
            raise ModelError("explain: category must be one of the model's classes per text")
        target = np.array([classes.index(c) for c in wanted], dtype=np.int64)
    feats = model.features_
    nw, nc, _ = feats.block_sizes()
    w = model.weights_
    v = len(feats.vocabulary_)
    n_ext = blocks.word_counts.shape[1]

    def contributions(m: sparse.csr_matrix, offset: int) -> tuple[np.ndarray, ...]:
        rows = np.repeat(np.arange(n), np.diff(m.indptr))
        values = m.data.astype(np.float64) * w[offset + m.indices, target[rows]]
        return rows, m.indices.astype(np.int64), values

    # items: [0, n_ext) words, then bigram features, then skip-gram features
    r1, c1, x1 = contributions(blocks.words, 0)
    c1 = np.where(c1 < v, c1, n_ext + c1)
    r2, c2, x2 = contributions(blocks.skips, nw + nc)
    c2 = c2 + n_ext + nw
    r3, c3, x3 = _char_credit(blocks, contributions(blocks.chars, nw)[2])
    r4, c4, x4 = _semantic_credit(model, blocks, target)
    items = sparse.csr_matrix(
        (np.concatenate([x1, x2, x3, x4]),
         (np.concatenate([r1, r2, r3, r4]), np.concatenate([c1, c2, c3, c4]))),
        shape=(n, n_ext + nw + len(feats.skip_keys_)))
    items.sum_duplicates()
    words = feats.words()
    unknown = blocks.unknown
    out: list[list[tuple[str, float]]] = []
    for i in range(n):
        lo, hi = items.indptr[i], items.indptr[i + 1]
        cols, vals = items.indices[lo:hi], items.data[lo:hi]
        order = np.argsort(-(vals if positive_only else np.abs(vals)), kind="stable")
        row: list[tuple[str, float]] = []
        for j in order:
            if len(row) == k or (positive_only and vals[j] <= 0) or vals[j] == 0:
                break
            name = _item_name(int(cols[j]), words, unknown, n_ext, nw, feats)
            if name is not None:
                row.append((name, float(vals[j])))
        out.append(row)
    return out


def _semantic_credit(model: TicketClassifier, blocks: _Blocks,
                     target: np.ndarray) -> tuple[np.ndarray, ...]:
    """Share the semantic block's contribution among the words of each text.

    The block is ``scale_i * sum_j weight_ij * (vector_j - mean)``, so word j's exact share of
    its score for class c is ``weight_ij * scale_i * (vector_j - mean) . coef_c``.
    """
    feats = model.features_
    ww = blocks.word_weights
    if not blocks.semantic.shape[1] or ww.nnz == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    n = ww.shape[0]
    v = len(feats.vocabulary_)
    rows = np.repeat(np.arange(n), np.diff(ww.indptr))
    cols = ww.indices.astype(np.int64)
    used, where = np.unique(cols, return_inverse=True)
    vocab = feats._vocab_vectors()
    vectors = np.vstack([vocab[used[used < v]], blocks.unknown_vectors[used[used >= v] - v]])
    nw, nc, ns = feats.block_sizes()
    projected = (vectors - feats.semantic_mean_) @ model.weights_[nw + nc + ns:]
    values = (ww.data.astype(np.float64) * blocks.semantic_scale[rows]
              * projected[where, target[rows]])
    return rows, cols, values


def _char_credit(blocks: _Blocks, gram_values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Share each (text, n-gram) contribution among the text's words holding that n-gram.

    A word occurring c times that contains the n-gram m times gets c * m / count of the
    contribution, where count is the n-gram's raw count in the text.
    """
    chars, raw = blocks.chars, blocks.char_counts
    n, n_grams = chars.shape
    per_count = np.zeros_like(gram_values)
    np.divide(gram_values, raw.data, out=per_count, where=raw.data > 0)
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(chars.indptr)) * n_grams
    keys += chars.indices
    order = np.argsort(keys)
    keys, per_count = keys[order], per_count[order]
    wc, wg = blocks.word_counts, blocks.word_ngrams
    doc = np.repeat(np.arange(n, dtype=np.int64), np.diff(wc.indptr))
    word, count = wc.indices.astype(np.int64), wc.data
    spans = np.diff(wg.indptr)[word]
    pair = np.repeat(np.arange(len(word)), spans)
    starts = np.repeat(wg.indptr[word] - np.cumsum(np.r_[0, spans[:-1]]), spans)
    at = starts + np.arange(len(pair))
    gkeys = doc[pair] * n_grams + wg.indices[at]
    pos = np.searchsorted(keys, gkeys)
    pos[pos >= len(keys)] = 0
    hit = keys[pos] == gkeys if len(keys) else np.zeros(len(gkeys), bool)
    credit = np.where(hit, per_count[pos] * wg.data[at], 0.0) * count[pair]
    values = np.bincount(pair, weights=credit, minlength=len(word))
    return doc, word, values


def _item_name(col: int, words: list[str], unknown: list[str], n_ext: int, nw: int,
               feats: TicketFeatures) -> str | None:
    v = len(words)
    if col < n_ext:
        word = words[col] if col < v else unknown[col - v]
        return word if _WORDLIKE.search(word) else None
    col -= n_ext
    if col < nw:
        key = int(feats.word_keys_[col])
        name = feats._pair_name(words, key - v, " ")
    else:
        name = feats._pair_name(words, int(feats.skip_keys_[col - nw]), _SKIP_MARK)
    return name if _WORDLIKE.search(name) else None


# ------------------------------------------------------------------------------------------
# Saving and loading
# ------------------------------------------------------------------------------------------

# Reviewed: every type a saved TicketClassifier holds besides what skops trusts by default.
TRUSTED_TYPES: list[str] = [
    "scipy.sparse._csr.csr_matrix",  # word -> character n-gram counts
    "triage_core.models.classifier.TicketClassifier",
    "triage_core.models.classifier.TicketFeatures",
]


def save_model(model: TicketClassifier, path: str | Path) -> None:
    """Write a fitted model as a skops file."""
    model._check_fitted()
    sio.dump(model, path)


def load_model(path: str | Path) -> TicketClassifier:
    """Load a skops model file, refusing any type outside ``TRUSTED_TYPES``."""
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a missing, corrupt or foreign file
        raise ModelError(f"{path}: not a readable skops model file ({exc})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelError(f"{path}: model file holds types that are not trusted, refusing to "
                         f"load: {', '.join(refused[:5])}")
    model = sio.load(path, trusted=untrusted)
    if not isinstance(model, TicketClassifier):
        raise ModelError(f"{path}: not a ticket category model")
    return model
