"""The plain baselines every evaluation reports beside the model: what a simpler model gets on
the same split, trained in the same run.

* majority: always the most common training category;
* TF-IDF + linear SVM: scikit-learn's ``TfidfVectorizer`` (word 1-2 grams and ``char_wb`` 2-5
  grams, sublinear tf) and ``LinearSVC`` with C chosen by stratified cross-validation on the
  training rows (``[training.baseline]``: the C grid and the folds; accuracy decides). The
  vectorizer is fitted once on all training rows and the folds refit only the SVM, which
  changes the idf of the held-out rows a little and the choice of C hardly at all.

It is an independent reference implementation: it shares no feature code with the category
classifier, so a bug there cannot make the baseline look worse.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from triage_core.config import Checker, section
from triage_core.models.classifier import MANY_CLASSES_WARNING

__all__ = ["BaselineSettings", "BesideFit", "Started", "baselines", "margin",
           "start_baselines"]


@dataclass(frozen=True)
class BaselineSettings:
    """The ``[training.baseline]`` table (defaults in ``config/defaults/training.toml``)."""

    enabled: bool
    c_grid: tuple[float, ...]
    cv_folds: int
    max_rows: int
    budget_chars: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BaselineSettings:
        check = Checker("training.baseline")
        keys = ("enabled", "c_grid", "cv_folds", "max_rows", "budget_chars")
        data = check.table(data, "", keys)
        for key in keys:
            if key not in data:
                check.fail(f"{key} is missing")
        grid = data["c_grid"]
        if not isinstance(grid, list) or not grid:
            check.fail(f"c_grid must be a non-empty list of numbers, got {grid!r}")
        return cls(check.flag(data["enabled"], "enabled"),
                   tuple(check.number(c, "c_grid", positive=True) for c in grid),
                   check.integer(data["cv_folds"], "cv_folds", lo=2, hi=10),
                   check.integer(data["max_rows"], "max_rows", lo=10),
                   check.integer(data["budget_chars"], "budget_chars", lo=1))

    @classmethod
    def from_config(cls, training: Mapping[str, Any] | None = None) -> BaselineSettings:
        return cls.from_mapping(section("training", training).get("baseline", {}))


def _scores(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, float]:
    from triage_core.models.selection import accuracy_and_macro_f1

    acc, f1 = accuracy_and_macro_f1(list(y_true), list(y_pred))
    return {"accuracy": acc, "macro_f1": f1}


def _majority(y_train: Sequence[Any], y_test: Sequence[Any]) -> dict[str, float]:
    top = Counter(y_train).most_common(1)[0][0]
    return _scores(y_test, [top] * len(y_test))


def _cv_hits(c: float, x: Any, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]
             ) -> int:
    """Held-out rows the SVM of this C gets right, summed over the folds."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=MANY_CLASSES_WARNING, category=UserWarning)
        return sum(int((LinearSVC(C=c, random_state=0).fit(x[tr], y[tr]).predict(x[te])
                        == y[te]).sum()) for tr, te in folds)


def _cv_rows(settings: BaselineSettings, texts: Sequence[str]) -> int:
    """How many training rows choose C: ``max_rows``, fewer for long texts (as model
    selection's sample, :func:`triage_core.models.selection.sample_rows`)."""
    from triage_core.models.selection import rows_for_length

    return rows_for_length(settings.max_rows, settings.budget_chars, [len(t) for t in texts])


