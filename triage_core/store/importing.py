"""Importing a file or a DataFrame: read -> stage -> validate -> one transaction -> upsert.

A refused input raises :class:`ImportValidationError` naming the file, the row (counted from 1
after the header) and the column, and the database is left exactly as it was. Staging tables
are temporary and private to the connection (``_raw`` -> ``_stage`` -> ``_clean``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from triage_core.errors import ImportValidationError, TriageError
from triage_core.schema import IMPORT_TABLES, Column, Table
from triage_core.store import formats, json_files
from triage_core.store import mapping as mapping_rules
from triage_core.store.identifiers import quote_ident
from triage_core.store.mapping import ImportMapping, normalize_name
from triage_core.store.retry import Raced, retry_on_conflict
from triage_core.store.validation import (
    Validator,
    convert_expr,
    key_sql,
    stage_types,
)

if TYPE_CHECKING:
    import pandas as pd

    from triage_core.store.connection import Store

# An e-mail address as a customer id (RE2, as DuckDB runs it): compared without its case
_ADDRESS = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"


@dataclass(frozen=True)
class ImportResult:
    table: str
    source: str
    rows_in_file: int
    new_rows: int
    existing_rows: int
    ignored_columns: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def table_spec(table: str) -> Table:
    try:
        return IMPORT_TABLES[table]
    except KeyError:
        raise TriageError(
            f"unknown table {table!r}; choose one of {', '.join(IMPORT_TABLES)}"
        ) from None


def resolve_mapping(store: Store, spec: Table,
                    mapping: ImportMapping | str | Mapping[str, str] | None,
                    preset: str | None = None) -> ImportMapping | None:
    """The mapping to use: an :class:`ImportMapping`; a path to a mapping TOML file; the name of a
    saved mapping or of a shipped preset; or ``--map`` pairs ``{file column: our column}``."""
    from triage_core.store import saved_mappings

    chosen = mapping_rules.preset(preset) if preset else None
    if mapping is None or isinstance(mapping, ImportMapping):
        return mapping or chosen
    if isinstance(mapping, str):
        return saved_mappings.load(store, mapping)
    base = chosen or ImportMapping()
    for theirs, ours in mapping.items():
        if ours not in spec.column_names:
            raise TriageError(f"--map {theirs}={ours}: {spec.name} has no column {ours!r}"
                              f" (columns: {', '.join(spec.column_names)})")
    return base.with_overrides(mapping)


def import_file(store: Store, table: str, path: str | Path, preset: str | None = None,
                mapping: ImportMapping | str | Mapping[str, str] | None = None,
                create_missing: bool = False) -> ImportResult:
    """Validate ``path`` and upsert it into ``table`` in one transaction, or refuse it whole."""
    spec = table_spec(table)
    path = Path(path)
    chosen = resolve_mapping(store, spec, mapping, preset)
    with store.lock(), store.import_memory():
        try:
            load_raw_file(store, path, table)
        except json_files.EmptyPage as empty:  # an export's page with nothing new
            drop_staging(store)
            return ImportResult(table, path.name, 0, 0, 0, (), (
                f"{path.name}: nothing to import (its {empty.key!r} list is empty, as an"
                " incremental export's page is when nothing changed); the database is"
                " unchanged",))
        return _Importer(store, spec, path.name).run(chosen, create_missing)


def import_frame(store: Store, table: str, frame: pd.DataFrame, source: str = "<data frame>",
                 preset: str | None = None,
                 mapping: ImportMapping | str | Mapping[str, str] | None = None,
                 create_missing: bool = False) -> ImportResult:
    """Same as :func:`import_file` for an in-memory DataFrame (dashboard uploads, demo)."""
    spec = table_spec(table)
    chosen = resolve_mapping(store, spec, mapping, preset)

    def attempt() -> ImportResult:
        with store.lock(), store.import_memory(), store.transaction():
            load_raw_frame(store, frame)
            return _Importer(store, spec, source).run(chosen, create_missing)

    # run again when it loses to another writer's commit (inside a caller's transaction, the
    # caller's is what runs again)
    return retry_on_conflict(store, attempt)


def load_raw_file(store: Store, path: Path, table: str | None = None) -> None:
    """The file's rows, as they are, in the temp table ``_raw`` (with a row number). JSON
    records are read as text (:mod:`json_files`; ``table`` names the keys that may wrap
    them)."""
    fmt = formats.check_readable(path)
    try:
        if fmt == "json":
            json_files.load(store.raw_connection(), path, table)
            return
        if fmt == "csv":
            formats.check_csv_shape(store.raw_connection(), path)
        con = store.raw_connection()
        reader, params = (formats.parquet_reader(con, path) if fmt == "parquet"
                          else (formats.READERS[fmt], [str(path)]))
        con.execute("CREATE OR REPLACE TEMP TABLE _raw AS SELECT row_number() OVER () AS _row,"
                    f" * FROM ({reader})", params)
    except duckdb.Error as exc:
        if _out_of_memory(exc):
            raise failure(path.name, exc) from None
        where = json_files.locate_error(path) if fmt == "json" else None
        if fmt == "csv":  # the sniffer looked at the start only: walk the file for the row
            with path.open("rb") as fh:
                header = fh.readline().decode("utf-8", errors="replace")
            problem = formats.csv_problem(path, header)
            if problem is not None:
                raise ImportValidationError(path.name, problem[1], problem[0]) from None
        reason = (f"cannot read the file as JSON: {where}" if where
                  else formats.describe_read_error(exc, fmt, path))
        raise ImportValidationError(path.name, reason) from None


def load_raw_frame(store: Store, frame: pd.DataFrame) -> None:
    """A DataFrame's rows in the temp table ``_raw`` (with a row number)."""
    con = store.raw_connection()
    view = f"_upload_{threading.get_ident()}"
    con.register(view, frame)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _raw AS SELECT row_number() OVER () AS _row,"
                    f" * FROM {view}")
    finally:
        con.unregister(view)


