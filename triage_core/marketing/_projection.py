"""The numbers behind :mod:`triage_core.marketing.forecast` (numpy): project each similar past
campaign onto a planned one, combine them, and simulate the interval.

Past campaign j, seen for ``usable`` days after its launch: its rate is attributed tickets per
reached customer and day, (tickets + 0.5) / reached customer-days, over as many days since its
launch as are forecast (inside the ticket data); its reach curve F_j is the share of its customers
reached by the end of each day. A campaign of the plan's channel lends its reach curve: planned
day k lies at the same share of the planned duration as day k * D_j / D of campaign j (F = 1
after the end); others reach the planned customers evenly over the planned days. So campaign j
says: tickets(k) = reach x rate_j x F(k). The
forecast is the weighted median of the campaigns' totals spread over their weighted daily
profile; its spread is the weighted spread of their log totals, pulled towards
``prior_log_sd`` for few campaigns, widened by the uncertainty of the mean, plus Poisson noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from triage_core.marketing.history import History

__all__ = ["Projection", "combine", "measured", "project", "ramp", "rate"]


def ramp(h: History, j: int, usable: int) -> np.ndarray:
    """F_j at the end of each of the ``usable`` days (share of the campaign's reach)."""
    reach = float(h.campaigns["reach"].iat[j])
    cum = np.cumsum(h.reached[j, :usable])
    return cum / reach if reach > 0 else np.ones(usable)


def _curve(f: np.ndarray, duration: float, at: np.ndarray) -> np.ndarray:
    """F at fractional days ``at`` (0 = end of the first day, -1 = the launch): the observed
    curve, then a straight line to 1 at the campaign's end when it was seen for less, then
    flat."""
    grid, vals = np.r_[-1.0, np.arange(f.size, dtype=np.float64)], np.r_[0.0, f]
    if duration - 1.0 > grid[-1]:
        grid, vals = np.r_[grid, duration - 1.0], np.r_[vals, 1.0]
    return np.interp(at, grid, vals)


def measured(h: History, j: int, usable: int, horizon: int) -> slice:
    """The days since launch campaign ``j`` is measured over: its first ``horizon`` days
    inside the ticket data (and before ``usable``), like for like with the forecast days."""
    first = int(h.campaigns["first_day"].iat[j])
    return slice(first, int(min(usable, first + horizon)))


def rate(h: History, j: int, usable: int, horizon: int) -> float:
    """Attributed tickets per reached customer and day of campaign ``j`` over
    :func:`measured` days."""
    days = measured(h, j, usable, horizon)
    customer_days = float(ramp(h, j, days.stop)[days].sum()) * float(h.campaigns["reach"].iat[j])
    return (float(h.tickets[j, days].sum()) + 0.5) / max(customer_days, 1.0)


def project(h: History, j: int, usable: int, *, reach: float, duration: float, horizon: int,
            own_ramp: bool) -> np.ndarray:
    """Planned tickets per day (``horizon`` days) according to past campaign ``j``: its rate
    times the planned reach reached so far, on j's reach curve (``own_ramp``: a campaign of the
    plan's channel) or evenly over the planned days."""
    days = np.arange(horizon, dtype=np.float64)
    if own_ramp:
        dur_j = float(h.campaigns["duration_days"].iat[j])
        share = _curve(ramp(h, j, usable), dur_j, (days + 1.0) * dur_j / duration - 1.0)
    else:
        share = np.minimum((days + 1.0) / duration, 1.0)
    return reach * rate(h, j, usable, horizon) * share


@dataclass(frozen=True)
class Projection:
    """The combined forecast: median total, daily profile (sums to 1) and log spread."""

    total: float
    profile: np.ndarray
    log_sd: float

    def simulate(self, simulations: int, seed: int) -> np.ndarray:
        """Simulated tickets per day (simulations x days)."""
        rng = np.random.default_rng(seed)
        scale = np.exp(self.log_sd * rng.standard_normal((simulations, 1)))
        return rng.poisson(self.total * scale * self.profile[None, :]).astype(np.float64)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, 0.5)])


def combine(daily: np.ndarray, weights: np.ndarray, *, prior_log_sd: float,
            prior_weight: float) -> Projection:
    """Combine the campaigns' daily projections (campaigns x days) with their weights: the
    weighted median of their log totals (one unusual campaign does not drag the rest), their
    weighted spread, and their weighted daily profile."""
    w = weights / weights.sum()
    totals = np.maximum(daily.sum(axis=1), 1e-9)
    logs = np.log(totals)
    mu = float(w @ logs)
    n_eff = 1.0 / float((w ** 2).sum())
    var = float(w @ (logs - mu) ** 2) * (n_eff / (n_eff - 1.0) if n_eff > 1.0 else 0.0)
    spread = (prior_weight * prior_log_sd ** 2 + n_eff * var) / (prior_weight + n_eff)
    profile = w @ (daily / totals[:, None])
    return Projection(float(np.exp(_weighted_median(logs, w))), profile / profile.sum(),
                      float(np.sqrt(spread * (1.0 + 1.0 / n_eff))))
