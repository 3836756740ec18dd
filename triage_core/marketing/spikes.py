"""Post-launch spike alerts: did a campaign's customers flood support right after launch?

Day k of a campaign covers [start_at + k days, start_at + k+1 days) for its first
``window_days``. The cohort is the customers the campaign touched in that window. ``observed``
is the credit the attribution model gives the campaign for the cohort's tickets of that day;
``expected`` is a Poisson baseline: all tickets the cohort raised per day in the
``baseline_days`` before launch (so the campaign's own tickets must outgrow the cohort's whole
usual volume). A day is a spike when observed >= threshold = max(expected +
sigmas*sqrt(expected), min_ratio*expected, min_tickets): clearly outside Poisson noise, at
least double the usual rate, and not a handful of tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from triage_core.marketing.attribution import Credits, credits_query
from triage_core.marketing.filters import Filters
from triage_core.marketing.settings import AttributionSettings, SpikeSettings
from triage_core.marketing.window import US_PER_DAY
from triage_core.ops.health import future_limit, newest_sql
from triage_core.store import Store

__all__ = ["SPIKE_ALERT_COLUMNS", "spike_alerts", "spike_rule_text", "spike_series"]

SPIKE_ALERT_COLUMNS = ("campaign_id", "name", "start_at", "first_spike_day", "spike_days",
                       "peak_tickets", "expected_per_day", "rule")


def spike_rule_text(spike: SpikeSettings) -> str:
    """The spike rule in words (also in the ``rule`` column of :func:`spike_series`)."""
    return (
        f"spike when a day's attributed tickets >= max(expected + {spike.sigmas:g} x "
        f"sqrt(expected), {spike.min_ratio:g} x expected, {spike.min_tickets:g}); attributed "
        f"= credit for tickets of the customers the campaign touched in its first "
        f"{spike.window_days} days; expected = all tickets per day of those customers over "
        f"the {spike.baseline_days} days before launch"
    )


def _series_ctes(c: Credits) -> str:
    """``series``: one row per campaign and day with observed, expected and baseline_days."""
    q, sp = c.query, c.settings.spike
    win_us = q.bind("spike_window_us", sp.window_days * US_PER_DAY)
    base_us = q.bind("spike_base_us", sp.baseline_days * US_PER_DAY)
    chosen = c.filters.campaign_sql(q.bind, "campaign_id")
    return f"""launch AS (SELECT campaign_id, name, start_at FROM campaigns
                   WHERE start_at IS NOT NULL AND {chosen}),
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
                       / {US_PER_DAY} AS baseline_days
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
                              / {US_PER_DAY}) AS BIGINT) AS day,
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
                   l.start_at + to_microseconds(d.day * {US_PER_DAY}) AS day_start
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
            WHERE d.day_start <= (SELECT {newest_sql(limit=q.bind('future_limit', future_limit()))}
                                  FROM tk)
        )"""


def spike_series(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Filters | Mapping[str, Any] | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
    staged: str | None = None,
) -> pd.DataFrame:
    """Daily attributed tickets of every campaign in its first ``window_days`` after launch,
    with the spike rule of the module docstring applied.

    When the data starts inside the baseline period, the rate is taken over the covered part
    (``baseline_days``); with less than one covered day there is no baseline: expected and
    threshold are NaN and no day is flagged. Days after the newest ticket are left out. The
    campaign filters choose the campaigns. Columns: campaign_id, name, start_at, day,
    day_start, observed, expected, baseline_days, threshold, is_spike, rule. ``staged``: see
    :func:`credits_query`.
    """
    c = credits_query(store, model, lookback_days, half_life_days, filters, config,
                      staged=staged)
    q, sp = c.query, c.settings.spike
    sql = f"""{c.ctes},
        {_series_ctes(c)}
        SELECT *, CASE WHEN expected IS NOT NULL THEN greatest(
                       expected + {q.bind('sigmas', sp.sigmas)} * sqrt(expected),
                       {q.bind('min_ratio', sp.min_ratio)} * expected,
                       {q.bind('min_tickets', sp.min_tickets)}) END AS threshold
        FROM series ORDER BY campaign_id, day"""
    df = q.run(store, sql)
    # Credits are sums of fractions: allow for rounding when comparing with the threshold.
    df["is_spike"] = df["observed"] >= df["threshold"] - 1e-9
    df["rule"] = spike_rule_text(sp)
    return df


def spike_alerts(series: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign with at least one spike day in ``series`` (a :func:`spike_series`
    table), the highest peak first: campaign_id, name, start_at, first_spike_day, spike_days,
    peak_tickets, expected_per_day (the largest), rule."""
    spikes = series[series["is_spike"]] if not series.empty else series
    if spikes.empty:
        return pd.DataFrame(columns=list(SPIKE_ALERT_COLUMNS))
    return (spikes.groupby(["campaign_id", "name", "start_at"], as_index=False)
            .agg(first_spike_day=("day_start", "min"), spike_days=("day", "count"),
                 peak_tickets=("observed", "max"), expected_per_day=("expected", "max"),
                 rule=("rule", "first"))
            .sort_values("peak_tickets", ascending=False))

