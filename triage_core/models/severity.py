"""Severity 1-4 (4 = most severe) from explainable rules kept as data.

Each rule (``defaults/severity.toml``) has a name, a severity and regular expressions (RE2
syntax, matched case-insensitively). A ticket's severity is the highest of its category's default
and of every rule that fires on its text; the fired rules are returned for the explanation.
Matching runs in pyarrow (RE2) over a whole column: one combined pattern per rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from triage_core.config import Checker, section
from triage_core.text import ascii_lower, caseless, to_arrow

__all__ = ["SeverityRule", "SeverityRules", "default_rules"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KEYS = ("default_severity", "category_defaults", "rules")
_RULE_KEYS = ("name", "severity", "description", "patterns")


@dataclass(frozen=True)
class SeverityRule:
    """A named rule: if any of ``patterns`` matches, the ticket is at least ``severity``."""

    name: str
    severity: int
    patterns: tuple[str, ...]
    description: str

    @property
    def regex(self) -> str:
        """The patterns as one case-insensitive RE2 alternation."""
        return "(?i)" + "|".join(f"(?:{p})" for p in self.patterns)


@dataclass(frozen=True)
class SeverityRules:
    """Rules plus per-category default severities: the ``[severity]`` section.

    Build it with ``from_mapping`` (a complete section) or ``from_config`` (the packaged
    defaults with a user's section on top).
    """

    rules: tuple[SeverityRule, ...]
    category_defaults: tuple[tuple[str, int], ...]
    default_severity: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SeverityRules:
        """Validate a complete ``[severity]`` section; ConfigError names the bad key."""
        check = Checker("severity")
        if not isinstance(data, Mapping):
            check.fail(f"expected a table of settings, got {data!r}")
        check.keys(data, _KEYS)
        missing = [key for key in _KEYS if key not in data]
        if missing:
            check.fail(f"{missing[0]} is missing")
        default = _level(data["default_severity"], "default_severity", check)
        category_defaults = tuple(
            (str(cat), _level(val, f"category_defaults.{cat}", check))
            for cat, val in check.table(data["category_defaults"], "category_defaults").items())
        raw_rules = data["rules"]
        if not isinstance(raw_rules, list):
            check.fail(f"rules must be an array of tables ([[rules]]), got {raw_rules!r}")
        rules: list[SeverityRule] = []
        for i, raw in enumerate(raw_rules):
            rule = _rule(raw, i, check)
            if any(r.name == rule.name for r in rules):
                check.fail(f"rules[{i}].name {rule.name!r} is a duplicate rule name")
            rules.append(rule)
        return cls(tuple(rules), category_defaults, default)

    @classmethod
    def from_config(cls, over: Mapping[str, Any] | None = None) -> SeverityRules:
        """The packaged defaults with ``over`` (a parsed ``[severity]`` table) on top."""
        return cls.from_mapping(section("severity", over))

    def category_severity(self, categories: Iterable[Any] | pd.Series) -> np.ndarray:
        """The default severity of each category (``default_severity`` if unknown/missing)."""
        table = dict(self.category_defaults)
        values = categories.tolist() if isinstance(categories, pd.Series) else list(categories)
        return np.array([table.get(c, self.default_severity) if isinstance(c, str)
                         else self.default_severity for c in values], dtype=np.int64)

    def matches(self, texts: Iterable[Any] | pd.Series | pa.Array) -> np.ndarray:
        """Boolean matrix (texts x rules): which rule fires on which text."""
        few = _few_texts(texts)
        compiled = _python_rules(self.rules) if few is not None else None
        if few is not None and compiled is not None:
            out = np.zeros((len(few), len(self.rules)), dtype=bool)
            for i, text in enumerate(few):
                text = _QUOTES.sub("'", _BLANKS.sub(" ", text))
                if compiled.gate is not None:  # lowered: no rule fires on most texts
                    text = ascii_lower(text)
                    if compiled.gate.search(text) is None:
                        continue
                for k, rule in enumerate(compiled.rules):
                    out[i, k] = rule.search(text) is not None
            return out
        arr = texts if isinstance(texts, pa.Array) else to_arrow(texts)
        arr = pc.replace_substring_regex(arr.cast(pa.large_string()).fill_null(""),
                                         pattern=_RE2_BLANK_RUNS, replacement=" ")
        arr = pc.replace_substring_regex(arr, pattern="[\u2018\u2019]", replacement="'")
        out = np.zeros((len(arr), len(self.rules)), dtype=bool)
        rows = None
        if len(self.rules) > 1:
            # one pass finds the texts any rule fires on (about one in eight tickets): each
            # rule then runs on those only
            gate = pc.match_substring_regex(arr, pattern=self.regex).to_numpy(
                zero_copy_only=False)
            rows = np.flatnonzero(gate)
            if not rows.size:
                return out
            if rows.size < len(arr):
                arr = arr.take(pa.array(rows))
        for k, rule in enumerate(self.rules):
            hit = pc.match_substring_regex(arr, pattern=rule.regex).to_numpy(
                zero_copy_only=False)
            if rows is None or rows.size == len(out):
                out[:, k] = hit
            else:
                out[rows, k] = hit
        return out

    @property
    def regex(self) -> str:
        """Every rule's patterns as one case-insensitive RE2 alternation."""
        return "(?i)" + "|".join(f"(?:{p})" for r in self.rules for p in r.patterns)

    def assess(self, texts: Sequence[Any] | pd.Series | pa.Array,
               categories: Iterable[Any] | pd.Series | None = None) -> pd.DataFrame:
        """Severity for each text (with its category, if given).

        Returns ``severity`` (1-4), ``severity_rules`` (fired rule names, most severe first,
        comma-separated; "" if none) and ``severity_reason`` (a readable explanation). The
        index is that of ``texts`` if it is a Series.
        """
        severity, rule_names, reasons = self.assess_columns(texts, categories)
        index = texts.index if isinstance(texts, pd.Series) else None
        return pd.DataFrame({"severity": severity, "severity_rules": rule_names,
                             "severity_reason": reasons}, index=index)

    def assess_columns(self, texts: Sequence[Any] | pd.Series | pa.Array,
                       categories: Iterable[Any] | pd.Series | None = None
                       ) -> tuple[np.ndarray, list[str], list[str]]:
        """:meth:`assess` as its three columns (no DataFrame: the server's batches of a few
        tickets)."""
        n = len(texts)
        if categories is None:
            base = np.full(n, self.default_severity, dtype=np.int64)
            cats: list[Any] = [None] * n
        else:
            cats = categories.tolist() if isinstance(categories, pd.Series) else list(categories)
            if len(cats) != n:
                raise ValueError(f"{n} texts but {len(cats)} categories")
            base = self.category_severity(cats)
        fired = self.matches(texts)
        levels = np.array([r.severity for r in self.rules], dtype=np.int64)
        rule_level = (fired * levels).max(axis=1) if self.rules else np.zeros(n, dtype=np.int64)
        severity = np.maximum(base, rule_level)
        # fired-rule sets as bit masks: strings are built once per distinct set
        order = sorted(range(len(self.rules)), key=lambda k: (-self.rules[k].severity, k))
        bits = (fired.astype(np.int64) << np.arange(len(self.rules), dtype=np.int64)).sum(axis=1) \
            if self.rules else np.zeros(n, dtype=np.int64)
        names: dict[int, tuple[str, str]] = {}
        for mask in np.unique(bits).tolist():
            chosen = [self.rules[k] for k in order if mask >> k & 1]
            names[mask] = (", ".join(r.name for r in chosen),
                           ", ".join(f"{r.name.replace('_', ' ')} ({r.severity})"
                                     for r in chosen))
        rule_names = [names[b][0] for b in bits.tolist()]
        defaults = dict(self.category_defaults)
        reasons = [
            names[b][1] if b else (f"category default for {c} ({s})" if isinstance(c, str)
                                   and c in defaults
                                   else f"default ({s})")
            for b, c, s in zip(bits.tolist(), cats, base.tolist(), strict=True)
        ]
        return severity, rule_names, reasons


# A few texts are matched by Python's re instead of RE2 (which pyarrow compiles again on every
# call), when every pattern is ASCII and free of syntax the two engines read differently. With
# re.ASCII, \b \d \w \s and the classes mean the same in both; case-insensitive matching
# of an ASCII pattern differs only on the Kelvin sign and the long s (RE2 folds them to k and
# s), and \s lacks \v in RE2: texts holding one of those three stay with RE2. After blanks
# became spaces no text has a line break, so ^ $ . agree too.
_SMALL = 64
_BLANKS = re.compile(r"\s+", re.ASCII)
# The same as RE2's \s+ -> " " (its \s is [\t\n\f\r ]), but a lone space, which needs no
# change, is not a match: about 4 times faster, as most matches of \s+ were lone spaces.
_RE2_BLANK_RUNS = r"[\t\n\f\r ]{2,}|[\t\n\f\r]"
_QUOTES = re.compile("[\u2018\u2019]")
_DIFFERENT = frozenset("\x0b\u212a\u017f")
_RE2_ONLY = re.compile(r"\[:|\\[pPzCQExAa]|\(\?[^:i)]|\(\?i[^:)]")


def _few_texts(texts: Any) -> list[str] | None:
    """The texts as a list when they are few and read the same by both engines; else None."""
    if isinstance(texts, pa.Array) or len(texts) > _SMALL:
        return None
    values = texts.tolist() if isinstance(texts, pd.Series) else list(texts)
    out = []
    for v in values:
        t = "" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)
        if not _DIFFERENT.isdisjoint(t):
            return None
        out.append(t)
    return out


