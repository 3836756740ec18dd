"""Verbs of the support floor: ``triage score``, ``backtest``, ``feedback add|list|undo`` and
``review``."""

from __future__ import annotations

import click

from triage_core.cli.common import (
    MAX_DAYS,
    MOMENT,
    VerbGroup,
    by_option,
    config_option,
    db_option,
    existing_db,
    json_option,
    limit_option,
    load_config,
    print_frame,
    print_json,
    progress,
    table,
    warn,
)


@click.command(
    "score", short_help="triage: predict new/changed tickets, then score and route all",
    help="Categorize, score sentiment and severity for new or changed tickets with the active "
    "models, then compute priority, tier, SLA, escalation and routing for every ticket into the "
    "table triaged_tickets.")
@db_option()
@config_option
@click.option("--profile", default=None, help="priority weight profile (default: the active one)")
@click.option("--as-of", type=MOMENT, default=None,
              help="time the SLA clocks run to (default: newest ticket)")
@click.option("--full", is_flag=True, help="re-predict and re-score every ticket")
@click.option("--refresh-campaigns", is_flag=True,
              help="also rebuild the dashboard's stored campaign view (done by every full run; "
              "incremental runs leave it to be computed live)")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              help="where batch prediction runs (default local)")
@click.option("--scheduler", default=None,
              help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
@json_option()
def score_cmd(db: str, config: str | None, profile: str | None, as_of: str | None, full: bool,
              refresh_campaigns: bool, engine: str, scheduler: str | None,
              as_json: bool) -> None:
    from triage_core.ops import health
    from triage_core.store import Store
    from triage_core.triage import pipeline

    settings = load_config(config)
    with Store(existing_db(db)) as store:
        summary = pipeline.triage(store, settings, profile=profile, as_of=as_of,
                                  engine=engine, scheduler=scheduler,
                                  progress=progress, full=full,
                                  workers=pipeline.cli_workers(settings),
                                  refresh_campaigns=refresh_campaigns or None)
        notes = health.messages(health.check(store, settings, profile))
    if as_json:  # the warnings too (and on stderr, as always)
        print_json({**summary, "warnings": notes})
    else:
        print(f"predicted {summary['predicted']:,} new or changed tickets"
              f" (model version {summary['model_version'] or 'none: labels only'});"
              f" scored {summary['scored']:,} tickets with profile {summary['profile']!r}"
              f" as of {summary['as_of']}")
        print("tiers: " + ", ".join(f"{t} {n:,}" for t, n in summary["tiers"].items()))
    warn(notes)


@click.command(
    "backtest", short_help="replay recent tickets under a profile (and compare two)",
    help="Replay recent tickets under a profile (and compare two).")
@db_option()
@config_option
@click.option("--profile", required=True, help="profile to replay")
@click.option("--vs", default=None, help="second profile, side by side")
@click.option("--days", type=click.IntRange(1, MAX_DAYS), default=30,
              help="replay the last N days of tickets (default 30)")
@json_option()
def backtest_cmd(db: str, config: str | None, profile: str, vs: str | None, days: int,
                 as_json: bool) -> None:
    from triage_core.ops import backtest as ops_backtest
    from triage_core.store import Store

    settings = load_config(config)
    with Store(existing_db(db)) as store:
        result = ops_backtest.replay(store, settings, profile, vs, days=days)
    if as_json:
        print_json(result)
        return
    for name in [profile] + ([vs] if vs else []):
        m = result["profiles"][name]["metrics"]
        print(f"profile {name}: " + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items()))
    if vs:
        import pandas as pd

        print()
        # (object columns: a count stays a whole number, "8059", not "8,059.00" beside shares)
        print(table(pd.DataFrame(result["comparison"], dtype=object), floatfmt="{:,.3f}"))


@click.group(
    "feedback", cls=VerbGroup, short_help="record, list or undo agent corrections",
    help="Corrections override labels and predictions in scoring and retraining; undo keeps "
    "the audit trail.")
@db_option(expose=False)
def feedback_group() -> None:
    pass


@feedback_group.command("add", short_help="record a correction", help="Record a correction.")
@db_option()
@click.option("--ticket", required=True, help="ticket id")
@click.option("--category", default=None, help="the right category")
@click.option("--tier", default=None, help="the right priority tier, P1..P4")
@click.option("--sentiment", default=None, help="negative, neutral or positive")
@click.option("--flag", is_flag=True,
              help="mark the prediction as wrong without a corrected value")
@click.option("--new-category", is_flag=True, help="allow a category no ticket has yet")
@by_option("who is correcting")
@click.option("--comment", default=None, help="why")
def feedback_add(db: str, ticket: str, category: str | None, tier: str | None,
                 sentiment: str | None, flag: bool, new_category: bool, by: str,
                 comment: str | None) -> None:
    from triage_core.ops import feedback
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        ids = feedback.add(
            store, ticket,
            {"category": category, "tier": tier, "sentiment": sentiment,
             "flag": "wrong prediction" if flag else None},
            by=by, comment=comment or "", allow_new_category=new_category,
        )
    print(f"recorded feedback #{', #'.join(map(str, ids))} on ticket {ticket}")


@feedback_group.command("list", short_help="list corrections, newest first",
                        help="List corrections, newest first.")
@db_option()
@click.option("--ticket", default=None, help="only this ticket")
@limit_option(1000)
@json_option()
def feedback_list(db: str, ticket: str | None, limit: int, as_json: bool) -> None:
    from triage_core.ops import feedback
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        df = feedback.list_feedback(store, ticket, limit=limit)
    print_frame(df, as_json, ["feedback_id", "ticket_id", "field", "old_value", "new_value",
                              "author", "created_at", "undone_at"], "no feedback yet")


@feedback_group.command("undo", short_help="undo a correction",
                        help="Undo a correction; ID is the feedback id (see 'triage feedback "
                        "list').")
@db_option()
@click.argument("feedback_id", metavar="ID", type=int)
@by_option("who is undoing")
def feedback_undo(db: str, feedback_id: int, by: str) -> None:
    from triage_core.ops import feedback
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        feedback.undo(store, feedback_id, by=by)
    print(f"undid feedback #{feedback_id}")


@click.command(
    "review", short_help="tickets worth labeling: flagged, uncertain, CSAT disagreements",
    help="Tickets worth labeling: flagged, uncertain, CSAT disagreements.")
@db_option()
@limit_option(50)
@config_option
@json_option()
def review_cmd(db: str, limit: int, config: str | None, as_json: bool) -> None:
    from triage_core.ops import feedback, scoring
    from triage_core.store import Store

    threshold = scoring.rules(load_config(config)).confidence_threshold
    with Store(existing_db(db)) as store:
        df = feedback.review_queue(store, threshold, limit=limit)
    print_frame(df, as_json, ["ticket_id", "teach_score", "predicted_category",
                              "model_confidence", "sentiment_label", "csat", "why"],
                "review queue is empty")

