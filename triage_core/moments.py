"""A date or time a user types as an option (``triage score --as-of``, ``forecast --start``,
the views' ``start``/``end``): read one way only.

Text must be ISO 8601 (``2024-03-05``, ``2024-03-05 14:30``, ``2024-03-05T14:30:00Z``,
``...+01:00``): ``05.03.2024`` or ``03/05/2024`` is refused rather than read month first, as
pandas would. A time with an offset becomes the same moment in UTC, as the import stores it.
Years outside those the import accepts are refused too. Light: pandas is imported only when a
value is read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from triage_core.errors import TriageError

# the years a ticket's timestamps may have (the import refuses others too)
MIN_YEAR, MAX_YEAR = 1970, 2100
FORMS = "YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DDTHH:MM:SSZ"
_ISO = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}"
                  r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
                  r"\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*", re.IGNORECASE)
_DATE_ONLY = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*")


def problem(value: Any) -> str | None:
    """Why ``value`` is not a date or time this module reads; None when it is."""
    try:
        moment(value, "value")
    except TriageError as exc:
        return str(exc).split(": ", 1)[1]
    return None


def moment(value: Any, what: str) -> Any:
    """``value`` (text, date, datetime or pandas Timestamp) as a naive UTC pandas Timestamp;
    :class:`TriageError` naming ``what`` when it cannot be read or is out of range."""
    import pandas as pd

    if isinstance(value, str):
        text = value.strip()
        if not _ISO.fullmatch(text):
            raise TriageError(f"{what}: cannot read {_quoted(value)} as a date or time; "
                              f"write it as {FORMS}")
        text = re.sub(r"(?i)\s*(?:utc|z)$", "", text).replace(",", ".")  # naive is UTC
        try:
            stamp = pd.Timestamp(text)
        except (TypeError, ValueError):
            stamp = pd.NaT
        if stamp is pd.NaT:
            raise TriageError(f"{what}: {_quoted(value)} is not a valid date or time")
    elif isinstance(value, dt.date | pd.Timestamp):
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            raise TriageError(f"{what}: no date or time given")
    else:
        raise TriageError(f"{what}: cannot read {_quoted(value)} as a date or time; "
                          f"write it as {FORMS}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if not MIN_YEAR <= stamp.year <= MAX_YEAR:
        raise TriageError(f"{what}: {_quoted(value)} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return stamp


def date_only(value: Any) -> bool:
    """True for a calendar day without a time (``2026-03-31`` or a ``datetime.date``)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True
    return isinstance(value, str) and _DATE_ONLY.fullmatch(value) is not None


def _quoted(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= 60 else text[:56] + "…" + text[0]
