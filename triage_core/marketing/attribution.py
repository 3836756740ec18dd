"""Campaign attribution of support tickets, campaign impact, and post-launch spike alerts.

A ticket is attributed to the campaigns its customer touched in the lookback window before it:

    created_at - lookback_days <= touched_at <= created_at

A touch at exactly the ticket time counts; a touch exactly ``lookback_days`` before counts; a
touch after the ticket or older than the window never counts. A ticket with no touch in its
window is *unattributed* (``campaign_id`` NULL, credit 1).

Ordering rule (used by every model that needs "first", "last" or a path order): touches are
ordered by ``touched_at``, then ``campaign_id``, then ``kind``, ascending. So among touches at the
same instant the smaller campaign id is the earlier one and the larger one is the "last touch".

Models (each ticket's credits sum to exactly 1):

* ``first_touch`` - all credit to the earliest touch in the window.
* ``last_touch`` - all credit to the latest touch.
* ``linear`` - equal credit to every touch; a campaign touched twice gets two shares.
* ``time_decay`` - weight ``2 ** (-age / half_life_days)`` with ``age`` = ticket time minus touch
  time in days, normalized to 1 over the ticket's touches.
* ``position_based`` (U-shaped) - one touch 100 %; two touches 50/50; three or more: 40 % first,
  40 % last, 20 % shared equally by the touches between.
* ``data_driven`` - first-order Markov chain over journeys (start -> campaigns -> ticket|null).
  Converting paths: the touches in each ticket's window. Non-converting paths: customers with
  touches and no ticket at all, using their touches in the last ``lookback_days`` before their
  latest touch. Removal effect of campaign c = 1 - P(ticket without c) / P(ticket), where removing
  c sends every transition into c to null. Each ticket's credit is split over the distinct
  campaigns on its own path proportionally to their removal effects. The chain is estimated on
  all journeys in the database (filters only choose which tickets are reported), so a ticket's
  credits do not change with the dashboard filters.

Set-based work (window join, ranking, credits, aggregates) is DuckDB SQL run through the
:class:`~triage_core.store.Store`; only the small absorbing-chain solve is numpy. All values are
bound parameters; the only identifiers in SQL text are fixed names in this module.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from triage_core.config import DEFAULTS_DIR
from triage_core.errors import ConfigError, TriageError
from triage_core.store import Store

MODELS: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "data_driven",
)

MODEL_DESCRIPTIONS: dict[str, str] = {
    "first_touch": "All credit to the earliest campaign touch in the lookback window.",
    "last_touch": "All credit to the latest campaign touch before the ticket.",
    "linear": "Equal credit to every touch in the window (repeated campaigns get more).",
    "time_decay": "Recent touches weigh more: weight halves every half-life days.",
    "position_based": "U-shaped: 40% first touch, 40% last, 20% shared by the ones between.",
    "data_driven": "Markov-chain removal effect of each campaign over customer journeys.",
}

TIERS: tuple[str, ...] = ("P1", "P2", "P3", "P4")
FILTER_KEYS: tuple[str, ...] = ("start", "end", "channel", "segment", "category", "campaign")
# Plural spellings (the dashboard's analytics.Filters) are accepted as the same filters.
_FILTER_ALIASES = {"channels": "channel", "segments": "segment", "categories": "category",
                   "campaigns": "campaign"}
UNCATEGORIZED = "uncategorized"

# Numeric impact columns (compare_models makes suffixed copies and deltas of these).
IMPACT_METRICS: tuple[str, ...] = (
    "tickets",
    "negative_tickets",
    "negative_share",
    "mean_sentiment",
    "value_at_risk",
    "customers_at_risk",
    "support_cost",
    "tickets_per_1000_reached",
    "roi_after_support",
)

DEFAULTS_FILE = DEFAULTS_DIR / "attribution.toml"
_US_PER_DAY = 86_400_000_000
_ORDER = "touched_at, campaign_id, kind"  # the tie-break rule, in SQL
_ORDER_DESC = "touched_at DESC, campaign_id DESC, kind DESC"


# -- settings -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpikeSettings:
    """Spike rule: see :func:`spike_series`."""

    window_days: int = 14
    baseline_days: int = 28
    sigmas: float = 3.0
    min_ratio: float = 2.0
    min_tickets: float = 5.0


@dataclass(frozen=True)
class AttributionSettings:
    """Validated ``[attribution]`` config. Costs are currency units per ticket.

    Build it with :func:`settings_from_dict` to get the packaged defaults; constructing it
    directly starts from empty cost tables (every ticket costs ``default_cost``).
    """

    lookback_days: float = 90.0
    half_life_days: float = 7.0
    default_cost: float = 10.0
    category_cost: Mapping[str, float] = field(default_factory=dict)
    tier_multiplier: Mapping[str, float] = field(default_factory=dict)
    spike: SpikeSettings = field(default_factory=SpikeSettings)


def _number(value: Any, key: str, *, positive: bool = False, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"attribution: {key} must be a number (got {value!r})")
    if not math.isfinite(value):
        raise ConfigError(f"attribution: {key} must be a finite number (got {value!r})")
    if integer and value != int(value):
        raise ConfigError(f"attribution: {key} must be a whole number (got {value!r})")
    if positive and value <= 0:
        raise ConfigError(f"attribution: {key} must be greater than 0 (got {value!r})")
    if value < 0:
        raise ConfigError(f"attribution: {key} must not be negative (got {value!r})")
    return float(value)


def _table(value: Any, key: str, allowed: Sequence[str] | None = None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"attribution: {key} must be a table (got {value!r})")
    if allowed is not None:
        for k in value:
            if k not in allowed:
                raise ConfigError(
                    f"attribution: unknown key {key}.{k}; valid keys: {', '.join(allowed)}"
                )
    return value


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(
            out.get(k), Mapping) else v
    return out


def default_section() -> dict[str, Any]:
    """The packaged ``defaults/attribution.toml`` as a dict."""
    with DEFAULTS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def settings_from_dict(section: Mapping[str, Any] | None = None) -> AttributionSettings:
    """Validate an ``[attribution]`` section (merged over the packaged defaults).

    Raises :class:`ConfigError` naming the offending key.
    """
    raw = _merge(default_section(), _table(section or {}, "[attribution]"))
    _table(raw, "[attribution]", ("lookback_days", "half_life_days", "support_cost", "spike"))
    cost = _table(raw["support_cost"], "support_cost", ("default", "base", "tier_multiplier"))
    base = _table(cost.get("base", {}), "support_cost.base")
    tiers = _table(cost.get("tier_multiplier", {}), "support_cost.tier_multiplier", TIERS)
    spike = _table(raw["spike"], "spike", tuple(SpikeSettings.__dataclass_fields__))
    return AttributionSettings(
        lookback_days=_number(raw["lookback_days"], "lookback_days", positive=True),
        half_life_days=_number(raw["half_life_days"], "half_life_days", positive=True),
        default_cost=_number(cost.get("default", 0.0), "support_cost.default"),
        category_cost={
            str(k): _number(v, f"support_cost.base.{k}") for k, v in base.items()
        },
        tier_multiplier={
            str(k): _number(v, f"support_cost.tier_multiplier.{k}") for k, v in tiers.items()
        },
        spike=SpikeSettings(
            window_days=int(_number(spike["window_days"], "spike.window_days",
                                    positive=True, integer=True)),
            baseline_days=int(_number(spike["baseline_days"], "spike.baseline_days",
                                      positive=True, integer=True)),
            sigmas=_number(spike["sigmas"], "spike.sigmas"),
            min_ratio=_number(spike["min_ratio"], "spike.min_ratio"),
            min_tickets=_number(spike["min_tickets"], "spike.min_tickets"),
        ),
    )


def _settings(config: AttributionSettings | Mapping[str, Any] | None) -> AttributionSettings:
    if isinstance(config, AttributionSettings):
        return config
    return settings_from_dict(config)


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise TriageError(
            f"unknown attribution model {model!r}; choose one of {', '.join(MODELS)}"
        )
    return model


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TriageError(f"{name} must be a number (got {value!r})")
    if value <= 0:
        raise TriageError(f"{name} must be greater than 0 (got {value!r})")
    return float(value)


# -- SQL building -------------------------------------------------------------------------------
class _Query:
    """SQL text plus named parameters; only parameters the text uses are sent."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f"${name}"

    def run(self, store: Store, sql: str) -> pd.DataFrame:
        used = set(re.findall(r"\$(\w+)", sql))
        return store.query(sql, {k: v for k, v in self.params.items() if k in used})


