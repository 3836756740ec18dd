"""The one demo world of the test suite, built the way a user builds one.

tests/conftest.py builds it once per session (once per worker under pytest-xdist) with
``triage demo`` run in this process: the seeded demo files (``demo.generate``), imported
(``Store.import_directory``), the first category model trained (``training.train``) and every
ticket triaged (``pipeline.triage``). Tests read the built file read-only
(``Store(path, read_only=True)``) and copy it (:func:`copy_db`) when they write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from _cli import ok

from triage_core.store import Store

WORLD_TICKETS = 1_500
WORLD_SEED = 31


def build_world(folder: Path) -> tuple[Path, Path]:
    """``triage demo`` into ``folder``: (the database, the folder of its five demo files)."""
    db, files = folder / "world.duckdb", folder / "files"
    out = ok("demo", "--tickets", str(WORLD_TICKETS), "--seed", str(WORLD_SEED),
             "--out", str(files), db=db)
    assert out.startswith(f"demo database {db}: "), out
    return db, files


def import_world(files: Path, path: Path) -> Path:
    """The demo files imported into a new database at ``path``; nothing trained or triaged."""
    with Store(path) as s:
        s.import_directory(files)
    return path


def copy_db(world: Path, folder: Path, name: str = "copy.duckdb") -> Path:
    """A private copy of a built world's database in ``folder``, for a test that writes."""
    path = folder / name
    shutil.copy(world, path)
    return path
