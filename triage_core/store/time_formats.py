"""Which strptime format a column of times is written in, when it is not ISO 8601: what
``triage mapping suggest`` proposes and an import's error names (the staged rows in ``_stage``
of an import's connection)."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

_DATES = ("%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%y", "%m-%d-%Y",
          "%d-%m-%Y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%Y/%m/%d",
          "%d/%b/%y", "%d/%b/%Y",  # Jira: 31/Dec/25 2:05 PM
          "%a, %d %b %Y")  # RFC 2822 (e-mail headers, some APIs): Wed, 31 Dec 2025 14:05:33 +0000
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
FORMAT_CANDIDATES = tuple(d + t + z for d in _DATES for t in _TIMES for z in ("", " %z"))
SAMPLE = 500  # distinct values tried
# How exports write an empty cell (Zendesk: "-"), lower case: no time to read
PLACEHOLDERS = ("-", "--", "n/a", "null", "none")


class FormatGuess(NamedTuple):
    """A time column's form: ``format`` every sampled value fits (None: none or several
    do), an ``example`` value, and the formats that fit every value (``fits``: a month-first
    and a day-first one when 03/05 could be March or May; empty when none does)."""

    format: str | None
    example: str
    fits: tuple[str, ...] = ()


def _month_first(fmt: str) -> bool | None:
    if "%m" not in fmt or "%d" not in fmt or fmt.startswith("%Y"):
        return None
    return fmt.index("%m") < fmt.index("%d")


def guess_format(con: Any, column: str) -> FormatGuess | None:
    """For a staged time column that ``triage_ts`` cannot read: its :class:`FormatGuess`;
    None when every value is ISO 8601 already (or an empty cell as exports write it)."""
    rows = con.execute(
        f"SELECT DISTINCT triage_trim(CAST({column} AS VARCHAR)) AS v FROM _stage"
        f" WHERE {column} IS NOT NULL AND triage_trim(CAST({column} AS VARCHAR)) <> ''"
        f" AND NOT list_contains(?::VARCHAR[], lower(triage_trim(CAST({column} AS VARCHAR))))"
        f" AND triage_ts({column}) IS NULL LIMIT {SAMPLE}", [list(PLACEHOLDERS)]).fetchall()
    if not rows:
        return None
    values = [r[0] for r in rows]
    for fmt, pattern in (("epoch", r"1[0-9]{9}(\.[0-9]+)?"), ("epoch_ms", r"1[0-9]{12}")):
        if all(re.fullmatch(pattern, v) for v in values):  # 2001-09-09 .. 2033-05-18
            return FormatGuess(fmt, values[0], (fmt,))
    con.execute("CREATE OR REPLACE TEMP TABLE _formats AS SELECT unnest(?::VARCHAR[]) AS v",
                [values])
    try:
        found = [f for f in FORMAT_CANDIDATES if con.execute(
            "SELECT count(try_strptime(v, ?)) FROM _formats", [f]).fetchall()[0][0]
            == len(values)]
    finally:
        con.execute("DROP TABLE IF EXISTS _formats")
    orders = {_month_first(f) for f in found} - {None}
    if not found:
        return FormatGuess(None, values[0])
    if len(orders) > 1:  # 03/05 could be March or May: the first of each order
        fits = tuple(next(f for f in found if _month_first(f) is o) for o in (True, False))
        return FormatGuess(None, values[0], fits)
    return FormatGuess(found[0], values[0], (found[0],))


def advice(column: str, guess: FormatGuess) -> str:
    """What to put in the mapping for the column's times, in words (for the CLI's comment
    and an import's refusal)."""
    if guess.format is not None:
        return (f"its values fit the format: add to the mapping [formats] {column} ="
                f" \"{guess.format}\"")
    if len(guess.fits) == 2:
        return (f"its values fit month first and day first (03/05: March or May?): add to the"
                f" mapping [formats] {column} = \"{guess.fits[0]}\" (month first) or"
                f" \"{guess.fits[1]}\" (day first), as your helpdesk writes them")
    return (f"no usual form fits all its values: add to the mapping [formats] {column} ="
            " \"...\" with the form your helpdesk uses, in strptime codes (%d day, %m month,"
            " %b month name, %Y or %y year, %H:%M:%S time, %I:%M %p with AM/PM, %z UTC offset)")
