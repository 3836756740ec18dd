"""Which language a ticket is written in, for tickets that arrive without one.

py3langid (a maintained fork of langid.py) ships its model in the wheel, so nothing is
downloaded. Detection is restricted to the configured candidate languages, and a text that is
too short or not clearly one language gets no language (``None``): a one-word ticket should not
be routed to the Swahili desk.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from triage_core.config import Checker, section

__all__ = ["KNOWN_LANGUAGES", "LanguageSettings", "detect", "primary"]


def primary(value: Any) -> str:
    """A language code as the models and routing read it: its primary subtag, lowercased
    (``en-US``, ``en_GB`` and ``EN`` are ``en``; helpdesks export the requester's locale)."""
    return str(value).strip().lower().replace("_", "-").split("-")[0]

# Every label py3langid's shipped model knows (checked against the model by the tests), so
# that validating the settings does not load the model (0.5 s) in processes that never detect.
KNOWN_LANGUAGES = frozenset([
    "af", "am", "ar", "as", "az", "be", "bg", "bn", "br", "bs", "ca", "cs", "cy", "da", "de",
    "el", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha",
    "he", "hi", "hr", "ht", "hu", "hy", "id", "ig", "is", "it", "ja", "jv", "ka", "kk", "km",
    "kn", "ko", "ku", "ky", "la", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr",
    "ms", "my", "ne", "nl", "no", "om", "or", "pa", "pl", "ps", "pt", "qu", "ro", "ru", "sa",
    "si", "sk", "sl", "so", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "ug", "uk",
    "ur", "uz", "vi", "xh", "yo", "zh", "zu", "zxx", "ace", "bcl", "dz", "ext", "gcf", "gom",
    "grc", "gug", "hbo", "kik", "nso", "pcm", "rw", "se", "sn", "st", "an", "ary", "crh", "fo",
    "fuv", "gcr", "guw", "kab", "lb", "lij", "ltg", "uzs", "wa", "sdh", "arz", "ba", "mt",
    "nn", "oc", "tg", "tk", "tt", "vec", "vo", "wuu", "yue"])


@dataclass(frozen=True)
class LanguageSettings:
    candidates: tuple[str, ...]
    min_confidence: float
    min_chars: int
    max_chars: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None = None) -> LanguageSettings:
        raw = section("language", data)
        check = Checker("language")
        check.keys(raw, ("candidates", "min_confidence", "min_chars", "max_chars"))
        candidates = tuple(c.lower() for c in check.texts(raw["candidates"], "candidates"))
        unknown = sorted(set(candidates) - KNOWN_LANGUAGES)
        if unknown:
            check.fail(f"candidates: the detector does not know {', '.join(unknown)}")
        return cls(candidates, check.number(raw["min_confidence"], "min_confidence", lo=0, hi=1),
                   check.integer(raw["min_chars"], "min_chars", lo=0),
                   check.integer(raw["max_chars"], "max_chars", lo=50))


@functools.cache
def _identifier(candidates: tuple[str, ...]) -> Any:
    """A py3langid identifier restricted to ``candidates``."""
    from py3langid import langid

    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    if candidates:
        ident.set_languages(list(candidates))
    return ident


def detect(texts: Sequence[str], settings: LanguageSettings | None = None) -> np.ndarray:
    """ISO 639-1 code of each text, or None when it is too short or not clearly one language.
    A text is judged on its first ``max_chars`` characters. Many texts are judged together
    (:func:`_classify_many`, the same answers as py3langid's ``classify``, which walks every
    byte in Python: about 0.2 ms a ticket, minutes for an export of a million tickets without
    a language column)."""
    settings = settings or LanguageSettings.from_mapping()
    ident = _identifier(settings.candidates)
    out = np.full(len(texts), None, dtype=object)
    todo = [i for i, text in enumerate(texts)
            if isinstance(text, str) and len(text.strip()) >= settings.min_chars]
    cut = [texts[i][:settings.max_chars] for i in todo]
    if len(todo) < _MANY:
        found = [ident.classify(text) for text in cut]
    else:
        found = [pair for at in range(0, len(cut), _CHUNK)
                 for pair in _classify_many(ident, cut[at:at + _CHUNK])]
    for i, (lang, prob) in zip(todo, found, strict=True):
        if prob >= settings.min_confidence:
            out[i] = lang
    return out


_MANY = 64  # from this many texts on, they walk py3langid's automaton together
_CHUNK = 4096  # texts walked at once (their bytes side by side: 4096 x longest text)


@functools.cache
def _tables(ident: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """py3langid's automaton (next state, row offsets, feature of each state) and its
    per-feature class weights, as arrays."""
    return (np.asarray(ident.tk_nextmove, dtype=np.uint32),
            np.asarray(ident._rowbase, dtype=np.int64),
            np.asarray(ident.tk_output, dtype=np.int32),
            np.asarray(ident.nb_ptc, dtype=np.float32))


def _classify_many(ident: Any, texts: Sequence[str]) -> list[tuple[str, float]]:
    """``ident.classify`` of each text, computed for all of them at once: every text's byte
    automaton advances one byte per step (texts sorted longest first, so the ones still going
    are a prefix), then the naive-Bayes scores of all texts are one sparse product. Same steps
    as py3langid's ``_decide`` (NFC, upper-case texts lowered, log1p of feature counts,
    length-scaled softmax, aliased labels folded); sums may differ in the last float bits."""
    from scipy import sparse

    nextmove, rowbase, output, ptc = _tables(ident)
    encoded = [ident._encode(t) for t in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(-lengths, kind="stable")
    longest = int(lengths[order[0]]) if len(order) else 0
    grid = np.zeros((longest, len(encoded)), dtype=np.uint8)  # byte pos x text
    for col, i in enumerate(order.tolist()):
        grid[:lengths[i], col] = np.frombuffer(encoded[i], dtype=np.uint8)
    going = np.searchsorted(-lengths[order], -np.arange(1, longest + 1), side="right")
    state = np.zeros(len(encoded), dtype=np.int64)
    docs, feats = [], []
    for pos in range(longest):
        k = int(going[pos])  # texts with more than pos bytes
        state[:k] = nextmove[rowbase[state[:k]] + grid[pos, :k]]
        f = output[state[:k]]
        hit = np.flatnonzero(f >= 0)
        docs.append(order[hit])
        feats.append(f[hit])
    counts = sparse.csr_matrix(
        (np.ones(sum(map(len, docs)), dtype=np.float32),
         (np.concatenate(docs or [np.zeros(0, np.int64)]),
          np.concatenate(feats or [np.zeros(0, np.int64)]))),
        shape=(len(encoded), len(ptc)))  # duplicates are summed: feature counts
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ ptc, dtype=np.float32) + ident.nb_pc
    scores[np.diff(counts.indptr) == 0] = 0.0  # no feature: every language alike
    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in ident._alias_pairs:
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)
    probs = scores[np.arange(len(best)), best].tolist()
    labels = ident.nb_classes
    return [(labels[b], p) for b, p in zip(best.tolist(), probs, strict=True)]
