"""Severity 1-4 (4 = most severe) from explainable rules kept as data.

Each rule (``defaults/severity.toml``) has a name, a severity and regular expressions (RE2
syntax, matched case-insensitively). A ticket's severity is the highest of its category's default
and of every rule that fires on its text; the fired rules are returned for the explanation.
Matching runs in pyarrow (RE2) over a whole column: one combined pattern per rule.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from triage_core.errors import ConfigError
from triage_core.text import to_arrow

__all__ = [
    "CATEGORIES",
    "SeverityRule",
    "SeverityRules",
    "assess_severity",
    "default_rules",
]

CATEGORIES = ("billing", "refund", "coupon_promo", "account_access", "app_crash",
              "shipping_delivery", "cancellation", "product_question", "feature_request",
              "security_fraud")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KEYS = ("default_severity", "category_defaults", "rules")
_RULE_KEYS = ("name", "severity", "description", "patterns")


@dataclass(frozen=True)
class SeverityRule:
    """A named rule: if any of ``patterns`` matches, the ticket is at least ``severity``."""

    name: str
    severity: int
    patterns: tuple[str, ...]
    description: str = ""

    @property
    def regex(self) -> str:
        """The patterns as one case-insensitive RE2 alternation."""
        return "(?i)" + "|".join(f"(?:{p})" for p in self.patterns)


@dataclass(frozen=True)
class SeverityRules:
    """Rules plus per-category default severities; build with ``from_config``."""

    rules: tuple[SeverityRule, ...]
    category_defaults: tuple[tuple[str, int], ...]
    default_severity: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SeverityRules:
        """Validate a parsed ``severity`` TOML section; ConfigError names the bad key."""
        if not isinstance(config, Mapping):
            raise ConfigError("severity: expected a table of settings")
        for key in config:
            if key not in _KEYS:
                raise ConfigError(f"severity.{key}: unknown setting (known: {', '.join(_KEYS)})")
        default = _level(config.get("default_severity", 1), "severity.default_severity")
        cats = config.get("category_defaults", {})
        if not isinstance(cats, Mapping):
            raise ConfigError("severity.category_defaults: expected a table category = 1..4")
        category_defaults = tuple(
            (str(cat), _level(val, f"severity.category_defaults.{cat}"))
            for cat, val in cats.items())
        raw_rules = config.get("rules", [])
        if not isinstance(raw_rules, list):
            raise ConfigError("severity.rules: expected an array of tables ([[rules]])")
        rules: list[SeverityRule] = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_rules):
            where = f"severity.rules[{i}]"
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{where}: expected a table with name, severity, patterns")
            for key in raw:
                if key not in _RULE_KEYS:
                    raise ConfigError(f"{where}.{key}: unknown key (known: "
                                      f"{', '.join(_RULE_KEYS)})")
            name = raw.get("name")
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise ConfigError(f"{where}.name: expected a name of a-z, 0-9 and _, "
                                  f"got {name!r}")
            if name in seen:
                raise ConfigError(f"{where}.name: duplicate rule name {name!r}")
            seen.add(name)
            where = f"severity.rules[{i}] ({name})"
            if "severity" not in raw:
                raise ConfigError(f"{where}.severity: missing")
            level = _level(raw["severity"], f"{where}.severity")
            description = raw.get("description", "")
            if not isinstance(description, str):
                raise ConfigError(f"{where}.description: expected a string")
            patterns = raw.get("patterns")
            if (not isinstance(patterns, list) or not patterns
                    or not all(isinstance(p, str) and p for p in patterns)):
                raise ConfigError(f"{where}.patterns: expected a non-empty list of regex strings")
            for j, pattern in enumerate(patterns):
                _check_regex(pattern, f"{where}.patterns[{j}]")
            rules.append(SeverityRule(name, level, tuple(patterns), description))
        return cls(tuple(rules), category_defaults, default)

    def category_severity(self, categories: Iterable[Any] | pd.Series) -> np.ndarray:
        """The default severity of each category (``default_severity`` if unknown/missing)."""
        table = dict(self.category_defaults)
        values = categories.tolist() if isinstance(categories, pd.Series) else list(categories)
        return np.array([table.get(c, self.default_severity) if isinstance(c, str)
                         else self.default_severity for c in values], dtype=np.int64)

    def matches(self, texts: Iterable[Any] | pd.Series | pa.Array) -> np.ndarray:
        """Boolean matrix (texts x rules): which rule fires on which text."""
        arr = texts if isinstance(texts, pa.Array) else to_arrow(texts)
        arr = pc.replace_substring_regex(arr.cast(pa.large_string()).fill_null(""),
                                         pattern=r"\s+", replacement=" ")
        arr = pc.replace_substring_regex(arr, pattern="[\u2018\u2019]", replacement="'")
        out = np.zeros((len(arr), len(self.rules)), dtype=bool)
        for k, rule in enumerate(self.rules):
            hit = pc.match_substring_regex(arr, pattern=rule.regex)
            out[:, k] = hit.to_numpy(zero_copy_only=False)
        return out

    def assess(self, texts: Sequence[Any] | pd.Series | pa.Array,
               categories: Iterable[Any] | pd.Series | None = None) -> pd.DataFrame:
        """Severity for each text (with its category, if given).

        Returns ``severity`` (1-4), ``severity_rules`` (fired rule names, most severe first,
        comma-separated; "" if none) and ``severity_reason`` (a readable explanation). The
        index is that of ``texts`` if it is a Series.
        """
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
        reasons = [
            names[b][1] if b else (f"category default for {c} ({s})" if isinstance(c, str)
                                   and c in dict(self.category_defaults)
                                   else f"default ({s})")
            for b, c, s in zip(bits.tolist(), cats, base.tolist(), strict=True)
        ]
        index = texts.index if isinstance(texts, pd.Series) else None
        return pd.DataFrame({"severity": severity, "severity_rules": rule_names,
                             "severity_reason": reasons}, index=index)

    def assess_one(self, text: Any, category: str | None = None) -> tuple[int, list[str]]:
        """(severity, fired rule names) for a single ticket text."""
        row = self.assess([text], [category]).iloc[0]
        rules = row["severity_rules"]
        return int(row["severity"]), rules.split(", ") if rules else []


def _level(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise ConfigError(f"{where}: expected a severity 1, 2, 3 or 4, got {value!r}")
    return value


def _check_regex(pattern: str, where: str) -> None:
    try:
        pc.match_substring_regex(pa.array([""]), pattern="(?i)" + pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        detail = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid regular expression for RE2 ({detail}); "
                          "look-arounds and back-references are not supported") from None


@functools.cache
def _default_config() -> dict[str, Any]:
    text = resources.files("triage_core").joinpath("config/defaults/severity.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def default_rules() -> SeverityRules:
    """Rules from the packaged ``defaults/severity.toml``."""
    return SeverityRules.from_config(_default_config())


def assess_severity(texts: Sequence[Any] | pd.Series,
                    categories: Iterable[Any] | pd.Series | None = None,
                    rules: SeverityRules | None = None) -> pd.DataFrame:
    """Severity, fired rules and reason for each ticket text (see ``SeverityRules.assess``)."""
    return (rules or default_rules()).assess(texts, categories)
