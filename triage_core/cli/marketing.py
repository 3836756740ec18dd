"""The marketing verbs: ``triage attribution``, ``triage lift``, ``triage forecast``."""

from __future__ import annotations

import click

from triage_core.cli.common import (
    MAX_DAYS,
    MOMENT,
    FiniteFloatRange,
    config_option,
    db_option,
    existing_db,
    json_option,
    load_config,
    print_json,
    table,
    warn,
)
from triage_core.errors import TriageError


@click.command(
    "attribution", short_help="tickets, sentiment, support cost and ROI per campaign",
    help="Tickets, sentiment, support cost and ROI per campaign.")
@db_option()
@config_option
@click.option("--model", default="last_touch",
              help="first_touch, last_touch, linear, time_decay, position_based or data_driven "
              "(default last_touch)")
@click.option("--vs", default=None, help="a second model, side by side")
@click.option("--lookback-days", type=FiniteFloatRange(0, MAX_DAYS, min_open=True),
              default=None, help="touches this many days before the ticket count"
              " (default: [attribution] lookback_days)")
@click.option("--half-life-days", type=FiniteFloatRange(0, MAX_DAYS, min_open=True),
              default=None,
              help="time_decay half-life in days (default: [attribution] half_life_days)")
@json_option("print one JSON list on stdout")
def attribution_cmd(db: str, config: str | None, model: str, vs: str | None,
                    lookback_days: float | None, half_life_days: float | None,
                    as_json: bool) -> None:
    from triage_core import marketing
    from triage_core.store import Store

    settings = load_config(config).get("attribution")
    with Store(existing_db(db)) as store:
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



@click.command(
    "lift", short_help="incremental tickets each campaign caused (difference in differences)",
    help="Incremental tickets each campaign caused: its touched customers against similar "
    "untouched ones, before and after the touch (difference in differences), with a bootstrap "
    "interval, incremental negative tickets and support cost, beside the attributed credit.")
@db_option()
@config_option
@click.option("--window-days", type=click.IntRange(1, 365), default=None,
              help="days before and after the touch compared (default: [lift] window_days)")
@click.option("--model", default="last_touch",
              help="attribution model of the attributed credit shown beside (default last_touch)")
@click.option("--campaign", "campaigns", multiple=True, metavar="ID",
              help="only this campaign (repeatable; default every campaign)")
@json_option("print one JSON list on stdout")
def lift_cmd(db: str, config: str | None, window_days: int | None, model: str,
             campaigns: tuple[str, ...], as_json: bool) -> None:
    from triage_core.marketing import lift, to_json_records
    from triage_core.store import Store

    settings = load_config(config)
    with Store(existing_db(db)) as store:
        _known_campaigns(store, campaigns)
        df = lift.campaign_lift(store, window_days=window_days, model=model,
                                campaigns=campaigns or None, lift=settings.get("lift"),
                                attribution=settings.get("attribution"),
                                attributed=_stored_credit(store, model, settings))
    if df.empty or df["incremental_tickets"].isna().all():
        who = (f"campaign {', '.join(map(repr, campaigns))} has no" if campaigns
               else "no campaign has")
        warn([f"{who} touched and untouched customers with tickets around the touch: touches"
              " outside the dates of the imported tickets count for nothing (import the"
              " tickets of those days), and without campaigns, touchpoints and tickets there"
              " is nothing to compare"])
    if as_json:
        print_json(to_json_records(df))
    else:
        print(table(df, ["campaign_id", "name", "exposed", "control", "incremental_tickets",
                         "ci_low", "ci_high", "incremental_cost", "attributed_tickets"],
                    floatfmt="{:,.1f}"))


def _known_campaigns(store, campaigns: tuple[str, ...]) -> None:
    """Refuse a ``--campaign`` the database does not hold (as ``forecast --like`` does), rather
    than print an empty table."""
    if not campaigns:
        return
    known = set(store.query("SELECT campaign_id FROM campaigns")["campaign_id"])
    missing = [c for c in campaigns if c not in known]
    if missing:
        raise TriageError(f"unknown campaign {missing[0]!r} in --campaign; see 'triage "
                          "attribution' for the campaign ids")


def _stored_credit(store, model: str, settings: dict) -> object:
    """Attributed tickets per campaign from the campaign view the last full ``triage score``
    stored (last touch, the packaged attribution settings), when it is current; else None."""
    from triage_core.config import default_config
    from triage_core.ops import analytics

    if model != "last_touch" or settings.get("attribution") != \
            default_config().get("attribution"):
        return None
    stored = analytics.campaign_tables(store)
    if stored is None:
        return None
    impact = stored[0].dropna(subset=["campaign_id"])
    return impact.set_index("campaign_id")["tickets"]


