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
# A new topic no category knows: an outage after a release (emerging-topic tests).
OUTAGE = ["The status page says everything is fine but the website is down with error 503",
          "Website down again, error 503 on every page since the release",
          "Cannot reach the site: error 503 service unavailable",
          "Your website is down, error 503, status page shows green",
          "error 503 when I open the website, is there an outage",
          "Site unreachable with error 503 for an hour, outage?",
          "Outage? The website returns error 503 service unavailable",
          "Since the release the website is down, error 503",
          "error 503 service unavailable on the website again",
          "The website is down: 503 error, is the outage known",
          "Is there an outage? error 503 on the website",
          "website error 503 service unavailable, still down"]


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
