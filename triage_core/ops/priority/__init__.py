"""Priority: a score 0-100 per ticket, tiers P1-P4, SLA due times and status, escalations.

- :mod:`~triage_core.ops.priority.profile`: the settings, i.e. named weight profiles with
  their tiers, SLAs, escalation rule and boosts (config section ``[priority]``, defaults in
  ``config/defaults/priority.toml``);
- :mod:`~triage_core.ops.priority.score`: the vectorized scoring of a ticket frame under a
  profile (:func:`score`) and its replay for backtests (:func:`replay_tiers`).
"""

from triage_core.ops.priority.profile import (
    COMPONENTS,
    TIERS,
    EscalationRule,
    PriorityProfile,
    PrioritySettings,
    SlaPolicy,
    Weights,
    default_profile,
    default_settings,
)
from triage_core.ops.priority.score import (
    CONTRIB_COLUMNS,
    SLA_STATUSES,
    ltv_percentile,
    replay_tiers,
    score,
    sla_tables,
)

__all__ = [
    "COMPONENTS",
    "CONTRIB_COLUMNS",
    "SLA_STATUSES",
    "TIERS",
    "EscalationRule",
    "PriorityProfile",
    "PrioritySettings",
    "SlaPolicy",
    "Weights",
    "default_profile",
    "default_settings",
    "ltv_percentile",
    "replay_tiers",
    "score",
    "sla_tables",
]
