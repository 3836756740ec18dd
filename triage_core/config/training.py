"""The ``[training]`` section's own keys: how many labeled tickets training and its holdout read.

Its tables ``[training.selection]`` and ``[training.baseline]`` are validated by
:class:`~triage_core.models.selection.SelectionSettings` and
:class:`~triage_core.models.baseline.BaselineSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.config import Checker, section

__all__ = ["MAX_ROWS", "TrainingSettings"]

_KEYS = ("max_train_rows", "max_holdout_rows", "selection", "baseline")
MAX_ROWS = 2**63 - 1  # larger caps mean "every row" too; the SQL parameter stays a BIGINT


@dataclass(frozen=True)
class TrainingSettings:
    max_train_rows: int
    max_holdout_rows: int

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> TrainingSettings:
        """The packaged ``[training]`` defaults with ``over`` on top, validated."""
        check = Checker("training")
        d = section("training", over)
        check.keys(d, _KEYS)
        return cls(*(min(check.integer(d[key], key, lo=1), MAX_ROWS) for key in _KEYS[:2]))
