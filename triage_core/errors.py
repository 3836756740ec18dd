"""Errors users see. Every message names the file, row and column where it can."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class TriageError(ValueError):
    """Base class: a problem the user can fix; printed as one line, without a traceback."""


class ConfigError(TriageError):
    """A configuration value (weights, thresholds, rules) is invalid."""


class ImportValidationError(TriageError):
    """An import file was refused; nothing was written."""

    def __init__(self, file: str, message: str, row: int | None = None,
                 column: str | None = None) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.detail = message
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {short_label(column)!r}")  # a header of garbage: cut
        super().__init__(f"{', '.join(where)}: {message}")


class UnknownTicketError(TriageError):
    """A ticket id that no ticket has (the API answers 404)."""


class ModelError(TriageError):
    """No model, an unknown version, or a model file that is not trusted."""


class DatabaseBusyError(TriageError):
    """Another process holds the database file (DuckDB allows one writing process)."""


def short_label(label: str, limit: int = 40) -> str:
    """A label from the data cut to ``limit`` characters (with "…"), as one-line messages quote
    it (data health, ``triage evaluate``)."""
    return label if len(label) <= limit else label[:limit - 1] + "…"


def check_output_file(path: str | Path, option: str, inputs: Sequence[Any] = ()) -> Path:
    """``path`` as a file an ``option`` (``--predictions``, ``--out``) writes, checked before
    any work: not one of the ``inputs`` (files), not a folder, in a folder that exists, and
    overwritten only when it is text: never a database (a typo of ``--db``)."""
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
            what = " (a DuckDB database)" if head[8:12] == b"DUCK" else ""
            raise TriageError(f"{option} {out}: an existing file that is not text{what};"
                              " it would be overwritten: choose another name")
    if not out.parent.is_dir():
        raise TriageError(f"{option} {out}: no folder {str(out.parent)!r}")
    return out
