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

from triage_core import marketing
from triage_core.errors import TriageError
from triage_core.marketing import MODEL_DESCRIPTIONS, MODELS, AttributionSettings, Filters
from triage_core.ops import analytics
from triage_core.schema import IMPORT_TABLES
from triage_core.store import Store, default_db_path
from triage_core.store.mapping import PRESETS
from triage_core.text import mask_pii_series

# What pages may use from triage_core, re-exported: pages import only this module.
__all__ = ["IMPORT_TABLES", "MODELS", "MODEL_DESCRIPTIONS", "PRESETS", "Filters", "TriageError"]

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
    """One ticket with its triage and the words behind its category and sentiment."""
    detail = _run(analytics.ticket_detail, ticket_id)
    if detail is not None:
        detail.update(_explain(ticket_id))
    if detail and mask:
        for key in ("subject", "body"):
            if isinstance(detail.get(key), str):
                detail[key] = mask_pii_series(pd.Series([detail[key]])).iloc[0]
    return detail


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def _explain(ticket_id: str) -> dict[str, Any]:
    from triage_core.triage import pipeline

    return _run(pipeline.explain, config(), ticket_id)


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


@st.cache_resource(show_spinner=False)
def config() -> dict[str, Any]:
    from triage_core.config import load_config

    return load_config()


def _unfiltered(f: Filters) -> bool:
    """No filter narrows the data (a date range covering every ticket counts as none)."""
    opts = filter_options()
    lo, hi = opts["min_date"], opts["max_date"]
    return (not (f.campaigns or f.campaign_channels or f.ticket_channels or f.segments
                 or f.categories)
            and (f.start is None or lo is None or pd.Timestamp(f.start) <= pd.Timestamp(lo))
            and (f.end is None or hi is None or pd.Timestamp(f.end) >= pd.Timestamp(hi)))


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def _campaign_tables() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    return _run(analytics.campaign_tables)


def attribution_settings() -> AttributionSettings:
    """The ``[attribution]`` section of the config, validated."""
    return AttributionSettings.from_mapping(config().get("attribution"))


def default_lookback() -> int:
    """The configured attribution lookback in whole days (the campaign page's default)."""
    return int(attribution_settings().lookback_days)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner="Attributing tickets to campaigns…")
def campaign_impact(model: str, f: Filters, lookback_days: int) -> pd.DataFrame:
    stored = _campaign_tables()
    if (stored is not None and model == "last_touch" and lookback_days == default_lookback()
            and _unfiltered(f)):
        return stored[0]  # materialized by the last `triage score`
    return _run(marketing.campaign_impact, model, lookback_days=lookback_days, filters=f,
                config=attribution_settings())


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def spike_series(model: str = "last_touch") -> pd.DataFrame:
    stored = _campaign_tables()
    if stored is not None and model == "last_touch":
        return stored[1]
    return _run(marketing.spike_series, model, config=attribution_settings())


def spike_alerts(model: str = "last_touch") -> pd.DataFrame:
    """One row per campaign with at least one spike day after launch."""
    return marketing.spike_alerts(spike_series(model))


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def campaign_tickets(model: str, campaign_id: str, f: Filters, lookback_days: int,
                     mask: bool = True) -> pd.DataFrame:
    import dataclasses

    only = dataclasses.replace(f, campaigns=(campaign_id,))  # credits of this campaign only
    mine = _run(marketing.ticket_credits, model, lookback_days=lookback_days, filters=only,
                config=attribution_settings())
    if mine.empty:
        return pd.DataFrame()
    detail = _run(analytics.tickets_by_id, mine["ticket_id"].tolist())
    return masked(detail.merge(mine[["ticket_id", "credit"]], on="ticket_id"), mask)


# -- priority tuning --------------------------------------------------------------------------

def profile_names() -> list[str]:
    from triage_core.ops import scoring

    return _run(scoring.profile_names, config())


def active_profile_name() -> str:
    from triage_core.ops import scoring

    return _run(lambda s: scoring.load_profile(s, config()).name)


def profile(name: str) -> dict[str, Any]:
    from triage_core.ops import scoring

    return _run(lambda s: scoring.load_profile(s, config(), name).to_dict())