class _PythonRules(NamedTuple):
    """The rules for Python's re: each rule's pattern, and a gate that finds the texts any
    of them fires on. When every pattern allows (:func:`~triage_core.text.caseless`), both
    are compiled for texts lowered by :func:`~triage_core.text.ascii_lower` (2.5 times
    faster than matching without regard to case); else the gate is None and the rules
    match the texts as they are."""

    rules: tuple[re.Pattern[str], ...]
    gate: re.Pattern[str] | None


@functools.cache
def _python_rules(rules: tuple[SeverityRule, ...]) -> _PythonRules | None:
    """Each rule's pattern for Python's re, or None when one of them may read differently."""
    bodies, anycase = [], []
    for rule in rules:
        body = "|".join(f"(?:{p})" for p in rule.patterns)
        if not body.isascii() or _RE2_ONLY.search(body):
            return None
        try:
            anycase.append(re.compile(body, re.ASCII | re.IGNORECASE))
        except re.error:
            return None
        bodies.append(body)
    lowered = [caseless(body, re.ASCII) for body in bodies]
    gate = caseless("|".join(f"(?:{b})" for b in bodies), re.ASCII) if bodies else None
    if gate is not None and all(p is not None for p in lowered):
        return _PythonRules(tuple(p for p in lowered if p is not None), gate)
    return _PythonRules(tuple(anycase), None)


