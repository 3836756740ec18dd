"""The triage pipeline: models -> ``triage_results`` -> priority and routing -> ``triaged_tickets``.

Only new or changed tickets (by a hash of their text and the model version) are predicted
again, batch by batch with :func:`triage_core.triage.batch.triage_batch` on the chosen engine
(:mod:`triage_core.triage.engines`); priorities and routes are then recomputed
(:mod:`triage_core.ops.scoring`), because waiting time, capacity and weights move for every
ticket. Training and retraining live in :mod:`triage_core.triage.training`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from triage_core import moments
from triage_core.errors import TriageError
from triage_core.models import registry
from triage_core.models.language import LanguageSettings
from triage_core.models.severity import SeverityRules
from triage_core.ops import scoring
from triage_core.store import Store
from triage_core.triage import engines
from triage_core.triage.batch import Clock, TriageModels, ticket_texts

BATCH_SIZE = 50_000
Progress = Callable[..., Any]

# Tickets whose stored results are missing or stale (text changed or another model version).
_STALE_SQL = """
SELECT k.ticket_id, k.subject, k.body, k.category AS label, k.language,
       hash(coalesce(k.subject, ''), coalesce(k.body, '')) AS text_hash
FROM tickets k LEFT JOIN triage_results r USING (ticket_id)
WHERE ? OR r.ticket_id IS NULL
   OR r.text_hash <> hash(coalesce(k.subject, ''), coalesce(k.body, ''))
   OR r.model_version IS DISTINCT FROM ?
ORDER BY k.ticket_id
"""


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
    rules = scoring.rules(config)
    return TriageModels(category, version, senti, severity, rules.confidence_threshold,
                        LanguageSettings.from_mapping(config.get("language")),
                        rules.default_language)


def cli_workers(config: Mapping[str, Any]) -> int:
    """``[pipeline] workers`` from the config (0 = one per core)."""
    from triage_core.config.pipeline import PipelineSettings

    return PipelineSettings.from_mapping(config.get("pipeline")).workers


def runner(engine: str, *, n: int, workers: int = 1, scheduler: str | None = None,
           batch_size: int = BATCH_SIZE,
           timings: dict[str, float] | None = None) -> engines.Runner:
    """The engine that triages ``n`` tickets in batches: this process, local processes or Dask."""
    if engine == "dask":
        return lambda batches, models: engines.run_dask(
            [engines.as_frame(b) for b in batches], models, scheduler)
    if engine != "local":
        raise TriageError(f"unknown engine {engine!r}; choose local or dask")
    procs = engines.local_workers(workers, n, batch_size)
    if procs > 1 and timings is None:
        return lambda batches, models: engines.run_local(batches, models, procs)
    return lambda batches, models: engines.run_here(map(engines.as_frame, batches), models,
                                                    timings)


def batch_bounds(n: int, size: int, procs: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of the batches of ``n`` tickets: ``size`` each, except that with several
    processes the last ``procs * size`` tickets go in quarter batches, so that the processes
    finish together (with whole batches, one process sat idle for most of a batch at the end:
    3.3 s of 45 on the 1M demo tickets)."""
    tail = min(n, procs * size) if procs > 1 else 0
    step = max(1, size // 4)
    starts = [*range(0, n - tail, size), *range(n - tail, n, step)]
    return list(zip(starts, [*starts[1:], n][:len(starts)], strict=True))


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
    clock = Clock(timings)
    if engine == "local" and timings is None and full and workers != 1 and engines.local_workers(
            workers, int(store.scalar("SELECT count(*) FROM tickets")), batch_size) > 1:
        engines.start_fork_server()  # its imports overlap the loading of the models
    models = load_models(store, config)
    todo = store.query_arrow(_STALE_SQL, [full, models.category_version])
    n = todo.num_rows
    clock.lap("select")
    if n == 0:
        return 0
    run = runner(engine, n=n, workers=workers, scheduler=scheduler, batch_size=batch_size,
                 timings=timings)
    bar = progress("predicting", total=n, unit="tickets") if progress else None
    # Arrow slices: local worker processes get them as buffers (no pickling of Python strings)
    # and answer in Arrow, so this process, which also writes, stays light.
    procs = engines.local_workers(workers, n, batch_size) if engine == "local" else 1
    batches = (todo.slice(start, stop - start)
               for start, stop in batch_bounds(n, batch_size, procs if timings is None else 1))
    with store.transaction():
        # into an empty table (the first scoring) rows are inserted: DuckDB checks an upsert's
        # keys against the index, about a quarter of the writing time
        mode = "upsert" if store.scalar("SELECT count(*) FROM triage_results") else "append"
        for res in run(batches, models):
            clock.last = time.perf_counter()
            res = engines.with_column(res, "scored_at",
                                      pd.Timestamp.now(tz="UTC").tz_localize(None))
            store.write_frame("triage_results", res, mode=mode, key=["ticket_id"])
            clock.lap("write")
            if bar:
                bar.update(len(res))
    if bar:
        bar.close()
    return n


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
    when = None if as_of is None else moments.moment(as_of, "--as-of").to_pydatetime()
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
    from triage_core import marketing

    section = config.get("attribution")
    settings = marketing.attribution_settings(section)
    with marketing.staged_credits(store, settings) as staged:
        impact = marketing.campaign_impact(store, "last_touch", config=settings, staged=staged)
        impact = impact.assign(category_mix=[json.dumps(m) if isinstance(m, dict) else None
                                             for m in impact["category_mix"]])
        spikes = marketing.spike_series(store, "last_touch", config=settings, staged=staged)
        with store.transaction():
            store.write_frame("campaign_summary", impact, mode="replace")
            store.write_frame("campaign_spikes", spikes, mode="replace")
            marketing.materialize_credits(store, settings, staged=staged)
            # the view is current as long as triaged_tickets was not rewritten after this run
            store.execute("INSERT OR REPLACE INTO settings SELECT 'campaign_tables_of', value"
                          " FROM settings WHERE key = 'scored_at'")


def explain(store: Store, config: Mapping[str, Any], ticket_id: str, k: int = 6,
            models: TriageModels | None = None) -> dict[str, Any]:
    """The words behind one ticket's category and sentiment (computed on demand; ``models``:
    already loaded ones, else the active models are loaded): up to ``k`` each, only words and
    phrases a person reads in the ticket (no stop words, no fragments; see
    :func:`~triage_core.models.explain.readable_terms`)."""
    from triage_core.models import sentiment
    from triage_core.models.explain import explain as category_terms
    from triage_core.models.explain import readable_terms

    found = store.rows("SELECT ticket_id, subject, body FROM tickets WHERE ticket_id = ?",
                       [ticket_id])
    if not found:
        raise TriageError(f"no ticket {ticket_id!r}")
    row = pd.DataFrame(found, columns=["ticket_id", "subject", "body"], dtype=object)
    text = ticket_texts(row).iloc[0]
    models = models or load_models(store, config)
    out: dict[str, Any] = {"category_words": [], "sentiment_words": []}
    raw = f"{row['subject'].iloc[0] or ''}\n{row['body'].iloc[0] or ''}"
    if models.category is not None:
        out["category_words"] = readable_terms(
            category_terms(models.category, text, k=4 * k), raw, k)
    out["sentiment_words"] = readable_terms(
        sentiment.explain_with(models.sentiment, text, k=4 * k), raw, k)
    return out
