"""The checks of a staged import (``_stage``): each refuses the first bad row of a column,
naming the file, the row and the column, and how the import converts the staged values to our
types."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from triage_core.errors import ImportValidationError
from triage_core.moments import MAX_YEAR, MIN_YEAR
from triage_core.schema import CONTROL_CHARACTERS_SQL, Column, Table
from triage_core.store import mapping as mapping_rules
from triage_core.store.time_formats import PLACEHOLDERS, advice, guess_format

_TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE",
                    "TIMESTAMP WITH TIME ZONE")
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT")
_NUMBER_TYPES = (*_INTEGER_TYPES, "FLOAT", "DOUBLE")

# How the refusal of an unknown closed-set value ends; a webhook's says where its mapping goes.
USE_MAPPING = "import with --mapping FILE"


# Timestamps outside the years MIN_YEAR-MAX_YEAR (1970-2100, triage_core.moments) are refused:
# no helpdesk has tickets from before 1970 or after 2100, and such values break every duration
# computed from them.
MAX_OFFSET_MINUTES = 14 * 60  # UTC offsets run from -12:00 to +14:00
MAX_LISTED_VALUES = 20
_INT_MAX = 2**31 - 1  # DuckDB's INTEGER



def sql_literal_list(values: Sequence[str]) -> str:
    """Render an allow-listed, code-defined set of constants (never user data) as SQL."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# (earlier, later) time columns of a table that must not run backwards within a row
_ORDERED = {"campaigns": (("start_at", "end_at"),)}


