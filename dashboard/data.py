"""The dashboard's only cache layer between pages and triage_core.

``st.cache_resource`` holds the database connection (shared, never mutated by pages); under
``triage serve`` it is the server's own connection, the only read-write one. ``st.cache_data``
holds query results (each call gets a copy) with a TTL and a size bound, keyed on the data
version (:mod:`triage_core.server.version`): every write, from a page, the API, a webhook or a
``triage`` verb sent to the server, bumps it, so every session reads fresh results after it.
Every query runs on its own DuckDB cursor so concurrent sessions do not share one.
Writes go through :func:`write`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from dashboard.format import BIDI, without_bidi
from triage_core import marketing
from triage_core.errors import DatabaseBusyError, TriageError
from triage_core.marketing import MODEL_DESCRIPTIONS, MODELS, AttributionSettings, Filters
from triage_core.ops import analytics
from triage_core.schema import IMPORT_TABLES
from triage_core.server import context, version
from triage_core.store import Store, default_db_path
from triage_core.store.mapping import PRESETS
from triage_core.store.retry import retry_on_conflict
from triage_core.text import mask_pii_series, mask_values, pseudonymize_cached, pseudonymize_key

# What pages may use from triage_core, re-exported: pages import only this module.
__all__ = ["IMPORT_TABLES", "MODELS", "MODEL_DESCRIPTIONS", "PRESETS", "DatabaseBusyError",
           "Filters", "TriageError"]

T = TypeVar("T")
TTL = 600
TEXT_COLUMNS = ("subject", "body", "comment", "text")  # "text": an evaluated file's rows
# Record keys: shown with their digits (a ticket id is looked up in the helpdesk by them), only
# an e-mail address in one is masked (see triage_core.text.pseudonymize_key).
KEY_COLUMNS = ("ticket_id",)


def db_path() -> str:
    return _resolved(os.environ.get("TRIAGE_DB") or "", os.getcwd())


@functools.lru_cache(maxsize=16)
def _resolved(env: str, cwd: str) -> str:
    """The database's absolute path (asked on every query: resolved once per setting)."""
    return str(Path(env or default_db_path()).resolve())


def db_name() -> str:
    """The database's file name (pages never show server paths)."""
    return Path(db_path()).name


def cached(max_entries: int, show_spinner: bool | str = False
           ) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """``st.cache_data`` (TTL, ``max_entries``) keyed on the data version as well as the
    arguments: after any write, the next call computes a fresh result."""
    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        def at_version(data_version: int, *args: Any, **kwargs: Any) -> T:
            return fn(*args, **kwargs)

        at_version.__module__, at_version.__qualname__ = fn.__module__, fn.__qualname__
        cached_fn = st.cache_data(ttl=TTL, max_entries=max_entries,
                                  show_spinner=show_spinner)(at_version)

        @functools.wraps(fn)
        def read(*args: Any, **kwargs: Any) -> T:
            return cached_fn(version.current(), *args, **kwargs)

        return read
    return decorate


def data_version() -> int:
    """The data version cached results are keyed on (every write bumps it)."""
    return version.current()


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def store() -> Store:
    """A cursor on the shared connection (the server's, under ``triage serve``), for one
    query."""
    served = context.server_for(db_path())
    return (served.store if served is not None else _store(db_path())).cursor()


def write(fn: Callable[[Store], T]) -> T:
    """Run a write against the database (again if a concurrent writer changed the same rows
    first), then mark cached results stale (and let the server repair what it must)."""
    cur = store()
    try:
        return retry_on_conflict(cur, lambda: fn(cur))
    finally:
        cur.close()
        served = context.server_for(db_path())
        if served is not None:
            served.after_write()
        else:
            version.bump()


def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    cur = store()
    try:
        return fn(cur, *args, **kwargs)
    finally:
        cur.close()


# -- what pages are allowed to see ------------------------------------------------------------
#
# With masking on (the sidebar switch, on by default), every value a page gets from this
# module has its e-mail addresses, phone numbers and card numbers masked: free text as
# "[email]", every other column (ids, names, labels) and column names as a keyed token
# ("[email 3fa2c1d0]") that still tells customers apart. Cached results hold the raw data;
# masking is applied on the way out (``shown``), so no page can forget it. A frame with a
# ticket_id column keeps the real ids in its (hidden) index, for selections.


def mask_on() -> bool:
    return bool(st.session_state.get("mask_pii", True))


