"""The ``triage`` command: one verb per job.

Every verb takes ``--db PATH`` (default ``$TRIAGE_DB`` or ``./triage.duckdb``). Problems the user
can fix are printed as one line on stderr with exit status 1, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from triage_core import __version__
from triage_core.errors import TriageError
from triage_core.schema import IMPORT_TABLES
from triage_core.store import ENV_DB, Store, default_db_path


def _progress(desc: str, total: int | None = None, unit: str = "it"):
    """A tqdm progress bar on stderr (silent when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                disable=not sys.stderr.isatty(), leave=False, dynamic_ncols=True)


def _open_store(args: argparse.Namespace) -> Store:
    return Store(args.db)


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, allow_nan=False)
    sys.stdout.write("\n")


def _print_frame(df: Any, as_json: bool, columns: list[str], empty: str,
                 floatfmt: str = "{:,.2f}") -> None:
    """A listing: JSON records, ``empty`` when there are no rows, else a table of ``columns``."""
    if as_json:
        from triage_core.ops.analytics import to_records

        _print_json(to_records(df))
    elif df.empty:
        print(empty)
    else:
        print(_table(df, columns, floatfmt=floatfmt))


def _info(store: Store) -> dict[str, Any]:
    return {"db": store.path, "schema_version": store.schema_version(),
            "tables": store.counts()}


# -- verbs --------------------------------------------------------------------------------------

