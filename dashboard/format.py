"""One formatting layer for the whole app: numbers, money, shares, durations and column labels.

Every page formats through this module, so the same quantity reads the same everywhere:

- counts are whole (``1,634``; attributed tickets are fractional credits, shown rounded);
- money carries the currency symbol of ``[dashboard] currency`` (``$114,350``);
- shares and ROI are percentages with one decimal (``64.7 %``);
- durations are words (``in 3 h``, ``5 d overdue``), never signed hour counts;
- columns have human labels (``Moved by`` for ``moved_by``), in tables and in exports meant for
  people (:func:`for_people`).

Tables keep their numbers numeric (so they sort); :func:`table` returns the copy to show (shares
scaled to percent) and the ``column_config`` that formats it. Pure functions apart from
:func:`currency`, which reads the config once; no Streamlit call draws anything here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

NONE = "–"
MINUS = "−"

# -- column kinds ------------------------------------------------------------------------------

COUNTS = frozenset({
    "tickets", "negative_tickets", "open_tickets", "p1", "p2", "at_risk", "breached",
    "unassigned", "capacity", "assigned", "assigned_preview", "assigned_now", "reach",
    "customers_at_risk", "open", "over", "spike_days", "n", "surveys", "rank", "saved_rank",
    "moved_by", "severity", "exposed", "control", "csat_responses", "size", "support",
    "n_train", "n_holdout", "n_corrections", "waiting", "waiting_p1", "overflow", "folds",
    "attributed_tickets", "tickets_caused", "version", "free", "feedback_id", "queued",
})
MONEY = frozenset({
    "spend", "revenue", "support_cost", "value_at_risk", "lifetime_value", "incremental_cost",
    "support_cost_per_customer", "cost_per_ticket", "spend_full", "revenue_full",
    "support_cost_share", "margin_before_support", "net_after_support",
})
SHARES = frozenset({
    "negative_share", "sla_compliance", "utilization", "roi_after_support", "roi_before",
    "sampled_share", "category_confidence", "model_confidence", "confidence", "accuracy",
    "macro_f1", "share", "money_share", "f1", "precision", "recall", "probability",
})
SIGNED_SHARES = frozenset({"roi_after_support", "roi_before"})
SCORES = {"priority_score": "%.0f", "saved_score": "%.0f", "sentiment": "%+.2f",
          "mean_sentiment": "%+.2f", "teach_score": "%.2f", "weight": "%+.2f",
          "tickets_per_1000_reached": "%.1f", "incremental_per_1000": "%.1f",
          "peak_tickets": "%.1f", "expected_per_day": "%.1f", "credit": "%.2f",
          "incremental_tickets": "%,.0f", "ci_low": "%,.0f", "ci_high": "%,.0f",
          "incremental_negative": "%,.0f", "csat": "%.1f", "points": "%.1f"}
DATETIMES = frozenset({"created_at", "sla_due_at", "first_response_at", "resolved_at",
                       "undone_at", "trained_at", "activated_at", "touched_at", "period",
                       "first_response_due_at", "scored_at", "revoked_at"})
DATES = frozenset({"start_at", "end_at", "first_spike_day", "week", "day"})
# ids that helpdesks often number (Zendesk, Freshdesk): shown as whole numbers when every id of
# the column is one, so that sorting the column puts ticket 540 before ticket 1405
IDS = frozenset({"ticket_id", "customer_id", "agent_id", "assigned_agent", "campaign_id"})
_MAX_ID_DIGITS = 18  # fits an int64

LABELS: dict[str, str] = {
    "ticket_id": "Ticket", "created_at": "Created", "status": "Status", "channel": "Channel",
    "segment": "Segment", "category": "Category", "category_confidence": "Confidence",
    "sentiment": "Sentiment", "sentiment_label": "Sentiment label", "severity": "Severity",
    "priority_score": "Priority", "priority_tier": "Tier", "sla_due_at": "SLA due",
    "sla_status": "SLA state", "team": "Team", "agent_id": "Agent id", "agent": "Agent",
    "agent_name": "Agent", "name": "Name", "escalated": "Escalated",
    "escalation_reason": "Why it is an alert", "routing_reason": "Why routed here",
    "lifetime_value": "Customer lifetime value", "subject": "Subject", "body": "Message",
    "customer_id": "Customer", "language": "Language", "plan": "Plan", "csat": "CSAT",
    "campaign_id": "Campaign id", "campaign": "Campaign", "tickets": "Tickets",
    "negative_tickets": "Negative tickets", "negative_share": "Negative share",
    "mean_sentiment": "Mean sentiment", "support_cost": "Support cost",
    "roi_after_support": "ROI after support cost", "roi_before": "ROI before support cost",
    "value_at_risk": "Lifetime value of unhappy customers",
    "customers_at_risk": "Unhappy customers", "tickets_per_1000_reached":
        "Tickets per 1,000 reached", "spend": "Spend", "revenue": "Revenue",
    "reach": "Customers reached", "support_cost_per_customer": "Support cost per customer",
    "reason": "Why", "open_tickets": "Open tickets", "p1": "P1", "p2": "P2",
    "at_risk": "SLA at risk", "breached": "SLA breached", "unassigned": "Without agent",
    "capacity": "Capacity", "assigned": "Assigned", "assigned_preview": "Assigned (candidate)",
    "utilization": "Load", "over": "Over capacity by", "rank": "Rank under candidate",
    "saved_rank": "Rank now", "moved_by": "Places moved", "saved_score": "Priority now",
    "saved_tier": "Tier now", "due_in": "SLA due", "credit": "Credit",
    "start_at": "Launch", "end_at": "End", "first_spike_day": "First spike day",
    "spike_days": "Spike days", "peak_tickets": "Peak tickets per day",
    "expected_per_day": "Expected per day", "teach_score": "Teaching value",
    "why": "Why it is here", "predicted_category": "Predicted category",
    "model_confidence": "Model confidence", "feedback_id": "Correction #", "field": "Field",
    "old_value": "Was", "new_value": "Now", "author": "By", "comment": "Comment",
    "undone_at": "Undone at", "undone_by": "Undone by", "from_agent": "From agent",
    "to_agent": "To agent", "week": "Week", "n": "Count", "version": "Version",
    "kind": "Kind", "accuracy": "Accuracy", "macro_f1": "Macro-F1", "note": "Note",
    "source_priority": "Helpdesk priority", "first_response_at": "First response",
    "resolved_at": "Resolved", "handled_by": "Handled by", "spend_full": "Campaign spend",
    "revenue_full": "Campaign revenue", "money_share": "Share of spend in the filters",
    "cost_per_ticket": "Cost per ticket", "tier": "Tier", "base_cost": "Base cost",
    "multiplier": "Tier multiplier", "waiting": "Waiting without agent",
    "waiting_p1": "P1 waiting without agent", "at_or_below": "≤ threshold",
    "incremental_tickets": "Incremental tickets", "exposed": "Touched customers",
    "control": "Compared with", "sampled_share": "Sampled",
    "incremental_per_1000": "Per 1,000 touched", "incremental_negative": "Incremental negative",
    "incremental_cost": "Incremental support cost", "attributed_tickets": "Attributed tickets",
    "ci_low": "Interval low", "ci_high": "Interval high", "profile": "Profile",
    "period": "Period", "value": "Value", "label": "Label", "support": "Tickets",
    "f1": "F1", "precision": "Precision", "recall": "Recall", "candidate": "Candidate",
    "chosen": "Chosen", "folds": "Folds", "changes": "Changes", "rule": "Rule",
    "word": "Word", "probability": "Probability", "weight": "Weight",
}


def label(column: Any) -> str:
    """A column's human label (unknown columns: underscores to spaces, first letter capital)."""
    name = str(column)
    if name in LABELS:
        return LABELS[name]
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


