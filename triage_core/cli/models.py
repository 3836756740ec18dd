"""Verbs of the model lifecycle: ``triage train``, ``retrain``, ``models``, ``predict`` and
``evaluate``."""

from __future__ import annotations

import click

from triage_core.cli.common import (
    config_option,
    db_option,
    json_option,
    load_config,
    print_frame,
    print_json,
    progress,
    warn,
)
from triage_core.errors import TriageError


@click.command(
    "train", short_help="train a category model on the labeled tickets",
    help="Train on labeled tickets (corrections override labels) outside the fixed holdout "
    "(1 in 5 by ticket id) and record the version with its holdout metrics. It is activated "
    "(and the tickets re-scored) only when it is clearly better than guessing and not worse "
    "than the active model on the same holdout; otherwise it is kept inactive and the reason "
    "is printed (--force activates it anyway).")
@db_option()
@config_option
@click.option("--note", default=None, help="free text stored with the version")
@click.option("--no-activate", is_flag=True, help="record without activating")
@click.option("--force", is_flag=True,
              help="activate even when no better than guessing or worse than the active model")
@click.option("--no-score", is_flag=True, help="do not re-score after training")
@json_option()
def train_cmd(db: str, config: str | None, note: str | None, no_activate: bool, force: bool,
              no_score: bool, as_json: bool) -> None:
    from triage_core.ops import health
    from triage_core.store import Store
    from triage_core.triage import pipeline, training

    settings = load_config(config)
    with Store(db) as store:
        result = training.train(store, settings, note=note or "", activate=not no_activate,
                                force=force)
        if result["active"] and not no_score:
            pipeline.triage(store, settings, progress=progress,
                            workers=pipeline.cli_workers(settings))
        notes = health.messages(health.check(store))
    if as_json:
        print_json(result)
    else:
        m = result["metrics"] or {}
        print(f"trained category model version {result['version']} on {result['n_train']:,} "
              f"tickets in {result['train_seconds']:.1f} s; holdout ({result['n_holdout']:,}):"
              f" accuracy {m.get('accuracy', float('nan')):.3f}, "
              f"macro-F1 {m.get('macro_f1', float('nan')):.3f}"
              + ("" if result["active"] else " (not activated)"))
    if not result["active"] and not no_activate:
        notes.insert(0, f"model version {result['version']} was not activated: "
                     f"{result['reason']} (--force activates it)")
    warn(notes)


@click.command(
    "retrain", short_help="retrain with corrections; promote only if better than guessing "
    "and not worse",
    help="Train on labels plus corrections, evaluate new and current model on the same fixed "
    "holdout, record the version and promote it only when it is clearly better than guessing "
    "and its macro-F1 is not worse (unless --force).")
@db_option()
@config_option
@click.option("--force", is_flag=True, help="promote even if worse")
@click.option("--tolerance", type=float, default=0.0,
              help="promote when new macro-F1 >= current - tolerance (default 0)")
@json_option()
def retrain_cmd(db: str, config: str | None, force: bool, tolerance: float,
                as_json: bool) -> None:
    from triage_core.store import Store
    from triage_core.triage import training

    with Store(db) as store:
        result = training.retrain(store, load_config(config), force=force, tolerance=tolerance)
    if as_json:
        print_json(result)
        return
    new, cur = result["metrics"]["new"] or {}, result["metrics"]["current"] or {}
    used = result["corrections_used"]
    print(f"version {result['version']} trained with {used['category']:,} category corrections"
          f" ({used['sentiment']:,} sentiment and {used['tier']:,} tier corrections apply to"
          f" scoring); holdout macro-F1 new {new.get('macro_f1', float('nan')):.4f} vs "
          f"current {cur.get('macro_f1', float('nan')):.4f}: "
          + ("promoted" if result["promoted"] else f"kept the current model ({result['reason']})"))


@click.command(
    "models", short_help="list model versions; promote or roll back",
    help="triage models [list] | promote VERSION | rollback")
@db_option()
@config_option
@click.argument("action", type=click.Choice(["list", "promote", "rollback"]), default="list",
                required=False)
@click.argument("version", type=int, required=False)
@click.option("--kind", type=click.Choice(["category", "sentiment"]), default=None,
              help="only this kind (rollback: default category)")
@json_option()
def models_cmd(db: str, config: str | None, action: str, version: int | None, kind: str | None,
               as_json: bool) -> None:
    from triage_core.models import registry
    from triage_core.store import Store
    from triage_core.triage import training

    settings = load_config(config)
    with Store(db) as store:
        if action == "promote":
            if version is None:
                raise TriageError("give the version to promote: triage models promote VERSION")
            training.promote(store, settings, version)
            print(f"version {version} is now active; tickets re-scored")
            return
        if action == "rollback":
            version = training.rollback(store, settings, kind or "category")
            print(f"rolled back: version {version} is active again; tickets re-scored")
            return
        df = registry.list_versions(store, kind)
    df = df.drop(columns=["metrics", "train_summary"])
    print_frame(df, as_json, ["version", "kind", "created_at", "active", "n_train",
                              "n_corrections", "accuracy", "macro_f1", "note"],
                "no models yet; train one with 'triage train'", floatfmt="{:.3f}")


@click.command(
    "predict", short_help="predict category, sentiment and severity with the active model",
    help="Predict category, sentiment and severity with the active model.")
@db_option()
@config_option
@click.option("--all", "every", is_flag=True, help="every ticket, not only new or changed")
def predict_cmd(db: str, config: str | None, every: bool) -> None:
    from triage_core.store import Store
    from triage_core.triage import pipeline

    with Store(db) as store:
        settings = load_config(config)
        n = pipeline.predict(store, settings, full=every, progress=progress,
                             workers=pipeline.cli_workers(settings))
    print(f"predicted {n:,} tickets" + ("" if every else " (new or changed)"))


@click.command(
    "evaluate", short_help="accuracy of the models on a labeled CSV",
    help="category: train on --train, score --test. sentiment: zero-shot default, or trained "
    "on --train when given.")
@db_option()
@config_option
@click.option("--task", required=True, type=click.Choice(["category", "sentiment"]))
@click.option("--train", default=None, help="labeled CSV to train on")
@click.option("--test", required=True, help="labeled CSV to score")
@click.option("--text-col", multiple=True, required=True,
              help="text column (repeat to join several)")
@click.option("--label-col", required=True, help="label column")
@json_option("print one JSON object")
def evaluate_cmd(db: str, config: str | None, task: str, train: str | None, test: str,
                 text_col: tuple[str, ...], label_col: str, as_json: bool) -> None:
    from triage_core.models import evaluate

    if task == "category":
        if not train:
            raise TriageError("--task category needs --train TRAIN.csv")
        report = evaluate.evaluate_category(train, test, list(text_col), label_col,
                                            load_config(config))
    else:
        report = evaluate.evaluate_sentiment(train, test, list(text_col), label_col,
                                             load_config(config))
    if as_json:
        print_json(report)
    else:
        print(evaluate.format_report(report))