class Validator:
    """The checks of a staged import, each raising on the first bad row."""

    def __init__(self, con: Any, spec: Table, present: list[Column],
                 plan: mapping_rules.ColumnPlan, name: str) -> None:
        self.con = con
        self.spec = spec
        self.present = present
        self.plan = plan
        self.name = name
        self.types = stage_types(con)

    def validate(self) -> None:
        for col in self.present:
            typed = already_typed(col, self.types.get(col.name, "VARCHAR"))
            if col.required:
                self._check_required(col, typed)
            if col.type == "TIMESTAMP":  # typed Parquet/JSON columns need no parsing
                self._check_timestamp(col, typed)
            elif col.type in ("INTEGER", "DOUBLE"):
                self._check_number(col, typed)
            if col.allowed:
                self._check_allowed(col, typed)
            if col.max_chars is not None:
                self._check_text(col)
        self._check_order()
        self._check_duplicates()

    def _check_order(self) -> None:
        """Times that must not run backwards within a row (a campaign ending before it
        starts would give it no days, and the forecast a duration of its own making)."""
        present = {c.name: c for c in self.present}
        for first, then in _ORDERED.get(self.spec.name, ()):
            if first not in present or then not in present:
                continue
            a, b = (f"CAST({c} AS TIMESTAMP)"
                    if already_typed(present[c], self.types.get(c, "VARCHAR"))
                    else f"triage_ts({c})" for c in (first, then))
            hit = self._first_bad(f"{then} AS v, coalesce({b} < {a}, false)"
                                  " AS bad FROM _stage")
            if hit:
                start = self.con.execute(f"SELECT {first} FROM _stage WHERE _row = ?",
                                         [hit[0]]).fetchall()[0][0]
                self._fail(f"{str(hit[1])[:40]!r} is before {self.plan.label(first)}"
                           f" {str(start)[:40]!r}", hit[0], present[then])

    def _fail(self, message: str, row: int, col: Column) -> None:
        raise ImportValidationError(self.name, message, row, self.plan.label(col.name))

    def _first_bad(self, where: str, params: list[Any] | None = None) -> tuple[int, Any] | None:
        rows = self.con.execute(
            f"SELECT _row, v FROM (SELECT _row, {where}) WHERE bad ORDER BY _row LIMIT 1",
            params or []).fetchall()
        return rows[0] if rows else None

    def _check_text(self, col: Column) -> None:
        """An id or a label: one line without control characters, at most ``max_chars`` long
        (as stored: trimmed)."""
        c = col.name
        text = f"triage_trim(CAST({c} AS VARCHAR))"
        what = "a category" if c == "category" else "an id"
        hit = self._first_bad(f"{c} AS v, coalesce(regexp_matches({text}, ?), false) AS bad"
                              " FROM _stage", [CONTROL_CHARACTERS_SQL])
        if hit:
            self._fail(f"{str(hit[1])[:40]!r} holds a line break, a tab or another control or"
                       f" invisible character; {what} is one line of text", hit[0], col)
        hit = self._first_bad(f"{c} AS v, coalesce(length({text}) > {int(col.max_chars or 0)},"
                              " false) AS bad FROM _stage")
        if hit:
            self._fail(f"{str(hit[1])[:40]!r}… is {len(str(hit[1]).strip()):,} characters long;"
                       f" {what} is at most {col.max_chars}", hit[0], col)

    @staticmethod
    def _nonempty(c: str, typed: bool) -> str:
        return (f"{c} IS NOT NULL" if typed
                else f"{c} IS NOT NULL AND triage_trim({c}) <> ''")

    def _check_required(self, col: Column, typed: bool) -> None:
        c = col.name
        empty = f"{c} IS NULL" if typed else f"({c} IS NULL OR triage_trim({c}) = '')"
        hit = self._first_bad(f"{c} AS v, {empty} AS bad FROM _stage")
        if hit:
            self._fail("required value is empty", hit[0], col)

    def _check_timestamp(self, col: Column, typed: bool) -> None:
        c = col.name
        parsed = f"CAST({c} AS TIMESTAMP)" if typed else f"triage_ts({c})"
        if not typed:
            hit = self._first_bad(f"{c} AS v, ({self._nonempty(c, False)} AND {parsed} IS NULL)"
                                  " AS bad FROM _stage")
            if hit:
                self._placeholder(col, hit)
                self._impossible_date(col, hit)
                fmt = self.plan.formats.get(c)
                self._fail(f"cannot read {str(hit[1])[:40]!r} as "
                           + ("a number of minutes from 0 up after created_at (the mapping's"
                              " format 'minutes')" if fmt == mapping_rules.MINUTES else
                              "a timestamp")
                           + (f" in the mapping's format {fmt!r}"
                              if fmt and fmt != mapping_rules.MINUTES else "" if fmt else
                              " (expected ISO 8601, e.g. 2026-03-01 14:30:00 or"
                              " 2026-03-01T14:30:00Z; " + self._format_hint(c) + ")"),
                           hit[0], col)
            part = ("TRY_CAST(regexp_extract(triage_trim({c}),"
                    " '[+-]([0-9][0-9]):?([0-9][0-9])$', {i}) AS INTEGER)")
            minutes = f"{part.format(c=c, i=1)} * 60 + {part.format(c=c, i=2)}"
            hit = self._first_bad(
                f"{c} AS v, coalesce({minutes} > {MAX_OFFSET_MINUTES}, false) AS bad FROM _stage")
            if hit:
                self._fail(f"{str(hit[1])[:40]!r} has a UTC offset beyond ±14:00", hit[0], col)
        hit = self._first_bad(
            f"{c} AS v, ({parsed} < TIMESTAMP '{MIN_YEAR}-01-01'"
            f" OR {parsed} >= TIMESTAMP '{MAX_YEAR + 1}-01-01') AS bad FROM _stage")
        if hit:
            self._fail(f"{str(hit[1])[:40]!r} is outside the years {MIN_YEAR}-{MAX_YEAR}",
                       hit[0], col)

    def _impossible_date(self, col: Column, hit: tuple[int, Any]) -> None:
        """Refuse an ISO date that is no day of the calendar (2026-02-30) as that, not as a
        form to describe in the mapping."""
        import datetime as dt

        value = str(hit[1]).strip()
        found = re.match(r"(\d{4})-(\d{2})-(\d{2})(?!\d)", value)
        if not found or self.plan.formats.get(col.name):  # a form of the mapping's own
            return
        year, month, day = map(int, found.groups())
        try:
            dt.date(year, month, day)
        except ValueError:
            what = (f"{year}-{month:02d} has no day {day}" if 1 <= month <= 12
                    else f"there is no month {month}")
            self._fail(f"{value[:40]!r} is not a date of the calendar ({what})", hit[0], col)

    def _placeholder(self, col: Column, hit: tuple[int, Any]) -> None:
        """Refuse an optional column's cell that is how exports write an empty one ("-",
        "n/a"), saying how the mapping reads it as empty (no format would)."""
        value = str(hit[1]).strip()
        if col.required or value.lower() not in PLACEHOLDERS:
            return
        self._fail(f"{value!r} is not {'a time' if col.type == 'TIMESTAMP' else 'a number'};"
                   f" if it stands for no value, read it as empty with the mapping's"
                   f" [values.{col.name}] {json.dumps(value)} = \"\" ('triage mapping suggest'"
                   " proposes it)", hit[0], col)

    def _format_hint(self, c: str) -> str:
        """How to read the column's times: the one format all of them fit (as 'triage mapping
        suggest' finds it), else an example and that command."""
        try:
            found = guess_format(self.con, c)
        except duckdb.Error:
            found = None
        if found is None:
            return (f"for another form give its format in the mapping, e.g. [formats] {c} ="
                    " \"%d/%m/%Y %H:%M\" ('triage mapping suggest' finds it when the values"
                    " tell day and month apart)")
        return advice(c, found)

    def _check_number(self, col: Column, typed: bool) -> None:
        c = col.name
        nonempty = self._nonempty(c, typed)
        parsed = (f"CAST({c} AS DOUBLE)" if typed
                  else f"TRY_CAST(triage_trim({c}) AS DOUBLE)")
        check = f"{parsed} IS NULL OR isnan({parsed}) OR isinf({parsed})"
        if col.type == "INTEGER":
            check += f" OR {parsed} <> round({parsed})"
        hit = self._first_bad(f"{c} AS v, ({nonempty} AND ({check})) AS bad FROM _stage")
        if hit:
            self._placeholder(col, hit)
            kind = "a whole number" if col.type == "INTEGER" else "a number"
            hint = ""
            value = str(hit[1])
            if value.startswith(mapping_rules.NOT_IN_FORMAT):  # not of the mapping's format
                fmt = self.plan.formats.get(c, "")
                value = value.removeprefix(mapping_rules.NOT_IN_FORMAT)
                self._fail(f"{value[:40]!r} is not a number written "
                           f"{mapping_rules.NUMBER_WRITTEN.get(fmt, fmt)}, as [formats] "
                           f"{c} = \"{fmt}\" of the mapping says", hit[0], col)
            if re.search(r"[$€£¥₹]|\b(?:USD|EUR|GBP|JPY|CHF|INR)\b", str(hit[1])):
                hint = (" (a currency sign: export the column without it; a number with"
                        f" thousands commas then reads with [formats] {c} = \"thousands_comma\")")
            elif col.type == "DOUBLE" and "," in str(hit[1]):
                hint = (f" (a thousands separator? add [formats] {c} = \"thousands_comma\";"
                        f" a decimal comma? add [formats] {c} = \"decimal_comma\" to the mapping)"
                        if re.fullmatch(mapping_rules.THOUSANDS_RE, str(hit[1]).strip())
                        else f" (a decimal comma? add [formats] {c} = \"decimal_comma\" to the"
                        " mapping)")
            if col.choices and not hint and not re.search(r"[0-9]", value):
                self._words_to_map(col, f"{check} OR {parsed} IS NULL")  # csat: Amazing
            self._fail(f"{str(hit[1])[:40]!r} is not {kind}{hint}", hit[0], col)
        if col.type == "INTEGER":  # beyond DuckDB's INTEGER: a conversion error, no row named
            hit = self._first_bad(f"{c} AS v, ({nonempty} AND abs({parsed}) > {_INT_MAX})"
                                  " AS bad FROM _stage")
            if hit:
                self._fail(f"{str(hit[1])[:40]!r} is too large (at most {_INT_MAX:,})", hit[0],
                           col)
        for bound, op, word in ((col.min_value, "<", "at least"),
                                (col.max_value, ">", "at most")):
            if bound is None:
                continue
            hit = self._first_bad(f"{c} AS v, ({nonempty} AND {parsed} {op} {float(bound)!r})"
                                  " AS bad FROM _stage")
            if hit:
                self._fail(f"{hit[1]!r} must be {word} {bound:g}", hit[0], col)

    def _words_to_map(self, col: Column, bad: str) -> None:
        """A bounded whole-number column (csat 1-5) holding words ("Amazing", a survey's
        scale): every distinct one listed once, with how to map it, as for a closed set."""
        self._refuse_values(col, f"triage_trim(CAST({col.name} AS VARCHAR))",
                            f"{self._nonempty(col.name, False)} AND ({bad})",
                            f"not a whole number {col.choices[0]}-{col.choices[-1]}",
                            " with the usual scores")

    def _check_allowed(self, col: Column, typed: bool) -> None:
        """Every distinct value outside the closed set, listed once, with how to map it."""
        c = col.name
        self._refuse_values(col, f"CAST({c} AS VARCHAR)",
                            f"{self._nonempty(c, typed)} AND lower(triage_trim({c}))"
                            f" NOT IN ({sql_literal_list(col.allowed or ())})",
                            f"not one of {', '.join(col.allowed or ())}")

    def _refuse_values(self, col: Column, value: str, where: str, what: str,
                       listed: str = "") -> None:
        """Refuse the staged rows ``where`` holds, naming the first: their distinct values
        (``value``, at most MAX_LISTED_VALUES) listed once with their counts, and how to map
        them in a mapping file."""
        c = col.name
        bad = self.con.execute(
            f"SELECT {value} AS v, min(_row) AS first, count(*) AS n FROM _stage WHERE {where}"
            f" GROUP BY 1 ORDER BY first LIMIT {MAX_LISTED_VALUES + 1}").fetchall()
        if not bad:
            return
        shown = ", ".join(f"{str(v)[:40]!r} ({n:,} row{'s' if n > 1 else ''})"
                          for v, _, n in bad[:MAX_LISTED_VALUES])
        more = " and more" if len(bad) > MAX_LISTED_VALUES else ""
        example = json.dumps(str(bad[0][0])[:40])  # a TOML string, control characters escaped
        count = f"{len(bad)}{'+' if more else ''} values are" if len(bad) > 1 else "a value is"
        self._fail(
            f"{count} {what}: {shown}{more}; map them in a mapping file ([values.{c}] {example}"
            f" = \"the {c} of ours it means\"; 'triage mapping suggest' lists them all{listed})"
            f" and {USE_MAPPING}", bad[0][1], col)

    def _check_duplicates(self) -> None:
        spec = self.spec
        keys = ", ".join(spec.key)
        key_expr = key_sql(spec, self.types)
        any_dup = self.con.execute(
            f"SELECT 1 FROM _stage GROUP BY {key_expr} HAVING count(*) > 1 LIMIT 1").fetchall()
        if not any_dup:  # the common case: one cheap grouping, no window over every row
            return
        dup = self.con.execute(
            f"SELECT _row, first_row, {keys} FROM (SELECT _row, {keys},"
            f" min(_row) OVER (PARTITION BY {key_expr}) AS first_row FROM _stage)"
            " WHERE _row <> first_row ORDER BY _row LIMIT 1").fetchall()
        if dup:
            shown = ", ".join(str(v)[:40] for v in dup[0][2:])
            mangled = any(_SCIENTIFIC.fullmatch(str(v).strip()) for v in dup[0][2:])
            self._fail(f"duplicate {keys} {shown!r} (first seen in row {dup[0][1]})"
                       + (SCIENTIFIC_HINT if mangled else ""), dup[0][0],
                       spec.column(spec.key[0]))


