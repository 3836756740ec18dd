"""The only module that talks to DuckDB.

It connects, creates and migrates the schema, runs parameterized queries for the rest of the
library, and imports files: read -> stage -> validate -> one transaction -> upsert. A refused file
raises :class:`ImportValidationError` naming the file, the row and the column, and the database is
left exactly as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from triage_core.errors import ImportValidationError, TriageError
from triage_core.schema import IMPORT_TABLES, Table, create_table_sql
from triage_core.store import mapping as importers

ENV_DB = "TRIAGE_DB"
DEFAULT_DB = "triage.duckdb"

# Timestamps: ISO 8601 with or without offset (converted to UTC), or "2026-03-01 14:30:00 +0000".
_TS_MACRO = """
CREATE OR REPLACE TEMP MACRO triage_ts(v) AS COALESCE(
    TRY_CAST(TRY_CAST(v AS TIMESTAMPTZ) AS TIMESTAMP),
    TRY_CAST(v AS TIMESTAMP),
    TRY_CAST(TRY_STRPTIME(CAST(v AS VARCHAR), '%Y-%m-%d %H:%M:%S %z') AS TIMESTAMP),
    TRY_CAST(TRY_STRPTIME(CAST(v AS VARCHAR), '%Y-%m-%d %H:%M %z') AS TIMESTAMP)
)
"""


def default_db_path() -> Path:
    """The database used when no --db is given: $TRIAGE_DB, else ./triage.duckdb."""
    import os

    return Path(os.environ.get(ENV_DB) or DEFAULT_DB)


# Forward-only migrations: (version, statements). Never edit a released one; append.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [create_table_sql(IMPORT_TABLES[t])
         for t in ("customers", "campaigns", "agents", "tickets", "touchpoints")],
    ),
    (
        2,
        [
            # model registry (registry.py): skops blobs, metrics, activation history
            """CREATE TABLE model_versions (
                version INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
                active BOOLEAN NOT NULL DEFAULT false, estimator VARCHAR, train_summary VARCHAR,
                metrics VARCHAR, n_train INTEGER, n_corrections INTEGER DEFAULT 0, note VARCHAR,
                model BLOB NOT NULL)""",
            """CREATE TABLE model_events (
                event_at TIMESTAMP NOT NULL, kind VARCHAR, version INTEGER, event VARCHAR,
                actor VARCHAR)""",
            # per-ticket model output (pipeline.py); text_hash finds new or changed tickets
            """CREATE TABLE triage_results (
                ticket_id VARCHAR PRIMARY KEY, text_hash UBIGINT, category VARCHAR,
                category_confidence DOUBLE, category_top VARCHAR, category_words VARCHAR,
                sentiment DOUBLE, sentiment_label VARCHAR, sentiment_words VARCHAR,
                severity INTEGER, severity_reasons VARCHAR, model_version INTEGER,
                scored_at TIMESTAMP)""",
            # named priority weight profiles (priority.py); the TOML defaults seed it
            """CREATE TABLE priority_profiles (
                name VARCHAR PRIMARY KEY, settings VARCHAR NOT NULL, updated_at TIMESTAMP)""",
            # feedback loop (feedback.py): corrections with audit trail and undo, CSAT surveys
            """CREATE TABLE feedback (
                feedback_id INTEGER PRIMARY KEY, ticket_id VARCHAR NOT NULL, field VARCHAR NOT NULL,
                old_value VARCHAR, new_value VARCHAR NOT NULL, comment VARCHAR, author VARCHAR,
                created_at TIMESTAMP NOT NULL, undone_at TIMESTAMP, undone_by VARCHAR)""",
            """CREATE TABLE settings (key VARCHAR PRIMARY KEY, value VARCHAR)""",
            create_table_sql(IMPORT_TABLES["csat_surveys"]),
        ],
    ),
    (
        3,
        [
            # The business rule "a correction beats a known label, which beats the model", in
            # one place. ticket_corrections: per ticket, the newest correction of each field
            # that is not undone (NULL where there is none).
            """CREATE OR REPLACE VIEW ticket_corrections AS
               SELECT ticket_id,
                      arg_max(new_value, feedback_id) FILTER (WHERE field = 'category')
                          AS category,
                      arg_max(new_value, feedback_id) FILTER (WHERE field = 'tier') AS tier,
                      arg_max(new_value, feedback_id) FILTER (WHERE field = 'sentiment')
                          AS sentiment,
                      bool_or(field = 'flag') AS flagged,
                      bool_or(field IN ('category', 'sentiment')) AS corrected
               FROM feedback WHERE undone_at IS NULL GROUP BY ticket_id""",
            # ticket_categories: every ticket's effective category and where it came from.
            """CREATE OR REPLACE VIEW ticket_categories AS
               SELECT k.ticket_id,
                      coalesce(c.category, k.category, r.category) AS category,
                      CASE WHEN c.category IS NOT NULL THEN 'correction'
                           WHEN k.category IS NOT NULL THEN 'label'
                           WHEN r.category IS NOT NULL THEN 'model' END AS category_source,
                      r.category AS predicted_category,
                      r.category_confidence AS model_confidence
               FROM tickets k
               LEFT JOIN ticket_corrections c USING (ticket_id)
               LEFT JOIN triage_results r USING (ticket_id)""",
        ],
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


@dataclass(frozen=True)
class ImportResult:
    table: str
    source: str
    rows_in_file: int
    new_rows: int
    existing_rows: int
    ignored_columns: tuple[str, ...]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal_list(values: Sequence[str]) -> str:
    """Render an allow-listed, code-defined set of constants (never user data) as SQL."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class Store:
    """A DuckDB database file (or ``:memory:``) with the triage schema."""

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise TriageError(f"{self.path}: cannot open database ({first})") from None
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")
        self._lock = threading.RLock()
        self._in_tx = False
        if not read_only:
            self.migrate()
        self._con.execute(_TS_MACRO)

    # -- connection ---------------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cursor(self) -> Store:
        """A store sharing this database through its own cursor (one per thread)."""
        child = object.__new__(Store)
        child.path = self.path
        child._con = self._con.cursor()
        child._con.execute("SET TimeZone = 'UTC'")
        child._con.execute(_TS_MACRO)
        child._lock = threading.RLock()
        child._in_tx = False
        return child

    # -- schema -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.table_exists("schema_version"):
            return 0
        row = self._con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
        return int(row[0] or 0)

    def migrate(self) -> int:
        """Bring the schema forward to the newest version; returns the version."""
        with self._lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP)"
            )
            current = self.schema_version()
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                with self.transaction():
                    for stmt in statements:
                        self._con.execute(stmt)
                    self._con.execute(
                        "INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [version]
                    )
            return self.schema_version()

    def table_exists(self, name: str) -> bool:
        row = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0]
        return bool(row[0])

    def columns(self, table: str) -> list[str]:
        rows = self._con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
            " ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        """Row count of every user table, in load order, then the others alphabetically."""
        names = [
            r[0]
            for r in self._con.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        ordered = [t for t in IMPORT_TABLES if t in names]
        ordered += [t for t in names if t not in ordered and t != "schema_version"]
        out = {}
        for t in ordered:
            sql = f"SELECT count(*) FROM {_quote_ident(t)}"
            out[t] = int(self._con.execute(sql).fetchall()[0][0])
        return out

    # -- queries ------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
              ) -> pd.DataFrame:
        """Run a SELECT with bound parameters and return a DataFrame."""
        with self._lock:
            return self._con.execute(sql, params or []).df()

    def query_arrow(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        with self._lock:
            return self._con.sql(sql, params=params or None).to_arrow_table()

    def scalar(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        with self._lock:
            rows = self._con.execute(sql, params or []).fetchall()  # leaves no open result
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        with self._lock:
            self._con.execute(sql, params or [])

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._con.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All statements inside land together or not at all (nesting joins the outer one)."""
        with self._lock:
            if self._in_tx:
                yield self
                return
            self._con.execute("BEGIN TRANSACTION")
            self._in_tx = True
            try:
                yield self
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            else:
                self._con.execute("COMMIT")
            finally:
                self._in_tx = False

    def write_frame(self, table: str, df: pd.DataFrame, mode: str = "replace",
                    key: Sequence[str] | None = None) -> None:
        """Write a DataFrame (or Arrow table) as ``table``.

        ``replace`` recreates the table, ``append`` inserts, ``upsert`` replaces rows with the same
        ``key`` (the table must exist with that primary key).
        """
        if mode not in ("replace", "append", "upsert"):
            raise ValueError(f"unknown write mode {mode!r}")
        name = _quote_ident(table)
        view = f"_frame_{threading.get_ident()}"
        with self._lock, self.transaction():
            self._con.register(view, df)
            try:
                if mode == "replace":
                    self._con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")
                elif mode == "append":
                    self._con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {view}")
                else:
                    if not key:
                        raise ValueError("upsert needs a key")
                    self._con.execute(f"INSERT OR REPLACE INTO {name} BY NAME SELECT * FROM {view}")
            finally:
                self._con.unregister(view)

    def delete_where_in(self, table: str, column: str, values: Sequence[Any]) -> None:
        """Delete rows whose ``column`` is in ``values`` (identifiers must be trusted names)."""
        if not values:
            return
        frame = pd.DataFrame({"v": list(values)})
        view = f"_del_{threading.get_ident()}"
        with self._lock, self.transaction():
            self._con.register(view, frame)
            try:
                self._con.execute(
                    f"DELETE FROM {_quote_ident(table)} WHERE {_quote_ident(column)}"
                    f" IN (SELECT v FROM {view})"
                )
            finally:
                self._con.unregister(view)

    # -- import -------------------------------------------------------------------------------
    def import_file(
        self,
        table: str,
        path: str | Path,
        preset: str | None = None,
        mapping: Mapping[str, str] | None = None,
        create_missing: bool = False,
    ) -> ImportResult:
        """Validate ``path`` and upsert it into ``table`` in one transaction, or refuse it whole."""
        spec = _table_spec(table)
        path = Path(path)
        name = path.name
        fmt = importers.detect_format(path)
        if not path.exists():
            raise ImportValidationError(name, "file not found")
        if path.stat().st_size == 0:
            raise ImportValidationError(name, "file is empty")
        if fmt in ("csv", "json"):
            importers.check_utf8(path, fmt)
        source_sql = {
            "csv": "SELECT * FROM read_csv(?, header = true, all_varchar = true,"
                   " strict_mode = true, null_padding = false)",
            "parquet": "SELECT * FROM read_parquet(?)",
            "json": "SELECT * FROM read_json(?, format = 'auto')",
        }[fmt]
        with self._lock:
            try:
                self._con.execute(
                    "CREATE OR REPLACE TEMP TABLE _raw AS SELECT row_number() OVER () AS _row, *"
                    f" FROM ({source_sql})",
                    [str(path)],
                )
            except duckdb.Error as exc:
                raise ImportValidationError(name, importers.describe_read_error(exc, fmt)) from None
            return self._import_staged(spec, name, preset, mapping, create_missing)

    def import_frame(
        self,
        table: str,
        frame: pd.DataFrame,
        source: str = "<data frame>",
        preset: str | None = None,
        mapping: Mapping[str, str] | None = None,
        create_missing: bool = False,
    ) -> ImportResult:
        """Same as :meth:`import_file` for an in-memory DataFrame (dashboard uploads, demo)."""
        spec = _table_spec(table)
        view = f"_upload_{threading.get_ident()}"
        with self._lock, self.transaction():
            self._con.register(view, frame)
            try:
                self._con.execute(
                    "CREATE OR REPLACE TEMP TABLE _raw AS SELECT row_number() OVER () AS _row, *"
                    f" FROM {view}"
                )
            finally:
                self._con.unregister(view)
            return self._import_staged(spec, source, preset, mapping, create_missing)

    def _import_staged(self, spec: Table, name: str, preset: str | None,
                       mapping: Mapping[str, str] | None, create_missing: bool) -> ImportResult:
        con = self._con
        try:
            raw_cols = [c for c in self.columns("_raw") if c != "_row"]
            plan = importers.plan_columns(spec, raw_cols, preset, mapping, name)
            n = int(con.execute("SELECT count(*) FROM _raw").fetchall()[0][0])
            if n == 0:
                raise ImportValidationError(name, "no data rows (the file has only a header)",
                                            row=1)
            select = ", ".join(
                f"{importers.source_expr(plan, col)} AS {col.name}"
                for col in spec.columns if col.name in plan.targets
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT _row, {select} FROM _raw")
            con.execute("DROP TABLE _raw")  # one staged copy at a time keeps memory down
            present = [c for c in spec.columns if c.name in plan.targets]
            self._validate(spec, present, plan, name)
            types = self._stage_types()
            conv = ", ".join(f"{_convert_expr(c, types.get(c.name, 'VARCHAR'))} AS {c.name}"
                             for c in present)
            con.execute(f"CREATE OR REPLACE TEMP TABLE _clean AS SELECT {conv} FROM _stage")
            key_join = " AND ".join(f"t.{k} = s.{k}" for k in spec.key)
            existing = int(con.execute(
                f"SELECT count(*) FROM _clean s JOIN {spec.name} t ON {key_join}"
            ).fetchall()[0][0])
            with self.transaction():
                if create_missing:
                    self._create_missing_refs(spec)
                else:
                    self._check_references(spec, name)
                cols = ", ".join(c.name for c in present)
                updates = [c.name for c in present if c.name not in spec.key]
                conflict = (
                    "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
                    if updates else "DO NOTHING"
                )
                con.execute(
                    f"INSERT INTO {spec.name} ({cols}) SELECT {cols} FROM _clean"
                    f" ON CONFLICT ({', '.join(spec.key)}) {conflict}"
                )
            return ImportResult(spec.name, name, n, n - existing, existing,
                                tuple(plan.ignored))
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise ImportValidationError(name, f"could not import: {first}") from None
        finally:
            for t in ("_raw", "_stage", "_clean"):
                con.execute(f"DROP TABLE IF EXISTS {t}")

    def _first_bad(self, where: str) -> tuple[int, Any] | None:
        rows = self._con.execute(
            f"SELECT _row, v FROM (SELECT _row, {where}) WHERE bad ORDER BY _row LIMIT 1"
        ).fetchall()
        return rows[0] if rows else None

    def _stage_types(self) -> dict[str, str]:
        rows = self._con.execute("SELECT column_name, data_type FROM information_schema.columns"
                                 " WHERE table_name = '_stage'").fetchall()
        return {str(n): str(t).upper() for n, t in rows}

    def _validate(self, spec: Table, present: list, plan: importers.ColumnPlan, name: str) -> None:
        con = self._con
        types = self._stage_types()
        for col in present:
            c = col.name
            label = plan.label(c)
            typed = _already_typed(col, types.get(c, "VARCHAR"))
            if col.required:
                empty = f"{c} IS NULL" if typed else \
                    f"({c} IS NULL OR trim(CAST({c} AS VARCHAR)) = '')"
                hit = self._first_bad(f"{c} AS v, {empty} AS bad FROM _stage")
                if hit:
                    raise ImportValidationError(name, "required value is empty", hit[0], label)
            nonempty = f"{c} IS NOT NULL" if typed else \
                f"{c} IS NOT NULL AND trim(CAST({c} AS VARCHAR)) <> ''"
            if typed and col.type == "TIMESTAMP":
                pass  # a Parquet/JSON timestamp column needs no parsing
            elif col.type == "TIMESTAMP":
                hit = self._first_bad(
                    f"{c} AS v, ({nonempty} AND triage_ts({c}) IS NULL) AS bad FROM _stage"
                )
                if hit:
                    raise ImportValidationError(
                        name,
                        f"cannot read {str(hit[1])[:40]!r} as a timestamp"
                        " (expected ISO 8601, e.g. 2026-03-01 14:30:00 or 2026-03-01T14:30:00Z)",
                        hit[0], label,
                    )
            elif col.type in ("INTEGER", "DOUBLE"):
                parsed = (f"CAST({c} AS DOUBLE)" if typed
                          else f"TRY_CAST(trim(CAST({c} AS VARCHAR)) AS DOUBLE)")
                check = f"{parsed} IS NULL OR isnan({parsed}) OR isinf({parsed})"
                if col.type == "INTEGER":
                    check += f" OR {parsed} <> round({parsed})"
                hit = self._first_bad(f"{c} AS v, ({nonempty} AND ({check})) AS bad FROM _stage")
                if hit:
                    kind = "a whole number" if col.type == "INTEGER" else "a number"
                    raise ImportValidationError(
                        name, f"{str(hit[1])[:40]!r} is not {kind}", hit[0], label
                    )
                for bound, op, word in ((col.min_value, "<", "at least"),
                                        (col.max_value, ">", "at most")):
                    if bound is None:
                        continue
                    hit = self._first_bad(
                        f"{c} AS v, ({nonempty} AND {parsed} {op} {float(bound)!r}) AS bad"
                        " FROM _stage"
                    )
                    if hit:
                        raise ImportValidationError(
                            name, f"{hit[1]!r} must be {word} {bound:g}", hit[0], label
                        )
            if col.allowed:
                hit = self._first_bad(
                    f"{c} AS v, ({nonempty} AND lower(trim(CAST({c} AS VARCHAR)))"
                    f" NOT IN ({_sql_literal_list(col.allowed)})) AS bad FROM _stage"
                )
                if hit:
                    raise ImportValidationError(
                        name,
                        f"{str(hit[1])[:40]!r} is not one of {', '.join(col.allowed)}",
                        hit[0], label,
                    )
        keys = ", ".join(spec.key)
        key_expr = ", ".join(
            k if _already_typed(spec.column(k), types.get(k, "VARCHAR"))
            else f"triage_ts({k})" if spec.column(k).type == "TIMESTAMP"
            else f"trim(CAST({k} AS VARCHAR))"
            for k in spec.key
        )
        any_dup = con.execute(
            f"SELECT 1 FROM _stage GROUP BY {key_expr} HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        if not any_dup:  # the common case: one cheap grouping, no window over every row
            return
        dup = con.execute(
            f"SELECT _row, first_row, {keys} FROM (SELECT _row, {keys},"
            f" min(_row) OVER (PARTITION BY {key_expr}) AS first_row FROM _stage)"
            " WHERE _row <> first_row ORDER BY _row LIMIT 1"
        ).fetchall()
        dup = dup[0] if dup else None
        if dup:
            shown = ", ".join(str(v) for v in dup[2:])
            raise ImportValidationError(
                name, f"duplicate {keys} {shown!r} (first seen in row {dup[1]})", dup[0],
                plan.label(spec.key[0]),
            )

    def _check_references(self, spec: Table, name: str) -> None:
        for ref in spec.references:
            hit = self._con.execute(
                f"SELECT _row, s.{ref.column} FROM _stage s WHERE NOT EXISTS ("
                f" SELECT 1 FROM {ref.table} t"
                f" WHERE t.{ref.target} = trim(CAST(s.{ref.column} AS VARCHAR)))"
                " ORDER BY _row LIMIT 1"
            ).fetchall()
            hit = hit[0] if hit else None
            if hit:
                raise ImportValidationError(
                    name,
                    f"{ref.column} {hit[1]!r} does not exist in {ref.table}"
                    f" (import {ref.table} first, or use --create-missing)",
                    hit[0],
                    ref.column,
                )

    def _create_missing_refs(self, spec: Table) -> None:
        for ref in spec.references:
            target = IMPORT_TABLES[ref.table]
            required = [c for c in target.columns if c.required and c.name != ref.target]
            if required:
                raise TriageError(
                    f"cannot create missing {ref.table}: they need {required[0].name}"
                )
            self._con.execute(
                f"INSERT INTO {ref.table} ({ref.target}) SELECT DISTINCT {ref.column} FROM _clean"
                f" WHERE {ref.column} NOT IN (SELECT {ref.target} FROM {ref.table})"
            )

    def import_directory(self, directory: str | Path,
                         progress: Callable[[str], None] | None = None) -> list[ImportResult]:
        """Import every known table file found in ``directory`` in reference order, atomically."""
        directory = Path(directory)
        results = []
        with self.transaction():
            for table in IMPORT_TABLES:
                for ext in ("parquet", "csv", "jsonl", "json"):
                    f = directory / f"{table}.{ext}"
                    if f.exists():
                        if progress:
                            progress(table)
                        results.append(self.import_file(table, f))
                        break
        return results


def _table_spec(table: str) -> Table:
    try:
        return IMPORT_TABLES[table]
    except KeyError:
        raise TriageError(
            f"unknown table {table!r}; choose one of {', '.join(IMPORT_TABLES)}"
        ) from None


_TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE",
                    "TIMESTAMP WITH TIME ZONE")
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE")


def _already_typed(col: Any, source_type: str) -> bool:
    """True when the file already holds this column in its own type (Parquet, JSON numbers)."""
    if col.type == "TIMESTAMP":
        return source_type in _TIMESTAMP_TYPES
    if col.type == "INTEGER":
        return source_type in _NUMBER_TYPES[:9]
    if col.type == "DOUBLE":
        return source_type in _NUMBER_TYPES or source_type.startswith("DECIMAL")
    return False


def _convert_expr(col: Any, source_type: str = "VARCHAR") -> str:
    c = col.name
    if _already_typed(col, source_type):
        return f"CAST({c} AS {col.type})"
    text = f"NULLIF(trim(CAST({c} AS VARCHAR)), '')"
    if col.type == "TIMESTAMP":
        return f"triage_ts(NULLIF(CAST({c} AS VARCHAR), ''))"
    if col.type == "INTEGER":
        return f"CAST(round(CAST({text} AS DOUBLE)) AS INTEGER)"
    if col.type == "DOUBLE":
        return f"CAST({text} AS DOUBLE)"
    if col.allowed:
        return f"lower({text})"
    return text
