"""Settings of the marketing sections: ``[attribution]`` (lookback, half-life, support cost,
spike rule), ``[lift]`` (incremental tickets) and ``[forecast]`` (planned campaigns).

Defaults live only in ``triage_core/config/defaults/*.toml``; ``from_mapping`` merges a user's
section over them and validates it with :class:`~triage_core.config.validate.Checker`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.config import Checker, section

__all__ = ["TIERS", "AttributionSettings", "ForecastSettings", "LiftSettings", "SpikeSettings",
           "attribution_settings"]

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
            # at most a century: beyond, the window's microseconds overflow DuckDB's intervals
            lookback_days=_CHECK.number(raw["lookback_days"], "lookback_days", positive=True,
                                        hi=36_500),
            half_life_days=_CHECK.number(raw["half_life_days"], "half_life_days", positive=True,
                                         hi=36_500),
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


def _edges(check: Checker, value: Any, key: str) -> tuple[int, ...]:
    """Increasing whole numbers >= 1 (bucket edges)."""
    if not isinstance(value, list | tuple) or not value:
        check.fail(f"{key} must be a non-empty list of whole numbers, got {value!r}")
    out = tuple(check.integer(v, f"{key}[{i}]", lo=1) for i, v in enumerate(value))
    if any(b <= a for a, b in itertools.pairwise(out)):
        check.fail(f"{key} must increase, got {list(out)}")
    return out


@dataclass(frozen=True)
class LiftSettings:
    """Validated ``[lift]`` section: see ``config/defaults/lift.toml``."""

    window_days: int
    min_control: int
    tenure_days: tuple[int, ...]
    prior_days: int
    prior_tickets: tuple[int, ...]
    other_touches: tuple[int, ...]
    max_exposed: int
    max_control: int
    bootstrap: int
    interval: float
    seed: int

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> LiftSettings:
        """The packaged ``[lift]`` section with ``over`` on top, validated."""
        check = Checker("lift")
        raw = section("lift", over)
        check.keys(raw, tuple(cls.__dataclass_fields__))
        return cls(
            window_days=check.integer(raw["window_days"], "window_days", lo=1, hi=365),
            min_control=check.integer(raw["min_control"], "min_control", lo=1),
            tenure_days=_edges(check, raw["tenure_days"], "tenure_days"),
            prior_days=check.integer(raw["prior_days"], "prior_days", lo=1),
            prior_tickets=_edges(check, raw["prior_tickets"], "prior_tickets"),
            other_touches=_edges(check, raw["other_touches"], "other_touches"),
            max_exposed=check.integer(raw["max_exposed"], "max_exposed", lo=100),
            max_control=check.integer(raw["max_control"], "max_control", lo=100),
            bootstrap=check.integer(raw["bootstrap"], "bootstrap", lo=20, hi=100_000),
            interval=check.number(raw["interval"], "interval", lo=0.5, hi=0.999),
            seed=check.integer(raw["seed"], "seed", lo=0),
        )


@dataclass(frozen=True)
class ForecastSettings:
    """Validated ``[forecast]`` section: see ``config/defaults/forecast.toml``."""

    tail_days: int
    max_days: int
    interval: float
    simulations: int
    seed: int
    prior_log_sd: float
    prior_weight: float
    backtest_days: int
    backtest_min_tickets: float
    weights: Mapping[str, float]
    hours_per_agent_day: float
    tight: float
    baseline_days: int
    handle_minutes: Mapping[str, float]

    def minutes(self, category: str | None) -> float:
        """Agent minutes to handle a ticket of ``category``."""
        return self.handle_minutes.get(str(category), self.handle_minutes["default"])

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> ForecastSettings:
        """The packaged ``[forecast]`` section with ``over`` on top, validated."""
        check = Checker("forecast")
        raw = section("forecast", over)
        check.keys(raw, tuple(cls.__dataclass_fields__))
        weights = check.table(raw["weights"], "weights", ("channel", "tag", "other"))
        minutes = check.table(raw["handle_minutes"], "handle_minutes")
        if "default" not in minutes:
            check.fail("handle_minutes.default is required")
        return cls(
            tail_days=check.integer(raw["tail_days"], "tail_days", lo=0, hi=365),
            max_days=check.integer(raw["max_days"], "max_days", lo=1, hi=730),
            interval=check.number(raw["interval"], "interval", lo=0.5, hi=0.999),
            simulations=check.integer(raw["simulations"], "simulations", lo=100, hi=1_000_000),
            seed=check.integer(raw["seed"], "seed", lo=0),
            prior_log_sd=check.number(raw["prior_log_sd"], "prior_log_sd", lo=0),
            prior_weight=check.number(raw["prior_weight"], "prior_weight", lo=0),
            backtest_days=check.integer(raw["backtest_days"], "backtest_days", lo=1, hi=365),
            backtest_min_tickets=check.number(raw["backtest_min_tickets"],
                                              "backtest_min_tickets", lo=0),
            weights={str(k): check.number(v, f"weights.{k}", lo=0) for k, v in weights.items()},
            hours_per_agent_day=check.number(raw["hours_per_agent_day"], "hours_per_agent_day",
                                             positive=True, hi=24),
            tight=check.number(raw["tight"], "tight", lo=0, hi=1),
            baseline_days=check.integer(raw["baseline_days"], "baseline_days", lo=1),
            handle_minutes={str(k): check.number(v, f"handle_minutes.{k}", lo=0)
                            for k, v in minutes.items()},
        )
