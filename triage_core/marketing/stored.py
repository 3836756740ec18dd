"""Last-touch credits stored by a full scoring, for the readers that need one campaign's tickets.

Attribution ranges every ticket over all of its customer's touches (a range join of tickets and
touchpoints): about a second at 1,000,000 tickets and 5,000,000 touchpoints even for one
campaign. A full ``triage score`` stores the last-touch credits of every attributed ticket with
what those readers need of the ticket (:func:`materialize_credits`); the forecast's history and
the campaign drill-down read them while :func:`stored_credits` says they are current (the same
scoring, tickets, touchpoints, corrections and lookback), and compute live otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from triage_core.marketing.attribution import credits_query
from triage_core.marketing.settings import AttributionSettings
from triage_core.store import Store

__all__ = ["CREDITS_MODEL", "CREDITS_TABLE", "REACH_TABLE", "materialize_credits",
           "staged_credits", "stored_credits"]

CREDITS_TABLE = "campaign_credits"
CREDITS_MODEL = "last_touch"
# Customers each campaign reached for the first time per day since its launch (touches before
# the launch count on day 0), written beside the credits: the same range over all touchpoints.
REACH_TABLE = "campaign_reach"
US_PER_DAY = 86_400_000_000
_STAGED = "staged_last_touch_credits"


def _credits_stamp(store: Store, lookback_days: float) -> str:
    """What the stored credits depend on: the last scoring, the tickets and touchpoints (so
    tickets that arrived through the server since are seen), corrections, and the lookback."""
    row = store.rows(
        """SELECT (SELECT value FROM settings WHERE key = 'scored_at') AS scored,
                  (SELECT count(*) FROM tickets) AS tickets,
                  (SELECT max(created_at) FROM tickets) AS newest,
                  (SELECT count(*) FROM touchpoints) AS touches,
                  (SELECT max(touched_at) FROM touchpoints) AS touched,
                  (SELECT max(feedback_id) FROM feedback) AS corrected,
                  (SELECT max(undone_at) FROM feedback) AS undone,
                  (SELECT sum(hash(campaign_id, start_at)) FROM campaigns) AS launches""")[0]
    return "|".join(str(v) for v in (*row.values(), float(lookback_days)))


@contextmanager
def staged_credits(store: Store, cfg: AttributionSettings) -> Iterator[str]:
    """The last-touch credits of every ticket (the configured lookback) in a temporary table,
    for the duration of the block: the stored campaign view's three readers
    (``campaign_impact``, ``spike_series``, :func:`materialize_credits`, each given
    ``staged=``) then range the tickets over the touchpoints once instead of three times."""
    c = credits_query(store, CREDITS_MODEL, config=cfg)
    c.query.run_statement(store, f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS {c.ctes}"
                                 " SELECT ticket_id, campaign_id, credit FROM credits")
    try:
        yield _STAGED
    finally:
        store.execute(f"DROP TABLE IF EXISTS {_STAGED}")


def materialize_credits(store: Store, cfg: AttributionSettings,
                        staged: str | None = None) -> int:
    """Write :data:`CREDITS_TABLE` (last touch, the configured lookback), :data:`REACH_TABLE`
    and their stamp; call inside a transaction after scoring. Returns the credit rows
    written. ``staged``: see :func:`credits_query`."""
    c = credits_query(store, CREDITS_MODEL, config=cfg, staged=staged)
    sql = f"""CREATE OR REPLACE TABLE {CREDITS_TABLE} AS {c.ctes}
        SELECT cr.campaign_id, cr.ticket_id, cr.credit, k.created_at, k.category,
               k.sentiment_label, k.priority_tier, k.segment
        FROM credits cr JOIN tk k USING (ticket_id)
        WHERE cr.campaign_id IS NOT NULL
        ORDER BY cr.campaign_id, k.created_at"""
    c.query.run_statement(store, sql)
    store.execute(f"""CREATE OR REPLACE TABLE {REACH_TABLE} AS
        SELECT p.campaign_id,
               greatest(CAST(floor(date_diff('microsecond', c.start_at, p.first) / {US_PER_DAY})
                             AS BIGINT), 0) AS day,
               count(*) AS reached
        FROM (SELECT campaign_id, customer_id, min(touched_at) AS first FROM touchpoints
              GROUP BY campaign_id, customer_id) p
        JOIN campaigns c ON c.campaign_id = p.campaign_id
        WHERE c.start_at IS NOT NULL
        GROUP BY ALL ORDER BY 1, 2""")
    store.execute("INSERT OR REPLACE INTO settings VALUES ('campaign_credits_of', ?)",
                  [_credits_stamp(store, c.lookback_days)])
    return int(store.scalar(f"SELECT count(*) FROM {CREDITS_TABLE}"))


def stored_credits(store: Store, model: str, lookback_days: float) -> bool:
    """True when :data:`CREDITS_TABLE` holds the current credits of ``model`` with this
    lookback."""
    if model != CREDITS_MODEL or not store.table_exists(CREDITS_TABLE):
        return False
    kept = store.scalar("SELECT value FROM settings WHERE key = 'campaign_credits_of'")
    return kept is not None and kept == _credits_stamp(store, lookback_days)
