"""Configuration: packaged defaults (``config/defaults/*.toml``) with a user's TOML on top.

The TOML files are the only home of default values: one file per section (``severity``,
``sentiment``, ``priority``, ``routing``, ``attribution``, ``classifier``, ``training``,
``pipeline``, ``topics``), each commented key by key. A user file given with ``--config`` or
``$TRIAGE_CONFIG`` overrides keys, table by table. Each section is validated by the settings
type that owns it (a frozen dataclass built by ``from_mapping``), with the one helper in
:mod:`triage_core.config.validate`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from triage_core.config.validate import Checker, merge
from triage_core.errors import ConfigError

__all__ = ["DEFAULTS_DIR", "ENV_CONFIG", "Checker", "default_config", "defaults", "load_config",
           "merge", "read_toml", "section"]

DEFAULTS_DIR = Path(__file__).parent / "defaults"
ENV_CONFIG = "TRIAGE_CONFIG"


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


@functools.cache
def _packaged(name: str) -> dict[str, Any]:
    path = DEFAULTS_DIR / f"{name}.toml"
    if not path.exists():
        raise ConfigError(f"no packaged defaults for section {name!r}")
    return read_toml(path)


def defaults(name: str) -> dict[str, Any]:
    """The packaged defaults of one section (a fresh copy the caller may change)."""
    return copy.deepcopy(_packaged(name))


def section(name: str, over: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Section ``name``: the packaged defaults with ``over`` (a parsed TOML table) on top."""
    if over is not None and not isinstance(over, Mapping):
        raise ConfigError(f"{name}: expected a table, got {over!r}")
    return merge(defaults(name), over or {})


def default_config() -> dict[str, Any]:
    """The packaged defaults: one section per file in ``defaults/``."""
    return {f.stem: defaults(f.stem) for f in sorted(DEFAULTS_DIR.glob("*.toml"))}


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Defaults, overridden by ``path`` (or ``$TRIAGE_CONFIG`` when ``path`` is None).

    Every section the user's file gives is validated here, so any mistake in it is refused
    before a command starts, as one :class:`ConfigError` that starts with the file's path
    (``my.toml: routing: confidence_threshold must be a number, got 'high'``)."""
    config = default_config()
    user = path if path is not None else os.environ.get(ENV_CONFIG)
    if user:
        over = read_toml(user)
        try:
            _check_names(over, config)
            config = merge(config, over)
            from triage_core.config.sections import check

            check(config, over)
        except ConfigError as exc:
            raise ConfigError(f"{user}: {exc}") from None
    return config


def _check_names(over: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    """Every top-level name of a user's file is a section: a misspelt one must not be
    silently ignored (its values would never be used)."""
    names = sorted(known)
    for name in over:
        if name in known:
            continue
        if not isinstance(over[name], Mapping):
            owners = [s for s in names if isinstance(known[s], Mapping) and name in known[s]]
            hint = f"; it is a key of [{owners[0]}], put it under that header" if owners else ""
            raise ConfigError(f"unknown top-level key {name!r}: keys belong in a section "
                              f"({', '.join(names)}){hint}")
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown section {name!r}{hint} (known: {', '.join(names)})")
