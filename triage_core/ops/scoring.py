"""Priority, SLA, escalation and routing for every ticket, written to ``triaged_tickets``.

Reads tickets, customers, agents, the model output in ``triage_results`` and agent corrections
(a correction beats a known label, which beats a prediction), scores with a weight profile
(:mod:`triage_core.ops.priority`), routes (:mod:`triage_core.ops.routing`) and replaces
``triaged_tickets`` in one statement. Profiles live in the config (TOML) and in the database
table ``priority_profiles``; a profile saved in the database wins over the config's of the same
name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from triage_core.errors import ConfigError
from triage_core.marketing.settings import AttributionSettings
from triage_core.marketing.window import lookback_us
from triage_core.ops import priority, routing
from triage_core.schema import OPEN_STATUSES, effective_category
from triage_core.store import Store

TRIAGED = "triaged_tickets"
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)  # schema constants, not user data

# The ticket's own inputs to scoring: a row whose hash changed is scored again.
INPUT_HASH = ("hash(k.status, k.category, k.csat, sv.score, k.agent_id, k.first_response_at,"
              " k.resolved_at, k.channel, k.language, k.customer_id, k.created_at,"
              " k.source_priority)")

# Everything the scorer and router need, one row per ticket. Corrections: latest not undone.
SCORING_SQL = """
WITH base AS (SELECT * FROM tickets WHERE {where}),
cust AS (  -- LTV percentile among the customers that have a lifetime value (else NULL)
    SELECT customer_id, segment, plan, lifetime_value,
           CASE WHEN lifetime_value IS NOT NULL THEN cume_dist() OVER (
               PARTITION BY lifetime_value IS NULL ORDER BY lifetime_value) END AS ltv_percentile
    FROM customers
),
last_touch AS (  -- only the touchpoints of these tickets' customers: the ASOF join sorts them
    SELECT k.ticket_id, tp.campaign_id, tp.touched_at
    FROM base k ASOF JOIN (SELECT customer_id, campaign_id, touched_at FROM touchpoints
                           WHERE customer_id IN (SELECT customer_id FROM base)) tp
      ON tp.customer_id = k.customer_id AND tp.touched_at <= k.created_at
)
SELECT k.ticket_id, {input_hash} AS input_hash, k.created_at, k.customer_id, k.status,
       k.channel,
       coalesce(k.language, r.language) AS language, k.first_response_at, k.resolved_at,
       coalesce(sv.score, k.csat) AS csat,
       k.agent_id, k.agent_id AS handled_by, k.source_priority,
       c.segment, c.plan, c.lifetime_value, c.ltv_percentile,
       {category},
       CASE WHEN corr.category IS NULL AND k.category IS NULL
            THEN r.category_confidence ELSE 1.0 END AS category_confidence,
       r.category AS predicted_category,
       CASE corr.sentiment WHEN 'negative' THEN least(coalesce(r.sentiment, -0.5), -0.5)
                           WHEN 'positive' THEN greatest(coalesce(r.sentiment, 0.5), 0.5)
                           WHEN 'neutral' THEN 0.0 ELSE r.sentiment END AS sentiment,
       coalesce(corr.sentiment, r.sentiment_label) AS sentiment_label,
       r.severity,
       corr.tier AS tier_correction,
       CASE WHEN lt.touched_at >= k.created_at - to_microseconds($lookback_us)
            THEN lt.campaign_id END AS campaign_id
