"""The demo world's text as data: one TOML file per kind of text, each read once.

``subjects``, ``issues`` and ``details`` (by language and category), ``message`` (greetings,
tones, signatures, quoted replies, ...), ``calendar`` (weekday and month names, date formats),
``people`` (names, e-mail domains, companies) and ``slots`` (products, devices, versions, ...).
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["NAMES", "load"]

NAMES = ("subjects", "issues", "details", "message", "calendar", "people", "slots")
_DIR = Path(__file__).parent


@functools.cache
def load(name: str) -> dict[str, Any]:
    """Templates file ``name`` (one of NAMES) with its lists as tuples. Shared: do not change it."""
    if name not in NAMES:
        raise ValueError(f"no demo templates named {name!r}; known: {', '.join(NAMES)}")
    with (_DIR / f"{name}.toml").open("rb") as fh:
        return _tuples(tomllib.load(fh))


def _tuples(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
