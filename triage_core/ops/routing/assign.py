"""Routing: open tickets to a team and an agent, capacity-aware, vectorized.

The rules are a :class:`~triage_core.ops.routing.rules.RoutingRules` (``[routing]`` config).

Decision for each ticket (``route``):

1. solved/closed tickets are not routed: they keep their historical ``agent_id`` (outcome
   ``closed``). Open tickets (new/open/pending/on_hold) already assigned to a known agent keep
   that agent when ``keep_assigned`` is true (outcome ``kept``) and count toward the agent's load.
2. ``category_confidence`` below ``confidence_threshold`` (or missing) -> ``triage_queue``; a
   missing category or one without a rule -> ``triage_queue`` (outcome ``triage``).
3. The rule picks a *pool*: (team, skill, language, VIP). A VIP segment goes to ``vip.team``
   (senior agents only if ``vip.senior_only``; the category skill only if ``vip.require_skill``),
   every other ticket to ``categories.<category>.team`` needing ``categories.<category>.skill``.
   A language other than ``default_language`` needs an agent who lists it in ``languages``
   (``en-US`` counts as ``en``; an agent with no languages speaks ``default_language``).
   When the agents table has no ``skills`` column, skills are not checked.
4. Assignment inside a pool (outcome ``assigned``), or ``overflow_queue`` (outcome ``overflow``).

Assignment algorithm (vectorized; a Python loop runs over pools, never over tickets):

- Agents are ordered by ``agent_id``; an agent's load starts at ``current_load`` (open tickets
  held outside ``df``, default 0) plus tickets kept in step 1. Free slots = capacity - load
  (never negative: an agent already over capacity gets nothing).
- Pools are processed one after the other, sharing the agents' loads: pools that need a
  language first (they depend on the scarcest people), then by the free capacity of their
  suitable agents, smallest first, so the general pools use what the specific ones left.
- Within a pool, tickets are ranked by ``priority_score`` (high first), then ``created_at``
  (old first), then row order. Each suitable agent contributes one slot per free place, tagged
  with the load level it would reach from (load, load+1, ..., capacity-1). Slots ordered by
  (level, agent order) are exactly "least loaded first, round robin among equals". The i-th
  ticket takes the i-th slot; tickets beyond the last slot overflow. Only the k best tickets
  (k = free slots) are sorted (``np.partition`` + a sort of k); the rest overflow unsorted.
- So no agent ever goes above capacity: an agent contributes at most capacity - load slots.

``routing_reason`` names the rule, the agent and its load before this ticket over its
capacity, e.g. ``category billing -> billing_team; skill billing; least-loaded agent A12
(3/10)`` or ``confidence 0.41 < 0.50 -> triage_queue``. Text columns (team, agent_id,
routing_reason, routing_outcome) are pandas Categoricals (cheap for a million rows; DuckDB
reads them as ENUM, so insert them into VARCHAR columns or ``.astype(str)`` them first).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import TriageError
from triage_core.models.language import primary
from triage_core.ops.columns import Columns, timestamps_us
from triage_core.ops.routing.rules import RoutingRules, default_rules
from triage_core.schema import OPEN_STATUSES

__all__ = ["OUTCOMES", "agent_loads", "route", "rule_teams"]

OUTCOMES = ("assigned", "kept", "overflow", "triage", "closed")
_ASSIGNED, _KEPT, _OVERFLOW, _TRIAGE, _CLOSED = range(len(OUTCOMES))


# --------------------------------------------------------------------------- agents


def _split(value: Any) -> frozenset[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return frozenset()
    return frozenset(p.strip().lower() for p in str(value).split(";") if p.strip())


def _language(value: Any) -> str:
    return primary(value)


@dataclass(frozen=True)
class _Agents:
    ids: list[str]
    teams: list[str]
    skills: list[frozenset[str]]
    languages: list[frozenset[str]]
    senior: np.ndarray  # bool
    capacity: np.ndarray  # int64
    load: np.ndarray  # int64, initial load (current_load)
    skills_known: bool

    @classmethod
    def from_frame(cls, agents: pd.DataFrame, rules: RoutingRules) -> _Agents:
        missing = [c for c in ("agent_id", "team", "capacity") if c not in agents.columns]
        if missing:
            raise TriageError(f"agents: missing column(s) {', '.join(missing)}")
        a = agents.sort_values("agent_id", kind="stable")
        ids = [str(x) for x in a["agent_id"]]
        dup = pd.Series(ids).duplicated()
        if dup.any():
            raise TriageError(f"agents: agent_id {ids[int(dup.idxmax())]!r} appears twice")
        capacity = _counts(a, "capacity", ids)
        load = _counts(a, "current_load", ids) if "current_load" in a.columns else \
            np.zeros(len(ids), dtype=np.int64)
        default = frozenset({rules.default_language})
        langs = ([frozenset(_language(x) for x in _split(v)) or default
                  for v in a["languages"]] if "languages" in a.columns else [default] * len(ids))
        skills = ([_split(v) for v in a["skills"]] if "skills" in a.columns
                  else [frozenset()] * len(ids))
        if "senior" in a.columns:
            senior = np.array([str(v).strip().lower() in ("1", "1.0", "true", "yes")
                               for v in a["senior"]], dtype=bool)
        else:
            senior = np.zeros(len(ids), dtype=bool)
        return cls(ids, [str(t) for t in a["team"]], skills, langs, senior, capacity, load,
                   "skills" in a.columns)

    def eligible(self, team: str, skill: str, lang: str, senior: bool) -> np.ndarray:
        """Agents of ``team`` with ``skill`` ("" = any), ``lang`` ("" = any), senior if asked."""
        return np.array([
            t == team
            and (not skill or not self.skills_known or skill in sk)
            and (not lang or lang in la)
            and (not senior or bool(se))
            for t, sk, la, se in zip(self.teams, self.skills, self.languages, self.senior,
                                     strict=True)
        ], dtype=bool)


def _counts(a: pd.DataFrame, column: str, ids: list[str]) -> np.ndarray:
    values = pd.to_numeric(a[column], errors="coerce").to_numpy(dtype=np.float64,
                                                                 na_value=np.nan)
    if column == "current_load":
        values = np.nan_to_num(values)
    bad = np.isnan(values) | (values < 0) | (values != np.floor(values))
    if bad.any():
        i = int(np.argmax(bad))
        raise TriageError(f"agents: {column} of agent {ids[i]!r} must be a whole number >= 0, "
                          f"got {a[column].iloc[i]!r}")
    return values.astype(np.int64)


# --------------------------------------------------------------------------- decisions


class _Labels:
    """Interned strings -> category codes (one Categorical instead of a string per row)."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self.items: list[str] = []

    def code(self, label: str) -> int:
        if label not in self._index:
            self._index[label] = len(self.items)
            self.items.append(label)
        return self._index[label]

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.items, dtype=object))