# A long number a spreadsheet saved in scientific notation (570306133677760513 -> 5.70306E+17):
# its last digits are gone, so ids that differed become the same
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+[0-9]+")
SCIENTIFIC_HINT = ("; the id is a long number a spreadsheet saved in scientific notation, which"
                   " dropped its last digits: export the file again with that column as text")


def key_sql(spec: Table, types: Mapping[str, str]) -> str:
    """The staged key columns as the import compares them (trimmed text, parsed times)."""
    return ", ".join(
        k if already_typed(spec.column(k), types.get(k, "VARCHAR"))
        else f"triage_ts({k})" if spec.column(k).type == "TIMESTAMP"
        else f"triage_trim({k})"
        for k in spec.key)


def stage_types(con: Any) -> dict[str, str]:
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns"
                       " WHERE table_name = '_stage'").fetchall()
    return {str(n): str(t).upper() for n, t in rows}


def already_typed(col: Column, source_type: str) -> bool:
    """True when the file already holds this column in its own type (Parquet, JSON numbers)."""
    if col.type == "TIMESTAMP":
        return source_type in _TIMESTAMP_TYPES
    if col.type == "INTEGER":
        return source_type in _INTEGER_TYPES
    if col.type == "DOUBLE":
        return source_type in _NUMBER_TYPES or source_type.startswith("DECIMAL")
    return False


def convert_expr(col: Column, source_type: str = "VARCHAR") -> str:
    c = col.name
    if already_typed(col, source_type):
        return f"CAST({c} AS {col.type})"
    text = f"NULLIF(triage_trim({c}), '')"
    if col.type == "TIMESTAMP":
        return f"triage_ts(NULLIF(CAST({c} AS VARCHAR), ''))"
    if col.type == "INTEGER":
        return f"CAST(round(CAST({text} AS DOUBLE)) AS INTEGER)"
    if col.type == "DOUBLE":
        return f"CAST({text} AS DOUBLE)"
    if col.allowed:
        return f"lower({text})"
    return text
