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

Large campaigns are measured on a random sample of customers (``max_exposed``, ``max_control``)
and scaled back. The set-based work is one DuckDB query through the :class:`Store` (values bound);
numpy does the matching and the bootstrap on the per-stratum counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from triage_core.marketing._strata import estimate
from triage_core.marketing.attribution import check_model, credits_query, tickets_cte
from triage_core.marketing.filters import Filters
from triage_core.marketing.impact import cost_ctes
from triage_core.marketing.settings import (
    AttributionSettings,
    LiftSettings,
    attribution_settings,
)
from triage_core.marketing.window import US_PER_DAY, Query
from triage_core.ops.health import future_limit, newest_sql
from triage_core.store import Store

__all__ = ["LIFT_COLUMNS", "campaign_lift", "lift_settings"]

LIFT_COLUMNS = ("campaign_id", "name", "channel", "start_at", "exposed", "control",
                "sampled_share", "incremental_tickets", "ci_low", "ci_high",
                "incremental_per_1000", "incremental_negative", "incremental_cost",
                "attributed_tickets", "model", "window_days")
_HASH = 1 << 20  # customers are sampled by hash(customer_id) % _HASH
_PICK = 1 << 40  # an untouched customer picks a touched one by hash(customer, campaign) % _PICK


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
    """SQL: tenure bucket of a unit (its customer's created_at at its anchor)."""
    days = "date_diff('day', created_at, anchor)"
    edges = " ".join(f"WHEN {days} < {q.bind(f'tenure_{i}', e)} THEN {i + 2}"
                     for i, e in enumerate(s.tenure_days))
    return (f"CASE WHEN created_at IS NULL THEN {len(s.tenure_days) + 2}"
            " WHEN created_at >= anchor THEN 0"
            f" WHEN {days} < {q.bind('window_days', s.window_days)} THEN 1"
            f" {edges} ELSE {len(s.tenure_days) + 2} END")