@st.cache_data(ttl=TTL, max_entries=2, show_spinner=False)
def _open_frame() -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Open tickets with scoring inputs, the agents and the data time (cached for previews)."""
    from triage_core.ops import scoring

    def load(s: Store) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
        frame = scoring.scoring_frame(s, open_only=True,
                                      lookback_days=attribution_settings().lookback_days)
        for col in ("status", "segment", "category", "language", "campaign_id", "channel"):
            frame[col] = frame[col].astype("category")  # cheap re-scoring (see ops/priority)
        return frame, s.query("SELECT * FROM agents"), scoring.data_time(s)

    return _run(load)


def preview(saved_name: str, candidate: dict[str, Any]) -> Any:
    """Score the open tickets under the saved profile and the candidate (pure, in memory)."""
    from triage_core.ops import priority, scoring

    frame, agents, now = _open_frame()
    saved = _run(lambda s: scoring.load_profile(s, config(), saved_name))
    cand = priority.PriorityProfile.from_mapping({**candidate, "name": "preview"})
    return scoring.preview(frame, agents, saved, cand, scoring.rules(config()), now)


def save_profile(name: str, candidate: dict[str, Any], activate: bool) -> None:
    from triage_core.ops import priority, scoring

    prof = priority.PriorityProfile.from_mapping({**candidate, "name": name.strip()})

    def go(s: Store) -> None:
        scoring.save_profile(s, prof, activate=activate)
        if activate:
            scoring.score_all(s, config(), prof.name)

    write(go)


def escalation_threshold() -> float:
    return float(profile(active_profile_name())["escalation"]["sentiment_threshold"])


def reassign(ticket_id: str, agent_id: str) -> None:
    from triage_core.ops import scoring

    write(lambda s: scoring.reassign(s, ticket_id, agent_id, by="dashboard"))


# -- models, feedback, retraining -------------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def model_versions() -> pd.DataFrame:
    from triage_core.models import registry

    return _run(registry.list_versions)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def model_metrics(version: int) -> dict[str, Any]:
    from triage_core.models import registry

    return _run(registry.get_version, version).metrics


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def confidence_values() -> pd.Series:
    return _run(lambda s: s.query(
        "SELECT category_confidence FROM triage_results USING SAMPLE 50000 ROWS (reservoir, 7)"
    )["category_confidence"])


def promote(version: int) -> None:
    from triage_core.triage import training

    write(lambda s: training.promote(s, config(), version))


def rollback() -> int:
    from triage_core.triage import training

    return write(lambda s: training.rollback(s, config()))


def run_triage(s: Store) -> str:
    from triage_core.triage import pipeline

    r = pipeline.triage(s, config())
    return (f"Predicted {r['predicted']:,} new or changed tickets and scored "
            f"{r['scored']:,} with profile {r['profile']!r}.")


def retrain(force: bool = False) -> dict[str, Any]:
    from triage_core.triage import training

    return write(lambda s: training.retrain(s, config(), force=force))


def read_csv_upload(content: bytes) -> pd.DataFrame | str:
    import io

    try:
        return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"cannot read the file as UTF-8 CSV ({str(exc).splitlines()[0]})"


def evaluate_upload(frame: pd.DataFrame, task: str, text_cols: list[str], label_col: str
                    ) -> dict[str, Any]:
    from triage_core.models import evaluate

    if task == "category":
        from triage_core.models import registry

        model = _run(registry.load, "category")
        return evaluate.evaluate_model(model, frame, text_cols, label_col)
    return evaluate.evaluate_sentiment(None, frame, text_cols, label_col)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def review_queue(mask: bool = True) -> pd.DataFrame:
    from triage_core.ops import feedback, scoring

    threshold = scoring.rules(config()).confidence_threshold
    return masked(_run(feedback.review_queue, threshold), mask)


def feedback_summary() -> dict[str, int]:
    from triage_core.ops import feedback

    return _run(feedback.summary)


def feedback_list() -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.list_feedback, None, 200)


def ticket_feedback(ticket_id: str) -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.list_feedback, ticket_id)


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def feedback_weekly() -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.weekly_volume)


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def csat_vs_sentiment() -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.csat_vs_sentiment)


def add_feedback(ticket_id: str, changes: dict[str, str | None], by: str, comment: str) -> None:
    from triage_core.ops import feedback

    write(lambda s: feedback.add(s, ticket_id, changes, by=by, comment=comment))


def undo_feedback(feedback_id: int) -> None:
    from triage_core.ops import feedback

    write(lambda s: feedback.undo(s, feedback_id, by="dashboard"))


def known_categories() -> list[str]:
    from triage_core.ops import feedback

    return _run(feedback.known_categories)


# -- campaign planning: incremental tickets (lift) and forecasts ------------------------------
# Their results hold campaign facts and counts, no ticket text, so there is nothing to mask.

def lift_settings() -> marketing.LiftSettings:
    """The ``[lift]`` section of the config, validated (window, interval...)."""
    return marketing.LiftSettings.from_mapping(config().get("lift"))


@st.cache_data(ttl=TTL, max_entries=8, show_spinner="Measuring incremental tickets…")
def campaign_lift(window_days: int, model: str = "last_touch") -> pd.DataFrame:
    """Incremental tickets per campaign (every ticket, not the sidebar filters), beside the
    attributed tickets of the campaign view (stored or cached)."""
    credit = campaign_impact(model, Filters(), default_lookback()).dropna(subset=["campaign_id"])
    return _run(marketing.campaign_lift, window_days=window_days, model=model,
                lift=config().get("lift"), attribution=attribution_settings(),
                attributed=credit.set_index("campaign_id")["tickets"])


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def plan_defaults() -> dict[str, Any]:
    return _run(marketing.plan_defaults)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner="Forecasting…")
def forecast(start: Any, end: Any, reach: float, like: tuple[str, ...] = (),
             channel: str | None = None, tags: tuple[str, ...] = (),
             spend: float | None = None, revenue: float | None = None,
             model: str = "last_touch") -> Any:
    """A planned campaign's forecast (:class:`triage_core.marketing.Forecast`)."""
    plan = marketing.Plan(start=start, end=end, reach=reach, like=like, channel=channel,
                          tags=tags, spend=spend, revenue=revenue)
    return _run(marketing.forecast_campaign, plan, model, forecast=config().get("forecast"),
                attribution=attribution_settings(), routing=config().get("routing"))


@st.cache_data(ttl=TTL, max_entries=4, show_spinner="Backtesting the forecast…")
def forecast_backtest(model: str = "last_touch") -> Any:
    """Every past campaign forecast from the earlier ones (:class:`~triage_core.marketing.
    Backtest`)."""
    return _run(marketing.backtest, model, forecast=config().get("forecast"),
                attribution=attribution_settings())
