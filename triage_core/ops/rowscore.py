"""Scoring and routing of a few tickets in plain Python: the ticket intake's fast path.

:func:`triage_core.ops.scoring.score_frame` is vectorized for a million tickets; for the handful
that one API request brings, its fixed cost of pandas calls (tens of milliseconds) dominates.
:func:`score_rows` computes the same columns for a list of rows (dicts with the columns of
:data:`~triage_core.ops.scoring.SCORING_SQL`) with the same formulas, in the same order of
floating-point operations, and routes them with the same algorithm (pools, least-loaded agent
first, round robin among equals, same reason texts). ``tests/server/test_fast_path.py`` checks
that both give identical rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from triage_core.ops.priority import TIERS, PriorityProfile
from triage_core.ops.priority.score import NEUTRAL_VALUE, SLA_STATUSES
from triage_core.ops.routing.assign import _Agents, _language, pool_reason
from triage_core.ops.routing.rules import RoutingRules
from triage_core.schema import OPEN_STATUSES

_EPS = 1e-9
_US_PER_MINUTE = 60_000_000
_US_PER_HOUR = 60 * _US_PER_MINUTE
_EPOCH = dt.datetime(1970, 1, 1)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _float(v: Any) -> float:
    return math.nan if _missing(v) else float(v)


def _us(v: Any) -> int | None:
    """Microseconds since the epoch of a naive UTC time (None for missing)."""
    if _missing(v):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if v.tzinfo is not None:
        v = v.astimezone(dt.UTC).replace(tzinfo=None)
    delta = v - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


def _stored(ts: pd.Timestamp) -> dt.datetime:
    """A time in nanoseconds as DuckDB stores it in a TIMESTAMP column: rounded to the
    microsecond, half away from zero."""
    extra = ts.value % 1000  # nanoseconds past the microsecond below
    if extra:
        up = extra > 500 or (extra == 500 and ts.value > 0)
        ts = ts + pd.Timedelta(nanoseconds=1000 - extra if up else -extra)
    return ts.to_pydatetime()


def _key(v: Any) -> str | None:
    """How the vectorized code compares a text value: str(v).strip().lower()."""
    return None if _missing(v) else str(v).strip().lower()


def _tier(score: float, thresholds: tuple[float, float, float]) -> int:
    tier = 3
    for t in thresholds:
        tier -= score >= t - _EPS
    return tier


class Routing:
    """The agents with their open-ticket loads, as routing sees them (one per batch)."""

    def __init__(self, agents: _Agents, rules: RoutingRules,
                 load: list[int] | None = None) -> None:
        self.ag = agents
        self.rules = rules
        self.index = {a: i for i, a in enumerate(agents.ids)}
        self.load = load if load is not None else [int(x) for x in agents.load]
        self.capacity = [int(x) for x in agents.capacity]

    def eligible(self, team: str, skill: str, lang: str, senior: bool) -> list[int]:
        ag = self.ag
        return [i for i, (t, sk, la, se) in enumerate(zip(ag.teams, ag.skills, ag.languages,
                                                           ag.senior, strict=True))
                if t == team and (not skill or not ag.skills_known or skill in sk)
                and (not lang or lang in la) and (not senior or bool(se))]


def _score_one(row: Mapping[str, Any], profile: PriorityProfile, now: int,
               seg_boost: dict[str, float], camp_boost: dict[str, float],
               levels: dict[str, float]) -> dict[str, Any]:
    """priority.score for one row."""
    ltv = _float(row.get("ltv_percentile"))
    ltv_pct = ltv if math.isnan(ltv) else min(max(ltv, 0.0), 1.0)
    sentiment = _float(row.get("sentiment"))
    severity = _float(row.get("severity"))
    neg = -sentiment
    comp = {
        "sentiment": min(max(0.0 if math.isnan(neg) else neg, 0.0), 1.0),
        "value": NEUTRAL_VALUE if math.isnan(ltv_pct) else ltv_pct,
        "severity": min(max(0.0 if math.isnan(severity) else (severity - 1.0) / 3.0, 0.0),
                        1.0),
    }
    boost = 0.0
    if profile.segment_boost:
        boost = seg_boost.get(_key(row.get("segment")) or "", 0.0) if not _missing(
            row.get("segment")) else 0.0
    if profile.campaign_boost:
        camp = row.get("campaign_id")
        boost = max(boost, camp_boost.get(str(camp), 0.0) if not _missing(camp) else 0.0)
    comp["boost"] = boost
    src = row.get("source_priority")
    comp["source"] = (levels.get(_key(src) or "", 0.0) if profile.source_levels
                      and not _missing(src) else 0.0)
    w = profile.weights
    scale = 100.0 / w.total
    contrib = {k: (getattr(w, k) * scale) * v for k, v in comp.items()}
    base = sum(contrib.values())  # the same additions in the same order as score()
    created = _us(row["created_at"])
    is_open = _key(row.get("status")) in OPEN_STATUSES
    responded_at = _us(row.get("first_response_at"))
    resolution_clock = is_open and responded_at is not None
    # open: the clock runs until now; solved/closed: nobody waits, no wait points (as score())
    elapsed = float(now - created) if is_open else 0.0
    fr = [p.first_response_minutes * _US_PER_MINUTE for p in profile.sla]
    res = [p.resolution_hours * _US_PER_HOUR for p in profile.sla]
    w_wait = w.wait * 100.0 / w.total
    tier = _tier(base, profile.tier_thresholds)
    for _ in range(len(TIERS)):
        sla = res[tier] if resolution_clock else fr[tier]
        wait = w_wait * min(max(elapsed / sla, 0.0), 1.0)
        new_tier = _tier(base + wait, profile.tier_thresholds)
        if new_tier == tier:
            break
        tier = new_tier
    due = created + int(np.float64(sla).astype(np.int64))
    if not is_open:
        status = 3
    elif now > due:
        status = 2
    elif elapsed > profile.at_risk_fraction * sla:
        status = 1
    else:
        status = 0
    esc = profile.escalation
    general = sentiment <= esc.sentiment_threshold
    vip_by_ltv = ltv_pct >= esc.vip_ltv_percentile
    vip = sentiment <= esc.vip_sentiment_threshold
    segment_vip = _key(row.get("segment")) in esc.vip_segments
    by_segment = not general and vip and segment_vip
    by_ltv = not general and vip and not segment_vip and vip_by_ltv
    reason = None
    if general or by_segment or by_ltv:
        s = 0.0 if math.isnan(sentiment) else sentiment
        centi = min(max(math.floor(s * 100 + 1e-9), -100), 100)
        v = centi / 100
        reason = (f"sentiment {v:.2f} <= {esc.sentiment_threshold:g}" if general else
                  f"VIP segment: sentiment {v:.2f} <= {esc.vip_sentiment_threshold:g}"
                  if by_segment else
                  f"VIP (LTV percentile >= {esc.vip_ltv_percentile:g}): sentiment {v:.2f} <= "
                  f"{esc.vip_sentiment_threshold:g}")
    out = {"priority_score": base + wait, "priority_tier": TIERS[tier]}
    for k in ("sentiment", "value", "severity", "wait", "boost", "source"):
        out[f"contrib_{k}"] = wait if k == "wait" else contrib[k]
    out.update(sla_due_at=_time(due), sla_status=SLA_STATUSES[status],
               escalated=bool(general or by_segment or by_ltv), escalation_reason=reason)
    return out


def score_rows(rows: Sequence[Mapping[str, Any]], routing: Routing, profile: PriorityProfile,
               as_of: Any) -> list[dict[str, Any]]:
    """:func:`~triage_core.ops.scoring.score_frame` for a few rows: each row plus the scoring
    and routing columns (``routing.load`` grows with the tickets it assigns or keeps)."""
    now = _us(pd.Timestamp(as_of).to_pydatetime())
    seg_boost = dict(profile.segment_boost)
    camp_boost = dict(profile.campaign_boost)
    levels = dict(profile.source_levels)
    first_sla = {t: sla.first_response_minutes for t, sla in zip(TIERS, profile.sla,
                                                                  strict=True)}
    # the vectorized code's pd.to_timedelta of each tier's minutes, once per tier (None: it
    # has a part below a microsecond, which a Python timedelta cannot hold exactly)
    first_delta: dict[str, dt.timedelta | None] = {}
    for tier, minutes in first_sla.items():
        delta = pd.to_timedelta(float(minutes), unit="m")
        first_delta[tier] = None if delta.value % 1000 else delta.to_pytimedelta()
    out = []
    for row in rows:
        r = dict(row)
        r.update(_score_one(row, profile, now, seg_boost, camp_boost, levels))
        r["computed_tier"] = r["priority_tier"]
        if not _missing(r.get("tier_correction")):
            r["priority_tier"] = r["tier_correction"]
        tier = str(r["priority_tier"])
        minutes, delta = first_sla.get(tier), first_delta.get(tier)
        created = r["created_at"]
        r["first_response_due_at"] = (
            None if minutes is None or _missing(created)
            else created + delta if delta is not None and type(created) is dt.datetime
            else _stored(pd.Timestamp(created) + pd.to_timedelta(float(minutes), unit="m")))
        out.append(r)
    _route(out, routing)
    return out


def _route(rows: list[dict[str, Any]], routing: Routing) -> None:
    """routing.route for a few scored rows (fills team, agent_id, routing_reason/outcome)."""
    rules, ag = routing.rules, routing.ag
    load = routing.load
    queue = rules.triage_queue
    pending: list[int] = []
    for i, r in enumerate(rows):
        status = r.get("status")
        agent = None if _missing(r.get("agent_id")) else str(r["agent_id"])
        known = routing.index.get(agent) if agent is not None else None
        if _key(status) not in OPEN_STATUSES:
            r.update(routing_outcome="closed", agent_id=agent,
                     team=ag.teams[known] if known is not None else None,
                     routing_reason=f"{status if not _missing(status) else 'no status'}: "
                                    "not routed, keeps its agent")
        elif rules.keep_assigned and known is not None:
            load[known] += 1
            r.update(routing_outcome="kept", agent_id=agent, team=ag.teams[known],
                     routing_reason=f"already assigned to {agent}; kept")
        else:
            pending.append(i)
    pools: dict[tuple[str, str, str, bool], list[int]] = {}
    for i in pending:
        r = rows[i]
        conf = _float(r.get("category_confidence"))
        category = None if _missing(r.get("category")) else r["category"]
        rule = rules.rule(str(category)) if category is not None else None
        why = None
        if not conf >= rules.confidence_threshold:
            why = (f"no category confidence -> {queue}" if math.isnan(conf) else
                   f"confidence {(min(max(math.floor(conf * 100 + 1e-9), 0), 100)) / 100:.2f}"
                   f" < {rules.confidence_threshold:.2f} -> {queue}")
        elif category is None:
            why = f"no category -> {queue}"
        elif rule is None:
            why = f"no routing rule for category {category} -> {queue}"
        if why is not None:
            r.update(routing_outcome="triage", team=queue, agent_id=None, routing_reason=why)
            continue
        vip = _key(r.get("segment")) in rules.vip_segments
        lang = "" if _missing(r.get("language")) else _language(r["language"])
        lang = "" if lang == rules.default_language else lang
        team = rules.vip_team if vip else rule.team
        skill = rule.skill if rules.vip_require_skill or not vip else ""
        pools.setdefault((team, skill, lang, vip), []).append(i)
    elig = {p: routing.eligible(p[0], p[1], p[2], p[3] and rules.vip_senior_only)
            for p in pools}

    def free_slots(p: tuple[str, str, str, bool]) -> int:
        return sum(max(routing.capacity[a] - load[a], 0) for a in elig[p])

    for p in sorted(pools, key=lambda p: (p[2] == "", free_slots(p), p)):
        idx = pools[p]
        e = elig[p]
        free = [max(routing.capacity[a] - load[a], 0) for a in e]
        chosen = sorted(idx, key=lambda i: (_urgency(rows[i]), _us(rows[i]["created_at"]), i)
                        )[:sum(free)]
        slots = sorted((load[a] + j, a) for a, f in zip(e, free, strict=True) for j in range(f))
        for i, (level, a) in zip(chosen, slots, strict=False):
            r = rows[i]
            r.update(routing_outcome="assigned", agent_id=ag.ids[a], team=p[0],
                     routing_reason=f"{pool_reason(rules, r['category'], p)}; least-loaded agent "
                                    f"{ag.ids[a]} ({level}/{routing.capacity[a]})")
        for _, a in slots[:len(chosen)]:
            load[a] += 1
        if len(chosen) < len(idx):
            why = f"all {len(e)} suitable agents at capacity" if e else "no suitable agent"
            taken = set(chosen)
            for i in idx:
                if i not in taken:
                    rows[i].update(routing_outcome="overflow", agent_id=None,
                                   team=rules.overflow_queue,
                                   routing_reason=f"{pool_reason(rules, rows[i]['category'], p)};"
                                                  f" {why} -> {rules.overflow_queue}")


def _urgency(row: Mapping[str, Any]) -> float:
    """Negated priority (a missing one sorts last)."""
    p = _float(row.get("priority_score"))
    return math.inf if math.isnan(p) else -p


