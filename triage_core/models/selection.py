"""Model selection on a helpdesk's own training data: which classifier configuration fits it.

Every helpdesk's tickets differ (short chat intents, long e-mails with signatures, many teams
with a handful of examples each), so ``triage train`` does not trust one fixed configuration.
:func:`select` scores a small set of candidate configurations (``[training.selection]``: the
``[classifier]`` section with a few keys changed each) by stratified cross-validation on the
training rows only, and returns the best one. The candidates include the plain TF-IDF + linear
SVM (word 1-2 grams and character 2-5 grams, one-vs-rest, no skip-grams, no word vectors) at
several values of C, so the chosen model is never worse than that baseline beyond CV noise.

* Folds run fold-major (every candidate on fold 1, then on fold 2, ...) in ``workers``
  processes (joblib's loky workers). How many fits run depends on the number of tickets only
  (``fit_budget`` at ``budget_rows``, fewer for more tickets), never on the clock; every
  candidate is compared on the folds all of them finished, and candidates that finished none
  are reported as skipped. Processes, not threads: liblinear has one random generator per
  process, which fits on several threads would share, so the same data would not always score
  the same (on banking77 the fourth decimal varied, and a near-tie flipped the choice).
* A training set larger than ``max_rows`` is cross-validated on a stratified sample of that
  size (the final model is still fitted on every row), which bounds the selection's cost.
* Rare classes (fewer examples than folds) are never held out: they stay in every training part,
  so each fold's model knows every class and a class of one example cannot break the folds.
* The held-out scores of the chosen configuration calibrate the final model's temperature, so
  training does not fit extra folds for it. :func:`fit_selected` fits the final model in a
  worker process too.

The result (:class:`Selection`) records the chosen configuration and every candidate's CV score;
training stores it with the model version and ``--json`` prints it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from triage_core.config import Checker, section
from triage_core.errors import ConfigError, ModelError
from triage_core.models.classifier import ClassifierSettings, TicketClassifier
from triage_core.models.features import as_texts, to_python
from triage_core.processes import watch_parent

__all__ = ["CandidateScore", "Selection", "SelectionSettings", "accuracy_and_macro_f1", "cores",
           "cv_folds", "cv_sample", "fit_selected", "select", "selection_settings"]

METRICS = ("accuracy", "macro_f1", "mean")
IDLE_WORKER_SECONDS = 60  # worker processes of selection (and the baseline) exit after this
PROCESS_MIN_ROWS = 1000  # fewer cross-validated tickets: the fits run in this process
MAX_WORKERS = 4  # worker processes by default (selection has 18 fits, 9 per fold)
# A one-vs-rest final fit is shared over at most this many workers: each computes the features
# of every training ticket (1-2 GB for 10,000 e-mail threads of 1,640 characters), so more
# shares would multiply the memory a training takes on a machine of many cores
MAX_SHARES = 2


@dataclass(frozen=True)
class SelectionSettings:
    """The ``[training.selection]`` table (defaults in ``config/defaults/training.toml``)."""

    enabled: bool
    cv_folds: int
    metric: str
    fit_budget: int
    budget_rows: int
    max_rows: int
    budget_chars: int
    workers: int
    min_rows: int
    candidates: tuple[tuple[str, dict[str, Any]], ...]
    baseline: tuple[str, ...]  # the plain candidates (see _keep_plain)
    baseline_margin: float  # in standard errors of the paired per-ticket difference

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SelectionSettings:
        check = Checker("training.selection")
        names = [f for f in cls.__dataclass_fields__]
        data = check.table(data, "", names)
        missing = [n for n in names if n not in data]
        if missing:
            check.fail(f"{missing[0]} is missing")
        cands = check.table(data["candidates"], "candidates")
        if not cands:
            check.fail("candidates must name at least one configuration")
        out = []
        for name, over in cands.items():
            over = dict(check.table(over, f"candidates.{name}"))
            ClassifierSettings.from_config(over)  # ConfigError names the bad key
            out.append((str(name), over))
        # names that are not candidates are passed over: a configuration that replaces the
        # candidates need not restate this list
        baseline = check.texts(data["baseline"], "baseline")
        return cls(enabled=check.flag(data["enabled"], "enabled"),
                   cv_folds=check.integer(data["cv_folds"], "cv_folds", lo=2, hi=10),
                   metric=check.choice(data["metric"], "metric", METRICS),
                   fit_budget=check.integer(data["fit_budget"], "fit_budget", lo=1),
                   budget_rows=check.integer(data["budget_rows"], "budget_rows", lo=1),
                   max_rows=check.integer(data["max_rows"], "max_rows", lo=10),
                   budget_chars=check.integer(data["budget_chars"], "budget_chars", lo=1),
                   workers=check.integer(data["workers"], "workers", lo=0),
                   min_rows=check.integer(data["min_rows"], "min_rows", lo=2),
                   candidates=tuple(out), baseline=tuple(baseline),
                   baseline_margin=check.number(data["baseline_margin"], "baseline_margin",
                                                lo=0.0))


def selection_settings(training: Mapping[str, Any] | None = None) -> SelectionSettings:
    """The packaged ``[training.selection]`` with a user's ``[training]`` table on top."""
    return SelectionSettings.from_mapping(section("training", training).get("selection", {}))


