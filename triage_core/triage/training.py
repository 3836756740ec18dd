"""Training, the fixed holdout, retraining with corrections, promotion and rollback.

The holdout is 1 in 5 labeled tickets chosen by a hash of the ticket id, so a new and the
current model are always compared on the same tickets. A correction overrides a ticket's label
(the database view ``ticket_corrections``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from triage_core.config.training import TrainingSettings
from triage_core.errors import ModelError, TriageError
from triage_core.models import registry
from triage_core.models.evaluate import metrics
from triage_core.schema import MAX_NOTE_CHARS
from triage_core.store import Store
from triage_core.triage import guardrails
from triage_core.triage.batch import ticket_texts
from triage_core.triage.pipeline import triage

HOLDOUT_BUCKETS = 5  # 1 in 5 labeled tickets (by a hash of the id) is the fixed holdout
_LABELED_SQL = f"""
SELECT k.ticket_id, k.created_at, k.subject, k.body,
       coalesce(corr.category, k.category) AS label,
       corr.category IS NOT NULL AS corrected,
       hash(k.ticket_id) % {HOLDOUT_BUCKETS} = 0 AS holdout
FROM tickets k LEFT JOIN ticket_corrections corr USING (ticket_id)
WHERE coalesce(corr.category, k.category) IS NOT NULL
"""


def labeled(store: Store, config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Labeled tickets (a correction overrides the label) with the fixed holdout flag: the
    newest ``max_train_rows`` outside the holdout and ``max_holdout_rows`` inside it, newest
    first (then by id) in each: the same tickets in the same order train the same model (a
    table scan's order varies between runs, and with it selection's sample and folds)."""
    caps = TrainingSettings.from_mapping((config or {}).get("training"))
    max_train, max_hold = caps.max_train_rows, caps.max_holdout_rows
    return store.query(
        f"""SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY holdout
                                             ORDER BY created_at DESC, ticket_id) AS rn
                FROM ({_LABELED_SQL}))
            WHERE rn <= CASE WHEN holdout THEN ? ELSE ? END
            ORDER BY holdout, rn""",
        [max_hold, max_train],
    )


def _fit_category(train: pd.DataFrame, config: Mapping[str, Any],
                  progress: Any = None, hold: pd.DataFrame | None = None,
                  alongside: Any = None) -> tuple[Any, Any]:
    """The model of the configuration chosen by :func:`selection.select`, and the choice
    (``alongside``: see :func:`selection.fit_selected`)."""
    from triage_core.models.selection import fit_selected

    if train["label"].nunique() < 2:
        everything = train if hold is None else pd.concat([train, hold])
        kinds = everything["label"].nunique()
        if kinds >= 2:  # enough categories, but the holdout holds the only examples of some
            held = sorted(set(everything["label"]) - set(train["label"]))
            raise ModelError(
                f"need tickets of at least two categories to train: the {len(everything):,}"
                f" labeled tickets have {kinds:,}, but the fixed holdout (for judging the"
                f" model) took every ticket of {', '.join(map(repr, held[:5]))}"
                f"{' and more' if len(held) > 5 else ''}; label more tickets (a few of each"
                " category), e.g. with 'triage feedback add' or 'triage topics accept'")
        raise ModelError("need tickets of at least two categories to train; import tickets "
                         "with a category column")
    return fit_selected(ticket_texts(train).tolist(), train["label"].tolist(), config,
                        progress, alongside)


def _baselines(tr: pd.DataFrame, hold: pd.DataFrame, config: Mapping[str, Any]) -> Any:
    """The plain baselines trained on the same training rows, scored on the holdout (none
    without a holdout), to start beside the final fit (:class:`baseline.BesideFit`)."""
    from triage_core.models.baseline import BesideFit, start_baselines

    return BesideFit(lambda: start_baselines(
        ticket_texts(tr).tolist(), tr["label"].tolist(), ticket_texts(hold).tolist(),
        hold["label"].tolist(), config.get("training")))


def _holdout_metrics(model: Any, hold: pd.DataFrame) -> dict[str, Any]:
    if hold.empty:
        return {}
    return metrics(hold["label"].tolist(), list(model.predict(ticket_texts(hold).tolist())))


def train(store: Store, config: Mapping[str, Any], *, note: str = "", by: str = "cli",
          activate: bool = True, force: bool = False, tolerance: float = 0.0,
          progress: Any = None) -> dict[str, Any]:
    """Train a category model on the labeled tickets outside the holdout and record it.

    The configuration is chosen by cross-validation on the training rows
    (:mod:`triage_core.models.selection`); the chosen model is then judged on the fixed
    holdout. With ``activate`` it becomes active only when :func:`guardrails.judge` allows it
    (clearly better than guessing, not worse than the active model on the same holdout) or
    ``force``. The plain baselines are trained on the same rows and scored on the holdout."""
    if len(note) > MAX_NOTE_CHARS:  # said before the training, not after it
        raise TriageError(f"the note is {len(note):,} characters long; at most"
                          f" {MAX_NOTE_CHARS:,}")
    data = labeled(store, config)
    if data.empty:
        raise ModelError("no labeled tickets: the tickets need a category (import a file with "
                         "a category column, or record corrections; without labels, 'triage "
                         "topics' finds the tickets' topics and 'triage topics accept' labels "
                         "them)")
    tr, hold = data[~data["holdout"]], data[data["holdout"]]
    start = time.perf_counter()
    with _baselines(tr, hold, config) as beside:
        model, chosen = _fit_category(tr, config, progress, hold, beside.start)
    seconds = time.perf_counter() - start
    plain = beside.wait(progress)
    return _record(store, model, tr, hold, data, activate=activate, force=force,
                   tolerance=tolerance, note=note, by=by, seconds=seconds,
                   extra={"selection": chosen.summary(), "plain_baselines": plain})