@functools.lru_cache(maxsize=8)  # asked for every label a page shows: no Streamlit cache lookup
def _salt(path: str) -> bytes:
    """The database's own key for masked tokens (created once, kept in ``settings``)."""
    import secrets

    def get(s: Store) -> bytes:
        value = s.scalar("SELECT value FROM settings WHERE key = 'pii_salt'")
        if value is None:
            value = secrets.token_hex(16)
            s.execute("INSERT OR IGNORE INTO settings VALUES ('pii_salt', ?)", [value])
            value = s.scalar("SELECT value FROM settings WHERE key = 'pii_salt'")
        return bytes.fromhex(str(value))

    return _run(get)


def masked(df: pd.DataFrame, mask: bool | None = None) -> pd.DataFrame:
    """``df`` as a page may show it (see above)."""
    if df is None or df.empty:
        return df
    out = df.copy()
    if "ticket_id" in out.columns:
        out.index = pd.Index(df["ticket_id"].to_numpy(), name="_ticket")
    if not (mask_on() if mask is None else mask):
        return without_bidi(out)
    salt = _salt(db_path())
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]) \
                or pd.api.types.is_datetime64_any_dtype(out[col]):
            continue
        values = mask_values(out[col].to_numpy(dtype=object), salt, free_text=col in TEXT_COLUMNS,
                             key=col in KEY_COLUMNS)
        if values is not None:
            out[col] = values
    out.columns = [display(c) for c in out.columns]
    return without_bidi(out)