def _timestamp(value: Any, key: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise TriageError(f"filter {key}: cannot read {value!r} as a date or time") from None
    if ts is pd.NaT:
        raise TriageError(f"filter {key}: cannot read {value!r} as a date or time")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _is_date_only(value: Any) -> bool:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value) is not None


def _str_list(value: Any, key: str) -> list[str] | None:
    if value is None:
        return None
    try:
        values = [value] if isinstance(value, str) else list(value)
    except TypeError:
        values = [value]
    if not all(isinstance(v, str) for v in values):
        raise TriageError(f"filter {key}: expected text values (got {value!r})")
    return values or None


def normalize_filters(filters: Any) -> dict[str, Any]:
    """Filters as a dict with keys from :data:`FILTER_KEYS` (None values dropped).

    Accepts a mapping or an object with those attributes (e.g. the dashboard's
    ``analytics.Filters``); plural names (channels, segments, categories, campaigns) work too.

    * ``start`` / ``end``: ticket ``created_at`` range, both inclusive; a bare date
      (``2026-03-31``) as ``end`` covers that whole day, a timestamp is compared as is.
    * ``channel`` (ticket channel), ``segment`` (customer segment), ``category``: one value or a
      list; None or an empty list means all. They choose which tickets are attributed.
    * ``campaign``: which campaign rows to return (tickets and their credits are unchanged).
    """
    if filters is None:
        return {}
    if isinstance(filters, Mapping):
        items = dict(filters)
    else:
        names = (*FILTER_KEYS, *_FILTER_ALIASES)
        items = {k: getattr(filters, k) for k in names if hasattr(filters, k)}
        if not items:
            raise TriageError(f"filters must be a mapping with keys {', '.join(FILTER_KEYS)}")
    out: dict[str, Any] = {}
    for name, value in items.items():
        key = _FILTER_ALIASES.get(str(name), str(name))
        if key not in FILTER_KEYS:
            raise TriageError(f"unknown filter {name!r}; valid filters: {', '.join(FILTER_KEYS)}")
        if key in ("start", "end"):
            if value is not None:
                _timestamp(value, key)
                out[key] = value
        else:
            values = _str_list(value, key)
            if values:
                out[key] = values
    return out