def retrain(store: Store, config: Mapping[str, Any], *, force: bool = False,
            tolerance: float = 0.0, by: str = "cli", progress: Any = None) -> dict[str, Any]:
    """Train on labels plus corrections, compare with the active model on the same holdout,
    promote only when the guardrails allow it (see :func:`train`) unless ``force``; then
    re-triage with the new model."""
    out = train(store, config, note="retrain", by=by, force=force, tolerance=tolerance,
                progress=progress)
    if out["active"]:
        triage(store, config, refresh_campaigns=True)
    keys = ("version", "n_corrections_used", "corrections_used", "current_version", "promoted",
            "reason", "n_train", "n_holdout", "baseline", "selection", "plain_baselines",
            "margin")
    return {**{k: out[k] for k in keys}, "metrics": out["metrics_compared"]}


def _record(store: Store, model: Any, tr: pd.DataFrame, hold: pd.DataFrame,
            data: pd.DataFrame, *, activate: bool, force: bool, tolerance: float, note: str,
            by: str, seconds: float, extra: dict[str, Any]) -> dict[str, Any]:
    """Judge the new model against guessing and the active one, save it, maybe activate.

    ``extra`` (the selection and the plain baselines) is stored with the version."""
    from triage_core.models.baseline import margin

    new_m = _holdout_metrics(model, hold)
    extra = {**extra, "margin": margin(new_m, extra["plain_baselines"]) if new_m else None}
    current_version = registry.active_version(store, "category")
    cur_m = None
    if current_version is not None:
        cur_m = _holdout_metrics(registry.load(store, "category", current_version), hold)
    verdict = guardrails.judge(new_m, hold["label"].tolist(), cur_m, tolerance)
    active = activate and (verdict.activate or force)
    reason = verdict.reason if activate else "recorded without activating (--no-activate)"
    if activate and force and not verdict.activate:
        reason = f"activated by --force although {verdict.reason}"
    n_corr = int(data["corrected"].sum())
    summary = {"n_train": len(tr), "n_holdout": len(hold),
               "labels": tr["label"].value_counts().to_dict(), "n_corrections": n_corr,
               "corrections_used": _corrections_used(store),
               "train_seconds": round(seconds, 2), "compared_with": current_version,
               "current_metrics_same_holdout": _short(cur_m), "baseline": verdict.baseline,
               "decision": reason, **extra}
    metrics = {**new_m, "baseline": verdict.baseline, "plain_baselines":
               extra["plain_baselines"], "margin": extra["margin"]} if new_m else {}
    version = registry.save(store, "category", model, metrics=metrics, train_summary=summary,
                            n_train=len(tr), n_corrections=n_corr, activate=active,
                            note=note + (" (forced)" if active and not verdict.activate
                                         else ""), by=by)
    return {"version": version, "metrics": _short(new_m), "n_train": len(tr),
            "n_holdout": len(hold), "train_seconds": round(seconds, 2), "active": active,
            "promoted": active, "reason": reason, "baseline": verdict.baseline,
            "current_version": current_version, "n_corrections_used": n_corr,
            "corrections_used": summary["corrections_used"],
            "metrics_compared": {"new": _short(new_m), "current": _short(cur_m)}, **extra}


def _corrections_used(store: Store) -> dict[str, int]:
    """Corrections in force by field: category ones train the model; sentiment and tier ones
    apply to scoring (counted so a retrain can say what it used)."""
    row = store.query("SELECT count(category) AS category, count(sentiment) AS sentiment,"
                      " count(tier) AS tier FROM ticket_corrections").iloc[0]
    return {k: int(v) for k, v in row.items()}


def _short(m: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not m:
        return None
    return {"accuracy": m.get("accuracy"), "macro_f1": m.get("macro_f1")}


def promote(store: Store, config: Mapping[str, Any], version: int, by: str = "cli") -> None:
    """Activate a version (promotion or rollback) and re-triage with it."""
    registry.activate_version(store, version, by=by)
    triage(store, config, refresh_campaigns=True)


def rollback(store: Store, config: Mapping[str, Any], kind: str = "category",
             by: str = "cli") -> int:
    version = registry.rollback(store, kind, by=by)
    triage(store, config, refresh_campaigns=True)
    return version
