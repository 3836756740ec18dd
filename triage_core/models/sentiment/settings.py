"""Settings of the zero-shot sentiment scorer: the ``[sentiment]`` section, and the labels.

Label bands, how sentence scores combine, and the support-domain lexicon (single words,
multi-word phrases, regular-expression patterns) added on top of VADER's. The defaults live
only in ``config/defaults/sentiment.toml``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from triage_core.config import Checker, section
from triage_core.schema import SENTIMENT_LABELS

__all__ = ["LABELS", "PatternRule", "SentimentBands", "SentimentSettings", "default_settings",
           "label"]

LABELS = SENTIMENT_LABELS  # negative, neutral, positive
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class SentimentBands:
    """Label bands: negative if score <= neg_threshold, positive if >= pos_threshold."""

    neg_threshold: float
    pos_threshold: float


@dataclass(frozen=True)
class PatternRule:
    """A regular expression (matched case-insensitively) that counts as one lexicon token."""

    name: str
    regex: str
    valence: float


@dataclass(frozen=True)
class SentimentSettings:
    """Everything the zero-shot scorer needs.

    Build it with ``from_mapping`` (a complete ``[sentiment]`` section, e.g. ``to_config()``'s
    output) or ``from_config`` (the packaged defaults with a user's section on top).
    """

    bands: SentimentBands
    negative_weight: float
    question_weight: float
    lexicon: tuple[tuple[str, float], ...]
    phrases: tuple[tuple[str, float], ...]
    patterns: tuple[PatternRule, ...]
    ignore_words: tuple[str, ...]
    # languages the lexicon covers (ISO 639-1); tickets in others are not scored. Empty: any
    # (settings stored with models trained before this key existed).
    languages: tuple[str, ...] = ()
    # The rules below came later; a stored section without them keeps the rules it was
    # trained with (the defaults here), so a saved model scores the same.
    # What a negated negative word's valence is multiplied by (None: VADER's -0.74).
    negated_negative: float | None = None
    # The score of a text without sentiment words that holds a negation ("it still does
    # not work"); 0: such a text is neutral.
    bare_negation: float = 0.0
    # How sentences weigh in the text's score: "equal" or "length" (token count).
    sentence_weighting: str = "length"
    # Informal text: hashtags split into words, letters repeated for emphasis squeezed,
    # words joined by an ellipsis separated.
    normalize_informal: bool = False
    # What positive words at or after one of ``hypothetical_words`` in their sentence are
    # multiplied by (None: no such rule).
    hypothetical_weight: float | None = None
    hypothetical_words: tuple[str, ...] = ()
    # Emoji read as these words instead of VADER's description of them ("pouting face" for
    # 😡 holds no word of the lexicon). Empty: VADER's descriptions.
    emoji: tuple[tuple[str, str], ...] = ()
    # Marks of sarcasm (an eye-roll emoji): in a text holding one, the positive sentences
    # count as negative ones ("great job 🙄"). Empty: no such rule.
    sarcasm_markers: tuple[str, ...] = ()

    _KEYS = ("neg_threshold", "pos_threshold", "negative_weight", "question_weight",
             "ignore_words", "lexicon", "phrases", "patterns", "languages", "negated_negative",
             "bare_negation", "sentence_weighting", "normalize_informal",
             "hypothetical_weight", "hypothetical_words", "emoji", "sarcasm_markers")
    _OPTIONAL = ("languages", "negated_negative", "bare_negation", "sentence_weighting",
                 "normalize_informal", "hypothetical_weight", "hypothetical_words", "emoji",
                 "sarcasm_markers")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SentimentSettings:
        """Validate a complete ``[sentiment]`` section; ConfigError names the bad key."""
        check = Checker("sentiment")
        if not isinstance(data, Mapping):
            check.fail(f"expected a table of settings, got {data!r}")
        check.keys(data, cls._KEYS)
        missing = [key for key in cls._KEYS if key not in data and key not in cls._OPTIONAL]
        if missing:
            check.fail(f"{missing[0]} is missing")
        neg = check.number(data["neg_threshold"], "neg_threshold", lo=-1, hi=1)
        pos = check.number(data["pos_threshold"], "pos_threshold", lo=-1, hi=1)
        if neg >= pos:
            check.fail(f"neg_threshold must be below pos_threshold ({neg} >= {pos})")
        negative_weight = check.number(data["negative_weight"], "negative_weight",
                                       positive=True, hi=100)
        question_weight = check.number(data["question_weight"], "question_weight", lo=0, hi=1)
        ignore_words = _ignore_words(data["ignore_words"], check)
        languages = tuple(x.lower() for x in check.texts(data.get("languages", []),
                                                           "languages"))
        negated_negative = (None if data.get("negated_negative") is None else check.number(
            data["negated_negative"], "negated_negative", lo=-1, hi=1))
        bare_negation = check.number(data.get("bare_negation", 0.0), "bare_negation",
                                     lo=-1, hi=0)
        weighting = data.get("sentence_weighting", "length")
        if weighting not in ("equal", "length"):
            check.fail(f"sentence_weighting must be \"equal\" or \"length\", got {weighting!r}")
        informal = data.get("normalize_informal", False)
        if not isinstance(informal, bool):
            check.fail(f"normalize_informal must be true or false, got {informal!r}")
        hypothetical = (None if data.get("hypothetical_weight") is None else check.number(
            data["hypothetical_weight"], "hypothetical_weight", lo=0, hi=1))
        hypothetical_words = tuple(w.lower() for w in check.texts(
            data.get("hypothetical_words", []), "hypothetical_words"))
        return cls(SentimentBands(neg, pos), negative_weight, question_weight,
                   _lexicon(data["lexicon"], check), _phrases(data["phrases"], check),
                   _patterns(data["patterns"], check), ignore_words, languages,
                   negated_negative, bare_negation, weighting, informal, hypothetical,
                   hypothetical_words, _emoji(data.get("emoji", {}), check),
                   _markers(data.get("sarcasm_markers", []), check))

    @classmethod
    def from_config(cls, over: Mapping[str, Any] | None = None) -> SentimentSettings:
        """The packaged defaults with ``over`` (a parsed ``[sentiment]`` table) on top."""
        return cls.from_mapping(section("sentiment", over))

    def to_config(self) -> dict[str, Any]:
        """The plain-dict form (round-trips through ``from_mapping``)."""
        return {
            "neg_threshold": self.bands.neg_threshold,
            "pos_threshold": self.bands.pos_threshold,
            "negative_weight": self.negative_weight,
            "question_weight": self.question_weight,
            "ignore_words": list(self.ignore_words),
            "lexicon": dict(self.lexicon),
            "phrases": dict(self.phrases),
            "patterns": {p.name: {"regex": p.regex, "valence": p.valence}
                         for p in self.patterns},
            "languages": list(self.languages),
            "bare_negation": self.bare_negation,
            "sentence_weighting": self.sentence_weighting,
            "normalize_informal": self.normalize_informal,
            # TOML has no null: no rule is written as weight 1 (positive words count fully)
            "hypothetical_weight": (1.0 if self.hypothetical_weight is None
                                    else self.hypothetical_weight),
            "hypothetical_words": list(self.hypothetical_words),
            "emoji": dict(self.emoji),
            "sarcasm_markers": list(self.sarcasm_markers),
            # TOML has no null: VADER's own negation is written as its value
            "negated_negative": (-0.74 if self.negated_negative is None
                                 else self.negated_negative),
        }


def _valence(value: Any, key: str, check: Checker) -> float:
    return check.number(value, key, lo=-4, hi=4)


def _ignore_words(value: Any, check: Checker) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
            isinstance(w, str) and w and not any(c.isspace() for c in w) for w in value):
        check.fail(f"ignore_words must be a list of single words, got {value!r}")
    return tuple(w.lower() for w in value)


def _lexicon(value: Any, check: Checker) -> tuple[tuple[str, float], ...]:
    out = []
    for word, val in check.table(value, "lexicon").items():
        if not word or any(c.isspace() for c in word):
            check.fail(f"lexicon.{word!r} must be one word; put multi-word entries under "
                       "[phrases]")
        out.append((word.lower(), _valence(val, f"lexicon.{word!r}", check)))
    return tuple(out)


def _phrases(value: Any, check: Checker) -> tuple[tuple[str, float], ...]:
    out = []
    for phrase, val in check.table(value, "phrases").items():
        words = phrase.lower().split()
        if len(words) < 2:
            check.fail(f"phrases.{phrase!r} must have two or more words; put single words "
                       "under [lexicon]")
        out.append((" ".join(words), _valence(val, f"phrases.{phrase!r}", check)))
    return tuple(out)


def _emoji(value: Any, check: Checker) -> tuple[tuple[str, str], ...]:
    """``[sentiment.emoji]``: one emoji (a character outside ASCII, as VADER replaces them)
    -> the words it reads as."""
    out = []
    for char, words in check.table(value, "emoji").items():
        if len(char) != 1 or char.isascii() or char.isalnum() or char.isspace():
            check.fail(f"emoji.{char!r}: a key is one emoji character")
        if not isinstance(words, str) or not re.fullmatch(r"[a-z]+(?: [a-z]+)*", words):
            check.fail(f"emoji.{char!r} must be words in lower case, such as \"angry\","
                       f" got {words!r}")
        out.append((char, words))
    return tuple(out)


def _markers(value: Any, check: Checker) -> tuple[str, ...]:
    """``sarcasm_markers``: texts of 1-30 characters without spaces (an emoji, "#sarcasm")."""
    out = check.texts(value, "sarcasm_markers")
    for marker in out:
        if not 1 <= len(marker) <= 30 or any(c.isspace() for c in marker):
            check.fail(f"sarcasm_markers: {marker!r} is not one emoji or word of at most 30"
                       " characters")
    return tuple(out)


def _regex_error(regex: str) -> str | None:
    try:
        re.compile(regex)
    except re.error as exc:
        return str(exc)
    return None


def _patterns(value: Any, check: Checker) -> tuple[PatternRule, ...]:
    out = []
    for name, rule in check.table(value, "patterns").items():
        key = f"patterns.{name}"
        if not _NAME.fullmatch(name):
            check.fail(f"patterns.{name!r}: pattern names use a-z, 0-9 and _")
        if not isinstance(rule, Mapping) or set(rule) != {"regex", "valence"}:
            check.fail(f"{key} must be a table with 'regex' and 'valence', got {rule!r}")
        regex = rule["regex"]
        if not isinstance(regex, str):
            check.fail(f"{key}.regex must be a string, got {regex!r}")
        error = _regex_error(regex)
        if error is not None:
            check.fail(f"{key}.regex is not a valid regular expression ({error})")
        out.append(PatternRule(name, regex, _valence(rule["valence"], f"{key}.valence", check)))
    return tuple(out)


@functools.cache
def default_settings() -> SentimentSettings:
    """Settings from the packaged ``defaults/sentiment.toml``."""
    return SentimentSettings.from_config()


def label(scores: Any, bands: SentimentBands | None = None) -> np.ndarray:
    """negative / neutral / positive for each score (NaN -> neutral)."""
    bands = bands or default_settings().bands
    s = np.asarray(scores, dtype=float)
    return np.where(s <= bands.neg_threshold, "negative",
                    np.where(s >= bands.pos_threshold, "positive", "neutral")).astype(object)
