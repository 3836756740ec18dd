"""Backtest: replay historical tickets under a routing rule set and a priority profile.

Replay (:func:`backtest` on a frame of tickets; :func:`replay` on the stored tickets of the
last days, for ``triage backtest``):

1. Every ticket is scored as at its arrival (wait term 0, :func:`priority.replay_tiers`): this
   replayed tier orders the routing and is what ``tier_counts`` counts.
2. Tickets are routed window by window in arrival order (default one day, aligned to midnight
   UTC) with :func:`routing.route`, as if new and unassigned. An agent's load at a window's
   start is the replayed tickets it still holds then: a ticket is held from ``created_at`` until
   ``resolved_at`` (when given), else until ``created_at`` + the resolution SLA of its replayed
   tier. Within a window the usual priority / least-loaded / capacity rules apply.

Metrics (``BacktestResult.metrics``, JSON-friendly; None when there is nothing to measure):

- ``team_accuracy``: among tickets whose historical ``agent_id`` is in the agents table (so the
  team that handled them is known, ``team_evaluable`` of them), the share whose rule team
  (:func:`routing.rule_teams`: the team the rules pick, before capacity; ``triage_queue``
  counts as a miss) equals that team.
- ``assigned_share``, ``overflow_share``, ``triage_share``: outcome of the replay.
- workload per agent (``BacktestResult.workload``: assigned, peak_load): ``workload_max``,
  ``workload_min``, ``workload_mean`` of tickets assigned per agent (agents with capacity > 0)
  and ``balance_index`` = 1 - Gini of assigned / capacity over those agents: 1 when every agent
  got the same share of its capacity, towards 0 when one agent got everything.
- ``sla_breaches``: tickets whose actual ``first_response_at`` came after their first-response
  due time under the profile, i.e. after ``created_at`` + the first-response SLA of the tier the
  ticket had reached by then (the wait term raises the tier while a ticket waits, exactly as
  :func:`priority.score` does live); ``breach_rate`` = breaches / tickets with a first response
  (``sla_evaluable``).
- ``tier_counts``: tickets per tier at arrival, P1..P4.

:func:`compare` puts two results side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import TriageError
from triage_core.ops import scoring
from triage_core.ops.columns import NAT, timestamps_us
from triage_core.ops.priority import (
    TIERS,
    PriorityProfile,
    default_profile,
    replay_tiers,
    sla_tables,
)
from triage_core.ops.routing import OUTCOMES, RoutingRules, default_rules, route, rule_teams
from triage_core.store import Store

_ROUTE_COLUMNS = ("ticket_id", "created_at", "category", "category_confidence", "segment",
                  "language")


@dataclass(frozen=True)
class BacktestResult:
    """Outcome of one replay; ``to_dict()`` is JSON-ready."""

    label: str
    metrics: dict[str, float | int | None]
    tier_counts: dict[str, int]
    workload: pd.DataFrame = field(repr=False)  # agent_id, team, capacity, assigned, peak_load
    tickets: pd.DataFrame = field(repr=False)  # per-ticket replay

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "metrics": dict(self.metrics),
            "tier_counts": dict(self.tier_counts),
            "workload": [
                {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
                for row in self.workload.to_dict(orient="records")
            ],
        }


def gini(values: np.ndarray) -> float | None:
    """Gini coefficient of non-negative values (0 = all equal); None if they sum to 0."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = x.size, x.sum()
    if n == 0 or total <= 0:
        return None
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.sum(ranks * x) / (n * total) - (n + 1) / n)


def _share(mask: np.ndarray, n: int) -> float | None:
    return float(mask.sum() / n) if n else None


