"""Incremental tickets per campaign: how many tickets a campaign *caused* (causal lift).

Attribution shares each ticket's credit among the campaigns that touched its customer, so a
customer who would have written anyway still gives credit. Lift instead compares the customers a
campaign touched with similar customers it did not touch, before and after the touch
(difference in differences), over ``[lift] window_days``:

* a touched customer's anchor is the day of its first touch by the campaign (inside the span of
  the ticket data); an untouched customer gets the anchor of a touched customer drawn at random
  (by a hash), so both groups are seen over the same calendar days;
* d = tickets in the window after the anchor minus tickets in the window before it;
* strata: segment, plan, tenure at the anchor (not a customer yet, joined within the window,
  then ``tenure_days``), prior ticket rate (tickets in the ``prior_days`` before the window, cut
  at ``prior_tickets``) and the customer's touches by other campaigns (``other_touches``:
  given that number, which other campaigns reached a customer does not depend on the group);
* incremental tickets = sum over touched customers of (d - mean d of the untouched customers of
  their stratum), coarser strata when one has fewer than ``min_control`` untouched customers
  (:mod:`triage_core.marketing._strata`); the same for negative tickets and support cost
  (``[attribution] support_cost``);
* 90 % interval (``[lift] interval``): Poisson bootstrap over customers of both groups.

Large campaigns are measured on a random sample of customers (``max_exposed``, ``control_ratio``)
and scaled back. The set-based work is one DuckDB query through the :class:`Store` (values bound);
numpy does the matching and the bootstrap on the per-stratum counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from triage_core.marketing._strata import estimate
from triage_core.marketing.attribution import check_model, tickets_cte
from triage_core.marketing.filters import Filters
from triage_core.marketing.impact import campaign_impact, cost_ctes
from triage_core.marketing.settings import (
    AttributionSettings,
    LiftSettings,
    attribution_settings,
)
from triage_core.marketing.window import US_PER_DAY, Query
from triage_core.store import Store

__all__ = ["LIFT_COLUMNS", "campaign_lift", "lift_settings"]

LIFT_COLUMNS = ("campaign_id", "name", "channel", "start_at", "exposed", "control",
                "sampled_share", "incremental_tickets", "ci_low", "ci_high",
                "incremental_per_1000", "incremental_negative", "incremental_cost",
                "attributed_tickets", "model", "window_days")
_HASH = 1 << 20  # customers are sampled by hash(customer_id) % _HASH


def lift_settings(config: LiftSettings | Mapping[str, Any] | None) -> LiftSettings:
    """``config`` as settings: settings pass through, a ``[lift]`` section (or None) is
    validated."""
    return config if isinstance(config, LiftSettings) else LiftSettings.from_mapping(config)


def _buckets(q: Query, value: str, name: str, edges: Sequence[int]) -> str:
    """SQL: the bucket of ``value`` (0 below the first edge, i+1 below edge i+1, ...)."""
    whens = " ".join(f"WHEN {value} < {q.bind(f'{name}_{i}', e)} THEN {i}"
                     for i, e in enumerate(edges))
    return f"CASE {whens} ELSE {len(edges)} END"


def _tenure(q: Query, s: LiftSettings) -> str:
    """SQL: tenure bucket of customer ``c`` at the anchor of unit ``u``."""
    days = "date_diff('day', c.created_at, u.anchor)"
    edges = " ".join(f"WHEN {days} < {q.bind(f'tenure_{i}', e)} THEN {i + 2}"
                     for i, e in enumerate(s.tenure_days))
    return (f"CASE WHEN c.created_at IS NULL THEN {len(s.tenure_days) + 2}"
            " WHEN c.created_at >= u.anchor THEN 0"
            f" WHEN {days} < {q.bind('window_days', s.window_days)} THEN 1"
            f" {edges} ELSE {len(s.tenure_days) + 2} END")


def _units_ctes(q: Query, s: LiftSettings, chosen: str) -> str:
    """``first`` touches, campaign ``sizes`` and the analysed ``units`` (touched customers with
    their anchor; sampled untouched ones with the anchor of a touched customer drawn by a hash
    among those with as many touches by other campaigns, whose timing goes with it), each with
    its bucket of other touches."""
    return f"""span AS (SELECT date_trunc('day', min(created_at)) AS t0, max(created_at) AS t1
                  FROM tk),
        cust AS (
            SELECT cu.customer_id, COALESCE(cu.segment, '') AS segment,
                   COALESCE(cu.plan, '') AS plan, cu.created_at,
                   COALESCE(r.n, 0) AS touches, (hash(cu.customer_id) % {_HASH}) / {_HASH}.0 AS u
            FROM customers cu LEFT JOIN (SELECT customer_id, count(*) AS n FROM touchpoints
                                         GROUP BY customer_id) r USING (customer_id)
        ),
        first AS MATERIALIZED (
            SELECT campaign_id, customer_id, date_trunc('day', min(touched_at)) AS anchor,
                   count(*) AS own
            FROM touchpoints WHERE {chosen} GROUP BY campaign_id, customer_id
        ),
        sizes AS (
            SELECT f.campaign_id, count(*) AS touched,
                   count(*) FILTER (WHERE f.anchor BETWEEN s.t0 AND s.t1) AS exposed
            FROM first f, span s GROUP BY f.campaign_id
        ),
        ranked AS MATERIALIZED (
            SELECT *, row_number() OVER (PARTITION BY campaign_id ORDER BY customer_id) - 1 AS rn,
                   count(*) OVER (PARTITION BY campaign_id) AS sampled,
                   row_number() OVER (PARTITION BY campaign_id, other ORDER BY customer_id) - 1
                       AS rn_other,
                   count(*) OVER (PARTITION BY campaign_id, other) AS n_other
            FROM (SELECT f.campaign_id, f.customer_id, f.anchor,
                         {_buckets(q, "c.touches - f.own", "other", s.other_touches)} AS other
                  FROM first f JOIN sizes z USING (campaign_id) JOIN cust c USING (customer_id),
                       span s
                  WHERE f.anchor BETWEEN s.t0 AND s.t1
                    AND c.u < {q.bind('max_exposed', s.max_exposed)} / z.exposed)
        ),
        pool AS (
            SELECT r.campaign_id, any_value(r.sampled) AS sampled,
                   {q.bind('ratio', s.control_ratio)} * any_value(r.sampled)
                       / greatest((SELECT count(*) FROM customers) - any_value(z.touched), 1)
                       AS share
            FROM ranked r JOIN sizes z USING (campaign_id) GROUP BY r.campaign_id
        ),
        control AS MATERIALIZED (
            SELECT p.campaign_id, c.customer_id, p.sampled, hash(c.customer_id, p.campaign_id) AS h,
                   {_buckets(q, "c.touches", "other", s.other_touches)} AS other
            FROM pool p JOIN cust c ON c.u < p.share
            ANTI JOIN first f ON f.campaign_id = p.campaign_id AND f.customer_id = c.customer_id
        ),
        other_pool AS (SELECT DISTINCT campaign_id, other, n_other FROM ranked),
        units AS MATERIALIZED (
            SELECT campaign_id, customer_id, anchor, other, true AS exposed FROM ranked
            UNION ALL  -- an untouched customer takes the anchor of one with as many other touches
            SELECT c.campaign_id, c.customer_id, r.anchor, c.other, false
            FROM control c JOIN other_pool o USING (campaign_id, other)
            JOIN ranked r ON r.campaign_id = c.campaign_id AND r.other = c.other
                         AND r.rn_other = c.h % o.n_other
            UNION ALL  -- ... or of any touched customer when none has as many
            SELECT c.campaign_id, c.customer_id, r.anchor, c.other, false
            FROM control c ANTI JOIN other_pool o USING (campaign_id, other)
            JOIN ranked r ON r.campaign_id = c.campaign_id AND r.rn = c.h % c.sampled
        )"""


def _cells_sql(store: Store, q: Query, s: LiftSettings, cfg: AttributionSettings,
               chosen: str) -> str:
    """Per (campaign, group, stratum, d): customers and their summed d of negative tickets and
    of support cost."""
    win = f"to_microseconds({q.bind('win_us', s.window_days * US_PER_DAY)})"
    far = f"to_microseconds({q.bind('far_us', (s.window_days + s.prior_days) * US_PER_DAY)})"
    post = "k.created_at >= u.anchor"
    pre = f"k.created_at < u.anchor AND k.created_at >= u.anchor - {win}"
    neg = "k.sentiment_label = 'negative'"
    prior = _buckets(q, "COALESCE(h.prior, 0)", "prior", s.prior_tickets)
    return f"""WITH {tickets_cte(store, q, Filters())},
        {cost_ctes(q, cfg)},
        {_units_ctes(q, s, chosen)},
        hits AS (
            SELECT u.campaign_id, u.customer_id,
                   count(*) FILTER (WHERE {post}) AS post,
                   count(*) FILTER (WHERE {pre}) AS pre,
                   count(*) FILTER (WHERE k.created_at < u.anchor - {win}) AS prior,
                   count(*) FILTER (WHERE {post} AND {neg})
                       - count(*) FILTER (WHERE {pre} AND {neg}) AS d_neg,
                   COALESCE(sum(kc.cost) FILTER (WHERE {post}), 0)
                       - COALESCE(sum(kc.cost) FILTER (WHERE {pre}), 0) AS d_cost
            FROM units u JOIN tk k ON k.customer_id = u.customer_id
                 AND k.created_at >= u.anchor - {far} AND k.created_at < u.anchor + {win}
            JOIN tk_cost kc ON kc.ticket_id = k.ticket_id
            GROUP BY u.campaign_id, u.customer_id
        )
        SELECT u.campaign_id, z.exposed AS in_span, lab.labelled, u.exposed, c.segment, c.plan,
               {_tenure(q, s)} AS tenure, {prior} AS prior, u.other,
               COALESCE(h.post, 0) - COALESCE(h.pre, 0) AS d, count(*) AS n,
               COALESCE(sum(h.d_neg), 0) AS d_neg, COALESCE(sum(h.d_cost), 0.0) AS d_cost
        FROM units u JOIN cust c USING (customer_id) JOIN sizes z USING (campaign_id)
        CROSS JOIN (SELECT count(sentiment_label) > 0 AS labelled FROM tk) lab
        LEFT JOIN hits h USING (campaign_id, customer_id)
        GROUP BY ALL
        ORDER BY ALL  -- a fixed row order: the bootstrap draws follow it"""


def _estimates(cells: pd.DataFrame, ids: list[str], s: LiftSettings) -> pd.DataFrame:
    """Per campaign of ``ids``: exposed, control, sampled share and the estimates."""
    index = {c: i for i, c in enumerate(ids)}
    cells = cells.assign(campaign=cells["campaign_id"].map(index).to_numpy(dtype=np.int64))
    exposed = cells[cells["exposed"]]
    in_span = exposed.groupby("campaign")["in_span"].first().reindex(range(len(ids)))
    sampled = exposed.groupby("campaign")["n"].sum().reindex(range(len(ids)), fill_value=0)
    scale = (in_span / sampled.where(sampled > 0)).fillna(0.0).to_numpy()
    est = estimate(cells, scale, min_control=s.min_control, bootstrap=s.bootstrap,
                   interval=s.interval, seed=s.seed)
    no_data = (sampled.to_numpy() == 0) | (est["control"].to_numpy() == 0)
    est.loc[no_data, ["incremental", "ci_low", "ci_high", "incremental_negative",
                      "incremental_cost"]] = np.nan
    if not (cells["labelled"].any() if len(cells) else False):
        est["incremental_negative"] = np.nan
    est["exposed"] = in_span.fillna(0).to_numpy(dtype=np.int64)
    est["sampled_share"] = np.where(est["exposed"] > 0, sampled / est["exposed"].clip(lower=1),
                                    np.nan)
    est["campaign_id"] = ids
    return est


def campaign_lift(
    store: Store,
    window_days: int | None = None,
    model: str = "last_touch",
    campaigns: Sequence[str] | None = None,
    lift: LiftSettings | Mapping[str, Any] | None = None,
    attribution: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Incremental tickets of every campaign (or of ``campaigns``), most incremental first.

    Columns (:data:`LIFT_COLUMNS`): campaign_id, name, channel, start_at, exposed (touched
    customers whose first touch lies in the ticket data's span), control (untouched customers
    compared), sampled_share (share of the touched customers analysed), incremental_tickets
    with its interval ci_low..ci_high, incremental_per_1000 (per 1,000 touched customers),
    incremental_negative (NaN without sentiment), incremental_cost (currency units, from
    ``[attribution] support_cost``), attributed_tickets (credit under ``model``), model and
    window_days. Estimates are NaN for a campaign without touched or untouched customers.
    ``window_days`` overrides ``[lift] window_days``.
    """
    check_model(model)
    s = lift_settings(lift)
    if window_days is not None:
        s = LiftSettings.from_mapping({**_as_mapping(s), "window_days": window_days})
    cfg = attribution_settings(attribution)
    q = Query()
    chosen = Filters(campaigns=tuple(campaigns or ())).campaign_sql(q.bind, "campaign_id")
    meta = q.run(store, f"SELECT campaign_id, name, channel, start_at FROM campaigns"
                        f" WHERE {chosen} ORDER BY campaign_id")
    if meta.empty:
        return pd.DataFrame(columns=list(LIFT_COLUMNS))
    cells = q.run(store, _cells_sql(store, q, s, cfg, chosen))
    est = _estimates(cells, meta["campaign_id"].tolist(), s)
    credit = campaign_impact(store, model, config=cfg).set_index("campaign_id")["tickets"]
    out = meta.merge(est, on="campaign_id").rename(columns={"incremental": "incremental_tickets"})
    out["incremental_per_1000"] = 1000.0 * out["incremental_tickets"] / out["exposed"].where(
        out["exposed"] > 0)
    out["attributed_tickets"] = out["campaign_id"].map(credit).astype(float)
    out["model"] = model
    out["window_days"] = s.window_days
    out = out.sort_values(["incremental_tickets", "campaign_id"], ascending=[False, True],
                          na_position="last", ignore_index=True)
    return out[list(LIFT_COLUMNS)]


def _as_mapping(s: LiftSettings) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(s).items()}