def _filter_sql(q: _Query, filters: Mapping[str, Any]) -> str:
    """WHERE clause (``TRUE`` when empty) over the ticket source ``t`` (normalized filters)."""
    where = []
    if filters.get("start") is not None:
        start = _timestamp(filters["start"], "start")
        where.append(f"t.created_at >= {q.bind('f_start', start.to_pydatetime())}")
    if filters.get("end") is not None:
        end = _timestamp(filters["end"], "end")
        if _is_date_only(filters["end"]):
            end = end.normalize() + pd.Timedelta(days=1)
            where.append(f"t.created_at < {q.bind('f_end', end.to_pydatetime())}")
        else:
            where.append(f"t.created_at <= {q.bind('f_end', end.to_pydatetime())}")
    for key, expr in (("channel", "t.channel"), ("segment", "t_segment"),
                      ("category", "t_category")):
        if filters.get(key):
            where.append(f"list_contains({q.bind('f_' + key, filters[key])}, {expr})")
    return " AND ".join(where) or "TRUE"


def _tickets_cte(store: Store, q: _Query, filters: Mapping[str, Any]) -> str:
    """``tk``: tickets with category, sentiment, tier, segment and value; filters applied.

    Uses ``triaged_tickets`` when it exists (its category wins over ``tickets.category``);
    without it sentiment and tier are NULL.
    """
    have = set(store.columns("triaged_tickets")) if store.table_exists("triaged_tickets") else set()
    join = "LEFT JOIN triaged_tickets tr ON tr.ticket_id = t.ticket_id" if have else ""

    def tr(col: str, cast: str) -> str:
        return f"tr.{col}" if col in have else f"CAST(NULL AS {cast})"

    inner = f"""
        SELECT t.ticket_id, t.created_at, t.customer_id, t.channel,
               COALESCE(cu.segment, {tr('segment', 'VARCHAR')}) AS t_segment,
               COALESCE({tr('category', 'VARCHAR')}, t.category) AS t_category,
               {tr('sentiment', 'DOUBLE')} AS sentiment,
               {tr('sentiment_label', 'VARCHAR')} AS sentiment_label,
               {tr('priority_tier', 'VARCHAR')} AS priority_tier,
               COALESCE(cu.lifetime_value, {tr('lifetime_value', 'DOUBLE')}) AS lifetime_value
        FROM tickets t
        LEFT JOIN customers cu ON cu.customer_id = t.customer_id
        {join}"""
    where = _filter_sql(q, filters)
    return f"""tk AS (
        SELECT ticket_id, created_at, customer_id, channel, t_segment AS segment,
               t_category AS category, sentiment, sentiment_label, priority_tier, lifetime_value
        FROM ({inner}) t WHERE {where}
    )"""


def _window_cte(q: _Query, lookback_days: float) -> str:
    """``win``: every (ticket of ``tk``, touch) pair with the touch inside the ticket's window.

    A range join on customer_id: created_at - lookback <= touched_at <= created_at.
    """
    lb = q.bind("lookback_us", round(lookback_days * _US_PER_DAY))
    return f"""win AS (
        SELECT k.ticket_id, k.created_at, p.campaign_id, p.touched_at, p.kind
        FROM tk k JOIN touchpoints p
          ON p.customer_id = k.customer_id
         AND p.touched_at <= k.created_at
         AND p.touched_at >= k.created_at - to_microseconds({lb})
    )"""


