"""The triage pipeline: models -> ``triage_results`` -> priority and routing -> ``triaged_tickets``.

:func:`triage_batch` is the unit of work: a pure function from a batch of tickets (pandas) to a
batch of results, so the same code runs locally, on a Dask cluster
(:mod:`triage_core.triage.engines`) or inside PySpark's ``mapInPandas``. Only new or changed
tickets (by a hash of their text and the model version) are predicted again; priorities and
routes are recomputed for all tickets, because waiting time, capacity and weights move for
every ticket.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import ModelError, TriageError
from triage_core.models import registry
from triage_core.models.evaluate import metrics
from triage_core.models.severity import SeverityRules
from triage_core.ops import scoring
from triage_core.store import Store

BATCH_SIZE = 50_000
HOLDOUT_BUCKETS = 5  # 1 in 5 labeled tickets (by a hash of the id) is the fixed holdout
RESULT_COLUMNS = ["ticket_id", "text_hash", "category", "category_confidence", "category_top",
                  "sentiment", "sentiment_label", "severity", "severity_reasons",
                  "model_version"]

# Tickets whose stored results are missing or stale (text changed or another model version).
_STALE_SQL = """
SELECT k.ticket_id, k.subject, k.body, k.category AS label,
       hash(coalesce(k.subject, ''), coalesce(k.body, '')) AS text_hash
FROM tickets k LEFT JOIN triage_results r USING (ticket_id)
WHERE ? OR r.ticket_id IS NULL
   OR r.text_hash <> hash(coalesce(k.subject, ''), coalesce(k.body, ''))
   OR r.model_version IS DISTINCT FROM ?
ORDER BY k.ticket_id
"""


@dataclass
class TriageModels:
    """Everything :func:`triage_batch` needs; plain objects, picklable for cluster workers."""

    category: Any | None  # fitted classifier, or None before the first training
    category_version: int | None
    sentiment: Any  # LexiconSentiment (zero-shot) or a trained sentiment model
    severity: SeverityRules


def load_models(store: Store, config: Mapping[str, Any]) -> TriageModels:
    from triage_core.models import sentiment

    version = registry.active_version(store, "category")
    category = registry.load(store, "category", version) if version is not None else None
    senti_version = registry.active_version(store, "sentiment")
    if senti_version is not None:
        senti = registry.load(store, "sentiment", senti_version)
    else:
        senti = sentiment.LexiconSentiment(
            sentiment.SentimentSettings.from_config(config.get("sentiment", {})))
    severity = SeverityRules.from_config(config.get("severity", {}))
    return TriageModels(category, version, senti, severity)


def _texts(batch: pd.DataFrame) -> pd.Series:
    from triage_core.text import ticket_text_series

    return ticket_text_series(batch["subject"], batch["body"])


def triage_batch(batch: pd.DataFrame, models: TriageModels,
                 timings: dict[str, float] | None = None) -> pd.DataFrame:
    """Pure: a batch with ticket_id, subject, body (and optional label, text_hash) -> results.

    Category, confidence and top 3 come from the classifier (when there is none, the known
    label with confidence 1, else nothing); sentiment -1..+1 and its label from the sentiment
    model; severity 1-4 from the rules, using the known label or the predicted category.
    """
    from triage_core.models import classifier, sentiment

    clock = _Clock(timings)
    n = len(batch)
    texts = _texts(batch)
    clock.lap("text")
    out = pd.DataFrame({"ticket_id": batch["ticket_id"].to_numpy()})
    out["text_hash"] = batch["text_hash"].to_numpy() if "text_hash" in batch else 0
    if models.category is not None and n:
        top = classifier.predict_top(models.category, texts, k=3)
        out["category"] = top["category"].to_numpy()
        out["category_confidence"] = top["confidence"].to_numpy(dtype=float)
        out["category_top"] = [json.dumps(t) for t in top["top"]]
    else:
        out["category"] = None
        out["category_confidence"] = np.nan
        out["category_top"] = None
    clock.lap("category")
    scores, labels = sentiment.score_and_label(models.sentiment, texts, clean=False)
    out["sentiment"] = scores
    out["sentiment_label"] = labels
    clock.lap("sentiment")
    known = batch["label"] if "label" in batch else pd.Series([None] * n)
    effective = known.where(known.notna(), out["category"].to_numpy()).reset_index(drop=True)
    sev = models.severity.assess(texts.reset_index(drop=True), effective)
    out["severity"] = sev["severity"].to_numpy()
    out["severity_reasons"] = sev["severity_reason"].to_numpy()
    clock.lap("severity")
    out["model_version"] = models.category_version
    return out[RESULT_COLUMNS]


Progress = Callable[..., Any]


class _Clock:
    """Adds the seconds since the previous lap to ``timings[name]`` (no-op without timings)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        if self.timings is None:
            return
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def predict(store: Store, config: Mapping[str, Any], *, full: bool = False,
            engine: str = "local", scheduler: str | None = None,
            progress: Progress | None = None, batch_size: int = BATCH_SIZE,
            timings: dict[str, float] | None = None, workers: int = 1) -> int:
    """Predict new or changed tickets (all with ``full``) into ``triage_results``.

    ``timings`` (optional) accumulates seconds per stage: select, text, category, sentiment,
    severity, write. ``workers`` > 1 (0 = one per core) predicts in that many processes; the
    command line passes ``[pipeline] workers``, library callers default to this process
    (worker processes re-import the caller's main module, which a host such as Streamlit
    does not expect)."""
    clock = _Clock(timings)
    models = load_models(store, config)
    todo = store.query_arrow(_STALE_SQL, [full, models.category_version])
    n = todo.num_rows
    clock.lap("select")
    if n == 0:
        return 0
    bar = progress("predicting", total=n, unit="tickets") if progress else None
    batches = (todo.slice(i, batch_size).to_pandas() for i in range(0, n, batch_size))
    if engine == "dask":
        from triage_core.triage.engines import run_dask

        results = run_dask(list(batches), models, scheduler)
    elif engine == "local":
        procs = _local_workers(workers, n, batch_size)
        if procs > 1 and timings is None:
            results = _process_pool(batches, models, procs)
        else:
            results = (triage_batch(b, models, timings) for b in batches)
    else:
        raise TriageError(f"unknown engine {engine!r}; choose local or dask")
    with store.transaction():
        for res in results:
            clock.last = time.perf_counter()
            res = res.assign(scored_at=pd.Timestamp.now(tz="UTC").tz_localize(None))
            store.write_frame("triage_results", res, mode="upsert", key=["ticket_id"])
            clock.lap("write")
            if bar:
                bar.update(len(res))
    if bar:
        bar.close()
    return n