# -- single values -----------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def currency() -> str:
    """The currency symbol of ``[dashboard] currency`` (validated; ``$`` by default)."""
    from dashboard import data

    return data.dashboard_settings().currency


def count(value: Any, none: str = NONE) -> str:
    """A whole count with thousands separators (fractional credits rounded)."""
    if _missing(value):
        return none
    return _signed(f"{abs(float(value)):,.0f}", float(value) < -0.5)


def money(value: Any, none: str = NONE, symbol: str | None = None) -> str:
    """Money with the currency symbol, whole units (``$114,350``; ``−$5,530``)."""
    if _missing(value):
        return none
    sym = currency() if symbol is None else symbol
    v = float(value)
    return _signed(f"{sym}{abs(v):,.0f}", v < -0.5)


def money_exact(value: Any, none: str = NONE, symbol: str | None = None) -> str:
    """Money with cents (per-ticket costs)."""
    if _missing(value):
        return none
    sym = currency() if symbol is None else symbol
    v = float(value)
    return _signed(f"{sym}{abs(v):,.2f}", v < -0.005)


def pct(share: Any, none: str = NONE, signed: bool = False) -> str:
    """A share (0..1) as a percentage with one decimal (``64.7 %``)."""
    if _missing(share):
        return none
    v = float(share) * 100
    text = f"{abs(v):,.1f} %"
    if signed and v > 0.05:
        return "+" + text
    return _signed(text, v < -0.05)


