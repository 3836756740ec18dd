"""The database connection: one DuckDB file (or ``:memory:``) with the triage schema.

Every query of the library goes through a :class:`Store`, which always binds parameters.
A store is shared by threads through :meth:`Store.cursor` (one cursor per thread).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from triage_core.errors import DatabaseBusyError, TriageError
from triage_core.schema import IMPORT_TABLES
from triage_core.store.identifiers import quote_ident
from triage_core.store.memory import import_memory_limit, memory_limit
from triage_core.store.migrations import MIGRATIONS, TRIM_MACRO, TS_MACRO

if TYPE_CHECKING:
    import pandas as pd

    from triage_core.store.importing import ImportResult

ENV_DB = "TRIAGE_DB"
DEFAULT_DB = "triage.duckdb"
# what DuckDB raises when a connection is closed while one of its cursors runs a query (older
# DuckDB versions wait instead, and have no such class: nothing to catch)
_BUSY: Any = getattr(duckdb, "ResourceInUseException", ())

Params = Sequence[Any] | Mapping[str, Any] | None

# imports running per database file in this process (see Store.import_memory)
_IMPORTS: dict[str, int] = {}
_IMPORTS_LOCK = threading.Lock()


def default_db_path() -> Path:
    """The database used when no --db is given: $TRIAGE_DB, else ./triage.duckdb."""
    return Path(os.environ.get(ENV_DB) or DEFAULT_DB)


def _locked_by_another_process(path: str) -> bool:
    """Whether another process holds DuckDB's lock on ``path`` (asked only after opening it
    failed, so this process holds no lock that closing the probe could release)."""
    import fcntl

    try:
        with open(path, "rb") as fh:
            fcntl.lockf(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return True
    except OSError:
        return False
    return False


# DuckDB types that insert_columns sends as Arrow, and their Arrow types
_ARROW_TYPES = {"VARCHAR": "string", "UBIGINT": "uint64", "BIGINT": "int64",
                "INTEGER": "int32", "DOUBLE": "float64", "BOOLEAN": "bool_",
                "TIMESTAMP": "timestamp"}


def _arrow_table(columns: Mapping[str, Sequence[Any]], types: Mapping[str, str]) -> Any:
    """``columns`` as an Arrow table of ``types``; None when a type has no twin in
    ``_ARROW_TYPES`` or a value does not convert as it is (the caller binds lists instead,
    which DuckDB casts)."""
    import pyarrow as pa

    if any(types[c] not in _ARROW_TYPES for c in columns):
        return None
    fields = [pa.field(c, pa.timestamp("us") if types[c] == "TIMESTAMP"
                       else getattr(pa, _ARROW_TYPES[types[c]])()) for c in columns]
    try:
        return pa.Table.from_pydict({c: list(v) for c, v in columns.items()},
                                    schema=pa.schema(fields))
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None


class Store:
    """A DuckDB database file (or ``:memory:``) with the triage schema."""

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False,
                 threads: int | None = None) -> None:
        """``threads``: DuckDB's threads (None: its default, one per core)."""
        self.path = str(path)
        self.read_only = read_only
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            if _locked_by_another_process(self.path):
                raise DatabaseBusyError(
                    f"{self.path}: another program is using this database (a 'triage' command"
                    " or the dashboard); wait for it, or run 'triage serve' so they share it"
                ) from None
            first = str(exc).splitlines()[0]
            raise TriageError(f"{self.path}: cannot open database ({first})") from None
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")
        if self.path != ":memory:":
            self._con.execute(f"SET memory_limit = '{memory_limit()}'")
        if threads:  # a setting of the database instance, which this process's other
            # connections to the file share (a connection opened with another configuration
            # would be refused); SET takes no parameter: an int, checked here
            self._con.execute(f"SET threads = {int(threads):d}")
        self._lock = threading.RLock()
        self._in_tx = False
        self._order_to_reset = False  # an unordered write is running (write_frame)
        self._macros = False
        self._refuse_foreign()
        if not read_only:
            self.migrate()

    def _refuse_foreign(self) -> None:
        """Refuse (and close) a DuckDB file of another program: tables but none of ours. The
        migrations would add ours beside them, or fail half-way on a table of the same name."""
        tables = [r[0] for r in self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            " AND table_catalog = current_database() ORDER BY table_name").fetchall()]
        if tables and "schema_version" not in tables:
            self._con.close()
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise TriageError(f"{self.path}: not a ticket-triage database (it holds other tables:"
                              f" {shown}); give --db a new file, or one that 'triage demo' or"
                              " 'triage import' made")

    # -- connection ---------------------------------------------------------------------------
    def close(self, wait_seconds: float = 0.0) -> None:
        """Close the connection. DuckDB refuses while a cursor's query still runs on it; with
        ``wait_seconds`` the close waits up to that long for such a query to end (a server
        that stops while a page is loading), then raises as before."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                self._con.close()
                return
            except _BUSY:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cursor(self) -> Store:
        """A store sharing this database through its own cursor (one per thread)."""
        child = object.__new__(Store)
        child.path = self.path
        child.read_only = self.read_only
        child._con = self._con.cursor()
        child._con.execute("SET TimeZone = 'UTC'")
        child._macros = False
        child._lock = threading.RLock()
        child._in_tx = False
        child._order_to_reset = False
        return child

    @contextmanager
    def import_memory(self) -> Iterator[None]:
        """Run an import under :func:`import_memory_limit`, then go back to
        :func:`memory_limit`. The setting is the database's, shared by every cursor of this
        process: it goes back only when the last import running on the database ends (the
        server imports on several cursors at once). In-memory databases (DuckDB's own default)
        change nothing."""
        if self.path == ":memory:":
            yield
            return
        key = os.path.realpath(self.path)
        with _IMPORTS_LOCK:
            if not _IMPORTS.get(key):
                self._con.execute(f"SET memory_limit = '{import_memory_limit()}'")
            _IMPORTS[key] = _IMPORTS.get(key, 0) + 1
        try:
            yield
        finally:
            with _IMPORTS_LOCK:
                _IMPORTS[key] -= 1
                if not _IMPORTS[key]:
                    del _IMPORTS[key]
                    # an import whose COMMIT broke the database leaves nothing to set; one
                    # that failed inside a transaction cannot set it until the rollback (and
                    # its own error, not this one, must reach the caller)
                    with contextlib.suppress(duckdb.FatalException, duckdb.TransactionException):
                        self._con.execute(f"SET memory_limit = '{memory_limit()}'")

    def interrupt(self) -> None:
        """Abandon the query this cursor runs (called from another thread; the query raises
        DuckDB's InterruptException in its own)."""
        self._con.interrupt()

    def raw_connection(self) -> Any:
        """The DuckDB connection, for the store package's own modules (importing), with the
        import macros (``triage_ts``, ``triage_trim``) defined on it. They are defined here,
        when first needed, not for every cursor: a page's query on its own cursor needs none
        and defining them costs more than the cursor itself. Defined inside a transaction, they
        go with its rollback (a refused import): then they are defined again next time."""
        if not self._macros or self._in_tx:
            self._con.execute(TS_MACRO)
            self._con.execute(TRIM_MACRO)
            self._macros = not self._in_tx
        return self._con

    def lock(self) -> threading.RLock:
        return self._lock

    def in_transaction(self) -> bool:
        """True inside :meth:`transaction` on this store (each cursor has its own)."""
        return self._in_tx

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
            sql = f"SELECT count(*) FROM {quote_ident(t)}"
            out[t] = int(self._con.execute(sql).fetchall()[0][0])
        return out

    # -- queries ------------------------------------------------------------------------------
    def query(self, sql: str, params: Params = None) -> pd.DataFrame:
        """Run a SELECT with bound parameters and return a DataFrame (the one DuckDB's
        ``.df()`` gives, built about twice as fast by way of Arrow: ``frames``)."""
        import pandas as pd

        from triage_core.store.frames import to_frame

        with self._lock:
            rel = self._con.sql(sql, params=params or None)
            if rel is None:  # a statement with no result
                return pd.DataFrame()
            return to_frame(rel.to_arrow_table(), self._from_arrow)

    def _from_arrow(self, table: Any) -> pd.DataFrame:
        return self._con.from_arrow(table).df()

    def query_arrow(self, sql: str, params: Params = None) -> Any:
        with self._lock:
            return self._con.sql(sql, params=params or None).to_arrow_table()

    def rows(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a statement with bound parameters; its rows as dicts (no DataFrame: cheap for
        a few rows)."""
        with self._lock:
            cur = self._con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def scalar(self, sql: str, params: Params = None) -> Any:
        with self._lock:
            rows = self._con.execute(sql, params or []).fetchall()  # leaves no open result
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Params = None) -> None:
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
                if self._order_to_reset:  # an unordered write failed (see write_frame)
                    self._con.execute("RESET preserve_insertion_order")
                    self._order_to_reset = False
                raise
            else:
                self._con.execute("COMMIT")
            finally:
                self._in_tx = False

    def write_frame(self, table: str, df: Any, mode: str = "replace",
                    key: Sequence[str] | None = None,
                    types: Mapping[str, str] | None = None, ordered: bool = True) -> None:
        """Write a DataFrame (or Arrow table) as ``table``.

        ``replace`` recreates the table, ``append`` inserts, ``upsert`` replaces rows with the same
        ``key`` (the table must exist with that primary key). ``types`` (column -> DuckDB type, a
        fixed name in code) casts those columns, so a column that happens to be empty in this
        frame still gets its real type (an all-None column would otherwise be typed NULL, and
        every later write of a value into it would fail).

        ``ordered=False`` (a table whose rows are always read sorted or aggregated) lets
        DuckDB's threads write their rows in any order: full row groups, where a table written
        in order is left with part-filled ones that the next checkpoint rewrites (1M scored
        tickets: 1.4-1.8 s added to whichever write comes next, e.g. a small import).
        """
        if mode not in ("replace", "append", "upsert"):
            raise ValueError(f"unknown write mode {mode!r}")
        if mode == "upsert" and not key:
            raise ValueError("upsert needs a key")
        name = quote_ident(table)
        # an Arrow table's ``columns`` are its arrays; its names are ``column_names``
        cols = list(df.column_names) if hasattr(df, "column_names") else list(df.columns)
        select = ", ".join(
            f"CAST({quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}" if types and c in types
            else quote_ident(c) for c in cols)
        sql = {"replace": f"CREATE OR REPLACE TABLE {name} AS SELECT {select} FROM {{view}}",
               "append": f"INSERT INTO {name} BY NAME SELECT {select} FROM {{view}}",
               "upsert": f"INSERT OR REPLACE INTO {name} BY NAME SELECT {select} FROM {{view}}"
               }[mode]
        if ordered:
            self._with_frame(df, "_frame", lambda view: self._con.execute(sql.format(view=view)))
            return

        def unordered(view: str) -> None:
            # a connection setting, not rolled back: when the write fails, the transaction is
            # aborted and takes no more statements, so the rollback resets it
            self._con.execute("SET preserve_insertion_order = false")
            self._order_to_reset = True
            self._con.execute(sql.format(view=view))
            self._con.execute("RESET preserve_insertion_order")
            self._order_to_reset = False

        self._with_frame(df, "_frame", unordered)

    def insert_columns(self, table: str, columns: Mapping[str, Sequence[Any]],
                       types: Mapping[str, str], replace: bool = False) -> None:
        """Insert rows given column by column (cast to ``types``, trusted type names from
        code): one statement whatever the number of rows, with no DataFrame to build.
        ``replace``: rows with the same primary key are replaced.

        The columns go to DuckDB as one Arrow table, read by DuckDB's replacement scan of this
        function's local variable (no view to register and drop), when every type has an
        Arrow twin and the values convert as they are; else as one bound list per column,
        which DuckDB casts (about 1 ms more for a few rows of 42 columns: it plans 42
        unnests)."""
        names = list(columns)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        into = f"{verb} INTO {quote_ident(table)} ({', '.join(quote_ident(c) for c in names)})"
        triage_rows = _arrow_table(columns, types)  # read by name by DuckDB below
        with self._lock:
            if triage_rows is not None:
                self._con.execute(f"{into} SELECT * FROM triage_rows")
                return
            select = ", ".join(f"unnest(?::{types[c]}[])" for c in names)
            self._con.execute(f"{into} SELECT {select}", [list(columns[c]) for c in names])

    def delete_where_in(self, table: str, column: str, values: Sequence[Any]) -> None:
        """Delete rows whose ``column`` is in ``values`` (identifiers must be trusted names)."""
        if not values:
            return
        import pandas as pd

        sql = (f"DELETE FROM {quote_ident(table)} WHERE {quote_ident(column)}"
               " IN (SELECT v FROM {view})")
        self._with_frame(pd.DataFrame({"v": list(values)}), "_del",
                         lambda view: self._con.execute(sql.format(view=view)))

    def _with_frame(self, frame: Any, prefix: str, run: Callable[[str], Any]) -> None:
        """Run ``run(view)`` with ``frame`` registered as a private view, in a transaction."""
        view = f"{prefix}_{threading.get_ident()}"
        with self._lock, self.transaction():
            self._con.register(view, frame)
            try:
                run(view)
            finally:  # an error above aborted the transaction: let that error surface
                with contextlib.suppress(duckdb.Error):
                    self._con.unregister(view)

    # -- import (see triage_core.store.importing) -------------------------------------------
    def import_file(self, table: str, path: str | Path, preset: str | None = None,
                    mapping: Mapping[str, str] | None = None,
                    create_missing: bool = False) -> ImportResult:
        """Validate ``path`` and upsert it into ``table`` in one transaction, or refuse it whole."""
        from triage_core.store import importing

        return importing.import_file(self, table, path, preset, mapping, create_missing)

    def import_frame(self, table: str, frame: pd.DataFrame, source: str = "<data frame>",
                     preset: str | None = None, mapping: Mapping[str, str] | None = None,
                     create_missing: bool = False) -> ImportResult:
        """Same as :meth:`import_file` for an in-memory DataFrame (dashboard uploads, demo)."""
        from triage_core.store import importing

        return importing.import_frame(self, table, frame, source, preset, mapping,
                                      create_missing)

    def import_directory(self, directory: str | Path,
                         progress: Callable[[str], None] | None = None) -> list[ImportResult]:
        """Import every known table file found in ``directory`` in reference order, atomically."""
        from triage_core.store import importing

        return importing.import_directory(self, directory, progress)
