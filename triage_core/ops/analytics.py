"""Read-side queries for the dashboard and exports: every aggregation runs in DuckDB.

Views read ``triaged_tickets`` (one row per ticket, written by ``triage score``) joined with
``tickets`` only where text is needed. Filters (:class:`triage_core.marketing.filters.Filters`)
become a WHERE clause with bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.marketing.filters import Filters
from triage_core.marketing.window import lookback_us, touched_within
from triage_core.schema import OPEN_STATUSES, effective_category
from triage_core.store import Store

# Share of negative tickets among those with a sentiment (tickets in a language that is not
# scored have none and are left out, not counted as "not negative").
NEGATIVE_SHARE = ("avg(CASE WHEN sentiment_label = 'negative' THEN 1.0"
                  " WHEN sentiment_label IS NOT NULL THEN 0.0 END)")
TRIAGED = "triaged_tickets"
GROUPINGS = {"category": "t.category", "channel": "t.channel", "segment": "t.segment",
             "tier": "t.priority_tier", "team": "t.team", "language": "t.language"}
FREQS = {"day": "day", "week": "week", "month": "month"}
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)  # constants from schema, not user data


def has_triage(store: Store) -> bool:
    return store.table_exists(TRIAGED) and bool(store.scalar(f"SELECT count(*) FROM {TRIAGED}"))


def as_of(store: Store) -> dt.datetime:
    """The time the SLA clocks of ``triaged_tickets`` ran to (``triage score --as-of``, else
    the newest ticket's creation time), so countdowns match the stored SLA states."""
    from triage_core.ops.scoring import data_time

    stored = store.scalar("SELECT value FROM settings WHERE key = 'scored_as_of'")
    return pd.Timestamp(stored).to_pydatetime() if stored else data_time(store)


def filter_options(store: Store) -> dict[str, Any]:
    """Values for the sidebar filters. ``min_date``/``max_date`` bound the date picker;
    ``default_end`` ends its default range: the last creation date the SLA clock runs to, so
    one ticket dated 2100 (a typo in the year) does not stretch every chart to 2100 (see
    :func:`~triage_core.ops.health.future_limit`). It is ``max_date`` when no ticket is that
    far ahead, or when every ticket is (a world dated ahead of this machine)."""
    from triage_core.ops.health import future_limit, newest_sql

    def distinct(sql: str) -> list[str]:
        return [str(v) for v in store.query(sql).iloc[:, 0].dropna().tolist()]

    lo, hi, end = store.query(
        "SELECT min(created_at)::DATE, max(created_at)::DATE,"
        f" ({newest_sql()})::DATE"
        " FROM tickets", [future_limit()]).iloc[0].tolist()
    category_sql = (f"SELECT DISTINCT category FROM {TRIAGED} ORDER BY 1" if has_triage(store)
                    else "SELECT DISTINCT category FROM tickets ORDER BY 1")
    return {
        "min_date": None if pd.isna(lo) else lo,
        "max_date": None if pd.isna(hi) else hi,
        "default_end": None if pd.isna(end) else end,
        "ticket_channels": distinct("SELECT DISTINCT channel FROM tickets ORDER BY 1"),
        "campaign_channels": distinct("SELECT DISTINCT channel FROM campaigns ORDER BY 1"),
        "segments": distinct("SELECT DISTINCT segment FROM customers ORDER BY 1"),
        "categories": distinct(category_sql),
        "campaigns": store.query("SELECT campaign_id, name FROM campaigns ORDER BY start_at"),
    }


def overview_kpis(store: Store, f: Filters) -> dict[str, Any]:
    where, params = f.where()
    row = store.query(
        f"""SELECT count(*) AS tickets,
               {NEGATIVE_SHARE} AS negative_share,
               avg(CASE WHEN first_response_at IS NULL THEN NULL
                        WHEN first_response_at <= first_response_due_at THEN 1.0 ELSE 0.0 END)
                   AS sla_compliance,
               median(date_diff('minute', created_at, first_response_at)) / 60.0
                   AS median_first_response_h,
               median(date_diff('minute', created_at, resolved_at)) / 60.0
                   AS median_resolution_h,
               avg(csat) AS csat,
               count(csat) AS csat_responses,
               count(*) FILTER (WHERE status IN ({_OPEN})) AS open_tickets,
               count(*) FILTER (WHERE escalated AND status IN ({_OPEN})) AS escalated_open,
               count(*) FILTER (WHERE sla_status = 'at_risk' AND status IN ({_OPEN})) AS at_risk,
               count(*) FILTER (WHERE sla_status = 'breached' AND status IN ({_OPEN}))
                   AS breached
            FROM {TRIAGED} t WHERE {where}""",
        params,
    ).iloc[0]
    return {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
            for k, v in row.items()}


def volume_trend(store: Store, f: Filters, freq: str = "day") -> pd.DataFrame:
    """Tickets, negative share, SLA compliance and CSAT per period."""
    unit = _freq(freq)
    where, params = f.where()
    return store.query(
        f"""SELECT date_trunc('{unit}', created_at) AS period, count(*) AS tickets,
               {NEGATIVE_SHARE} AS negative_share,
               avg(sentiment) AS mean_sentiment,
               avg(CASE WHEN first_response_at IS NULL THEN NULL
                        WHEN first_response_at <= first_response_due_at THEN 1.0 ELSE 0.0 END)
                   AS sla_compliance,
               avg(csat) AS csat
            FROM {TRIAGED} t WHERE {where} GROUP BY 1 ORDER BY 1""",
        params,
    )


def sentiment_trend(store: Store, f: Filters, by: str = "category", freq: str = "week",
                    top: int = 8) -> pd.DataFrame:
    """Mean sentiment per period and group (the ``top`` largest groups)."""
    unit = _freq(freq)
    where, params = f.where()
    if by == "campaign":  # the campaigns that touched the ticket in the filters' lookback
        return store.query(
            f"""WITH t AS (SELECT * FROM {TRIAGED} t WHERE {where}),
                tagged AS (
                    SELECT DISTINCT t.ticket_id, c.name AS grp, t.created_at, t.sentiment
                    FROM t JOIN touchpoints tp ON {touched_within("tp", "t", "?")}
                    JOIN campaigns c ON c.campaign_id = tp.campaign_id),
                big AS (SELECT grp FROM tagged GROUP BY grp ORDER BY count(*) DESC, grp LIMIT ?)
            SELECT date_trunc('{unit}', created_at) AS period, grp AS "group",
                   avg(sentiment) AS mean_sentiment, count(*) AS tickets
            FROM tagged WHERE grp IN (SELECT grp FROM big) GROUP BY ALL ORDER BY 1, 2""",
            [*params, lookback_us(f.lookback()), top],
        )
    if by not in GROUPINGS:
        raise TriageError(f"cannot group by {by!r}; choose one of "
                          f"{', '.join([*GROUPINGS, 'campaign'])}")
    col = GROUPINGS[by]
    return store.query(
        f"""WITH big AS (SELECT {col} AS grp FROM {TRIAGED} t WHERE {where}
                         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ?)
            SELECT date_trunc('{unit}', created_at) AS period, {col} AS "group",
                   avg(sentiment) AS mean_sentiment, count(*) AS tickets
            FROM {TRIAGED} t WHERE {where} AND {col} IN (SELECT grp FROM big)
            GROUP BY ALL ORDER BY 1, 2""",
        [*params, top, *params],
    )


def breakdown(store: Store, f: Filters, by: str = "category") -> pd.DataFrame:
    """Tickets, negative share and mean sentiment per group."""
    if by not in GROUPINGS:
        raise TriageError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")
    where, params = f.where()
    col = GROUPINGS[by]
    return store.query(
        f"""SELECT {col} AS "group", count(*) AS tickets, avg(sentiment) AS mean_sentiment,
               {NEGATIVE_SHARE} AS negative_share
            FROM {TRIAGED} t WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1""",
        params,
    )


_TICKET_COLUMNS = """t.ticket_id, t.created_at, t.status, t.channel, t.segment, t.category,
    t.category_confidence, t.sentiment, t.sentiment_label, t.severity, t.priority_score,
    t.priority_tier, t.sla_due_at, t.sla_status, t.team, t.agent_id, t.escalated,
    t.escalation_reason, t.routing_reason, t.lifetime_value, k.subject"""


def _ticket_where(f: Filters, search: str, open_only: bool) -> tuple[str, list[Any]]:
    """WHERE clause and parameters over ``t`` (triaged) and, when searching, ``k`` (tickets)."""
    where, params = f.where()
    if search.strip():
        where += (" AND (contains(lower(k.subject), ?) OR contains(lower(k.body), ?)"
                  " OR t.ticket_id = ?)")
        needle = search.strip().lower()
        params += [needle, needle, search.strip()]
    if open_only:
        where += f" AND t.status IN ({_OPEN})"
    return where, params


def tickets(store: Store, f: Filters, *, search: str = "", open_only: bool = False,
            team: str | None = None, escalated: bool | None = None,
            order: str = "priority", limit: int = 200, offset: int = 0,
            scored_only: bool = False) -> pd.DataFrame:
    """A page of tickets with their triage, filtered and searched (subject and body).
    ``scored_only``: only tickets with a sentiment (not those in a language not scored)."""
    orders = {"priority": "t.priority_score DESC, t.created_at, t.ticket_id",
              "sentiment": "t.sentiment ASC NULLS LAST, t.priority_score DESC, t.ticket_id",
              "newest": "t.created_at DESC, t.ticket_id",
              "due": "t.sla_due_at ASC NULLS LAST, t.ticket_id"}
    if order not in orders:
        raise TriageError(f"unknown order {order!r}")
    where, params = _ticket_where(f, search, open_only)
    if team is not None:
        where += " AND t.team = ?"
        params.append(team)
    if escalated is not None:
        where += " AND t.escalated = ?"
        params.append(escalated)
    if scored_only:
        where += " AND t.sentiment IS NOT NULL"
    return store.query(
        f"SELECT {_TICKET_COLUMNS} FROM {TRIAGED} t JOIN tickets k USING (ticket_id)"
        f" WHERE {where} ORDER BY {orders[order]} LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)],
    )


def tickets_by_id(store: Store, ids: Sequence[str]) -> pd.DataFrame:
    """The ticket rows (with triage) of the given ids, newest first."""
    return store.query(
        f"SELECT {_TICKET_COLUMNS} FROM {TRIAGED} t JOIN tickets k USING (ticket_id)"
        " WHERE t.ticket_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY t.created_at DESC",
        [list(ids)],
    )


def campaign_drill(store: Store, model: str, campaign_id: str, lookback_days: float,
                   f: Filters, config: Any = None, limit: int = 300, *,
                   unfiltered: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """One campaign's credited tickets under the filters: per day (day, tickets = credit,
    sentiment = mean), the ``limit`` tickets with the most credit (newest first among equals)
    with their triage, and how many tickets it has credit for.

    ``unfiltered``: the caller knows ``f`` narrows nothing (e.g. a date range covering every
    ticket); then the last-touch credits a full scoring stored serve, if current for this
    lookback. Otherwise credit is computed for the tickets the campaign touched only."""
    import dataclasses

    from triage_core.marketing.attribution import credits_query
    from triage_core.marketing.stored import CREDITS_TABLE, stored_credits
    from triage_core.marketing.window import Query

    if unfiltered and stored_credits(store, model, lookback_days):
        q = Query()
        mine = (f"mine AS (SELECT ticket_id, credit FROM {CREDITS_TABLE}"
                f" WHERE campaign_id = {q.bind('campaign', campaign_id)})")
        ctes = f"WITH {mine}"
    else:
        c = credits_query(store, model, lookback_days,
                          filters=dataclasses.replace(f, campaigns=(campaign_id,)),
                          config=config, touched_only=True)
        q = c.query
        ctes = (f"{c.ctes}, mine AS (SELECT ticket_id, credit FROM credits"
                f" WHERE campaign_id = {q.bind('campaign', campaign_id)})")
    # One pass over the credits (the live credits query is the expensive part: run it once),
    # then the ticket columns for the ``limit`` shown only.
    rows = q.run(store, f"""{ctes} SELECT m.ticket_id, m.credit, t.created_at, t.sentiment
        FROM mine m JOIN {TRIAGED} t USING (ticket_id)""")
    n = len(rows)
    daily = (rows.assign(day=pd.to_datetime(rows["created_at"]).dt.floor("D"))
             .groupby("day", as_index=False, sort=True)
             .agg(tickets=("credit", "sum"), sentiment=("sentiment", "mean")))
    best = rows.sort_values(["credit", "created_at", "ticket_id"],
                            ascending=[False, False, True], kind="stable").head(int(limit))
    shown = Query()
    top = shown.run(store, f"""SELECT {_TICKET_COLUMNS}
        FROM {TRIAGED} t JOIN tickets k USING (ticket_id)
        WHERE t.ticket_id IN (SELECT unnest({shown.bind('ids', best['ticket_id'].tolist())}))""")
    top = (best[["ticket_id", "credit"]].merge(top, on="ticket_id", how="inner")
           [[*top.columns, "credit"]].reset_index(drop=True))
    return daily, top, n


def count_tickets(store: Store, f: Filters, *, search: str = "", open_only: bool = False,
                  team: str | None = None) -> int:
    where, params = _ticket_where(f, search, open_only)
    if team is not None:
        where += " AND t.team = ?"
        params.append(team)
    join = " JOIN tickets k USING (ticket_id)" if search.strip() else ""
    return int(store.scalar(f"SELECT count(*) FROM {TRIAGED} t{join} WHERE {where}", params))


def ticket_detail(store: Store, ticket_id: str) -> dict[str, Any] | None:
    """Everything known about one ticket: text, triage, explanation, customer."""
    df = store.query(
        f"""SELECT k.* EXCLUDE (category, agent_id, language),
               t.* EXCLUDE (ticket_id, created_at, customer_id, status, channel, source_priority,
                            first_response_at, resolved_at, csat, category, category_source,
                            category_confidence, predicted_category, agent_id, handled_by),
               k.category AS label, coalesce(k.language, r.language) AS language,
               {effective_category()}, r.category AS predicted_category,
               r.category_confidence AS model_confidence,
               t.agent_id AS assigned_agent, k.agent_id AS handled_by,
               r.category_top, r.severity_reasons, r.model_version
            FROM tickets k LEFT JOIN {TRIAGED} t USING (ticket_id)
            LEFT JOIN triage_results r USING (ticket_id)
            LEFT JOIN ticket_corrections corr USING (ticket_id)
            WHERE k.ticket_id = ?""",
        [ticket_id],
    )
    return None if df.empty else df.iloc[0].to_dict()


def team_workload(store: Store) -> pd.DataFrame:
    """Open tickets assigned per agent against capacity."""
    return store.query(
        f"""SELECT a.agent_id, a.name, a.team, a.capacity,
               count(t.ticket_id) AS assigned,
               count(t.ticket_id) / nullif(a.capacity, 0) AS utilization
            FROM agents a LEFT JOIN {TRIAGED} t ON t.agent_id = a.agent_id
              AND t.status IN ({_OPEN})
            GROUP BY a.agent_id, a.name, a.team, a.capacity ORDER BY a.team, a.agent_id"""
    )


def queue_summary(store: Store) -> pd.DataFrame:
    """Open tickets per team/queue with tier counts and SLA state."""
    return store.query(
        f"""SELECT team, count(*) AS open_tickets,
               count(*) FILTER (WHERE priority_tier = 'P1') AS p1,
               count(*) FILTER (WHERE priority_tier = 'P2') AS p2,
               count(*) FILTER (WHERE sla_status = 'at_risk') AS at_risk,
               count(*) FILTER (WHERE sla_status = 'breached') AS breached,
               count(*) FILTER (WHERE agent_id IS NULL) AS unassigned
            FROM {TRIAGED} WHERE status IN ({_OPEN}) GROUP BY 1 ORDER BY 2 DESC, 1"""
    )


def alerts(store: Store, f: Filters, limit: int = 50) -> pd.DataFrame:
    """Open escalations and SLAs at risk or breached, most urgent first.

    The one definition of an alert: an open ticket that is ``escalated`` (see
    :func:`triage_core.ops.priority.score`, whose ``escalation_reason`` says why) or whose
    ``sla_status`` is ``at_risk`` or ``breached``; ordered by priority score (high first),
    then due time."""
    where, params = f.where()
    return store.query(
        f"""SELECT t.ticket_id, t.created_at, t.priority_tier, t.priority_score, t.sentiment,
               t.segment, t.team, t.agent_id, t.sla_due_at, t.sla_status, t.escalated,
               coalesce(t.escalation_reason, '') AS escalation_reason, k.subject
            FROM {TRIAGED} t JOIN tickets k USING (ticket_id)
            WHERE {where} AND t.status IN ({_OPEN})
              AND (t.escalated OR t.sla_status IN ('at_risk', 'breached'))
            ORDER BY t.priority_score DESC, t.sla_due_at, t.created_at, t.ticket_id
            LIMIT ?""",
        [*params, int(limit)],
    )


CAMPAIGN_TABLES = ("campaign_summary", "campaign_spikes")


def campaign_tables(store: Store) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The campaign view materialized by ``triage score`` (last touch, no filters) and its
    spike series, or None before the first scoring."""
    import json

    if not all(store.table_exists(t) for t in CAMPAIGN_TABLES):
        return None
    state = dict(store.query("SELECT key, value FROM settings WHERE key IN"
                             " ('scored_at', 'campaign_tables_of')").itertuples(index=False))
    if state.get("scored_at") != state.get("campaign_tables_of"):
        return None  # tickets were scored since: the stored view is stale
    impact = store.query("SELECT * FROM campaign_summary")
    impact["category_mix"] = [json.loads(m) if isinstance(m, str) else {}
                              for m in impact["category_mix"]]
    return impact, store.query("SELECT * FROM campaign_spikes")


def export_table(store: Store, name: str) -> pd.DataFrame:
    """A whole table for export (the name must be one of :func:`exportable_tables`)."""
    if name not in exportable_tables(store):
        raise TriageError(f"cannot export {name!r}")
    return store.query(f'SELECT * FROM "{name}"')


# The product's own bookkeeping: not data a user exports or needs to see counted (settings holds
# the key of masked tokens, api_tokens the token hashes; the others are derived or internal).
INTERNAL_TABLES = frozenset({"schema_version", "model_versions", "settings", "api_tokens",
                             "jobs", "campaign_credits", "campaign_reach", "campaign_summary",
                             "campaign_spikes"})


def user_tables(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` (table -> rows) without :data:`INTERNAL_TABLES`."""
    return {t: n for t, n in counts.items() if t not in INTERNAL_TABLES}


def exportable_tables(store: Store) -> list[str]:
    return list(user_tables(store.counts()))


def _freq(freq: str) -> str:
    if freq not in FREQS:
        raise TriageError(f"unknown period {freq!r}; choose day, week or month")
    return FREQS[freq]


def to_records(df: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    out = df if columns is None else df[list(columns)]
    return out.astype(object).where(out.notna(), None).to_dict("records")


def confidence_bins(store: Store, bins: int = 20) -> pd.DataFrame:
    """How many predicted tickets fall in each of ``bins`` equal ranges of category
    confidence over 0-1 (``low``, ``high``, ``tickets``; every range, empty ones with 0;
    1.0 counts in the last). Counted in the database, over every prediction: the chart gets
    ``bins`` numbers, not a sample of the values."""
    counts = {int(r["b"]): int(r["n"]) for r in store.rows(
        "SELECT least(greatest(floor(category_confidence * ?), 0), ? - 1) AS b, count(*) AS n"
        " FROM triage_results WHERE isfinite(category_confidence) GROUP BY 1", [bins, bins])}
    return pd.DataFrame({"low": [i / bins for i in range(bins)],
                         "high": [(i + 1) / bins for i in range(bins)],
                         "tickets": [counts.get(i, 0) for i in range(bins)]})
