"""Which language a ticket is written in, for tickets that arrive without one.

py3langid (a maintained fork of langid.py) ships its model in the wheel, so nothing is
downloaded. Detection is restricted to the configured candidate languages, and a text that is
too short or not clearly one language gets no language (``None``): a one-word ticket should not
be routed to the Swahili desk.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from triage_core.config import Checker, section
from triage_core.errors import ModelError

__all__ = ["KNOWN_LANGUAGES", "LanguageSettings", "detect", "other_script", "primary"]


# Languages by name, as some helpdesks export them (Freshdesk's "Language" column: "English",
# "Portuguese (BR)"), in English and in the language itself -> ISO 639-1.
LANGUAGE_NAMES = {
    "english": "en", "german": "de", "deutsch": "de", "french": "fr", "français": "fr",
    "francais": "fr", "spanish": "es", "español": "es", "espanol": "es", "castellano": "es",
    "portuguese": "pt", "português": "pt", "portugues": "pt", "italian": "it",
    "italiano": "it", "dutch": "nl", "nederlands": "nl", "flemish": "nl", "polish": "pl",
    "polski": "pl", "swedish": "sv", "svenska": "sv", "danish": "da", "dansk": "da",
    "norwegian": "no", "norsk": "no", "bokmål": "no", "finnish": "fi", "suomi": "fi",
    "russian": "ru", "русский": "ru", "ukrainian": "uk", "українська": "uk", "czech": "cs",
    "čeština": "cs", "slovak": "sk", "slovenčina": "sk", "hungarian": "hu", "magyar": "hu",
    "romanian": "ro", "română": "ro", "bulgarian": "bg", "greek": "el", "ελληνικά": "el",
    "turkish": "tr", "türkçe": "tr", "arabic": "ar", "العربية": "ar", "hebrew": "he",
    "עברית": "he", "japanese": "ja", "日本語": "ja", "chinese": "zh", "中文": "zh",
    "korean": "ko", "한국어": "ko", "vietnamese": "vi", "tiếng việt": "vi", "thai": "th",
    "indonesian": "id", "bahasa indonesia": "id", "malay": "ms", "bahasa melayu": "ms",
    "hindi": "hi", "croatian": "hr", "hrvatski": "hr", "serbian": "sr", "slovenian": "sl",
    "estonian": "et", "latvian": "lv", "lithuanian": "lt", "catalan": "ca", "català": "ca",
    "icelandic": "is", "persian": "fa", "farsi": "fa", "filipino": "tl", "tagalog": "tl",
    "urdu": "ur", "bengali": "bn", "tamil": "ta", "swahili": "sw", "afrikaans": "af",
}
# "Portuguese (BR)", "Chinese [Traditional]", "中文（简体）", "Spanish - Latin America"
_QUALIFIER = re.compile(r"\s*(?:[(\[（]|\s[-–]\s).*$")
_CODE = re.compile(r"[a-z]{2,3}(?:[-_].*)?")  # en, eng, en-US, pt_BR: read as a code


def primary(value: Any) -> str:
    """A language code as the models and routing read it: its primary subtag, lowercased
    (``en-US``, ``en_GB`` and ``EN`` are ``en``; helpdesks export the requester's locale), or
    the code of a language's name (``English``, ``Portuguese (BR)`` and ``Deutsch``: a
    Freshdesk export's Language column)."""
    text = str(value).strip().lower()
    if not _CODE.fullmatch(text):
        named = LANGUAGE_NAMES.get(_QUALIFIER.sub("", text).strip())
        if named is not None:
            return named
    return text.replace("_", "-").split("-")[0]

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
    A text is judged on its first ``max_chars`` characters. The texts are judged together
    (:func:`_classify_many`, the same answers as py3langid's ``classify``, which walks every
    byte in Python: about 0.1 ms a ticket, minutes for an export of a million tickets without
    a language column)."""
    settings = settings or LanguageSettings.from_mapping()
    ident = _identifier(settings.candidates)
    out = np.full(len(texts), None, dtype=object)
    todo = [i for i, text in enumerate(texts)
            if isinstance(text, str) and len(text.strip()) >= settings.min_chars]
    cut = [texts[i][:settings.max_chars] for i in todo]
    found = [pair for at in range(0, len(cut), _CHUNK)
             for pair in _classify_many(ident, cut[at:at + _CHUNK])]
    for i, (lang, prob) in zip(todo, found, strict=True):
        if prob >= settings.min_confidence:
            out[i] = lang
    return out


# Languages written in the Latin script. A text too short to detect is taken to be in the
# default language; when that language is one of these and the text's letters are mostly of
# another script (a short Chinese or Russian ticket), it is not.
LATIN_SCRIPT = frozenset([
    "af", "az", "br", "bs", "ca", "cs", "cy", "da", "de", "en", "eo", "es", "et", "eu", "fi",
    "fo", "fr", "fy", "ga", "gd", "gl", "ha", "hr", "ht", "hu", "id", "ig", "is", "it", "jv",
    "la", "lb", "lg", "ln", "lt", "lv", "mg", "ms", "mt", "nl", "nn", "no", "oc", "om", "pl",
    "pt", "qu", "ro", "rw", "se", "sk", "sl", "sn", "so", "sq", "st", "sv", "sw", "tk", "tl",
    "tr", "uz", "vi", "wa", "xh", "yo", "zu"])
_LETTERS = re.compile(r"[^\W\d_]")
_LATIN_LETTERS = re.compile(r"[A-Za-z\u00aa\u00ba\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f"
                            r"\ua720-\ua7ff\uff21-\uff3a\uff41-\uff5a]")


def other_script(texts: Sequence[Any], language: str) -> np.ndarray:
    """Which texts cannot be in ``language`` by their letters: ``language`` is written in the
    Latin script and most of a text's letters are of another one. False for every text when
    ``language`` is not in :data:`LATIN_SCRIPT`, and for texts without letters."""
    out = np.zeros(len(texts), dtype=bool)
    if language not in LATIN_SCRIPT:
        return out
    for i, text in enumerate(texts):
        if isinstance(text, str):
            letters = len(_LETTERS.findall(text))
            out[i] = letters > 0 and 2 * len(_LATIN_LETTERS.findall(text)) < letters
    return out


_CHUNK = 4096  # texts judged at once
_BYTES = 1 << 20  # and at most about this many of their bytes (the arrays of the walk)


@functools.cache
def _tables(ident: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """py3langid's automaton (next state, row offsets, feature of each state), its
    per-feature class weights, as arrays, the automaton's depth (see :func:`_depth`) and a
    byte that leaves the start state as it is."""
    nextmove = np.asarray(ident.tk_nextmove, dtype=np.uint32)
    rowbase = np.asarray(ident._rowbase, dtype=np.int64)
    blank = np.flatnonzero(nextmove[rowbase[0]:rowbase[0] + 256] == 0)
    if not blank.size:
        raise ModelError("the language detector's model has no byte that keeps its start state")
    # row-major: the restricted model's weights are a column selection (column-major), which
    # makes the product with the counts 20 times slower
    return (nextmove, rowbase, np.asarray(ident.tk_output, dtype=np.int32),
            np.ascontiguousarray(ident.nb_ptc, dtype=np.float32), _depth(nextmove, rowbase),
            int(blank[0]))


def _depth(nextmove: np.ndarray, rowbase: np.ndarray) -> int:
    """The most bytes a state of the automaton stands for: the longest of the shortest paths
    from the start state (breadth first over all 256 bytes of every state).

    py3langid's automaton is an Aho-Corasick automaton of its byte n-grams: each state stands
    for a string of at most this many bytes, and the state after a text is the one of the
    longest suffix of the text that is such a string (checked for every one of the 26.8
    million transitions of py3langid 0.4's model: the target of (state, byte) is the state of
    the longest suffix of the state's string plus the byte). So the state after a byte depends
    only on that byte and the ones before it within this depth, which lets
    :func:`_classify_many` walk every position of every text at once."""
    seen = np.zeros(len(rowbase), dtype=bool)
    seen[0] = True
    frontier = np.zeros(1, dtype=np.int64)
    every_byte = np.arange(256, dtype=np.int64)
    depth = 0
    while True:
        nxt = nextmove[(rowbase[frontier][:, None] + every_byte).ravel()]
        new = np.zeros(len(rowbase), dtype=bool)
        new[nxt] = True
        new &= ~seen
        if not new.any():
            return depth
        seen |= new
        frontier = np.flatnonzero(new)
        depth += 1


def _classify_many(ident: Any, texts: Sequence[str]) -> list[tuple[str, float]]:
    """``ident.classify`` of each text, computed for all of them at once. The state of the
    automaton after each byte is the state reached from the start state by that byte and the
    ``depth - 1`` bytes before it (of the same text; see :func:`_depth`): ``depth`` steps
    over the bytes of all texts at once, whatever their length. Then the naive-Bayes scores
    of all texts are one sparse product. Same steps as py3langid's ``_decide`` (NFC,
    upper-case texts lowered, log1p of feature counts, length-scaled softmax, aliased labels
    folded); sums may differ in the last float bits."""
    encoded = [ident._encode(t) for t in texts]
    out: list[tuple[str, float]] = []
    at, size = 0, 0
    for i, data in enumerate(encoded):
        size += len(data)
        if size >= _BYTES or i == len(encoded) - 1:
            out += _classify_encoded(ident, encoded[at:i + 1])
            at, size = i + 1, 0
    return out


def _classify_encoded(ident: Any, encoded: Sequence[bytes]) -> list[tuple[str, float]]:
    """:func:`_classify_many` of texts encoded as py3langid does."""
    from scipy import sparse

    nextmove, rowbase, output, ptc, depth, blank = _tables(ident)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    # each text after depth - 1 bytes that keep the automaton in its start state: the bytes
    # ``back`` before any byte of a text are in reach of a slice, and the walk needs no mask
    pad = bytes([blank]) * (depth - 1)
    data = np.frombuffer(pad + pad.join(encoded), dtype=np.uint8).astype(np.int64)
    state = np.zeros(len(data) - (depth - 1), dtype=np.int64)
    for back in range(depth - 1, -1, -1):  # the byte ``back`` before each position, then on
        state = nextmove[rowbase[state] + data[depth - 1 - back:len(data) - back]]
    real = np.ones(len(state), dtype=bool)  # the texts' bytes, not the padding between them
    starts = np.cumsum(lengths + depth - 1) - lengths - (depth - 1)
    for k in range(depth - 1):
        real[(starts + lengths + k)[:-1]] = False
    feature = output[state[real]]
    hit = feature >= 0
    # (text, feature) of every hit, sorted: each run is one feature of one text, its length
    # the feature's count
    key = np.sort(np.repeat(np.arange(len(encoded), dtype=np.int64), lengths)[hit] * len(ptc)
                  + feature[hit])
    run = np.flatnonzero(np.diff(key, prepend=-1))
    text, column = np.divmod(key[run], len(ptc))
    counts = sparse.csr_matrix(
        (np.log1p(np.diff(run, append=len(key))).astype(np.float32), column,
         np.concatenate([[0], np.cumsum(np.bincount(text, minlength=len(encoded)))])),
        shape=(len(encoded), len(ptc)))
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
