"""Priority score 0-100, tiers P1-P4, SLA due times, SLA risk and escalations (vectorized).

The weights, tiers, SLAs and escalation thresholds come from a
:class:`~triage_core.ops.priority.profile.PriorityProfile`.

Score. ``score = 100 * sum_k(w_k * c_k) / sum_k(w_k)`` over six components, each in 0..1:

- ``sentiment``: ``max(0, -sentiment)`` (missing sentiment counts 0);
- ``value``: LTV percentile of the customer, the share of customers whose lifetime value is
  <= theirs (column ``ltv_percentile`` if given, else computed from ``lifetime_value`` over the
  distinct ``customer_id`` values of the frame, see :func:`ltv_percentile`); a customer without
  a lifetime value counts :data:`NEUTRAL_VALUE` (0.5) and is never VIP by value;
- ``severity``: ``(severity - 1) / 3`` (severity 1..4; missing counts 0);
- ``wait``: time elapsed / SLA of the running clock, clipped to 0..1 (below);
- ``boost``: ``max(segment boost, campaign boost)`` from the profile;
- ``source``: the helpdesk's own priority (column ``source_priority``, e.g. Low/High/Urgent),
  through the profile's ``source_levels`` (case-blind; unknown or missing counts 0). Its
  packaged weight is 0: the helpdesk's label is shown, and counts only where a lead wants it.

``contrib_<k> = 100 * w_k * c_k / sum(w)``, so the six ``contrib_*`` columns add up to
``priority_score``. Tiers: ``score >= P1`` -> P1, ``>= P2`` -> P2, ``>= P3`` -> P3, else P4
(compared with a 1e-9 tolerance so that a score computed as 74.99999999999999 is P1 at 75).

Wait and tier. The SLA the wait is measured against depends on the tier, which depends on the
score. It is resolved as a fixed point from below: tier the score without the wait term, add the
wait term measured against that tier's SLA, re-tier, repeat. SLAs may only shrink as tiers get
more urgent, so the score only rises and this stops after at most three upgrades. The final tier
is the one whose SLA the wait term used: ``contrib_wait``, ``sla_due_at`` and ``sla_status``
agree with ``priority_tier``.

SLA clock (``as_of`` is the time of scoring):

- open ticket (new/open/pending/on_hold) without a first response: due = created_at +
  first-response SLA, elapsed = as_of - created_at;
- open ticket already answered: due = created_at + resolution SLA, same elapsed;
- solved/closed ticket: due = created_at + first-response SLA, no wait term (nobody waits on
  a closed ticket: ``contrib_wait`` is 0), ``sla_status`` is ``closed``.

``sla_status`` of open tickets: ``breached`` when as_of > due, ``at_risk`` when elapsed >
``at_risk_fraction`` * SLA, else ``ok``. Escalation (computed for every ticket;
:func:`triage_core.ops.analytics.alerts` only reports open ones): sentiment <=
``sentiment_threshold``, or a VIP customer (segment in ``vip_segments`` or LTV percentile >=
``vip_ltv_percentile``) with sentiment <= ``vip_sentiment_threshold``.

Repetitive text columns (``priority_tier``, ``sla_status``, ``escalation_reason``) are pandas
Categoricals: cheap for a million rows; ``.astype(str)`` gives plain strings. For the fastest
re-scoring pass ``ltv_percentile`` (computed once over the customers table) and text columns
with few values (status, segment, campaign_id) as Categoricals: they are then not re-hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import TriageError
from triage_core.ops.columns import NAT, Columns, timestamps_us
from triage_core.ops.priority.profile import COMPONENTS, TIERS, PriorityProfile, default_profile
from triage_core.schema import OPEN_STATUSES

__all__ = ["CONTRIB_COLUMNS", "SLA_STATUSES", "ltv_percentile", "replay_tiers", "score",
           "sla_tables"]

SLA_STATUSES = ("ok", "at_risk", "breached", "closed")
CONTRIB_COLUMNS = tuple(f"contrib_{c}" for c in COMPONENTS)

_EPS = 1e-9
_US_PER_MINUTE = 60_000_000
_US_PER_HOUR = 60 * _US_PER_MINUTE


def _require(df: pd.DataFrame, columns: tuple[str, ...], who: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TriageError(f"{who}: missing column(s) {', '.join(missing)}")


def _floats(series: pd.Series, name: str) -> np.ndarray:
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TriageError(f"column {name!r} must be numeric") from None


def _instant_us(as_of: datetime | str | pd.Timestamp) -> int:
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise TriageError(f"as_of {as_of!r} is not a time") from None
    if ts is pd.NaT:
        raise TriageError("as_of must be a time, got NaT")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(ts.to_datetime64(), "us").astype(np.int64))


# The value component of a customer without a lifetime value: the middle of the customer base,
# so a helpdesk without LTV data gets no "everyone is VIP" (or "nobody matters") ranking.
NEUTRAL_VALUE = 0.5


def ltv_percentile(lifetime_value: pd.Series, customer_id: pd.Series | None = None) -> pd.Series:
    """Share of customers whose lifetime value is <= each row's (0..1), among the customers
    that have one; a missing LTV stays missing (neutral for priority, never VIP).

    With ``customer_id``, each customer counts once (the "customer base"); without it, every
    row counts. Same as SQL ``cume_dist() OVER (ORDER BY lifetime_value)`` over customers.
    """
    values = _floats(lifetime_value, "lifetime_value")
    base = values
    if customer_id is not None:
        base = values[~customer_id.duplicated().to_numpy()]
    base = np.sort(base[~np.isnan(base)])
    if base.size == 0:
        return pd.Series(np.nan, index=lifetime_value.index)
    # searchsorted on the sorted distinct values, not on every row: far fewer cache misses
    uniq, inverse = np.unique(values, return_inverse=True)
    pct = (np.searchsorted(base, uniq, side="right") / base.size)[inverse.ravel()]
    pct[np.isnan(values)] = np.nan
    return pd.Series(pct, index=lifetime_value.index)


def _tier_codes(score: np.ndarray, thresholds: tuple[float, float, float]) -> np.ndarray:
    """0 for P1 .. 3 for P4; a score within 1e-9 below a threshold counts as on it."""
    tier = np.full(score.shape, 3, dtype=np.int8)
    for t in thresholds:  # three comparisons beat searchsorted on a million rows
        tier -= score >= t - _EPS
    return tier


@dataclass(frozen=True)
class _Parts:
    """Per-ticket contributions (already in score points) without the wait term."""

    contrib: dict[str, np.ndarray]
    base: np.ndarray
    sentiment: np.ndarray
    ltv_pct: np.ndarray


def _components(df: pd.DataFrame, profile: PriorityProfile, cols: Columns) -> _Parts:
    _require(df, ("sentiment", "severity"), "score()")
    if "ltv_percentile" in df.columns:
        ltv_pct = np.clip(_floats(df["ltv_percentile"], "ltv_percentile"), 0, 1)
    elif "lifetime_value" in df.columns:
        ids = df["customer_id"] if "customer_id" in df.columns else None
        ltv_pct = ltv_percentile(df["lifetime_value"], ids).to_numpy()
    else:
        raise TriageError("score(): missing column ltv_percentile or lifetime_value")
    sentiment = _floats(df["sentiment"], "sentiment")
    severity = _floats(df["severity"], "severity")
    comp = {
        "sentiment": np.clip(np.nan_to_num(-sentiment), 0.0, 1.0),
        "value": np.where(np.isnan(ltv_pct), NEUTRAL_VALUE, ltv_pct),
        "severity": np.clip(np.nan_to_num((severity - 1.0) / 3.0), 0.0, 1.0),
    }
    boost = np.zeros(len(df))
    if profile.segment_boost and "segment" in df.columns:
        boost = cols.lookup("segment", dict(profile.segment_boost), lower=True)
    if profile.campaign_boost and "campaign_id" in df.columns:
        boost = np.maximum(boost, cols.lookup("campaign_id", dict(profile.campaign_boost),
                                              lower=False))
    comp["boost"] = boost
    comp["source"] = (cols.lookup("source_priority", dict(profile.source_levels), lower=True)
                      if profile.source_levels and "source_priority" in df.columns
                      else np.zeros(len(df)))
    scale = 100.0 / profile.weights.total
    contrib = {k: (getattr(profile.weights, k) * scale) * v for k, v in comp.items()}
    base = sum(v for k, v in contrib.items() if k != "wait")
    return _Parts(contrib, base, sentiment, ltv_pct)


def sla_tables(profile: PriorityProfile) -> tuple[np.ndarray, np.ndarray]:
    """First-response and resolution SLA per tier, in microseconds."""
    fr = np.array([p.first_response_minutes * _US_PER_MINUTE for p in profile.sla])
    res = np.array([p.resolution_hours * _US_PER_HOUR for p in profile.sla])
    return fr, res


def _resolve(parts: _Parts, profile: PriorityProfile, elapsed: np.ndarray,
             resolution_clock: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed point of tier <-> wait term (see module doc): (wait contribution, tier, SLA us)."""
    fr_us, res_us = sla_tables(profile)
    w_wait = profile.weights.wait * 100.0 / profile.weights.total
    tier = _tier_codes(parts.base, profile.tier_thresholds)
    for _ in range(len(TIERS)):
        sla_us = np.where(resolution_clock, res_us[tier], fr_us[tier])
        wait = w_wait * np.clip(elapsed / sla_us, 0.0, 1.0)
        new_tier = _tier_codes(parts.base + wait, profile.tier_thresholds)
        if np.array_equal(new_tier, tier):
            break
        tier = new_tier
    return wait, tier, sla_us