# Zendesk's ticket types (a fixed set every Zendesk account has; Freshdesk's default types
# start with the same), not its issue categories
TICKET_TYPES = frozenset({"question", "incident", "problem", "task"})
# Jira's issue types (a Jira Service Management export's "Issue Type")
ISSUE_TYPES = frozenset({"bug", "task", "story", "epic", "sub-task", "subtask", "improvement",
                         "new feature", "service request", "incident", "change", "problem",
                         "service request with approvals", "post-incident review"})
# What a guessed "Type" column may hold that is no issue category, and how it is named
_NOT_CATEGORIES = ((TICKET_TYPES, "Zendesk's and Freshdesk's built-in ticket types"),
                   (ISSUE_TYPES, "Jira's issue types"),
                   (frozenset(mapping_rules.BUILTIN_VALUES["channel"]), "channels"))


def not_categories(store: Store, guesses: Mapping[str, str]) -> dict[str, str]:
    """{"category": why} when the file's column guessed as the category (a "Type" column of
    ``_raw``) holds only Zendesk's ticket types, Jira's issue types or channels (Help Scout's
    type: email, chat, phone), or one value for every row (Intercom's type: conversation):
    training on them would learn question/incident/problem/task or the channel, not what the
    tickets are about (a file of fewer than 10 rows may hold one category). Else {}."""
    src = guesses.get("category")
    if src is None:
        return {}
    quoted = '"' + src.replace('"', '""') + '"'
    values = {r[0] for r in store.raw_connection().execute(
        f"SELECT DISTINCT lower(trim(CAST({quoted} AS VARCHAR))) FROM _raw LIMIT 20"
    ).fetchall()} - {None, "", "-"}
    # Jira Cloud names its built-in types "[System] Incident", "[System] Service request"
    values = {re.sub(r"^\[system\]\s*", "", v) for v in values}
    if not values:
        return {}
    not_ours = (" not issue categories: not mapped; map a column of your own categories (a"
              " custom field, the group) if the export has one")
    for known, name in _NOT_CATEGORIES:
        if values <= known:
            return {"category": f"{src!r} holds {name} ({', '.join(sorted(values))}),{not_ours}"}
    if len(values) == 1 and normalize_name(src) in ("type", "kind") and int(
            store.raw_connection().execute("SELECT count(*) FROM _raw").fetchall()[0][0]) >= 10:
        return {"category": f"{src!r} holds one value for every row ({next(iter(values))!r}),"
                            f"{not_ours}"}
    return {}