def _model_cte(q: _Query, model: str, half_life_days: float,
               effects: pd.DataFrame | None) -> str:
    """``cred(ticket_id, campaign_id, credit)`` for attributed tickets, from ``win``."""
    if model in ("first_touch", "last_touch"):
        order = _ORDER if model == "first_touch" else _ORDER_DESC
        return f"""cred AS (
            SELECT ticket_id, campaign_id, 1.0 AS credit FROM win
            QUALIFY row_number() OVER (PARTITION BY ticket_id ORDER BY {order}) = 1
        )"""
    if model == "linear":
        return """cred AS (
            SELECT ticket_id, campaign_id,
                   touches / sum(touches) OVER (PARTITION BY ticket_id) AS credit
            FROM (SELECT ticket_id, campaign_id, count(*)::DOUBLE AS touches
                  FROM win GROUP BY ticket_id, campaign_id)
        )"""
    if model == "time_decay":
        hl = q.bind("half_life_us", half_life_days * _US_PER_DAY)
        # Ages are measured from the ticket's newest touch so the largest weight is 1 and tiny
        # half-lives cannot underflow every weight to 0; normalization makes this identical.
        return f"""cred AS (
            SELECT ticket_id, campaign_id, w / sum(w) OVER (PARTITION BY ticket_id) AS credit
            FROM (
                SELECT ticket_id, campaign_id,
                       sum(pow(2.0, -date_diff('microsecond', touched_at, newest) / {hl})) AS w
                FROM (SELECT ticket_id, campaign_id, touched_at,
                             max(touched_at) OVER (PARTITION BY ticket_id) AS newest FROM win)
                GROUP BY ticket_id, campaign_id
            )
        )"""
    if model == "position_based":
        return f"""cred AS (
            SELECT ticket_id, campaign_id, sum(CASE
                       WHEN n = 1 THEN 1.0
                       WHEN n = 2 THEN 0.5
                       WHEN pos = 1 OR pos = n THEN 0.4
                       ELSE 0.2 / (n - 2) END) AS credit
            FROM (SELECT ticket_id, campaign_id,
                         row_number() OVER (PARTITION BY ticket_id ORDER BY {_ORDER}) AS pos,
                         count(*) OVER (PARTITION BY ticket_id) AS n
                  FROM win)
            GROUP BY ticket_id, campaign_id
        )"""
    assert effects is not None
    ids = q.bind("re_ids", effects["campaign_id"].astype(str).tolist())
    vals = q.bind("re_vals", effects["removal_effect"].astype(float).tolist())
    # Split over the distinct campaigns of the path by removal effect; equal split if all are 0.
    return f"""re AS (SELECT unnest({ids}::VARCHAR[]) AS campaign_id,
                             unnest({vals}::DOUBLE[]) AS effect),
        cred AS (
            SELECT ticket_id, campaign_id, CASE
                       WHEN sum(effect) OVER t > 0 THEN effect / sum(effect) OVER t
                       ELSE 1.0 / count(*) OVER t END AS credit
            FROM (SELECT DISTINCT w.ticket_id, w.campaign_id, COALESCE(re.effect, 0) AS effect
                  FROM win w LEFT JOIN re ON re.campaign_id = w.campaign_id)
            WINDOW t AS (PARTITION BY ticket_id)
        )"""


def _credits_ctes(store: Store, q: _Query, model: str, lookback_days: float,
                  half_life_days: float, filters: Mapping[str, Any]) -> str:
    """CTEs ending in ``credits(ticket_id, campaign_id, credit)``, unattributed included."""
    effects = removal_effects(store, lookback_days) if model == "data_driven" else None
    return f"""WITH {_tickets_cte(store, q, filters)},
        {_window_cte(q, lookback_days)},
        {_model_cte(q, model, half_life_days, effects)},
        credits AS (
            SELECT ticket_id, campaign_id, credit FROM cred
            UNION ALL
            SELECT ticket_id, CAST(NULL AS VARCHAR), 1.0 FROM tk
            WHERE NOT EXISTS (SELECT 1 FROM win WHERE win.ticket_id = tk.ticket_id)
        )"""


def _resolve(model: str, lookback_days: float | None, half_life_days: float | None,
             config: AttributionSettings | Mapping[str, Any] | None
             ) -> tuple[AttributionSettings, float, float]:
    _check_model(model)
    cfg = _settings(config)
    lb = _positive(cfg.lookback_days if lookback_days is None else lookback_days,
                   "lookback_days")
    hl = _positive(cfg.half_life_days if half_life_days is None else half_life_days,
                   "half_life_days")
    return cfg, lb, hl


