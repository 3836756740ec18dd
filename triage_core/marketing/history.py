"""Campaign history for forecasting: what each past campaign brought to support, day by day.

For every campaign, per day since its launch (day 0 = the first 24 hours): the attributed
tickets (credit under the attribution model) by category and by whether the customer's segment
goes to the VIP team, their negative and sentiment-labelled credit and support cost, and the
customers it reached for the first time that day (touches before the launch count on day 0).
One DuckDB query each through the :class:`Store`; the result is a small numpy cube.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from triage_core.marketing.attribution import credits_query
from triage_core.marketing.filters import Filters
from triage_core.marketing.impact import UNCATEGORIZED, cost_ctes
from triage_core.marketing.settings import AttributionSettings
from triage_core.marketing.stored import CREDITS_TABLE, REACH_TABLE, stored_credits
from triage_core.marketing.window import US_PER_DAY, Query
from triage_core.ops.health import future_limit, newest_sql
from triage_core.store import Store

__all__ = ["History", "campaign_facts", "load_history"]

_MAX_LEAD = 366  # days a campaign launched before the ticket data is followed longer, at most

@dataclass(frozen=True)
class History:
    """Per campaign (rows of ``campaigns``) and day since launch (``days`` columns)."""

    campaigns: pd.DataFrame  # campaign_id, name, channel, utm_source, utm_medium, utm_campaign,
    #                start_at, end_at, spend, revenue, reach, duration_days, first_day and
    #                observed_days (days since launch inside the ticket data: first_day ..
    #                observed_days - 1)
    categories: tuple[str, ...]
    tickets: np.ndarray  # campaign x day x category x vip (0/1): attributed credit
    negative: np.ndarray  # campaign x day: credit of tickets labelled negative
    labelled: np.ndarray  # campaign x day: credit of tickets with a sentiment label
    cost: np.ndarray  # campaign x day: support cost of the credit
    reached: np.ndarray  # campaign x day: customers reached for the first time (reach: all)

    @property
    def days(self) -> int:
        return self.reached.shape[1]


def _per_day(q: Query, credit: str, segment: str, vip_segments: Sequence[str]) -> str:
    """The columns of a history row over tickets ``k`` (with ``cost``) of launches ``l``:
    day since launch, category, VIP, and the sums of ``credit``."""
    return f"""CAST(floor(date_diff('microsecond', l.start_at, k.created_at) / {US_PER_DAY})
                    AS BIGINT) AS day,
               COALESCE(k.category, {q.bind('uncategorized', UNCATEGORIZED)}) AS category,
               COALESCE(list_contains({q.bind('vip', list(vip_segments))}::VARCHAR[],
                                      {segment}), false) AS vip,
               sum({credit}) AS tickets,
               COALESCE(sum({credit}) FILTER (WHERE k.sentiment_label = 'negative'), 0)
                   AS negative,
               COALESCE(sum({credit}) FILTER (WHERE k.sentiment_label IS NOT NULL), 0)
                   AS labelled,
               sum({credit} * k.cost) AS cost"""


def _in_span(q: Query, days: int) -> str:
    """Tickets ``k`` in the first ``days`` days after their campaign's launch ``l``."""
    return (f"k.created_at >= l.start_at AND k.created_at < l.start_at"
            f" + to_microseconds({q.bind('span_us', days * US_PER_DAY)})")


def _daily_tickets(store: Store, model: str, cfg: AttributionSettings, days: int,
                   vip_segments: Sequence[str], meta: pd.DataFrame) -> pd.DataFrame:
    """Credit per campaign of ``meta``, day since launch, category and VIP segment, counting
    only the tickets those campaigns touched (their credits are the same)."""
    ids = meta["campaign_id"].tolist()
    if stored_credits(store, model, cfg.lookback_days):
        return _stored_daily(store, cfg, days, vip_segments, ids)
    until = meta["start_at"].max() + pd.Timedelta(days=days)
    window = Filters(campaigns=tuple(ids), start=meta["start_at"].min(), end=until)
    c = credits_query(store, model, filters=window, config=cfg, touched_only=True,
                      customers=False)  # the segment of the credited tickets alone, below
    q = c.query
    sql = f"""{c.ctes},
        {cost_ctes(q, cfg)},
        launch AS (SELECT campaign_id, start_at FROM campaigns
                   WHERE list_contains({q.bind('launch_ids', ids)}::VARCHAR[], campaign_id))
        SELECT cr.campaign_id,
               {_per_day(q, "cr.credit", "COALESCE(cu.segment, k.segment)", vip_segments)}
        FROM credits cr JOIN tk_cost k USING (ticket_id)
        JOIN launch l ON l.campaign_id = cr.campaign_id
        LEFT JOIN customers cu ON cu.customer_id = k.customer_id
        WHERE {_in_span(q, days)}
        GROUP BY ALL"""
    return q.run(store, sql)


def _stored_daily(store: Store, cfg: AttributionSettings, days: int,
                  vip_segments: Sequence[str], ids: list[str]) -> pd.DataFrame:
    """:func:`_daily_tickets` from :data:`CREDITS_TABLE` (the same rows, much less work)."""
    q = Query()
    sql = f"""WITH tk AS (SELECT * FROM {CREDITS_TABLE}
                          WHERE list_contains({q.bind('ids', ids)}::VARCHAR[], campaign_id)),
        {cost_ctes(q, cfg)}
        SELECT k.campaign_id, {_per_day(q, "k.credit", "k.segment", vip_segments)}
        FROM tk_cost k JOIN campaigns l ON l.campaign_id = k.campaign_id
        WHERE {_in_span(q, days)}
        GROUP BY ALL"""
    return q.run(store, sql)


