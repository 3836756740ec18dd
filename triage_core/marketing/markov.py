"""Data-driven attribution: a first-order Markov chain over customer journeys.

Journeys go start -> campaigns -> ticket|null. Converting paths: the touches in each ticket's
lookback window. Non-converting paths: customers with touches and no ticket at all, using their
touches in the last ``lookback_days`` before their latest touch. Removal effect of campaign c =
1 - P(ticket without c) / P(ticket), where removing c sends every transition into c to null.
Counting is DuckDB SQL over all tickets and customers (no filters); the absorbing-chain solve
is numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from triage_core.marketing.settings import AttributionSettings
from triage_core.marketing.window import ORDER, Query, lookback_us, positive, window_cte
from triage_core.store import Store

__all__ = ["removal_effects", "removal_effects_from_transitions", "transition_counts"]


def transition_counts(store: Store, lookback_days: float | None = None) -> pd.DataFrame:
    """Journey transitions for the Markov chain: src, dst, converted, n.

    ``src`` NULL is the start state; ``dst`` NULL is the end of a path (a ticket when
    ``converted`` is 1, null otherwise). Counted over all tickets and customers.
    ``lookback_days`` defaults to the packaged config.
    """
    lb = positive(AttributionSettings.from_mapping().lookback_days if lookback_days is None
                  else lookback_days, "lookback_days")
    q = Query()
    lb_us = q.bind("lookback_us", lookback_us(lb))
    sql = f"""WITH tk AS (SELECT ticket_id, created_at, customer_id FROM tickets),
        {window_cte(q, lb)},
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
            FROM paths WINDOW p AS (PARTITION BY converted, path_id ORDER BY {ORDER})
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
    """Markov removal effect of every campaign seen in a journey (see the module docstring)."""
    return removal_effects_from_transitions(transition_counts(store, lookback_days))
