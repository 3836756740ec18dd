"""Which strptime format a column of times is written in, when it is not ISO 8601: what
``triage mapping suggest`` proposes and an import's error names (the staged rows in ``_stage``
of an import's connection)."""

from __future__ import annotations

import re
from typing import Any

_DATES = ("%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%y", "%m-%d-%Y",
          "%d-%m-%Y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%Y/%m/%d")
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
FORMAT_CANDIDATES = tuple(d + t + z for d in _DATES for t in _TIMES for z in ("", " %z"))
SAMPLE = 500  # distinct values tried


def guess_format(con: Any, column: str) -> tuple[str | None, str] | None:
    """For a staged time column that ``triage_ts`` cannot read: (the one candidate format
    every value of a sample fits, or None when none or both a month-first and a day-first one
    do, an example value); None when every value is ISO 8601 already."""
    rows = con.execute(
        f"SELECT DISTINCT triage_trim(CAST({column} AS VARCHAR)) AS v FROM _stage"
        f" WHERE {column} IS NOT NULL AND triage_trim(CAST({column} AS VARCHAR)) <> ''"
        f" AND triage_ts({column}) IS NULL LIMIT {SAMPLE}").fetchall()
    if not rows:
        return None
    values = [r[0] for r in rows]
    for fmt, pattern in (("epoch", r"1[0-9]{9}(\.[0-9]+)?"), ("epoch_ms", r"1[0-9]{12}")):
        if all(re.fullmatch(pattern, v) for v in values):  # 2001-09-09 .. 2033-05-18
            return fmt, values[0]
    con.execute("CREATE OR REPLACE TEMP TABLE _formats AS SELECT unnest(?::VARCHAR[]) AS v",
                [values])
    try:
        found = [f for f in FORMAT_CANDIDATES if con.execute(
            "SELECT count(try_strptime(v, ?)) FROM _formats", [f]).fetchall()[0][0]
            == len(values)]
    finally:
        con.execute("DROP TABLE IF EXISTS _formats")
    orders = {("%m" in f and "%d" in f and f.index("%m") < f.index("%d")) for f in found
              if "%m" in f and "%d" in f and not f.startswith("%Y")}
    if not found or len(orders) > 1:  # none fits, or 03/05 could be March or May
        return None, values[0]
    return found[0], values[0]
