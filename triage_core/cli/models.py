"""Verbs of the model lifecycle: ``triage train``, ``retrain``, ``models``, ``predict``,
``evaluate``, and topic discovery: ``topics`` (rename, merge, split, drop, accept, undo) and
``emerging``."""

from __future__ import annotations

import os
import sys

import click

from triage_core.cli.common import (
    FiniteFloatRange,
    VerbGroup,
    config_option,
    db_option,
    existing_db,
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
    with Store(existing_db(db)) as store:
        result = training.train(store, settings, note=note or "", activate=not no_activate,
                                force=force, progress=progress)
        if result["active"] and not no_score:
            pipeline.triage(store, settings, progress=progress,
                            workers=pipeline.cli_workers(settings))
        notes = health.messages(health.check(store, settings))
    if not result["active"] and not no_activate:
        notes.insert(0, f"model version {result['version']} was not activated: "
                     f"{result['reason']} (--force activates it)")
    elif result["active"] and "too few" in str(result.get("reason", "")):
        notes.insert(0, f"model version {result['version']} was activated untested: "
                     f"{result['reason']}; label more tickets (1 in 5 labeled tickets is held"
                     " out) and retrain")
    if as_json:  # the warnings too, for a script or an API client (and on stderr, as always)
        print_json({**result, "warnings": notes})
    else:
        m = result["metrics"] or {}
        scored = (f"holdout ({result['n_holdout']:,}): accuracy {_figure(m, 'accuracy', 3)}, "
                  f"macro-F1 {_figure(m, 'macro_f1', 3)}" if result["n_holdout"]
                  else "no holdout tickets to score it on")
        print(f"trained category model version {result['version']} on {result['n_train']:,} "
              f"tickets in {result['train_seconds']:.1f} s; {scored}"
              + ("" if result["active"] else " (not activated)"))
        print(_choice_line(result))
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
@click.option("--tolerance", type=FiniteFloatRange(0, 1), default=0.0,
              help="promote when new macro-F1 >= current - tolerance (default 0; macro-F1 "
              "lies in 0..1)")
@json_option()
def retrain_cmd(db: str, config: str | None, force: bool, tolerance: float,
                as_json: bool) -> None:
    from triage_core.store import Store
    from triage_core.triage import training

    with Store(existing_db(db)) as store:
        result = training.retrain(store, load_config(config), force=force, tolerance=tolerance,
                                  progress=progress)
    if as_json:
        print_json(result)
        return
    new, cur = result["metrics"]["new"] or {}, result["metrics"]["current"] or {}
    used = result["corrections_used"]
    print(f"version {result['version']} trained with {used['category']:,} category corrections"
          f" ({used['sentiment']:,} sentiment and {used['tier']:,} tier corrections apply to"
          f" scoring); holdout macro-F1 new {_figure(new, 'macro_f1', 4)} vs "
          f"current {_figure(cur, 'macro_f1', 4, 'none')}: "
          + ("promoted" if result["promoted"] else f"kept the current model ({result['reason']})"))
    print(_choice_line(result))


def _figure(metrics: dict, key: str, digits: int, missing: str = "-") -> str:
    """A metric with ``digits`` decimals, or ``missing`` when it was not measured (no holdout
    tickets; no current model), instead of "nan"."""
    value = metrics.get(key)
    if value is None or value != value:
        return missing
    return f"{value:.{digits}f}"


def _choice_line(result: dict) -> str:
    """The chosen configuration and the margin over the plain baseline, in words."""
    sel = result.get("selection") or {}
    line = f"configuration {sel.get('chosen', '?')!r} ({sel.get('reason', '')})"
    plain = (result.get("plain_baselines") or {}).get("tfidf_svm")
    if plain and result.get("margin"):
        line += (f"; plain TF-IDF + linear SVM on the same holdout: macro-F1 "
                 f"{plain['macro_f1']:.3f}, margin {result['margin']['macro_f1']:+.3f}")
    return line


def _done(as_json: bool, action: str, version: int, words: str) -> None:
    """What promote or rollback did: a line, or with --json an object."""
    if as_json:
        print_json({"action": action, "active_version": version, "rescored": True})
    else:
        print(words)


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
    with Store(existing_db(db)) as store:
        if action == "promote":
            if version is None:
                raise TriageError("give the version to promote: triage models promote VERSION")
            _check_kind(store, version, kind)
            training.promote(store, settings, version)
            _done(as_json, "promote", version, f"version {version} is now active; tickets"
                  " re-scored")
            return
        if action == "rollback":
            version = training.rollback(store, settings, kind or "category")
            _done(as_json, "rollback", version, f"rolled back: version {version} is active"
                  " again; tickets re-scored")
            return
        df = registry.list_versions(store, kind)
    df = df.drop(columns=["metrics", "train_summary"])
    print_frame(df, as_json, ["version", "kind", "created_at", "active", "n_train",
                              "n_corrections", "accuracy", "macro_f1", "note"],
                "no sentiment models: sentiment is scored by the built-in lexicon (a trained"
                " model is measured with 'triage evaluate --task sentiment --train FILE')"
                if kind == "sentiment" else "no models yet; train one with 'triage train'",
                floatfmt="{:.3f}")


def _check_kind(store, version: int, kind: str | None) -> None:
    """Refuse ``promote VERSION --kind KIND`` when the version is a model of another kind (an
    unknown version is left to the promotion, which names it)."""
    from triage_core.models import registry

    if kind is None:
        return
    versions = registry.list_versions(store)
    real = versions.loc[versions["version"] == version, "kind"]
    if not real.empty and real.iat[0] != kind:
        raise TriageError(f"version {version} is a {real.iat[0]} model, not a {kind} one; see "
                          "'triage models'")


@click.command(
    "predict", short_help="predict category, sentiment and severity with the active model",
    help="Predict category, sentiment and severity with the active model.")
@db_option()
@config_option
@click.option("--all", "every", is_flag=True, help="every ticket, not only new or changed")
def predict_cmd(db: str, config: str | None, every: bool) -> None:
    from triage_core.store import Store
    from triage_core.triage import pipeline

    with Store(existing_db(db)) as store:
        settings = load_config(config)
        n = pipeline.predict(store, settings, full=every, progress=progress,
                             workers=pipeline.cli_workers(settings))
    print(f"predicted {n:,} tickets" + ("" if every else " (new or changed)"))


@click.command(
    "evaluate", short_help="accuracy of the models on a labeled file",
    help="category: choose a configuration by cross-validation on --train, train it, score "
    "--test, beside the plain baselines trained on the same --train (majority class; TF-IDF + "
    "linear SVM with C by cross-validation) and the margin. sentiment: zero-shot default, or "
    "trained on --train when given; with calibration (how often a predicted label is right).")
@db_option()
@config_option
@click.option("--task", required=True, type=click.Choice(["category", "sentiment"]))
@click.option("--train", default=None,
              help="labeled file to train on (CSV with , ; tab or |, Parquet, JSON or JSONL)")
@click.option("--test", required=True, help="labeled file to score (as --train)")
@click.option("--text-col", multiple=True, required=True,
              help="text column (repeat to join several)")
@click.option("--label-col", required=True, help="label column")
@click.option("--predictions", default=None, metavar="FILE.csv",
              help="also write each test row's label, prediction, whether it is right, its "
              "confidence (category) or score (sentiment) and text to this CSV")
@click.option("--label-map", default=None, metavar="VALUE=LABEL,...",
              help="sentiment: how to read labels that are not negative / neutral / positive, "
              "for example '0=negative,2=neutral,4=positive' (numbers and stars are read "
              "without it when the scheme is clear: -1/0/1, three or two numbers from lowest "
              "to highest, 1-5 stars; the report says how)")
@json_option("print one JSON object")
def evaluate_cmd(db: str, config: str | None, task: str, train: str | None, test: str,
                 text_col: tuple[str, ...], label_col: str, predictions: str | None,
                 label_map: str | None, as_json: bool) -> None:
    from triage_core.models import evaluate, sentiment_labels

    for path in (train, test):
        if path and os.path.isdir(path):
            raise TriageError(f"{path}: a folder, not a file")
    if label_map is not None and task != "sentiment":
        raise TriageError("--label-map is for --task sentiment (category labels are read as "
                          "they are)")
    labels = sentiment_labels.parse_label_map(label_map) if label_map is not None else None
    if task == "category":
        if not train:
            raise TriageError("--task category needs --train TRAIN.csv")
        report = evaluate.evaluate_category(train, test, list(text_col), label_col,
                                            load_config(config), progress=progress,
                                            predictions=predictions)
    else:
        report = evaluate.evaluate_sentiment(train, test, list(text_col), label_col,
                                             load_config(config), predictions=predictions,
                                             label_map=labels)
    if as_json:
        print_json(report)
    else:
        print(evaluate.format_report(report))



def _show_topics(proposal: dict | None, as_json: bool, examples: int | None = None) -> None:
    from triage_core.triage import labeling

    if as_json:
        shown = proposal or {"topics": []}
        if examples is not None:  # --examples N holds for --json too
            shown = {**shown, "topics": [{**t, "examples": t["examples"][:examples]}
                                         for t in shown["topics"]]}
        print_json(shown)
        return
    frame = labeling.topic_frame(proposal)
    print_frame(frame, False, ["id", "name", "tickets", "terms"],
                "no topics proposed; run 'triage topics --refresh'")
    for topic in (proposal or {}).get("topics", []) if examples else []:
        print(f"\ntopic {topic['id']} ({topic['name']}): " + ", ".join(
            topic["examples"][:examples]))


@click.group(
    "topics", cls=VerbGroup, invoke_without_command=True,
    short_help="find topics in tickets without a category; accept them as labels",
    help="Cold start: cluster the tickets without a category into topics named by their top "
    "terms and save the proposal (shown again on later calls; --refresh finds it anew). "
    "Rename, merge, split or drop topics, then accept them: each ticket of an accepted topic "
    "gets the topic's name as a category correction, which 'triage train' learns from.")
@db_option()
@config_option
@click.option("--refresh", is_flag=True, help="discover the topics anew")
@click.option("--examples", type=click.IntRange(min=0), default=3,
              help="example ticket ids per topic (default 3; 0: none)")
@json_option()
@click.pass_context
def topics_group(ctx: click.Context, db: str, config: str | None, refresh: bool,
                 examples: int, as_json: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from triage_core.store import Store
    from triage_core.triage import labeling

    settings = load_config(config)
    kept = int((settings.get("topics") or {}).get("examples", 0) or 0)
    if examples > kept:  # a new proposal keeps as many examples as are asked for
        settings = {**settings, "topics": {**(settings.get("topics") or {}),
                                           "examples": examples}}
    with Store(existing_db(db)) as store:
        proposal = None if refresh else labeling.load_proposal(store)
        if not proposal or not proposal["topics"]:
            print("finding topics ...", file=sys.stderr)
            proposal = labeling.propose(store, settings)
    short = [t for t in proposal["topics"]
             if len(t["examples"]) < min(examples, len(t["ticket_ids"]))]
    if short:  # a saved proposal keeps the examples found when it was made
        warn([f"the saved proposal keeps {max(len(t['examples']) for t in short)} examples a"
              f" topic; 'triage topics --refresh --examples {examples}' finds it anew with"
              f" {examples}"])
    _show_topics(proposal, as_json, examples)


def _edit(db: str, action: str, *args: object, as_json: bool = False) -> None:
    from triage_core.store import Store
    from triage_core.triage import labeling

    with Store(existing_db(db)) as store:
        proposal = getattr(labeling, action)(store, *args)
    _show_topics(proposal, as_json)


@topics_group.command("rename", help="triage topics rename ID NAME")
@db_option()
@click.argument("topic_id", type=int)
@click.argument("name")
@json_option()
def topics_rename(db: str, topic_id: int, name: str, as_json: bool) -> None:
    _edit(db, "rename", topic_id, name, as_json=as_json)


@topics_group.command("merge", help="triage topics merge ID ID... [--name NAME]")
@db_option()
@click.argument("topic_ids", type=int, nargs=-1, required=True)
@click.option("--name", default=None, help="name of the merged topic (default: the first's)")
@json_option()
def topics_merge(db: str, topic_ids: tuple[int, ...], name: str | None,
                 as_json: bool) -> None:
    _edit(db, "merge", list(topic_ids), name, as_json=as_json)


@topics_group.command("split", help="triage topics split ID [--parts N]")
@db_option()
@config_option
@click.argument("topic_id", type=int)
@click.option("--parts", type=int, default=2, help="into how many topics (default 2)")
@json_option()
def topics_split(db: str, config: str | None, topic_id: int, parts: int, as_json: bool) -> None:
    _edit(db, "split", topic_id, parts, load_config(config), as_json=as_json)


@topics_group.command("drop", help="triage topics drop ID...: their tickets stay unlabeled")
@db_option()
@click.argument("topic_ids", type=int, nargs=-1, required=True)
@json_option()
def topics_drop(db: str, topic_ids: tuple[int, ...], as_json: bool) -> None:
    _edit(db, "drop", list(topic_ids), as_json=as_json)


@topics_group.command(
    "accept", help="triage topics accept [ID...]: label the tickets of these topics (default: "
    "all) with the topic names, as category corrections; then run 'triage train'")
@db_option()
@click.argument("topic_ids", type=int, nargs=-1)
@json_option()
def topics_accept(db: str, topic_ids: tuple[int, ...], as_json: bool) -> None:
    from triage_core.store import Store
    from triage_core.triage import labeling

    with Store(existing_db(db)) as store:
        labeled = labeling.accept(store, list(topic_ids) or None)
    if labeled.skipped:
        click.echo(f"{labeled.skipped:,} of their tickets got a label or a correction after the"
                   " proposal was made and keep it", err=True)
    if as_json:
        print_json(labeled)
        return
    for name, n in labeled.items():
        print(f"{n:,} tickets labeled {name!r}")
    print("train a category model on them with 'triage train'")


@topics_group.command("undo", help="triage topics undo: undo every label written by accept")
@db_option()
def topics_undo(db: str) -> None:
    from triage_core.store import Store
    from triage_core.triage import labeling

    with Store(existing_db(db)) as store:
        n = labeling.undo_accepted(store)
    print(f"undid {n:,} topic labels")


@click.command(
    "emerging", short_help="clusters of recent tickets unlike every known category",
    help="The emerging-topic alert of the Overview page: clusters of the tickets of the last "
    "[topics] recent_days that are unlike every known category, with size and example ids.")
@db_option()
@config_option
@json_option()
def emerging_cmd(db: str, config: str | None, as_json: bool) -> None:
    from triage_core.store import Store
    from triage_core.triage import labeling

    with Store(existing_db(db)) as store:
        settings = load_config(config)
        alerts = labeling.emerging_alerts(store, settings)
        why = None if alerts else labeling.emerging_unavailable(store, settings)
    if as_json:
        print_json(alerts)
    elif not alerts:
        print(f"no emerging topic: {why or 'recent tickets resemble the known categories'}")
    for a in alerts if not as_json else []:
        print(f"{a['size']:,} recent tickets about {a['name']!r} "
              f"(terms: {', '.join(a['terms'])}); e.g. {', '.join(a['ticket_ids'][:3])}")