def number(value: Any, fmt: str = "{:,.1f}", none: str = NONE) -> str:
    if _missing(value):
        return none
    return fmt.format(value).replace("-", MINUS)


def _signed(text: str, negative: bool) -> str:
    return MINUS + text if negative else text


def duration(hours: Any, none: str = NONE) -> str:
    """A length of time in words: ``45 min``, ``3 h``, ``5 d`` (sign ignored)."""
    if _missing(hours):
        return none
    h = abs(float(hours))
    if h < 1:
        return f"{max(1, round(h * 60)):.0f} min"
    if h < 48:
        return f"{h:.0f} h" if h >= 10 else f"{h:.1f} h".replace(".0 h", " h")
    return f"{h / 24:,.0f} d"


MODEL_NAMES = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
               "time_decay": "Time decay", "position_based": "Position-based",
               "data_driven": "Data-driven (Markov)", "(none)": "(none)"}


def model_name(model: str) -> str:
    """An attribution model's name for people (``last_touch`` -> ``Last touch``)."""
    return MODEL_NAMES.get(model, model)


def ago(when: Any, now: Any = None, none: str = NONE) -> str:
    """How long ago ``when`` (a timestamp) was, in words: ``just now``, ``12 min ago``."""
    if _missing(when):
        return none
    then = pd.Timestamp(when)
    then = then.tz_localize("UTC") if then.tzinfo is None else then
    current = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    current = current.tz_localize("UTC") if current.tzinfo is None else current
    seconds = (current - then).total_seconds()
    return "just now" if seconds < 60 else f"{duration(seconds / 3600)} ago"


def due_in(hours: Any, none: str = NONE) -> str:
    """A countdown in words: ``in 3 h``, ``5 d overdue``, ``due now``."""
    if _missing(hours):
        return none
    h = float(hours)
    if abs(h) < 1 / 60:
        return "due now"
    return f"in {duration(h)}" if h > 0 else f"{duration(h)} overdue"


def due_texts(due: pd.Series, now: Any) -> pd.Series:
    """SLA countdowns of a column of due times against ``now`` (see :func:`due_in`)."""
    hours = (pd.to_datetime(due) - pd.Timestamp(now)).dt.total_seconds() / 3600
    return hours.map(due_in)


def agent_label(name: Any, agent_id: Any) -> str:
    """An agent as people know them: the name (the id when there is no name)."""
    if _missing(name) or not str(name).strip():
        return NONE if _missing(agent_id) else str(agent_id)
    return str(name)


# -- tables ------------------------------------------------------------------------------------

def column(col: str, help_text: str | None = None) -> Any:
    """The ``st.column_config`` entry of one column by its kind (see the sets above)."""
    lab = label(col)
    if col in MONEY:
        return st.column_config.NumberColumn(lab, format=f"{_printf(currency())}%,.0f",
                                             help=help_text)
    if col in SHARES:
        return st.column_config.NumberColumn(lab, format="%.1f %%", help=help_text)
    if col in SCORES:
        return st.column_config.NumberColumn(lab, format=SCORES[col], help=help_text)
    if col in COUNTS:
        return st.column_config.NumberColumn(lab, format="%,.0f", help=help_text)
    if col in DATETIMES:
        return st.column_config.DatetimeColumn(lab, format="YYYY-MM-DD HH:mm", help=help_text)
    if col in DATES:
        return st.column_config.DateColumn(lab, format="YYYY-MM-DD", help=help_text)
    return st.column_config.Column(lab, help=help_text)


def _printf(text: str) -> str:
    return text.replace("%", "%%")


