"""Errors users see. Every message names the file, row and column where it can."""

from __future__ import annotations


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