FROM base k
LEFT JOIN cust c USING (customer_id)
LEFT JOIN triage_results r USING (ticket_id)
LEFT JOIN ticket_corrections corr USING (ticket_id)
LEFT JOIN last_touch lt USING (ticket_id)
LEFT JOIN csat_surveys sv USING (ticket_id)
"""
SCORING_SQL = SCORING_SQL.replace("{category}", effective_category())  # the view's columns
# SCORING_SQL for a few tickets whose customers' LTV percentile the caller fills in (the server's
# intake, from the sorted lifetime values it keeps in memory): only these tickets' customers are
# read, without the window over every customer, which is most of the query on a large database
# (1,000,000-ticket world, 20 tickets: 60-66 ms with the window, 19-28 ms without).
_CUST = SCORING_SQL[SCORING_SQL.index("cust AS ("):SCORING_SQL.index("last_touch AS (")]
SCORING_FEW_SQL = SCORING_SQL.replace(_CUST, """cust AS (  -- ltv_percentile: by the caller
    SELECT customer_id, segment, plan, lifetime_value, NULL::DOUBLE AS ltv_percentile
    FROM customers WHERE customer_id IN (SELECT customer_id FROM base)
),
""")

# The columns of triaged_tickets and their types (written with these types even when a column
# is empty in one run, so any order of imports and runs keeps the table writable).
OUTPUT_TYPES: dict[str, str] = {
    "ticket_id": "VARCHAR", "input_hash": "UBIGINT", "created_at": "TIMESTAMP",
    "customer_id": "VARCHAR", "status": "VARCHAR", "channel": "VARCHAR", "segment": "VARCHAR",
    "plan": "VARCHAR", "language": "VARCHAR", "first_response_at": "TIMESTAMP",
    "resolved_at": "TIMESTAMP", "csat": "INTEGER", "handled_by": "VARCHAR",
    "campaign_id": "VARCHAR", "category": "VARCHAR", "category_source": "VARCHAR",
    "category_confidence": "DOUBLE", "predicted_category": "VARCHAR", "sentiment": "DOUBLE",
    "sentiment_label": "VARCHAR", "severity": "INTEGER", "lifetime_value": "DOUBLE",
    "ltv_percentile": "DOUBLE", "priority_score": "DOUBLE", "priority_tier": "VARCHAR",
    "computed_tier": "VARCHAR", "contrib_sentiment": "DOUBLE", "contrib_value": "DOUBLE",
    "contrib_severity": "DOUBLE", "contrib_wait": "DOUBLE", "contrib_boost": "DOUBLE",
    "contrib_source": "DOUBLE", "source_priority": "VARCHAR",
    "first_response_due_at": "TIMESTAMP", "sla_due_at": "TIMESTAMP", "sla_status": "VARCHAR",
    "escalated": "BOOLEAN", "escalation_reason": "VARCHAR", "team": "VARCHAR",
    "agent_id": "VARCHAR", "routing_reason": "VARCHAR", "routing_outcome": "VARCHAR",
}
OUTPUT_COLUMNS = list(OUTPUT_TYPES)


def settings(config: Mapping[str, Any]) -> priority.PrioritySettings:
    """The priority profiles of ``config`` (its ``[priority]`` over the packaged defaults)."""
    return priority.PrioritySettings.from_mapping(config.get("priority"))


def lookback_days(config: Mapping[str, Any]) -> float:
    """The attribution lookback of ``config`` (a ticket's campaign touched it within it)."""
    return AttributionSettings.from_mapping(config.get("attribution")).lookback_days


def rules(config: Mapping[str, Any]) -> routing.RoutingRules:
    """The routing rules of ``config`` (its ``[routing]`` over the packaged defaults)."""
    return routing.RoutingRules.from_mapping(config.get("routing"))


def profile_names(store: Store, config: Mapping[str, Any]) -> list[str]:
    saved = store.query("SELECT name FROM priority_profiles ORDER BY name")["name"].tolist()
    return list(dict.fromkeys([*settings(config).names, *saved]))


def load_profile(store: Store, config: Mapping[str, Any],
                 name: str | None = None) -> priority.PriorityProfile:
    """The named profile (database first, then config); None = the active profile."""
    s = settings(config)
    if name is None:
        name = (store.scalar("SELECT value FROM settings WHERE key = 'active_profile'")
                or s.active_profile)
    body = store.scalar("SELECT settings FROM priority_profiles WHERE name = ?", [name])
    if body is not None:
        return priority.PriorityProfile.from_mapping(json.loads(body), name=name,
                                                     base=s.profile("default"))
    if name not in s.names:
        raise ConfigError(f"unknown priority profile {name!r}; known: "
                          f"{', '.join(profile_names(store, config))}")
    return s.profile(name)


def save_profile(store: Store, profile: priority.PriorityProfile, activate: bool = False) -> None:
    """Store a profile under its name (replacing one of the same name)."""
    with store.transaction():
        store.execute(
            "INSERT OR REPLACE INTO priority_profiles VALUES (?, ?, now()::TIMESTAMP)",
            [profile.name, json.dumps(profile.to_dict())],
        )
        if activate:
            store.execute("INSERT OR REPLACE INTO settings VALUES ('active_profile', ?)",
                          [profile.name])


def data_time(store: Store) -> dt.datetime:
    """The 'now' used for SLA clocks: the newest ticket's creation time, or the clock. Tickets
    created after :func:`~triage_core.ops.health.future_limit` are passed over (one ticket
    dated 2100 put every open ticket past its SLA), unless every ticket is (a world dated
    ahead of this machine)."""
    from triage_core.ops.health import newest_created

    ts = newest_created(store)
    return ts if ts is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)