def cmd_info(args: argparse.Namespace) -> int:
    if args.db != ":memory:" and not Path(args.db).exists():
        raise TriageError(f"{args.db}: no such database; create one with 'triage demo' or "
                          "'triage import'")
    with _open_store(args) as store:
        info = _info(store)
    if args.json:
        _print_json(info)
    else:
        print(f"database {info['db']} (schema version {info['schema_version']})")
        width = max(len(t) for t in info["tables"])
        for table, n in info["tables"].items():
            print(f"  {table:<{width}}  {n:>10,}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from triage_core.store.mapping import parse_mapping

    mapping = parse_mapping(args.map or [])
    with _open_store(args) as store:
        result = store.import_file(args.table, args.file, preset=args.preset, mapping=mapping,
                                   create_missing=args.create_missing)
    msg = (f"{result.source}: {result.rows_in_file:,} rows into {result.table} "
           f"({result.new_rows:,} new, {result.existing_rows:,} already there, updated)")
    if result.ignored_columns:
        msg += f"; ignored columns: {', '.join(result.ignored_columns)}"
    print(msg)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from triage_core import demo

    db = Path(args.db)
    if db.exists():
        if not args.force:
            raise TriageError(f"{db} already exists; use --force to replace it or choose --db")
        db.unlink()
        Path(str(db) + ".wal").unlink(missing_ok=True)
    sample = Path(__file__).resolve().parents[2] / "sample_data"
    use_sample = (args.tickets == demo.DEMO_TICKETS and args.seed == demo.DEMO_SEED
                  and args.customers is None and (sample / "tickets.parquet").exists())
    with Store(db) as store:
        if use_sample:
            source = sample
        else:
            source = Path(args.out) if args.out else db.parent / f".{db.name}.demo"
            bar = _progress("generating demo world", total=None)
            state = {"step": ""}

            def progress(step: str, done: int, total: int) -> None:
                if step != state["step"]:
                    state["step"] = step
                    bar.reset(total=total)
                    bar.set_description(f"generating {step}")
                bar.n = done
                bar.refresh()

            demo.generate(source, tickets=args.tickets, seed=args.seed,
                          customers=args.customers, progress=progress)
            bar.close()
        with _progress("importing", total=len(IMPORT_TABLES)) as bar:
            store.import_directory(source, progress=lambda t: bar.update(1))
        if not args.no_triage:
            _triage_all(store, args)
        info = _info(store)
    print(f"demo database {db}: " + ", ".join(f"{n:,} {t}" for t, n in info["tables"].items()
                                              if t in IMPORT_TABLES))
    return 0


def _triage_all(store: Store, args: argparse.Namespace) -> None:
    """Train the first model on the demo labels, then triage every ticket."""
    from triage_core.triage import pipeline

    config = _config(args)
    print("training the category model on the labeled demo tickets...", file=sys.stderr)
    pipeline.train(store, config, note="demo", by="demo")
    pipeline.triage(store, config, progress=_progress, workers=pipeline.cli_workers(config))



def _config(args: argparse.Namespace) -> dict[str, Any]:
    from triage_core.config import load_config

    return load_config(getattr(args, "config", None))


def _table(df, columns: list[str] | None = None, floatfmt: str = "{:,.2f}") -> str:
    """A plain-text table for terminals."""
    import pandas as pd

    d = df if columns is None else df[columns]
    cells = [[("" if v is None or (isinstance(v, float) and pd.isna(v)) else
               floatfmt.format(v) if isinstance(v, float) else str(v)) for v in row]
             for row in d.itertuples(index=False)]
    heads = [str(c) for c in d.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace) -> int:
    from triage_core.triage import pipeline

    config = _config(args)
    with _open_store(args) as store:
        summary = pipeline.triage(store, config, profile=args.profile, as_of=args.as_of,
                                  engine=args.engine, scheduler=args.scheduler,
                                  progress=_progress, full=args.full,
                                  workers=pipeline.cli_workers(config),
                                  refresh_campaigns=args.refresh_campaigns or None)
    if args.json:
        _print_json(summary)
    else:
        print(f"predicted {summary['predicted']:,} new or changed tickets"
              f" (model version {summary['model_version'] or 'none: labels only'});"
              f" scored {summary['scored']:,} tickets with profile {summary['profile']!r}"
              f" as of {summary['as_of']}")
        print("tiers: " + ", ".join(f"{t} {n:,}" for t, n in summary["tiers"].items()))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from triage_core.ops import backtest

    config = _config(args)
    with _open_store(args) as store:
        result = backtest.replay(store, config, args.profile, args.vs, days=args.days)
    if args.json:
        _print_json(result)
    else:
        for name in [args.profile] + ([args.vs] if args.vs else []):
            m = result["profiles"][name]["metrics"]
            print(f"profile {name}: " + ", ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items()))
        if args.vs:
            import pandas as pd

            print()
            print(_table(pd.DataFrame(result["comparison"])))
    return 0


def cmd_attribution(args: argparse.Namespace) -> int:
    from triage_core.marketing import attribution

    config = _config(args).get("attribution")
    with _open_store(args) as store:
        if args.vs:
            df = attribution.compare_models(store, args.model, args.vs,
                                            lookback_days=args.lookback_days,
                                            half_life_days=args.half_life_days, config=config)
        else:
            df = attribution.campaign_impact(store, args.model, lookback_days=args.lookback_days,
                                             half_life_days=args.half_life_days, config=config)
    if args.json:
        _print_json(attribution.to_json_records(df))
        return 0
    if args.vs:
        cols = [c for c in df.columns if c.startswith(("tickets_", "support_cost_",
                                                       "roi_after_support_"))]
        print(_table(df, ["campaign_id", "name", *cols]))
    else:
        print(_table(df, ["campaign_id", "name", "tickets", "negative_tickets", "support_cost",
                          "spend", "revenue", "roi_after_support"]))
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from triage_core.ops import feedback

    with _open_store(args) as store:
        if args.action == "add":
            ids = feedback.add(
                store, args.ticket,
                {"category": args.category, "tier": args.tier, "sentiment": args.sentiment,
                 "flag": "wrong prediction" if args.flag else None},
                by=args.by or "", comment=args.comment or "",
                allow_new_category=args.new_category,
            )
            print(f"recorded feedback #{', #'.join(map(str, ids))} on ticket {args.ticket}")
        elif args.action == "undo":
            feedback.undo(store, args.id, by=args.by or "")
            print(f"undid feedback #{args.id}")
        else:
            df = feedback.list_feedback(store, args.ticket, limit=args.limit)
            _print_frame(df, args.json, ["feedback_id", "ticket_id", "field", "old_value",
                                         "new_value", "author", "created_at", "undone_at"],
                         "no feedback yet")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from triage_core.ops import feedback, scoring

    with _open_store(args) as store:
        df = feedback.review_queue(store, scoring.rules(_config(args)).confidence_threshold,
                                   limit=args.limit)
    _print_frame(df, args.json, ["ticket_id", "teach_score", "predicted_category",
                                 "model_confidence", "sentiment_label", "csat", "why"],
                 "review queue is empty")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from triage_core.triage import pipeline

    config = _config(args)
    with _open_store(args) as store:
        result = pipeline.train(store, config, note=args.note or "", activate=not args.no_activate)
        if not args.no_activate and not args.no_score:
            pipeline.triage(store, config, progress=_progress,
                            workers=pipeline.cli_workers(config))
    if args.json:
        _print_json(result)
    else:
        m = result["metrics"] or {}
        print(f"trained category model version {result['version']} on {result['n_train']:,} "
              f"tickets in {result['train_seconds']:.1f} s; holdout ({result['n_holdout']:,}): "
              f"accuracy {m.get('accuracy', float('nan')):.3f}, "
              f"macro-F1 {m.get('macro_f1', float('nan')):.3f}"
              + ("" if result["active"] else " (not activated)"))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from triage_core.models import registry
    from triage_core.triage import pipeline

    config = _config(args)
    with _open_store(args) as store:
        if args.action == "promote":
            if args.version is None:
                raise TriageError("give the version to promote: triage models promote VERSION")
            pipeline.promote(store, config, args.version)
            print(f"version {args.version} is now active; tickets re-scored")
            return 0
        if args.action == "rollback":
            version = pipeline.rollback(store, config, args.kind or "category")
            print(f"rolled back: version {version} is active again; tickets re-scored")
            return 0
        df = registry.list_versions(store, args.kind)
    df = df.drop(columns=["metrics", "train_summary"])
    _print_frame(df, args.json, ["version", "kind", "created_at", "active", "n_train",
                                 "n_corrections", "accuracy", "macro_f1", "note"],
                 "no models yet; train one with 'triage train'", floatfmt="{:.3f}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from triage_core.triage import pipeline

    with _open_store(args) as store:
        config = _config(args)
        n = pipeline.predict(store, config, full=args.all, progress=_progress,
                             workers=pipeline.cli_workers(config))
    print(f"predicted {n:,} tickets" + ("" if args.all else " (new or changed)"))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from triage_core.models import evaluate

    if args.task == "category":
        if not args.train:
            raise TriageError("--task category needs --train TRAIN.csv")
        report = evaluate.evaluate_category(args.train, args.test, args.text_col, args.label_col,
                                            _config(args))
    else:
        report = evaluate.evaluate_sentiment(args.train, args.test, args.text_col,
                                             args.label_col, _config(args))
    if args.json:
        _print_json(report)
    else:
        print(evaluate.format_report(report))
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    from triage_core.triage import pipeline

    with _open_store(args) as store:
        result = pipeline.retrain(store, _config(args), force=args.force,
                                  tolerance=args.tolerance)
    if args.json:
        _print_json(result)
    else:
        new, cur = result["metrics"]["new"] or {}, result["metrics"]["current"] or {}
        print(f"version {result['version']} trained with {result['n_corrections_used']:,} "
              f"corrections; holdout macro-F1 new {new.get('macro_f1', float('nan')):.4f} vs "
              f"current {cur.get('macro_f1', float('nan')):.4f}: "
              + ("promoted" if result["promoted"] else "kept the current model"))
    return 0


# -- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    db_help = (f"DuckDB database file (default: ${ENV_DB} or ./triage.duckdb;"
               f" now {default_db_path()})")
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a --db given after the verb wins, one given before it is kept.
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    cfg = argparse.ArgumentParser(add_help=False)
    cfg.add_argument("--config", default=None,
                     help="TOML file overriding the defaults (default: $TRIAGE_CONFIG)")
    parser = argparse.ArgumentParser(
        prog="triage",
        description="Support-ticket triage and campaign impact on DuckDB.",
    )
    parser.add_argument("--db", default=str(default_db_path()), help=db_help)
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    p = sub.add_parser("demo", parents=[common], help="build a database from the demo world",
                       description="Build a database from the seeded demo world. The default "
                       "size and seed load the committed sample_data/; other sizes are generated.")
    p.add_argument("--tickets", type=int, default=25_000, help="tickets (default %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    p.add_argument("--customers", type=int, default=None,
                   help="customers (default: about a third of the tickets)")
    p.add_argument("--out", default=None, help="keep the generated files in this folder")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.add_argument("--no-triage", action="store_true",
                   help="only load the data; do not train and score")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="import a CSV, Parquet or JSON file",
                       description="Validate FILE and upsert it into TABLE in one transaction. "
                       "A bad file changes nothing and is reported with its row and column.")
    p.add_argument("table", choices=list(IMPORT_TABLES), metavar="TABLE",
                   help=f"one of {', '.join(IMPORT_TABLES)}")
    p.add_argument("file", metavar="FILE", help=".csv, .parquet, .json or .jsonl")
    p.add_argument("--preset", choices=["zendesk", "freshdesk"],
                   help="column names of a helpdesk's ticket export")
    p.add_argument("--map", action="append", metavar="SOURCE=TARGET",
                   help="map a column of the file to one of ours (repeatable)")
    p.add_argument("--create-missing", action="store_true",
                   help="create customers/campaigns that tickets or touchpoints refer to "
                        "but that do not exist yet, instead of refusing the file")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("info", parents=[common], help="row counts per table")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("score", parents=[common, cfg],
                       help="triage: predict new/changed tickets, then score and route all",
                       description="Categorize, score sentiment and severity for new or changed "
                       "tickets with the active models, then compute priority, tier, SLA, "
                       "escalation and routing for every ticket into the table triaged_tickets.")
    p.add_argument("--profile", help="priority weight profile (default: the active one)")
    p.add_argument("--as-of", help="time the SLA clocks run to (default: newest ticket)")
    p.add_argument("--full", action="store_true",
                   help="re-predict and re-score every ticket")
    p.add_argument("--refresh-campaigns", action="store_true",
                   help="also rebuild the dashboard's stored campaign view (done by every full "
                        "run; incremental runs leave it to be computed live)")
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="where batch prediction runs (default %(default)s)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("backtest", parents=[common, cfg],
                       help="replay recent tickets under a profile (and compare two)")
    p.add_argument("--profile", required=True, help="profile to replay")
    p.add_argument("--vs", help="second profile, side by side")
    p.add_argument("--days", type=int, default=30,
                   help="replay the last N days of tickets (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("attribution", parents=[common, cfg],
                       help="tickets, sentiment, support cost and ROI per campaign")
    p.add_argument("--model", default="last_touch",
                   help="first_touch, last_touch, linear, time_decay, position_based or "
                        "data_driven (default %(default)s)")
    p.add_argument("--vs", help="a second model, side by side")
    p.add_argument("--lookback-days", type=float, default=None,
                   help="touches this many days before the ticket count (default 90)")
    p.add_argument("--half-life-days", type=float, default=None,
                   help="time_decay half-life in days (default 7)")
    p.add_argument("--json", action="store_true", help="print one JSON list on stdout")
    p.set_defaults(func=cmd_attribution)

    p = sub.add_parser("feedback", parents=[common],
                       help="record, list or undo agent corrections",
                       description="Corrections override labels and predictions in scoring "
                       "and retraining; undo keeps the audit trail.")
    fsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    fa = fsub.add_parser("add", parents=[common], help="record a correction")
    fa.add_argument("--ticket", required=True, help="ticket id")
    fa.add_argument("--category", help="the right category")
    fa.add_argument("--tier", help="the right priority tier, P1..P4")
    fa.add_argument("--sentiment", help="negative, neutral or positive")
    fa.add_argument("--flag", action="store_true",
                    help="mark the prediction as wrong without a corrected value")
    fa.add_argument("--new-category", action="store_true",
                    help="allow a category no ticket has yet")
    fa.add_argument("--by", help="who is correcting")
    fa.add_argument("--comment", help="why")
    fl = fsub.add_parser("list", parents=[common], help="list corrections, newest first")
    fl.add_argument("--ticket", help="only this ticket")
    fl.add_argument("--limit", type=int, default=1000)
    fl.add_argument("--json", action="store_true", help="print JSON")
    fu = fsub.add_parser("undo", parents=[common], help="undo a correction")
    fu.add_argument("id", type=int, help="feedback id (see 'triage feedback list')")
    fu.add_argument("--by", help="who is undoing")
    for q in (fa, fl, fu):
        q.set_defaults(func=cmd_feedback)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("review", parents=[common],
                       help="tickets worth labeling: flagged, uncertain, CSAT disagreements")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("train", parents=[common, cfg],
                       help="train a category model on the labeled tickets",
                       description="Train on labeled tickets (corrections override labels) "
                       "outside the fixed holdout (1 in 5 by ticket id), record the version "
                       "with its holdout metrics, activate it and re-score.")
    p.add_argument("--note", help="free text stored with the version")
    p.add_argument("--no-activate", action="store_true", help="record without activating")
    p.add_argument("--no-score", action="store_true", help="do not re-score after training")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", parents=[common, cfg],
                       help="list model versions; promote or roll back",
                       description="triage models [list] | promote VERSION | rollback")
    p.add_argument("action", nargs="?", default="list", choices=["list", "promote", "rollback"])
    p.add_argument("version", nargs="?", type=int, help="version to promote")
    p.add_argument("--kind", choices=["category", "sentiment"], default=None,
                   help="only this kind (rollback: default category)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("predict", parents=[common, cfg],
                       help="predict category, sentiment and severity with the active model")
    p.add_argument("--all", action="store_true", help="every ticket, not only new or changed")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", parents=[common, cfg],
                       help="accuracy of the models on a labeled CSV",
                       description="category: train on --train, score --test. sentiment: "
                       "zero-shot default, or trained on --train when given.")
    p.add_argument("--task", required=True, choices=["category", "sentiment"])
    p.add_argument("--train", help="labeled CSV to train on")
    p.add_argument("--test", required=True, help="labeled CSV to score")
    p.add_argument("--text-col", action="append", required=True,
                   help="text column (repeat to join several)")
    p.add_argument("--label-col", required=True, help="label column")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("retrain", parents=[common, cfg],
                       help="retrain with corrections; promote only if not worse",
                       description="Train on labels plus corrections, evaluate new and current "
                       "model on the same fixed holdout, record the version and promote it "
                       "only when its macro-F1 is not worse (unless --force).")
    p.add_argument("--force", action="store_true", help="promote even if worse")
    p.add_argument("--tolerance", type=float, default=0.0,
                   help="promote when new macro-F1 >= current - tolerance (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_retrain)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TriageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