def _label_rows(keys: np.ndarray, size: int, make: Callable[[int], str],
                labels: _Labels) -> np.ndarray:
    """Label code per row for small int keys in 0..size-1, building each text once."""
    table = np.full(size, -1, dtype=np.int64)
    for k in np.flatnonzero(np.bincount(keys, minlength=size)):
        table[k] = labels.code(make(int(k)))
    return table[keys]


@dataclass(frozen=True)
class _Decision:
    """What the rules say for every row, before capacity: pool per ticket or a triage reason."""

    pool: np.ndarray  # pool index per row, -1 = triage
    pools: list[tuple[str, str, str, bool]]  # (team, skill, language, vip)
    triage_reason: np.ndarray  # label code per row into `labels`, -1 = not triaged
    labels: _Labels
    category: np.ndarray  # category code per row (-1 missing)
    categories: list[str]


def _decide(df: pd.DataFrame, rules: RoutingRules, cols: Columns) -> _Decision:
    n = len(df)
    labels = _Labels()
    triage = np.full(n, -1, dtype=np.int64)
    cat_codes, cat_uniques = cols.factor("category")
    categories = [str(c) for c in cat_uniques]
    queue = rules.triage_queue
    # 1. confidence: bucket 0 = missing, 1 + floor(100 * confidence) otherwise
    if "category_confidence" in df.columns:
        conf = pd.to_numeric(df["category_confidence"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan)
        low = ~(conf >= rules.confidence_threshold)
        bucket = np.where(np.isnan(conf), 0,
                          np.floor(np.nan_to_num(conf) * 100 + 1e-9).clip(0, 100) + 1)
        triage[low] = _label_rows(
            bucket[low].astype(np.int64), 102,
            lambda b: (f"no category confidence -> {queue}" if b == 0 else
                       f"confidence {(b - 1) / 100:.2f} < {rules.confidence_threshold:.2f} "
                       f"-> {queue}"),
            labels)
    # 2. category rules (code -1 = missing category -> key 0)
    rule_of = [rules.rule(c) for c in categories]
    no_rule = np.array([r is None for r in rule_of] + [True])[cat_codes] & (triage < 0)
    triage[no_rule] = _label_rows(
        cat_codes[no_rule] + 1, len(categories) + 1,
        lambda k: (f"no category -> {queue}" if k == 0 else
                   f"no routing rule for category {categories[k - 1]} -> {queue}"),
        labels)
    # 3. pool = (team, skill, language, vip), as one small integer key per ticket
    vip = cols.in_set("segment", rules.vip_segments)
    lang_codes, lang_uniques = cols.factor("language")
    lang_names = [_language(u) for u in lang_uniques]
    lang_names = ["" if x == rules.default_language else x for x in lang_names] + [""]
    teams = sorted({r.team for r in rule_of if r is not None} | {rules.vip_team})
    skills = sorted({r.skill for r in rule_of if r is not None} | {""})
    langs = sorted(set(lang_names))
    t_of = {t: i for i, t in enumerate(teams)}
    s_of = {x: i for i, x in enumerate(skills)}
    l_of = {x: i for i, x in enumerate(langs)}
    cat_team = np.array([t_of[r.team] if r else 0 for r in rule_of] + [0])[cat_codes]
    cat_skill = np.array([s_of[r.skill] if r else 0 for r in rule_of] + [0])[cat_codes]
    lang = np.array([l_of[x] for x in lang_names])[lang_codes]
    team = np.where(vip, t_of[rules.vip_team], cat_team)
    skill = cat_skill if rules.vip_require_skill else np.where(vip, s_of[""], cat_skill)
    n_s, n_l = len(skills), len(langs)
    key = ((team * n_s + skill) * n_l + lang) * 2 + vip
    key = np.where(triage < 0, key, -1)
    if len(teams) * n_s * n_l * 2 <= 4_000_000:  # small key range: counting beats sorting
        present = np.flatnonzero(np.bincount(key[key >= 0], minlength=1))
    else:
        present = np.unique(key[key >= 0])
    lookup = np.full(int(present.max()) + 1 if present.size else 1, -1, dtype=np.int64)
    lookup[present] = np.arange(present.size)
    pool = np.where(key >= 0, lookup[key.clip(0)], -1)
    pools = []
    for k in present.tolist():
        is_vip, k = bool(k % 2), k // 2
        li, k = k % n_l, k // n_l
        pools.append((teams[k // n_s], skills[k % n_s], langs[li], is_vip))
    return _Decision(pool, pools, triage, labels, cat_codes, categories)


def rule_teams(df: pd.DataFrame, rules: RoutingRules | None = None) -> pd.Series:
    """The team the rules send each ticket to, ignoring status and capacity
    (``triage_queue`` for low confidence or no rule). Used to backtest rule sets."""
    rules = rules or default_rules()
    d = _decide(df, rules, Columns(df))
    names = [p[0] for p in d.pools] + [rules.triage_queue]  # pool -1 picks the last
    return pd.Series(np.array(names, dtype=object)[d.pool], index=df.index, name="team")


def _ranked(idx: np.ndarray, prio: np.ndarray, created: np.ndarray, k: int) -> np.ndarray:
    """The k most urgent tickets of ``idx``: priority desc, created asc, row order."""
    if k <= 0:
        return idx[:0]
    if idx.size > k:
        neg = -prio[idx]
        kth = np.partition(neg, k - 1)[k - 1]
        better = idx[neg < kth]
        ties = idx[neg == kth]
        ties = ties[np.lexsort((ties, created[ties]))][: k - better.size]
        idx = np.concatenate([better, ties])
    return idx[np.lexsort((idx, created[idx], -prio[idx]))]



class _Routed:
    """The per-row result being filled in: outcome, and team, agent and reason as codes."""

    def __init__(self, n: int, ag: _Agents) -> None:
        self.outcome = np.full(n, -1, dtype=np.int8)
        self.team = np.full(n, -1, dtype=np.int64)
        self.agent = np.full(n, -1, dtype=np.int64)
        self.reason = np.full(n, -1, dtype=np.int64)
        self.teams = _Labels()
        self.reasons = _Labels()
        # team code of each agent; index -1 (no agent) picks the trailing -1
        self.agent_team = np.array([self.teams.code(t) for t in ag.teams] + [-1],
                                   dtype=np.int64)

    def frame(self, df: pd.DataFrame, agent_ids: list[str]) -> pd.DataFrame:
        return df.assign(
            team=pd.Series(self.teams.categorical(self.team), index=df.index),
            agent_id=pd.Series(pd.Categorical.from_codes(
                self.agent, categories=pd.Index(agent_ids, dtype=object)), index=df.index),
            routing_reason=pd.Series(self.reasons.categorical(self.reason), index=df.index),
            routing_outcome=pd.Series(pd.Categorical.from_codes(self.outcome,
                                                                categories=OUTCOMES),
                                      index=df.index),
        )


def route(df: pd.DataFrame, agents: pd.DataFrame,
          rules: RoutingRules | None = None) -> pd.DataFrame:
    """Route open tickets to a team and agent; returns ``df`` plus team, agent_id,
    routing_reason and routing_outcome (assigned/kept/overflow/triage/closed).

    Uses status (required), category, category_confidence, segment, language,
    priority_score, created_at and agent_id when present. ``agents`` needs agent_id, team,
    capacity; skills, languages (';'-separated), senior and current_load are optional.
    Neither input is modified.
    """
    rules = rules or default_rules()
    if "status" not in df.columns:
        raise TriageError("route(): missing column status")
    ag = _Agents.from_frame(agents, rules)
    cols = Columns(df)
    out = _Routed(len(df), ag)
    load = ag.load.copy()
    is_open = cols.in_set("status", OPEN_STATUSES)
    kept, extra = _keep_agents(out, cols, ag, is_open, rules.keep_assigned, load)
    todo = is_open & ~kept
    d = _decide(df, rules, cols)
    tri = todo & (d.triage_reason >= 0)
    out.outcome[tri] = _TRIAGE
    out.team[tri] = out.teams.code(rules.triage_queue)
    if tri.any():
        remap = np.array([out.reasons.code(x) for x in d.labels.items], dtype=np.int64)
        out.reason[tri] = remap[d.triage_reason[tri]]
    _assign(out, df, d, ag, np.flatnonzero(todo & (d.pool >= 0)), load, rules)
    return out.frame(df, ag.ids + extra)


def _keep_agents(out: _Routed, cols: Columns, ag: _Agents, is_open: np.ndarray,
                 keep_assigned: bool, load: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Step 1: closed tickets keep their agent (known or not); open ones may keep a known
    agent, who then carries them in ``load``. Returns the kept rows and the agent ids
    that are not in the agents table."""
    in_codes, in_uniques = cols.factor("agent_id")
    agent_index = {a: i for i, a in enumerate(ag.ids)}
    extra = [str(u) for u in in_uniques if str(u) not in agent_index]
    extra_pos = {a: len(ag.ids) + i for i, a in enumerate(extra)}
    known = np.array([agent_index.get(str(u), -1) for u in in_uniques] + [-1])[in_codes]
    any_pos = np.array([agent_index.get(str(u), extra_pos.get(str(u), -1))
                        for u in in_uniques] + [-1])[in_codes]
    closed = ~is_open
    out.outcome[closed] = _CLOSED
    out.agent[closed] = any_pos[closed]
    out.team[closed] = out.agent_team[known[closed]]
    st_codes, st_uniques = cols.factor("status")
    out.reason[closed] = _label_rows(
        st_codes[closed] + 1, len(st_uniques) + 1,
        lambda k: f"{st_uniques[k - 1] if k else 'no status'}: not routed, keeps its agent",
        out.reasons)
    kept = is_open & (known >= 0) if keep_assigned else np.zeros(len(is_open), dtype=bool)
    if kept.any():
        out.outcome[kept] = _KEPT
        out.agent[kept] = known[kept]
        out.team[kept] = out.agent_team[known[kept]]
        load += np.bincount(known[kept], minlength=len(ag.ids))
        out.reason[kept] = _label_rows(known[kept], len(ag.ids),
                                       lambda a: f"already assigned to {ag.ids[a]}; kept",
                                       out.reasons)
    return kept, extra


def _assign(out: _Routed, df: pd.DataFrame, d: _Decision, ag: _Agents, routable: np.ndarray,
            load: np.ndarray, rules: RoutingRules) -> None:
    """Step 4: the ``routable`` rows, pool by pool, to agents with free capacity (``load``
    grows as they take tickets); the rest of a pool overflows."""
    n = len(df)
    prio = (pd.to_numeric(df["priority_score"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan) if "priority_score" in df.columns
        else np.zeros(n))
    prio = np.where(np.isnan(prio), -np.inf, prio)
    if "created_at" in df.columns:
        created = timestamps_us(df["created_at"], "created_at")
    else:
        created = np.zeros(n, dtype=np.int64)
    pool_of = d.pool[routable].astype(np.int16 if len(d.pools) < 2**15 else np.int64)
    grouped = routable[np.argsort(pool_of, kind="stable")]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(pool_of, minlength=len(d.pools)))])
    elig = [ag.eligible(t, sk, lang, vip and rules.vip_senior_only)
            for t, sk, lang, vip in d.pools]
    overflow_team = out.teams.code(rules.overflow_queue)

    def free_slots(p: int) -> int:
        return int(np.maximum(ag.capacity[elig[p]] - load[elig[p]], 0).sum())

    order = sorted(range(len(d.pools)),
                   key=lambda p: (d.pools[p][2] == "", free_slots(p), d.pools[p]))
    for p in order:
        idx = grouped[bounds[p]:bounds[p + 1]]
        if idx.size == 0:
            continue
        e = np.flatnonzero(elig[p])
        free = np.maximum(ag.capacity[e] - load[e], 0)
        chosen = _ranked(idx, prio, created, int(free.sum()))
        if chosen.size:
            _fill(out, chosen, e, free, load, ag, rules, d, p)
        if chosen.size < idx.size:
            rest = idx[out.outcome[idx] != _ASSIGNED] if chosen.size else idx
            out.outcome[rest] = _OVERFLOW
            out.team[rest] = overflow_team
            why = (f"all {e.size} suitable agents at capacity" if e.size
                   else "no suitable agent")
            out.reason[rest] = _label_rows(
                d.category[rest] + 1, len(d.categories) + 1,
                lambda k, p=p, why=why: (f"{_prefix(rules, d, k - 1, p)}; {why} -> "
                                         f"{rules.overflow_queue}"),
                out.reasons)


def _fill(out: _Routed, chosen: np.ndarray, e: np.ndarray, free: np.ndarray, load: np.ndarray,
          ag: _Agents, rules: RoutingRules, d: _Decision, p: int) -> None:
    """The ranked tickets ``chosen`` of pool ``p`` take the slots of its agents ``e`` (with
    ``free`` places each): least loaded first, round robin among equals."""
    m = chosen.size
    slot_agent = np.repeat(e, free)
    start = np.repeat(np.cumsum(free) - free, free)
    level = load[slot_agent] + (np.arange(slot_agent.size) - start)
    first = np.lexsort((slot_agent, level))[:m]
    slot_agent, level = slot_agent[first], level[first]
    out.outcome[chosen] = _ASSIGNED
    out.agent[chosen] = slot_agent
    out.team[chosen] = out.teams.code(d.pools[p][0])
    load += np.bincount(slot_agent, minlength=len(ag.ids))
    out.reason[chosen] = [
        out.reasons.code(f"{_prefix(rules, d, c, p)}; least-loaded agent {ag.ids[a]} "
                         f"({lv}/{ag.capacity[a]})")
        for c, a, lv in zip(d.category[chosen].tolist(), slot_agent.tolist(), level.tolist(),
                            strict=True)
    ]


def _prefix(rules: RoutingRules, d: _Decision, cat: int, pool: int) -> str:
    return pool_reason(rules, d.categories[cat] if cat >= 0 else "?", d.pools[pool])


def pool_reason(rules: RoutingRules, category: Any, pool: tuple[str, str, str, bool]) -> str:
    """The start of a routing reason: category, team, and the pool's requirements."""
    team, skill, lang, vip = pool
    parts = [f"category {category}; VIP segment -> {team}" if vip
             else f"category {category} -> {team}"]
    if vip and rules.vip_senior_only:
        parts.append("senior agent")
    if skill:
        parts.append(f"skill {skill}")
    if lang:
        parts.append(f"language {lang}")
    return "; ".join(parts)


def agent_loads(routed: pd.DataFrame, agents: pd.DataFrame) -> pd.DataFrame:
    """Open tickets per agent after routing: agent_id, team, capacity, load (kept +
    assigned + current_load)."""
    ids = agents["agent_id"].astype(str)
    active = routed["routing_outcome"].isin(["assigned", "kept"])
    counts = routed.loc[active, "agent_id"].astype(str).value_counts()
    base = (pd.to_numeric(agents["current_load"], errors="coerce").fillna(0).astype(np.int64)
            if "current_load" in agents.columns else 0)
    return pd.DataFrame({
        "agent_id": ids.to_numpy(),
        "team": agents["team"].astype(str).to_numpy(),
        "capacity": pd.to_numeric(agents["capacity"]).to_numpy(),
        "load": (ids.map(counts).fillna(0).astype(np.int64) + base).to_numpy(),
    })
