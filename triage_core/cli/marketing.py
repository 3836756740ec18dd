"""The marketing verb: ``triage attribution``."""

from __future__ import annotations

import click

from triage_core.cli.common import (
    config_option,
    db_option,
    json_option,
    load_config,
    print_json,
    table,
)


@click.command(
    "attribution", short_help="tickets, sentiment, support cost and ROI per campaign",
    help="Tickets, sentiment, support cost and ROI per campaign.")
@db_option()
@config_option
@click.option("--model", default="last_touch",
              help="first_touch, last_touch, linear, time_decay, position_based or data_driven "
              "(default last_touch)")
@click.option("--vs", default=None, help="a second model, side by side")
@click.option("--lookback-days", type=float, default=None,
              help="touches this many days before the ticket count"
                   " (default: [attribution] lookback_days)")
@click.option("--half-life-days", type=float, default=None,
              help="time_decay half-life in days (default: [attribution] half_life_days)")
@json_option("print one JSON list on stdout")
def attribution_cmd(db: str, config: str | None, model: str, vs: str | None,
                    lookback_days: float | None, half_life_days: float | None,
                    as_json: bool) -> None:
    from triage_core import marketing
    from triage_core.store import Store

    settings = load_config(config).get("attribution")
    with Store(db) as store:
        if vs:
            df = marketing.compare_models(store, model, vs, lookback_days=lookback_days,
                                            half_life_days=half_life_days, config=settings)
        else:
            df = marketing.campaign_impact(store, model, lookback_days=lookback_days,
                                             half_life_days=half_life_days, config=settings)
    if as_json:
        print_json(marketing.to_json_records(df))
    elif vs:
        cols = [c for c in df.columns if c.startswith(("tickets_", "support_cost_",
                                                       "roi_after_support_"))]
        print(table(df, ["campaign_id", "name", *cols]))
    else:
        print(table(df, ["campaign_id", "name", "tickets", "negative_tickets", "support_cost",
                         "spend", "revenue", "roi_after_support"]))