@dataclass(frozen=True)
class CandidateScore:
    name: str
    changes: dict[str, Any]  # the keys this candidate sets over [classifier]
    accuracy: float | None
    macro_f1: float | None
    score: float | None  # by the selection metric; None: skipped
    folds: int
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class Selection:
    chosen: str
    params: dict[str, Any]  # TicketClassifier's keywords of the chosen configuration
    metric: str
    folds: int
    candidates: tuple[CandidateScore, ...]
    seconds: float
    reason: str
    held_out: tuple[np.ndarray, list[Any]] | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record (without the held-out scores)."""
        return {"chosen": self.chosen, "metric": self.metric, "folds": self.folds,
                "seconds": round(self.seconds, 2), "reason": self.reason,
                "changes": next((c.changes for c in self.candidates
                                 if c.name == self.chosen), {}),
                "candidates": [_rounded(asdict(c)) for c in self.candidates]}


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def cv_folds(y: np.ndarray, k: int, seed: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds over the classes with at least ``k`` examples; the rows of rarer
    classes are in every training part and never held out."""
    counts = np.bincount(y)
    common = counts[y] >= k
    rows = np.flatnonzero(common)
    rare = np.flatnonzero(~common)
    if len(np.unique(y[rows])) < 2:
        return []
    split = StratifiedKFold(k, shuffle=True, random_state=seed)
    return [(np.sort(np.concatenate([rows[tr], rare])), rows[te])
            for tr, te in split.split(np.zeros(len(rows)), y[rows])]


def sample_rows(settings: SelectionSettings, texts: Any, max_chars: int) -> int:
    """How many tickets selection cross-validates on: ``max_rows`` while the tickets are on
    average at most ``budget_chars`` long (what the model reads, up to ``max_chars``), fewer
    for longer ones, as ``max_rows * sqrt(budget_chars / mean length)``. A fit's cost grows
    with the text's length, but more slowly (the same character n-grams come again): 10,000
    tickets of 790 characters took 67 s of selection on the full sample against 15 s for
    banking77's 10,000 of 55 characters, while the final model is fitted on every row anyway.
    Counted from the data, never from the clock, so the same data gives the same model."""
    return rows_for_length(settings.max_rows, settings.budget_chars,
                           [min(len(t), max_chars) for t in texts])


def rows_for_length(max_rows: int, budget_chars: int, lengths: Any) -> int:
    """``max_rows`` while the texts' mean length is at most ``budget_chars``, else
    ``max_rows * sqrt(budget_chars / mean length)`` (at least 10)."""
    mean = float(np.mean(lengths)) if len(lengths) else 0.0
    if mean <= budget_chars:
        return max_rows
    return max(10, int(max_rows * (budget_chars / mean) ** 0.5))


