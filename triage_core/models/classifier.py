"""Ticket category classifier: ``TicketFeatures`` blocks + a linear SVM, calibrated.

``TicketClassifier`` follows scikit-learn's estimator contract (``clone``, ``get_params``,
``fit`` returns self, ``classes_``, ``predict``, ``predict_proba``). Its features (words,
skip-grams, character n-grams and the mean word vector) are built by
:class:`triage_core.models.features.TicketFeatures`; :mod:`triage_core.models.explain` names the
terms behind a prediction.

The classifier is a linear SVM (``LinearSVC``, Crammer-Singer multi-class by default: one joint
problem over all classes); probabilities are ``softmax(decision / T)`` with the temperature
``T`` fitted on held-out decision values of the training data (temperature scaling), so they
sum to 1 and ``confidence`` is close to the observed accuracy at that confidence.

Settings: the ``[classifier]`` section (``ClassifierSettings``; defaults in
``config/defaults/classifier.toml``). Models are saved in our own format
(:mod:`triage_core.models.native`) by :mod:`triage_core.models.registry`; predicting imports
neither scikit-learn nor skops (``LinearSVC`` and the folds are imported to train). Models saved
earlier as skops files load with the types in ``TRUSTED_TYPES``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from triage_core.config import Checker, section
from triage_core.errors import ModelError
from triage_core.models.estimator import ClassifierEstimator
from triage_core.models.features import (
    Blocks,
    TicketFeatures,
    as_text,
    as_texts,
    check_feature_params,
    to_python,
)

__all__ = [
    "TRUSTED_TYPES",
    "ClassifierSettings",
    "TicketClassifier",
    "build_classifier",
    "classifier_settings",
    "predict_top",
    "predict_top_json",
]


# ------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifierSettings:
    """The ``[classifier]`` section: the parameters of a ``TicketClassifier``.

    Build it with ``from_mapping`` (a complete section) or ``from_config`` (the packaged
    defaults with a user's section on top); ``params()`` gives ``TicketClassifier``'s keywords.
    """

    C: float
    multi_class: str
    class_weight: str | dict[str, float] | None
    char_ngram_range: tuple[int, int]
    skip_window: int
    word_weight: float
    char_weight: float
    skip_weight: float
    pair_min_df: int
    max_pair_features: int
    calibration_cv: int
    subject_weight: int
    lead_words: int
    max_chars: int
    semantic_weight: float
    semantic_max_weight: float
    neighbor_weight: float
    neighbor_k: int
    clean_text: bool
    keep_digits: bool
    random_state: int | None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ClassifierSettings:
        """Validate a complete ``[classifier]`` section; ConfigError names the bad key.

        ``class_weight = "none"`` (TOML has no null) means no class weights.
        """
        check = Checker("classifier")
        if not isinstance(data, Mapping):
            check.fail(f"expected a table, got {data!r}")
        names = [f.name for f in fields(cls)]
        check.keys(data, names)
        missing = [name for name in names if name not in data]
        if missing:
            check.fail(f"{missing[0]} is missing")
        params = dict(data)
        if params["class_weight"] in ("", "none"):
            params["class_weight"] = None
        return cls(**_check_params(params, check))

    @classmethod
    def from_config(cls, over: Mapping[str, Any] | None = None) -> ClassifierSettings:
        """The packaged defaults with ``over`` (a parsed ``[classifier]`` table) on top."""
        return cls.from_mapping(section("classifier", over))

    def params(self) -> dict[str, Any]:
        """Keyword arguments of ``TicketClassifier``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_params(params: Mapping[str, Any], check: Checker) -> dict[str, Any]:
    """``TicketClassifier``'s parameters, validated (None: no class weights)."""
    out = check_feature_params(params, check)
    out["C"] = check.number(to_python(params["C"]), "C", positive=True)
    multi_class = check.choice(params["multi_class"], "multi_class", ("crammer_singer", "ovr"))
    out["multi_class"] = multi_class
    cw = params["class_weight"]
    ok = cw is None or cw == "balanced" or (isinstance(cw, Mapping) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in cw.values()))
    if not ok:
        check.fail(f"class_weight must be 'balanced', a table of category = positive weight, "
                   f"or none; got {cw!r}")
    if cw is not None and multi_class == "crammer_singer":
        check.fail("class_weight needs multi_class = 'ovr' (the Crammer-Singer solver ignores "
                   "class weights)")
    out["class_weight"] = dict(cw) if isinstance(cw, Mapping) else cw
    cv = to_python(params["calibration_cv"])
    if isinstance(cv, bool) or not isinstance(cv, int) or cv == 1 or cv < 0:
        check.fail(f"calibration_cv must be 0 (off) or an integer >= 2, got {cv!r}")
    out["calibration_cv"] = cv
    out["subject_weight"] = check.integer(to_python(params["subject_weight"]), "subject_weight",
                                          lo=0)
    out["lead_words"] = check.integer(to_python(params["lead_words"]), "lead_words", lo=0,
                                      hi=1000)
    out["neighbor_weight"] = check.number(to_python(params["neighbor_weight"]),
                                          "neighbor_weight", lo=0, hi=100)
    out["neighbor_k"] = check.integer(to_python(params["neighbor_k"]), "neighbor_k", lo=1,
                                      hi=100)
    if out["neighbor_weight"] > 0 and not (out["semantic_weight"] > 0
                                           or out["semantic_max_weight"] > 0):
        check.fail("neighbor_weight needs the word-vector blocks (semantic_weight or "
                   "semantic_max_weight > 0): similar tickets are found in them")
    out["clean_text"] = check.flag(to_python(params["clean_text"]), "clean_text")
    rs = to_python(params["random_state"])
    out["random_state"] = None if rs is None else check.integer(rs, "random_state")
    return out