def campaign_facts(store: Store) -> pd.DataFrame:
    """Every campaign with a start time: id, name, channel, utm tags, start, end, spend,
    revenue, oldest first."""
    return store.query(
        """SELECT campaign_id, name, channel, utm_source, utm_medium, utm_campaign, start_at,
                  end_at, spend, revenue FROM campaigns WHERE start_at IS NOT NULL
           ORDER BY start_at, campaign_id""")


def _reach(store: Store, ids: Sequence[str], days: int, stored: bool = False) -> pd.DataFrame:
    """Customers reached for the first time per campaign of ``ids`` and day since launch
    (``days``: any later day); ``stored``: from :data:`REACH_TABLE` (current)."""
    if stored:
        return store.query(
            f"""SELECT campaign_id, least(day, ?) AS day, sum(reached) AS reached
                FROM {REACH_TABLE} WHERE list_contains(?::VARCHAR[], campaign_id)
                GROUP BY ALL""", [days, list(ids)])
    return store.query(
        f"""SELECT p.campaign_id,
                   least(greatest(CAST(floor(date_diff('microsecond', c.start_at, p.first)
                                             / {US_PER_DAY}) AS BIGINT), 0), ?) AS day,
                   count(*) AS reached
            FROM (SELECT campaign_id, customer_id, min(touched_at) AS first FROM touchpoints
                  WHERE list_contains(?::VARCHAR[], campaign_id)
                  GROUP BY campaign_id, customer_id) p
            JOIN campaigns c ON c.campaign_id = p.campaign_id
            GROUP BY ALL""", [days, list(ids)])


def _days_seen(meta: pd.DataFrame, span: Any, days: int) -> pd.DataFrame:
    """Each campaign's duration, and its first and last day since launch inside the ticket
    data (first_day .. observed_days - 1 are whole days with tickets, up to ``days``)."""
    t0, t1 = pd.Timestamp(span["t0"]), pd.Timestamp(span["t1"])
    stop = meta["end_at"].fillna(t1) if t1 is not pd.NaT else meta["end_at"]
    out = meta.assign(duration_days=np.maximum(
        ((stop - meta["start_at"]).dt.total_seconds() / 86_400).fillna(1.0), 1.0))
    if t0 is pd.NaT:
        return out.assign(first_day=0, observed_days=0)
    late = np.ceil((t0.normalize() - meta["start_at"]).dt.total_seconds() / 86_400)
    seen = np.floor((t1 - meta["start_at"]).dt.total_seconds() / 86_400)
    return out.assign(first_day=np.clip(late, 0, days).astype(int),
                      observed_days=np.clip(seen, 0, days).astype(int))


def load_history(store: Store, model: str, cfg: AttributionSettings, days: int,
                 vip_segments: Sequence[str], campaigns: Sequence[str] | None = None
                 ) -> History:
    """``days`` days of tickets inside the ticket data after the launch of every campaign with
    a start time (or of ``campaigns``); a campaign launched before the data begins is followed
    that much longer."""
    meta = campaign_facts(store)
    if campaigns is not None:
        meta = meta[meta["campaign_id"].isin(list(campaigns))].reset_index(drop=True)
    span = store.query(f"SELECT min(created_at) AS t0, {newest_sql()} AS t1 FROM tickets",
                       [future_limit()])
    lead = _days_seen(meta, span.iloc[0], _MAX_LEAD)["first_day"]
    width = days + (int(lead.max()) if len(lead) else 0)
    ids = {c: i for i, c in enumerate(meta["campaign_id"])}
    k = len(ids)
    daily = (_daily_tickets(store, model, cfg, width, vip_segments, meta) if k else
             pd.DataFrame(columns=["campaign_id", "day", "category", "vip", "tickets",
                                   "negative", "labelled", "cost"]))
    reach = _reach(store, list(ids), width, stored_credits(store, model, cfg.lookback_days))
    cats = tuple(sorted(daily["category"].unique()))
    ci = {c: i for i, c in enumerate(cats)}
    tickets = np.zeros((k, width, max(len(cats), 1), 2))
    flat = [np.zeros((k, width)) for _ in range(3)]
    row = daily["campaign_id"].map(ids).to_numpy(dtype=np.int64)
    day = daily["day"].to_numpy(dtype=np.int64)
    np.add.at(tickets, (row, day, daily["category"].map(ci).to_numpy(dtype=np.int64),
                        daily["vip"].to_numpy(dtype=np.int64)),
              daily["tickets"].to_numpy(dtype=np.float64))
    for arr, col in zip(flat, ("negative", "labelled", "cost"), strict=True):
        np.add.at(arr, (row, day), daily[col].to_numpy(dtype=np.float64))
    reached = np.zeros((k, width + 1))  # the last column: reached later than ``width``
    np.add.at(reached, (reach["campaign_id"].map(ids).to_numpy(dtype=np.int64),
                        reach["day"].to_numpy(dtype=np.int64)),
              reach["reached"].to_numpy(dtype=np.float64))
    meta = _days_seen(meta.assign(reach=reached.sum(axis=1)), span.iloc[0], width)
    return History(meta, cats, tickets, *flat, reached=reached[:, :width])
