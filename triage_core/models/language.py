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

__all__ = ["KNOWN_LANGUAGES", "LanguageSettings", "detect"]

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
    A text is judged on its first ``max_chars`` characters."""
    settings = settings or LanguageSettings.from_mapping()
    ident = _identifier(settings.candidates)
    out = np.full(len(texts), None, dtype=object)
    for i, text in enumerate(texts):
        text = text if isinstance(text, str) else ""
        if len(text.strip()) < settings.min_chars:
            continue
        lang, prob = ident.classify(text[:settings.max_chars])
        if prob >= settings.min_confidence:
            out[i] = lang
    return out