def stage(store: Store, spec: Table, mapping: ImportMapping | None, name: str,
          updates: bool = False) -> tuple[mapping_rules.ColumnPlan, int]:
    """Map ``_raw`` into ``_stage`` (our columns, values mapped, not yet checked).
    ``updates``: a file with the key but not every required column may update existing rows
    (see :func:`mapping_rules.plan_columns`)."""
    con = store.raw_connection()
    raw_cols = [c for c in store.columns("_raw") if c != "_row"]
    plan = mapping_rules.plan_columns(spec, raw_cols, mapping, name, updates=updates)
    if spec.name == "tickets" and "category" not in plan.present and not_categories(
            store, mapping_rules.guess_columns(spec, plan.ignored)):
        # no "'Type' (-> category?)" hint for Zendesk's ticket types
        plan = mapping_rules.plan_columns(spec, raw_cols, mapping, name, hint=False,
                                          updates=updates)
    _whole_numbers_in_raw(con, spec, plan)
    n = int(con.execute("SELECT count(*) FROM _raw").fetchall()[0][0])
    exprs, params = [], []
    for col in spec.columns:
        if col.name in plan.present:
            sql, values = mapping_rules.value_cases(plan, col)
            exprs.append(f"{sql} AS {col.name}")
            params += values
    con.execute("CREATE OR REPLACE TEMP TABLE _stage AS SELECT _row,"
                f" {', '.join(exprs)} FROM _raw", params)
    return plan, n


_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _whole_numbers_in_raw(con: Any, spec: Table, plan: mapping_rules.ColumnPlan) -> None:
    """The file's floating-point columns that feed a text column of ours (ids above all), as
    text with whole numbers written without a decimal, before values are mapped: pandas writes
    an id column with gaps as float64 to Parquet, and 3600001.0 must be the agent 3600001, not
    '3600001.0', also where a mapping's value map reads the column as text (a Freshdesk source
    code 7.0 is its code 7)."""
    text_targets = {plan.targets[c.name] for c in spec.columns
                    if c.type == "VARCHAR" and c.name in plan.targets}
    if not text_targets:
        return
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns"
                       " WHERE table_name = '_raw'").fetchall()
    for name, kind in rows:
        kind = str(kind).upper()
        if name not in text_targets or not (kind in _FLOAT_TYPES or kind.startswith("DECIMAL")):
            continue
        c = '"' + str(name).replace('"', '""') + '"'
        con.execute(f"ALTER TABLE _raw ALTER {c} TYPE VARCHAR USING CASE WHEN {c} = trunc({c})"
                    f" AND abs({c}) < 1e18 THEN CAST(CAST({c} AS HUGEINT) AS VARCHAR)"
                    f" ELSE CAST({c} AS VARCHAR) END")


def drop_staging(store: Store) -> None:
    try:
        for t in ("_raw", "_stage", "_clean"):
            store.raw_connection().execute(f"DROP TABLE IF EXISTS {t}")
    except duckdb.FatalException:  # a failed COMMIT broke the connection: the tables went too
        pass


def _out_of_memory(exc: duckdb.Error) -> bool:
    return (isinstance(exc, duckdb.OutOfMemoryException)
            or "could not allocate" in str(exc).split("\n", 1)[0])


def failure(name: str, exc: duckdb.Error) -> ImportValidationError:
    """The one-line refusal for a DuckDB error during an import (nothing was written)."""
    first = str(exc).splitlines()[0]
    if _out_of_memory(exc):
        from triage_core.store.memory import ENV_IMPORT_MEMORY, import_memory_limit

        return ImportValidationError(
            name, f"could not import: DuckDB ran out of memory (limit {import_memory_limit()},"
            f" ${ENV_IMPORT_MEMORY}); nothing was written. Give it more, e.g."
            f" {ENV_IMPORT_MEMORY}=8GB, or import the file in parts")
    return ImportValidationError(name, f"could not import: {first}")


def import_directory(store: Store, directory: str | Path,
                     progress: Callable[[str], None] | None = None) -> list[ImportResult]:
    """Import every known table file found in ``directory`` in reference order, atomically."""
    directory = Path(directory)
    results = []
    with store.import_memory():
        try:
            with store.transaction():
                for table in IMPORT_TABLES:
                    for ext in ("parquet", "csv", "jsonl", "json"):
                        f = directory / f"{table}.{ext}"
                        if f.exists():
                            if progress:
                                progress(table)
                            results.append(import_file(store, table, f))
                            break
        except duckdb.Error as exc:  # the COMMIT of them all
            raise failure(directory.name, exc) from None
    return results


