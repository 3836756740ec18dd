"""The ``[dashboard]`` section: upload limit and the currency symbol money is shown with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.config import Checker, section

__all__ = ["DashboardSettings"]

_KEYS = ("max_upload_mb", "currency")


@dataclass(frozen=True)
class DashboardSettings:
    max_upload_mb: int
    currency: str

    @classmethod
    def from_mapping(cls, over: Mapping[str, Any] | None = None) -> DashboardSettings:
        """The packaged ``[dashboard]`` defaults with ``over`` on top, validated."""
        check = Checker("dashboard")
        d = section("dashboard", over)
        check.keys(d, _KEYS)
        symbol = d["currency"]
        if not isinstance(symbol, str) or not symbol.strip() or len(symbol) > 6 \
                or any(ch in symbol for ch in "<>&%\\`*_[]\n\r\t"):
            check.fail(f"currency must be a short symbol such as \"$\", \"€\" or \"CHF \" "
                       f"(at most 6 characters, no markup), got {symbol!r}")
        return cls(max_upload_mb=check.integer(d["max_upload_mb"], "max_upload_mb", lo=1),
                   currency=symbol.lstrip())
