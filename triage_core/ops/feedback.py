"""The feedback loop's data: agent corrections (with audit trail and undo), CSAT, review queue.

A correction records the field (``category``, ``tier`` or ``sentiment``), the value shown at the
time, the corrected value, who, when and an optional comment. Nothing is ever deleted: undo
stamps ``undone_at``/``undone_by``. The newest correction of a field that is not undone wins over
the ticket's label and the model's prediction (in scoring and in retraining). A ``flag`` records
"this prediction looks wrong" without a corrected value; it puts the ticket in the review queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from triage_core.errors import TriageError, UnknownTicketError
from triage_core.ops.priority import TIERS
from triage_core.schema import (
    CONTROL_CHARACTERS,
    MAX_ID_CHARS,
    MAX_LABEL_CHARS,
    MAX_NOTE_CHARS,
    SENTIMENT_LABELS,
)
from triage_core.store import Store
from triage_core.store.retry import retry_on_conflict

FIELDS = ("category", "tier", "sentiment", "flag")
_SHOWN = {"category": "category", "tier": "priority_tier", "sentiment": "sentiment_label"}

# the options that give a correction, as the CLI names them (the API names its fields)
OPTIONS = " (--category, --tier, --sentiment, --flag)"


MAX_NEW_CATEGORY = MAX_LABEL_CHARS  # characters of a category a correction adds (one line)
_CONTROL = re.compile(CONTROL_CHARACTERS)  # as the import refuses them in a category


def _validate(field: str, value: str, categories: list[str], new: bool = False) -> str:
    value = (value or "").strip()
    if field == "tier":
        value = value.upper()
        if value not in TIERS:
            raise TriageError(f"tier must be one of {', '.join(TIERS)}, not {value!r}")
    elif field == "sentiment":
        value = value.lower()
        if value not in SENTIMENT_LABELS:
            raise TriageError(f"sentiment must be one of {', '.join(SENTIMENT_LABELS)},"
                              f" not {value!r}")
    elif field == "category":
        if not value:
            raise TriageError("category must not be empty")
        if categories and value not in categories and not new:  # none yet: the first
            alike = [c for c in categories if c.casefold().strip() == value.casefold().strip()]
            hint = f"did you mean {alike[0]!r}? " if alike else ""
            raise TriageError(f"unknown category {value!r}; {hint}known: {', '.join(categories)}"
                              " (to add it: --new-category, or \"new_category\": true in"
                              " the API)")
        if value not in categories and (len(value) > MAX_NEW_CATEGORY
                                        or _CONTROL.search(value)):
            shown = value[:40] + "…" if len(value) > 40 else value
            raise TriageError(f"a new category is one line of at most {MAX_NEW_CATEGORY}"
                              f" characters, not {shown!r}")
    elif field == "flag":
        value = value or "wrong prediction"
    else:
        raise TriageError(f"cannot correct {field!r}; choose one of {', '.join(FIELDS)}")
    return value


def known_categories(store: Store) -> list[str]:
    sql = "SELECT DISTINCT category FROM tickets WHERE category IS NOT NULL"
    if store.table_exists("triage_results"):
        sql += " UNION SELECT DISTINCT category FROM triage_results WHERE category IS NOT NULL"
    return sorted(store.query(sql)["category"].tolist())


def add(store: Store, ticket_id: str, changes: Mapping[str, str | None], *, by: str = "",
        comment: str = "", allow_new_category: bool = False) -> list[int]:
    """Record corrections for one ticket; returns their ids. Empty values are skipped; a
    correction to the value the ticket already shows is refused (nothing is recorded)."""
    changes = {k: v for k, v in changes.items() if v is not None and str(v).strip() != ""}
    for what, text, limit in (("comment", comment, MAX_NOTE_CHARS),
                              ("flag", changes.get("flag") or "", MAX_NOTE_CHARS),
                              ("author", by, MAX_ID_CHARS)):
        if len(str(text)) > limit:
            raise TriageError(f"the {what} is {len(str(text)):,} characters long; at most"
                              f" {limit:,}: nothing recorded")
    if _CONTROL.search(str(by)):
        # an author is one line, as an id: a line break would forge rows of `feedback list`
        raise TriageError(f"the author {str(by)[:40]!r} holds a line break, a tab or another"
                          " control character; an author is one line of text: nothing"
                          " recorded")
    if not changes:
        raise TriageError(f"nothing to record: give a category, tier, sentiment or flag{OPTIONS}")
    if not store.scalar("SELECT count(*) FROM tickets WHERE ticket_id = ?", [ticket_id]):
        raise UnknownTicketError(f"no ticket {ticket_id!r}")
    categories = known_categories(store)
    shown = {}
    if store.table_exists("triaged_tickets"):
        row = store.query("SELECT category, priority_tier, sentiment_label FROM triaged_tickets"
                          " WHERE ticket_id = ?", [ticket_id])
        if not row.empty:
            shown = row.iloc[0].to_dict()
    rows = []
    for field, value in changes.items():
        old = shown.get(_SHOWN.get(field, ""), None)
        old = None if old is None or pd.isna(old) else str(old)
        new = _validate(field, str(value), categories, allow_new_category)
        if field != "flag" and old is not None and new == old:
            raise TriageError(f"ticket {ticket_id}'s {field} is already {new}: nothing "
                              "recorded (choose a different value, or flag the prediction)")
        rows.append([ticket_id, field, old, new, comment or None, by or None])

    def record() -> list[int]:  # ids from a sequence: concurrent writers never share one
        with store.transaction():
            ids = [int(store.scalar(
                "INSERT INTO feedback (feedback_id, ticket_id, field, old_value, new_value,"
                " comment, author, created_at) VALUES (nextval('feedback_ids'), ?, ?, ?, ?, ?,"
                " ?, now()::TIMESTAMP) RETURNING feedback_id", row)) for row in rows]
            _apply_to_triaged(store, ticket_id)
        return ids

    return retry_on_conflict(store, record)


def undo(store: Store, feedback_id: int, *, by: str = "") -> None:
    """Mark a correction as undone (it stays in the audit trail)."""
    row = store.query("SELECT ticket_id, undone_at FROM feedback WHERE feedback_id = ?",
                      [feedback_id])
    if row.empty:
        raise TriageError(f"no feedback #{feedback_id}")
    if not pd.isna(row["undone_at"].iloc[0]):
        raise TriageError(f"feedback #{feedback_id} is already undone")

    def record() -> None:
        with store.transaction():
            store.execute("UPDATE feedback SET undone_at = now()::TIMESTAMP, undone_by = ?"
                          " WHERE feedback_id = ?", [by or None, feedback_id])
            _apply_to_triaged(store, str(row["ticket_id"].iloc[0]))

    retry_on_conflict(store, record)


def _apply_to_triaged(store: Store, ticket_id: str) -> None:
    """Show the effective corrections in triaged_tickets at once (scoring re-derives them)."""
    if not store.table_exists("triaged_tickets"):
        return
    eff = effective(store, ticket_id)
    if "category" in eff:
        store.execute("UPDATE triaged_tickets SET category = ?, category_source = 'correction',"
                      " category_confidence = 1.0 WHERE ticket_id = ?",
                      [eff["category"], ticket_id])
    else:  # back to the known label, else the model's prediction
        store.execute(
            "UPDATE triaged_tickets t SET"
            " category = coalesce(k.category, r.category),"
            " category_source = CASE WHEN k.category IS NOT NULL THEN 'label'"
            "  WHEN r.category IS NOT NULL THEN 'model' END,"
            " category_confidence = CASE WHEN k.category IS NOT NULL THEN 1.0"
            "  ELSE r.category_confidence END"
            " FROM tickets k LEFT JOIN triage_results r USING (ticket_id)"
            " WHERE t.ticket_id = k.ticket_id AND t.ticket_id = ?", [ticket_id])
    store.execute("UPDATE triaged_tickets SET priority_tier = coalesce(?, computed_tier)"
                  " WHERE ticket_id = ?", [eff.get("tier"), ticket_id])
    if "sentiment" in eff:
        store.execute("UPDATE triaged_tickets SET sentiment_label = ? WHERE ticket_id = ?",
                      [eff["sentiment"], ticket_id])
    else:
        store.execute(
            "UPDATE triaged_tickets t SET sentiment_label = r.sentiment_label"
            " FROM triage_results r WHERE t.ticket_id = r.ticket_id AND t.ticket_id = ?",
            [ticket_id])


def effective(store: Store, ticket_id: str) -> dict[str, str]:
    """The corrections in force for a ticket: newest not-undone value per field."""
    df = store.query(
        "SELECT field, arg_max(new_value, feedback_id) AS value FROM feedback"
        " WHERE ticket_id = ? AND undone_at IS NULL GROUP BY field", [ticket_id]
    )
    return dict(zip(df["field"], df["value"], strict=True))


def list_feedback(store: Store, ticket_id: str | None = None, limit: int = 1000) -> pd.DataFrame:
    return store.query(
        "SELECT feedback_id, ticket_id, field, old_value, new_value, author, comment, created_at,"
        " undone_at, undone_by FROM feedback WHERE ? IS NULL OR ticket_id = ?"
        " ORDER BY feedback_id DESC LIMIT ?", [ticket_id, ticket_id, limit]
    )


def weekly_volume(store: Store) -> pd.DataFrame:
    """Corrections per week and field (undone ones excluded)."""
    return store.query(
        "SELECT date_trunc('week', created_at) AS week, field, count(*) AS n FROM feedback"
        " WHERE undone_at IS NULL GROUP BY ALL ORDER BY 1, 2"
    )


def csat_vs_sentiment(store: Store, freq: str = "week") -> pd.DataFrame:
    """Mean CSAT (surveys, else the ticket's csat) against mean sentiment per period."""
    if freq not in ("day", "week", "month"):
        raise TriageError("freq must be day, week or month")
    return store.query(
        f"""SELECT date_trunc('{freq}', t.created_at) AS period,
               avg(coalesce(s.score, t.csat)) AS csat, avg(t.sentiment) AS mean_sentiment,
               count(coalesce(s.score, t.csat)) AS surveys
            FROM triaged_tickets t LEFT JOIN csat_surveys s USING (ticket_id)
            GROUP BY 1 ORDER BY 1"""
    )


def review_queue(store: Store, confidence_threshold: float, limit: int = 200) -> pd.DataFrame:
    """Tickets worth a human label, most instructive first.

    Candidates: flagged by an agent; model-predicted category with confidence below
    ``confidence_threshold`` (callers pass the routing rules' ``confidence_threshold``, below
    which routing sends a ticket to the triage queue); CSAT that disagrees with predicted
    sentiment (CSAT <= 2 but positive, or CSAT >= 4 but negative). Tickets already corrected
    are left out.
    ``teach_score`` = (1 - category confidence) + 0.5 if flagged + 0.25 if CSAT disagrees:
    uncertainty first, so a label where the model is least sure teaches it the most.
    """
    if not store.table_exists("triaged_tickets"):
        return pd.DataFrame()
    # Candidates are found first, each kind from its own small source, and only they are
    # joined to the rest (joining every triaged ticket took 0.9 s at 1M tickets).
    return store.query(
        """WITH candidates AS (
               SELECT ticket_id FROM triage_results WHERE category_confidence < $threshold
               UNION SELECT ticket_id FROM ticket_corrections WHERE flagged
               UNION SELECT t.ticket_id FROM triaged_tickets t
                     LEFT JOIN csat_surveys s USING (ticket_id)
                     WHERE (coalesce(s.score, t.csat) <= 2 AND t.sentiment_label = 'positive')
                        OR (coalesce(s.score, t.csat) >= 4 AND t.sentiment_label = 'negative')),
           base AS (
               SELECT t.ticket_id, t.created_at, t.status, t.predicted_category,
                      r.category_confidence AS model_confidence, t.sentiment, t.sentiment_label,
                      coalesce(s.score, t.csat) AS csat,
                      coalesce(fb.flagged, false) AS flagged,
                      k.category IS NOT NULL AS has_label,
                      coalesce(fb.corrected, false) AS corrected,
                      (coalesce(s.score, t.csat) <= 2 AND t.sentiment_label = 'positive')
                      OR (coalesce(s.score, t.csat) >= 4 AND t.sentiment_label = 'negative')
                          AS csat_disagrees
               FROM candidates JOIN triaged_tickets t USING (ticket_id)
               JOIN tickets k USING (ticket_id)
               LEFT JOIN triage_results r USING (ticket_id)
               LEFT JOIN csat_surveys s USING (ticket_id)
               LEFT JOIN ticket_corrections fb USING (ticket_id)),
           chosen AS (
               SELECT *,
                  (1 - coalesce(model_confidence, 1)) + CASE WHEN flagged THEN 0.5 ELSE 0 END
                  + CASE WHEN coalesce(csat_disagrees, false) THEN 0.25 ELSE 0 END
                      AS teach_score,
                  concat_ws(', ',
                      CASE WHEN flagged THEN 'flagged' END,
                      CASE WHEN model_confidence < $threshold THEN 'low confidence' END,
                      CASE WHEN coalesce(csat_disagrees, false)
                           THEN 'CSAT disagrees with sentiment' END) AS why
               FROM base
               WHERE NOT corrected
                 AND (flagged OR (model_confidence < $threshold AND NOT has_label)
                      OR coalesce(csat_disagrees, false))
               ORDER BY teach_score DESC, created_at DESC, ticket_id
               LIMIT $limit)
           SELECT c.ticket_id, c.created_at, c.status, c.predicted_category, c.model_confidence,
                  c.sentiment, c.sentiment_label, c.csat, k.subject, c.flagged, c.has_label,
                  c.corrected, c.csat_disagrees, c.teach_score, c.why
           FROM chosen c JOIN tickets k USING (ticket_id)
           ORDER BY c.teach_score DESC, c.created_at DESC, c.ticket_id""",
        {"threshold": confidence_threshold, "limit": int(limit)},
    )


def summary(store: Store) -> dict[str, Any]:
    row = store.query(
        "SELECT count(*) FILTER (WHERE undone_at IS NULL) AS active,"
        " count(*) FILTER (WHERE undone_at IS NOT NULL) AS undone,"
        " count(DISTINCT ticket_id) AS tickets FROM feedback"
    ).iloc[0]
    return {k: int(v) for k, v in row.items()}
