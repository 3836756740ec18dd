"""Staffing for a campaign forecast: agent-hours per team against the teams' capacity.

A ticket goes to the team the ``[routing]`` rules give its category (customers of the VIP
segments to the VIP team; a category without a rule to ``unrouted``) and takes
``[forecast.handle_minutes]`` of agent time. A team's capacity per day is its agents in the
agents table times ``hours_per_agent_day``; its recent load is the hours of the tickets of the
last ``baseline_days`` of data, per day. The campaign's busiest day is added to the recent load:
``status`` is ``over`` above capacity, ``tight`` above ``tight`` of it, else ``ok``; a team
without agents (or ``unrouted`` work) is ``no agents``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage_core.marketing.attribution import tickets_cte
from triage_core.marketing.filters import Filters
from triage_core.marketing.impact import UNCATEGORIZED
from triage_core.marketing.settings import ForecastSettings
from triage_core.marketing.window import Query
from triage_core.ops.health import newest_created
from triage_core.ops.routing.rules import RoutingRules
from triage_core.store import Store

__all__ = ["STAFFING_COLUMNS", "UNROUTED", "TeamLoad", "staffing", "team_load"]

UNROUTED = "unrouted"
STAFFING_COLUMNS = ("team", "agents", "capacity_hours_per_day", "recent_hours_per_day",
                    "campaign_hours", "campaign_peak_hours", "peak_utilization", "status")


def _team(rules: RoutingRules, category: str, vip: bool) -> str:
    if vip:
        return rules.vip_team
    rule = rules.rule(category)
    return rule.team if rule is not None else UNROUTED


def _recent(store: Store, rules: RoutingRules, s: ForecastSettings) -> pd.DataFrame:
    """Tickets per day of the last ``baseline_days`` of data by category and VIP segment (up
    to the newest ticket the data's clock runs to: not one dated 2100 by a typo)."""
    newest = newest_created(store)
    if newest is None:
        return pd.DataFrame(columns=["category", "vip", "per_day"])
    since = pd.Timestamp(newest) - pd.Timedelta(days=s.baseline_days)
    q = Query()
    return q.run(store, f"""WITH {tickets_cte(store, q, Filters(start=since, end=newest))}
        SELECT COALESCE(category, {q.bind('uncategorized', UNCATEGORIZED)}) AS category,
               COALESCE(list_contains({q.bind('vip', list(rules.vip_segments))}::VARCHAR[],
                                      segment), false) AS vip,
               count(*) / {q.bind('days', float(s.baseline_days))} AS per_day
        FROM tk GROUP BY ALL""")


def _hours(frame: pd.DataFrame, rules: RoutingRules, s: ForecastSettings) -> pd.Series:
    """Agent-hours per row of ``frame`` (category, vip, tickets) indexed by team."""
    teams = [_team(rules, c, bool(v)) for c, v in zip(frame["category"], frame["vip"],
                                                     strict=True)]
    minutes = np.array([s.minutes(c) for c in frame["category"]], dtype=np.float64)
    return pd.Series(frame["tickets"].to_numpy(dtype=np.float64) * minutes / 60.0, index=teams)


@dataclass(frozen=True)
class TeamLoad:
    """Each team's agents and recent load (agent-hours per day)."""

    agents: pd.Series  # team -> agents
    recent_hours: pd.Series  # team -> hours per day


def team_load(store: Store, rules: RoutingRules, s: ForecastSettings) -> TeamLoad:
    """The teams' agents and the hours per day their recent tickets took."""
    recent = _recent(store, rules, s)
    hours = _hours(recent.rename(columns={"per_day": "tickets"}), rules, s)
    agents = store.query("SELECT team, count(*) AS agents FROM agents GROUP BY team")
    return TeamLoad(agents.set_index("team")["agents"], hours.groupby(level=0).sum())


def staffing(daily: np.ndarray, shares: pd.DataFrame, rules: RoutingRules, s: ForecastSettings,
             load: TeamLoad) -> pd.DataFrame:
    """One row per team the campaign or the recent load touches (:data:`STAFFING_COLUMNS`),
    from the forecast tickets per day (``daily``) and their category x VIP ``shares``."""
    hours = np.zeros((0, daily.size))
    teams: list[str] = []
    if not shares.empty:
        by_row = _hours(shares.assign(tickets=shares["share"]), rules, s)
        teams = sorted(set(by_row.index))
        unit = by_row.groupby(level=0).sum().reindex(teams).to_numpy()  # hours per ticket
        hours = np.outer(unit, daily)  # team x day
    rows = []
    for team in sorted(set(teams) | set(load.recent_hours.index)):
        camp = hours[teams.index(team)] if team in teams else np.zeros(daily.size)
        n = int(load.agents.get(team, 0))
        capacity = n * s.hours_per_agent_day
        base = float(load.recent_hours.get(team, 0.0))
        peak = float(camp.max(initial=0.0))
        util = (base + peak) / capacity if capacity > 0 else np.nan
        status = ("no agents" if capacity <= 0 else "over" if util > 1
                  else "tight" if util > s.tight else "ok")
        rows.append((team, n, capacity, base, float(camp.sum()), peak, util, status))
    return pd.DataFrame(rows, columns=list(STAFFING_COLUMNS))