# the packaged [classifier] section: the defaults of TicketClassifier's parameters
_DEFAULTS = ClassifierSettings.from_config()


# ------------------------------------------------------------------------------------------
# Classifier
# ------------------------------------------------------------------------------------------

def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


# scikit-learn's warning when there are more categories than half the tickets (its guess that
# the labels might be a continuous target)
MANY_CLASSES_WARNING = "The number of unique classes is greater than 50%"

# Held-out scores enough to fit the one temperature: on large data only the first folds run.
_CALIBRATION_ROWS = 3000
_TEMPERATURE_BOUNDS = (0.02, 50.0)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """T minimizing the log loss of softmax(scores / T) (temperature scaling).

    Bounded so that a tiny, perfectly separated training set cannot drive T to 0.
    """
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))

    from scipy.optimize import minimize_scalar

    lo, hi = (math.log(b) for b in _TEMPERATURE_BOUNDS)
    res = minimize_scalar(nll, bounds=(lo, hi), method="bounded")
    return float(math.exp(res.x))


class TicketClassifier(ClassifierEstimator):
    """Ticket text -> category with calibrated probabilities (see the module docstring).

    ``X``: a sequence or Series of texts (None/NaN are empty texts), or a DataFrame with
    ``subject`` and ``body`` (or ``text``) columns. ``C`` is the SVM's inverse regularization,
    ``calibration_cv`` the folds used to fit the temperature (0: no calibration, T = 1; fewer
    folds are used when a class is small, and classes with one example sit out of it). Folds
    run until 3,000 held-out rows are scored, so a large training set costs one extra fit.
    ``class_weight`` ("balanced" or {category: weight}) needs ``multi_class="ovr"``.
    """

    def __init__(self, C: float = _DEFAULTS.C, multi_class: str = _DEFAULTS.multi_class,
                 class_weight: str | dict[str, float] | None = _DEFAULTS.class_weight,
                 char_ngram_range: tuple[int, int] = _DEFAULTS.char_ngram_range,
                 skip_window: int = _DEFAULTS.skip_window,
                 word_weight: float = _DEFAULTS.word_weight,
                 char_weight: float = _DEFAULTS.char_weight,
                 skip_weight: float = _DEFAULTS.skip_weight,
                 pair_min_df: int = _DEFAULTS.pair_min_df,
                 max_pair_features: int = _DEFAULTS.max_pair_features,
                 calibration_cv: int = _DEFAULTS.calibration_cv,
                 subject_weight: int = _DEFAULTS.subject_weight,
                 lead_words: int = _DEFAULTS.lead_words,
                 max_chars: int = _DEFAULTS.max_chars,
                 semantic_weight: float = _DEFAULTS.semantic_weight,
                 semantic_max_weight: float = _DEFAULTS.semantic_max_weight,
                 neighbor_weight: float = _DEFAULTS.neighbor_weight,
                 neighbor_k: int = _DEFAULTS.neighbor_k,
                 clean_text: bool = _DEFAULTS.clean_text,
                 keep_digits: bool = _DEFAULTS.keep_digits,
                 random_state: int | None = _DEFAULTS.random_state) -> None:
        self.C = C
        self.multi_class = multi_class
        self.class_weight = class_weight
        self.char_ngram_range = char_ngram_range
        self.skip_window = skip_window
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.skip_weight = skip_weight
        self.pair_min_df = pair_min_df
        self.max_pair_features = max_pair_features
        self.calibration_cv = calibration_cv
        self.subject_weight = subject_weight
        self.lead_words = lead_words
        self.max_chars = max_chars
        self.semantic_weight = semantic_weight
        self.semantic_max_weight = semantic_max_weight
        self.neighbor_weight = neighbor_weight
        self.neighbor_k = neighbor_k
        self.clean_text = clean_text
        self.keep_digits = keep_digits
        self.random_state = random_state

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_neighbors32", None)  # a cache of neighbors_ in float32, made when used
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("semantic_weight", 0.0)  # saved before the semantic block existed
        state.setdefault("semantic_max_weight", 0.0)  # saved before max pooling existed
        state.setdefault("lead_words", 0)  # saved before the opening words could count twice
        state.setdefault("neighbor_weight", 0.0)  # saved before similar tickets counted
        state.setdefault("neighbor_k", _DEFAULTS.neighbor_k)
        state.setdefault("clean_text", False)  # saved before texts could be cleaned here
        state.setdefault("keep_digits", False)  # saved when every digit became 0
        super().__setstate__(state)

    def _texts(self, X: Any) -> list[str]:
        return as_texts(X, self.subject_weight, self.clean_text, self.lead_words)

    def _features(self) -> TicketFeatures:
        """The feature extractor, with this classifier's values of its parameters."""
        params = {k: getattr(self, k) for k in TicketFeatures._get_param_names()}
        params["char_ngram_range"] = tuple(params["char_ngram_range"])
        return TicketFeatures(**params)

    def _svm(self, classes: np.ndarray) -> Any:
        """The SVM (scikit-learn's ``LinearSVC``) for labels encoded as indices into
        ``classes``."""
        from sklearn.svm import LinearSVC

        weights = self.class_weight
        if isinstance(weights, Mapping):  # keyed by label: translate to label indices
            weights = {i: float(weights[c]) for i, c in enumerate(classes) if c in weights}
        # tol 1e-2 (liblinear's default is 1e-4): the same accuracy as 1e-3 in every fold of
        # the banking77 cross-validation and on the demo holdout, while the Crammer-Singer
        # solver fits 30,000 demo tickets in about 7 s, where 1e-3 took 12-54 s depending on
        # the coordinate order (its iteration count swings with it).
        return LinearSVC(C=self.C, multi_class=self.multi_class, class_weight=weights,
                         tol=1e-2, max_iter=2000, random_state=self.random_state)

    @staticmethod
    def _fit_svm(svm: Any, X: sparse.csr_matrix, y: np.ndarray) -> Any:
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            # liblinear stopping at max_iter still gives a usable model; the warning is
            # not actionable for someone training from the dashboard or CLI.
            warnings.simplefilter("ignore", ConvergenceWarning)
            # many categories of a few tickets each are a helpdesk's normal, not a mistake
            warnings.filterwarnings("ignore", message=MANY_CLASSES_WARNING, category=UserWarning)
            return svm.fit(X, y)

    @staticmethod
    def _svm_scores(svm: Any, X: sparse.csr_matrix) -> np.ndarray:
        d = svm.decision_function(X)
        return np.column_stack([-d / 2, d / 2]) if d.ndim == 1 else d

    def fit(self, X: Any, y: Any, held_out: tuple[np.ndarray, Any] | None = None
            ) -> TicketClassifier:
        """Fit features, the SVM on all rows and the temperature on cross-validated scores.

        ``held_out`` = (scores, labels): decision scores of this configuration on rows it was
        not trained on (columns: the sorted classes of ``y``), e.g. from model selection's
        cross-validation; the temperature is then fitted on them instead of on new folds.
        """
        _check_params(self.get_params(), Checker("classifier"))
        texts = self._texts(X)
        if not any(t.strip() for t in texts):  # e.g. the wrong text column, or all cleaned away
            raise ModelError(f"the training texts have no words to learn from (all "
                             f"{len(texts):,} are empty); check the text columns")
        classes, yi = _encode_labels(y, len(texts))
        if len(classes) < 2:
            found = f"only {classes[0]!r}" if len(classes) else "no labels"
            raise ModelError(f"need tickets of at least two categories to train, found {found}")
        features = self._features()
        blocks = features._fit_blocks(texts)
        # float64 straight away: liblinear's wrapper would otherwise copy a float32 matrix
        Xf = features._stack(blocks, np.float64)
        vectors = _neighbor_vectors(blocks) if self.neighbor_weight > 0 else None
        del blocks
        svm = self._fit_svm(self._svm(classes), Xf, yi)
        coef = svm.coef_
        intercept = np.atleast_1d(svm.intercept_)
        if coef.shape[0] == 1:  # binary: scores (-d/2, d/2) for (classes[0], classes[1])
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self._keep_neighbors(_neighbor_table(vectors, yi, len(classes), self.random_state))
        return self._fitted(features, classes, coef, intercept, held_out, Xf, yi, vectors)

    def splits(self, n_classes: int) -> bool:
        """Whether :meth:`fit_part` can share this fit out: one-vs-rest of three or more
        categories (of two, it is one problem)."""
        return self.multi_class == "ovr" and n_classes >= 3

    def fit_part(self, X: Any, y: Any, part: int, parts: int) -> dict[str, Any]:
        """Share ``part`` of ``parts`` of a one-vs-rest fit, for a fit on several cores.

        One-vs-rest solves one problem per category (its tickets against all others) with the
        same rows; this share solves those of its categories (``np.array_split`` of the sorted
        categories) in one liblinear call, the other categories' tickets labeled as one
        "rest" category whose own problem is dropped. Each category's problem is the one the
        whole fit solves: positives weighted by its class weight, negatives at C (liblinear's
        one-vs-rest), only the coordinate order differs. :meth:`join_parts` joins the shares;
        share 0 also returns the fitted features (every share computes the same)."""
        texts = self._texts(X)
        classes, yi = _encode_labels(y, len(texts))
        mine = np.array_split(np.arange(len(classes)), parts)[part]
        features = self._features()
        blocks = features._fit_blocks(texts)
        Xf = features._stack(blocks, np.float64)
        table = None
        if self.neighbor_weight > 0 and part == 0:  # as fit keeps them: sampled, float16
            table = _neighbor_table(_neighbor_vectors(blocks), yi, len(classes),
                                    self.random_state)
        del blocks
        at = np.full(len(classes), len(mine))  # "rest": every category of the other shares
        at[mine] = np.arange(len(mine))
        weights = self._class_weights(classes, yi)
        svm = self._svm(classes)
        svm.set_params(class_weight={**{j: float(weights[c]) for j, c in enumerate(mine)},
                                     len(mine): 1.0})
        svm = self._fit_svm(svm, Xf, at[yi])
        coef, intercept = svm.coef_[:len(mine)], svm.intercept_[:len(mine)]
        if len(mine) == 1:  # a binary problem, whose scores are the "rest" category's
            coef, intercept = -svm.coef_, -svm.intercept_
        return {"part": part, "classes": classes, "rows": mine, "coef": coef,
                "intercept": intercept, "features": features if part == 0 else None,
                "neighbors": table}

    def join_parts(self, pieces: list[dict[str, Any]],
                   held_out: tuple[np.ndarray, Any] | None) -> TicketClassifier:
        """This classifier fitted from :meth:`fit_part`'s shares (all of them), calibrated on
        ``held_out`` (required: the shares keep no training matrix to calibrate on)."""
        pieces = sorted(pieces, key=lambda p: p["part"])
        classes = pieces[0]["classes"]
        coef = np.zeros((len(classes), pieces[0]["coef"].shape[1]))
        intercept = np.zeros(len(classes))
        for piece in pieces:
            coef[piece["rows"]] = piece["coef"]
            intercept[piece["rows"]] = piece["intercept"]
        if held_out is None and self.calibration_cv:
            raise ModelError("a fit in shares needs held-out scores to calibrate on")
        self._keep_neighbors(pieces[0].get("neighbors")
                             or _neighbor_table(None, None, len(classes), None))
        return self._fitted(pieces[0]["features"], classes, coef, intercept, held_out)

    def _class_weights(self, classes: np.ndarray, yi: np.ndarray) -> np.ndarray:
        """Each category's weight, as ``LinearSVC`` computes it for ``class_weight``."""
        weights = self.class_weight
        if weights == "balanced":
            return len(yi) / (len(classes) * np.bincount(yi, minlength=len(classes)))
        if isinstance(weights, Mapping):
            return np.array([float(weights.get(c, 1.0)) for c in classes])
        return np.ones(len(classes))

    def _fitted(self, features: TicketFeatures, classes: np.ndarray, coef: np.ndarray,
                intercept: np.ndarray, held_out: tuple[np.ndarray, Any] | None,
                Xf: sparse.csr_matrix | None = None, yi: np.ndarray | None = None,
                vectors: np.ndarray | None = None) -> TicketClassifier:
        self.features_ = features
        self.classes_ = classes
        # n_features x n_classes, float32: half the size and memory traffic of float64
        self.weights_ = np.ascontiguousarray(coef.T, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        if held_out is not None and self.calibration_cv:
            scores, labels = held_out
            held = np.searchsorted(classes, np.asarray(list(labels)))
            self.temperature_ = _fit_temperature(np.asarray(scores, np.float64), held)
            self.calibration_ = f"temperature, on {len(held):,} held-out rows of model selection"
        else:
            self.temperature_, self.calibration_ = self._calibrate(Xf, yi, classes, vectors)
        return self

    def _keep_neighbors(self, table: tuple[np.ndarray, np.ndarray]) -> None:
        """Keep a :func:`_neighbor_table` for ``neighbor_weight`` (empty when it is off)."""
        self.neighbors_, self.neighbor_starts_ = table
        self.__dict__.pop("_neighbors32", None)

    def _neighbor_pool(self) -> np.ndarray:
        """``neighbors_`` in float32, converted once (not per batch: a single ticket would pay
        for every kept ticket of its categories); not saved with the model."""
        pool = self.__dict__.get("_neighbors32")
        if pool is None or len(pool) != len(self.neighbors_):
            pool = self.__dict__["_neighbors32"] = self.neighbors_.astype(np.float32)
        return pool

    def _calibrate(self, X: sparse.csr_matrix, y: np.ndarray, classes: np.ndarray,
                   vectors: np.ndarray | None = None) -> tuple[float, str]:
        if not self.calibration_cv:
            return 1.0, "none"
        counts = np.bincount(y)
        eligible = counts >= 2
        if eligible.sum() < 2:
            return 1.0, "none: fewer than two categories with two or more examples"
        rows = np.flatnonzero(eligible[y])
        Xs = X if eligible.all() else X[rows]  # no copy of a large matrix when none sits out
        ys = np.searchsorted(np.flatnonzero(eligible), y[rows])
        k = int(min(self.calibration_cv, counts[eligible].min()))
        from sklearn.model_selection import StratifiedKFold

        folds = StratifiedKFold(k, shuffle=True, random_state=self.random_state)
        held: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        vs = None if vectors is None else vectors if eligible.all() else vectors[rows]
        for train, test in folds.split(np.zeros(len(ys)), ys):
            svm = self._fit_svm(self._svm(classes[eligible]), Xs[train], ys[train])
            held.append(test)
            fold_scores = self._svm_scores(svm, Xs[test])
            if vs is not None:  # the scores predictions will have: with similar tickets
                order = train[np.argsort(ys[train], kind="stable")]
                starts = np.searchsorted(ys[order], np.arange(int(eligible.sum()) + 1))
                _add_neighbors(fold_scores, vs[test], vs[order], starts, self.neighbor_k,
                               self.neighbor_weight)
            scores.append(fold_scores)
            if sum(map(len, held)) >= _CALIBRATION_ROWS:
                break  # enough held-out scores for one parameter: skip the other folds
        used = len(held)
        note = f"temperature, {k}-fold" if used == k else f"temperature, {used} of {k} folds"
        if not eligible.all():
            note += f", {int((~eligible).sum())} single-example categories left out"
        return _fit_temperature(np.vstack(scores), ys[np.concatenate(held)]), note

    # -- prediction --------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ModelError("the category model is not trained yet: call fit() first")

    def _scores(self, blocks: Blocks) -> np.ndarray:
        w = self.weights_
        nw, nc, ns = self.features_.block_sizes()
        out = (blocks.words @ w[:nw]).astype(np.float64)
        out += blocks.chars @ w[nw:nw + nc]
        out += blocks.skips @ w[nw + nc:nw + nc + ns]
        at = nw + nc + ns
        for dense in (blocks.semantic, blocks.semantic_max):
            if dense.shape[1]:
                # through scipy, not BLAS: BLAS sums in an order that depends on its thread
                # count, and a ticket must score the same in a Dask worker as here
                out += sparse.csr_matrix(dense) @ w[at:at + dense.shape[1]]
                at += dense.shape[1]
        out += self.intercept_
        if self.neighbor_weight > 0 and len(getattr(self, "neighbors_", ())):
            _add_neighbors(out, _neighbor_vectors(blocks), self._neighbor_pool(),
                           self.neighbor_starts_, self.neighbor_k, self.neighbor_weight)
        return out

    def _blocks(self, X: Any) -> Blocks:
        self._check_fitted()
        return self.features_.blocks(self._texts(X))

    def class_scores(self, X: Any) -> np.ndarray:
        """SVM scores before the temperature, n_samples x n_classes (``classes_`` order)."""
        return self._scores(self._blocks(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """SVM scores, n_samples x n_classes (a 1-d score for two classes, as in sklearn)."""
        s = self._scores(self._blocks(X))
        return s[:, 1] - s[:, 0] if len(self.classes_) == 2 else s

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, columns in ``classes_`` order; each row sums to 1."""
        return _softmax(self._scores(self._blocks(X)) / self.temperature_)

    def predict(self, X: Any) -> np.ndarray:
        scores = self._scores(self._blocks(X))
        return self.classes_[scores.argmax(axis=1)]


# ------------------------------------------------------------------------------------------
# Similar training tickets (neighbor_weight)
# ------------------------------------------------------------------------------------------

NEIGHBOR_CLASSES = 3  # the SVM's best categories per ticket that similar tickets can reorder
# at most this many training tickets are kept (a stratified sample beyond): 20,000 x 512
# float16 dimensions are 20 MB of the model file
MAX_NEIGHBOR_ROWS = 20000
# and at most this many of one category (a random sample of a larger one): a ticket is
# compared with the tickets of its NEIGHBOR_CLASSES best categories, so this bounds its cost
# at 1,200 dot products whatever the training set. banking77's texts regrouped into 8
# categories of about 1,250 (one core, 2026-12-07): 11,100 tickets/s with all of them kept,
# 18,900 with 400 (accuracy 0.897 either way; 0.893 with 200), 29,900 without the vote
MAX_NEIGHBORS_PER_CLASS = 400
NEIGHBOR_CELLS = 4_000_000  # similarities computed at once (16 MB of float32)


def _neighbor_vectors(blocks: Blocks) -> np.ndarray:
    """The tickets' word-vector blocks side by side, each row of length 1 (or all zero)."""
    v = np.hstack([blocks.semantic, blocks.semantic_max]).astype(np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def _neighbor_sample(yi: np.ndarray, rows: int, seed: int | None,
                     per_class: int) -> np.ndarray:
    """Indices of at most about ``rows`` tickets, the same share of each category, and at
    most ``per_class`` of one category."""
    share = min(1.0, rows / max(1, len(yi)))
    if share == 1.0 and np.bincount(yi).max(initial=0) <= per_class:
        return np.arange(len(yi))
    rng = np.random.default_rng(0 if seed is None else seed)
    keep = []
    for c in np.unique(yi):
        members = np.flatnonzero(yi == c)
        n = min(per_class, len(members), max(1, round(len(members) * share)))
        keep.append(members if n == len(members)
                    else np.sort(rng.choice(members, n, replace=False)))
    return np.concatenate(keep)


def _neighbor_table(vectors: np.ndarray | None, yi: np.ndarray | None, n_classes: int,
                    seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """What a model keeps for ``neighbor_weight``: (the training tickets' vectors sorted by
    category, float16, at most ``MAX_NEIGHBOR_ROWS`` of them and ``MAX_NEIGHBORS_PER_CLASS``
    of a category; each category's start in them and the end). Empty without vectors."""
    if vectors is None or yi is None:
        return np.zeros((0, 0), np.float16), np.zeros(n_classes + 1, np.int64)
    keep = _neighbor_sample(yi, MAX_NEIGHBOR_ROWS, seed, MAX_NEIGHBORS_PER_CLASS)
    order = keep[np.argsort(yi[keep], kind="stable")]
    counts = np.bincount(yi[order], minlength=n_classes)
    return (vectors[order].astype(np.float16),
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def _add_neighbors(scores: np.ndarray, queries: np.ndarray, vectors: np.ndarray,
                   starts: np.ndarray, k: int, weight: float) -> None:
    """Raise each ticket's ``NEIGHBOR_CLASSES`` best scores by ``weight`` x the mean cosine
    similarity of its ``k`` most similar training tickets of that category (in place).

    ``vectors``: the training tickets' :func:`_neighbor_vectors`, sorted by category, category
    c's at ``starts[c]:starts[c + 1]`` (a category of fewer than ``k``: the mean over all of
    them). Only the best few categories are compared, so a ticket costs about 3 x (a
    category's tickets) dot products instead of one per training ticket.
    Float32 matrix products: their sums depend on the BLAS's blocking, so a score can differ
    by about 1e-7 between two batch sizes, as the float32 blocks already do."""
    n, n_classes = scores.shape
    if n == 0 or not len(vectors):
        return
    m = min(NEIGHBOR_CLASSES, n_classes)
    top = (np.argpartition(-scores, m - 1, axis=1)[:, :m] if m < n_classes
           else np.broadcast_to(np.arange(n_classes), (n, n_classes)))
    for c in np.unique(top):
        lo, hi = int(starts[c]), int(starts[c + 1])
        if hi == lo:
            continue
        pool = vectors[lo:hi]
        kk = min(k, hi - lo)
        # in chunks of rows: a batch x a large category's tickets would take GBs at once
        chunk = max(1, NEIGHBOR_CELLS // (hi - lo))
        mine = np.flatnonzero((top == c).any(axis=1))
        for at in range(0, len(mine), chunk):
            rows = mine[at:at + chunk]
            sims = queries[rows] @ pool.T
            if kk < hi - lo:
                sims *= -1
                sims.partition(kk - 1, axis=1)
                best = -sims[:, :kk]
            else:
                best = sims
            scores[rows, c] += weight * best.mean(axis=1, dtype=np.float64)


def _encode_labels(y: Any, n_texts: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted classes, index of each label), refusing missing or mixed-type labels."""
    if isinstance(y, str):
        raise ModelError("expected a list of labels, got a single string")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ModelError("expected one column of labels")
        y = y.iloc[:, 0]
    try:
        labels = list(y)
    except TypeError:
        raise ModelError(f"expected a list of labels, got {type(y).__name__}") from None
    if len(labels) != n_texts:
        raise ModelError(f"{n_texts} texts but {len(labels)} labels")
    if any(as_text(v) == "" for v in labels):
        raise ModelError("some labels are empty; every training text needs a category")
    try:
        classes, yi = np.unique(np.asarray(labels), return_inverse=True)
    except TypeError:
        raise ModelError("labels mix types (e.g. numbers and text); use text labels") from None
    return classes, yi.ravel()


def classifier_settings(section: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``TicketClassifier``'s parameters: the packaged ``[classifier]`` defaults with a parsed
    TOML section on top, validated (ConfigError names the key)."""
    return ClassifierSettings.from_config(section).params()


def build_classifier(section: Mapping[str, Any] | None = None) -> TicketClassifier:
    """An unfitted ``TicketClassifier`` from a (possibly empty) config section."""
    return TicketClassifier(**classifier_settings(section))


def predict_top(model: TicketClassifier, texts: Any, k: int = 3) -> pd.DataFrame:
    """category, confidence and ``top``: a list of the k best (label, probability) tuples.

    ``top`` holds plain Python lists of (str, float) tuples, best first, so it can be shown
    as is or stored with ``json.dumps`` (tuples become [label, probability] pairs).
    """
    order, best = _top_k(model, texts, k)
    labels = model.classes_[order]
    top = [[(str(lab), float(p)) for lab, p in zip(lr, pr, strict=True)]
           for lr, pr in zip(labels, best, strict=True)]
    index = texts.index if isinstance(texts, pd.Series | pd.DataFrame) else None
    return pd.DataFrame({"category": labels[:, 0].astype(str), "confidence": best[:, 0],
                         "top": top}, index=index)


def _top_k(model: TicketClassifier, texts: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per text, the indices of the k most probable classes (best first) and their
    probabilities."""
    proba = model.predict_proba(texts)
    k = max(1, min(int(k), proba.shape[1]))
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(proba, order, axis=1)


def predict_top_json(model: TicketClassifier, texts: Any,
                     k: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(category, confidence, ``top`` as JSON text) per text: the JSON is exactly
    ``json.dumps`` of :func:`predict_top`'s ``top`` lists, written without building them
    (what ``triage_results.category_top`` stores)."""
    order, best = _top_k(model, texts, k)
    names = [json.dumps(str(c)) for c in model.classes_]
    width = order.shape[1]
    row = "[" + ", ".join(["[{}, {}]"] * width) + "]"
    labels = list(map(names.__getitem__, order.ravel().tolist()))
    values = list(map(repr, best.ravel().tolist()))  # json.dumps writes a float as its repr
    # the j-th label and value of every row, as columns: one format call a row, in C
    columns = [seq[j::width] for j in range(width) for seq in (labels, values)]
    return (model.classes_[order[:, 0]].astype(str), best[:, 0],
            list(map(row.format, *columns)))


# Reviewed: every type a TicketClassifier saved as a skops file (before our own format) holds
# besides what skops trusts by default.
TRUSTED_TYPES: list[str] = [
    "scipy.sparse._csr.csr_matrix",  # word -> character n-gram counts
    "triage_core.models.classifier.TicketClassifier",
    "triage_core.models.features.TicketFeatures",
]
