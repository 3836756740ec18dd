"""scikit-learn's estimator contract for our own models, without importing scikit-learn.

``TicketClassifier`` and ``TicketFeatures`` follow scikit-learn's conventions (``get_params``,
``set_params``, ``clone``, fitted attributes ending in ``_``), so scikit-learn's tools work on
them. Inheriting ``sklearn.base.BaseEstimator`` for that would import scikit-learn, and with it
SciPy's statistics, in every process that only predicts: about 1.5 s per ``triage score``.
:class:`Estimator` gives the same contract in a few lines: parameters are the arguments of
``__init__``, stored under their own names.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np


class Estimator:
    """``get_params`` / ``set_params`` as scikit-learn's ``BaseEstimator`` defines them."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        return sorted(p.name for p in params
                      if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Estimator:
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, delim, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self}. Valid "
                                 f"parameters are: {sorted(self._get_param_names())!r}.")
            if delim:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub in nested.items():
            valid[name].set_params(**sub)
        return self

    def __repr__(self) -> str:
        changed = []
        defaults = {p.name: p.default for p in inspect.signature(
            type(self).__init__).parameters.values()}
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = bool(value == default)
            except (TypeError, ValueError):
                same = False
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # files saved while the classes were scikit-learn BaseEstimators carry its version
        state.pop("_sklearn_version", None)
        self.__dict__.update(state)


class ClassifierEstimator(Estimator):
    """A classifier: scikit-learn's ``ClassifierMixin`` contract (type tag and ``score``)."""

    _estimator_type = "classifier"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted by ``sample_weight``)."""
        hits = np.asarray(self.predict(X)) == np.asarray(list(y))  # type: ignore[attr-defined]
        return float(np.average(hits, weights=sample_weight))
