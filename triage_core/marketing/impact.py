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
from triage_core.ops.health import future_limit, newest_sql
from triage_core.store import Store

__all__ = ["IMPACT_METRICS", "UNCATEGORIZED", "campaign_impact", "campaigns_to_fix",
           "compare_models", "cost_ctes", "cost_per_ticket", "money_in_filters",
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
    staged: str | None = None,
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
    unattributed row is always there. ``staged``: see :func:`credits_query`.
    """
    c = credits_query(store, model, lookback_days, half_life_days, filters, config,
                      staged=staged)
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


def money_in_filters(store: Store, impact: pd.DataFrame, filters: Filters | None,
                     lookback_days: float) -> pd.DataFrame:
    """Spend and revenue of each campaign for the same filters as its tickets' support cost.

    A campaign's spend and revenue are spread evenly over its days (launch to end, or to the
    newest ticket while it runs) and over the customers it reached. With a date range, a
    campaign keeps the share of its days that can credit tickets created in the range (from
    ``lookback_days`` before the range's start to its end); with a segment filter, the share
    of its reached customers in those segments (``reach`` of ``impact`` over all its
    customers). Ticket channel and category filters narrow the tickets, never the money.

    Adds ``spend_full``, ``revenue_full`` (the campaign's own figures) and ``money_share``
    (the share kept), replaces ``spend`` and ``revenue`` with the shares, and recomputes
    ``roi_after_support``; ``roi_before`` = (revenue - spend) / spend. The unattributed row
    keeps NaN. ``impact`` is not modified."""
    f = Filters.of(filters)
    out = impact.copy()
    out["spend_full"], out["revenue_full"] = out["spend"], out["revenue"]
    share = pd.Series(1.0, index=out.index)
    ids = out["campaign_id"].dropna().astype(str).tolist()
    if ids and (f.start is not None or f.end is not None):
        runs = store.query(
            f"""SELECT campaign_id, start_at,
                      coalesce(end_at, (SELECT {newest_sql()} FROM tickets)) AS end_at
               FROM campaigns WHERE campaign_id IN (SELECT unnest(?::VARCHAR[]))""",
            [future_limit(), ids])
        lo = (pd.Timestamp(f.start) - pd.Timedelta(days=float(lookback_days))
              if f.start is not None else None)
        hi = (pd.Timestamp(f.end) + pd.Timedelta(days=1) if f.end is not None
              and pd.Timestamp(f.end) == pd.Timestamp(f.end).normalize() else
              pd.Timestamp(f.end) if f.end is not None else None)
        start = pd.to_datetime(runs["start_at"])
        end = pd.to_datetime(runs["end_at"]).where(lambda e: e > start, start
                                                   + pd.Timedelta(days=1))
        a = start.clip(lower=lo) if lo is not None else start
        b = end.clip(upper=hi) if hi is not None else end
        kept = ((b - a).dt.total_seconds().clip(lower=0)
                / (end - start).dt.total_seconds()).fillna(0.0)
        share *= out["campaign_id"].map(dict(zip(runs["campaign_id"], kept, strict=True))
                                        ).astype(float).fillna(1.0)
    if ids and f.segments:
        total = store.query(
            "SELECT campaign_id, count(DISTINCT customer_id) AS reach FROM touchpoints"
            " WHERE campaign_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1", [ids])
        all_reach = out["campaign_id"].map(dict(zip(total["campaign_id"], total["reach"],
                                                    strict=True))).astype(float)
        share *= (out["reach"].astype(float) / all_reach.where(all_reach > 0)).fillna(0.0)
    share[out["campaign_id"].isna()] = np.nan
    out["money_share"] = share
    out["spend"] = out["spend_full"] * share
    out["revenue"] = out["revenue_full"] * share
    spend = out["spend"].where(out["spend"] > 0)
    out["roi_before"] = (out["revenue"] - out["spend"]) / spend
    out["roi_after_support"] = (out["revenue"] - out["spend"] - out["support_cost"]) / spend
    return out


def campaigns_to_fix(impact: pd.DataFrame, currency: str = "", top: int = 3) -> pd.DataFrame:
    """The campaigns marketing should stop or fix, each with its reason in words:

    - ROI turned negative by support: profitable before support cost, losing money after;
    - highest support cost per customer reached (the ``top`` highest, when above the median
      campaign's);
    - most negative share (the ``top`` highest, when above the share of all campaigns).

    One row per campaign (reasons joined), the ROI flips first, then by support cost:
    campaign_id, name, reason, support_cost, support_cost_per_customer, negative_share,
    roi_before, roi_after_support. Needs the columns of :func:`money_in_filters`."""
    d = impact.dropna(subset=["campaign_id"]).copy()
    columns = ["campaign_id", "name", "reason", "support_cost", "support_cost_per_customer",
               "negative_share", "roi_before", "roi_after_support"]
    if d.empty:
        return pd.DataFrame(columns=columns)
    if "roi_before" not in d.columns:
        d["roi_before"] = (d["revenue"] - d["spend"]) / d["spend"].where(d["spend"] > 0)
    d["support_cost_per_customer"] = d["support_cost"] / d["reach"].where(d["reach"] > 0)
    reasons: dict[Any, list[tuple[int, str]]] = {}

    def add(cid: Any, rank: int, text: str) -> None:
        reasons.setdefault(cid, []).append((rank, text))

    def money(v: float) -> str:
        return f"{'−' if v < 0 else ''}{currency}{abs(v):,.0f}"

    flipped = d[(d["roi_before"] >= 0) & (d["roi_after_support"] < 0)]
    for r in flipped.itertuples():
        add(r.campaign_id, 0, f"ROI turned negative by support: {r.roi_before * 100:+.1f} % "
                              f"before, {r.roi_after_support * 100:+.1f} % after "
                              f"{money(r.support_cost)} of support cost".replace("-", "−"))
    per = d.dropna(subset=["support_cost_per_customer"])
    per = per[per["support_cost_per_customer"] > 0]
    if len(per) > 1:
        median = float(per["support_cost_per_customer"].median())
        for r in per.nlargest(top, "support_cost_per_customer").itertuples():
            if r.support_cost_per_customer > median:
                times = r.support_cost_per_customer / median if median > 0 else float("inf")
                add(r.campaign_id, 1, f"support costs {currency}{r.support_cost_per_customer:,.2f}"
                                      f" per customer reached ({times:.1f}× the median "
                                      "campaign)")
    neg = d.dropna(subset=["negative_share"])
    if len(neg) > 1:
        weights = neg["tickets"].where(neg["tickets"] > 0, 0)
        overall = float((neg["negative_share"] * weights).sum() / weights.sum()) \
            if weights.sum() > 0 else float(neg["negative_share"].mean())
        for r in neg.nlargest(top, "negative_share").itertuples():
            if r.negative_share > overall:
                add(r.campaign_id, 2, f"{r.negative_share * 100:.1f} % of its tickets are "
                                      f"negative (all campaigns: {overall * 100:.1f} %)")
    if not reasons:
        return pd.DataFrame(columns=columns)
    rows = d[d["campaign_id"].isin(list(reasons))].copy()
    rows["reason"] = rows["campaign_id"].map(
        lambda c: "; ".join(t for _, t in sorted(reasons[c])))
    rows["_rank"] = rows["campaign_id"].map(lambda c: min(k for k, _ in reasons[c]))
    rows = rows.sort_values(["_rank", "support_cost"], ascending=[True, False])
    return rows[columns].reset_index(drop=True)


def cost_per_ticket(config: AttributionSettings | Mapping[str, Any] | None,
                    categories: list[str] | None = None) -> pd.DataFrame:
    """The support cost of one ticket per category and tier from the config: category,
    base_cost and one column per tier (base x the tier's multiplier). ``categories``: the rows
    (default: the categories the config names, then ``(other)`` for the default cost)."""
    from triage_core.marketing.settings import TIERS

    cfg = config if isinstance(config, AttributionSettings) else \
        AttributionSettings.from_mapping(config)
    names = list(dict.fromkeys([*(categories or []), *cfg.category_cost]))
    rows = []
    for cat in [*names, "(other)"]:
        base = cfg.category_cost.get(cat, cfg.default_cost)
        rows.append({"category": cat, "base_cost": base,
                     **{t: base * cfg.tier_multiplier.get(t, 1.0) for t in TIERS}})
    return pd.DataFrame(rows)
