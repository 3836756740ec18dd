"""Marketing analytics: which campaigns create support work, and what it costs.

Modules, lowest first:

* :mod:`~triage_core.marketing.settings` - the ``[attribution]`` config (lookback, half-life,
  support cost, spike rule).
* :mod:`~triage_core.marketing.window` - the lookback window rule and the SQL builder.
* :mod:`~triage_core.marketing.filters` - :class:`Filters`, the one filter type of the
  dashboard views and attribution (ticket channel and campaign channel kept apart).
* :mod:`~triage_core.marketing.markov` - Markov removal effects (the data-driven model).
* :mod:`~triage_core.marketing.attribution` - the six models and each ticket's credits.
* :mod:`~triage_core.marketing.impact` - per-campaign impact, model comparison, JSON records.
* :mod:`~triage_core.marketing.spikes` - post-launch spike series and alerts.
* :mod:`~triage_core.marketing.lift` - incremental tickets a campaign caused (difference in
  differences against matched untouched customers; numbers in ``_strata``).
* :mod:`~triage_core.marketing.history`, :mod:`~triage_core.marketing.staffing`,
  :mod:`~triage_core.marketing.forecast` - a planned campaign's tickets, staffing and ROI from
  similar past campaigns, and the forecast's backtest (numbers in ``_projection``).
"""

from triage_core.marketing.attribution import MODEL_DESCRIPTIONS, MODELS, ticket_credits
from triage_core.marketing.filters import Filters
from triage_core.marketing.forecast import (
    Backtest,
    Forecast,
    Plan,
    backtest,
    forecast_campaign,
    plan_defaults,
)
from triage_core.marketing.impact import (
    IMPACT_METRICS,
    campaign_impact,
    campaigns_to_fix,
    compare_models,
    cost_per_ticket,
    money_in_filters,
    to_json_records,
)
from triage_core.marketing.lift import LIFT_COLUMNS, campaign_lift
from triage_core.marketing.markov import removal_effects
from triage_core.marketing.settings import (
    AttributionSettings,
    ForecastSettings,
    LiftSettings,
    SpikeSettings,
    attribution_settings,
)
from triage_core.marketing.spikes import spike_alerts, spike_rule_text, spike_series
from triage_core.marketing.stored import materialize_credits, staged_credits

__all__ = [
    "IMPACT_METRICS",
    "LIFT_COLUMNS",
    "MODELS",
    "MODEL_DESCRIPTIONS",
    "AttributionSettings",
    "Backtest",
    "Filters",
    "Forecast",
    "ForecastSettings",
    "LiftSettings",
    "Plan",
    "SpikeSettings",
    "attribution_settings",
    "backtest",
    "campaign_impact",
    "campaign_lift",
    "campaigns_to_fix",
    "compare_models",
    "cost_per_ticket",
    "forecast_campaign",
    "materialize_credits",
    "money_in_filters",
    "plan_defaults",
    "removal_effects",
    "spike_alerts",
    "spike_rule_text",
    "spike_series",
    "staged_credits",
    "ticket_credits",
    "to_json_records",
]