def _level(value: Any, key: str, check: Checker) -> int:
    return check.integer(value, key, lo=1, hi=4)


def _rule(raw: Any, i: int, check: Checker) -> SeverityRule:
    """Rule ``i`` of ``[[rules]]``, validated."""
    key = f"rules[{i}]"
    if not isinstance(raw, Mapping):
        check.fail(f"{key} must be a table with name, severity, patterns, got {raw!r}")
    check.keys(raw, _RULE_KEYS, prefix=f"{key}.")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        check.fail(f"{key}.name must be a name of a-z, 0-9 and _, got {name!r}")
    key = f"rules[{i}] ({name})"
    if "severity" not in raw:
        check.fail(f"{key}.severity is missing")
    level = _level(raw["severity"], f"{key}.severity", check)
    description = raw.get("description", "")  # optional
    if not isinstance(description, str):
        check.fail(f"{key}.description must be a text, got {description!r}")
    patterns = raw.get("patterns")
    if (not isinstance(patterns, list) or not patterns
            or not all(isinstance(p, str) and p for p in patterns)):
        check.fail(f"{key}.patterns must be a non-empty list of regex strings, "
                   f"got {patterns!r}")
    for j, pattern in enumerate(patterns):
        error = _re2_error(pattern)
        if error is not None:
            check.fail(f"{key}.patterns[{j}] is not a valid regular expression for RE2 "
                       f"({error}); look-arounds and back-references are not supported")
    return SeverityRule(name, level, tuple(patterns), description)


def _re2_error(pattern: str) -> str | None:
    """Why RE2 refuses ``pattern`` (matched case-insensitively), or None."""
    try:
        pc.match_substring_regex(pa.array([""]), pattern="(?i)" + pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        return str(exc).splitlines()[0]
    return None


@functools.cache
def default_rules() -> SeverityRules:
    """Rules from the packaged ``defaults/severity.toml``."""
    return SeverityRules.from_config()