def _local_workers(workers: int, n: int, batch_size: int) -> int:
    """Processes for local prediction (0 = one per core), never more than there are batches."""
    import os

    wanted = int(workers) or (os.cpu_count() or 1)
    return max(1, min(wanted, -(-n // batch_size)))


def cli_workers(config: Mapping[str, Any]) -> int:
    """``[pipeline] workers`` from the config (0 = one per core)."""
    workers = config.get("pipeline", {}).get("workers", 0)
    if not isinstance(workers, int) or workers < 0:
        raise TriageError("pipeline.workers must be a whole number >= 0 (0 = one per core)")
    return workers


_WORKER_MODELS: TriageModels | None = None


def _init_worker(models: TriageModels) -> None:
    global _WORKER_MODELS
    _WORKER_MODELS = models


def _worker_batch(batch: pd.DataFrame) -> pd.DataFrame:
    assert _WORKER_MODELS is not None
    return triage_batch(batch, _WORKER_MODELS)


def _process_pool(batches: Any, models: TriageModels, workers: int) -> Any:
    """Run triage_batch over batches in ``workers`` processes, results in input order.

    The models travel to each worker once (in memory, between our own processes); at most
    ``2 * workers`` batches are in flight, so memory stays bounded."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(models,)) as pool:
        pending: list[Any] = []
        for batch in batches:
            pending.append(pool.submit(_worker_batch, batch))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()


def triage(store: Store, config: Mapping[str, Any], *, profile: str | None = None,
           as_of: str | dt.datetime | None = None, engine: str = "local",
           scheduler: str | None = None, progress: Progress | None = None,
           full: bool = False, workers: int = 1,
           refresh_campaigns: bool | None = None) -> dict[str, Any]:
    """Predict what is new or changed, then score and route every ticket.

    ``refresh_campaigns``: rebuild the materialized campaign view; None = after a full
    scoring only (an incremental run leaves it marked stale, and the dashboard computes the
    campaign view live until the next full run)."""
    if not store.scalar("SELECT count(*) FROM tickets"):
        raise TriageError("no tickets to triage; import some with 'triage import tickets FILE'")
    when = None
    if as_of is not None:
        try:
            when = pd.Timestamp(as_of).tz_localize(None).to_pydatetime()
        except (ValueError, TypeError):
            raise TriageError(f"--as-of {as_of!r} is not a timestamp") from None
    start = time.perf_counter()
    predicted = predict(store, config, full=full, engine=engine, scheduler=scheduler,
                        progress=progress, workers=workers)
    tiers = scoring.score_all(store, config, profile, when, full=full)
    mode = store.scalar("SELECT value FROM settings WHERE key = 'scored_mode'")
    if refresh_campaigns or (refresh_campaigns is None and mode == "full"):
        refresh_campaign_tables(store, config)
    used = scoring.load_profile(store, config, profile)
    return {
        "predicted": predicted,
        "scored": int(tiers["tickets"].sum()),
        "model_version": registry.active_version(store, "category"),
        "profile": used.name,
        "as_of": str(when or scoring.data_time(store)),
        "tiers": {str(t): int(n) for t, n in zip(tiers["priority_tier"], tiers["tickets"],
                                                  strict=True)},
        "seconds": round(time.perf_counter() - start, 3),
    }


def refresh_campaign_tables(store: Store, config: Mapping[str, Any]) -> None:
    """Materialize the dashboard's default campaign view (last touch, configured lookback,
    no filters) and the spike series, so the pages read them instead of recomputing."""
    from triage_core.marketing import attribution

    section = config.get("attribution")
    impact = attribution.campaign_impact(store, "last_touch", config=section)
    impact = impact.assign(category_mix=[json.dumps(m) if isinstance(m, dict) else None
                                         for m in impact["category_mix"]])
    spikes = attribution.spike_series(store, "last_touch", config=section)
    with store.transaction():
        store.write_frame("campaign_summary", impact, mode="replace")
        store.write_frame("campaign_spikes", spikes, mode="replace")
        # the view is current as long as triaged_tickets was not rewritten after this run
        store.execute("INSERT OR REPLACE INTO settings SELECT 'campaign_tables_of', value"
                      " FROM settings WHERE key = 'scored_at'")


# -- training, holdout, retraining ------------------------------------------------------------

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
    newest ``max_train_rows`` outside the holdout and ``max_holdout_rows`` inside it."""
    section = (config or {}).get("training", {})
    max_train = int(section.get("max_train_rows", 30_000))
    max_hold = int(section.get("max_holdout_rows", 20_000))
    if max_train < 1 or max_hold < 1:
        raise TriageError("training.max_train_rows and max_holdout_rows must be at least 1")
    return store.query(
        f"""SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY holdout
                                             ORDER BY created_at DESC, ticket_id) AS rn
                FROM ({_LABELED_SQL}))
            WHERE rn <= CASE WHEN holdout THEN ? ELSE ? END""",
        [max_hold, max_train],
    )


def _fit_category(train: pd.DataFrame, config: Mapping[str, Any]) -> Any:
    from triage_core.models.classifier import build_classifier

    if train["label"].nunique() < 2:
        raise ModelError("need tickets of at least two categories to train; import tickets "
                         "with a category column")
    model = build_classifier(config.get("classifier"))
    return model.fit(_texts(train).tolist(), train["label"].tolist())


def _holdout_metrics(model: Any, hold: pd.DataFrame) -> dict[str, Any]:
    if hold.empty:
        return {}
    return metrics(hold["label"].tolist(), list(model.predict(_texts(hold).tolist())))


def train(store: Store, config: Mapping[str, Any], *, note: str = "", by: str = "cli",
          activate: bool = True) -> dict[str, Any]:
    """Train a category model on the labeled tickets outside the holdout and record it."""
    data = labeled(store, config)
    if data.empty:
        raise ModelError("no labeled tickets: the tickets need a category (import a file with "
                         "a category column, or record corrections)")
    tr, hold = data[~data["holdout"]], data[data["holdout"]]
    start = time.perf_counter()
    model = _fit_category(tr, config)
    seconds = time.perf_counter() - start
    m = _holdout_metrics(model, hold)
    summary = {"n_train": len(tr), "n_holdout": len(hold),
               "labels": tr["label"].value_counts().to_dict(),
               "n_corrections": int(tr["corrected"].sum()), "train_seconds": round(seconds, 2)}
    version = registry.save(store, "category", model, metrics=m, train_summary=summary,
                            n_train=len(tr), n_corrections=int(data["corrected"].sum()),
                            activate=activate, note=note, by=by)
    return {"version": version, "metrics": _short(m), "n_train": len(tr),
            "n_holdout": len(hold), "train_seconds": round(seconds, 2), "active": activate}


def _short(m: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not m:
        return None
    return {"accuracy": m.get("accuracy"), "macro_f1": m.get("macro_f1")}


def retrain(store: Store, config: Mapping[str, Any], *, force: bool = False,
            tolerance: float = 0.0, by: str = "cli") -> dict[str, Any]:
    """Train on labels plus corrections, compare with the active model on the same holdout,
    promote only when not worse (macro-F1 >= current - tolerance) unless ``force``."""
    data = labeled(store, config)
    if data.empty:
        raise ModelError("no labeled tickets to train on")
    tr, hold = data[~data["holdout"]], data[data["holdout"]]
    new = _fit_category(tr, config)
    new_m = _holdout_metrics(new, hold)
    current_version = registry.active_version(store, "category")
    cur_m = None
    if current_version is not None:
        cur_m = _holdout_metrics(registry.load(store, "category", current_version), hold)
    better = (cur_m is None or not new_m
              or new_m["macro_f1"] >= cur_m["macro_f1"] - tolerance)
    promote_it = force or better
    n_corr = int(data["corrected"].sum())
    summary = {"n_train": len(tr), "n_holdout": len(hold), "n_corrections": n_corr,
               "compared_with": current_version,
               "current_metrics_same_holdout": _short(cur_m)}
    version = registry.save(store, "category", new, metrics=new_m, train_summary=summary,
                            n_train=len(tr), n_corrections=n_corr, activate=promote_it,
                            note="retrain" + (" (forced)" if force and not better else ""),
                            by=by)
    if promote_it:
        triage(store, config, refresh_campaigns=True)
    return {"version": version, "n_corrections_used": n_corr,
            "metrics": {"new": _short(new_m), "current": _short(cur_m)},
            "current_version": current_version, "promoted": promote_it,
            "n_train": len(tr), "n_holdout": len(hold)}


def promote(store: Store, config: Mapping[str, Any], version: int, by: str = "cli") -> None:
    """Activate a version (promotion or rollback) and re-triage with it."""
    registry.activate_version(store, version, by=by)
    triage(store, config, refresh_campaigns=True)


def rollback(store: Store, config: Mapping[str, Any], kind: str = "category",
             by: str = "cli") -> int:
    version = registry.rollback(store, kind, by=by)
    triage(store, config, refresh_campaigns=True)
    return version


# -- explanations, backtest -------------------------------------------------------------------

def explain(store: Store, config: Mapping[str, Any], ticket_id: str, k: int = 6
            ) -> dict[str, Any]:
    """The words behind one ticket's category and sentiment (computed on demand)."""
    from triage_core.models import sentiment
    from triage_core.models.explain import explain as category_terms

    row = store.query("SELECT ticket_id, subject, body FROM tickets WHERE ticket_id = ?",
                      [ticket_id])
    if row.empty:
        raise TriageError(f"no ticket {ticket_id!r}")
    text = _texts(row).iloc[0]
    models = load_models(store, config)
    out: dict[str, Any] = {"category_words": [], "sentiment_words": []}
    if models.category is not None:
        out["category_words"] = category_terms(models.category, text, k=k)
    out["sentiment_words"] = sentiment.explain_with(models.sentiment, text, k=k)
    return out


def backtest(store: Store, config: Mapping[str, Any], profile: str, vs: str | None = None,
             days: int = 30) -> dict[str, Any]:
    """Replay the last ``days`` of tickets under one or two profiles."""
    from triage_core.ops import backtest as bt

    if days <= 0:
        raise TriageError("--days must be positive")
    frame = scoring.scoring_frame(store)
    if frame.empty:
        raise TriageError("no tickets to replay")
    end = scoring.data_time(store)
    history = frame[frame["created_at"] >= pd.Timestamp(end) - pd.Timedelta(days=days)]
    history = history.assign(agent_id=history["handled_by"])
    agents = store.query("SELECT * FROM agents")
    rules = scoring.rules(config)
    results = {}
    for name in [profile] + ([vs] if vs else []):
        prof = scoring.load_profile(store, config, name)
        results[name] = bt.backtest(history, agents, rules, prof, label=name)
    out: dict[str, Any] = {"days": days, "tickets": len(history),
                           "profiles": {k: v.to_dict() for k, v in results.items()}}
    if vs:
        out["comparison"] = bt.compare(results[profile], results[vs]).to_dict("records")
    return out
