"""Vectorized access to the columns of a ticket frame, shared by priority, routing and backtest.

Text columns are factorized once (:class:`Columns`); times become int64 microseconds since the
epoch, naive UTC, with :data:`NAT` for a missing time (:func:`timestamps_us`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from triage_core.errors import TriageError

__all__ = ["NAT", "Columns", "timestamps_us"]

NAT = np.iinfo(np.int64).min


def timestamps_us(series: pd.Series, name: str) -> np.ndarray:
    """int64 microseconds since the epoch (naive UTC); NaT -> :data:`NAT`."""
    if not isinstance(series.dtype, pd.DatetimeTZDtype) and series.dtype.kind != "M":
        try:
            series = pd.to_datetime(series, utc=True)
        except (TypeError, ValueError) as exc:
            raise TriageError(f"column {name!r} holds a value that is not a time ({exc})")\
                from None
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[us]").view(np.int64)


class Columns:
    """Factorizes each text column of ``df`` once (on a million rows factorize is the costly
    step; a column that is already Categorical costs nothing)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._cache: dict[str, tuple[np.ndarray, list[Any]]] = {}

    def factor(self, column: str) -> tuple[np.ndarray, list[Any]]:
        """(codes, uniques); code -1 = missing value or missing column."""
        if column not in self._cache:
            if column in self.df.columns:
                col = self.df[column]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    codes, uniques = col.cat.codes.to_numpy(), col.cat.categories
                else:
                    codes, uniques = pd.factorize(col)
                self._cache[column] = (codes.astype(np.int64, copy=False), list(uniques))
            else:
                self._cache[column] = (np.full(len(self.df), -1, dtype=np.int64), [])
        return self._cache[column]

    def lookup(self, column: str, table: Mapping[str, float], lower: bool) -> np.ndarray:
        """Vectorized ``table.get(value, 0.0)``."""
        codes, uniques = self.factor(column)
        keys = [str(u).strip().lower() if lower else str(u) for u in uniques]
        values = np.array([table.get(k, 0.0) for k in keys] + [0.0], dtype=np.float64)
        return values[codes]  # code -1 picks the trailing 0.0

    def in_set(self, column: str, names: Collection[str]) -> np.ndarray:
        """Whether the lower-cased value is one of ``names``."""
        codes, uniques = self.factor(column)
        hit = np.array([str(u).strip().lower() in names for u in uniques] + [False])
        return hit[codes]