def replay_tiers(df: pd.DataFrame, profile: PriorityProfile) -> pd.DataFrame:
    """Tiers of historical tickets under ``profile``, for backtests.

    ``priority_score``/``priority_tier``/``sla_due_at``: as scored at arrival (wait term 0),
    with the first-response due time of that tier. ``response_tier``/``response_due_at``: what
    :func:`score` would have shown at the moment of the actual ``first_response_at`` (the wait
    term then counts; at arrival values when never answered). The first response was late iff
    ``first_response_at > response_due_at``.
    """
    _require(df, ("created_at",), "replay_tiers()")
    parts = _components(df, profile, Columns(df))
    created = timestamps_us(df["created_at"], "created_at")
    if "first_response_at" in df.columns:
        first = timestamps_us(df["first_response_at"], "first_response_at")
    else:
        first = np.full(len(df), NAT, dtype=np.int64)
    fr_us, _ = sla_tables(profile)
    tier = _tier_codes(parts.base, profile.tier_thresholds)
    elapsed = np.where((first != NAT) & (created != NAT), first - created, 0)
    _, resp_tier, resp_sla = _resolve(parts, profile, elapsed.astype(np.float64),
                                      np.zeros(len(df), dtype=bool))

    def due(sla: np.ndarray) -> np.ndarray:
        return np.where(created == NAT, NAT, created + sla.astype(np.int64)).view(
            "datetime64[us]")

    return pd.DataFrame({
        "priority_score": parts.base,
        "priority_tier": pd.Categorical.from_codes(tier, categories=TIERS, ordered=True),
        "sla_due_at": due(fr_us[tier]),
        "response_tier": pd.Categorical.from_codes(resp_tier, categories=TIERS, ordered=True),
        "response_due_at": due(resp_sla),
    }, index=df.index)


