"""Routing: open tickets to a team and an agent under rules kept as data.

- :mod:`~triage_core.ops.routing.rules`: the settings, i.e. category -> team and skill, the VIP
  desk, languages, queues and the confidence threshold (config section ``[routing]``, defaults
  in ``config/defaults/routing.toml``);
- :mod:`~triage_core.ops.routing.assign`: the vectorized, capacity-aware assignment
  (:func:`route`), the team the rules pick before capacity (:func:`rule_teams`) and the load
  per agent after routing (:func:`agent_loads`).
"""

from triage_core.ops.routing.assign import OUTCOMES, agent_loads, route, rule_teams
from triage_core.ops.routing.rules import CategoryRule, RoutingRules, default_rules

__all__ = ["OUTCOMES", "CategoryRule", "RoutingRules", "agent_loads", "default_rules", "route",
           "rule_teams"]
