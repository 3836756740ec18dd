"""SQL identifiers made from names that are not ours (a file's column names): quoted."""

from __future__ import annotations

__all__ = ["quote_ident"]


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier (double quotes doubled inside)."""
    return '"' + name.replace('"', '""') + '"'