def backtest(history: pd.DataFrame, agents: pd.DataFrame, rules: RoutingRules | None = None,
             profile: PriorityProfile | None = None, *, window: str = "1D",
             label: str | None = None) -> BacktestResult:
    """Replay ``history`` (tickets with created_at, sentiment, severity, ltv_percentile or
    lifetime_value, and optionally category, category_confidence, segment, language,
    agent_id, first_response_at, resolved_at) under ``rules`` and ``profile``."""
    rules = rules or default_rules()
    profile = profile or default_profile()
    window_us = _window_us(window)
    if "created_at" not in history.columns:
        raise TriageError("backtest: history is missing column created_at")
    hist = history.reset_index(drop=True)
    arrival = replay_tiers(hist, profile)
    created = timestamps_us(hist["created_at"], "created_at")
    if (created == NAT).any():
        raise TriageError("backtest: created_at is missing for some tickets")
    tier = arrival["priority_tier"].cat.codes.to_numpy()
    release = _release_times(hist, profile, tier, created)
    replayed = _replay_routing(hist, agents, rules, arrival, created, release, window_us)
    team_of = dict(zip(agents["agent_id"].astype(str), agents["team"].astype(str), strict=True))
    actual = _actual_teams(hist, team_of)
    planned = rule_teams(hist, rules)
    if "first_response_at" in hist.columns:
        first = timestamps_us(hist["first_response_at"], "first_response_at")
    else:
        first = np.full(len(hist), NAT, dtype=np.int64)
    due = arrival["response_due_at"].to_numpy(dtype="datetime64[us]").view(np.int64)
    breached = (first != NAT) & (first > due)
    workload = _workload(agents, team_of, replayed)
    metrics = _metrics(replayed, workload, actual, planned, first != NAT, breached)
    tier_counts = {t: int((tier == i).sum()) for i, t in enumerate(TIERS)}
    tickets = pd.DataFrame({
        "ticket_id": hist["ticket_id"] if "ticket_id" in hist.columns else np.arange(len(hist)),
        "priority_score": arrival["priority_score"].to_numpy(),
        "priority_tier": arrival["priority_tier"].to_numpy(),
        "sla_due_at": arrival["sla_due_at"].to_numpy(),
        "response_tier": arrival["response_tier"].to_numpy(),
        "response_due_at": arrival["response_due_at"].to_numpy(),
        "rule_team": planned.to_numpy(dtype=object),
        "actual_team": actual.to_numpy(dtype=object),
        "team": replayed.team,
        "agent_id": np.array([*replayed.agent_ids, None], dtype=object)[replayed.held],
        "routing_outcome": np.array(OUTCOMES, dtype=object)[replayed.outcome],
        "sla_breached": breached,
    })
    return BacktestResult(label or profile.name, metrics, tier_counts, workload, tickets)


def _window_us(window: str) -> int:
    try:
        window_us = int(pd.Timedelta(window) / pd.Timedelta(microseconds=1))
    except ValueError:
        raise TriageError(f"backtest: window {window!r} is not a duration like '1D' or "
                          "'4h'") from None
    if window_us <= 0:
        raise TriageError(f"backtest: window must be positive, got {window!r}")
    return window_us


def _release_times(hist: pd.DataFrame, profile: PriorityProfile, tier: np.ndarray,
                   created: np.ndarray) -> np.ndarray:
    """When each ticket frees its agent's slot: resolved_at when given, else created_at + the
    resolution SLA of its tier at arrival."""
    _, res_us = sla_tables(profile)
    release = created + res_us[tier].astype(np.int64)
    if "resolved_at" in hist.columns:
        resolved = timestamps_us(hist["resolved_at"], "resolved_at")
        release = np.where((resolved != NAT) & (resolved >= created), resolved, release)
    return release


@dataclass(frozen=True)
class _Replay:
    """The routing replay: per ticket, the agent that held it (index into ``agent_ids``, -1
    none), its outcome (index into OUTCOMES) and team; per agent, the peak load."""

    agent_ids: list[str]
    held: np.ndarray
    outcome: np.ndarray
    team: np.ndarray
    peak: np.ndarray


def _replay_routing(hist: pd.DataFrame, agents: pd.DataFrame, rules: RoutingRules,
                    arrival: pd.DataFrame, created: np.ndarray, release: np.ndarray,
                    window_us: int) -> _Replay:
    """Route the tickets window by window, as new and unassigned, each window starting from
    the loads of the tickets still held (not yet released) at its start."""
    n = len(hist)
    agent_ids = sorted(str(a) for a in agents["agent_id"])
    pos_of = {a: i for i, a in enumerate(agent_ids)}
    base_agents = agents.drop(columns=[c for c in ("current_load",) if c in agents.columns])
    frame = hist[[c for c in _ROUTE_COLUMNS if c in hist.columns]].assign(
        status="new", priority_score=arrival["priority_score"].to_numpy())
    held = np.full(n, -1, dtype=np.int64)
    outcome = np.full(n, -1, dtype=np.int64)
    team = np.empty(n, dtype=object)
    peak = np.zeros(len(agent_ids), dtype=np.int64)
    win = created // window_us
    order = np.argsort(win, kind="stable")
    cuts = np.flatnonzero(np.diff(win[order])) + 1
    for rows in np.split(order, cuts) if n else []:
        start = int(win[rows[0]]) * window_us
        active = (held >= 0) & (release > start)
        load = np.bincount(held[active], minlength=len(agent_ids))
        loads = base_agents["agent_id"].astype(str).map(dict(zip(agent_ids, load.tolist(),
                                                                 strict=True)))
        routed = route(frame.iloc[rows], base_agents.assign(current_load=loads.to_numpy()),
                       rules)
        got = routed["agent_id"].astype(object).map(pos_of)
        held[rows] = got.fillna(-1).to_numpy(dtype=np.int64)
        outcome[rows] = routed["routing_outcome"].cat.codes.to_numpy()
        team[rows] = routed["team"].astype(object).to_numpy()
        peak = np.maximum(peak, load + np.bincount(held[rows][held[rows] >= 0],
                                                   minlength=len(agent_ids)))
    return _Replay(agent_ids, held, outcome, team, peak)


