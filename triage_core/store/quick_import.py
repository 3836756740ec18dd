"""The ticket intake's fast import: plain tickets validated in Python, upserted in one statement.

A ticket POSTed to the API must be validated exactly like an import (same messages, nothing
written on error). The staged import (:mod:`triage_core.store.importing`) costs some twenty
statements whatever the number of rows; most tickets that a helpdesk sends are plainly valid.
:func:`plain_tickets` therefore accepts a request only when every value is in a form whose
import is certain to succeed and whose converted value it knows (our column names, ISO 8601
times without surrounding blanks, a whole csat 1-5, a status of the closed set, ...). Anything
else, valid or not, is left to the staged import, which then writes it or refuses it with its
own message: the fast path never words an error itself, so the messages cannot drift.

:func:`upsert` writes accepted tickets with one ``INSERT ... ON CONFLICT`` whose values are bound
as one list per column, updating only the columns the request gave (like an import).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triage_core.errors import TriageError
from triage_core.moments import MAX_YEAR, MIN_YEAR
from triage_core.schema import CONTROL_CHARACTERS, TICKETS
from triage_core.store.mapping import BUILTIN_VALUES, ImportMapping, _value_key, plan_columns
from triage_core.store.validation import MAX_OFFSET_MINUTES

if TYPE_CHECKING:
    from triage_core.store.connection import Store

Row = Mapping[str, str | None]

_COLUMNS = {c.name: c for c in TICKETS.columns}
_REQUIRED = tuple(c.name for c in TICKETS.columns if c.required)
_REQUIRED_SET = frozenset(_REQUIRED)
# ISO 8601 as `triage_ts` reads it: date, time with seconds, optional fraction (microseconds at
# most) and optional Z or +HH:MM / +HHMM offset. Other forms go to the staged import.
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
                  r"(Z|[+-]\d{2}:?\d{2})?")
_LOW = dt.datetime(MIN_YEAR, 1, 1)
_HIGH = dt.datetime(MAX_YEAR + 1, 1, 1)
_CSAT = re.compile(r"[1-5]")
_CONTROL = re.compile(CONTROL_CHARACTERS)
_SQL_TYPES = {"VARCHAR": "VARCHAR[]", "TIMESTAMP": "TIMESTAMP[]", "INTEGER": "INTEGER[]"}


class _NotPlain(Exception):
    """A value the fast path does not vouch for: the staged import decides."""


@dataclass(frozen=True)
class PlainTickets:
    """Tickets converted exactly as the import converts them; one tuple per row, in the order
    of ``columns`` (the request's columns, in schema order)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    # per row, the columns it gave, when the rows differ (None: every row gave ``columns``): a
    # column a row leaves out keeps the stored value of an existing ticket (see parts)
    given: list[tuple[str, ...]] | None = None

    def parts(self) -> list[PlainTickets]:
        """The rows by the columns they gave, each part with only its columns (in order of
        first appearance), so that one upsert per part leaves out what its rows left out."""
        if self.given is None:
            return [self]
        out: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row, cols in zip(self.rows, self.given, strict=True):
            at = [self.columns.index(c) for c in cols]
            out.setdefault(cols, []).append(tuple(row[i] for i in at))
        return [PlainTickets(cols, rows) for cols, rows in out.items()]

    @property
    def ids(self) -> list[str]:
        return [r[0] for r in self.rows]

    @property
    def customers(self) -> list[str]:
        at = self.columns.index("customer_id")
        return list(dict.fromkeys(r[at] for r in self.rows))


def timestamp(text: str) -> dt.datetime:
    """``text`` as naive UTC, as ``triage_ts`` reads it; :class:`_NotPlain` when the form is
    not one this module vouches for (or the import would refuse it)."""
    m = _ISO.fullmatch(text)
    if not m:
        raise _NotPlain
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        value = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s),
                            int((frac or "0").ljust(6, "0")))
    except ValueError:
        raise _NotPlain from None
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        if minutes >= 60 or hours * 60 + minutes > MAX_OFFSET_MINUTES:
            raise _NotPlain
        offset = dt.timedelta(hours=hours, minutes=minutes)
        try:
            value = value - offset if zone[0] == "+" else value + offset
        except OverflowError:  # past year 1 or 9999: the import refuses it, naming the years
            raise _NotPlain from None
    if not _LOW <= value < _HIGH:
        raise _NotPlain
    return value


def plain_time(text: Any) -> dt.datetime | None:
    """:func:`timestamp` of ``text``, or None when it is no text in a form it reads."""
    if not isinstance(text, str):
        return None
    try:
        return timestamp(text.strip())
    except _NotPlain:
        return None


def _value(column: str, raw: str | None) -> Any:
    """One converted value (None for empty)."""
    if raw is None:
        if column in _REQUIRED:
            raise _NotPlain
        return None
    col = _COLUMNS[column]
    if col.type == "TIMESTAMP":
        if raw == "" and not col.required:
            return None
        if raw != raw.strip():
            raise _NotPlain
        return timestamp(raw)
    text = raw.strip()
    if not text:
        if col.required:
            raise _NotPlain
        return None
    if col.max_chars is not None and (len(text) > col.max_chars or _CONTROL.search(text)):
        raise _NotPlain  # an id or a label the import refuses
    if col.type == "INTEGER":  # csat, the only number of a ticket
        if not _CSAT.fullmatch(text):
            raise _NotPlain
        return int(text)
    mapped = BUILTIN_VALUES.get(column, {})
    if col.allowed:  # the import: the built-in value map ("hold"), then lower case
        lowered = text.lower()
        lowered = mapped.get(lowered, lowered)
        if lowered not in col.allowed:
            raise _NotPlain
        return lowered
    if mapped:
        return mapped.get(text.lower(), raw).strip() or None
    return text


