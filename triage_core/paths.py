"""Files the command line writes or replaces: never an input, never a database by mistake."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from triage_core.errors import TriageError


def _duckdb_header(head: bytes) -> bool:
    """The first bytes of a DuckDB database file (its header names it at byte 8)."""
    return head[8:12] == b"DUCK"


def is_database(path: Path) -> bool:
    """A DuckDB database file, or an empty file (what ``--force`` may replace)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False  # a folder, or unreadable: not ours to delete
    return not head or _duckdb_header(head)


TEMP_PREFIX = ".triage-"  # of a file written beside its target first, then renamed onto it


def check_output_file(path: str | Path, option: str, inputs: Sequence[Any] = (),
                      via_temp: bool = False) -> Path:
    """``path`` as a file an ``option`` (``--predictions``, ``--out``) writes, checked before
    any work: not one of the ``inputs`` (files), not a folder, in a folder that exists, and
    overwritten only when it is text: never a database (a typo of ``--db``). ``via_temp``:
    it is written as a new file in the same folder first (:data:`TEMP_PREFIX`), so that folder
    must take a new file (a read-only mount, /proc)."""
    out = Path(path)
    for given in inputs:
        if (isinstance(given, str | Path) and out.exists()
                and out.resolve() == Path(given).resolve()):
            raise TriageError(f"{option} {out}: that is an input file; choose another name")
    if out.is_dir():
        raise TriageError(f"{option} {out}: a folder, not a file")
    if out.is_file():
        try:
            with out.open("rb") as fh:
                head = fh.read(1 << 12)
        except OSError as exc:
            raise TriageError(f"{option} {out}: cannot be read ({exc.strerror})") from None
        if b"\x00" in head:
            what = " (a DuckDB database)" if _duckdb_header(head) else ""
            raise TriageError(f"{option} {out}: an existing file that is not text{what};"
                              " it would be overwritten: choose another name")
    if not out.parent.is_dir():
        raise TriageError(f"{option} {out}: no folder {str(out.parent)!r}")
    if not via_temp:
        return out
    try:  # a read-only folder or mount, found now rather than after the work
        fd, probe = tempfile.mkstemp(dir=out.parent, prefix=TEMP_PREFIX, suffix=".check")
    except OSError as exc:
        raise TriageError(f"{option} {out}: cannot write a file in {str(out.parent)!r}"
                          f" ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
    return out