def scoring_frame(store: Store, open_only: bool = False, since: Any = None,
                  lookback_days: float | None = None) -> pd.DataFrame:
    """One row per ticket with everything scoring needs.

    ``open_only``: only open tickets (previews). ``since`` (a timestamp): open tickets plus
    those whose prediction or corrections changed after it, or that were never scored
    (incremental scoring). ``campaign_id`` is the last campaign that touched the customer in
    the ``lookback_days`` before the ticket (default: the packaged ``[attribution]`` config)."""
    lookback = {"lookback_us": lookback_us(
        AttributionSettings.from_mapping().lookback_days if lookback_days is None
        else lookback_days)}
    if since is not None:
        where = (f"status IN ({_OPEN}) OR ticket_id IN ("
                 f" SELECT ticket_id FROM triage_results WHERE scored_at > $since"
                 f" UNION SELECT ticket_id FROM feedback"
                 f"  WHERE created_at > $since OR undone_at > $since"
                 f" UNION SELECT k.ticket_id FROM tickets k"
                 f"  LEFT JOIN csat_surveys sv USING (ticket_id)"
                 f"  LEFT JOIN {TRIAGED} t USING (ticket_id)"
                 f"  WHERE t.input_hash IS DISTINCT FROM {INPUT_HASH})")
        sql = SCORING_SQL.format(where=where, input_hash=INPUT_HASH)
        return store.query(sql, {"since": since, **lookback})
    where = f"status IN ({_OPEN})" if open_only else "true"
    return store.query(SCORING_SQL.format(where=where, input_hash=INPUT_HASH), lookback)


def score_frame(frame: pd.DataFrame, agents: pd.DataFrame, profile: priority.PriorityProfile,
                rule_set: routing.RoutingRules, as_of: dt.datetime) -> pd.DataFrame:
    """Pure: score, tier, escalate and route a scoring frame (see :data:`SCORING_SQL`)."""
    scored = priority.score(frame, profile, as_of=as_of)
    scored["computed_tier"] = scored["priority_tier"].astype(str)  # before any correction
    fix = scored["tier_correction"].notna()
    if fix.any():
        tiers = scored["priority_tier"].astype(str)
        scored["priority_tier"] = tiers.where(~fix, scored["tier_correction"])
    first_sla = {t: sla.first_response_minutes
                 for t, sla in zip(priority.TIERS, profile.sla, strict=True)}
    minutes = scored["priority_tier"].astype(str).map(first_sla).astype(float)
    scored["first_response_due_at"] = scored["created_at"] + pd.to_timedelta(minutes, unit="m")
    routed = routing.route(scored, agents, rule_set)
    out = routed[OUTPUT_COLUMNS]
    categorical = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
    return out.astype({c: object for c in categorical})


def _data_stamp(store: Store) -> str:
    """What every ticket's row depends on besides its own data: customers (segment, LTV),
    agents and touchpoints. concat_ws skips NULL parts, so an empty table cannot make the
    whole stamp NULL (which would match any later state)."""
    return str(store.scalar(
        "SELECT concat_ws('/', (SELECT count(*) FROM customers), (SELECT count(*) FROM agents),"
        " (SELECT count(*) FROM touchpoints), (SELECT coalesce(max(touched_at)::VARCHAR, '-')"
        "  FROM touchpoints),"
        " (SELECT coalesce(sum(hash(customer_id, segment, lifetime_value)), 0) FROM customers),"
        " (SELECT coalesce(sum(hash(agent_id, team, skills, languages, capacity, senior)), 0)"
        "  FROM agents))"))


def _table_is_current(store: Store) -> bool:
    """triaged_tickets exists with exactly today's columns and types (a table written by an
    older version, or with a column typed NULL by an empty run, is rewritten in full)."""
    if not store.table_exists(TRIAGED):
        return False
    rows = store.query("SELECT column_name, data_type FROM information_schema.columns"
                       " WHERE table_name = ? ORDER BY ordinal_position", [TRIAGED])
    return dict(zip(rows["column_name"], rows["data_type"], strict=True)) == OUTPUT_TYPES


def _fingerprint(profile: priority.PriorityProfile, config: Mapping[str, Any]) -> str:
    """What closed tickets' rows depend on besides their own data: profile, rules and the
    attribution lookback (their campaign)."""
    return json.dumps({"profile": profile.to_dict(), "routing": rules(config).to_dict(),
                       "lookback_days": lookback_days(config)}, sort_keys=True, default=str)


