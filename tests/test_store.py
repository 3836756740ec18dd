from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pytest

from triage_core.errors import ImportValidationError, TriageError
from triage_core.schema import IMPORT_TABLES
from triage_core.store import SCHEMA_VERSION, Store
from triage_core.store import connection as store_mod


def test_schema_has_every_table_and_column(store: Store) -> None:
    for name, table in IMPORT_TABLES.items():
        assert store.table_exists(name)
        assert store.columns(name) == table.column_names
    assert store.schema_version() == SCHEMA_VERSION


def test_migrations_run_once_and_survive_reopen(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with Store(db) as s:
        s.execute("INSERT INTO customers (customer_id) VALUES (?)", ["C1"])
        first = s.schema_version()
    with Store(db) as s:
        assert s.schema_version() == first
        assert s.counts()["customers"] == 1
        assert s.scalar("SELECT count(*) FROM schema_version") == len(store_mod.MIGRATIONS)


def test_new_migration_applies_forward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "x.duckdb"
    Store(db).close()
    newer = SCHEMA_VERSION + 1000
    monkeypatch.setattr(store_mod, "MIGRATIONS", [
        *store_mod.MIGRATIONS, (newer, ["CREATE TABLE extra_thing (x INTEGER)"])
    ])
    with Store(db) as s:
        assert s.schema_version() == newer
        assert s.table_exists("extra_thing")


def test_query_binds_parameters(loaded_store: Store) -> None:
    evil = "C1' OR '1'='1"
    assert loaded_store.query("SELECT * FROM customers WHERE customer_id = ?", [evil]).empty
    df = loaded_store.query("SELECT * FROM customers WHERE customer_id = ?", ["C1"])
    assert df["lifetime_value"].tolist() == [120.5]


def test_transaction_rolls_back(loaded_store: Store) -> None:
    before = loaded_store.counts()
    with pytest.raises(RuntimeError), loaded_store.transaction():
        loaded_store.execute("DELETE FROM tickets")
        raise RuntimeError("boom")
    assert loaded_store.counts() == before


def test_timestamps_are_utc(loaded_store: Store) -> None:
    ts = loaded_store.scalar("SELECT created_at FROM customers WHERE customer_id = 'C2'")
    assert str(ts) == "2026-01-02 10:00:00"


def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    Store(db).close()
    db.write_bytes(b"this is not a database")
    from triage_core.errors import TriageError

    with pytest.raises(TriageError, match="cannot open database"):
        Store(db)


def test_a_database_held_by_another_process_is_said_in_words(tmp_path: Path) -> None:
    import subprocess
    import sys

    from triage_core.errors import DatabaseBusyError

    db = tmp_path / "held.duckdb"
    Store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from triage_core.store import Store;"
         f" s = Store({str(db)!r}); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseBusyError, match="another program is using this database"):
            Store(db)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    Store(db).close()  # free again once the other program is gone


def test_duckdb_memory_is_bounded_and_configurable(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def limit(s: Store) -> str:
        return str(s.scalar("SELECT current_setting('memory_limit')"))

    monkeypatch.delenv("TRIAGE_DUCKDB_MEMORY", raising=False)
    with Store(tmp_path / "a.duckdb") as s:
        assert limit(s) == "953.6 MiB"  # 1GB, as DuckDB shows it
        with s.cursor() as cur:  # cursors share the database's limit
            assert limit(cur) == "953.6 MiB"
    monkeypatch.setenv("TRIAGE_DUCKDB_MEMORY", "2GB")
    with Store(tmp_path / "a.duckdb") as s:
        assert limit(s) == "1.8 GiB"
    monkeypatch.setenv("TRIAGE_DUCKDB_MEMORY", "plenty; DROP TABLE tickets")
    with pytest.raises(TriageError, match="TRIAGE_DUCKDB_MEMORY"):
        Store(tmp_path / "a.duckdb")


def test_imports_get_a_larger_memory_limit_and_give_it_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB keeps a table's key index in memory: a COMMIT adding millions of keys needs more
    than the everyday limit, so an import runs under the larger import limit."""
    def limit(s: Store) -> str:
        return str(s.scalar("SELECT current_setting('memory_limit')"))

    monkeypatch.delenv("TRIAGE_DUCKDB_MEMORY", raising=False)
    monkeypatch.setenv("TRIAGE_DUCKDB_IMPORT_MEMORY", "3GB")
    with Store(tmp_path / "a.duckdb") as s:
        with s.import_memory():
            assert limit(s) == "2.7 GiB"
            with s.import_memory():  # nested: unchanged, and still so after the inner block
                pass
            assert limit(s) == "2.7 GiB"
        assert limit(s) == "953.6 MiB"
        with pytest.raises(RuntimeError), s.import_memory():
            raise RuntimeError("an import that failed")
        assert limit(s) == "953.6 MiB"
        # the server imports on several cursors: the limit goes back when the last one ends
        with s.cursor() as a, s.cursor() as b:
            first, second = a.import_memory(), b.import_memory()
            first.__enter__()
            second.__enter__()
            first.__exit__(None, None, None)
            assert limit(s) == "2.7 GiB"
            second.__exit__(None, None, None)
            assert limit(s) == "953.6 MiB"
    monkeypatch.setenv("TRIAGE_DUCKDB_IMPORT_MEMORY", "512MB")  # never below the everyday one
    with Store(tmp_path / "a.duckdb") as s, s.import_memory():
        assert limit(s) == "953.6 MiB"
    monkeypatch.setenv("TRIAGE_DUCKDB_IMPORT_MEMORY", "lots")
    csv = tmp_path / "customers.csv"
    csv.write_text("customer_id,segment\nC1,smb\n")
    with Store(tmp_path / "a.duckdb") as s:
        with pytest.raises(TriageError, match="TRIAGE_DUCKDB_IMPORT_MEMORY='lots'"):
            s.import_file("customers", csv)
        assert s.scalar("SELECT count(*) FROM customers") == 0


def test_an_import_out_of_memory_is_one_line_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, csv = tmp_path / "a.duckdb", tmp_path / "customers.csv"

    def customers(n: int) -> None:
        csv.write_text("customer_id,segment,plan,lifetime_value,signup_date\n" + "".join(
            f"C{i:07d},smb,pro,{i},2026-01-01\n" for i in range(n)))

    customers(10)
    with Store(db) as s:
        s.import_file("customers", csv)
    monkeypatch.setenv("TRIAGE_DUCKDB_MEMORY", "4MB")
    monkeypatch.setenv("TRIAGE_DUCKDB_IMPORT_MEMORY", "4MB")
    customers(40_000)
    s = Store(db)
    try:
        with pytest.raises(ImportValidationError) as err:
            s.import_file("customers", csv)
    finally:
        with contextlib.suppress(duckdb.Error):  # DuckDB may have given up on the connection
            s.close()
    message = str(err.value)
    assert message.startswith("customers.csv: could not import: DuckDB ran out of memory")
    assert "TRIAGE_DUCKDB_IMPORT_MEMORY" in message and "\n" not in message
    monkeypatch.delenv("TRIAGE_DUCKDB_MEMORY")
    monkeypatch.delenv("TRIAGE_DUCKDB_IMPORT_MEMORY")
    with Store(db, read_only=True) as s:
        assert s.scalar("SELECT count(*) FROM customers") == 10


def test_a_refused_import_leaves_the_next_import_working(tmp_path: Path) -> None:
    """The import's SQL macros, defined inside the refused import's transaction, went with its
    rollback: the same store (a server's long-lived cursor) defines them again."""
    import pandas as pd

    from triage_core.errors import ImportValidationError

    with Store(tmp_path / "a.duckdb") as s, s.cursor() as cur:
        bad = pd.DataFrame({"customer_id": ["c1"], "lifetime_value": ["lots"]})
        with pytest.raises(ImportValidationError, match="lifetime_value"):
            cur.import_frame("customers", bad)
        good = pd.DataFrame({"customer_id": [" c2 "], "created_at": ["2026-03-01 14:30:00 +0200"]})
        cur.import_frame("customers", good)
        assert cur.rows("SELECT customer_id, created_at FROM customers") == [
            {"customer_id": "c2", "created_at": pd.Timestamp("2026-03-01 12:30:00")}]


# every column kind DuckDB has, with a value; each is queried with and without NULLs
_KINDS = {
    "TINYINT": "1", "SMALLINT": "1", "INTEGER": "1", "BIGINT": "1", "UTINYINT": "1",
    "USMALLINT": "1", "UINTEGER": "1", "UBIGINT": "1", "HUGEINT": "1", "FLOAT": "1.5",
    "DOUBLE": "1.5", "DECIMAL(10,2)": "1.25", "DECIMAL(20,3)": "1.25", "BOOLEAN": "true",
    "VARCHAR": "'x'", "DATE": "DATE '2024-01-02'", "TIME": "TIME '10:00:00'",
    "TIMESTAMP": "TIMESTAMP '2024-01-02 03:04:05'",
    "TIMESTAMPTZ": "TIMESTAMPTZ '2024-01-02 03:04:05+00'",
    "TIMESTAMP_MS": "TIMESTAMP '2024-01-02 03:04:05'", "INTERVAL": "INTERVAL 3 DAY",
    "BLOB": "'\\x01'::BLOB", "INTEGER[]": "[1, 2]", "VARCHAR[]": "['a']",
    "STRUCT(a INTEGER, b VARCHAR)": "{'a': 1, 'b': 'x'}", "MAP(VARCHAR, INTEGER)": "MAP {'a': 1}",
    "JSON": "'{\"a\": 1}'::JSON",
}


@pytest.mark.parametrize("kind", list(_KINDS))
def test_query_frames_are_duckdbs_own(kind: str) -> None:
    import pandas as pd

    value = f"CAST({_KINDS[kind]} AS {kind})"
    with Store(":memory:") as store:
        for sql in (f"SELECT {value} AS c, 1 AS d", f"SELECT {value} AS c, 1 AS d UNION ALL "
                    "SELECT NULL, NULL", f"SELECT {value} AS c WHERE false",
                    f"SELECT NULL::{kind} AS c", f"SELECT {value} AS c, {value} AS c"):
            expected = store._con.execute(sql).df()
            pd.testing.assert_frame_equal(store.query(sql), expected)


def test_closing_waits_for_a_cursor_still_running_a_query(tmp_path: Path) -> None:
    """DuckDB refuses to close a connection while one of its cursors runs a query (a server
    stopping while a page loads; without the wait this close raises ResourceInUseException):
    with ``wait_seconds`` the close waits for the query, which ends with its answer."""
    import threading
    import time

    store = Store(tmp_path / "busy.duckdb")
    cur = store.cursor()
    started, result = threading.Event(), {}

    def long_query() -> None:
        started.set()
        result["n"] = cur.scalar("SELECT count(*) FROM range(400000000) t(i) WHERE i % 7 = 3")

    worker = threading.Thread(target=long_query)
    worker.start()
    started.wait()
    time.sleep(0.3)  # the query runs for seconds: close while it does
    store.close(wait_seconds=300)
    worker.join()
    assert result["n"] == 57142857


def test_an_unordered_write_keeps_every_row_and_restores_the_setting(tmp_path: Path) -> None:
    """``ordered=False`` writes the same rows (in any order), and insertion order is kept again
    for the writes after it, also after a write that failed."""
    import pyarrow as pa

    n = 300_000
    frame = pa.table({"k": pa.array(range(n)), "v": pa.array([f"row {i}" for i in range(n)])})
    with Store(tmp_path / "t.duckdb") as s:
        s.write_frame("unordered_t", frame, mode="replace", ordered=False)
        assert s.scalar("SELECT count(*) FROM unordered_t") == n
        assert s.scalar("SELECT count(DISTINCT k) FROM unordered_t") == n
        assert s.scalar("SELECT sum(k) FROM unordered_t WHERE v = 'row ' || k") == n * (n - 1) // 2
        setting = "SELECT current_setting('preserve_insertion_order')"
        assert s.scalar(setting) is True
        with pytest.raises(Exception, match=r"Conversion|convert|cast"):
            s.write_frame("unordered_t", frame, mode="replace", types={"v": "INTEGER"},
                          ordered=False)
        assert s.scalar(setting) is True
        assert s.scalar("SELECT count(*) FROM unordered_t") == n


def test_the_import_trim_is_pythons_strip() -> None:
    """``triage_trim`` (trimmed only when the first or last character is a blank) gives what
    ``str.strip()`` gives, on every Unicode blank, at either end, in the middle, alone."""
    import random

    blanks = [c for c in map(chr, range(0x110000)) if c.isspace()]
    alphabet = [*blanks, "a", "Z", "é", "\u0301", "😀", "'", '"', "\x00", "\x01", "-"]
    rnd = random.Random(7)
    values = ["", *blanks, *(b * 3 + "x" + b for b in blanks)]
    values += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8)))
               for _ in range(3000)]
    with Store() as s:
        con = s.raw_connection()
        con.execute("CREATE TEMP TABLE t (i INTEGER, v VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        con.execute("INSERT INTO t VALUES (-1, NULL)")
        got = dict(con.execute("SELECT i, triage_trim(v) FROM t").fetchall())
    assert got.pop(-1) is None
    assert got == {i: v.strip() for i, v in enumerate(values)}


def test_insert_columns_stores_the_same_by_arrow_and_by_lists(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns go as one Arrow table when they convert, as bound lists (cast by DuckDB)
    otherwise; both store the same values, missing values included."""
    import datetime as dt

    types = {"id": "VARCHAR", "h": "UBIGINT", "n": "INTEGER", "x": "DOUBLE", "b": "BOOLEAN",
             "ts": "TIMESTAMP"}
    columns = {"id": ["a", "b", None], "h": [2**64 - 1, 0, None], "n": [1, None, -3],
               "x": [0.5, None, 2.0], "b": [True, None, False],
               "ts": [dt.datetime(2026, 7, 1, 9, 30, 0, 123456), None, dt.datetime(1999, 1, 1)]}
    assert store_mod._arrow_table(columns, types) is not None
    assert store_mod._arrow_table({**columns, "n": [1, "2", None]}, types) is None
    assert store_mod._arrow_table(columns, {**types, "n": "HUGEINT"}) is None
    stored = {}
    for way in ("arrow", "lists"):
        with Store() as s:
            s.execute("CREATE TABLE t (id VARCHAR, h UBIGINT, n INTEGER, x DOUBLE, b BOOLEAN,"
                      " ts TIMESTAMP)")
            if way == "lists":
                monkeypatch.setattr(store_mod, "_arrow_table", lambda *a: None)
            s.insert_columns("t", columns, types)
            stored[way] = s.rows("SELECT * FROM t ORDER BY n NULLS LAST")
    monkeypatch.undo()
    assert stored["arrow"] == stored["lists"]
    assert stored["arrow"] == [
        {"id": None, "h": None, "n": -3, "x": 2.0, "b": False, "ts": dt.datetime(1999, 1, 1)},
        {"id": "a", "h": 2**64 - 1, "n": 1, "x": 0.5, "b": True,
         "ts": dt.datetime(2026, 7, 1, 9, 30, 0, 123456)},
        {"id": "b", "h": 0, "n": None, "x": None, "b": None, "ts": None}]
    with Store() as s:  # a value Arrow does not take as is: bound as a list, cast by DuckDB
        s.execute("CREATE TABLE t (id VARCHAR, n INTEGER)")
        s.insert_columns("t", {"id": ["x"], "n": ["7"]}, {"id": "VARCHAR", "n": "INTEGER"})
        assert s.rows("SELECT * FROM t") == [{"id": "x", "n": 7}]


@pytest.mark.parametrize("way", ["file", "frame"])
@pytest.mark.parametrize("before", [False, True])  # T-3 exists before: the upsert statement
def test_an_import_that_races_another_writers_commit_runs_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str, before: bool) -> None:
    """Under `triage serve` the API's intake commits tickets while an import runs: a key the
    import's snapshot did not show but another writer committed meanwhile makes the insert
    (plain or upsert) fail on a duplicate key; the import runs again instead of failing."""
    import pandas as pd

    from triage_core.store import importing

    rows = pd.DataFrame({"ticket_id": ["T-1", "T-2", "T-3"], "customer_id": ["c1"] * 3,
                         "created_at": ["2026-07-01 09:30:00"] * 3, "status": ["open"] * 3,
                         "subject": ["from the file"] * 3})
    path = tmp_path / "tickets.csv"
    rows.to_csv(path, index=False)
    real = importing._Importer._existing
    calls: list[int] = []
    with Store(tmp_path / "a.duckdb") as s:
        s.import_frame("customers", pd.DataFrame({"customer_id": ["c1"]}))
        if before:
            s.import_frame("tickets", rows.tail(1).assign(subject="earlier"))

        def existing(self: importing._Importer) -> int:
            found = real(self)
            if not calls:  # the other writer commits T-1 after this snapshot began
                other = s.cursor()
                try:
                    other.execute("INSERT INTO tickets (ticket_id, customer_id, created_at,"
                                  " status, subject) VALUES ('T-1', 'c1', TIMESTAMP"
                                  " '2026-07-01 08:00:00', 'new', 'from the intake')")
                finally:
                    other.close()
            calls.append(found)
            return found

        monkeypatch.setattr(importing._Importer, "_existing", existing)
        with s.cursor() as cur:
            result = (cur.import_file("tickets", path) if way == "file"
                      else cur.import_frame("tickets", rows))
        assert calls == [int(before), 1 + before]  # T-1 not seen, then seen
        assert (result.new_rows, result.existing_rows) == (2 - before, 1 + before)
        assert s.rows("SELECT ticket_id, subject FROM tickets ORDER BY 1") == [
            {"ticket_id": f"T-{i}", "subject": "from the file"} for i in (1, 2, 3)]


def test_a_duckdb_file_of_another_program_is_refused_and_left_alone(tmp_path: Path) -> None:
    """Our tables were added beside another program's (or the migrations failed half-way on
    its own 'tickets' table, with a traceback)."""
    import hashlib

    path = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE tickets (x INTEGER)")
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for read_only in (False, True):
        with pytest.raises(TriageError, match=r"not a ticket-triage database .*: tickets"):
            Store(path, read_only=read_only)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    Store(tmp_path / "ours.duckdb").close()  # a new file is ours to make
    Store(tmp_path / "ours.duckdb", read_only=True).close()