def _escalation_reasons(parts: _Parts, segment_vip: np.ndarray, profile: PriorityProfile,
                        ) -> tuple[np.ndarray, pd.Categorical]:
    esc = profile.escalation
    s = parts.sentiment
    general = s <= esc.sentiment_threshold  # NaN compares False
    vip_by_ltv = parts.ltv_pct >= esc.vip_ltv_percentile
    vip = s <= esc.vip_sentiment_threshold
    by_segment = ~general & vip & segment_vip
    by_ltv = ~general & vip & ~segment_vip & vip_by_ltv
    escalated = general | by_segment | by_ltv
    # Reason text shows the sentiment floored to 2 decimals (so it never looks above the
    # threshold): one category per (kind, centi-sentiment) instead of a string per row.
    kind = np.where(general, 0, np.where(by_segment, 1, 2))
    centi = np.floor(np.nan_to_num(s) * 100 + 1e-9).astype(np.int64).clip(-100, 100) + 100
    codes = np.where(escalated, kind * 201 + centi, -1)
    used = np.unique(codes[escalated])
    templates = (
        f"sentiment {{v:.2f}} <= {esc.sentiment_threshold:g}",
        f"VIP segment: sentiment {{v:.2f}} <= {esc.vip_sentiment_threshold:g}",
        f"VIP (LTV percentile >= {esc.vip_ltv_percentile:g}): sentiment {{v:.2f}} <= "
        f"{esc.vip_sentiment_threshold:g}",
    )
    labels = [templates[c // 201].format(v=(c % 201 - 100) / 100) for c in used]
    remap = np.full(3 * 201, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    reason = pd.Categorical.from_codes(np.where(escalated, remap[codes.clip(0)], -1),
                                       categories=labels)
    return escalated, reason


def score(df: pd.DataFrame, profile: PriorityProfile | None = None,
          as_of: datetime | str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Score, tier, SLA and escalate every ticket; returns ``df`` plus the result columns.

    Needs ticket_id, created_at, status, sentiment, severity and ltv_percentile or
    lifetime_value; uses segment, campaign_id, customer_id, first_response_at when present.
    Adds priority_score, priority_tier, contrib_{sentiment,value,severity,wait,boost,source},
    sla_due_at, sla_status, escalated, escalation_reason. ``as_of`` defaults to now (UTC).
    ``df`` is not modified.
    """
    profile = profile or default_profile()
    _require(df, ("ticket_id", "created_at", "status"), "score()")
    now = _instant_us(as_of if as_of is not None else pd.Timestamp.now(tz="UTC"))
    cols = Columns(df)
    parts = _components(df, profile, cols)
    created = timestamps_us(df["created_at"], "created_at")
    if (created == NAT).any():
        first = df["ticket_id"].iloc[int(np.argmax(created == NAT))]
        raise TriageError(f"score(): created_at is missing for ticket {first!r}")
    is_open = cols.in_set("status", OPEN_STATUSES)
    if "first_response_at" in df.columns:
        responded_at = timestamps_us(df["first_response_at"], "first_response_at")
    else:
        responded_at = np.full(len(df), NAT, dtype=np.int64)
    responded = responded_at != NAT
    resolution_clock = is_open & responded

    # Elapsed time of the running clock: open -> until as_of; closed -> none (no wait points).
    elapsed = np.where(is_open, now - created, 0)
    elapsed = elapsed.astype(np.float64)
    wait, tier, sla_us = _resolve(parts, profile, elapsed, resolution_clock)
    total = parts.base + wait

    due = created + sla_us.astype(np.int64)
    status = np.where(
        ~is_open, 3,
        np.where(now > due, 2, np.where(elapsed > profile.at_risk_fraction * sla_us, 1, 0)),
    ).astype(np.int8)
    segment_vip = cols.in_set("segment", profile.escalation.vip_segments)
    escalated, reason = _escalation_reasons(parts, segment_vip, profile)

    index = df.index
    out: dict[str, Any] = {
        "priority_score": pd.Series(total, index=index),
        "priority_tier": pd.Series(pd.Categorical.from_codes(tier, categories=TIERS,
                                                             ordered=True), index=index),
    }
    for comp, col in zip(COMPONENTS, CONTRIB_COLUMNS, strict=True):
        out[col] = pd.Series(wait if comp == "wait" else parts.contrib[comp], index=index)
    out["sla_due_at"] = pd.Series(due.view("datetime64[us]"), index=index)
    out["sla_status"] = pd.Series(pd.Categorical.from_codes(status, categories=SLA_STATUSES),
                                  index=index)
    out["escalated"] = pd.Series(escalated, index=index)
    out["escalation_reason"] = pd.Series(reason, index=index)
    return df.assign(**out)