def score_all(store: Store, config: Mapping[str, Any], profile_name: str | None = None,
              as_of: dt.datetime | None = None, full: bool = False) -> pd.DataFrame:
    """Score and route tickets into ``triaged_tickets``; returns tier counts of all tickets.

    Incremental by default: when the profile and routing rules are the ones of the last run
    (and customers and agents did not change), only open tickets and tickets whose
    predictions or corrections changed since then are recomputed; solved and closed tickets
    keep their rows, which depend on nothing else. Otherwise (or with ``full``) every ticket.
    """
    profile = load_profile(store, config, profile_name)
    fingerprint = _fingerprint(profile, config)
    state = dict(store.query("SELECT key, value FROM settings").itertuples(index=False))
    data_stamp = _data_stamp(store)
    incremental = (not full and _table_is_current(store)
                   and state.get("scored_fingerprint") == fingerprint
                   and state.get("scored_data") == data_stamp
                   and state.get("scored_at") is not None)
    started = store.scalar("SELECT now()::TIMESTAMP")
    frame = scoring_frame(store, since=pd.Timestamp(state["scored_at"])
                          if incremental else None, lookback_days=lookback_days(config))
    agents = store.query("SELECT * FROM agents")
    when = as_of or data_time(store)
    result = score_frame(frame, agents, profile, rules(config), when)
    # written as Arrow: DuckDB reads it about twice as fast as the DataFrame (1M tickets: 2.5 s
    # instead of 4-5 s), and every column is cast to its OUTPUT_TYPES type either way
    table = pa.Table.from_pandas(result, preserve_index=False)
    with store.transaction():
        if incremental:
            store.delete_where_in(TRIAGED, "ticket_id", result["ticket_id"].tolist())
            store.write_frame(TRIAGED, table, mode="append", types=OUTPUT_TYPES)
        else:
            store.write_frame(TRIAGED, table, mode="replace", types=OUTPUT_TYPES, ordered=False)
        store.executemany("INSERT OR REPLACE INTO settings VALUES (?, ?)", [
            ("scored_profile", profile.name), ("scored_as_of", str(when)),
            ("scored_fingerprint", fingerprint), ("scored_data", data_stamp),
            ("scored_at", str(started)), ("scored_mode", "incremental" if incremental
                                          else "full"), ("scored_rows", str(len(result)))])
    return store.query(f"SELECT priority_tier, count(*) AS tickets FROM {TRIAGED}"
                       " GROUP BY 1 ORDER BY 1")


def _queue_rank(scored: pd.DataFrame) -> pd.Series:
    """Each ticket's place in the queue order the pages use (priority score high first, then
    the oldest, then by ticket id), 1 = first."""
    order = scored.sort_values(["priority_score", "created_at", "ticket_id"],
                               ascending=[False, True, True], kind="stable").index
    return pd.Series(np.arange(1, len(order) + 1), index=order).reindex(scored.index)


@dataclass(frozen=True)
class Preview:
    """What a new profile would change, before anything is saved."""

    tiers: pd.DataFrame  # tier, profile ('saved' / 'preview'), tickets
    reorder: pd.DataFrame  # top tickets under the preview with their saved rank
    p1: pd.DataFrame  # P1 tickets under the preview
    sla: pd.DataFrame  # sla_status counts under both
    workload: pd.DataFrame  # agent_id, team, capacity, assigned, assigned_preview
    moved: int  # tickets whose tier changes
    teams: pd.DataFrame | None = None  # team, capacity, assigned(_preview), waiting(_preview)
    rerouted: int = 0  # tickets whose agent the candidate may change