def _tfidf_svm(x_train: Sequence[str], y_train: Sequence[Any], x_test: Sequence[str],
               y_test: Sequence[Any], settings: BaselineSettings) -> dict[str, float]:
    """The TF-IDF + linear SVM baseline (its values of C one after the other: it runs in a
    worker process itself from 1,000 training rows, see :func:`start_baselines`)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union
    from sklearn.svm import LinearSVC

    from triage_core.models.selection import cv_folds, cv_sample

    vec = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                     TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    xtr = vec.fit_transform(list(x_train))
    classes, yi = np.unique(np.asarray(list(y_train), dtype=object), return_inverse=True)
    # C is chosen on a stratified sample of at most max_rows training rows (like the model's
    # own selection); the SVM of that C is then fitted on every row
    rows = cv_sample(yi, _cv_rows(settings, x_train), settings.cv_folds, 0)
    xcv, ycv = xtr[rows], yi[rows]
    folds = cv_folds(ycv, settings.cv_folds, 0)

    best_c = settings.c_grid[0]
    if len(settings.c_grid) > 1 and folds:
        scores = [_cv_hits(c, xcv, ycv, folds) for c in settings.c_grid]
        best_c = settings.c_grid[int(np.argmax(scores))]  # ties: the first (smallest C)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=MANY_CLASSES_WARNING, category=UserWarning)
        svm = LinearSVC(C=best_c, random_state=0).fit(xtr, yi)
    pred = classes[svm.predict(vec.transform(list(x_test)))]
    return {**_scores(y_test, pred), "C": best_c}


def baselines(x_train: Sequence[str], y_train: Sequence[Any], x_test: Sequence[str],
              y_test: Sequence[Any], training: Mapping[str, Any] | None = None
              ) -> dict[str, dict[str, float]]:
    """{"majority": {...}, "tfidf_svm": {accuracy, macro_f1, C}} on the test rows (the SVM
    only when ``[training.baseline] enabled`` and there are two training categories)."""
    return start_baselines(x_train, y_train, x_test, y_test, training)()


def start_baselines(x_train: Sequence[str], y_train: Sequence[Any], x_test: Sequence[str],
                    y_test: Sequence[Any], training: Mapping[str, Any] | None = None
                    ) -> Started:
    """:func:`baselines`, started: the TF-IDF + SVM baseline runs in a worker process from
    1,000 training rows (its values of C one after the other there), so a training can fit
    its own final model in another worker meanwhile; calling the :class:`Started` returned
    waits for it (given a ``progress`` factory, with a bar while it is not done).

    In a worker because scikit-learn's vectorizer and sparse matrices hold the interpreter
    for up to a second at a time, and a server that retrained answered no ticket meanwhile
    (16 clients during a retrain of the demo: answers of 0.7-1.1 s, none above 0.3 s without
    the baseline)."""
    from triage_core.models.selection import (
        PROCESS_MIN_ROWS,
        default_workers,
        in_worker,
        selection_settings,
        workers_pool,
    )

    settings = BaselineSettings.from_config(training)
    out: dict[str, dict[str, float]] = {}
    if len(y_test) and len(y_train):
        out["majority"] = _majority(y_train, y_test)
    args = (list(x_train), list(y_train), list(x_test), list(y_test), settings)
    # the pool of model selection's size ([training.selection] workers): a pool of another
    # size would be resized, which waits for the final fit running in it
    workers = selection_settings(training).workers or default_workers()
    svm = bool(out) and settings.enabled and len(set(y_train)) >= 2
    future = (workers_pool(workers).submit(in_worker, _tfidf_svm, *args)
              if svm and len(x_train) >= PROCESS_MIN_ROWS and workers > 1 else None)

    def wait(progress: Callable[..., Any] | None = None) -> dict[str, dict[str, float]]:
        from triage_core.models.selection import waited

        if svm and "tfidf_svm" not in out:
            # no word in any training text (empty vocabulary): no such baseline
            with contextlib.suppress(ValueError):
                out["tfidf_svm"] = (waited([future], progress, "plain baseline")[0]
                                    if future is not None else _tfidf_svm(*args))
        return out

    return Started(wait, future)


class Started:
    """Plain baselines under way (:func:`start_baselines`): call it (optionally with a
    ``progress`` factory) for their results; :meth:`cancel` drops the SVM if it has not
    started (a training that failed meanwhile)."""

    def __init__(self, wait: Callable[..., dict[str, dict[str, float]]], future: Any) -> None:
        self._wait, self._future = wait, future

    def __call__(self, progress: Callable[..., Any] | None = None
                 ) -> dict[str, dict[str, float]]:
        return self._wait(progress)

    def cancel(self) -> None:
        if self._future is not None:
            self._future.cancel()


class BesideFit:
    """The plain baselines of a training, started beside its final fit (:meth:`start` is the
    ``alongside`` of :func:`triage_core.models.selection.fit_selected`, called only when the
    fit runs in a worker) or else after it, by :meth:`wait`. As a context manager around the
    fit: an error inside it cancels a baseline that has not started."""

    def __init__(self, start: Callable[[], Started]) -> None:
        self._start = start
        self._started: Started | None = None

    def start(self) -> None:
        self._started = self._start()

    def wait(self, progress: Callable[..., Any] | None = None) -> dict[str, dict[str, float]]:
        if self._started is None:
            self._started = self._start()
        return self._started(progress)

    def __enter__(self) -> BesideFit:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None and self._started is not None:
            self._started.cancel()


def margin(ours: Mapping[str, Any], base: Mapping[str, Mapping[str, float]]
           ) -> dict[str, float] | None:
    """Ours minus the best baseline, per metric (positive: ours is better)."""
    if not base:
        return None
    return {k: round(float(ours[k]) - max(float(b[k]) for b in base.values()), 4)
            for k in ("accuracy", "macro_f1")}
