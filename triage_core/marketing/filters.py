"""One filter type for the dashboard views and campaign attribution.

:class:`Filters` says which tickets a view covers (created between ``start`` and ``end``, of the
chosen ticket channels, customer segments and categories) and which campaigns it is about
(``campaigns``, ``campaign_channels``). It renders its SQL condition with bound parameters only;
the identifiers in the text are fixed names in this module and the alias the caller passes.

The ticket's channel (``tickets.channel``: where the customer wrote, e.g. chat) and the
campaign's channel (``campaigns.channel``: where marketing reached them, e.g. paid_social) are
separate filters. The campaign filters mean "touched by such a campaign in the lookback window
before the ticket" for the ticket views (:meth:`Filters.where`), and "report the credit of such
campaigns only" for attribution, where they never change a ticket's credits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from triage_core import moments
from triage_core.errors import TriageError
from triage_core.marketing.settings import AttributionSettings
from triage_core.marketing.window import Bind, lookback_us, positive, touched_within

__all__ = ["Filters"]

# text filter -> the ticket column it compares (campaign filters are rendered separately)
_TICKET_COLUMNS = {"ticket_channels": "channel", "segments": "segment", "categories": "category"}
_TEXT_FILTERS = (*_TICKET_COLUMNS, "campaigns", "campaign_channels")


@dataclass(frozen=True)
class Filters:
    """Filters of a view; an empty tuple or None means 'all'.

    * ``start`` / ``end``: ticket ``created_at`` range (a date, a timestamp or its text), both
      inclusive; a bare date (``2026-03-31``) as ``end`` covers that whole day, a timestamp is
      compared as is. Time zones are converted to UTC.
    * ``ticket_channels``, ``segments`` (customer segment), ``categories``: which tickets.
    * ``campaigns`` (campaign ids), ``campaign_channels`` (``campaigns.channel``): which campaigns.
    * ``lookback_days``: the window in which a campaign touch counts for a ticket; None means
      ``lookback_days`` of the packaged ``[attribution]`` config.

    Lists and single texts are accepted and stored as tuples (so filters can key a cache).
    """

    start: Any = None
    end: Any = None
    ticket_channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    campaign_channels: tuple[str, ...] = ()
    lookback_days: float | None = None

    def __post_init__(self) -> None:
        for key in ("start", "end"):
            if getattr(self, key) is not None:
                _timestamp(getattr(self, key), key)
        for key in _TEXT_FILTERS:
            object.__setattr__(self, key, _texts(getattr(self, key), key))
        if self.lookback_days is not None:
            positive(self.lookback_days, "lookback_days")

    @classmethod
    def of(cls, filters: Filters | Mapping[str, Any] | None) -> Filters:
        """``filters`` as a :class:`Filters`: None is no filter, a mapping uses the field names."""
        if filters is None:
            return cls()
        if isinstance(filters, Filters):
            return filters
        names = [f.name for f in fields(cls)]
        if not isinstance(filters, Mapping):
            raise TriageError(f"filters must be a Filters or a mapping with keys {', '.join(names)}"
                              f" (got {type(filters).__name__})")
        for key in filters:
            if key not in names:
                raise TriageError(f"unknown filter {key!r}; valid filters: {', '.join(names)}")
        return cls(**filters)

    def lookback(self) -> float:
        """The campaign touch window in days (see ``lookback_days``)."""
        if self.lookback_days is not None:
            return float(self.lookback_days)
        return AttributionSettings.from_mapping().lookback_days

    def ticket_sql(self, bind: Bind, alias: str = "t", *, by_campaign: bool = True) -> str:
        """Condition (``TRUE`` when empty) on the ticket row ``alias``, which has the columns
        created_at, channel (the ticket's), segment, category and customer_id.

        ``by_campaign``: also keep only tickets that a chosen campaign touched in the lookback
        window (attribution passes False: there the campaign filters choose reported rows).
        """
        parts = []
        if self.start is not None:
            start = _timestamp(self.start, "start").to_pydatetime()
            parts.append(f"{alias}.created_at >= {bind('f_start', start)}")
        if self.end is not None:
            end = _timestamp(self.end, "end")
            if moments.date_only(self.end):
                end = end.normalize() + pd.Timedelta(days=1)
                parts.append(f"{alias}.created_at < {bind('f_end', end.to_pydatetime())}")
            else:
                parts.append(f"{alias}.created_at <= {bind('f_end', end.to_pydatetime())}")
        for key, column in _TICKET_COLUMNS.items():
            if getattr(self, key):
                values = bind(f"f_{key}", list(getattr(self, key)))
                parts.append(f"list_contains({values}::VARCHAR[], {alias}.{column})")
        if by_campaign and (self.campaigns or self.campaign_channels):
            window = touched_within("tp", alias, bind("f_lookback_us",
                                                      lookback_us(self.lookback())))
            chosen = self.campaign_sql(bind, "tp.campaign_id")
            parts.append(f"EXISTS (SELECT 1 FROM touchpoints tp WHERE {window} AND {chosen})")
        return " AND ".join(parts) or "TRUE"

    def campaign_sql(self, bind: Bind, column: str) -> str:
        """Condition (``TRUE`` when empty) on the campaign id in ``column``: one of
        ``campaigns``, and a campaign of one of ``campaign_channels``."""
        parts = []
        if self.campaigns:
            ids = bind("f_campaigns", list(self.campaigns))
            parts.append(f"list_contains({ids}::VARCHAR[], {column})")
        if self.campaign_channels:
            channels = bind("f_campaign_channels", list(self.campaign_channels))
            parts.append(f"{column} IN (SELECT fc.campaign_id FROM campaigns fc"
                         f" WHERE list_contains({channels}::VARCHAR[], fc.channel))")
        return " AND ".join(parts) or "TRUE"

    def where(self, alias: str = "t") -> tuple[str, list[Any]]:
        """:meth:`ticket_sql` on ``triaged_tickets AS alias`` with positional (``?``)
        parameters, for the dashboard views: (condition, parameters)."""
        params: list[Any] = []

        def bind(_name: str, value: Any) -> str:
            params.append(value)
            return "?"

        return self.ticket_sql(bind, alias), params


def _timestamp(value: Any, key: str) -> pd.Timestamp:
    return moments.moment(value, f"filter {key}")


def _texts(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    try:
        values = (value,) if isinstance(value, str) else tuple(value)
    except TypeError:
        values = (value,)
    if not all(isinstance(v, str) for v in values):
        raise TriageError(f"filter {key}: expected text values (got {value!r})")
    return values