def preview(frame: pd.DataFrame, agents: pd.DataFrame, saved: priority.PriorityProfile,
            candidate: priority.PriorityProfile, rule_set: routing.RoutingRules,
            as_of: dt.datetime, top: int = 25,
            reroute: pd.Series | np.ndarray | None = None) -> Preview:
    """Score and route the open tickets under both profiles and compare (pure, vectorized).

    ``reroute`` (one flag per row of ``frame``): tickets whose agent the candidate may change.
    The saved side keeps every assignment (what the queues show now); under the candidate,
    these tickets lose their agent and are routed again with the rest of the unassigned work,
    in the candidate's priority order, so its workload shows who would get what."""
    a = score_frame(frame, agents, saved, rule_set, as_of)
    cand_frame = frame
    rerouted = 0
    if reroute is not None:
        flags = np.asarray(reroute, dtype=bool) & frame["agent_id"].notna().to_numpy()
        rerouted = int(flags.sum())
        if rerouted:
            cand_frame = frame.assign(agent_id=frame["agent_id"].astype(object).where(
                ~flags, None))
    b = score_frame(cand_frame, agents, candidate, rule_set, as_of)
    tiers = pd.concat([
        a.groupby("priority_tier").size().rename("tickets").reset_index().assign(profile="saved"),
        b.groupby("priority_tier").size().rename("tickets").reset_index().assign(
            profile="preview"),
    ]).rename(columns={"priority_tier": "tier"})
    rank_a, rank_b = _queue_rank(a), _queue_rank(b)
    ranked = b.assign(rank=rank_b.astype(int), saved_rank=rank_a.astype(int),
                      saved_score=a["priority_score"], saved_tier=a["priority_tier"])
    reorder = ranked.nsmallest(top, "rank")[
        ["rank", "saved_rank", "ticket_id", "priority_score", "saved_score", "priority_tier",
         "saved_tier", "sentiment", "severity", "segment", "category", "sla_status"]]
    reorder = reorder.assign(moved_by=reorder["saved_rank"] - reorder["rank"])
    p1 = b[b["priority_tier"] == "P1"].sort_values("priority_score", ascending=False)[
        ["ticket_id", "priority_score", "sentiment", "severity", "segment", "category",
         "sla_status", "team", "agent_id"]]
    sla = pd.concat([
        a.groupby("sla_status").size().rename("saved"),
        b.groupby("sla_status").size().rename("preview"),
    ], axis=1).fillna(0).astype(int).reset_index(names="sla_status")
    load_a = a.groupby("agent_id").size().rename("assigned")
    load_b = b.groupby("agent_id").size().rename("assigned_preview")
    workload = (agents[["agent_id", "team", "capacity"]].set_index("agent_id")
                .join(load_a).join(load_b).fillna(0).reset_index())
    workload[["assigned", "assigned_preview"]] = workload[
        ["assigned", "assigned_preview"]].astype(int)
    moved = int((a["priority_tier"].astype(str) != b["priority_tier"].astype(str)).sum())

    def per_team(x: pd.DataFrame, suffix: str) -> pd.DataFrame:
        has = x["agent_id"].notna()
        return pd.DataFrame({f"assigned{suffix}": has.groupby(x["team"]).sum(),
                             f"waiting{suffix}": (~has).groupby(x["team"]).sum()})

    capacity = agents.groupby("team")["capacity"].sum().rename("capacity")
    teams = (per_team(a, "").join(per_team(b, "_preview"), how="outer").join(capacity,
                                                                             how="outer")
             .fillna(0).astype(int).rename_axis("team").reset_index())
    return Preview(tiers, reorder, p1, sla, workload, moved, teams, rerouted)


def reassign(store: Store, ticket_id: str, agent_id: str, by: str = "",
             reason: str = "") -> None:
    """Manually assign an open ticket to an agent with free capacity (kept on re-scoring),
    recorded in ``reassignments``."""
    agent = store.query("SELECT agent_id, team, capacity FROM agents WHERE agent_id = ?",
                        [agent_id])
    if agent.empty:
        raise ConfigError(f"no agent {agent_id!r}")
    row = store.query("SELECT status, agent_id FROM tickets WHERE ticket_id = ?", [ticket_id])
    if row.empty:
        raise ConfigError(f"no ticket {ticket_id!r}")
    status, before = row["status"].iloc[0], row["agent_id"].iloc[0]
    if status not in OPEN_STATUSES:
        raise ConfigError(f"ticket {ticket_id} is {status}; only open tickets can be reassigned")
    load = store.scalar(
        f"SELECT count(*) FROM {TRIAGED} WHERE agent_id = ? AND status IN ({_OPEN})"
        " AND ticket_id <> ?", [agent_id, ticket_id])
    capacity = int(agent["capacity"].iloc[0])
    if load >= capacity:
        raise ConfigError(f"{agent_id} is at capacity ({load}/{capacity}); choose another agent")
    team = str(agent["team"].iloc[0])
    why = reason or f"manually reassigned to {agent_id}" + (f" by {by}" if by else "")
    with store.transaction():
        store.execute("UPDATE tickets SET agent_id = ? WHERE ticket_id = ?", [agent_id, ticket_id])
        store.execute(
            f"UPDATE {TRIAGED} SET agent_id = ?, team = ?, routing_reason = ?,"
            " routing_outcome = 'kept' WHERE ticket_id = ?", [agent_id, team, why, ticket_id])
        store.execute(
            "INSERT INTO reassignments (ticket_id, from_agent, to_agent, reason, author,"
            " created_at) VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [ticket_id, None if pd.isna(before) else str(before), agent_id, why, by or None])