# Bidirectional controls: a value holding one is shown without them (an override such as U+202E
# would show "C7\u202egpj.exe" as "C7exe.jpg": a label that lies about itself). The same table
# as triage_core.schema.BIDI (the terminal's tables use that one): a page imports no core module.
BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                              "\u2066\u2067\u2068\u2069\u061c"))


def without_bidi(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the bidirectional controls removed from its texts and column names (a
    copy where any was found; numbers, times and the index as they are)."""
    out = None
    for i in range(df.shape[1]):
        kind = df.dtypes.iloc[i]
        if not (pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind)):
            continue
        values = df.iloc[:, i]
        clean = values.map(lambda v: v.translate(BIDI) if isinstance(v, str) else v)
        if not clean.equals(values):
            out = df.copy() if out is None else out
            out.iloc[:, i] = clean
    names = [c.translate(BIDI) if isinstance(c, str) else c for c in df.columns]
    if names != list(df.columns):
        out = df.copy() if out is None else out
        out.columns = names
    return df if out is None else out


def table(df: pd.DataFrame, columns: Iterable[str] | None = None,
          helps: Mapping[str, str] | None = None,
          overrides: Mapping[str, Any] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``df`` (only ``columns``, in that order, when given) as a table shows it: shares scaled
    to percent, and the ``column_config`` with labels and formats for every column."""
    out = df if columns is None else df[[c for c in columns if c in df.columns]]
    out = without_bidi(out).copy()
    helps = helps or {}
    numbered = set()
    for col in out.columns:
        if col in SHARES and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(float) * 100
        elif col in IDS and (ids := numeric_ids(out[col])) is not None:
            out[col] = ids
            numbered.add(col)
    config = {str(c): column(str(c), helps.get(str(c))) for c in out.columns}
    for col in numbered:
        # wide enough for the header with its sort arrow and menu (numbers alone are narrow)
        config[str(col)] = st.column_config.NumberColumn(label(str(col)), format="%d",
                                                         help=helps.get(str(col)), width=100)
    config.update(overrides or {})
    return out, config


def numeric_ids(ids: pd.Series) -> pd.Series | None:
    """The ids as whole numbers (nullable Int64) when every present one is written as a plain
    number without leading zeros (``540``, ``1405``), so they sort as numbers; else None
    (``TK0001792``, ``007``, masked ids, an empty column)."""
    present = ids.dropna()
    if present.empty or pd.api.types.is_bool_dtype(present):
        return None
    if pd.api.types.is_integer_dtype(present):
        return ids.astype("Int64")
    text = present.astype(str)
    plain = text.str.fullmatch(rf"0|[1-9][0-9]{{0,{_MAX_ID_DIGITS - 1}}}", case=True)
    if not bool(plain.all()):
        return None
    return pd.to_numeric(ids.astype(object).where(ids.notna(), None)).astype("Int64")


def dataframe(df: pd.DataFrame, columns: Iterable[str] | None = None,
              helps: Mapping[str, str] | None = None,
              overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """``st.dataframe`` of ``df`` through :func:`table` (hidden index, full width)."""
    shown, config = table(df, columns, helps, overrides)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    kwargs.setdefault("placeholder", "–")  # a missing value, not Streamlit's "None"
    return st.dataframe(shown, column_config=config, **kwargs)


def for_people(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with human column headers (exports meant for people, not for re-import)."""
    out = df.copy()
    out.columns = [label(c) for c in out.columns]
    return out


def metric_delta(now: Any, before: Any, kind: str = "count") -> str | None:
    """The change against the previous period for ``st.metric``'s delta, in the metric's own
    unit (``+120``, ``−2.3 pts``, ``+1.5 h``); None when either side is missing."""
    if _missing(now) or _missing(before):
        return None
    d = float(now) - float(before)
    if d == 0:
        return None  # no arrow for no change
    if kind == "share":
        return f"{'+' if d >= 0 else MINUS}{abs(d) * 100:.1f} pts"
    if kind == "hours":
        return f"{'+' if d >= 0 else MINUS}{abs(d):.1f} h"
    if kind == "score":
        return f"{'+' if d >= 0 else MINUS}{abs(d):.2f}"
    return f"{'+' if d >= 0 else MINUS}{abs(d):,.0f}"


def finite(value: Any) -> bool:
    return not _missing(value) and math.isfinite(float(value))