def _actual_teams(hist: pd.DataFrame, team_of: Mapping[str, str]) -> pd.Series:
    """The team of each ticket's historical agent (None when unknown)."""
    if "agent_id" not in hist.columns:
        return pd.Series([None] * len(hist), dtype=object)
    return hist["agent_id"].astype(object).map(
        lambda a: team_of.get(str(a)) if pd.notna(a) else None)


def _workload(agents: pd.DataFrame, team_of: Mapping[str, str],
              replayed: _Replay) -> pd.DataFrame:
    """Per agent: agent_id, team, capacity, tickets assigned in the replay, peak load."""
    ids = replayed.agent_ids
    capacity = agents.set_index(agents["agent_id"].astype(str))["capacity"]
    held = replayed.held
    return pd.DataFrame({
        "agent_id": ids,
        "team": [team_of[a] for a in ids],
        "capacity": [int(capacity[a]) for a in ids],
        "assigned": np.bincount(held[held >= 0], minlength=len(ids)),
        "peak_load": replayed.peak,
    })


def _metrics(replayed: _Replay, workload: pd.DataFrame, actual: pd.Series, planned: pd.Series,
             responded: np.ndarray, breached: np.ndarray) -> dict[str, float | int | None]:
    """The metrics of the module doc (JSON-friendly; None when there is nothing to measure)."""
    n = len(replayed.held)
    evaluable = actual.notna().to_numpy()
    correct = evaluable & (planned.to_numpy(dtype=object) == actual.to_numpy(dtype=object))
    staffed = workload[workload["capacity"] > 0]
    g = gini((staffed["assigned"] / staffed["capacity"]).to_numpy())
    outcome = replayed.outcome
    return {
        "tickets": n,
        "team_evaluable": int(evaluable.sum()),
        "team_accuracy": (float(correct.sum() / evaluable.sum()) if evaluable.any() else None),
        "assigned_share": _share(outcome == OUTCOMES.index("assigned"), n),
        "overflow_share": _share(outcome == OUTCOMES.index("overflow"), n),
        "triage_share": _share(outcome == OUTCOMES.index("triage"), n),
        "sla_evaluable": int(responded.sum()),
        "sla_breaches": int(breached.sum()),
        "breach_rate": (float(breached.sum() / responded.sum()) if responded.any() else None),
        "workload_max": int(staffed["assigned"].max()) if len(staffed) else None,
        "workload_min": int(staffed["assigned"].min()) if len(staffed) else None,
        "workload_mean": float(staffed["assigned"].mean()) if len(staffed) else None,
        "balance_index": None if g is None else 1.0 - g,
    }


def compare(a: BacktestResult, b: BacktestResult) -> pd.DataFrame:
    """Two replays side by side: one row per metric (tier counts as ``tier_P1``..), columns
    ``metric``, ``<a.label>``, ``<b.label>``, ``delta`` (b - a). ``.to_dict("records")`` is
    JSON-ready (missing values are None)."""
    name_a, name_b = (a.label, b.label) if a.label != b.label else \
        (f"{a.label} (a)", f"{b.label} (b)")
    rows = []
    for key in a.metrics:
        rows.append((key, a.metrics[key], b.metrics.get(key)))
    for t in TIERS:
        rows.append((f"tier_{t}", a.tier_counts.get(t, 0), b.tier_counts.get(t, 0)))
    out = pd.DataFrame(rows, columns=["metric", name_a, name_b], dtype=object)
    # (object: a difference of counts stays a whole number beside those of shares)
    out["delta"] = pd.Series([
        (vb - va) if va is not None and vb is not None else None
        for _, va, vb in rows
    ], dtype=object, index=out.index)
    return out


def replay(store: Store, config: Mapping[str, Any], profile: str, vs: str | None = None,
           days: int = 30) -> dict[str, Any]:
    """Replay the stored tickets of the last ``days`` (up to the newest ticket) under the
    profile called ``profile`` and, with ``vs``, a second one (``triage backtest``)."""
    if days <= 0:
        raise TriageError("--days must be positive")
    frame = scoring.scoring_frame(store, lookback_days=scoring.lookback_days(config))
    if frame.empty:
        raise TriageError("no tickets to replay")
    end = scoring.data_time(store)
    history = frame[frame["created_at"] >= pd.Timestamp(end) - pd.Timedelta(days=days)]
    history = history.assign(agent_id=history["handled_by"])
    agents = store.query("SELECT * FROM agents")
    rules = scoring.rules(config)
    results = {}
    for name in [profile] + ([vs] if vs else []):
        prof = scoring.load_profile(store, config, name)
        results[name] = backtest(history, agents, rules, prof, label=name)
    out: dict[str, Any] = {"days": days, "tickets": len(history),
                           "profiles": {k: v.to_dict() for k, v in results.items()}}
    if vs:
        out["comparison"] = compare(results[profile], results[vs]).to_dict("records")
    return out
