"""Dates and times typed as options (triage_core.moments): ISO 8601 only, offsets made UTC,
the import's years."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from triage_core import moments
from triage_core.errors import TriageError


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-05", "2024-03-05 00:00:00"),
    (" 2024-3-5 ", "2024-03-05 00:00:00"),
    ("2024-03-05 14:30", "2024-03-05 14:30:00"),
    ("2024-03-05T14:30:00Z", "2024-03-05 14:30:00"),
    ("2024-03-05 14:30 UTC", "2024-03-05 14:30:00"),
    ("2024-03-05 UTC", "2024-03-05 00:00:00"),
    ("2024-03-05T14:30+01:00", "2024-03-05 13:30:00"),
    ("2024-03-05 14:30 +0100", "2024-03-05 13:30:00"),
    ("2024-03-05T22:30-05", "2024-03-06 03:30:00"),
    ("2024-03-05T14:30:00,5", "2024-03-05 14:30:00.500000"),
])
def test_iso_forms_are_read_as_utc(text: str, expected: str) -> None:
    got = moments.moment(text, "--as-of")
    assert got.tzinfo is None and str(got) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("05.03.2024", "write it as YYYY-MM-DD"),  # pandas read it as 3 May
    ("03/05/2024", "write it as YYYY-MM-DD"),
    ("yesterday", "write it as YYYY-MM-DD"),
    ("2024-02-30", "is not a valid date or time"),
    ("2024-03-05T25:00", "is not a valid date or time"),
    ("1900-01-01", "outside the years 1970-2100"),
    ("2100-12-31T23:00-05:00", "outside the years 1970-2100"),  # 2101 in UTC
    ("", "write it as YYYY-MM-DD"),
])
def test_other_forms_are_refused_naming_the_option(text: str, why: str) -> None:
    with pytest.raises(TriageError, match=f"^--as-of: .*{why}"):
        moments.moment(text, "--as-of")
    assert why in (moments.problem(text) or "")


def test_dates_and_timestamps_pass_through() -> None:
    assert moments.moment(dt.date(2024, 3, 5), "start") == pd.Timestamp("2024-03-05")
    aware = pd.Timestamp("2024-03-05T12:00", tz="Europe/Berlin")
    assert moments.moment(aware, "start") == pd.Timestamp("2024-03-05T11:00")
    with pytest.raises(TriageError, match="start: cannot read '5' as a date"):
        moments.moment(5, "start")
    assert moments.date_only("2024-03-05") and moments.date_only(dt.date(2024, 3, 5))
    assert not moments.date_only("2024-03-05 10:00")
    assert moments.problem("2024-03-05") is None