# -- public API ---------------------------------------------------------------------------------
def ticket_credits(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Mapping[str, Any] | Any | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Credit of each (ticket, campaign): columns ticket_id, campaign_id, credit.

    Unattributed tickets have one row with campaign_id None and credit 1. ``lookback_days`` and
    ``half_life_days`` default to the config (90 and 7.0).
    """
    _, lb, hl = _resolve(model, lookback_days, half_life_days, config)
    f = normalize_filters(filters)
    q = _Query()
    sql = _credits_ctes(store, q, model, lb, hl, f)
    where = (f"WHERE list_contains({q.bind('f_campaign', f['campaign'])}, campaign_id)"
             if f.get("campaign") else "")
    return q.run(store, f"{sql} SELECT * FROM credits {where}"
                        " ORDER BY ticket_id, campaign_id NULLS FIRST")


def transition_counts(store: Store, lookback_days: float | None = None) -> pd.DataFrame:
    """Journey transitions for the Markov chain: src, dst, converted, n.

    ``src`` NULL is the start state; ``dst`` NULL is the end of a path (a ticket when
    ``converted`` is 1, null otherwise). Counted over all tickets and customers.
    """
    lb = _positive(settings_from_dict().lookback_days if lookback_days is None
                   else lookback_days, "lookback_days")
    q = _Query()
    lb_us = q.bind("lookback_us", round(lb * _US_PER_DAY))
    sql = f"""WITH tk AS (SELECT ticket_id, created_at, customer_id FROM tickets),
        {_window_cte(q, lb)},
        nc AS (
            SELECT p.customer_id, p.campaign_id, p.touched_at, p.kind,
                   max(p.touched_at) OVER (PARTITION BY p.customer_id) AS newest
            FROM touchpoints p
            WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = p.customer_id)
        ),
        paths AS (
            SELECT 1 AS converted, ticket_id AS path_id, campaign_id, touched_at, kind FROM win
            UNION ALL
            SELECT 0, customer_id, campaign_id, touched_at, kind FROM nc
            WHERE touched_at >= newest - to_microseconds({lb_us})
        ),
        steps AS (
            SELECT converted, campaign_id,
                   lead(campaign_id) OVER p AS nxt, row_number() OVER p AS pos
            FROM paths WINDOW p AS (PARTITION BY converted, path_id ORDER BY {_ORDER})
        )
        SELECT CAST(NULL AS VARCHAR) AS src, campaign_id AS dst, converted, count(*) AS n
        FROM steps WHERE pos = 1 GROUP BY ALL
        UNION ALL
        SELECT campaign_id, nxt, converted, count(*) FROM steps GROUP BY ALL
        ORDER BY src NULLS FIRST, dst NULLS LAST, converted"""
    return q.run(store, sql)


def removal_effects_from_transitions(counts: pd.DataFrame) -> pd.DataFrame:
    """Solve the absorbing chain: campaign_id, removal_effect, share (effects normalized to 1).

    With N = (I - Q)^-1, b = N r (P(ticket) from each state) and P = s.b, the probability of
    ever visiting c from the start is h_c = (s N)_c / N_cc, so removing c (transitions into c
    go to null) leaves P - h_c b_c, and the removal effect is h_c b_c / P.
    """
    cols = ["campaign_id", "removal_effect", "share"]
    if counts.empty:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "campaign_id" else "float64")
                             for c in cols})
    states = sorted(set(counts["dst"].dropna()) | set(counts["src"].dropna()))
    idx = {c: i for i, c in enumerate(states)}
    m = len(states)
    moves = np.zeros((m, m))
    to_ticket = np.zeros(m)
    to_null = np.zeros(m)
    start = np.zeros(m)
    for src, dst, converted, n in counts[["src", "dst", "converted", "n"]].itertuples(
            index=False):
        if pd.isna(src):
            start[idx[dst]] += n
        elif pd.isna(dst):
            (to_ticket if converted else to_null)[idx[src]] += n
        else:
            moves[idx[src], idx[dst]] += n
    out_total = moves.sum(axis=1) + to_ticket + to_null
    Q = moves / out_total[:, None]
    r = to_ticket / out_total
    s = start / start.sum()
    N = np.linalg.inv(np.eye(m) - Q)
    b = N @ r
    p_ticket = float(s @ b)
    if p_ticket <= 0:
        effect = np.zeros(m)
    else:
        visit = (s @ N) / np.diag(N)
        effect = np.clip(visit * b / p_ticket, 0.0, 1.0)
    total = effect.sum()
    share = effect / total if total > 0 else np.zeros(m)
    return pd.DataFrame({"campaign_id": states, "removal_effect": effect, "share": share})


def removal_effects(store: Store, lookback_days: float | None = None) -> pd.DataFrame:
    """Markov removal effect of every campaign seen in a journey (see module docstring)."""
    return removal_effects_from_transitions(transition_counts(store, lookback_days))


def campaign_impact(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Mapping[str, Any] | Any | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per campaign plus a last row (campaign_id None) for unattributed tickets.

    Columns: campaign_id, name, channel, spend, revenue, reach (distinct customers with any touch
    of the campaign, within the segment filter), tickets (summed credit), tickets_per_1000_reached,
    negative_tickets (summed credit of tickets labelled negative), negative_share (of the credit
    with a sentiment label), mean_sentiment (credit-weighted), value_at_risk (lifetime value of
    the distinct customers with a negative ticket credited to the campaign, each counted once),
    customers_at_risk, support_cost (credit x per-ticket cost from the config, currency units),
    roi_after_support = (revenue - spend - support_cost) / spend (NaN when spend is 0 or missing
    or revenue is missing), category_mix (dict category -> credit). Sentiment columns are NaN
    when no ticket has a sentiment (no ``triaged_tickets``).
    """
    cfg, lb, hl = _resolve(model, lookback_days, half_life_days, config)
    f = normalize_filters(filters)
    q = _Query()
    ctes = _credits_ctes(store, q, model, lb, hl, f)
    cats = list(cfg.category_cost)
    cost_cats = q.bind("cost_cats", cats or [""])
    cost_vals = q.bind("cost_vals", [cfg.category_cost[c] for c in cats] or [cfg.default_cost])
    tiers = list(cfg.tier_multiplier)
    tier_ids = q.bind("tier_ids", tiers or [""])
    tier_vals = q.bind("tier_vals", [cfg.tier_multiplier[t] for t in tiers] or [1.0])
    default_cost = q.bind("default_cost", cfg.default_cost)
    segments = f.get("segment")
    reach_join = (
        "JOIN customers cu ON cu.customer_id = p.customer_id"
        f" AND list_contains({q.bind('r_segment', segments)}, cu.segment)" if segments else ""
    )
    uncategorized = q.bind("uncategorized", UNCATEGORIZED)
    sql = f"""{ctes},
        cost_base AS (SELECT unnest({cost_cats}::VARCHAR[]) AS category,
                             unnest({cost_vals}::DOUBLE[]) AS base),
        tier_mult AS (SELECT unnest({tier_ids}::VARCHAR[]) AS tier,
                             unnest({tier_vals}::DOUBLE[]) AS mult),
        ct AS MATERIALIZED (
            SELECT c.campaign_id, c.credit, k.customer_id, k.category, k.sentiment,
                   k.sentiment_label = 'negative' AS neg, k.lifetime_value,
                   COALESCE(cb.base, {default_cost}) * COALESCE(tm.mult, 1.0) AS cost
            FROM credits c JOIN tk k USING (ticket_id)
            LEFT JOIN cost_base cb ON cb.category = k.category
            LEFT JOIN tier_mult tm ON tm.tier = k.priority_tier
        ),
        agg AS (
            SELECT campaign_id, sum(credit) AS tickets,
                   sum(credit) FILTER (WHERE neg) AS neg_credit,
                   sum(credit) FILTER (WHERE neg IS NOT NULL) AS labelled_credit,
                   sum(credit * sentiment) FILTER (WHERE sentiment IS NOT NULL) AS sent_sum,
                   sum(credit) FILTER (WHERE sentiment IS NOT NULL) AS sent_credit,
                   sum(credit * cost) AS support_cost
            FROM ct GROUP BY campaign_id
        ),
        mix AS (
            SELECT campaign_id, list(category ORDER BY category) AS mix_categories,
                   list(credit ORDER BY category) AS mix_credits
            FROM (SELECT campaign_id, COALESCE(category, {uncategorized}) AS category,
                         sum(credit) AS credit
                  FROM ct GROUP BY ALL)
            GROUP BY campaign_id
        ),
        risk AS (
            SELECT campaign_id, sum(lifetime_value) AS value_at_risk,
                   count(*) AS customers_at_risk
            FROM (SELECT DISTINCT campaign_id, customer_id, lifetime_value
                  FROM ct WHERE neg AND credit > 0)
            GROUP BY campaign_id
        ),
        reach AS (
            SELECT p.campaign_id, count(DISTINCT p.customer_id) AS reach
            FROM touchpoints p {reach_join}
            GROUP BY p.campaign_id
        ),
        keys AS (SELECT campaign_id FROM campaigns UNION SELECT campaign_id FROM agg
                 UNION SELECT CAST(NULL AS VARCHAR))
        SELECT k.campaign_id, cp.name, cp.channel, cp.spend, cp.revenue,
               CASE WHEN k.campaign_id IS NOT NULL THEN COALESCE(r.reach, 0) END AS reach,
               COALESCE(a.tickets, 0.0) AS tickets,
               CASE WHEN r.reach > 0 THEN 1000.0 * COALESCE(a.tickets, 0.0) / r.reach END
                   AS tickets_per_1000_reached,
               CASE WHEN lab.known THEN COALESCE(a.neg_credit, 0.0) END AS negative_tickets,
               COALESCE(a.neg_credit, 0.0) / a.labelled_credit AS negative_share,
               a.sent_sum / a.sent_credit AS mean_sentiment,
               CASE WHEN lab.known THEN COALESCE(x.value_at_risk, 0.0) END AS value_at_risk,
               CASE WHEN lab.known THEN COALESCE(x.customers_at_risk, 0) END
                   AS customers_at_risk,
               COALESCE(a.support_cost, 0.0) AS support_cost,
               CASE WHEN cp.spend > 0 AND cp.revenue IS NOT NULL
                    THEN (cp.revenue - cp.spend - COALESCE(a.support_cost, 0.0)) / cp.spend
               END AS roi_after_support,
               m.mix_categories, m.mix_credits
        FROM keys k
        CROSS JOIN (SELECT count(sentiment_label) > 0 AS known FROM tk) lab
        LEFT JOIN campaigns cp ON cp.campaign_id = k.campaign_id
        LEFT JOIN agg a ON a.campaign_id IS NOT DISTINCT FROM k.campaign_id
        LEFT JOIN mix m ON m.campaign_id IS NOT DISTINCT FROM k.campaign_id
        LEFT JOIN risk x ON x.campaign_id IS NOT DISTINCT FROM k.campaign_id
        LEFT JOIN reach r ON r.campaign_id = k.campaign_id
        ORDER BY k.campaign_id IS NULL, tickets DESC, k.campaign_id"""
    df = q.run(store, sql)
    df["category_mix"] = [
        {} if not isinstance(c, list | np.ndarray) else
        {str(k): float(v) for k, v in zip(c, vals, strict=True)}
        for c, vals in zip(df.pop("mix_categories"), df.pop("mix_credits"), strict=True)
    ]
    df.loc[df["campaign_id"].isna(), "name"] = "(unattributed)"
    if f.get("campaign"):
        df = df[df["campaign_id"].isna() | df["campaign_id"].isin(f["campaign"])]
        df = df.reset_index(drop=True)
    for col in ("reach", "customers_at_risk"):
        df[col] = df[col].astype("Float64").astype("float64")
    df.attrs.update(model=model, lookback_days=lb, half_life_days=hl)
    return df