def plain_tickets(rows: Sequence[Row]) -> PlainTickets | None:
    """The tickets converted like an import, or None when the staged import must decide (an
    unknown column, a form of value not vouched for, a duplicate id, ...)."""
    if not rows:
        return None
    given: set[str] = set()
    for row in rows:
        given.update(row)
    if not given <= _COLUMNS.keys() or any(not row.keys() >= _REQUIRED_SET for row in rows):
        return None
    columns = tuple(c for c in _COLUMNS if c in given)
    try:
        out = [tuple(_value(c, row.get(c)) for c in columns) for row in rows]
    except _NotPlain:
        return None
    if len({r[0] for r in out}) != len(out):
        return None  # a duplicate id: the import names its rows
    # tickets that give different fields: a field one leaves out keeps its stored value, which
    # one statement over the union of the fields would set empty (PlainTickets.parts)
    if any(len(row) != len(columns) for row in rows):
        return PlainTickets(columns, out,
                            [tuple(c for c in columns if c in row) for row in rows])
    return PlainTickets(columns, out)


def mapped_rows(rows: Sequence[Row], mapping: ImportMapping) -> list[Row] | None:
    """``rows`` named like our columns with ``mapping``'s value maps applied as the import
    applies them (a helpdesk webhook's rows and its preset: ``Hold``, ``2`` for open, ``Good``
    for CSAT 5), for :func:`plain_tickets`; None when the mapping would do anything else to
    them (match a column to another of ours, give a default, read a time by a format) or a
    mapped value is one the built-in value maps would map again (the import maps a value
    once), so that the staged import decides."""
    if mapping.defaults or mapping.table not in (None, TICKETS.name):
        return None
    given = tuple(sorted({c for row in rows for c in row}))
    if not set(given) <= _COLUMNS.keys():
        return None
    key = (id(mapping), given)
    known = _SELF_MAPPED.get(key)
    if known is None or known[0] is not mapping:
        try:
            plan = plan_columns(TICKETS, given, mapping, "request", require=False)
            same = (all(plan.targets.get(c) == c for c in given) and not plan.defaults
                    and not plan.formats)  # (a format the mapping names for these columns)
        except TriageError:
            same = False
        if len(_SELF_MAPPED) > 64:
            _SELF_MAPPED.clear()
        known = _SELF_MAPPED[key] = (mapping, same)
    if not known[1]:
        return None
    maps = {c: {_value_key(k): v for k, v in mapping.values[c].items()}
            for c in given if mapping.values.get(c)}
    if not maps:
        return list(rows)
    out = []
    for row in rows:
        new = dict(row)
        for column, pairs in maps.items():
            raw = row.get(column)
            if raw is None or _value_key(raw) not in pairs:
                continue
            value = pairs[_value_key(raw)]
            builtin = BUILTIN_VALUES.get(column, {})
            if value is not None and builtin.get(_value_key(value), value) != value:
                return None
            new[column] = value
        out.append(new)
    return out


# (id of a mapping, columns) -> (the mapping, whether it maps those columns to themselves)
_SELF_MAPPED: dict[tuple[int, tuple[str, ...]], tuple[ImportMapping, bool]] = {}


def missing_customers(store: Store, tickets: PlainTickets) -> list[str]:
    """The customers of ``tickets`` that are not in ``customers``."""
    wanted = tickets.customers
    found = store.query("SELECT customer_id FROM customers WHERE customer_id IN"
                        " (SELECT unnest(?::VARCHAR[]))", [wanted])["customer_id"]
    known = set(found.tolist())
    return [c for c in wanted if c not in known]


def create_customers(store: Store, customer_ids: Sequence[str]) -> None:
    """Customers known only by their id (an import's ``--create-missing``)."""
    if customer_ids:
        store.execute("INSERT INTO customers (customer_id) SELECT unnest(?::VARCHAR[])"
                      " ON CONFLICT DO NOTHING", [list(customer_ids)])


def upsert(store: Store, tickets: PlainTickets, returning: str = "",
           new: bool = False) -> list[dict[str, Any]]:
    """Insert or update ``tickets`` (only their columns change on an existing ticket), in one
    statement; the caller holds the transaction and checked the customers. Returns the stored
    rows (every column, plus the SQL expressions ``returning`` names, code constants).

    ``new``: the caller knows that none of the tickets exists, and they are inserted without
    the conflict clause (about a third of the time: no update path to plan); should one exist
    after all, the statement fails with ``duckdb.ConstraintException``, having written
    nothing, and the caller's transaction must be rolled back."""
    cols = tickets.columns
    select = ", ".join(f"unnest(?::{_SQL_TYPES[_COLUMNS[c].type]})" for c in cols)
    values = [list(v) for v in zip(*tickets.rows, strict=True)]
    tail = f" RETURNING *{', ' + returning if returning else ''}"
    if new:
        return store.rows(f"INSERT INTO tickets ({', '.join(cols)}) SELECT {select}{tail}",
                          values)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in TICKETS.key)
    return store.rows(f"INSERT INTO tickets ({', '.join(cols)}) SELECT {select}"
                      f" ON CONFLICT ({', '.join(TICKETS.key)}) DO UPDATE SET {updates}{tail}",
                      values)
