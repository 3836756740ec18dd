"""Shared test helper: a small demo world built the way a user builds one."""

from __future__ import annotations

import shutil
from pathlib import Path

from triage_core import demo
from triage_core.config import default_config
from triage_core.store import Store
from triage_core.triage import pipeline, training


def build_world(root: Path, tickets: int, seed: int, train: bool = True) -> Path:
    """A demo world in ``root``: generated, imported, and (``train``) trained and triaged."""
    demo.generate(root / "data", tickets=tickets, seed=seed)
    path = root / "world.duckdb"
    with Store(path) as s:
        s.import_directory(root / "data")
        if train:
            config = default_config()
            training.train(s, config)
            pipeline.triage(s, config)
    return path


def copy_db(world: Path, folder: Path, name: str = "copy.duckdb") -> Path:
    """A private copy of a built world's database in ``folder``, for a test that writes."""
    path = folder / name
    shutil.copy(world, path)
    return path
