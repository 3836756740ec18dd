"""Campaign impact: attributed tickets, sentiment, support cost and ROI per campaign.

Built on the credits of :mod:`triage_core.marketing.attribution`; one row per campaign and a
last row for the unattributed tickets. :func:`to_json_records` turns any of these tables into
plain JSON values.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import TriageError
from triage_core.marketing.attribution import Credits, check_model, credits_query
from triage_core.marketing.filters import Filters
from triage_core.marketing.settings import AttributionSettings
from triage_core.marketing.window import Query
from triage_core.store import Store

__all__ = ["IMPACT_METRICS", "UNCATEGORIZED", "campaign_impact", "compare_models", "cost_ctes",
           "to_json_records"]

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


def cost_ctes(q: Query, cfg: AttributionSettings) -> str:
    """``tk_cost``: every ticket of ``tk`` with its handling cost from the config (``cost``: base
    cost of its category, or the default, times its tier's multiplier, or 1)."""
    cats = list(cfg.category_cost)
    cost_cats = q.bind("cost_cats", cats or [""])
    cost_vals = q.bind("cost_vals", [cfg.category_cost[c] for c in cats] or [cfg.default_cost])
    tiers = list(cfg.tier_multiplier)
    tier_ids = q.bind("tier_ids", tiers or [""])
    tier_vals = q.bind("tier_vals", [cfg.tier_multiplier[t] for t in tiers] or [1.0])
    return f"""cost_base AS (SELECT unnest({cost_cats}::VARCHAR[]) AS category,
                             unnest({cost_vals}::DOUBLE[]) AS base),
        tier_mult AS (SELECT unnest({tier_ids}::VARCHAR[]) AS tier,
                             unnest({tier_vals}::DOUBLE[]) AS mult),
        tk_cost AS (
            SELECT k.*, COALESCE(cb.base, {q.bind("default_cost", cfg.default_cost)})
                       * COALESCE(tm.mult, 1.0) AS cost
            FROM tk k LEFT JOIN cost_base cb ON cb.category = k.category
            LEFT JOIN tier_mult tm ON tm.tier = k.priority_tier
        )"""


def _aggregate_ctes(c: Credits) -> str:
    """Per campaign: ``agg`` (credit, sentiment, cost sums), ``mix`` (credit per category),
    ``risk`` (customers with negative tickets) and ``reach``, over ``ct`` (credited tickets
    with their cost)."""
    q = c.query
    segments = c.filters.segments
    reach_join = (
        "JOIN customers cu ON cu.customer_id = p.customer_id"
        f" AND list_contains({q.bind('r_segment', list(segments))}, cu.segment)"
        if segments else ""
    )
    return f"""ct AS MATERIALIZED (
            SELECT c.campaign_id, c.credit, k.customer_id, k.category, k.sentiment,
                   k.sentiment_label = 'negative' AS neg, k.lifetime_value, k.cost
            FROM credits c JOIN tk_cost k USING (ticket_id)
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
            FROM (SELECT campaign_id,
                         COALESCE(category, {q.bind("uncategorized", UNCATEGORIZED)})
                             AS category,
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
        )"""


# One row per campaign (and the NULL key for unattributed tickets), metrics from the CTEs.
_IMPACT_SELECT = """
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
        LEFT JOIN reach r ON r.campaign_id = k.campaign_id"""


def _finish(df: pd.DataFrame, c: Credits) -> pd.DataFrame:
    """Category mix lists -> dicts, the unattributed row's name, counts as floats, attrs."""
    df["category_mix"] = [
        {} if not isinstance(cats, list | np.ndarray) else
        {str(k): float(v) for k, v in zip(cats, vals, strict=True)}
        for cats, vals in zip(df.pop("mix_categories"), df.pop("mix_credits"), strict=True)
    ]
    df.loc[df["campaign_id"].isna(), "name"] = "(unattributed)"
    for col in ("reach", "customers_at_risk"):
        df[col] = df[col].astype("Float64").astype("float64")
    df.attrs.update(model=c.model, lookback_days=c.lookback_days,
                    half_life_days=c.half_life_days)
    return df


def campaign_impact(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Filters | Mapping[str, Any] | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per campaign plus a last row (campaign_id None) for unattributed tickets.

    Columns: campaign_id, name, channel (the campaign's), spend, revenue, reach (distinct
    customers with any touch of the campaign, within the segment filter), tickets (summed
    credit), tickets_per_1000_reached, negative_tickets (summed credit of tickets labelled
    negative), negative_share (of the credit with a sentiment label), mean_sentiment
    (credit-weighted), value_at_risk (lifetime value of the distinct customers with a negative
    ticket credited to the campaign, each counted once), customers_at_risk, support_cost
    (credit x per-ticket cost from the config, currency units), roi_after_support = (revenue -
    spend - support_cost) / spend (NaN when spend is 0 or missing or revenue is missing),
    category_mix (dict category -> credit). Sentiment columns are NaN when no ticket has a
    sentiment (no ``triaged_tickets``). The campaign filters choose the campaign rows; the
    unattributed row is always there.
    """
    c = credits_query(store, model, lookback_days, half_life_days, filters, config)
    chosen = c.filters.campaign_sql(c.query.bind, "k.campaign_id")
    sql = f"""{c.ctes},
        {cost_ctes(c.query, c.settings)},
        {_aggregate_ctes(c)},
        keys AS (SELECT campaign_id FROM campaigns UNION SELECT campaign_id FROM agg
                 UNION SELECT CAST(NULL AS VARCHAR))
        {_IMPACT_SELECT}
        WHERE k.campaign_id IS NULL OR ({chosen})
        ORDER BY k.campaign_id IS NULL, tickets DESC, k.campaign_id"""
    return _finish(c.query.run(store, sql), c)


def compare_models(
    store: Store,
    a: str,
    b: str,
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Filters | Mapping[str, Any] | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Two models side by side: ``<metric>_<a>``, ``<metric>_<b>`` and ``<metric>_delta`` (b - a)
    for every metric in :data:`IMPACT_METRICS`, per campaign (and the unattributed row)."""
    check_model(a)
    check_model(b)
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
