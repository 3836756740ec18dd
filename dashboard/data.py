"""The dashboard's only cache layer between pages and triage_core.

``st.cache_resource`` holds the database connection (shared, never mutated by pages);
``st.cache_data`` holds query results (each call gets a copy) with a TTL and a size bound.
Every query runs on its own DuckDB cursor so concurrent sessions do not share one.
Writes go through :func:`write` which clears the cached results afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from triage_core import analytics
from triage_core.analytics import Filters
from triage_core.store import Store, default_db_path
from triage_core.text import mask_pii_series

T = TypeVar("T")
TTL = 600
TEXT_COLUMNS = ("subject", "body", "comment")


def db_path() -> str:
    return str(Path(os.environ.get("TRIAGE_DB") or default_db_path()).resolve())


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def store() -> Store:
    """A cursor on the shared connection, for one query."""
    return _store(db_path()).cursor()


def write(fn: Callable[[Store], T]) -> T:
    """Run a write against the database, then drop cached query results."""
    cur = store()
    try:
        return fn(cur)
    finally:
        cur.close()
        st.cache_data.clear()


def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    cur = store()
    try:
        return fn(cur, *args, **kwargs)
    finally:
        cur.close()


def masked(df: pd.DataFrame, mask: bool = True) -> pd.DataFrame:
    """Mask e-mail addresses, phone numbers and card numbers in the text columns."""
    if not mask or df.empty:
        return df
    out = df.copy()
    for col in TEXT_COLUMNS:
        if col in out.columns:
            out[col] = mask_pii_series(out[col])
    return out


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def filter_options() -> dict[str, Any]:
    return _run(analytics.filter_options)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def has_triage() -> bool:
    return _run(analytics.has_triage)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def as_of() -> Any:
    return _run(analytics.as_of)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def overview_kpis(f: Filters) -> dict[str, Any]:
    return _run(analytics.overview_kpis, f)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def volume_trend(f: Filters, freq: str) -> pd.DataFrame:
    return _run(analytics.volume_trend, f, freq)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def sentiment_trend(f: Filters, by: str, freq: str) -> pd.DataFrame:
    return _run(analytics.sentiment_trend, f, by, freq)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def breakdown(f: Filters, by: str) -> pd.DataFrame:
    return _run(analytics.breakdown, f, by)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def tickets(f: Filters, mask: bool = True, **kwargs: Any) -> pd.DataFrame:
    return masked(_run(analytics.tickets, f, **kwargs), mask)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def count_tickets(f: Filters, **kwargs: Any) -> int:
    return _run(analytics.count_tickets, f, **kwargs)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def alerts(f: Filters, mask: bool = True) -> pd.DataFrame:
    return masked(_run(analytics.alerts, f), mask)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def team_workload() -> pd.DataFrame:
    return _run(analytics.team_workload)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def queue_summary() -> pd.DataFrame:
    return _run(analytics.queue_summary)


def ticket_detail(ticket_id: str, mask: bool = True) -> dict[str, Any] | None:
    detail = _run(analytics.ticket_detail, ticket_id)
    if detail and mask:
        for key in ("subject", "body"):
            if isinstance(detail.get(key), str):
                detail[key] = mask_pii_series(pd.Series([detail[key]])).iloc[0]
    return detail


def counts() -> dict[str, int]:
    return _run(Store.counts)


def preview_upload(name: str, content: bytes, rows: int = 20) -> pd.DataFrame | str:
    """First rows of an uploaded file, or a one-line reason it cannot be read."""
    import io

    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(content)).head(rows)
        if suffix in (".json", ".jsonl"):
            return pd.read_json(io.BytesIO(content), lines=suffix == ".jsonl",
                                dtype=False).head(rows)
        return pd.read_csv(io.BytesIO(content), nrows=rows, dtype=str, keep_default_na=False,
                           encoding="utf-8")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        return f"{name}: cannot preview ({str(exc).splitlines()[0] if str(exc) else exc})"


QUEUE_PREFIX = "queue: "


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def exportable() -> list[str]:
    tables = _run(analytics.exportable_tables)
    queues = queue_summary()["team"].dropna().tolist() if has_triage() else []
    return tables + [QUEUE_PREFIX + q for q in queues]


def export_frame(name: str, mask: bool = True) -> pd.DataFrame:
    if name.startswith(QUEUE_PREFIX):
        df = _run(analytics.tickets, Filters(), open_only=True,
                  team=name.removeprefix(QUEUE_PREFIX), limit=10_000_000)
    else:
        df = _run(analytics.export_table, name)
    return masked(df, mask)


def export_bytes(name: str, fmt: str, mask: bool = True) -> bytes:
    df = export_frame(name, mask)
    if fmt == "parquet":
        return df.to_parquet(index=False)
    return df.to_csv(index=False).encode("utf-8")