def _units_ctes(q: Query, s: LiftSettings, chosen: str) -> str:
    """Over the tickets ``tkc``: campaign ``sizes`` and the analysed ``units``: touched
    customers with the anchor of their first touch, and untouched ones with the anchor of a
    touched customer drawn by a hash among those with as many touches by other campaigns (whose
    timing goes with it), each with its customer's segment, plan, created_at and bucket of other
    touches. Campaigns larger than ``max_exposed`` (``max_control``) are sampled by a hash of
    the customer id first; their sizes are then estimated from the sample."""
    u = f"(hash(customer_id) % {_HASH}) / {_HASH}.0"
    return f"""span AS (SELECT date_trunc('day', min(created_at)) AS t0,
                         {newest_sql(limit=q.bind('future_limit', future_limit()))} AS t1
                  FROM tkc),
        reach AS (  -- sampling rates from approximate sizes
            SELECT campaign_id, least(1.0, {q.bind('max_exposed', s.max_exposed)} / n) AS e_share,
                   least(1.0, {q.bind('max_control', s.max_control)}
                              / greatest((SELECT count(*) FROM customers) - n, 1)) AS c_share
            FROM (SELECT campaign_id, approx_count_distinct(customer_id) AS n FROM touchpoints
                  WHERE {chosen} GROUP BY campaign_id)
        ),
        first AS MATERIALIZED (  -- every customer a sampled group could hold
            SELECT campaign_id, customer_id, date_trunc('day', min(touched_at)) AS anchor,
                   any_value(u) < any_value(e_share) AS sampled, count(*) AS own
            FROM (SELECT p.campaign_id, p.customer_id, p.touched_at, {u} AS u, r.e_share,
                         r.c_share FROM touchpoints p JOIN reach r USING (campaign_id))
            WHERE u < greatest(e_share, c_share)
            GROUP BY campaign_id, customer_id
        ),
        candidates AS MATERIALIZED (
            SELECT f.campaign_id, f.customer_id, f.anchor, f.own, true AS exposed
            FROM first f, span s WHERE f.sampled AND f.anchor BETWEEN s.t0 AND s.t1
            UNION ALL
            SELECT r.campaign_id, c.customer_id, NULL, 0, false
            FROM reach r
            JOIN (SELECT customer_id, {u} AS u FROM customers
                  WHERE {u} < (SELECT max(c_share) FROM reach)) c ON c.u < r.c_share
            ANTI JOIN first f ON f.campaign_id = r.campaign_id AND f.customer_id = c.customer_id
        ),
        touches AS (
            SELECT customer_id, count(*) AS n FROM touchpoints
            SEMI JOIN (SELECT DISTINCT customer_id FROM candidates) USING (customer_id)
            GROUP BY customer_id
        ),
        described AS MATERIALIZED (
            SELECT d.*, COALESCE(cu.segment, '') AS segment, COALESCE(cu.plan, '') AS plan,
                   cu.created_at, hash(d.customer_id, d.campaign_id) % {_PICK} AS h,
                   {_buckets(q, "COALESCE(t.n, 0) - d.own", "other", s.other_touches)} AS other
            FROM candidates d JOIN customers cu USING (customer_id)
            LEFT JOIN touches t USING (customer_id)
        ),
        ranked AS MATERIALIZED (
            SELECT *, row_number() OVER (PARTITION BY campaign_id, other ORDER BY h) - 1 AS rn,
                   count(*) OVER (PARTITION BY campaign_id, other) AS n_other
            FROM described WHERE exposed
        ),
        pools AS (  -- touched customers per bucket, and each campaign's largest bucket
            SELECT *, first_value(other) OVER w AS widest, first_value(n) OVER w AS n_widest,
                   sum(n) OVER (PARTITION BY campaign_id) AS n_exposed
            FROM (SELECT campaign_id, other, any_value(n_other) AS n FROM ranked
                  GROUP BY campaign_id, other)
            WINDOW w AS (PARTITION BY campaign_id ORDER BY n DESC, other)
        ),
        sizes AS (
            SELECT p.campaign_id, round(any_value(p.n_exposed) / any_value(x.e_share))::BIGINT
                       AS exposed
            FROM pools p JOIN reach x USING (campaign_id) GROUP BY p.campaign_id
        ),
        picked AS (  -- an untouched customer takes the anchor of a touched one with as many
                     -- other touches (none has as many: of the campaign's largest bucket)
            SELECT c.campaign_id, c.customer_id, c.other, c.segment, c.plan, c.created_at,
                   COALESCE(o.other, w.widest) AS pool,
                   (c.h % COALESCE(o.n, w.n_widest))::BIGINT AS pick
            FROM described c
            JOIN (SELECT DISTINCT campaign_id, widest, n_widest FROM pools) w
                 USING (campaign_id)
            LEFT JOIN pools o USING (campaign_id, other)
            WHERE NOT c.exposed
        ),
        units AS MATERIALIZED (
            SELECT campaign_id, customer_id, anchor, other, segment, plan, created_at, exposed
            FROM ranked
            UNION ALL
            SELECT c.campaign_id, c.customer_id, r.anchor, c.other, c.segment, c.plan,
                   c.created_at, false
            FROM picked c JOIN ranked r ON r.campaign_id = c.campaign_id AND r.other = c.pool
                                       AND r.rn = c.pick
        )"""


_UNIT = "campaign_id, exposed, segment, plan, tenure, other"  # a unit's stratum but prior


