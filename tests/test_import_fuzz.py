"""Fuzzing the importers: every generated file is imported exactly, or refused with one line.

Hypothesis writes customers files as CSV, JSON, JSON Lines and Parquet with awkward ids
(quotes, commas, newlines, unicode, blanks), timestamps (valid, garbage, impossible years and
offsets) and lifetime values (numbers, NaN, infinities, negatives, text). Each file is imported
into a database that already holds customers. Either the import is refused with a one-line
error and the database is exactly as before, or every row landed with the values the file had.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage_core.errors import TriageError
from triage_core.store import Store

FORMATS = ("csv", "json", "jsonl", "parquet")
START = dt.datetime(2026, 1, 1)

ids = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
            max_size=12),
    st.sampled_from(["C1", " C2 ", 'quo"te', "com,ma", "new\nline", "", "   ", "Ünïcødé"]),
)
timestamps = st.one_of(
    st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 1, 1)).map(
        lambda d: d.replace(microsecond=0).isoformat(sep=" ")),
    st.sampled_from(["", "yesterday", "2026-13-01", "99999-01-01 00:00:00",
                     "0000-01-01 00:00:00", "2026-03-01T10:00:00+99:00",
                     "2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00Z", "1969-12-31"]),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda x: repr(float(x))),
    st.integers(-5, 10_000).map(str),
    st.sampled_from(["", "12.5", "abc", "1e3", "-1", " 7 "]),
)
rows = st.lists(st.tuples(ids, timestamps, values), min_size=1, max_size=6)


def _write(path: Path, fmt: str, frame: pd.DataFrame) -> Path:
    file = path / f"customers.{fmt}"
    if fmt == "csv":
        frame.to_csv(file, index=False)
    elif fmt == "json":
        file.write_text(json.dumps(frame.to_dict("records")), encoding="utf-8")
    elif fmt == "jsonl":
        file.write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n",
                        encoding="utf-8")
    else:
        frame.to_parquet(file, index=False)
    return file


def _snapshot(store: Store) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in store.query(
        "SELECT * FROM customers ORDER BY customer_id").itertuples(index=False)]


def _number(text: str) -> float | None:
    text = text.strip()
    return None if text == "" else float(text)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(fmt=st.sampled_from(FORMATS), data=rows)
def test_a_file_is_imported_exactly_or_refused_whole(tmp_path: Path, fmt: str,
                                                     data: list[tuple[str, str, str]]) -> None:
    frame = pd.DataFrame(data, columns=["customer_id", "created_at", "lifetime_value"])
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    file = _write(folder, fmt, frame)
    with Store(":memory:") as store:
        store.import_frame("customers", pd.DataFrame(
            {"customer_id": ["OLD"], "created_at": [START], "lifetime_value": [5.0]}))
        before = _snapshot(store)
        try:
            store.import_file("customers", file)
        except TriageError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(file.name), str(exc)
            assert _snapshot(store) == before
            return
        got = store.query("SELECT * FROM customers").set_index("customer_id")
        for cid, ts, value in data:
            row = got.loc[cid.strip()]
            expected = _number(value)
            if expected is None:
                assert pd.isna(row["lifetime_value"])
            else:
                assert math.isfinite(expected) and expected >= 0
                assert row["lifetime_value"] == pytest.approx(expected)
            if ts.strip() and "T" not in ts and "+" not in ts:
                assert row["created_at"] == pd.Timestamp(ts.strip())
        assert got.loc["OLD", "lifetime_value"] == 5.0
