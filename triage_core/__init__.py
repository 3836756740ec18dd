"""ticket-triage core library: import, models, scoring, routing and attribution on DuckDB.

The packages, one concept each (calls go one way: cli / dashboard -> triage -> models, ops,
marketing -> store):

- ``errors``, ``schema``, ``text``: leaves (error family, table definitions, text cleaning);
- ``config``: the one loader and validation helper; defaults only in ``config/defaults/*.toml``;
- ``store``: the only code that talks to DuckDB (connection, migrations, importing, mapping);
- ``models``: category classifier, explanations, word vectors, sentiment, severity, registry;
- ``triage``: the pure batch function, engines (here, processes, Dask, Spark), the pipeline and
  training;
- ``ops``: priority, routing, scoring, backtest, feedback and the dashboard's queries;
- ``marketing``: filters, attribution models, Markov removal effects, impact, spikes, lift and
  forecasts;
- ``demo``: the seeded demo world; ``cli``: the ``triage`` command.

The names below are the public API. They load on first use, so ``import triage_core`` stays
cheap (the command line's ``--help`` does not pay for pandas or scikit-learn). This package
never imports streamlit.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # errors
    "TriageError": "triage_core.errors",
    "ConfigError": "triage_core.errors",
    "ImportValidationError": "triage_core.errors",
    "ModelError": "triage_core.errors",
    # configuration and the database
    "load_config": "triage_core.config",
    "Store": "triage_core.store",
    "ImportResult": "triage_core.store",
    # triage
    "run_triage": "triage_core.triage.pipeline",
    "predict": "triage_core.triage.pipeline",
    "load_models": "triage_core.triage.pipeline",
    "explain": "triage_core.triage.pipeline",
    "triage_batch": "triage_core.triage.batch",
    "TriageModels": "triage_core.triage.batch",
    "train": "triage_core.triage.training",
    "retrain": "triage_core.triage.training",
    "promote": "triage_core.triage.training",
    "rollback": "triage_core.triage.training",
    # operations
    "score_all": "triage_core.ops.scoring",
    "PriorityProfile": "triage_core.ops.priority",
    "RoutingRules": "triage_core.ops.routing",
    # marketing
    "Filters": "triage_core.marketing",
    "campaign_impact": "triage_core.marketing",
    "ticket_credits": "triage_core.marketing",
    "campaign_lift": "triage_core.marketing",
    "forecast_campaign": "triage_core.marketing",
    # demo world
    "generate_demo": "triage_core.demo",
}
_RENAMED = {"generate_demo": "generate", "run_triage": "triage"}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'triage_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
