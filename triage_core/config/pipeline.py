"""The ``[pipeline]`` section: processes for local prediction of large jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.config import Checker, section

__all__ = ["PipelineSettings"]

_KEYS = ("workers",)


@dataclass(frozen=True)
class PipelineSettings:
    workers: int  # 0 = one per CPU core

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> PipelineSettings:
        """The packaged ``[pipeline]`` defaults with ``over`` on top, validated."""
        check = Checker("pipeline")
        d = section("pipeline", over)
        check.keys(d, _KEYS)
        return cls(workers=check.integer(d["workers"], "workers", lo=0))
