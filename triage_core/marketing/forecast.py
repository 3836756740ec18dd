"""Forecast of a planned campaign's support load, and its backtest on past campaigns.

Given a channel, utm tags or similar past campaigns (``like``), planned start and end, expected
reach, spend and expected revenue: tickets per day after launch with an interval
(``[forecast] interval``, default 80 %), category mix and negative share, support cost,
agent-hours per team against the teams' capacity (:mod:`triage_core.marketing.staffing`), and
ROI after the expected support cost.

The tickets are those attribution will credit to the campaign (the chosen model, default last
touch), as on the campaign page after launch. Each past campaign weighs by its similarity to the
plan (``[forecast.weights]``: the same channel, shared utm_source / utm_medium /
utm_campaign tags); when none is similar every past campaign weighs the same. Given ``like``
campaigns, the forecast follows those alone (and their channel's reach curve). The numbers are in
:mod:`triage_core.marketing._projection`; the history is one pass of DuckDB SQL
(:mod:`triage_core.marketing.history`).

:func:`backtest` forecasts every past campaign from the campaigns that ended before it
launched (seen only up to that launch), with its actual reach, duration and channel, and
compares the tickets of its first ``backtest_days``: ``mape`` (mean absolute percentage error),
``coverage`` (share of actual totals inside the interval) and ``n_campaigns``, over the
campaigns with at least ``backtest_min_tickets`` actual tickets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from triage_core import moments
from triage_core.errors import TriageError
from triage_core.marketing._projection import Projection, combine, measured, project
from triage_core.marketing.attribution import check_model
from triage_core.marketing.history import History, campaign_facts, load_history
from triage_core.marketing.impact import to_json_records
from triage_core.marketing.settings import (
    AttributionSettings,
    ForecastSettings,
    attribution_settings,
)
from triage_core.marketing.staffing import staffing, team_load
from triage_core.ops.health import newest_created
from triage_core.ops.routing.rules import RoutingRules
from triage_core.store import Store

__all__ = ["Backtest", "Forecast", "Plan", "backtest", "forecast_campaign", "plan_defaults"]


@dataclass(frozen=True)
class Plan:
    """A planned campaign. ``end`` defaults to ``start`` plus the duration of the first
    ``like`` campaign (else 14 days); ``spend`` and ``revenue`` are optional."""

    start: Any
    reach: float
    end: Any = None
    like: tuple[str, ...] = ()
    channel: str | None = None
    tags: tuple[str, ...] = ()
    spend: float | None = None
    revenue: float | None = None

    def __post_init__(self) -> None:
        start = _timestamp(self.start, "start")
        object.__setattr__(self, "start", start)
        if self.end is not None:
            end = _timestamp(self.end, "end")
            if end <= start:
                raise TriageError(f"end ({end.date()}) must be after start ({start.date()})")
            object.__setattr__(self, "end", end)
        for key in ("reach", "spend", "revenue"):
            value = getattr(self, key)
            if value is None and key != "reach":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not np.isfinite(value) or value < 0 or (key == "reach" and value == 0):
                least = "greater than 0" if key == "reach" else "of at least 0"
                raise TriageError(f"{key} must be a number {least} (got {value!r})")
        object.__setattr__(self, "like", tuple(self.like))
        object.__setattr__(self, "tags", tuple(t.strip() for t in self.tags if t.strip()))


def _timestamp(value: Any, key: str) -> pd.Timestamp:
    return moments.moment(value, key)


def _weights(campaigns: pd.DataFrame, w: Mapping[str, float], channel: str | None,
             tags: Sequence[str]) -> np.ndarray:
    """Similarity weight of each past campaign (rows of ``campaigns``); all 1 when none is
    similar."""
    c = campaigns.fillna({"utm_source": "", "utm_medium": "", "utm_campaign": ""})
    tagged = sum(c[col].isin(tags).to_numpy(dtype=float)
                 for col in ("utm_source", "utm_medium", "utm_campaign"))
    score = w["channel"] * (c["channel"] == channel).to_numpy(dtype=float) + w["tag"] * tagged
    if not (score > 0).any():
        return np.ones(len(c))
    return score + w["other"]


@dataclass(frozen=True)
class _Mix:
    """What the similar campaigns' tickets were: category x vip shares, negative share of the
    labelled ones (None without labels) and support cost per ticket."""

    shares: pd.DataFrame  # category, vip, share
    negative_share: float | None
    cost_per_ticket: float


def _mix(h: History, rows: np.ndarray, usable: np.ndarray, weights: np.ndarray,
         horizon: int) -> _Mix:
    w = weights / weights.sum()
    cube = np.zeros(h.tickets.shape[2:])
    neg, cost = [], []
    for j, u, wj in zip(rows, usable, w, strict=True):
        span = measured(h, j, u, horizon)
        t = h.tickets[j, span].sum(axis=0)
        total = t.sum()
        if total > 0:
            cube += wj * t / total
            cost.append((wj, h.cost[j, span].sum() / total))
        if h.labelled[j, span].sum() > 0:
            neg.append((wj, h.negative[j, span].sum() / h.labelled[j, span].sum()))
    if cube.sum() > 0:
        cube /= cube.sum()
    shares = pd.DataFrame([(c, bool(v), float(cube[i, v])) for i, c in enumerate(h.categories)
                           for v in (0, 1) if cube[i, v] > 0],
                          columns=["category", "vip", "share"])

    def mean(pairs: list[tuple[float, float]]) -> float | None:
        return sum(a * b for a, b in pairs) / sum(a for a, _ in pairs) if pairs else None

    return _Mix(shares, mean(neg), mean(cost) or 0.0)


def _projection(h: History, rows: np.ndarray, usable: np.ndarray, weights: np.ndarray,
                s: ForecastSettings, *, reach: float, duration: float, horizon: int,
                channel: str | None) -> Projection:
    own = (h.campaigns["channel"].to_numpy()[rows] == channel) if channel else \
        np.zeros(rows.size, dtype=bool)
    daily = np.stack([project(h, j, u, reach=reach, duration=duration, horizon=horizon,
                              own_ramp=bool(o))
                      for j, u, o in zip(rows, usable, own, strict=True)])
    return combine(daily, weights, prior_log_sd=s.prior_log_sd, prior_weight=s.prior_weight)


def _chosen(facts: pd.DataFrame, plan: Plan, w: Mapping[str, float]
            ) -> tuple[list[str], str | None]:
    """The campaigns to forecast from (the ``like`` ones, else those similar by channel and
    tags, else all) and the plan's channel (given, else the first ``like`` campaign's)."""
    missing = [c for c in plan.like if c not in set(facts["campaign_id"])]
    if missing:
        raise TriageError(f"unknown campaign {missing[0]!r} in --like; see 'triage attribution'"
                          " for the campaign ids")
    channel = plan.channel
    if channel is None and plan.like:
        channel = str(facts.set_index("campaign_id").at[plan.like[0], "channel"])
    if plan.like:
        return list(plan.like), channel
    weights = _weights(facts, w, channel, plan.tags)
    return facts["campaign_id"][weights > 0].tolist(), channel


def _usable(h: History, plan: Plan, w: Mapping[str, float], channel: str | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loaded campaigns with reach and a day of tickets after launch, their usable days
    and weights (> 0 only)."""
    c = h.campaigns
    usable = c["observed_days"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero((usable > c["first_day"].to_numpy()) & (c["reach"].to_numpy() > 0))
    if rows.size == 0 and plan.like:
        raise TriageError(f"--like {', '.join(plan.like)}: no touchpoints or no day of"
                          " tickets after the launch to forecast from")
    if rows.size == 0:
        raise TriageError("no past campaign with reach and a day of tickets after its launch to"
                          " forecast from; import campaigns, touchpoints and tickets first")
    weights = (np.ones(rows.size) if plan.like
               else _weights(c.iloc[rows], w, channel, plan.tags))
    keep = weights > 0
    return rows[keep], usable[rows[keep]], weights[keep]


@dataclass(frozen=True)
class Forecast:
    """A planned campaign's forecast (see the module docstring); ``to_json`` for the CLI."""

    plan: Plan
    model: str
    interval: float
    similar: pd.DataFrame  # campaign_id, name, channel, start_at, reach, weight
    daily: pd.DataFrame  # day, date, tickets, low, high
    tickets: float
    tickets_low: float
    tickets_high: float
    category_mix: dict[str, float]
    negative_share: float | None
    support_cost: float
    support_cost_high: float
    staffing: pd.DataFrame
    roi: float | None = None
    roi_low: float | None = None
    verdict: str = field(default="")

    def to_json(self) -> dict[str, Any]:
        p = self.plan
        return {
            "plan": {"start": p.start.isoformat(), "end": p.end.isoformat(), "reach": p.reach,
                     "like": list(p.like), "channel": p.channel, "tags": list(p.tags),
                     "spend": p.spend, "revenue": p.revenue},
            "model": self.model, "interval": self.interval,
            "tickets": self.tickets, "tickets_low": self.tickets_low,
            "tickets_high": self.tickets_high, "category_mix": self.category_mix,
            "negative_share": self.negative_share, "support_cost": self.support_cost,
            "support_cost_high": self.support_cost_high, "roi": self.roi,
            "roi_low": self.roi_low, "verdict": self.verdict,
            "daily": to_json_records(self.daily), "staffing": to_json_records(self.staffing),
            "similar": to_json_records(self.similar),
        }


def _verdict(plan: Plan, cost: float, cost_high: float) -> tuple[float | None, float | None,
                                                                   str]:
    """ROI after the expected support cost, after the high one, and the verdict in words."""
    if plan.spend is None or plan.revenue is None:
        return None, None, "no ROI: give the planned spend and the expected revenue"
    if not plan.spend:  # ROI is per unit spent
        return None, None, "no ROI: it needs a planned spend above 0"
    roi = (plan.revenue - plan.spend - cost) / plan.spend
    low = (plan.revenue - plan.spend - cost_high) / plan.spend
    if low > 0:
        return roi, low, "worth it: profitable even if support runs high"
    if roi > 0:
        return roi, low, "worth it at the expected support cost, not if support runs high"
    return roi, low, "not worth it: support cost eats the return"


def _settings(forecast: ForecastSettings | Mapping[str, Any] | None) -> ForecastSettings:
    if isinstance(forecast, ForecastSettings):
        return forecast
    return ForecastSettings.from_mapping(forecast)


def _horizon(store: Store, facts: pd.DataFrame, plan: Plan, s: ForecastSettings
             ) -> tuple[Plan, float, int]:
    """The plan with its end filled in (as long as the first ``like`` campaign, else 14 days),
    its duration in days and the days forecast."""
    if plan.end is None:
        days = 14.0
        if plan.like:
            like = facts.set_index("campaign_id").loc[plan.like[0]]
            end = like["end_at"] if pd.notna(like["end_at"]) else newest_created(store)
            if end is not None and pd.notna(end):
                days = max((pd.Timestamp(end) - like["start_at"]).total_seconds() / 86_400, 1.0)
        plan = Plan(**{**vars(plan), "end": plan.start + pd.Timedelta(days=days)})
    duration = max((plan.end - plan.start).total_seconds() / 86_400, 1.0)
    return plan, duration, int(min(np.ceil(duration) + s.tail_days, s.max_days))


def forecast_campaign(
    store: Store,
    plan: Plan,
    model: str = "last_touch",
    forecast: ForecastSettings | Mapping[str, Any] | None = None,
    attribution: AttributionSettings | Mapping[str, Any] | None = None,
    routing: RoutingRules | Mapping[str, Any] | None = None,
) -> Forecast:
    """Forecast ``plan`` from the history of similar campaigns (see the module docstring)."""
    check_model(model)
    s = _settings(forecast)
    rules = routing if isinstance(routing, RoutingRules) else RoutingRules.from_mapping(routing)
    facts = campaign_facts(store)
    ids, channel = _chosen(facts, plan, s.weights)
    plan, duration, horizon = _horizon(store, facts, plan, s)
    h = load_history(store, model, attribution_settings(attribution), horizon,
                     rules.vip_segments, campaigns=ids)
    rows, usable, weights = _usable(h, plan, s.weights, channel)
    proj = _projection(h, rows, usable, weights, s, reach=plan.reach, duration=duration,
                       horizon=horizon, channel=channel)
    sims = proj.simulate(s.simulations, s.seed)
    tail = (1.0 - s.interval) / 2.0
    point = proj.total * proj.profile
    low, high = np.quantile(sims, [tail, 1.0 - tail], axis=0)
    t_low, t_high = np.quantile(sims.sum(axis=1), [tail, 1.0 - tail])
    mix = _mix(h, rows, usable, weights, horizon)
    if mix.shares.empty and len(h.campaigns) < len(facts):
        # the similar campaigns brought no tickets to learn what they are and cost from:
        # every past campaign's, alike, rather than tickets that cost nothing
        everyone = load_history(store, model, attribution_settings(attribution), horizon,
                                rules.vip_segments)
        with contextlib.suppress(TriageError):
            all_rows, all_usable, _ = _usable(everyone, Plan(**{**vars(plan), "like": ()}),
                                              s.weights, None)
            mix = _mix(everyone, all_rows, all_usable, np.ones(all_rows.size), horizon)
    cost = proj.total * mix.cost_per_ticket
    cost_high = float(t_high) * mix.cost_per_ticket
    roi, roi_low, verdict = _verdict(plan, cost, cost_high)
    days = np.arange(horizon)
    shares = mix.shares.groupby("category")["share"].sum()
    similar = h.campaigns.iloc[rows][["campaign_id", "name", "channel", "start_at", "reach"]]
    return Forecast(
        plan=plan, model=model, interval=s.interval,
        similar=similar.assign(weight=weights).sort_values("weight", ascending=False,
                                                           ignore_index=True),
        daily=pd.DataFrame({"day": days, "date": plan.start
                            + pd.to_timedelta(days, unit="D"), "tickets": point,
                            "low": low, "high": high}),
        tickets=float(proj.total), tickets_low=float(t_low), tickets_high=float(t_high),
        category_mix={str(k): float(v) for k, v in shares.sort_values(ascending=False).items()},
        negative_share=mix.negative_share, support_cost=float(cost),
        support_cost_high=cost_high,
        staffing=staffing(point, mix.shares, rules, s, team_load(store, rules, s)),
        roi=roi, roi_low=roi_low, verdict=verdict)


@dataclass(frozen=True)
class Backtest:
    """Each past campaign forecast from the ones that ended before it launched; ``mape``,
    ``coverage`` and ``n_campaigns`` count the campaigns with at least ``min_tickets`` actual
    tickets (``counted``)."""

    rows: pd.DataFrame  # campaign_id, name, channel, start_at, history, forecast, low, high,
    #                     actual, ape, covered, counted
    days: int
    interval: float
    min_tickets: float
    model: str

    @property
    def n_campaigns(self) -> int:
        return int(self.rows["counted"].sum())

    @property
    def mape(self) -> float | None:
        ape = self.rows.loc[self.rows["counted"], "ape"]
        return float(ape.mean()) if len(ape) else None

    @property
    def coverage(self) -> float | None:
        covered = self.rows.loc[self.rows["counted"], "covered"]
        return float(covered.mean()) if len(covered) else None

    def to_json(self) -> dict[str, Any]:
        return {"mape": self.mape, "coverage": self.coverage, "n_campaigns": self.n_campaigns,
                "days": self.days, "interval": self.interval, "min_tickets": self.min_tickets,
                "model": self.model, "campaigns": to_json_records(self.rows)}


def _backtest_one(h: History, i: int, s: ForecastSettings) -> tuple | None:
    """Forecast of campaign ``i``'s first ``backtest_days`` from the campaigns that ended
    before its launch (seen up to it), or None when it cannot be backtested."""
    c = h.campaigns
    start = c["start_at"].iat[i]
    if (c["observed_days"].iat[i] < s.backtest_days or c["first_day"].iat[i] > 0
            or c["reach"].iat[i] <= 0):
        return None
    seen = np.floor((start - c["start_at"]).dt.total_seconds() / 86_400).to_numpy()
    usable = np.minimum(c["observed_days"].to_numpy(), np.where(seen > 0, seen, 0)).astype(int)
    done = ((c["end_at"] < start).to_numpy(dtype=bool) & (usable > c["first_day"].to_numpy())
            & (c["reach"] > 0).to_numpy())
    rows = np.flatnonzero(done)
    if rows.size == 0:
        return None
    tags = [str(c[t].iat[i]) for t in ("utm_source", "utm_medium", "utm_campaign")
            if pd.notna(c[t].iat[i])]
    weights = _weights(c.iloc[rows], s.weights, c["channel"].iat[i], tags)
    keep = weights > 0
    proj = _projection(h, rows[keep], usable[rows[keep]], weights[keep], s,
                       reach=float(c["reach"].iat[i]), duration=float(c["duration_days"].iat[i]),
                       horizon=s.backtest_days, channel=c["channel"].iat[i])
    totals = proj.simulate(s.simulations, s.seed).sum(axis=1)
    tail = (1.0 - s.interval) / 2.0
    low, high = np.quantile(totals, [tail, 1.0 - tail])
    actual = float(h.tickets[i, :s.backtest_days].sum())
    ape = abs(proj.total - actual) / actual if actual > 0 else np.nan
    return (c["campaign_id"].iat[i], c["name"].iat[i], c["channel"].iat[i], start,
            int(keep.sum()), proj.total, low, high, actual, ape, bool(low <= actual <= high))


def backtest(
    store: Store,
    model: str = "last_touch",
    forecast: ForecastSettings | Mapping[str, Any] | None = None,
    attribution: AttributionSettings | Mapping[str, Any] | None = None,
) -> Backtest:
    """Forecast every campaign with ``backtest_days`` of tickets after its launch and at least
    one campaign that ended before it, from those; compare with what happened."""
    check_model(model)
    s = _settings(forecast)
    h = load_history(store, model, attribution_settings(attribution), s.backtest_days,
                     RoutingRules.from_mapping().vip_segments)
    found = [r for i in range(len(h.campaigns)) if (r := _backtest_one(h, i, s)) is not None]
    rows = pd.DataFrame(found, columns=["campaign_id", "name", "channel", "start_at",
                                        "history", "forecast", "low", "high", "actual", "ape",
                                        "covered"])
    rows["counted"] = rows["actual"] >= s.backtest_min_tickets
    return Backtest(rows, s.backtest_days, s.interval, s.backtest_min_tickets, model)


def plan_defaults(store: Store) -> dict[str, Any]:
    """A sensible first plan for the planning page: the most recent campaign's channel,
    the median reach (approximate counts), spend and revenue of the past campaigns of that
    channel, two weeks from the day after the newest ticket."""
    c = store.query(
        """SELECT c.campaign_id, c.channel, c.spend, c.revenue, c.start_at,
                  approx_count_distinct(p.customer_id) AS reach
           FROM campaigns c LEFT JOIN touchpoints p USING (campaign_id)
           GROUP BY ALL ORDER BY c.start_at DESC NULLS LAST, c.campaign_id""")
    newest = newest_created(store)
    start = (pd.Timestamp(newest) if newest is not None else pd.Timestamp.now()).normalize() \
        + pd.Timedelta(days=1)
    channel = str(c["channel"].dropna().iat[0]) if c["channel"].notna().any() else None
    same = c[c["channel"] == channel] if channel is not None else c

    def median(col: str) -> float | None:
        value = same[col].median()
        return None if pd.isna(value) else float(value)

    return {"start": start.date(), "end": (start + pd.Timedelta(days=14)).date(),
            "channel": channel, "reach": max(median("reach") or 1000.0, 1.0),
            "spend": median("spend"), "revenue": median("revenue")}
