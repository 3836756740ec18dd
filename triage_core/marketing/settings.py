"""Settings of the ``[attribution]`` section: lookback, half-life, support cost, spike rule.

Defaults live only in ``triage_core/config/defaults/attribution.toml``; ``from_mapping`` merges a
user's section over them and validates it with :class:`~triage_core.config.validate.Checker`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.config import Checker, section

__all__ = ["TIERS", "AttributionSettings", "SpikeSettings", "attribution_settings"]

TIERS: tuple[str, ...] = ("P1", "P2", "P3", "P4")
_CHECK = Checker("attribution")


@dataclass(frozen=True)
class SpikeSettings:
    """Spike rule, ``[attribution.spike]``: see :mod:`triage_core.marketing.spikes`."""

    window_days: int
    baseline_days: int
    sigmas: float
    min_ratio: float
    min_tickets: float

    @classmethod
    def from_mapping(cls, spike: Mapping[str, Any] | None = None) -> SpikeSettings:
        """Validate a ``spike`` table merged over the packaged defaults."""
        raw = _CHECK.table(section("attribution", {"spike": spike or {}})["spike"], "spike",
                           tuple(cls.__dataclass_fields__))

        def days(key: str) -> int:
            return int(_CHECK.number(raw[key], f"spike.{key}", positive=True, integer=True))

        return cls(
            window_days=days("window_days"),
            baseline_days=days("baseline_days"),
            sigmas=_CHECK.number(raw["sigmas"], "spike.sigmas", lo=0),
            min_ratio=_CHECK.number(raw["min_ratio"], "spike.min_ratio", lo=0),
            min_tickets=_CHECK.number(raw["min_tickets"], "spike.min_tickets", lo=0),
        )


@dataclass(frozen=True)
class AttributionSettings:
    """Validated ``[attribution]`` config. Costs are currency units per ticket: a ticket costs
    ``category_cost[category]`` (``default_cost`` for a category not listed) times
    ``tier_multiplier[priority_tier]`` (1 for a tier not listed)."""

    lookback_days: float
    half_life_days: float
    default_cost: float
    category_cost: Mapping[str, float]
    tier_multiplier: Mapping[str, float]
    spike: SpikeSettings

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> AttributionSettings:
        """Validate an ``[attribution]`` section (merged over the packaged defaults).

        Raises :class:`~triage_core.errors.ConfigError` naming the offending key.
        """
        raw = section("attribution", over)
        _CHECK.keys(raw, ("lookback_days", "half_life_days", "support_cost", "spike"))
        cost = _CHECK.table(raw["support_cost"], "support_cost", ("default", "base",
                                                                   "tier_multiplier"))
        base = _CHECK.table(cost["base"], "support_cost.base")
        tiers = _CHECK.table(cost["tier_multiplier"], "support_cost.tier_multiplier", TIERS)
        return cls(
            lookback_days=_CHECK.number(raw["lookback_days"], "lookback_days", positive=True),
            half_life_days=_CHECK.number(raw["half_life_days"], "half_life_days", positive=True),
            default_cost=_CHECK.number(cost["default"], "support_cost.default", lo=0),
            category_cost={str(k): _CHECK.number(v, f"support_cost.base.{k}", lo=0)
                           for k, v in base.items()},
            tier_multiplier={str(k): _CHECK.number(v, f"support_cost.tier_multiplier.{k}", lo=0)
                             for k, v in tiers.items()},
            spike=SpikeSettings.from_mapping(raw["spike"]),
        )


def attribution_settings(config: AttributionSettings | Mapping[str, Any] | None
                         ) -> AttributionSettings:
    """``config`` as settings: settings pass through, a section (or None) is validated."""
    if isinstance(config, AttributionSettings):
        return config
    return AttributionSettings.from_mapping(config)
