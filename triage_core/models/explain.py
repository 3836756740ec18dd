"""Which terms push a ticket toward its category: explanations of a ``TicketClassifier``.

A term's contribution is its feature value times the SVM weight of the category. Terms are
words, bigrams ("card arrived") and skip-grams ("card … arrived"); a word's character n-grams
and its share of the word-vector block are credited to the word itself, so every listed term is
something the ticket says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from triage_core.errors import ModelError
from triage_core.models.classifier import TicketClassifier
from triage_core.models.features import SKIP_MARK, Blocks, TicketFeatures, is_wordlike

__all__ = ["explain", "explain_many", "readable_terms"]

# A word a person reads as one: letters (any script), inner apostrophes or hyphens; no digits.
_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")
_NUMBER = re.compile(r"^[0-9]+$")  # "404" of a model that reads numbers (keep_digits)
MIN_WORD = 3  # shorter single words ("in", "ok", "fa") say nothing on their own


def explain(model: TicketClassifier, text: Any, k: int = 5) -> list[tuple[str, float]]:
    """The k words or word pairs pushing ``text`` hardest toward its predicted category."""
    return explain_many(model, [text], k)[0]


def explain_many(model: TicketClassifier, texts: Any, k: int = 5,
                 category: str | Sequence[str] | None = None,
                 positive_only: bool = True) -> list[list[tuple[str, float]]]:
    """For each text, up to k (term, contribution) with positive contributions, largest first.

    ``positive_only=False`` lists terms pushing either way, by absolute contribution; with a
    large k they add up to the text's score for the category minus the intercept (except
    punctuation-only terms, which are never listed, and, with ``neighbor_weight``, the bonus
    of similar training tickets, which no term carries).

    A contribution is the feature's TF-IDF value times the SVM weight of the category (the
    predicted one, or ``category``). Terms are words, bigrams ("card arrived") and skip-grams
    ("card … arrived"); a word's character n-grams are credited to the word (each n-gram's
    contribution shared among the words of the text containing it), so no char-gram is shown,
    and so is the word's exact share of the semantic block (its weight in the text's mean
    word vector times that vector's score) and of the max-pooled block (the dimensions whose
    maximum it holds).
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
    r5, c5, x5 = _max_credit(model, blocks, target)
    items = sparse.csr_matrix(
        (np.concatenate([x1, x2, x3, x4, x5]),
         (np.concatenate([r1, r2, r3, r4, r5]), np.concatenate([c1, c2, c3, c4, c5]))),
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


def _semantic_credit(model: TicketClassifier, blocks: Blocks,
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
    at = nw + nc + ns
    projected = (vectors - feats.semantic_mean_) @ model.weights_[at:at + blocks.semantic.shape[1]]
    values = (ww.data.astype(np.float64) * blocks.semantic_scale[rows]
              * projected[where, target[rows]])
    return rows, cols, values


def _max_credit(model: TicketClassifier, blocks: Blocks,
                target: np.ndarray) -> tuple[np.ndarray, ...]:
    """Credit the max-pooled block's contribution to the words holding the maxima.

    Dimension d of text i is ``scale_i * (max_j vector_j[d] - max mean[d])``, so its share of
    the score for class c, ``scale_i * (vector_owner[d] - max mean[d]) * coef_c[d]``, goes to
    the word that holds the maximum (the first one in the text's word order on a tie).
    """
    feats = model.features_
    width = blocks.semantic_max.shape[1]
    if not width:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    pooled, owner = feats._max_pool(blocks.word_counts, blocks.unknown_vectors, blocks.unknown,
                                    owners=True)
    nw, nc, ns = feats.block_sizes()
    at = nw + nc + ns + blocks.semantic.shape[1]
    coef = model.weights_[at:at + width]  # dims x classes
    has = owner[:, 0] >= 0
    rows = np.flatnonzero(has)
    centered = pooled[rows].astype(np.float64) - feats.semantic_max_mean_
    values = (centered * blocks.semantic_max_scale[rows, None]
              * coef[:, target[rows]].T)
    return (np.repeat(rows, width), owner[rows].ravel(), values.ravel())


def _char_credit(blocks: Blocks, gram_values: np.ndarray) -> tuple[np.ndarray, ...]:
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
        return word if is_wordlike(word) else None
    col -= n_ext
    if col < nw:
        key = int(feats.word_keys_[col])
        name = feats._pair_name(words, key - v, " ")
    else:
        name = feats._pair_name(words, int(feats.skip_keys_[col - nw]), SKIP_MARK)
    return name if is_wordlike(name) else None


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _occurs(words: list[str], text: str, skip: bool) -> bool:
    """Whether ``words`` occur in ``text`` (lower case) as whole words: next to each other
    (a phrase), or in this order with anything between (a skip-gram). A contraction's first
    part is no whole word ("didn" of "didn't", "won" of "won't": the features split words at
    the apostrophe, and the explanation showed "didn"); a possessive's is ("customer's")."""
    parts = [re.escape(w) + _NOT_CUT for w in words]
    glue = r"\b.*?\b" if skip else r"\W+"
    return re.search(r"(?<!\w)(?<!\w['’])" + glue.join(parts) + r"(?!\w)", text,
                     re.S) is not None


_NOT_CUT = r"(?!['’](?!s\b)\w)"  # not followed by an apostrophe and more of the word


def readable_terms(terms: Sequence[tuple[str, float]], text: Any, k: int,
                   stop_words: frozenset[str] | None = None) -> list[tuple[str, float]]:
    """The first ``k`` terms a person can read in ``text``: every word made of letters or
    digits, not both (no fragments such as ``0fa``; a number such as ``404`` only occurs as
    written when the model reads numbers, ``keep_digits``), a single word at least
    :data:`MIN_WORD` letters long and not a stop word (``in``, ``can``), a phrase not made of
    stop words only, and the term occurring in the text as written (case aside; a skip-gram's
    two words in order)."""
    stop = _stop_words() if stop_words is None else stop_words
    haystack = str(text or "").lower()
    out: list[tuple[str, float]] = []
    for term, weight in terms:
        skip = SKIP_MARK.strip() in term
        words = [w for w in str(term).lower().replace(SKIP_MARK.strip(), " ").split() if w]
        if not words or not all(_WORD.match(w) or _NUMBER.match(w) for w in words):
            continue
        if len(words) == 1 and (len(words[0]) < MIN_WORD or words[0] in stop):
            continue
        if all(w in stop for w in words):
            continue
        if not _occurs(words, haystack, skip):
            continue
        out.append((term, weight))
        if len(out) == k:
            break
    return out