_UNNAMED = re.compile(r"column\d+")  # DuckDB's name for a column whose header cell is empty


class _Importer:
    """One staged import into ``spec``; the raw rows are in the temp table ``_raw``."""

    def __init__(self, store: Store, spec: Table, name: str) -> None:
        self.store = store
        self.con = store.raw_connection()
        self.spec = spec
        self.name = name
        self.label: Callable[[str], str] = str  # our column -> the file's (once staged)

    def _named_or_filled(self, ignored: Sequence[str]) -> list[str]:
        """``ignored`` without the columns a header left unnamed (DuckDB calls them
        ``column5``) that hold nothing: a trailing comma on every line of a spreadsheet's
        export made "ignored columns: column5" of an empty column."""
        unnamed = [c for c in ignored if _UNNAMED.fullmatch(c)]
        if not unnamed:
            return list(ignored)
        filled = self.con.execute("SELECT " + ", ".join(
            f"count(nullif(trim(CAST({quote_ident(c)} AS VARCHAR)), ''))" for c in unnamed)
            + " FROM _raw").fetchall()[0]
        empty = {c for c, n in zip(unnamed, filled, strict=True) if not n}
        return [c for c in ignored if c not in empty]

    def run(self, mapping: ImportMapping | None, create_missing: bool) -> ImportResult:
        try:
            raw_cols = [c for c in self.store.columns("_raw") if c != "_row"]
            plan, n = stage(self.store, self.spec, mapping, self.name, updates=True)
            self.label = plan.label
            if n == 0:
                if self.name.lower().endswith((".parquet", ".pq")):
                    raise ImportValidationError(self.name, "no data rows (the Parquet file has"
                                                " columns but no rows)")
                raise ImportValidationError(self.name, "no data rows (the file has only a"
                                            " header)", row=1)
            ignored = self._named_or_filled(plan.ignored)
            self.con.execute("DROP TABLE _raw")  # one staged copy at a time keeps memory down
            self._one_spelling_per_address()
            warnings = list(plan.warnings)
            kept = n
            if mapping is not None and mapping.duplicates == "last":
                dropped = self._keep_last()
                kept -= dropped
                if dropped:
                    warnings.append(
                        f"{self.name}: {dropped:,} row{'s' if dropped > 1 else ''} listed a"
                        f" {' and '.join(self.spec.key)} again further down; the last of each"
                        " was kept (the mapping's duplicates = \"last\")")
            unanswered = [k for k, v in (mapping.values.get("score", {}) if mapping else {}
                                         ).items() if v in (None, "")]
            if self.spec.name == "csat_surveys" and unanswered and "score" in plan.present:
                # a survey sent but not answered (Zendesk's "offered") is no rating: the
                # mapping that reads its score as empty says so
                dropped = self._drop_unanswered()
                kept -= dropped
                if dropped:
                    warnings.append(
                        f"{self.name}: {dropped:,} row{'s' if dropped > 1 else ''} had no score"
                        f" (the mapping reads {', '.join(map(repr, unanswered[:4]))} as empty:"
                        f" surveys sent but not answered) and {'were' if dropped > 1 else 'was'}"
                        " skipped")
            present = [c for c in self.spec.columns if c.name in plan.present]
            Validator(self.con, self.spec, present, plan, self.name).validate()
            self._clean(present)

            def write() -> int:
                with self.store.transaction():
                    if create_missing:
                        self._create_missing_refs(present)
                    else:
                        self._check_references(present)
                    existing = self._existing()
                    if plan.update_only:
                        self._only_existing(plan, raw_cols, existing)
                        self._update(present)
                    else:
                        self._upsert(present, none_exist=existing == 0)
                return existing

            # under `triage serve` the API's intake writes tickets meanwhile: a transaction
            # that loses to one of its commits is run again (inside an outer transaction, the
            # outer one is what runs again)
            existing = retry_on_conflict(self.store, write)
            return ImportResult(self.spec.name, self.name, n, kept - existing, existing,
                                tuple(ignored), tuple(warnings))
        except duckdb.Error as exc:
            raise failure(self.name, exc) from None
        finally:
            drop_staging(self.store)

    def _one_spelling_per_address(self) -> None:
        """A customer known by an e-mail address is one customer whatever the address's case
        ("Jane@Example.com" in a CRM's customers file, "jane@example.com" in a helpdesk's
        tickets). Each staged customer id that is an address and not stored as written takes
        the stored spelling of that address, else the first spelling this file gives it;
        before validation, so two rows of one key that differ only so are duplicates."""
        columns = [r.column for r in self.spec.references if r.table == "customers"]
        if self.spec.name == "customers":
            columns.append("customer_id")
        types = stage_types(self.con)
        for c in columns:
            if c not in types:
                continue  # an update that leaves the customer as it is
            if types[c] != "VARCHAR":
                continue  # numbers (a Parquet file's ids) hold no address
            if not self.con.execute(f"SELECT 1 FROM _stage WHERE regexp_matches({c}, ?)"
                                    " LIMIT 1", [_ADDRESS]).fetchall():
                continue  # no address: the customers are not looked at
            self.con.execute(
                f"UPDATE _stage SET {c} = m.spelling FROM ("
                f" SELECT k, coalesce(stored, first) AS spelling FROM ("
                f"  SELECT lower(triage_trim({c})) AS k, arg_min(triage_trim({c}), _row) AS first"
                f"  FROM _stage WHERE regexp_matches({c}, ?) GROUP BY 1) f"
                f" LEFT JOIN (SELECT lower(customer_id) AS k2, min(customer_id) AS stored"
                f"  FROM customers WHERE customer_id LIKE '%@%' GROUP BY 1) s ON s.k2 = f.k) m"
                f" WHERE lower(triage_trim(_stage.{c})) = m.k"
                f" AND triage_trim(_stage.{c}) <> m.spelling"
                f" AND NOT EXISTS (SELECT 1 FROM customers t"
                f"  WHERE t.customer_id = triage_trim(_stage.{c}))", [_ADDRESS])

    def _keep_last(self) -> int:
        """Drop the staged rows whose key comes again in a later row; how many were dropped."""
        types = stage_types(self.con)
        key_expr = key_sql(self.spec, types)
        # a row without its key is no repeat of another: validation names the first of them
        keyed = " AND ".join(
            f"{k} IS NOT NULL" if types.get(k, "VARCHAR") != "VARCHAR"
            else f"coalesce(triage_trim({k}), '') <> ''" for k in self.spec.key)
        before = int(self.con.execute("SELECT count(*) FROM _stage").fetchall()[0][0])
        self.con.execute(f"DELETE FROM _stage WHERE {keyed} AND _row NOT IN (SELECT max(_row)"
                         f" FROM _stage WHERE {keyed} GROUP BY {key_expr})")
        return before - int(self.con.execute("SELECT count(*) FROM _stage").fetchall()[0][0])

    def _drop_unanswered(self) -> int:
        """Drop the staged surveys whose score is empty; how many were dropped."""
        empty = ("score IS NULL" if stage_types(self.con).get("score", "VARCHAR") != "VARCHAR"
                 else "coalesce(triage_trim(score), '') = ''")
        before = int(self.con.execute("SELECT count(*) FROM _stage").fetchall()[0][0])
        self.con.execute(f"DELETE FROM _stage WHERE {empty}")
        return before - int(self.con.execute("SELECT count(*) FROM _stage").fetchall()[0][0])

    def _clean(self, present: list[Column]) -> None:
        """Convert the staged rows to our types in ``_clean``."""
        types = stage_types(self.con)
        conv = ", ".join(f"{convert_expr(c, types.get(c.name, 'VARCHAR'))} AS {c.name}"
                         for c in present)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _clean AS SELECT _row, {conv} FROM _stage")

    def _existing(self) -> int:
        """How many of the clean rows' keys the table holds (inside the import's transaction,
        so no other writer adds one before the insert)."""
        key_join = " AND ".join(f"t.{k} = s.{k}" for k in self.spec.key)
        return int(self.con.execute(
            f"SELECT count(*) FROM _clean s JOIN {self.spec.name} t ON {key_join}"
        ).fetchall()[0][0])

    def _upsert(self, present: list[Column], none_exist: bool = False) -> None:
        """Insert the clean rows, replacing those whose key exists. When none exists (a first
        import) a plain INSERT does the same (the file's own keys are unique: validated), and
        DuckDB inserts without looking each key up.

        A duplicate key can then only be another writer's (under `triage serve`, the API's
        intake) committed after this transaction began, which DuckDB reports as a constraint
        error for either statement: :class:`Raced`, so that the import runs again."""
        cols = ", ".join(c.name for c in present)
        insert = f"INSERT INTO {self.spec.name} ({cols}) SELECT {cols} FROM _clean"
        if not none_exist:
            updates = [c.name for c in present if c.name not in self.spec.key]
            conflict = ("DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
                        if updates else "DO NOTHING")
            insert += f" ON CONFLICT ({', '.join(self.spec.key)}) {conflict}"
        try:
            self.con.execute(insert)
        except duckdb.ConstraintException as exc:
            if "duplicate key" not in str(exc).lower():
                raise
            raise Raced(f"{self.spec.name}: a key of {self.name} was added by another writer"
                        " during the import") from exc

    def _only_existing(self, plan: mapping_rules.ColumnPlan, raw_cols: Sequence[str],
                       existing: int) -> None:
        """Refuse an update-only file (one without every required column) that names a row
        the table does not hold: with the missing columns as usual when it names none that
        exists (a first import that lacks them), else with the first new row."""
        if existing == 0:
            mapping_rules.require_columns(self.spec, raw_cols, plan, self.name)
        key_join = " AND ".join(f"t.{k} = s.{k}" for k in self.spec.key)
        new = self.con.execute(
            f"SELECT s._row, {', '.join(f's.{k}' for k in self.spec.key)} FROM _clean s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {self.spec.name} t WHERE {key_join})"
            " ORDER BY s._row LIMIT 1").fetchall()
        if new:
            keys = ", ".join(self.spec.key)
            shown = ", ".join(str(v)[:40] for v in new[0][1:])
            lacking = ", ".join(plan.update_only)
            raise ImportValidationError(
                self.name, f"{keys} {shown!r} is not in {self.spec.name}: a file without"
                f" {lacking} can only update the {self.spec.name} that exist; add"
                f" {'those columns' if len(plan.update_only) > 1 else 'that column'} to"
                " import new ones", new[0][0], self.label(self.spec.key[0]))

    def _update(self, present: list[Column]) -> None:
        """Update the existing rows with the clean rows' columns (every key exists)."""
        updates = [c.name for c in present if c.name not in self.spec.key]
        if not updates:
            return
        key_join = " AND ".join(f"{self.spec.name}.{k} = s.{k}" for k in self.spec.key)
        self.con.execute(f"UPDATE {self.spec.name} SET "
                         + ", ".join(f"{c} = s.{c}" for c in updates)
                         + f" FROM _clean s WHERE {key_join}")

    def _check_references(self, present: list[Column]) -> None:
        names = {c.name for c in present}
        for ref in self.spec.references:
            if ref.column not in names:
                continue  # an update that leaves the column as it is
            hit = self.con.execute(
                f"SELECT _row, s.{ref.column} FROM _stage s WHERE NOT EXISTS ("
                f" SELECT 1 FROM {ref.table} t"
                f" WHERE t.{ref.target} = triage_trim(s.{ref.column}))"
                " ORDER BY _row LIMIT 1"
            ).fetchall()
            if hit:
                raise ImportValidationError(
                    self.name, f"{ref.column} {str(hit[0][1])[:40]!r} does not exist in"
                    f" {ref.table}"
                    f" (import {ref.table} first, or use --create-missing;"
                    " create_missing=true in the API)", hit[0][0],
                    self.label(ref.column))

    def _create_missing_refs(self, present: list[Column]) -> None:
        names = {c.name for c in present}
        for ref in self.spec.references:
            if ref.column not in names:
                continue
            target = IMPORT_TABLES[ref.table]
            required = [c for c in target.columns if c.required and c.name != ref.target]
            if required:
                raise TriageError(
                    f"cannot create missing {ref.table}: they need {required[0].name}")
            self.con.execute(
                f"INSERT INTO {ref.table} ({ref.target}) SELECT DISTINCT {ref.column} FROM _clean"
                f" WHERE {ref.column} NOT IN (SELECT {ref.target} FROM {ref.table})")