def display(value: Any) -> str:
    """One value from the data as a page may show it (widget labels, format_func)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if not mask_on():
        return str(value).translate(BIDI)
    return pseudonymize_cached(str(value), _salt(db_path())).translate(BIDI)


def shown(value: Any) -> Any:
    """Masked frames, dicts, lists and texts (see above); numbers and dates as they are."""
    if isinstance(value, pd.DataFrame):
        return masked(value)
    if isinstance(value, dict):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(shown(v) for v in value)
    if isinstance(value, str):
        return display(value)
    return value


@cached(8)
def filter_options() -> dict[str, Any]:
    return _run(analytics.filter_options)


@cached(8)
def has_triage() -> bool:
    return _run(analytics.has_triage)


@cached(8)
def as_of() -> Any:
    return _run(analytics.as_of)


@cached(32)
def overview_kpis(f: Filters) -> dict[str, Any]:
    return _run(analytics.overview_kpis, f)


def previous_period(f: Filters) -> Filters | None:
    """The same filters over the period of the same length just before ``f``'s date range
    (the whole data's range when ``f`` has none); None when there is no earlier data."""
    import dataclasses
    import datetime as dt

    opts = filter_options()
    lo, hi = opts["min_date"], opts["max_date"]
    start = pd.Timestamp(f.start if f.start is not None else lo) if (
        f.start is not None or lo is not None) else None
    end = pd.Timestamp(f.end if f.end is not None else hi) if (
        f.end is not None or hi is not None) else None
    if start is None or end is None or lo is None or start <= pd.Timestamp(lo):
        return None
    days = (end.normalize() - start.normalize()).days + 1
    prev_end = start.normalize() - pd.Timedelta(days=1)
    prev_start = prev_end - pd.Timedelta(days=days - 1)
    return dataclasses.replace(f, start=dt.date.fromisoformat(str(prev_start.date())),
                               end=dt.date.fromisoformat(str(prev_end.date())))


def period_days(f: Filters) -> int | None:
    opts = filter_options()
    start = f.start if f.start is not None else opts["min_date"]
    end = f.end if f.end is not None else opts["max_date"]
    if start is None or end is None:
        return None
    return (pd.Timestamp(end).normalize() - pd.Timestamp(start).normalize()).days + 1


@cached(32)
def volume_trend(f: Filters, freq: str) -> pd.DataFrame:
    return _run(analytics.volume_trend, f, freq)


def sentiment_trend(f: Filters, by: str, freq: str) -> pd.DataFrame:
    return masked(_sentiment_trend(f, by, freq))


@cached(32)
def _sentiment_trend(f: Filters, by: str, freq: str) -> pd.DataFrame:
    # every group: the chart draws the largest and says how many it left out
    return _run(analytics.sentiment_trend, f, by, freq, top=1000)


def breakdown(f: Filters, by: str) -> pd.DataFrame:
    return masked(_breakdown(f, by))


@cached(32)
def _breakdown(f: Filters, by: str) -> pd.DataFrame:
    return _run(analytics.breakdown, f, by)


@cached(64)
def _tickets(f: Filters, **kwargs: Any) -> pd.DataFrame:
    return _run(analytics.tickets, f, **kwargs)


def tickets(f: Filters, **kwargs: Any) -> pd.DataFrame:
    """Tickets as a page may show them; the real ticket ids are the (hidden) index."""
    return masked(_tickets(f, **kwargs))


@cached(64)
def count_tickets(f: Filters, **kwargs: Any) -> int:
    return _run(analytics.count_tickets, f, **kwargs)


@cached(16)
def _alerts(f: Filters) -> pd.DataFrame:
    return _run(analytics.alerts, f)


def alerts(f: Filters) -> pd.DataFrame:
    return masked(_alerts(f))


@cached(8)
def _team_workload() -> pd.DataFrame:
    return _run(analytics.team_workload)


def team_workload() -> pd.DataFrame:
    return masked(_team_workload())


@cached(8)
def _queue_summary() -> pd.DataFrame:
    return _run(analytics.queue_summary)


def agent_names() -> dict[str, str]:
    """Real agent id -> the agent's name as a page may show it (the id without a name)."""
    raw = _team_workload()
    if raw.empty:
        return {}
    names = masked(raw[["agent_id", "name"]])
    return {str(a): (str(n) if isinstance(n, str) and n.strip() else display(a))
            for a, n in zip(raw["agent_id"], names.iloc[:, 1], strict=True)}


def with_agent_names(df: pd.DataFrame, column: str = "agent_id", into: str = "agent"
                     ) -> pd.DataFrame:
    """``df`` (already masked) with the agent's name in ``into`` beside the id column."""
    if df is None or df.empty or column not in df.columns:
        return df
    names = agent_names()
    by_shown = {display(a): n for a, n in names.items()}
    return df.assign(**{into: df[column].map(
        lambda a: "" if a is None or (isinstance(a, float) and pd.isna(a))
        else by_shown.get(str(a), str(a)))})


def agent_choices() -> dict[str, str]:
    """Real agent id -> how a page may show it (id, name, team, load), for pickers."""
    raw = _team_workload()
    shown_rows = masked(raw)
    return {str(a): f"{r.agent_id} – {r.name} ({r.team}, {r.assigned}/{r.capacity})"
            for a, r in zip(raw["agent_id"], shown_rows.itertuples(), strict=True)}


def queue_summary() -> pd.DataFrame:
    """Queues per team; ``team`` masked for display, the raw name in ``team_key``."""
    raw = _queue_summary()
    return masked(raw).assign(team_key=raw["team"].to_numpy()) if not raw.empty else raw


def readable(text: str) -> str:
    """A ticket's text as a page shows it: HTML (an export's description) as plain text."""
    from triage_core.text import html_to_text

    return html_to_text(text)


def ticket_detail(ticket_id: str) -> dict[str, Any] | None:
    """One ticket with its triage and the words behind its category and sentiment, as a page
    may show it; ``_ticket`` holds the real id (for corrections)."""
    detail = _ticket_detail(ticket_id)
    if detail is None:
        return None
    detail.update(_explain(ticket_id))
    if mask_on():
        for key in ("subject", "body"):
            if isinstance(detail.get(key), str):
                detail[key] = mask_pii_series(pd.Series([detail[key]])).iloc[0]
        salt = _salt(db_path())
        detail = {k: v if k in ("subject", "body")
                  else pseudonymize_key(v, salt) if k in KEY_COLUMNS and isinstance(v, str)
                  else shown(v) for k, v in detail.items()}
    detail["_ticket"] = ticket_id
    return detail


@cached(256)
def _ticket_detail(ticket_id: str) -> dict[str, Any] | None:
    return _run(analytics.ticket_detail, ticket_id)


@cached(256)
def _explain(ticket_id: str) -> dict[str, Any]:
    from triage_core.models import registry
    from triage_core.triage import pipeline

    served = context.server_for(db_path())
    if served is not None:  # the models the server loaded at start for its ticket intake
        models = _run(served.models)
    else:
        versions = _run(lambda s: (registry.active_version(s, "category"),
                                   registry.active_version(s, "sentiment")))
        models = _models(db_path(), *versions)
    return _run(pipeline.explain, config(), ticket_id, models=models)


@st.cache_resource(show_spinner=False, max_entries=2)
def _models(path: str, category_version: int | None, sentiment_version: int | None) -> Any:
    """The active models, loaded once per version pair and shared by every session (loading
    them takes seconds; the explorer explains one ticket at a time)."""
    from triage_core.triage import pipeline

    return _run(pipeline.load_models, config())


def user_tables(counts: dict[str, int]) -> dict[str, int]:
    """The tables a user imports, exports or reads (the product's bookkeeping left out)."""
    return analytics.user_tables(counts)


@cached(8)
def counts() -> dict[str, int]:
    return _run(Store.counts)


QUEUE_PREFIX = "queue: "


@cached(4)
def exportable() -> list[str]:
    tables = _run(analytics.exportable_tables)
    queues = _queue_summary()["team"].dropna().tolist() if has_triage() else []
    return tables + [QUEUE_PREFIX + q for q in queues]


def export_frame(name: str) -> pd.DataFrame:
    if name.startswith(QUEUE_PREFIX):
        df = _run(analytics.tickets, Filters(), open_only=True,
                  team=name.removeprefix(QUEUE_PREFIX), limit=10_000_000)
    else:
        df = _run(analytics.export_table, name)
    return masked(df)


def export_bytes(name: str, fmt: str, for_people: bool = False) -> bytes:
    """The table or queue as CSV or Parquet (masked); ``for_people``: human column headers
    (the dashboard's labels) instead of the column names a re-import needs."""
    df = export_frame(name)
    if for_people:  # for a spreadsheet: no cell it would run as a formula
        from dashboard import format as labels
        from triage_core.store.formats import spreadsheet_safe

        df = spreadsheet_safe(labels.for_people(df))
    if fmt == "parquet":
        return df.to_parquet(index=False)
    return df.to_csv(index=False).encode("utf-8")


def spreadsheet_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV for a spreadsheet: no cell it would run as a formula."""
    from triage_core.store.formats import spreadsheet_safe

    return spreadsheet_safe(frame).to_csv(index=False)


def config() -> dict[str, Any]:
    """The server's configuration under ``triage serve`` (its ``--config``), else the
    defaults."""
    served = context.server_for(db_path())
    return served.config if served is not None else _default_config()


@st.cache_resource(show_spinner=False)
def _default_config() -> dict[str, Any]:
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


@cached(4)
def _campaign_tables() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    return _run(analytics.campaign_tables)


def attribution_settings() -> AttributionSettings:
    """The ``[attribution]`` section of the config, validated."""
    return AttributionSettings.from_mapping(config().get("attribution"))


def default_lookback() -> int:
    """The configured attribution lookback in whole days (the campaign page's default)."""
    return int(attribution_settings().lookback_days)


def campaign_impact(model: str, f: Filters, lookback_days: int) -> pd.DataFrame:
    """Per campaign impact as a page may show it (raw campaign ids in ``campaign_key``);
    spend and revenue follow the filters like the support cost (see
    :func:`triage_core.marketing.money_in_filters`)."""
    raw = _campaign_money(model, f, lookback_days)
    return masked(raw).assign(campaign_key=raw["campaign_id"].to_numpy()) if len(raw) else raw


@cached(32)
def _campaign_money(model: str, f: Filters, lookback_days: int) -> pd.DataFrame:
    raw = _campaign_impact(model, f, lookback_days)
    if raw.empty:
        return raw
    return _run(marketing.money_in_filters, raw, f, lookback_days)


def campaigns_to_fix(model: str, f: Filters, lookback_days: int) -> pd.DataFrame:
    """The campaigns to stop or fix with the reason in words (see
    :func:`triage_core.marketing.campaigns_to_fix`); raw ids in ``campaign_key``."""
    from dashboard import format as fmt

    raw = _campaign_money(model, f, lookback_days)
    if raw.empty:
        return raw
    fix = marketing.campaigns_to_fix(raw, currency=fmt.currency())
    return masked(fix).assign(campaign_key=fix["campaign_id"].to_numpy()) if len(fix) else fix


def cost_per_ticket() -> pd.DataFrame:
    """What one ticket costs per category and tier (the ``[attribution] support_cost``
    config), for the categories of the data."""
    return masked(marketing.cost_per_ticket(attribution_settings(),
                                            list(filter_options()["categories"])))


def profile_note() -> str | None:
    """In words, when the active priority profile is not the packaged one: support cost
    depends on the tier, so the profile changes it."""
    from triage_core.ops import scoring

    active = active_profile_name()
    packaged = scoring.settings(config()).active_profile
    if active == packaged:
        return None
    return (f"Support cost depends on each ticket's priority tier, and tiers come from the "
            f"active priority profile “{display(active)}” (saved on Priority tuning), not the "
            f"packaged “{display(packaged)}”: its tiers changed what these tickets cost.")


@cached(32, "Attributing tickets to campaigns…")
def _campaign_impact(model: str, f: Filters, lookback_days: int) -> pd.DataFrame:
    stored = _campaign_tables()
    if (stored is not None and model == "last_touch" and lookback_days == default_lookback()
            and _unfiltered(f)):
        return stored[0]  # materialized by the last `triage score`
    return _run(marketing.campaign_impact, model, lookback_days=lookback_days, filters=f,
                config=attribution_settings())


@cached(16)
def _spike_series(model: str = "last_touch") -> pd.DataFrame:
    stored = _campaign_tables()
    if stored is not None and model == "last_touch":
        return stored[1]
    return _run(marketing.spike_series, model, config=attribution_settings())


def spike_alerts(model: str = "last_touch") -> pd.DataFrame:
    """One row per campaign with at least one spike day after launch."""
    return masked(_spike_alerts(model))


@cached(16)
def _spike_alerts(model: str = "last_touch") -> pd.DataFrame:
    # from the raw series, once per data version: only the few alert rows get masked (masking
    # every campaign-day of the series on each visit took 0.1-0.2 s at 1M tickets)
    return marketing.spike_alerts(_spike_series(model))


def campaign_drill(model: str, campaign_id: str, f: Filters, lookback_days: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """One campaign's credited tickets per day, its 300 tickets with the most credit (as a page
    may show them) and how many it has (see :func:`analytics.campaign_drill`)."""
    daily, top, n = _campaign_drill(model, campaign_id, f, lookback_days)
    return daily, masked(top), n


@cached(32)
def _campaign_drill(model: str, campaign_id: str, f: Filters, lookback_days: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    return _run(analytics.campaign_drill, model, campaign_id, lookback_days, f,
                attribution_settings(), unfiltered=_unfiltered(f))


def profile_names() -> list[str]:
    from triage_core.ops import scoring

    return _run(scoring.profile_names, config())


def active_profile_name() -> str:
    from triage_core.ops import scoring

    return _run(lambda s: scoring.load_profile(s, config()).name)


def profile(name: str) -> dict[str, Any]:
    from triage_core.ops import scoring

    return _run(lambda s: scoring.load_profile(s, config(), name).to_dict())


@cached(2)
def _open_frame() -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Open tickets with scoring inputs, the agents and the data time (cached for previews)."""
    from triage_core.ops import scoring

    def load(s: Store) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
        frame = scoring.scoring_frame(s, open_only=True,
                                      lookback_days=attribution_settings().lookback_days)
        for col in ("status", "segment", "category", "language", "campaign_id", "channel"):
            frame[col] = frame[col].astype("category")  # cheap re-scoring (see ops/priority)
        by_hand = set(s.query("SELECT DISTINCT ticket_id FROM reassignments")["ticket_id"])
        # reassignable: nobody has answered it yet, and no lead assigned it by hand
        frame["_reroute"] = (frame["first_response_at"].isna()
                             & ~frame["ticket_id"].isin(by_hand)).to_numpy()
        return frame, s.query("SELECT * FROM agents"), scoring.data_time(s)

    return _run(load)


@cached(16)
def preview(saved_name: str, candidate: dict[str, Any]) -> Any:
    """Score the open tickets under the saved profile and the candidate (pure, in memory);
    kept per candidate, so a rerun with the same sliders (or going back to a setting) costs
    nothing."""
    from triage_core.ops import priority, scoring

    frame, agents, now = _open_frame()
    saved = _run(lambda s: scoring.load_profile(s, config(), saved_name))
    cand = priority.PriorityProfile.from_mapping({**candidate, "name": "preview"})
    return scoring.preview(frame.drop(columns=["_reroute"]), agents, saved, cand,
                           scoring.rules(config()), now, reroute=frame["_reroute"].to_numpy())


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


def overloaded() -> pd.DataFrame:
    """Agents holding more open tickets than their capacity."""
    from triage_core.ops import rebalance

    return masked(_run(rebalance.overloaded))


def rebalance_proposal() -> pd.DataFrame:
    """Moves that bring over-capacity agents back under capacity (raw ids, for applying)."""
    from triage_core.ops import rebalance

    return _run(rebalance.propose, config())


def apply_rebalance(moves: pd.DataFrame) -> int:
    from triage_core.ops import rebalance

    return write(lambda s: rebalance.apply(s, moves, by="dashboard"))


def reassign(ticket_id: str, agent_id: str) -> None:
    from triage_core.ops import scoring

    write(lambda s: scoring.reassign(s, ticket_id, agent_id, by="dashboard"))


# -- models, feedback, retraining -------------------------------------------------------------

def model_versions() -> pd.DataFrame:
    return masked(_model_versions())


@cached(4)
def _model_versions() -> pd.DataFrame:
    from triage_core.models import registry

    return _run(registry.list_versions)


def model_metrics(version: int) -> dict[str, Any]:
    return shown(_model_metrics(version))


@cached(16)
def _model_metrics(version: int) -> dict[str, Any]:
    from triage_core.models import registry

    return _run(registry.get_version, version).metrics


@cached(4)
def confidence_bins() -> pd.DataFrame:
    from triage_core.ops import analytics

    return _run(analytics.confidence_bins)


def promote(version: int) -> None:
    from triage_core.triage import training

    write(lambda s: training.promote(s, config(), version))


def rollback() -> int:
    from triage_core.triage import training

    return write(lambda s: training.rollback(s, config()))


def run_triage(s: Store, progress: Any = None) -> str:
    from triage_core.triage import pipeline

    r = pipeline.triage(s, config(), progress=progress)
    return (f"Predicted {r['predicted']:,} new or changed tickets and scored "
            f"{r['scored']:,} with profile {r['profile']!r}.")


def retrain(force: bool = False, progress: Any = None) -> dict[str, Any]:
    """Retrain (``progress``: a callback drawing the model selection and re-triage)."""
    from triage_core.triage import training

    return write(lambda s: training.retrain(s, config(), force=force, progress=progress))


def read_labeled_upload(content: bytes, name: str) -> pd.DataFrame | str:
    """An uploaded labeled file read as ``triage evaluate`` reads one (CSV with its delimiter,
    Parquet, JSON), or the one-line reason it cannot be."""
    import tempfile
    from pathlib import Path

    from triage_core.models import evaluate

    suffix = Path(name).suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            return evaluate.read_table(path)
        except TriageError as exc:
            return str(exc).replace(str(path), name).replace(path.name, name)


def evaluate_upload(frame: pd.DataFrame, task: str, text_cols: list[str], label_col: str,
                    label_map: str = "") -> dict[str, Any]:
    """The report of ``triage evaluate`` on an uploaded file, with each row's prediction
    (``rows``, masked like every value a page gets); ``label_map`` as ``--label-map``
    (sentiment; empty: none)."""
    from triage_core.models import evaluate, sentiment_labels

    if task == "category":
        from triage_core.models import registry

        model = _run(registry.load, "category")
        report = evaluate.evaluate_model(model, frame, text_cols, label_col, keep_rows=True)
    else:
        labels = sentiment_labels.parse_label_map(label_map) if label_map.strip() else None
        report = evaluate.evaluate_sentiment(None, frame, text_cols, label_col, keep_rows=True,
                                             label_map=labels)
    report["rows"] = masked(report["rows"])
    return report


def review_queue() -> pd.DataFrame:
    return masked(_review_queue())


@cached(8)
def _review_queue() -> pd.DataFrame:
    from triage_core.ops import feedback, scoring

    threshold = scoring.rules(config()).confidence_threshold
    return _run(feedback.review_queue, threshold)


def feedback_summary() -> dict[str, int]:
    from triage_core.ops import feedback

    return _run(feedback.summary)


def feedback_list() -> pd.DataFrame:
    from triage_core.ops import feedback

    return masked(_run(feedback.list_feedback, None, 200))


def ticket_feedback(ticket_id: str) -> pd.DataFrame:
    return masked(_ticket_feedback(ticket_id))


@cached(256)
def _ticket_feedback(ticket_id: str) -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.list_feedback, ticket_id)


@cached(4)
def feedback_weekly() -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.weekly_volume)


@cached(4)
def csat_vs_sentiment() -> pd.DataFrame:
    from triage_core.ops import feedback

    return _run(feedback.csat_vs_sentiment)


def add_feedback(ticket_id: str, changes: dict[str, str | None], by: str, comment: str) -> None:
    from triage_core.ops import feedback

    write(lambda s: feedback.add(s, ticket_id, changes, by=by, comment=comment))


def undo_feedback(feedback_id: int) -> None:
    from triage_core.ops import feedback

    write(lambda s: feedback.undo(s, feedback_id, by="dashboard"))


@cached(4)
def known_categories() -> list[str]:
    from triage_core.ops import feedback

    return _run(feedback.known_categories)


# -- imports with a mapping, and data health ------------------------------------------------

UPLOAD_DIR_KEY = "_upload_dir"


@st.cache_resource(show_spinner=False)
def dashboard_settings() -> Any:
    """The ``[dashboard]`` section, validated (upload limit, currency symbol)."""
    from triage_core.config.dashboard import DashboardSettings

    return DashboardSettings.from_mapping(config().get("dashboard"))


def max_upload_mb() -> int:
    """The largest file a page accepts ([dashboard] max_upload_mb)."""
    return dashboard_settings().max_upload_mb


class UploadFolder:
    """A private temporary folder that keeps a session's newest uploaded file: saving another
    file removes the one before, and the folder goes when the session's state is dropped
    (Streamlit forgets a closed session after a while) or the server stops, so uploaded
    customer data does not pile up in the temporary directory."""

    def __init__(self) -> None:
        import shutil
        import tempfile
        import weakref

        self.path = Path(tempfile.mkdtemp(prefix="triage-upload-"))
        weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def save(self, name: str, content: bytes) -> Path:
        """``content`` under the user's own file name (error messages name it), minus anything
        that could leave the folder; the file saved before it is removed."""
        import hashlib
        import shutil

        safe = re.sub(r"[\x00-\x1f/\\]+", "_", Path(name).name).lstrip(".") or "upload"
        digest = hashlib.sha256(content).hexdigest()[:12]
        path = self.path / digest / safe
        for old in self.path.iterdir():
            if old.name != digest:
                shutil.rmtree(old, ignore_errors=True)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return path


def save_upload(name: str, content: bytes) -> Path:
    """Keep an uploaded file for this session (a private temporary folder; never shown)."""
    folder = st.session_state.get(UPLOAD_DIR_KEY)
    if not isinstance(folder, UploadFolder) or not folder.path.is_dir():
        folder = st.session_state[UPLOAD_DIR_KEY] = UploadFolder()
    return folder.save(name, content)


def safe_file_name(name: str) -> str:
    """A file name made only of letters, digits, '.', '-' and '_' (for downloads)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned[:120]


def mapping_names() -> list[str]:
    from triage_core.store import saved_mappings

    return _run(saved_mappings.names)


def load_mapping(ref: str) -> Any:
    from triage_core.store import saved_mappings

    return _run(saved_mappings.load, ref)


def parse_mapping(text: str, name: str = "") -> Any:
    from triage_core.store.mapping import ImportMapping

    return ImportMapping.from_toml(text, name)


def mapping_of(table: str, columns: dict[str, tuple[str, ...]], defaults: dict[str, str],
               values: dict[str, dict[str, str | None]],
               formats: dict[str, str] | None = None, duplicates: str = "refuse") -> Any:
    """The mapping a page's form describes (a format typed in is checked as in a file;
    ``duplicates`` comes from the mapping the form started from)."""
    from triage_core.store.mapping import ImportMapping

    checked = ImportMapping.from_mapping({"table": table, "formats": formats or {}}).formats
    return ImportMapping("", table, columns, values, defaults, checked, duplicates)


def save_mapping(name: str, mapping: Any) -> None:
    from triage_core.store import saved_mappings

    write(lambda s: saved_mappings.save(s, name, mapping))


@cached(16, "Reading the file…")
def _inspect(table: str, path: str, mapping_toml: str | None) -> Any:
    from triage_core.store.inspect import inspect_file

    mapping = parse_mapping(mapping_toml) if mapping_toml else None
    return _run(inspect_file, table, path, mapping)


def inspect_upload(table: str, path: Path, mapping: Any | None) -> Any:
    """What importing the file with ``mapping`` would do: columns, guesses, values that do not
    fit, a preview (masked like everything else)."""
    import dataclasses

    report = _inspect(table, str(path), mapping.to_toml() if mapping is not None else None)
    return dataclasses.replace(report, preview=masked(report.preview),
                               unmatched={c: [(display(v), n) for v, n in vals]
                                          for c, vals in report.unmatched.items()},
                               raw_unmatched=report.unmatched)


def for_page(detail: str) -> str:
    """An import's refusal in the words of the Data page (its column pickers and value
    fields), not the CLI's options."""
    from triage_core.store.mapping import MAP_COLUMNS
    from triage_core.store.validation import USE_MAPPING

    return (detail
            .replace(MAP_COLUMNS, "; pick them under Columns above (or type the one value"
                     " every row has)")
            .replace(USE_MAPPING, "import with the values mapped above (or a saved mapping"
                     " chosen under Start from)"))


def import_upload(table: str, path: Path, mapping: Any | None, create_missing: bool) -> Any:
    return write(lambda s: s.import_file(table, path, mapping=mapping,
                                         create_missing=create_missing))


def health() -> list[str]:
    """What is missing or doubtful in the data, in words (see triage_core.ops.health)."""
    return [display(m) if mask_on() else m for m in _health()]


@cached(4)
def _health() -> list[str]:
    from triage_core.ops import health as checks

    return checks.messages(_run(checks.check, config()))


# -- topics: cold start and the emerging-topic alert ------------------------------------------

def model_summary(version: int) -> dict[str, Any]:
    """The training summary of a version: the chosen configuration (``selection``) with every
    candidate's CV score, the plain baselines and the margin."""
    from triage_core.models import registry

    return shown(_run(registry.get_version, version).train_summary)


def topic_proposal() -> dict[str, Any] | None:
    """The saved topic proposal as a page may show it (names masked like every value)."""
    from triage_core.triage import labeling

    proposal = _run(labeling.load_proposal)
    if proposal is None:
        return None
    topics = [{**topic, **{k: shown(topic[k]) for k in ("name", "terms") if k in topic}}
              for topic in proposal.get("topics", [])]
    return {**proposal, "topics": topics}


def topic_table(proposal: dict[str, Any] | None) -> pd.DataFrame:
    from triage_core.triage import labeling

    return masked(labeling.topic_frame(proposal))


def propose_topics() -> dict[str, Any]:
    from triage_core.triage import labeling

    return write(lambda s: labeling.propose(s, config()))


def edit_topics(action: str, *args: Any) -> dict[str, Any]:
    """rename / merge / split / drop on the saved proposal (TriageError for bad input)."""
    from triage_core.triage import labeling

    if action not in ("rename", "merge", "split", "drop"):
        raise TriageError(f"unknown topic action {action!r}")
    extra = (config(),) if action == "split" else ()
    return write(lambda s: getattr(labeling, action)(s, *args, *extra))


def accept_topics(topic_ids: list[int] | None) -> dict[str, int]:
    from triage_core.triage import labeling

    return write(lambda s: labeling.accept(s, topic_ids, by="dashboard"))


def topic_tickets(ticket_ids: list[str], mask: bool | None = None) -> pd.DataFrame:
    """Subject and body of the given tickets, in the given order (masked)."""
    frame = _run(lambda s: s.query(
        "SELECT ticket_id, created_at, subject, body FROM tickets"
        " WHERE ticket_id IN (SELECT unnest(?::VARCHAR[]))", [list(ticket_ids)]))
    order = {t: i for i, t in enumerate(ticket_ids)}
    frame = frame.sort_values("ticket_id", key=lambda c: c.map(order)).reset_index(drop=True)
    return masked(frame, mask)


@cached(8)
def unlabeled_count() -> int:
    """Tickets without a label or a category correction."""
    from triage_core.triage import labeling

    return _run(labeling.unlabeled_count)


def emerging_topics() -> tuple[list[dict[str, Any]] | None, Any]:
    """Recent tickets unlike every known category, as a page may show them, and when they were
    found. Under ``triage serve`` the server finds them in the background (seconds to tens of
    seconds on a large database): None until its first run is done; otherwise computed here
    (cached)."""
    served = context.server_for(db_path())
    if served is None:
        return shown(_emerging_topics()), None
    latest = served.emerging_alerts()
    if latest is None:
        return None, None
    return shown(latest.alerts), pd.Timestamp(latest.computed_at, unit="s", tz="UTC")


@cached(2, "Looking for emerging topics…")
def _emerging_topics() -> list[dict[str, Any]]:
    from triage_core.triage import labeling

    return _run(labeling.emerging_alerts, config())


def selection_table(selection: dict[str, Any]) -> pd.DataFrame:
    """One row per candidate configuration: name, chosen, CV accuracy and macro-F1, folds,
    the keys it changes, note."""
    rows = [{"candidate": c["name"], "chosen": c["name"] == selection["chosen"],
             "accuracy": c["accuracy"], "macro_f1": c["macro_f1"], "folds": c["folds"],
             "changes": ", ".join(f"{k} = {v}" for k, v in c["changes"].items()) or "(none)",
             "note": c.get("note", "")} for c in selection.get("candidates", [])]
    return pd.DataFrame(rows)


# -- campaign planning: incremental tickets (lift) and forecasts ------------------------------
# Their results hold campaign facts and counts, no ticket text, so there is nothing to mask.

def lift_settings() -> marketing.LiftSettings:
    """The ``[lift]`` section of the config, validated (window, interval...)."""
    return marketing.LiftSettings.from_mapping(config().get("lift"))


@cached(8, "Measuring incremental tickets…")
def campaign_lift(window_days: int, model: str = "last_touch") -> pd.DataFrame:
    """Incremental tickets per campaign (every ticket, not the sidebar filters), beside the
    attributed tickets of the campaign view (stored or cached)."""
    credit = campaign_impact(model, Filters(), default_lookback()).dropna(subset=["campaign_id"])
    return _run(marketing.campaign_lift, window_days=window_days, model=model,
                lift=config().get("lift"), attribution=attribution_settings(),
                attributed=credit.set_index("campaign_id")["tickets"])


@cached(4, False)
def plan_defaults() -> dict[str, Any]:
    return _run(marketing.plan_defaults)


@cached(32, "Forecasting…")
def forecast(start: Any, end: Any, reach: float, like: tuple[str, ...] = (),
             channel: str | None = None, tags: tuple[str, ...] = (),
             spend: float | None = None, revenue: float | None = None,
             model: str = "last_touch") -> Any:
    """A planned campaign's forecast (:class:`triage_core.marketing.Forecast`)."""
    plan = marketing.Plan(start=start, end=end, reach=reach, like=like, channel=channel,
                          tags=tags, spend=spend, revenue=revenue)
    return _run(marketing.forecast_campaign, plan, model, forecast=config().get("forecast"),
                attribution=attribution_settings(), routing=config().get("routing"))


@cached(4, "Backtesting the forecast…")
def forecast_backtest(model: str = "last_touch") -> Any:
    """Every past campaign forecast from the earlier ones (:class:`~triage_core.marketing.
    Backtest`)."""
    return _run(marketing.backtest, model, forecast=config().get("forecast"),
                attribution=attribution_settings())
