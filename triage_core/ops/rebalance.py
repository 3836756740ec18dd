"""Agents over capacity, and a proposal that brings them back under it.

Routing never puts an agent over capacity, but assignments made in the helpdesk (kept when
``[routing] keep_assigned`` is on) can. :func:`overloaded` lists those agents;
:func:`propose` takes each one's lowest-priority open tickets beyond capacity and re-routes them
with the routing rules (skills, language, VIP desk) to agents with free capacity; what cannot
be placed stays where it is. :func:`apply` carries out the moves a lead confirmed, in one
transaction, and records each one in ``reassignments`` (who, when, from, to, why).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.ops import scoring
from triage_core.schema import OPEN_STATUSES
from triage_core.store import Store

_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)  # schema constants, not user data


def overloaded(store: Store) -> pd.DataFrame:
    """Agents holding more open tickets than their capacity: agent_id, name, team, capacity,
    open_tickets, over (by how many), kept (open tickets assigned to them outside routing, in
    the helpdesk or by hand, which routing keeps: ``[routing] keep_assigned``; routing itself
    never assigns beyond capacity)."""
    if not store.table_exists(scoring.TRIAGED):
        return pd.DataFrame(columns=["agent_id", "name", "team", "capacity", "open_tickets",
                                     "over", "kept"])
    return store.query(
        f"""SELECT a.agent_id, a.name, a.team, a.capacity, l.open_tickets,
                   l.open_tickets - a.capacity AS over, l.kept
            FROM (SELECT agent_id, count(*) AS open_tickets,
                         count(*) FILTER (WHERE routing_outcome = 'kept') AS kept
                  FROM {scoring.TRIAGED}
                  WHERE status IN ({_OPEN}) GROUP BY agent_id) l
            JOIN agents a USING (agent_id)
            WHERE l.open_tickets > a.capacity
            ORDER BY over DESC, a.agent_id""")


def propose(store: Store, config: Mapping[str, Any]) -> pd.DataFrame:
    """Moves that bring over-capacity agents back under capacity: ticket_id, priority_score,
    from_agent, to_agent, team, reason; sorted by the agent they leave. Tickets for which no
    suitable agent is free are left out (they stay with their agent)."""
    over = overloaded(store)
    columns = ["ticket_id", "priority_score", "from_agent", "to_agent", "team", "reason"]
    if over.empty:
        return pd.DataFrame(columns=columns)
    current = store.query(
        f"SELECT ticket_id, agent_id, priority_score, created_at FROM {scoring.TRIAGED}"
        f" WHERE status IN ({_OPEN}) AND agent_id IN (SELECT unnest(?::VARCHAR[]))",
        [over["agent_id"].tolist()])
    limit = dict(zip(over["agent_id"], over["capacity"], strict=True))
    ranked = current.sort_values(["agent_id", "priority_score", "created_at"],
                                 ascending=[True, False, True])
    rank = ranked.groupby("agent_id").cumcount()
    excess = ranked[rank.to_numpy() >= ranked["agent_id"].map(limit).to_numpy()]
    moved = _reroute(store, config, set(excess["ticket_id"]))
    out = excess.merge(moved, on="ticket_id").rename(columns={"agent_id": "from_agent"})
    out = out[out["to_agent"].notna() & (out["to_agent"] != out["from_agent"])]
    out["reason"] = ("over capacity: " + out["from_agent"] + " -> " + out["to_agent"]
                     + " (" + out["why"] + ")")
    return out.sort_values(["from_agent", "priority_score"])[columns].reset_index(drop=True)


def _reroute(store: Store, config: Mapping[str, Any], tickets: set[str]) -> pd.DataFrame:
    """Route the open tickets again as if ``tickets`` had no agent: ticket_id, to_agent, team,
    why, for those tickets."""
    profile = scoring.load_profile(store, config)
    frame = scoring.scoring_frame(store, open_only=True,
                                  lookback_days=scoring.lookback_days(config))
    # today's assignments (routing's included), so every agent's load is what it is now
    now = store.query(f"SELECT ticket_id, agent_id FROM {scoring.TRIAGED}"
                      f" WHERE status IN ({_OPEN})")
    frame["agent_id"] = frame["ticket_id"].map(dict(zip(now["ticket_id"], now["agent_id"],
                                                         strict=True)))
    frame.loc[frame["ticket_id"].isin(tickets), "agent_id"] = None
    agents = store.query("SELECT * FROM agents")
    routed = scoring.score_frame(frame, agents, profile, scoring.rules(config),
                                 scoring.data_time(store))
    routed = routed[routed["ticket_id"].isin(tickets)]
    assigned = routed["routing_outcome"].astype(str) == "assigned"
    return pd.DataFrame({"ticket_id": routed["ticket_id"],
                         "to_agent": routed["agent_id"].where(assigned, None),
                         "team": routed["team"].astype(str),
                         "why": routed["routing_reason"].astype(str)})


def apply(store: Store, moves: pd.DataFrame, by: str = "") -> int:
    """Carry out confirmed moves (from :func:`propose`) in one transaction; returns how many.

    A move whose ticket is no longer open, or no longer with ``from_agent``, or whose target
    would go over capacity, is refused with a one-line error and nothing is changed."""
    if moves.empty:
        return 0
    with store.transaction():
        for move in moves.itertuples(index=False):
            _move(store, str(move.ticket_id), str(move.from_agent), str(move.to_agent),
                  str(getattr(move, "reason", "rebalance")), by)
    return len(moves)


def _move(store: Store, ticket_id: str, from_agent: str, to_agent: str, reason: str,
          by: str) -> None:
    row = store.query(f"SELECT agent_id, status FROM {scoring.TRIAGED} WHERE ticket_id = ?",
                      [ticket_id])
    if row.empty or row["status"].iloc[0] not in OPEN_STATUSES:
        raise TriageError(f"ticket {ticket_id} is no longer open; propose again")
    if row["agent_id"].iloc[0] != from_agent:
        raise TriageError(f"ticket {ticket_id} is no longer with {from_agent}; propose again")
    scoring.reassign(store, ticket_id, to_agent, by=by, reason=reason)