@click.command(
    "forecast", short_help="support load of a planned campaign, or the forecast's backtest",
    help="Forecast a planned campaign from the history of similar ones (--like, else --channel "
    "and --tag): tickets per day with an interval, category mix, negative share, support cost, "
    "agent-hours per team against capacity and ROI after support cost. --backtest forecasts "
    "every past campaign from those that ended before it launched and reports the error.")
@db_option()
@config_option
@click.option("--like", "like", multiple=True, metavar="ID",
              help="a similar past campaign (repeatable); the forecast follows these")
@click.option("--channel", default=None, help="the planned campaign's channel, e.g. email")
@click.option("--tag", "tags", multiple=True, metavar="TAG",
              help="a utm_source, utm_medium or utm_campaign value it shares (repeatable)")
@click.option("--reach", type=float, default=None, help="customers it is expected to reach")
@click.option("--start", type=MOMENT, default=None, metavar="DATE",
              help="planned launch (date or time)")
@click.option("--end", type=MOMENT, default=None, metavar="DATE",
              help="planned end (default: as long as the first --like campaign, else 14 days)")
@click.option("--spend", type=float, default=None, help="planned spend (currency units)")
@click.option("--revenue", type=float, default=None, help="expected revenue (currency units)")
@click.option("--model", default="last_touch",
              help="attribution model whose tickets are forecast (default last_touch)")
@click.option("--backtest", is_flag=True,
              help="forecast each past campaign from the earlier ones and report the error")
@json_option("print one JSON object on stdout")
def forecast_cmd(db: str, config: str | None, like: tuple[str, ...], channel: str | None,
                 tags: tuple[str, ...], reach: float | None, start: str | None,
                 end: str | None, spend: float | None, revenue: float | None, model: str,
                 backtest: bool, as_json: bool) -> None:
    from triage_core.marketing import forecast
    from triage_core.store import Store

    settings = load_config(config)
    if not backtest and (reach is None or start is None):
        raise TriageError("give --reach and --start of the planned campaign (or --backtest)")
    with Store(existing_db(db)) as store:
        if backtest:
            result = forecast.backtest(store, model, forecast=settings.get("forecast"),
                                       attribution=settings.get("attribution"))
        else:
            plan = forecast.Plan(start=start, end=end, reach=reach, like=like, channel=channel,
                                 tags=tags, spend=spend, revenue=revenue)
            result = forecast.forecast_campaign(
                store, plan, model, forecast=settings.get("forecast"),
                attribution=settings.get("attribution"), routing=settings.get("routing"))
    if as_json:
        print_json(result.to_json())
    elif backtest:
        _print_backtest(result)
    else:
        _print_forecast(result)


def _print_backtest(b) -> None:
    if b.rows.empty:
        warn(["no campaign could be backtested: each needs a campaign that ended before its"
              f" launch and {b.days} days of tickets after it"])
        return
    print(table(b.rows, ["campaign_id", "name", "history", "forecast", "low", "high", "actual",
                         "ape", "counted"], floatfmt="{:,.2f}"))
    mape = "n/a" if b.mape is None else f"{b.mape:.3f}"
    cover = "n/a" if b.coverage is None else f"{b.coverage:.0%}"
    print(f"\nfirst {b.days} days, campaigns with at least {b.min_tickets:g} tickets: "
          f"mape {mape}, {b.interval:.0%} interval covers {cover} of actuals, "
          f"n_campaigns {b.n_campaigns}")


def _print_forecast(f) -> None:
    p = f.plan
    print(f"forecast {p.start:%Y-%m-%d} .. {p.end:%Y-%m-%d}, reach {p.reach:,.0f}, from "
          f"{', '.join(f.similar['campaign_id'])} ({f.model} credit)")
    print(f"tickets: {f.tickets:,.0f} ({f.interval:.0%} interval {f.tickets_low:,.0f} .. "
          f"{f.tickets_high:,.0f}) over {len(f.daily)} days; support cost {f.support_cost:,.0f}"
          f" (up to {f.support_cost_high:,.0f})")
    if f.negative_share is not None:
        print(f"negative share: {f.negative_share:.0%}")
    print("category mix: " + ", ".join(f"{k} {v:.0%}" for k, v in f.category_mix.items()))
    print(f"ROI after support: {'n/a' if f.roi is None else f'{f.roi:.2f}'}; {f.verdict}\n")
    print(table(f.staffing, list(f.staffing.columns), floatfmt="{:,.1f}"))
