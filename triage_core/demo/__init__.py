"""Seeded synthetic "demo world": customers, campaigns, agents, touchpoints and tickets.

``generate(out_dir, tickets=25_000, seed=42)`` writes a deterministic data set (same seed ->
byte-identical files) that tells a few causal stories the dashboard can show:

* "Spring Sale 40% off" (email + paid social, launched 2026-03-16 09:00) -> coupon_promo, billing
  and refund tickets from the customers it touched, in the days after their touch;
* "App 5.0 launch" (email + app-store ads, 2026-05-05 10:00) -> app_crash tickets from touched
  customers;
* each of those story tickets is caused by one campaign's touch of one existing customer (two
  story campaigns touching a customer cause twice as many): :func:`caused_tickets` gives the
  ground truth per campaign, which ``triage lift`` can be checked against;
* an outage 2026-04-21 06:00 .. 2026-04-23 18:00 -> a spike of furious app_crash and
  account_access tickets, and slow answers;
* vip and enterprise customers write more security_fraud and account_access tickets, are angrier
  and complain about waiting;
* fewer tickets at weekends with a Monday peak; slower first responses at weekends and at night.

All randomness is drawn with numpy up front; tickets and touchpoints are then rendered and written
in chunks, so a million tickets take well under 2 GiB. The chunk size does not change the data.

Modules: :mod:`~triage_core.demo.world` (the numbers: customers, campaigns, agents, touchpoints,
ticket events and handling), :mod:`~triage_core.demo.plan` (every random choice for the text),
:mod:`~triage_core.demo.render` (subjects and bodies from the templates in ``templates/*.toml``,
compiled by :mod:`~triage_core.demo.pools`) and :mod:`~triage_core.demo.writers` (CSV/Parquet).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from triage_core.demo import render, writers
from triage_core.demo.plan import text_plan
from triage_core.demo.world import (
    APP_RELEASE_CAMPAIGN_IDS,
    CATEGORIES,
    CATEGORY_TEAM,
    DISCOUNT_CAMPAIGN_IDS,
    DISCOUNT_CODE,
    INCIDENT_FROM,
    INCIDENT_UNTIL,
    TICKETS_FROM,
    TICKETS_UNTIL,
    Agents,
    Campaigns,
    Customers,
    FirstTouches,
    make_agents,
    make_campaigns,
    make_customers,
    ticket_events,
    ticket_handling,
    touch_blocks,
)
from triage_core.demo.world import caused_tickets as _caused
from triage_core.errors import ConfigError

__all__ = [
    "APP_RELEASE_CAMPAIGN_IDS",
    "CATEGORIES",
    "CATEGORY_TEAM",
    "DEMO_SEED",
    "DEMO_TICKETS",
    "DISCOUNT_CAMPAIGN_IDS",
    "DISCOUNT_CODE",
    "INCIDENT_FROM",
    "INCIDENT_UNTIL",
    "TICKETS_FROM",
    "TICKETS_UNTIL",
    "caused_tickets",
    "generate",
    "main",
]

DEMO_TICKETS = 25_000
DEMO_SEED = 42

_Progress = Callable[[str, int, int], None]
# One random stream per part of the world ([seed, stream]; stream 2 is the touchpoints'): each
# part is the same whatever is drawn, or not drawn, before it.
_CUSTOMERS, _CAMPAIGNS, _AGENTS, _EVENTS, _HANDLING, _TEXT = 1, 3, 4, 5, 6, 7


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"demo: {name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"demo: {name} must be at least {minimum}, got {value}")
    return int(value)


def _check_touches(touches: object) -> tuple[int, int]:
    if not isinstance(touches, Sequence) or len(touches) != 2:
        raise ConfigError(f"demo: touches_per_customer must be a (min, max) pair, got {touches!r}")
    t_lo = _check_int("touches_per_customer min", touches[0], 1)
    return t_lo, _check_int("touches_per_customer max", touches[1], t_lo)


def _sizes(tickets: object, seed: object, customers: object, touches_per_customer: object
           ) -> tuple[int, int, int, tuple[int, int]]:
    """Checked (tickets, seed, customers, touches); customers default to 0.32 per ticket."""
    n = _check_int("tickets", tickets, 1)
    seed = _check_int("seed", seed, 0)
    n_cust = (max(200, round(n * 0.32)) if customers is None
              else _check_int("customers", customers, 1))
    return n, seed, n_cust, _check_touches(touches_per_customer)


def generate(
    out_dir: str | Path,
    tickets: int = DEMO_TICKETS,
    seed: int = DEMO_SEED,
    customers: int | None = None,
    progress: _Progress | None = None,
    *,
    touches_per_customer: tuple[int, int] = (1, 8),
    chunk_size: int = 100_000,
) -> dict[str, Path]:
    """Write the demo world to ``out_dir``; return ``{table: path}``.

    customers.csv, campaigns.csv and agents.csv are CSV (timestamps 'YYYY-MM-DD HH:MM:SS');
    tickets.parquet and touchpoints.parquet are zstd Parquet with real timestamp columns.
    ``customers`` defaults to 0.32 per ticket (at least 200). A customer with a campaign journey
    gets between ``touches_per_customer`` touches (about 65% of customers have one).
    ``chunk_size`` is the number of tickets rendered and written at a time; it changes the
    Parquet row groups, not the data. ``progress(step, done, total)`` is called as work is done.
    """
    n, seed, n_cust, touches = _sizes(tickets, seed, customers, touches_per_customer)
    chunk = _check_int("chunk_size", chunk_size, 1)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"demo: {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    report: _Progress = progress if progress is not None else (lambda _s, _d, _t: None)
    paths = {
        "customers": out / "customers.csv", "campaigns": out / "campaigns.csv",
        "agents": out / "agents.csv", "touchpoints": out / "touchpoints.parquet",
        "tickets": out / "tickets.parquet",
    }

    cust = make_customers(np.random.default_rng([seed, _CUSTOMERS]), n_cust)
    writers.write_customers(paths["customers"], cust)
    report("customers", n_cust, n_cust)
    camp = make_campaigns(np.random.default_rng([seed, _CAMPAIGNS]))
    writers.write_campaigns(paths["campaigns"], camp)
    report("campaigns", len(camp.ids), len(camp.ids))
    agents = make_agents(np.random.default_rng([seed, _AGENTS]))
    writers.write_agents(paths["agents"], agents)
    report("agents", len(agents.team), len(agents.team))
    first = _touchpoints(paths["touchpoints"], seed, cust, camp, touches, report)
    ev = ticket_events(np.random.default_rng([seed, _EVENTS]), n, cust, first)
    hd = ticket_handling(np.random.default_rng([seed, _HANDLING]), ev, cust, agents)
    plan = text_plan(np.random.default_rng([seed, _TEXT]), ev, hd, cust)
    _tickets(paths["tickets"], ev, hd, plan, cust, agents, chunk, report)
    return paths


def caused_tickets(
    tickets: int = DEMO_TICKETS,
    seed: int = DEMO_SEED,
    customers: int | None = None,
    *,
    touches_per_customer: tuple[int, int] = (1, 8),
) -> dict[str, int]:
    """The ground truth of the world :func:`generate` writes with the same arguments:
    ``{campaign_id: tickets the campaign caused}`` for every campaign (0 for most). A story
    ticket is caused by one campaign's touch of its customer ("Spring Sale" and "App 5.0"
    campaigns); without that touch it would not exist. Only the numbers are drawn (no text)."""
    n, seed, n_cust, touches = _sizes(tickets, seed, customers, touches_per_customer)
    cust = make_customers(np.random.default_rng([seed, _CUSTOMERS]), n_cust)
    camp = make_campaigns(np.random.default_rng([seed, _CAMPAIGNS]))
    first = FirstTouches.untouched(len(cust))
    for block in touch_blocks(seed, cust, camp, touches):
        first.record(block, camp)
    return _caused(ticket_events(np.random.default_rng([seed, _EVENTS]), n, cust, first))


def _touchpoints(path: Path, seed: int, cust: Customers, camp: Campaigns,
                 touches: tuple[int, int], report: _Progress) -> FirstTouches:
    """Draw and write every customer's journey, a block at a time; return their first touches
    by the story campaigns."""
    first = FirstTouches.untouched(len(cust))
    with writers.TouchpointWriter(path, cust, camp) as out:
        for block in touch_blocks(seed, cust, camp, touches):
            first.record(block, camp)
            out.write(block)
            report("touchpoints", block.hi, len(cust))
    return first


def _tickets(path: Path, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
             plan: dict[str, np.ndarray], cust: Customers, agents: Agents, chunk: int,
             report: _Progress) -> None:
    """Render and write the tickets, ``chunk`` at a time."""
    n = ev["t"].size
    with writers.TicketWriter(path, n, cust, agents) as out:
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            out.write(lo, hi, ev, hd, *render.render(lo, hi, ev, hd, plan, cust))
            report("tickets", hi, n)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m triage_core.demo OUT_DIR [--tickets N] [--seed S]`` (regenerates sample_data)."""
    parser = argparse.ArgumentParser(prog="python -m triage_core.demo", description=main.__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--tickets", type=int, default=DEMO_TICKETS)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args(argv)
    for table, path in generate(args.out_dir, args.tickets, args.seed, args.customers).items():
        print(f"{table}: {path} ({path.stat().st_size:,} bytes)")
    return 0
