"""Look at a file before importing it: its columns, the guessed mapping, values that do not fit.

Used by ``triage mapping suggest`` and the Data page's mapping form. Nothing is written to the
database's tables: the file is staged in temporary tables and dropped again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage_core.store import importing, validation
from triage_core.store import mapping as mapping_rules
from triage_core.store.mapping import ColumnPlan, ImportMapping
from triage_core.store.time_formats import PLACEHOLDERS, SAMPLE, FormatGuess, guess_format

if TYPE_CHECKING:
    import pandas as pd

    from triage_core.store.connection import Store

MAX_VALUES = 50  # distinct unmatched values listed per column


@dataclass
class FileReport:
    """What the import of a file with a mapping would see."""

    table: str
    columns: list[str]  # the file's columns, in order
    guesses: dict[str, str]  # our column -> the file column that most likely holds it
    plan: ColumnPlan | None  # None when the mapping leaves a required column unmapped
    problem: str | None  # why the plan failed, one line
    unmatched: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    preview: pd.DataFrame | None = None  # first rows as they would be imported
    rows: int = 0
    mapping: ImportMapping | None = None  # the mapping given, if any
    missing: list[str] = field(default_factory=list)  # required columns nothing maps
    raw_unmatched: dict[str, list[tuple[str, int]]] | None = None  # for a masked copy
    # time columns that are not ISO 8601: the one format every value fits, or None when
    # none or several (month/day against day/month) do, with an example value (and, for a
    # number column, decimal_comma or thousands_comma)
    formats: dict[str, FormatGuess] = field(default_factory=dict)
    # guesses left out, each with why (our column -> one line)
    passed_over: dict[str, str] = field(default_factory=dict)
    # an empty cell as the export writes it ("-", "n/a"), per optional column holding no
    # free text: proposed as empty
    placeholders: dict[str, list[str]] = field(default_factory=dict)

    def suggestion(self) -> ImportMapping:
        """A mapping to start from: the given one (else the guesses), with every value that
        still does not fit listed, mapped to itself, to be edited."""
        spec = importing.table_spec(self.table)
        guessed = mapping_rules.suggest(
            spec, self.columns, {c: [v for v, _ in vals] for c, vals in self.unmatched.items()},
            self.guesses)
        formats = {c: g.format for c, g in self.formats.items() if g.format}
        empties = {c: dict.fromkeys(vals, "") for c, vals in self.placeholders.items()}
        guessed = replace(guessed, values={
            c: {**empties.get(c, {}), **guessed.values.get(c, {})}
            for c in {*empties, *guessed.values}})
        if self.mapping is None:
            return replace(guessed, formats=formats)
        values = {c: {**guessed.values.get(c, {}), **self.mapping.values.get(c, {})}
                  for c in {*self.mapping.values, *guessed.values}}
        return ImportMapping(self.mapping.name, self.table, self.mapping.columns, values,
                             self.mapping.defaults, {**formats, **self.mapping.formats},
                             self.mapping.duplicates)


def inspect_file(store: Store, table: str, path: str | Path,
                 mapping: ImportMapping | str | None = None, rows: int = 20) -> FileReport:
    spec = importing.table_spec(table)
    chosen = importing.resolve_mapping(store, spec, mapping)
    path = Path(path)
    with store.lock():
        try:
            importing.load_raw_file(store, path, table)
            return _report(store, table, chosen, path.name, rows)
        finally:
            importing.drop_staging(store)


def inspect_frame(store: Store, table: str, frame: pd.DataFrame, name: str,
                  mapping: ImportMapping | str | None = None, rows: int = 20) -> FileReport:
    spec = importing.table_spec(table)
    chosen = importing.resolve_mapping(store, spec, mapping)
    with store.lock():
        try:
            importing.load_raw_frame(store, frame)
            return _report(store, table, chosen, name, rows)
        finally:
            importing.drop_staging(store)


def _report(store: Store, table: str, mapping: ImportMapping | None, name: str,
            rows: int) -> FileReport:
    from triage_core.errors import TriageError

    spec = importing.table_spec(table)
    columns = [c for c in store.columns("_raw") if c != "_row"]
    report = FileReport(table, columns, mapping_rules.guess_columns(spec, columns), None, None,
                        mapping=mapping)
    report.passed_over = (importing.not_categories(store, report.guesses)
                          if table == "tickets" else {})
    for col in report.passed_over:
        del report.guesses[col]
    guessed = mapping or ImportMapping(
        "", table, {c: (s,) for c, s in report.guesses.items()}, {}, {})
    try:
        plan, n = importing.stage(store, spec, guessed, name)
        report.plan = plan
    except TriageError as exc:  # required columns unmapped: stage the rest to list values
        report.problem = str(exc)
        loose = mapping_rules.plan_columns(spec, columns, guessed, name, require=False,
                                           updates=True)
        lacking = loose.update_only
        if lacking:  # what the import will do with it: update, not refuse
            report.problem = (f"{name} has no {', '.join(lacking)}: it can only update {table}"
                              " that exist (the import refuses a new one); map"
                              f" {'those columns' if len(lacking) > 1 else 'that column'} to"
                              " import new ones")
        report.missing = [c.name for c in spec.columns
                          if c.required and c.name not in loose.present]
        stand_in = {c: "" for c in report.missing}
        plan, n = importing.stage(
            store, spec, replace(guessed, defaults={**guessed.defaults, **stand_in}), name)
    report.rows = n
    con = store.raw_connection()
    for col in spec.columns:
        if col.choices and col.name in plan.present:
            report.unmatched[col.name] = _unmatched(con, col.name, col.choices)
    report.placeholders = _placeholders(con, spec, plan)
    empty = {c: set(found) for c, found in report.placeholders.items()}
    # a placeholder is listed as empty, not among the values to map
    report.unmatched = {c: kept for c, vals in report.unmatched.items()
                        if (kept := [(v, n) for v, n in vals
                                     if v.strip().lower() not in empty.get(c, ())])}
    for col in spec.columns:
        if col.name not in plan.targets or col.name in plan.formats:
            continue
        found = (guess_format(con, col.name) if col.type == "TIMESTAMP"
                 else _decimal_comma(con, col.name) if col.type == "DOUBLE" else None)
        if found:
            report.formats[col.name] = found
    report.preview = store.query("SELECT * EXCLUDE (_row) FROM _stage ORDER BY _row LIMIT ?",
                                 [int(rows)])
    return report


# Columns whose text is the customer's or the agent's words: a "-" there is what was written
_FREE_TEXT = ("subject", "body")


def _placeholders(con: Any, spec: Any, plan: ColumnPlan) -> dict[str, list[str]]:
    """Our optional columns (no free text) whose staged values include an empty cell as
    exports write it, and which of :data:`PLACEHOLDERS` they hold."""
    out: dict[str, list[str]] = {}
    for col in spec.columns:
        if col.required or col.name in _FREE_TEXT or col.name not in plan.targets:
            continue
        found = con.execute(
            f"SELECT DISTINCT lower(triage_trim(CAST({col.name} AS VARCHAR))) AS v FROM _stage"
            f" WHERE list_contains(?::VARCHAR[], lower(triage_trim(CAST({col.name}"
            " AS VARCHAR)))) ORDER BY v", [list(PLACEHOLDERS)]).fetchall()
        if found:
            out[col.name] = [str(r[0]) for r in found]
    return out


def _decimal_comma(con: Any, column: str) -> FormatGuess | None:
    """("decimal_comma", an example) when a number column's values that are not numbers
    (1234,56) all read as numbers with a decimal comma, ("thousands_comma", an example) when
    they all have thousands commas (1,250) and a decimal point elsewhere (980.50) rules out a
    decimal comma; None otherwise."""
    text = f"triage_trim(CAST({column} AS VARCHAR))"
    rows = con.execute(
        f"SELECT DISTINCT {text} FROM _stage WHERE {column} IS NOT NULL AND {text} <> ''"
        f" AND TRY_CAST({text} AS DOUBLE) IS NULL LIMIT {SAMPLE}").fetchall()
    values = [r[0] for r in rows]
    if not values:
        return None
    dotted = con.execute(  # 980.50: a decimal point, so the commas are not decimal ones
        f"SELECT 1 FROM _stage WHERE {column} IS NOT NULL AND"
        f" regexp_full_match({text}, '-?[0-9]*\\.[0-9]{{1,2}}|-?[0-9]*\\.[0-9]{{4,}}')"
        " LIMIT 1").fetchall()
    if all(re.fullmatch(mapping_rules.THOUSANDS_RE, v) for v in values):
        # 1,250 may be 1.25 or 1250: guessed only when a decimal point elsewhere says which
        pointed = dotted or any("." in v for v in values)  # 1,234.56 says it too
        return FormatGuess(mapping_rules.THOUSANDS_COMMA, values[0]) if pointed else None
    if not all(re.fullmatch(mapping_rules._DECIMAL_COMMA_RE, v) for v in values):
        return None
    return None if dotted else FormatGuess(mapping_rules.DECIMAL_COMMA, values[0])


def _unmatched(con: Any, column: str, allowed: tuple[str, ...]) -> list[tuple[str, int]]:
    text = f"triage_trim(CAST({column} AS VARCHAR))"
    # a whole-number scale (csat 1-5) is read as numbers: "3.0" (an export's float) is 3
    numbers = (f" AND coalesce(TRY_CAST({text} AS DOUBLE) NOT IN"
               f" ({', '.join(repr(float(a)) for a in allowed)}), true)"
               if allowed and all(a.isdigit() for a in allowed) else "")
    rows = con.execute(
        f"SELECT CAST({column} AS VARCHAR) AS v, count(*) FROM _stage"
        f" WHERE {column} IS NOT NULL AND triage_trim({column}) <> ''"
        f" AND lower({text}) NOT IN ({validation.sql_literal_list(allowed)}){numbers}"
        f" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MAX_VALUES}").fetchall()
    return [(str(v), int(n)) for v, n in rows]


