"""Campaign attribution of support tickets: the six models and each ticket's credits.

A ticket is attributed to the campaigns its customer touched in the lookback window before it
(:mod:`triage_core.marketing.window`):

    created_at - lookback_days <= touched_at <= created_at

A touch at exactly the ticket time counts; a touch exactly ``lookback_days`` before counts; a
touch after the ticket or older than the window never counts. A ticket with no touch in its
window is *unattributed* (``campaign_id`` NULL, credit 1). "First" and "last" follow the
ordering rule of :mod:`~triage_core.marketing.window` (time, then campaign id, then kind).

Models (each ticket's credits sum to exactly 1):

* ``first_touch`` - all credit to the earliest touch in the window.
* ``last_touch`` - all credit to the latest touch.
* ``linear`` - equal credit to every touch; a campaign touched twice gets two shares.
* ``time_decay`` - weight ``2 ** (-age / half_life_days)`` with ``age`` = ticket time minus touch
  time in days, normalized to 1 over the ticket's touches.
* ``position_based`` (U-shaped) - one touch 100 %; two touches 50/50; three or more: 40 % first,
  40 % last, 20 % shared equally by the touches between.
* ``data_driven`` - Markov removal effects (:mod:`triage_core.marketing.markov`): each ticket's
  credit is split over the distinct campaigns on its own path proportionally to their removal
  effects. The chain is estimated on all journeys in the database (filters only choose which
  tickets are reported), so a ticket's credits do not change with the dashboard filters.

Set-based work (window join, ranking, credits, aggregates) is DuckDB SQL run through the
:class:`~triage_core.store.Store`; only the small absorbing-chain solve is numpy. All values are
bound parameters; the only identifiers in SQL text are fixed names in these modules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.marketing.filters import Filters
from triage_core.marketing.markov import removal_effects
from triage_core.marketing.settings import AttributionSettings, attribution_settings
from triage_core.marketing.window import (
    ORDER,
    ORDER_DESC,
    US_PER_DAY,
    Query,
    positive,
    window_cte,
)
from triage_core.store import Store

__all__ = ["MODELS", "MODEL_DESCRIPTIONS", "Credits", "check_model", "credits_query",
           "ticket_credits", "tickets_cte"]

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


def check_model(model: str) -> str:
    if model not in MODELS:
        raise TriageError(
            f"unknown attribution model {model!r}; choose one of {', '.join(MODELS)}"
        )
    return model


def tickets_cte(store: Store, q: Query, filters: Filters, *, by_campaign: bool = False,
                customers: bool = True, materialized: bool = False) -> str:
    """``tk``: tickets with category, sentiment, tier, segment and value; filters applied
    (``by_campaign``: also the campaign filters, see :meth:`Filters.ticket_sql`).

    Uses ``triaged_tickets`` when it exists (its category wins over ``tickets.category``);
    without it sentiment and tier are NULL. ``customers=False`` skips the customers table (for
    readers that need neither segment nor value: they come from ``triaged_tickets`` alone, and a
    segment filter must not be set). ``materialized``: computed once however often the query
    reads it (worth it when the filters are costly, e.g. ``by_campaign``).
    """
    have = set(store.columns("triaged_tickets")) if store.table_exists("triaged_tickets") else set()
    join = "LEFT JOIN triaged_tickets tr ON tr.ticket_id = t.ticket_id" if have else ""

    def tr(col: str, cast: str) -> str:
        return f"tr.{col}" if col in have else f"CAST(NULL AS {cast})"

    def known(col: str, cast: str) -> str:  # the customer's own value wins
        return f"COALESCE(cu.{col}, {tr(col, cast)})" if customers else tr(col, cast)

    inner = f"""
        SELECT t.ticket_id, t.created_at, t.customer_id, t.channel,
               {known('segment', 'VARCHAR')} AS segment,
               COALESCE({tr('category', 'VARCHAR')}, t.category) AS category,
               {tr('sentiment', 'DOUBLE')} AS sentiment,
               {tr('sentiment_label', 'VARCHAR')} AS sentiment_label,
               {tr('priority_tier', 'VARCHAR')} AS priority_tier,
               {known('lifetime_value', 'DOUBLE')} AS lifetime_value
        FROM tickets t
        {"LEFT JOIN customers cu ON cu.customer_id = t.customer_id" if customers else ""}
        {join}"""
    where = filters.ticket_sql(q.bind, "t", by_campaign=by_campaign)
    return f"""tk AS {"MATERIALIZED " if materialized else ""}(
        SELECT ticket_id, created_at, customer_id, channel, segment, category, sentiment,
               sentiment_label, priority_tier, lifetime_value
        FROM ({inner}) t WHERE {where}
    )"""


def _model_cte(q: Query, model: str, half_life_days: float,
               effects: pd.DataFrame | None) -> str:
    """``cred(ticket_id, campaign_id, credit)`` for attributed tickets, from ``win``."""
    if model in ("first_touch", "last_touch"):
        order = ORDER if model == "first_touch" else ORDER_DESC
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
        hl = q.bind("half_life_us", half_life_days * US_PER_DAY)
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
                         row_number() OVER (PARTITION BY ticket_id ORDER BY {ORDER}) AS pos,
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


@dataclass(frozen=True)
class Credits:
    """A validated attribution request and its SQL: ``ctes`` (bound in ``query``) end in
    ``credits(ticket_id, campaign_id, credit)`` with unattributed tickets included, over the
    tickets ``tk`` chosen by the filters."""

    settings: AttributionSettings
    model: str
    lookback_days: float
    half_life_days: float
    filters: Filters
    query: Query
    ctes: str


def credits_query(
    store: Store,
    model: str,
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Filters | Mapping[str, Any] | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
    *,
    touched_only: bool = False,
    customers: bool = True,
    staged: str | None = None,
) -> Credits:
    """Check the arguments and build the credit CTEs. ``lookback_days`` defaults to the
    filters' ``lookback_days``, then the config; ``half_life_days`` to the config.

    ``touched_only``: keep only the tickets a campaign of the filters touched in the lookback
    window (less work when only those campaigns' credit is wanted; a ticket's credits do not
    change, they depend on all of its customer's touches). ``customers=False``: ``tk`` without
    the customers table (see :func:`tickets_cte`). ``staged``: a table (a trusted name from
    code) holding these very credits, written by ``stored.staged_credits`` with the same
    arguments: ``credits`` reads it instead of ranging the tickets over the touchpoints again."""
    check_model(model)
    cfg = attribution_settings(config)
    f = Filters.of(filters)
    if lookback_days is None:
        lookback_days = f.lookback_days if f.lookback_days is not None else cfg.lookback_days
    lb = positive(lookback_days, "lookback_days")
    hl = positive(cfg.half_life_days if half_life_days is None else half_life_days,
                  "half_life_days")
    q = Query()
    effects = removal_effects(store, lb) if model == "data_driven" else None
    if touched_only:
        f = dataclasses.replace(f, lookback_days=lb)
    if staged is not None:
        ctes = f"""WITH {tickets_cte(store, q, f, by_campaign=touched_only, customers=customers,
                                     materialized=touched_only)},
        credits AS (SELECT ticket_id, campaign_id, credit FROM {staged})"""
        return Credits(cfg, model, lb, hl, f, q, ctes)
    ctes = f"""WITH {tickets_cte(store, q, f, by_campaign=touched_only, customers=customers,
                                 materialized=touched_only)},
        {window_cte(q, lb)},
        {_model_cte(q, model, hl, effects)},
        credits AS (
            SELECT ticket_id, campaign_id, credit FROM cred
            UNION ALL
            SELECT ticket_id, CAST(NULL AS VARCHAR), 1.0 FROM tk
            WHERE NOT EXISTS (SELECT 1 FROM win WHERE win.ticket_id = tk.ticket_id)
        )"""
    return Credits(cfg, model, lb, hl, f, q, ctes)


def ticket_credits(
    store: Store,
    model: str = "last_touch",
    lookback_days: float | None = None,
    half_life_days: float | None = None,
    filters: Filters | Mapping[str, Any] | None = None,
    config: AttributionSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Credit of each (ticket, campaign): columns ticket_id, campaign_id, credit.

    Unattributed tickets have one row with campaign_id None and credit 1 (left out when a
    campaign filter is set). ``lookback_days`` and ``half_life_days`` default to the config.
    """
    c = credits_query(store, model, lookback_days, half_life_days, filters, config)
    chosen = c.filters.campaign_sql(c.query.bind, "campaign_id")
    return c.query.run(store, f"{c.ctes} SELECT * FROM credits WHERE {chosen}"
                              " ORDER BY ticket_id, campaign_id NULLS FIRST")
