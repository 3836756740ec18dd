"""DuckDB's memory limits: the everyday one of every connection to a file, and the larger one
of imports."""

from __future__ import annotations

import os
import re

from triage_core.errors import TriageError

# DuckDB's own memory (buffer pool, joins, sorts), per process. DuckDB's default is 80% of
# the machine's RAM, which it keeps once it used it: scoring 1,000,000 tickets then held about
# 3 GB for one query. Within this limit DuckDB spills large joins and sorts to a temporary
# folder beside the database. In-memory databases keep DuckDB's default (their data is there).
ENV_MEMORY = "TRIAGE_DUCKDB_MEMORY"
DEFAULT_MEMORY = "1GB"
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)\s*$", re.IGNORECASE)
# While an import runs: DuckDB keeps a table's primary-key index in memory and cannot spill it,
# and the COMMIT that adds the imported keys to it needs room for them (5,000,000 touchpoints
# need about 1.5 GB: at 1GB that COMMIT fails). Imports get the larger of this and the limit
# above; DuckDB takes only what it needs.
ENV_IMPORT_MEMORY = "TRIAGE_DUCKDB_IMPORT_MEMORY"
DEFAULT_IMPORT_MEMORY = "50%"
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4, "kib": 1024,
          "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def memory_limit() -> str:
    """DuckDB's memory limit: ``$TRIAGE_DUCKDB_MEMORY`` (e.g. ``2GB``, ``50%``), else 1GB."""
    value = os.environ.get(ENV_MEMORY) or DEFAULT_MEMORY
    if not _MEMORY.match(value):
        raise TriageError(f"{ENV_MEMORY}={value!r}: expected a size such as 1GB, 512MB or 50%")
    return value.strip()


def import_memory_limit() -> str:
    """DuckDB's memory limit while an import runs: the larger of ``$TRIAGE_DUCKDB_IMPORT_MEMORY``
    (default 50% of the RAM) and :func:`memory_limit`."""
    value = os.environ.get(ENV_IMPORT_MEMORY) or DEFAULT_IMPORT_MEMORY
    if not _MEMORY.match(value):
        raise TriageError(f"{ENV_IMPORT_MEMORY}={value!r}: expected a size such as 4GB or 50%")
    normal = memory_limit()
    return max(value.strip(), normal, key=_size_bytes)


def _size_bytes(value: str) -> float:
    """Bytes of a memory size as DuckDB reads it (``2GB``, ``512 MiB``, ``50%`` of the RAM)."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z%]+)\s*$", value)
    assert m, value  # checked by _MEMORY before
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit == "%":
        return number / 100 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return number * _UNITS[unit]