def cv_sample(y: np.ndarray, max_rows: int, k: int, seed: int | None) -> np.ndarray:
    """At most about ``max_rows`` row indices (sorted), stratified: each class keeps its share
    of the rows, and at least ``k`` of them (all of a class with fewer). Deterministic for a
    seed; all rows when there are no more than ``max_rows``."""
    n = len(y)
    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    by_class = order[np.argsort(y[order], kind="stable")]  # each class's rows, shuffled
    counts = np.bincount(y)
    keep = np.minimum(counts, np.maximum(np.ceil(counts * max_rows / n).astype(int), k))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    picked = [by_class[s:s + m] for s, m in zip(starts, keep, strict=True) if m]
    return np.sort(np.concatenate(picked))


def accuracy_and_macro_f1(y_true: Any, y_pred: Any) -> tuple[float, float]:
    """Accuracy, and macro-F1 over the labels present in the truth (as ``evaluate.metrics``)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    f1 = f1_score(y_true, y_pred, average="macro", labels=np.unique(y_true), zero_division=0)
    return float(accuracy_score(y_true, y_pred)), float(f1)


def _metrics(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> tuple[float, float, float]:
    acc, f1 = accuracy_and_macro_f1(y_true, y_pred)
    return acc, f1, {"accuracy": acc, "macro_f1": f1, "mean": (acc + f1) / 2}[metric]


# [classifier] keys that change predictions but not the fit: candidates that differ only in
# these share one fit per fold (the `neighbors` candidate costs `default` no second fit)
PREDICT_KEYS = ("neighbor_weight", "neighbor_k")


def _fit_key(params: Mapping[str, Any]) -> str:
    return repr(sorted((k, v) for k, v in params.items() if k not in PREDICT_KEYS))


def fit_fold(params: list[dict[str, Any]], train_texts: list[str], train_y: np.ndarray,
             test_texts: list[str], n_classes: int
             ) -> tuple[list[np.ndarray] | None, float, str]:
    """Candidates that share a fit (``params``: the same but for :data:`PREDICT_KEYS`) on one
    fold, in a worker process: (each one's held-out scores, n_test x n_classes, seconds, ""),
    or (None, seconds, why) when they cannot train on these texts."""
    start = time.perf_counter()
    weight = max(p["neighbor_weight"] for p in params)  # keeps the vectors when one needs them
    model = TicketClassifier(**{**params[0], "neighbor_weight": weight, "calibration_cv": 0})
    try:
        model.fit(train_texts, train_y)
    except ModelError as exc:  # e.g. no words left after this candidate's cleaning
        return None, time.perf_counter() - start, str(exc)
    out = []
    for p in params:
        model.set_params(neighbor_weight=p["neighbor_weight"], neighbor_k=p["neighbor_k"])
        got = model.class_scores(test_texts)
        scores = np.full((len(test_texts), n_classes), got.min() - 1.0)
        scores[:, model.classes_] = got  # labels are class indices
        out.append(scores)
    return out, time.perf_counter() - start, ""


class _Run:
    """Fold fits of the candidates: predictions, held-out scores and timings."""

    def __init__(self, texts: np.ndarray, y: np.ndarray, n_classes: int,
                 params: list[dict[str, Any]], unusable: Mapping[int, str] | None = None
                 ) -> None:
        self.texts, self.y, self.n_classes, self.params = texts, y, n_classes, params
        # candidate -> why it cannot train (on these texts, or with these settings)
        self.failed: dict[int, str] = dict(unusable or {})
        usable = [c for c in range(len(params)) if c not in self.failed]
        keys = {c: _fit_key(params[c]) for c in usable}
        # the fits: candidates that differ only in PREDICT_KEYS share one, in candidate order
        self.fits = [[c for c in usable if keys[c] == key]
                     for key in dict.fromkeys(keys.values())]
        self.scores: dict[tuple[int, int], np.ndarray] = {}
        self.seconds: dict[tuple[int, int], float] = {}

    def task(self, fit: int, fold: int, rows: tuple[np.ndarray, np.ndarray]
             ) -> tuple[Any, ...]:
        """The arguments of :func:`fit_fold` for the candidates of ``fit`` on ``fold``."""
        train, test = rows
        return ([self.params[c] for c in self.fits[fit]], self.texts[train].tolist(),
                self.y[train], self.texts[test].tolist(), self.n_classes)

    def record(self, fit: int, fold: int,
               result: tuple[list[np.ndarray] | None, float, str]) -> None:
        scores, seconds, failed = result
        for i, cand in enumerate(self.fits[fit]):
            if scores is None:
                self.failed.setdefault(cand, failed)
                continue
            self.scores[cand, fold] = scores[i]
            self.seconds[cand, fold] = seconds  # the shared fit's time, for each of them


def _run_folds(run: _Run, folds: list[tuple[np.ndarray, np.ndarray]], workers: int,
               allowed: int, progress: Callable[..., Any] | None) -> None:
    """Fit ``allowed`` (candidate, fold) pairs in fold-major order (every candidate on fold 1,
    then fold 2, ...), whole folds only, in ``workers`` processes (here when 1); candidates
    that share a fit (:data:`PREDICT_KEYS`) are one. The number of fits depends only on the
    data's size, never on the clock."""
    n = len(run.fits)
    tasks = [(c, f) for f in range(len(folds)) for c in range(n)]
    tasks = tasks[:max(allowed // n, 1) * n] if allowed >= n else tasks[:allowed]
    bar = progress("model selection", total=len(tasks), unit="fits") if progress else None
    try:
        if workers == 1:
            for c, f in tasks:
                run.record(c, f, fit_fold(*run.task(c, f, folds[f])))
                if bar:
                    bar.update(1)
            return
        # Processes, not threads: liblinear has one random generator per process, which fits
        # on two threads would share, so the same data would not always score the same.
        pool = workers_pool(min(workers, len(tasks)))
        futures = {pool.submit(in_worker, fit_fold, *run.task(c, f, folds[f])): (c, f)
                   for c, f in tasks}
        try:
            for fut in as_completed(futures):
                run.record(*futures[fut], fut.result())  # re-raises what a fit raised
                if bar:
                    bar.update(1)
        finally:
            for fut in futures:  # stopped early (an error, an interrupt): drop the rest
                fut.cancel()
    finally:
        if bar:
            bar.close()


_POOL: Any = None  # the worker processes: loky's reusable executor


def workers_pool(n: int) -> Any:
    """``n`` worker processes (loky's reusable executor, from joblib): they never import the
    caller's ``__main__`` (a script without a main guard, Streamlit's runner), unlike
    multiprocessing's; they stay up for the next selection (a retrain, then an evaluation)
    and exit after :data:`IDLE_WORKER_SECONDS` without work, or with this process."""
    global _POOL
    from joblib.externals.loky import get_reusable_executor

    _POOL = get_reusable_executor(max_workers=n, timeout=IDLE_WORKER_SECONDS)
    return _POOL


def stop_workers() -> None:
    """Stop the worker processes now (fits under way are abandoned) and wait for them. For a
    server that stops: uvicorn ends it by raising the signal it caught again, so the exit
    handlers that would stop them never run (their resource tracker then warns of leaked
    semaphores)."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, kill_workers=True)


def in_worker(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a worker process that runs at a lower CPU priority (nice 10, like the
    server's background search for emerging topics: under ``triage serve`` the tickets that
    arrive during a training are triaged first) and exits once the process that started it is
    gone (a server killed with SIGKILL cannot stop its workers, which would idle on, holding
    memory). Only for worker processes: it would end any process whose parent exits."""
    global _WATCHING
    if not _WATCHING:
        _WATCHING = True
        with contextlib.suppress(OSError):
            os.nice(10)
        watch_parent(os.getppid())
    return fn(*args)


_WATCHING = False


def allowed_fits(settings: SelectionSettings, n_rows: int, n_candidates: int,
                 n_folds: int) -> int:
    """How many (candidate, fold) fits selection may run on ``n_rows`` tickets: ``fit_budget``
    at ``budget_rows`` tickets, inversely proportional to the size (fits cost about linearly
    in rows), never fewer than the first fold of the first two candidates. Candidates that
    share a fit (:data:`PREDICT_KEYS`) count once (``n_candidates``: the distinct fits)."""
    scaled = round(settings.fit_budget * settings.budget_rows / max(n_rows, 1))
    return max(min(2, n_candidates), min(scaled, n_candidates * n_folds))


def select(X: Any, y: Any, classifier: Mapping[str, Any] | None = None,
           settings: SelectionSettings | None = None,
           progress: Callable[..., Any] | None = None) -> Selection:
    """Choose the candidate configuration with the best cross-validated score on (X, y).

    ``classifier`` is the ``[classifier]`` section the candidates change; ``settings`` the
    ``[training.selection]`` table (None: the packaged one)."""
    start = time.perf_counter()
    settings = settings or selection_settings()
    names = [name for name, _ in settings.candidates]
    changes = [over for _, over in settings.candidates]
    params, unusable = _candidate_params(classifier, changes)
    texts = np.asarray(as_texts(X), dtype=object)
    classes, yi = np.unique(np.asarray([str(v) for v in y], dtype=object), return_inverse=True)
    # a large training set is cross-validated on a stratified sample of it (max_rows, fewer
    # for long texts): the ranking of the candidates needs far fewer rows than the final model
    rows = cv_sample(yi, sample_rows(settings, texts, params[0]["max_chars"]),
                     settings.cv_folds, params[0]["random_state"])
    texts, yi = texts[rows], yi[rows]
    folds = cv_folds(yi, settings.cv_folds, params[0]["random_state"])
    why = _skip_reason(settings, len(names), len(texts), folds)
    if why:
        return _unscored(names, changes, params, settings, why, time.perf_counter() - start)
    run = _Run(texts, yi, len(classes), params, unusable)
    allowed = allowed_fits(settings, len(texts), len(run.fits), len(folds))
    # worker processes pay for their start (about 2 s) from about 1,000 tickets up
    workers = (settings.workers or default_workers()) if len(texts) >= PROCESS_MIN_ROWS else 1
    _run_folds(run, folds, workers, allowed, progress)
    return _choose(run, names, changes, folds, settings, classes, time.perf_counter() - start)


def _candidate_params(classifier: Mapping[str, Any] | None,
                      changes: list[dict[str, Any]]
                      ) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Each candidate's classifier parameters (the ``[classifier]`` section with its
    changes), and the candidates that cannot be built from that section, with why.

    The first candidate is the section itself: an error there is the user's and is raised.
    Similar tickets need the word-vector blocks: a candidate that turns the blocks off (the
    plain ones) while the section turns the vote on is plain, without the vote; a candidate
    that turns the vote on (`neighbors`) while the section turns the blocks off cannot train."""
    base = dict(classifier or {})
    params: list[dict[str, Any]] = []
    unusable: dict[int, str] = {}
    for i, over in enumerate(changes):
        merged = {**base, **over}
        try:
            if i and "neighbor_weight" not in over \
                    and not _has_vectors(section("classifier", merged)):
                merged["neighbor_weight"] = 0.0
            params.append(ClassifierSettings.from_config(merged).params())
        except ConfigError as exc:
            if i == 0:
                raise
            unusable[i] = str(exc)
            params.append({})
    return params, unusable


def _has_vectors(full: Mapping[str, Any]) -> bool:
    """Whether a [classifier] section has a word-vector block (True when it cannot tell:
    validation then says what is wrong)."""
    weights = (full.get("semantic_weight"), full.get("semantic_max_weight"))
    if not all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
        return True
    return any(w > 0 for w in weights)


def default_workers() -> int:
    """Worker processes when ``workers = 0``: one per core, at most :data:`MAX_WORKERS` (each
    holds its own scikit-learn and texts, about 300 MB; threads, before, shared one)."""
    return min(cores(), MAX_WORKERS)


def cores() -> int:
    """The cores this process may use."""
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def _skip_reason(settings: SelectionSettings, n_candidates: int, n_rows: int,
                 folds: list[Any]) -> str:
    if not settings.enabled:
        return "model selection is off (training.selection.enabled = false)"
    if n_candidates == 1:
        return "one candidate configured"
    if n_rows < settings.min_rows:
        return (f"too few tickets to cross-validate ({n_rows:,}; at least "
                f"{settings.min_rows:,} with two categories of {settings.cv_folds}+ examples)")
    if not folds:  # enough tickets, but no second category with enough examples
        return (f"too few examples per category to cross-validate (fewer than two categories"
                f" have {settings.cv_folds}+ examples)")
    return ""


def _unscored(names: list[str], changes: list[dict[str, Any]], params: list[dict[str, Any]],
              settings: SelectionSettings, why: str, seconds: float) -> Selection:
    cands = tuple(CandidateScore(nm, ch, None, None, None, 0, 0.0, "not scored")
                  for nm, ch in zip(names, changes, strict=True))
    return Selection(names[0], params[0], settings.metric, 0, cands, seconds,
                     f"{why}: the first candidate is used")


def _choose(run: _Run, names: list[str], changes: list[dict[str, Any]],
            folds: list[tuple[np.ndarray, np.ndarray]], settings: SelectionSettings,
            classes: np.ndarray, seconds: float) -> Selection:
    """Score every candidate on the folds all scored candidates finished; the best wins
    (ties: the earlier candidate), unless :func:`_keep_plain` keeps a plain one."""
    done = {c: next((f for f in range(len(folds)) if (c, f) not in run.scores), len(folds))
            for c in range(len(names)) if c not in run.failed}
    if not any(done.values()):
        raise ModelError(next(iter(run.failed.values()), "no candidate could be trained"))
    common = min(v for v in done.values() if v > 0)
    rows = np.concatenate([folds[f][1] for f in range(common)])
    out, best, best_score = [], 0, -1.0
    correct: dict[int, np.ndarray] = {}  # per held-out ticket: right or not
    for c, name in enumerate(names):
        if c in run.failed:
            out.append(CandidateScore(name, changes[c], None, None, None, 0, 0.0,
                                      f"cannot train: {run.failed[c]}"))
            continue
        if done[c] < common:
            out.append(CandidateScore(name, changes[c], None, None, None, done[c],
                                      round(sum(run.seconds.get((c, f), 0.0)
                                                for f in range(len(folds))), 2),
                                      "skipped: fit budget"))
            continue
        scores = np.vstack([run.scores[c, f] for f in range(common)])
        predicted = scores.argmax(axis=1)
        correct[c] = predicted == run.y[rows]
        acc, f1, score = _metrics(run.y[rows], predicted, settings.metric)
        lead = next(g[0] for g in run.fits if c in g)
        out.append(CandidateScore(name, changes[c], acc, f1, score, common,
                                  round(sum(run.seconds[c, f] for f in range(common)), 2),
                                  "" if lead == c else f"the fits of {names[lead]}, scored "
                                                       "with its own prediction keys"))
        if score > best_score + 1e-9:
            best, best_score = c, score
    cv = f"{common}-fold cross-validation" + (
        "" if common == len(folds) else f" ({common} of {len(folds)} folds: fit budget)")
    reason = f"best {settings.metric.replace('_', '-')} in {cv}"
    kept = _keep_plain(names, out, correct, best, settings)
    if kept is not None:
        plain, why = kept
        out[best] = replace(out[best], note=f"led the plain candidates by {why}: the plain "
                                            "model is kept")
        reason = (f"{names[best]} led by only {why}, so the plain model is kept: best "
                  f"{settings.metric.replace('_', '-')} of the plain candidates in {cv}")
        best = plain
    held = np.vstack([run.scores[best, f] for f in range(common)])
    return Selection(names[best], run.params[best], settings.metric, common, tuple(out),
                     seconds, reason, (held, classes[run.y[rows]].tolist()))


def _keep_plain(names: list[str], scored: list[CandidateScore],
                correct: dict[int, np.ndarray], best: int, settings: SelectionSettings
                ) -> tuple[int, str] | None:
    """(the best plain candidate, why) when the best candidate is not plain and beats it by no
    more than ``baseline_margin`` standard errors of their paired per-ticket difference (right
    or wrong on each held-out ticket); else None. With ten candidates the best
    cross-validated score of a small training set is partly luck; but with very few labels per
    category a richer model's real lead is also within the noise, so the default margin is
    half a standard error, not one (README, Model selection)."""
    plain = [c for c, n in enumerate(names) if n in settings.baseline and c in correct]
    if best in plain or not plain or best not in correct or settings.baseline_margin <= 0:
        return None
    top = max(plain, key=lambda c: (scored[c].score or 0.0, -c))
    lead = (scored[best].score or 0.0) - (scored[top].score or 0.0)
    diff = correct[best].astype(float) - correct[top].astype(float)
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    if lead > settings.baseline_margin * se:
        return None
    unit = "standard error" if settings.baseline_margin == 1 else "standard errors"
    return top, (f"{lead:.4f} (within {settings.baseline_margin:g} {unit} of the paired "
                 f"difference, {se:.4f})")


def fit_selected(X: Any, y: Any, config: Mapping[str, Any] | None = None,
                 progress: Callable[..., Any] | None = None,
                 alongside: Callable[[], Any] | None = None
                 ) -> tuple[TicketClassifier, Selection]:
    """Select a configuration on (X, y) (``config``'s [classifier] and [training] sections)
    and fit it on all of (X, y), calibrated on the selection's held-out scores.

    ``alongside`` is called once the final fit runs in a worker process, to start other work
    in the pool's other workers (the plain baselines) while it runs: not during the selection,
    whose fits it would slow. It is not called when the fit runs in this process."""
    config = config or {}
    texts = as_texts(X)
    if texts and not any(t.strip() for t in texts):  # said here with the whole count (a fit
        raise ModelError(f"the training texts have no words to learn from (all "  # on one
                         f"{len(texts):,} are empty); check the text columns")  # fold: half)
    labels = [to_python(v) for v in y]
    settings = selection_settings(config.get("training"))
    chosen = select(texts, labels, config.get("classifier"), settings, progress)
    workers = settings.workers or default_workers()
    if workers > 1 and len(texts) >= PROCESS_MIN_ROWS:
        # in a worker process too (at its lower CPU priority; the model comes back pickled,
        # 23 MB in 0.02 s for banking77's): a server that trains keeps triaging the tickets
        # that arrive instead of sharing its interpreter with the fit for seconds
        pool = workers_pool(workers)
        model = TicketClassifier(**chosen.params)
        shared = model.splits(len(set(labels))) and chosen.held_out is not None
        if shared:
            # one-vs-rest: its categories' problems shared out over the workers (the thread
            # set of banking77's e-mails, 10,000 tickets of 1,640 characters, `balanced`
            # chosen: the final fit took 46 s in one worker)
            shares = min(workers, len(set(labels)), MAX_SHARES)
            futures = [pool.submit(in_worker, fit_part, chosen.params, texts, labels, i,
                                   shares) for i in range(shares)]
        else:
            futures = [pool.submit(in_worker, fit_final, chosen.params, texts, labels,
                                   chosen.held_out)]
        try:
            if alongside is not None:
                alongside()
            done = waited(futures, progress, f"final fit ({chosen.chosen})")
        finally:
            for fut in futures:  # an error or an interrupt: drop what has not started
                fut.cancel()
        model = model.join_parts(done, chosen.held_out) if shared else done[0]
    else:
        model = fit_final(chosen.params, texts, labels, chosen.held_out)
    return model, chosen


def waited(futures: list[Any], progress: Callable[..., Any] | None, desc: str) -> list[Any]:
    """The futures' results in their order, with a progress bar of ``desc`` (a step per
    future) while they run; what one raised is raised."""
    bar = progress(desc, total=len(futures), unit="parts") if progress else None
    try:
        for fut in as_completed(futures):
            fut.result()
            if bar:
                bar.update(1)
        return [fut.result() for fut in futures]
    finally:
        if bar:
            bar.close()


def fit_part(params: dict[str, Any], texts: list[str], labels: list[Any], part: int,
             parts: int) -> dict[str, Any]:
    """Share ``part`` of ``parts`` of the chosen one-vs-rest configuration's final fit
    (:meth:`TicketClassifier.fit_part`)."""
    return TicketClassifier(**params).fit_part(texts, labels, part, parts)


def fit_final(params: dict[str, Any], texts: list[str], labels: list[Any],
              held_out: tuple[np.ndarray, Any] | None) -> TicketClassifier:
    """The chosen configuration fitted on every training row (calibrated on ``held_out``)."""
    return TicketClassifier(**params).fit(texts, labels, held_out=held_out)
