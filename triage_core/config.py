"""Configuration: packaged defaults (``triage_core/defaults/*.toml``) with a user's TOML on top.

Each top-level section belongs to one concern (``severity``, ``sentiment``, ``priority``,
``routing``, ``attribution``); the module that owns a concern validates its section.
A user file given with ``--config`` or ``$TRIAGE_CONFIG`` overrides keys, section by section.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULTS_DIR = Path(__file__).parent / "defaults"
ENV_CONFIG = "TRIAGE_CONFIG"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def default_config() -> dict[str, Any]:
    """The packaged defaults: one section per file in ``defaults/``."""
    config: dict[str, Any] = {}
    for f in sorted(DEFAULTS_DIR.glob("*.toml")):
        config[f.stem] = read_toml(f)
    return config


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Defaults, overridden by ``path`` (or ``$TRIAGE_CONFIG`` when ``path`` is None)."""
    config = default_config()
    user = path if path is not None else os.environ.get(ENV_CONFIG)
    if user:
        config = _merge(config, read_toml(user))
    return config