def _cells_sql(store: Store, q: Query, s: LiftSettings, cfg: AttributionSettings,
               chosen: str) -> str:
    """Per (campaign, group, stratum, d): customers and their summed d of negative tickets and
    of support cost. Units with a ticket near their anchor are counted from the tickets; the
    others (d = 0, no prior ticket) as all units less those."""
    win = f"to_microseconds({q.bind('win_us', s.window_days * US_PER_DAY)})"
    far = f"to_microseconds({q.bind('far_us', (s.window_days + s.prior_days) * US_PER_DAY)})"
    post = "k.created_at >= u.anchor"
    pre = f"k.created_at < u.anchor AND k.created_at >= u.anchor - {win}"
    neg = "k.sentiment_label = 'negative'"
    prior = _buckets(q, "prior", "prior", s.prior_tickets)
    return f"""WITH {tickets_cte(store, q, Filters(), customers=False)},
        {cost_ctes(q, cfg)},
        tkc AS MATERIALIZED (SELECT ticket_id, customer_id, created_at, sentiment_label, cost
                             FROM tk_cost),
        {_units_ctes(q, s, chosen)},
        hits AS (
            SELECT u.campaign_id, u.exposed, u.segment, u.plan, u.other, u.anchor, u.created_at,
                   count(*) FILTER (WHERE {post}) - count(*) FILTER (WHERE {pre}) AS d,
                   count(*) FILTER (WHERE k.created_at < u.anchor - {win}) AS prior,
                   count(*) FILTER (WHERE {post} AND {neg})
                       - count(*) FILTER (WHERE {pre} AND {neg}) AS d_neg,
                   COALESCE(sum(k.cost) FILTER (WHERE {post}), 0)
                       - COALESCE(sum(k.cost) FILTER (WHERE {pre}), 0) AS d_cost
            FROM units u JOIN tkc k ON k.customer_id = u.customer_id
                 AND k.created_at >= u.anchor - {far} AND k.created_at < u.anchor + {win}
            GROUP BY u.campaign_id, u.customer_id, u.exposed, u.segment, u.plan, u.other,
                     u.anchor, u.created_at
        ),
        ticketed AS (
            SELECT {_UNIT}, {prior} AS prior, d, count(*) AS n, sum(d_neg) AS d_neg,
                   sum(d_cost) AS d_cost
            FROM (SELECT *, {_tenure(q, s)} AS tenure FROM hits) GROUP BY ALL
        ),
        quiet AS (
            SELECT {_UNIT}, 0 AS prior, 0 AS d, a.n - COALESCE(t.n, 0) AS n, 0 AS d_neg,
                   0.0 AS d_cost
            FROM (SELECT {_UNIT}, count(*) AS n
                  FROM (SELECT *, {_tenure(q, s)} AS tenure FROM units) GROUP BY ALL) a
            LEFT JOIN (SELECT {_UNIT}, sum(n) AS n FROM ticketed GROUP BY ALL) t USING ({_UNIT})
        )
        SELECT c.campaign_id, z.exposed AS in_span, lab.labelled, c.exposed, c.segment, c.plan,
               c.tenure, c.prior, c.other, c.d, sum(c.n) AS n, sum(c.d_neg) AS d_neg,
               sum(c.d_cost) AS d_cost
        FROM (SELECT * FROM ticketed UNION ALL BY NAME SELECT * FROM quiet) c
        JOIN sizes z USING (campaign_id)
        CROSS JOIN (SELECT count(sentiment_label) > 0 AS labelled FROM tkc) lab
        GROUP BY ALL HAVING sum(c.n) > 0
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
    attributed: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Incremental tickets of every campaign (or of ``campaigns``), most incremental first.

    Columns (:data:`LIFT_COLUMNS`): campaign_id, name, channel, start_at, exposed (touched
    customers whose first touch lies in the ticket data's span), control (untouched customers
    compared), sampled_share (share of the touched customers analysed), incremental_tickets
    with its interval ci_low..ci_high, incremental_per_1000 (per 1,000 touched customers),
    incremental_negative (NaN without sentiment), incremental_cost (currency units, from
    ``[attribution] support_cost``), attributed_tickets (credit under ``model``), model and
    window_days. Estimates are NaN for a campaign without touched or untouched customers.
    ``window_days`` overrides ``[lift] window_days``. ``attributed``: the attributed tickets
    per campaign under ``model`` when the caller has them already (the campaign view stored by
    ``triage score``); computed when None.
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
    credit = pd.Series(attributed) if attributed is not None else _attributed(store, model, cfg)
    out = meta.merge(est, on="campaign_id").rename(columns={"incremental": "incremental_tickets"})
    out["incremental_per_1000"] = 1000.0 * out["incremental_tickets"] / out["exposed"].where(
        out["exposed"] > 0)
    out["attributed_tickets"] = out["campaign_id"].map(credit).astype(float)
    out["model"] = model
    out["window_days"] = s.window_days
    out = out.sort_values(["incremental_tickets", "campaign_id"], ascending=[False, True],
                          na_position="last", ignore_index=True)
    return out[list(LIFT_COLUMNS)]


def _attributed(store: Store, model: str, cfg: AttributionSettings) -> pd.Series:
    """Attributed tickets (summed credit) per campaign under ``model``."""
    c = credits_query(store, model, config=cfg)
    return c.query.run(store, f"""{c.ctes} SELECT campaign_id, sum(credit) AS tickets
        FROM credits WHERE campaign_id IS NOT NULL GROUP BY campaign_id""").set_index(
        "campaign_id")["tickets"]


def _as_mapping(s: LiftSettings) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(s).items()}
