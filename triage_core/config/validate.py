"""The one validation helper for configuration sections.

Every settings type (priority profiles, routing rules, attribution, sentiment, severity, the
classifier, training, pipeline) validates its section with a :class:`Checker`, so every
problem is reported the same way: one :class:`~triage_core.errors.ConfigError` whose message
starts with the section and names the key, e.g. ``attribution: spike.sigmas must be a number,
got 'three'``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from triage_core.errors import ConfigError

__all__ = ["Checker", "merge"]


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` on top, tables merged key by key (neither input is changed)."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        out[key] = (merge(old, value) if isinstance(value, Mapping) and isinstance(old, Mapping)
                    else value)
    return out


class Checker:
    """Checks values of one section; ``ctx`` (e.g. ``"routing"``) starts every message."""

    def __init__(self, ctx: str) -> None:
        self.ctx = ctx

    def fail(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.ctx}: {message}")

    def number(self, value: Any, key: str, *, lo: float | None = None, hi: float | None = None,
               positive: bool = False, integer: bool = False) -> float:
        """A finite number (not a bool), optionally > 0, whole, or within ``lo``..``hi``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{key} must be a number, got {value!r}")
        out = float(value)
        if not math.isfinite(out):
            self.fail(f"{key} must be a finite number, got {value!r}")
        if integer and out != int(out):
            self.fail(f"{key} must be a whole number, got {value!r}")
        if positive and out <= 0:
            self.fail(f"{key} must be greater than 0, got {value!r}")
        self._within(value, out, key, lo, hi)
        return out

    def integer(self, value: Any, key: str, *, lo: int | None = None,
                hi: int | None = None) -> int:
        """A whole number (an int in TOML, not a float or a bool) within ``lo``..``hi``.

        Compared as an int: TOML integers have no size limit in Python, and one too large for
        a float must be refused like any other out-of-range value, not overflow."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{key} must be a whole number, got {value!r}")
        self._within(value, value, key, lo, hi)
        return int(value)

    def _within(self, value: Any, out: float, key: str, lo: float | None,
                hi: float | None) -> None:
        if (lo is not None and out < lo) or (hi is not None and out > hi):
            if lo is not None and hi is not None:
                self.fail(f"{key} must be between {lo:g} and {hi:g}, got {value!r}")
            if lo is not None:
                self.fail(f"{key} must be at least {lo:g}, got {value!r}")
            self.fail(f"{key} must be at most {hi:g}, got {value!r}")

    def table(self, value: Any, key: str,
              allowed: Collection[str] | None = None) -> Mapping[str, Any]:
        """A TOML table; with ``allowed``, every key must be one of them."""
        if not isinstance(value, Mapping):
            self.fail(f"{key} must be a table, got {value!r}")
        if allowed is not None:
            self.keys(value, allowed, prefix=f"{key}." if key else "")
        return value

    def keys(self, data: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"unknown key {prefix + str(key)!r} (allowed: {', '.join(allowed)})")

    def flag(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(f"{key} must be true or false, got {value!r}")
        return value

    def text(self, value: Any, key: str) -> str:
        """A non-empty text, trimmed."""
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key} must be a non-empty text, got {value!r}")
        return value.strip()

    def choice(self, value: Any, key: str, choices: Collection[str]) -> str:
        if value not in choices:
            self.fail(f"{key} must be one of {', '.join(map(str, choices))}, got {value!r}")
        return str(value)

    def texts(self, value: Any, key: str) -> tuple[str, ...]:
        """A list of non-empty texts."""
        if not isinstance(value, list | tuple):
            self.fail(f"{key} must be a list of texts, got {value!r}")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))
