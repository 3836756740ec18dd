"""Static word vectors distilled from a sentence encoder, shipped with the package.

``triage_core/models/data/wordpiece_vectors.npy`` holds one vector per word-piece of the
all-MiniLM-L6-v2 vocabulary (float16, built once by ``scripts/distill_embeddings.py``; its
``.json`` sidecar records the source, the method and the file's SHA-256), and
``wordpiece_tokenizer.json`` that encoder's WordPiece tokenizer, read by the ``tokenizers``
library. A word's vector is the mean of its word-pieces' vectors; pieces the vocabulary lacks
(``[UNK]``) add nothing. Nothing is downloaded: both files are part of the install.

They give the category classifier a sense of which words mean similar things ("refund" and
"reimbursement"), which TF-IDF features learned from a few thousand tickets cannot. The
scikit-learn transformer over them, for the trained sentiment model and topic discovery, is
:class:`triage_core.models.mean_vectors.MeanWordVectors`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import sparse

from triage_core.errors import ModelError

__all__ = ["DATA_DIR", "WordVectors", "load_word_vectors", "word_vectors"]

DATA_DIR = Path(__file__).resolve().parent / "data"
_VECTORS = "wordpiece_vectors.npy"
_TOKENIZER = "wordpiece_tokenizer.json"
_META = "wordpiece_vectors.json"

# The tokenizer's own thread pool buys nothing on the short word lists encoded here, and
# would warn and turn itself off in every forked prediction worker.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class WordVectors(NamedTuple):
    table: np.ndarray  # word-pieces x dims, float32
    tokenizer: object  # tokenizers.Tokenizer
    unk_id: int | None
    sha256: str  # of the .npy file: identifies the table a model was trained with


@functools.cache
def load_word_vectors(data_dir: Path = DATA_DIR) -> WordVectors:
    """The shipped table and tokenizer, loaded once per process (about 0.1 s)."""
    from tokenizers import Tokenizer

    try:
        meta = json.loads((data_dir / _META).read_text())
        raw = (data_dir / _VECTORS).read_bytes()
        tokenizer = Tokenizer.from_file(str(data_dir / _TOKENIZER))
    except Exception as exc:  # a broken install: missing, unreadable or malformed files
        raise ModelError(f"the word vectors shipped in {data_dir} cannot be read ({exc}); "
                         f"reinstall ticket-triage") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != meta.get("sha256"):
        raise ModelError(f"{data_dir / _VECTORS} does not match its checksum in {_META}; "
                         f"reinstall ticket-triage")
    table = np.load(io.BytesIO(raw)).astype(np.float32)
    if table.shape[0] != tokenizer.get_vocab_size():
        raise ModelError(f"{_VECTORS} has {table.shape[0]} rows but the tokenizer has "
                         f"{tokenizer.get_vocab_size()} word-pieces; reinstall ticket-triage")
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return WordVectors(table, tokenizer, tokenizer.token_to_id("[UNK]"), digest)


def word_vectors(words: Sequence[str], wv: WordVectors | None = None) -> np.ndarray:
    """len(words) x dims float32: the mean of each word's word-piece vectors (0 if none)."""
    wv = wv or load_word_vectors()
    dims = wv.table.shape[1]
    if not words:
        return np.zeros((0, dims), np.float32)
    words = list(words)
    if _SURROGATE.search("".join(words)):  # the tokenizer takes only valid Unicode
        words = [_SURROGATE.sub("\ufffd", w) for w in words]
    encodings = wv.tokenizer.encode_batch(words, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encodings), np.int64, len(encodings))
    pieces = np.fromiter((i for e in encodings for i in e.ids), np.int64, int(lengths.sum()))
    rows = np.repeat(np.arange(len(words)), lengths)
    keep = pieces != wv.unk_id if wv.unk_id is not None else np.ones(len(pieces), bool)
    rows, pieces = rows[keep], pieces[keep]
    counts = np.bincount(rows, minlength=len(words)).astype(np.float32)
    weights = 1.0 / np.maximum(counts, 1.0)
    mean = sparse.csr_matrix((weights[rows], (rows, pieces)),
                             shape=(len(words), wv.table.shape[0]), dtype=np.float32)
    return np.asarray(mean @ wv.table, dtype=np.float32)


_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate (text decoded leniently)
