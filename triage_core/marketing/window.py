"""The attribution window and the SQL builder shared by the marketing queries.

A campaign touch counts for a ticket of the same customer when

    created_at - lookback_days <= touched_at <= created_at

Ordering rule (used by every model that needs "first", "last" or a path order): touches are
ordered by ``touched_at``, then ``campaign_id``, then ``kind``, ascending. So among touches at the
same instant the smaller campaign id is the earlier one and the larger one is the "last touch".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.store import Store

__all__ = ["ORDER", "ORDER_DESC", "US_PER_DAY", "Bind", "Query", "lookback_us", "positive",
           "touched_within", "window_cte"]

US_PER_DAY = 86_400_000_000
ORDER = "touched_at, campaign_id, kind"  # the tie-break rule, in SQL
ORDER_DESC = "touched_at DESC, campaign_id DESC, kind DESC"

# bind(name, value) -> the placeholder to write in the SQL text for that value
Bind = Callable[[str, Any], str]


class Query:
    """SQL text plus named parameters; only parameters the text uses are sent."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f"${name}"

    def _used(self, sql: str) -> dict[str, Any]:
        used = set(re.findall(r"\$(\w+)", sql))
        return {k: v for k, v in self.params.items() if k in used}

    def run(self, store: Store, sql: str) -> pd.DataFrame:
        return store.query(sql, self._used(sql))

    def run_statement(self, store: Store, sql: str) -> None:
        """Execute ``sql`` (no result), e.g. a CREATE TABLE ... AS."""
        store.execute(sql, self._used(sql))


def positive(value: Any, name: str) -> float:
    """``value`` as a float greater than 0, else a :class:`TriageError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TriageError(f"{name} must be a number (got {value!r})")
    if value <= 0:
        raise TriageError(f"{name} must be greater than 0 (got {value!r})")
    return float(value)


def lookback_us(lookback_days: float) -> int:
    """The lookback in whole microseconds (the unit of ``to_microseconds``)."""
    return round(lookback_days * US_PER_DAY)


def touched_within(touch: str, ticket: str, lookback: str) -> str:
    """SQL: the touch row ``touch`` counts for the ticket row ``ticket`` (same customer, inside
    the window); ``lookback`` is the placeholder of the window in microseconds."""
    return (f"{touch}.customer_id = {ticket}.customer_id"
            f" AND {touch}.touched_at <= {ticket}.created_at"
            f" AND {touch}.touched_at >= {ticket}.created_at - to_microseconds({lookback})")


def window_cte(q: Query, lookback_days: float) -> str:
    """``win``: every (ticket of ``tk``, touch) pair with the touch inside the ticket's window
    (a range join on customer_id)."""
    lb = q.bind("lookback_us", lookback_us(lookback_days))
    return f"""win AS (
        SELECT k.ticket_id, k.created_at, p.campaign_id, p.touched_at, p.kind
        FROM tk k JOIN touchpoints p ON {touched_within("p", "k", lb)}
    )"""
