"""``MeanWordVectors``: the shipped word vectors as a scikit-learn transformer.

Texts -> the idf-weighted mean of their word vectors (:mod:`triage_core.models.embeddings`).
The trained sentiment model uses it inside a scikit-learn pipeline and topic discovery beside
TF-IDF; it lives apart from :mod:`~triage_core.models.embeddings` because scikit-learn's base
classes import scikit-learn, which a process that only predicts categories does not need.
(Files saved when it lived in ``embeddings`` still load: the registry finds our classes by
name.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer

from triage_core.errors import ModelError
from triage_core.models.embeddings import load_word_vectors, word_vectors
from triage_core.models.tokens import TOKEN


def _count_words(texts: Sequence[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Texts x words counts over the words of these texts (lower-cased), and the words."""
    counter = CountVectorizer(tokenizer=TOKEN.findall, token_pattern=None, lowercase=True)
    try:
        counts = counter.fit_transform(texts)
    except ValueError:  # no word in any text
        return sparse.csr_matrix((len(texts), 0)), np.array([], dtype=object)
    return counts.tocsr(), counter.get_feature_names_out()


class MeanWordVectors(TransformerMixin, BaseEstimator):
    """Texts -> the idf-weighted mean of their word vectors, L2-normalized (texts x dims).

    ``fit`` learns each word's idf from the training texts; a word none of them held gets the
    idf of a word in no text. Words are lower-cased ``\\w+`` runs and punctuation marks.
    """

    def fit(self, X: Any, y: Any = None) -> MeanWordVectors:
        texts = [str(t) for t in X]
        counts, words = _count_words(texts)
        n = len(texts)
        df = np.bincount(counts.indices, minlength=len(words))
        self.vocabulary_ = {str(w): i for i, w in enumerate(words)}
        self.idf_ = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
        self.unseen_idf_ = float(math.log(1 + n) + 1.0)
        wv = load_word_vectors()
        self.table_sha256_ = wv.sha256
        self.n_features_out_ = wv.table.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        wv = load_word_vectors()
        if getattr(self, "table_sha256_", None) != wv.sha256:
            raise ModelError("this model was trained with other word vectors than the installed "
                             "ones (or is not fitted); train it again")
        texts = [str(t) for t in X]
        counts, words = _count_words(texts)
        idf = np.array([self.idf_[self.vocabulary_[w]] if w in self.vocabulary_
                        else self.unseen_idf_ for w in words], dtype=np.float32)
        weighted = sparse.csr_matrix(counts.multiply(idf[None, :]), dtype=np.float32)
        out = np.asarray(weighted @ word_vectors(list(words), wv), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