def compare_models(
    store: Store,
    a: str,
    b: str,
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Mapping[str, Any] | Any | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Two models side by side: ``<metric>_<a>``, ``<metric>_<b>`` and ``<metric>_delta`` (b - a)
    for every metric in :data:`IMPACT_METRICS`, per campaign (and the unattributed row)."""
    _check_model(a)
    _check_model(b)
    if a == b:
        raise TriageError(f"compare two different models (both are {a!r})")
    left = campaign_impact(store, a, lookback_days, half_life_days, filters, config)
    right = campaign_impact(store, b, lookback_days, half_life_days, filters, config)
    key = "__key"
    left[key] = left["campaign_id"].fillna("\x00unattributed")
    right[key] = right["campaign_id"].fillna("\x00unattributed")
    base = left[["campaign_id", "name", "channel", "spend", "revenue", "reach", key]]
    right_idx = right.set_index(key)
    out = base.copy()
    for m in IMPACT_METRICS:
        out[f"{m}_{a}"] = left[m].to_numpy(dtype=float)
        out[f"{m}_{b}"] = right_idx.loc[left[key], m].to_numpy(dtype=float)
        out[f"{m}_delta"] = out[f"{m}_{b}"] - out[f"{m}_{a}"]
    out = out.drop(columns=key)
    out.attrs.update(models=(a, b))
    return out


def spike_rule_text(spike: SpikeSettings) -> str:
    """The spike rule in words (also in the ``rule`` column of :func:`spike_series`)."""
    return (
        f"spike when a day's attributed tickets >= max(expected + {spike.sigmas:g} x "
        f"sqrt(expected), {spike.min_ratio:g} x expected, {spike.min_tickets:g}); attributed "
        f"= credit for tickets of the customers the campaign touched in its first "
        f"{spike.window_days} days; expected = all tickets per day of those customers over "
        f"the {spike.baseline_days} days before launch"
    )


def spike_series(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Mapping[str, Any] | Any | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Daily attributed tickets of every campaign in its first ``window_days`` after launch.

    Day k covers [start_at + k days, start_at + k+1 days). The cohort is the customers the
    campaign touched in that window. ``observed`` is the credit the model gives the campaign
    for the cohort's tickets of that day; ``expected`` is a Poisson baseline: all tickets the
    cohort raised per day in the ``baseline_days`` before launch (so the campaign's own tickets
    must outgrow the cohort's whole usual volume). A day is a spike when observed >= threshold =
    max(expected + sigmas*sqrt(expected), min_ratio*expected, min_tickets): clearly outside
    Poisson noise, at least double the usual rate, and not a handful of tickets.

    When the data starts inside the baseline period, the rate is taken over the covered part
    (``baseline_days``); with less than one covered day there is no baseline: expected and
    threshold are NaN and no day is flagged. Days after the newest ticket are left out.
    Columns: campaign_id, name, start_at, day, day_start, observed, expected, baseline_days,
    threshold, is_spike, rule.
    """
    cfg, lb, hl = _resolve(model, lookback_days, half_life_days, config)
    sp = cfg.spike
    f = normalize_filters(filters)
    q = _Query()
    ctes = _credits_ctes(store, q, model, lb, hl, f)
    win_us = q.bind("spike_window_us", sp.window_days * _US_PER_DAY)
    base_us = q.bind("spike_base_us", sp.baseline_days * _US_PER_DAY)
    sql = f"""{ctes},
        launch AS (SELECT campaign_id, name, start_at FROM campaigns WHERE start_at IS NOT NULL),
        reached AS (
            SELECT DISTINCT p.campaign_id, p.customer_id
            FROM touchpoints p JOIN launch l ON l.campaign_id = p.campaign_id
            WHERE p.touched_at >= l.start_at
              AND p.touched_at < l.start_at + to_microseconds({win_us})
        ),
        cover AS (
            SELECT campaign_id, greatest(date_diff('microsecond', greatest(
                       start_at - to_microseconds({base_us}),
                       (SELECT min(created_at) FROM tickets)), start_at), 0)
                       / {_US_PER_DAY} AS baseline_days
            FROM launch
        ),
        base AS (
            SELECT r.campaign_id, count(*) AS n
            FROM reached r JOIN launch l ON l.campaign_id = r.campaign_id
            JOIN tk k ON k.customer_id = r.customer_id
             AND k.created_at >= l.start_at - to_microseconds({base_us})
             AND k.created_at < l.start_at
            GROUP BY r.campaign_id
        ),
        obs AS (
            SELECT c.campaign_id,
                   CAST(floor(date_diff('microsecond', l.start_at, k.created_at)
                              / {_US_PER_DAY}) AS BIGINT) AS day,
                   sum(c.credit) AS observed
            FROM credits c JOIN tk k ON k.ticket_id = c.ticket_id
            JOIN launch l ON l.campaign_id = c.campaign_id
            JOIN reached r ON r.campaign_id = c.campaign_id AND r.customer_id = k.customer_id
            WHERE k.created_at >= l.start_at
              AND k.created_at < l.start_at + to_microseconds({win_us})
            GROUP BY ALL
        ),
        days AS (
            SELECT l.campaign_id, l.name, l.start_at, d.day,
                   l.start_at + to_microseconds(d.day * {_US_PER_DAY}) AS day_start
            FROM launch l CROSS JOIN range({q.bind('window_days', sp.window_days)}) d(day)
        ),
        series AS (
            SELECT d.campaign_id, d.name, d.start_at, d.day, d.day_start,
                   COALESCE(o.observed, 0.0) AS observed,
                   CASE WHEN cv.baseline_days >= 1
                        THEN COALESCE(b.n, 0) / cv.baseline_days END AS expected,
                   cv.baseline_days
            FROM days d
            JOIN cover cv ON cv.campaign_id = d.campaign_id
            LEFT JOIN obs o ON o.campaign_id = d.campaign_id AND o.day = d.day
            LEFT JOIN base b ON b.campaign_id = d.campaign_id
            WHERE d.day_start <= (SELECT max(created_at) FROM tk)
        )
        SELECT *, CASE WHEN expected IS NOT NULL THEN greatest(
                       expected + {q.bind('sigmas', sp.sigmas)} * sqrt(expected),
                       {q.bind('min_ratio', sp.min_ratio)} * expected,
                       {q.bind('min_tickets', sp.min_tickets)}) END AS threshold
        FROM series ORDER BY campaign_id, day"""
    df = q.run(store, sql)
    # Credits are sums of fractions: allow for rounding when comparing with the threshold.
    df["is_spike"] = df["observed"] >= df["threshold"] - 1e-9
    df["rule"] = spike_rule_text(sp)
    if f.get("campaign"):
        df = df[df["campaign_id"].isin(f["campaign"])].reset_index(drop=True)
    return df


def spike_alerts(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Mapping[str, Any] | Any | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Only the spike days of :func:`spike_series` (same columns)."""
    df = spike_series(store, model, lookback_days, half_life_days, filters, config)
    return df[df["is_spike"]].reset_index(drop=True)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    return value


_COUNT_COLUMNS = frozenset({"reach", "customers_at_risk", "day"})


def to_json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain JSON-serializable dicts (NaN/NA -> None, numpy -> Python, times -> ISO).

    Counts (reach, customers_at_risk, day) become ints; every other number stays a float.
    """
    cols = list(df.columns)
    out = []
    for row in df.itertuples(index=False, name=None):
        rec = {c: _plain(v) for c, v in zip(cols, row, strict=True)}
        for c in _COUNT_COLUMNS.intersection(rec):
            if isinstance(rec[c], float):
                rec[c] = int(rec[c])
        out.append(rec)
    return out
