"""Scaling out: the Dask engine on a real local cluster, and the PySpark/Arrow batch functions.

The Dask tests start a ``distributed.LocalCluster`` (2 worker processes) and skip when dask is
not installed; the Spark functions are called exactly as PySpark calls them (an iterator of
pandas frames or Arrow record batches) and their output is converted the way PySpark converts
it, so pyspark itself is not needed.
"""

from __future__ import annotations

import contextlib
import decimal
import itertools
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _world import WORLD_TICKETS, copy_db

from triage_core.config import load_config
from triage_core.errors import TriageError
from triage_core.store import Store
from triage_core.triage import engines, pipeline
from triage_core.triage.batch import RESULT_COLUMNS, TriageModels, triage_batch

NEEDS_DASK = "the dask engine needs dask: pip install 'ticket-triage[dask]'"
# The scheduler serves HTTP (health, metrics) even without a dashboard, on port 8787 unless told
# otherwise, and warns when 8787 is taken (by another cluster of this module, or anything else on
# the machine): a free port on localhost avoids the warning and the clash.
NO_FIXED_PORT = "127.0.0.1:0"
ROOT = Path(__file__).resolve().parent.parent


def _distributed() -> Any:
    return pytest.importorskip("distributed", reason=NEEDS_DASK)


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def bare_main_module() -> Iterator[None]:
    """Worker processes that Dask's nannies start re-run ``__main__`` from its file. After the
    dashboard tests ``__main__`` is the Streamlit script (AppTest installs it, as Streamlit
    does), and every worker would run the app and fail; a bare module runs nothing."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        yield


# Every test predicts the shared demo world (tests/conftest.py) again, with ``full``: it is
# triaged already, so only a full run has tickets to send to an engine.


def _results(db: Path, *, scored_at: bool = False) -> pd.DataFrame:
    columns = "*" if scored_at else "* EXCLUDE (scored_at)"
    with Store(db) as store:
        return store.query(f"SELECT {columns} FROM triage_results ORDER BY ticket_id")


def _local_results(world_db: Path, root: Path, batch_size: int) -> pd.DataFrame:
    db = copy_db(world_db, root, f"local-{batch_size}.duckdb")
    with Store(db) as store:
        assert pipeline.predict(store, load_config(), full=True,
                                batch_size=batch_size) == WORLD_TICKETS
    return _results(db)


# Compare runs with the same batches: the classifier's float32 arithmetic makes a confidence
# depend on its batch's make-up by up to ~1e-8, far above the 1e-12 asked of the engines.
@pytest.fixture(scope="module")
def local_results(world_db: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Local results in batches of 200, as the Dask test sends them."""
    return _local_results(world_db, tmp_path_factory.mktemp("local"), 200)


@pytest.fixture(scope="module")
def local_results_one_batch(world_db: Path, tmp_path_factory: pytest.TempPathFactory
                            ) -> pd.DataFrame:
    """Local results in one batch, as ``triage score`` sends the world's tickets."""
    assert WORLD_TICKETS <= pipeline.BATCH_SIZE
    return _local_results(world_db, tmp_path_factory.mktemp("local"), pipeline.BATCH_SIZE)


@pytest.fixture(scope="module")
def todo(world: Store) -> tuple[pd.DataFrame, TriageModels]:
    """The pipeline's own input batch (every ticket) and the models, as predict() builds them."""
    models = pipeline.load_models(world, load_config())
    frame = world.query(pipeline._STALE_SQL, [True, models.category_version])
    return frame, models


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    distributed = _distributed()
    # processes=True: the models really travel to other interpreters, as on a real cluster.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=NO_FIXED_PORT) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", 2)


def assert_same_results(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want) == WORLD_TICKETS
    assert got["ticket_id"].tolist() == want["ticket_id"].tolist()
    for col in ("text_hash", "category", "category_top", "sentiment_label", "severity",
                "severity_reasons", "model_version"):
        assert got[col].tolist() == want[col].tolist(), col
    for col in ("category_confidence", "sentiment"):
        np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float),
                                   rtol=0, atol=1e-12)


# -- local processes ----------------------------------------------------------------------------

def test_local_processes_give_the_results_of_this_process(
        world_db: Path, tmp_path: Path, local_results: pd.DataFrame) -> None:
    """Two worker processes (each batch sent as an Arrow stream) predict what this process
    predicts from the same batches."""
    db = copy_db(world_db, tmp_path, "processes.duckdb")
    with Store(db) as store:
        assert pipeline.predict(store, load_config(), full=True, batch_size=200,
                                workers=2) == WORLD_TICKETS
    assert_same_results(_results(db), local_results)


def test_a_large_batch_is_triaged_in_parts_with_the_same_results(
        todo, monkeypatch: pytest.MonkeyPatch) -> None:
    """triage_batch triages a batch larger than PART in parts (the allocator's system time on
    50,000-ticket batches); each row's result is its own, so the parts give the same results,
    up to the float32 rounding that already differs between any two batch sizes (sums in
    another order: about 1e-9 here)."""
    import json

    from triage_core.triage import batch

    frame, models = todo
    monkeypatch.setattr(batch, "PART", len(frame) + 1)
    whole = batch.triage_batch(frame, models)
    monkeypatch.setattr(batch, "PART", 37)
    parts = batch.triage_batch(frame, models)
    assert len(frame) > 10 * 37
    assert parts.index.tolist() == list(range(len(frame)))
    assert list(parts.dtypes) == list(whole.dtypes)
    for col in ("ticket_id", "text_hash", "category", "sentiment_label", "severity",
                "severity_reasons", "model_version", "language"):
        assert parts[col].tolist() == whole[col].tolist(), col
    np.testing.assert_array_equal(parts["sentiment"], whole["sentiment"])  # NaN: not scored
    np.testing.assert_allclose(parts["category_confidence"], whole["category_confidence"],
                               rtol=0, atol=1e-6)
    for got, want in zip(parts["category_top"], whole["category_top"], strict=True):
        got, want = json.loads(got), json.loads(want)
        assert [c for c, _ in got] == [c for c, _ in want]
        np.testing.assert_allclose([p for _, p in got], [p for _, p in want], atol=1e-6)


def test_a_batch_travels_as_a_stream_of_its_own_rows() -> None:
    import pickle

    big = pa.table({"ticket_id": [f"T{i}" for i in range(20_000)],
                    "body": ["words " * 20] * 20_000, "n": np.arange(20_000)})
    part = big.slice(5_000, 100)
    stream = engines.to_stream(part)
    assert engines.from_stream(pickle.loads(pickle.dumps(stream))).equals(part)
    # the stream holds the 100 rows, not the table they were cut from
    assert stream.size < 20_000 < len(pickle.dumps(part))


# -- Dask ---------------------------------------------------------------------------------------

def test_local_reference_is_not_trivial(local_results: pd.DataFrame) -> None:
    r = local_results
    assert r["category"].notna().all() and r["category"].nunique() >= 5
    assert r["severity"].between(1, 4).all() and (r["model_version"] == 1).all()
    scored = r["language"] == "en"  # other languages are not scored by the English lexicon
    assert r.loc[scored, "sentiment"].between(-1, 1).all() and r["sentiment"].std() > 0.05
    assert r.loc[~scored, "sentiment"].isna().all()


@pytest.mark.slow
def test_predict_on_dask_equals_local_and_runs_on_both_workers(
        cluster: Any, world_copy: Path, local_results: pd.DataFrame) -> None:
    from distributed.diagnostics.plugin import SchedulerPlugin

    class WhoComputed(SchedulerPlugin):
        name = "test-who-computed"

        def __init__(self) -> None:
            self.workers: dict[str, str] = {}

        def transition(self, key: Any, start: str, finish: str, *args: Any,
                       **kwargs: Any) -> None:
            if finish == "memory" and str(key).startswith("triage_batch-"):
                self.workers[str(key)] = kwargs.get("worker", "")

    spy = WhoComputed()
    before = _results(world_copy, scored_at=True)["scored_at"].max()
    cluster.scheduler.add_plugin(spy)
    try:
        with Store(world_copy) as store:
            n = pipeline.predict(store, load_config(), full=True, engine="dask",
                                 scheduler=cluster.scheduler_address, batch_size=200)
    finally:
        cluster.scheduler.remove_plugin(name=spy.name)
    assert n == WORLD_TICKETS
    assert (_results(world_copy, scored_at=True)["scored_at"] > before).all()  # all rewritten
    assert_same_results(_results(world_copy), local_results)
    assert len(spy.workers) == math.ceil(WORLD_TICKETS / 200)  # each batch computed on a worker
    assert set(spy.workers.values()) == set(cluster.scheduler_info["workers"])


@pytest.mark.slow
def test_run_dask_keeps_input_order_and_closes_its_client(cluster: Any, todo) -> None:
    frame, models = todo
    cuts = [0, 700, 705, 1005, 1006, len(frame)]  # uneven: small batches finish first
    batches = [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(cuts)]
    clients_before = set(cluster.scheduler.clients)
    results = list(engines.run_dask(batches, models, cluster.scheduler_address))
    assert [len(r) for r in results] == [b - a for a, b in itertools.pairwise(cuts)]
    for batch, result in zip(batches, results, strict=True):
        pd.testing.assert_frame_equal(result, triage_batch(batch, models))
    deadline = time.monotonic() + 10
    while set(cluster.scheduler.clients) != clients_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(cluster.scheduler.clients) == clients_before


def test_dask_engine_needs_a_scheduler_address(world_copy: Path) -> None:
    before = _results(world_copy, scored_at=True)
    with Store(world_copy) as store, \
            pytest.raises(TriageError, match=r"needs a scheduler address: --scheduler"):
        pipeline.predict(store, load_config(), full=True, engine="dask", scheduler=None)
    pd.testing.assert_frame_equal(_results(world_copy, scored_at=True), before)


@pytest.mark.slow
def test_a_worker_address_is_not_taken_for_the_scheduler(cluster: Any, todo) -> None:
    worker = next(iter(cluster.scheduler_info["workers"]))
    with pytest.raises(TriageError, match=rf"^{worker} is a Dask Worker, not the scheduler"):
        engines.run_dask([todo[0]], todo[1], worker)


def test_a_bad_address_scheme_is_one_clear_error(todo) -> None:
    _distributed()
    with pytest.raises(TriageError, match=r"at nonsense://x: unknown address scheme 'nonsense'"):
        engines.run_dask([todo[0]], todo[1], "nonsense://x")


@pytest.mark.slow
def test_a_scheduler_without_workers_is_one_clear_error(todo, short_timeout: None) -> None:
    distributed = _distributed()
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp",
                                  dashboard_address=NO_FIXED_PORT) as empty, \
            pytest.raises(TriageError, match=r"has no workers \(waited 2 s\); start some with "
                          rf"'dask worker {empty.scheduler_address}'"):
        engines.run_dask([todo[0]], todo[1], empty.scheduler_address)


# The worker below (a separate process) forgets how to import triage_core, like a worker host
# where ticket-triage was never installed.
_WORKER_WITHOUT_TRIAGE_CORE = """
import sys
class NoTriageCore:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "triage_core":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoTriageCore())
sys.argv = ["dask worker", sys.argv[1], "--nthreads", "1", "--no-nanny", "--no-dashboard"]
from distributed.cli.dask_worker import main
main()
"""


@pytest.mark.slow
def test_a_worker_without_triage_core_is_one_clear_error(todo) -> None:
    distributed = _distributed()
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp",
                                  dashboard_address=NO_FIXED_PORT) as bare:
        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER_WITHOUT_TRIAGE_CORE, bare.scheduler_address],
            cwd="/", stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            bare.wait_for_workers(1, timeout=60)
            with pytest.raises(TriageError, match=r"cannot load the models .*No module named "
                               r"'triage_core'.*install ticket-triage, the same version"):
                list(engines.run_dask([todo[0]], todo[1], bare.scheduler_address))
        finally:
            worker.terminate()
            worker.wait(timeout=30)


# -- the command line ---------------------------------------------------------------------------

def cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "triage_core.cli", *args, "--db", str(db)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=dict(os.environ),
    )


@pytest.mark.slow
def test_cli_score_with_the_dask_engine(cluster: Any, world_copy: Path,
                                        local_results_one_batch: pd.DataFrame) -> None:
    before = _results(world_copy, scored_at=True)["scored_at"].max()
    r = cli("score", "--engine", "dask", "--scheduler", cluster.scheduler_address, "--full",
            "--json", db=world_copy)
    assert r.returncode == 0, r.stderr
    assert f'"predicted": {WORLD_TICKETS}' in r.stdout
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr, r.stderr
    assert (_results(world_copy, scored_at=True)["scored_at"] > before).all()  # all rewritten
    assert_same_results(_results(world_copy), local_results_one_batch)
    with Store(world_copy) as store:
        assert store.scalar("SELECT count(*) FROM triaged_tickets") == WORLD_TICKETS


class Timed(NamedTuple):
    run: subprocess.CompletedProcess
    exit_after: float  # seconds from the last line on stderr to the end of the process


def cli_timed(*args: str, db: Path) -> Timed:
    """``cli``, timing how long the process takes to end after its last line on stderr (a Dask
    client left half-open holds the exit for 20 s); how long the interpreter takes to start,
    which depends on what else runs on the machine, does not count."""
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    last_line = [time.monotonic()]
    with subprocess.Popen(
        [sys.executable, "-m", "triage_core.cli", *args, "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ),
    ) as proc:

        def read(name: str) -> None:
            for line in getattr(proc, name):
                out[name].append(line)
                if name == "stderr":
                    last_line[0] = time.monotonic()

        readers = [threading.Thread(target=read, args=(n,), daemon=True) for n in out]
        for reader in readers:
            reader.start()
        code = proc.wait(timeout=300)
        ended = time.monotonic()
        for reader in readers:
            reader.join(timeout=30)
    run = subprocess.CompletedProcess(proc.args, code, "".join(out["stdout"]),
                                      "".join(out["stderr"]))
    return Timed(run, ended - last_line[0])


def _one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_cli_unreachable_scheduler(world_copy: Path, todo) -> None:
    _distributed()
    before = _results(world_copy, scored_at=True)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    message = (f"cannot connect to the Dask scheduler at {address}: connection refused "
               "(is 'dask scheduler' running there?)")
    timed = cli_timed("score", "--engine", "dask", "--scheduler", address, "--full",
                      db=world_copy)
    assert _one_line_error(timed.run) == f"error: {message}"
    assert timed.exit_after < 5  # no hang at exit
    pd.testing.assert_frame_equal(_results(world_copy, scored_at=True), before)
    # a refused connection is known at once, without waiting for the connect timeout
    start = time.monotonic()
    with pytest.raises(TriageError, match=f"^{re.escape(message)}$"):
        list(engines.run_dask([todo[0]], todo[1], address))
    assert time.monotonic() - start < engines.CONNECT_TIMEOUT / 2


@pytest.fixture
def not_dask() -> Iterator[str]:
    """A TCP server that answers like a web server (e.g. the Dask dashboard port)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(60)

    def answer(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            while conn.recv(4096):
                pass

    def serve() -> None:  # like a web server: every connection gets an answer
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.slow
def test_cli_address_of_something_else_is_one_line_and_quick(
        world_copy: Path, not_dask: str, todo) -> None:
    _distributed()
    message = (f"cannot connect to the Dask scheduler at {not_dask}: "
               "the server there does not speak the Dask protocol")
    timed = cli_timed("score", "--engine", "dask", "--scheduler", not_dask, "--full",
                      db=world_copy)
    assert _one_line_error(timed.run) == f"error: {message}"
    assert timed.exit_after < 5  # no 20 s hang of a half-open client at exit
    # and the error comes at once, without waiting for an answer that never comes
    start = time.monotonic()
    with pytest.raises(TriageError, match=f"^{re.escape(message)}$"):
        list(engines.run_dask([todo[0]], todo[1], not_dask))
    assert time.monotonic() - start < engines.CONNECT_TIMEOUT / 2


def test_core_imports_and_explains_without_dask() -> None:
    code = (
        "import sys\n"
        "sys.modules['dask'] = sys.modules['distributed'] = None  # as if not installed\n"
        "import triage_core.triage.engines as e\n"
        "from triage_core.errors import TriageError\n"
        "try:\n"
        "    e.run_dask([], None, 'tcp://127.0.0.1:8786')\n"
        "except TriageError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120, cwd=ROOT)
    assert out.stdout.strip() == NEEDS_DASK


# -- PySpark and Arrow --------------------------------------------------------------------------

SPARK_TO_ARROW = {"string": pa.string(), "double": pa.float64(), "int": pa.int32(),
                  "long": pa.int64(), "decimal(20,0)": pa.decimal128(20, 0)}


def spark_converts(frame: pd.DataFrame, ddl: str) -> pa.Table:
    """What PySpark does with a ``mapInPandas`` result: take the schema's columns by name and
    convert each to its type, checked (``safe=True``), so a value that does not fit fails."""
    fields = [f.split(" ", 1) for f in ddl.split(", ")]
    return pa.table({name: pa.Array.from_pandas(frame[name], type=SPARK_TO_ARROW[kind],
                                                safe=True) for name, kind in fields})


def test_result_schema_is_spark_ddl_for_result_columns() -> None:
    assert engines.RESULT_SCHEMA == (
        "ticket_id string, text_hash decimal(20,0), category string, "
        "category_confidence double, category_top string, sentiment double, "
        "sentiment_label string, severity int, severity_reasons string, model_version int, "
        "language string")
    names = [f.split(" ")[0] for f in engines.RESULT_SCHEMA.split(", ")]
    assert names == RESULT_COLUMNS
    assert engines.result_arrow_schema() == pa.schema(
        [(n, SPARK_TO_ARROW[f.split(" ", 1)[1]])
         for n, f in zip(names, engines.RESULT_SCHEMA.split(", "), strict=True)])


def test_a_signed_long_would_not_hold_duckdb_hashes(todo) -> None:
    """Why text_hash is decimal(20,0): about half of DuckDB's UBIGINT hashes exceed 2**63-1."""
    hashes = todo[0]["text_hash"]
    assert (hashes > np.iinfo(np.int64).max).mean() > 0.3
    with pytest.raises(pa.ArrowInvalid):
        pa.Array.from_pandas(hashes, type=pa.int64(), safe=True)


def _as_spark_decimals(frame: pd.DataFrame) -> pd.DataFrame:
    """text_hash as PySpark hands a decimal(20,0) column to pandas: Decimal objects."""
    return frame.assign(text_hash=[decimal.Decimal(int(h)) for h in frame["text_hash"]])


def test_spark_map_in_pandas_equals_triage_batch(todo) -> None:
    frame, models = todo
    partitions = [frame.iloc[:600], frame.iloc[600:601], frame.iloc[601:].reset_index(drop=True)]
    spark_input = iter([_as_spark_decimals(partitions[0]), partitions[1],
                        _as_spark_decimals(partitions[2])])
    fn = engines.spark_map_in_pandas(models)
    outputs = list(fn(spark_input))
    assert len(outputs) == 3
    for part, out in zip(partitions, outputs, strict=True):
        table = spark_converts(out, engines.RESULT_SCHEMA)  # must not raise
        want = triage_batch(part.reset_index(drop=True), models)
        got = table.to_pandas()
        assert [int(h) for h in got["text_hash"]] == [int(h) for h in part["text_hash"]]
        pd.testing.assert_frame_equal(
            got.drop(columns="text_hash"),
            want.drop(columns="text_hash").astype({"severity": "int32",
                                                   "model_version": "int32"}))


def test_spark_map_in_pandas_without_a_model_or_hashes(todo) -> None:
    frame, models = todo
    bare = TriageModels(None, None, models.sentiment, models.severity)
    rows = frame.iloc[:5][["ticket_id", "subject", "body"]]
    (out,) = engines.spark_map_in_pandas(bare)(iter([rows]))
    got = spark_converts(out, engines.RESULT_SCHEMA).to_pandas()
    assert got["category"].isna().all() and got["category_confidence"].isna().all()
    assert got["model_version"].isna().all()
    assert [int(h) for h in got["text_hash"]] == [0] * 5
    assert got["severity"].between(1, 4).all()


def test_spark_map_in_arrow_equals_triage_batch(todo) -> None:
    frame, models = todo
    part = frame.iloc[:300]
    batches = pa.Table.from_pandas(part, preserve_index=False).to_batches(max_chunksize=128)
    assert len(batches) == 3
    outputs = list(engines.spark_map_in_arrow(models)(iter(batches)))
    assert all(b.schema == engines.result_arrow_schema() for b in outputs)
    got = pa.Table.from_batches(outputs).to_pandas()
    want = triage_batch(part, models)
    assert [int(h) for h in got["text_hash"]] == want["text_hash"].tolist()
    # the top-3 JSON holds floats: batches of 128 and of 300 round the last digits differently
    for g, w in zip(got["category_top"], want["category_top"], strict=True):
        g, w = json.loads(g), json.loads(w)
        assert [c for c, _ in g] == [c for c, _ in w]
        assert [p for _, p in g] == pytest.approx([p for _, p in w], abs=1e-7)
    pd.testing.assert_frame_equal(
        got.drop(columns=["text_hash", "category_top"]),
        want.drop(columns=["text_hash", "category_top"]).astype(
            {"severity": "int32", "model_version": "int32"}))


_POOL_PARENT = """
import multiprocessing as mp, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from triage_core.triage import engines

def init(parent):
    engines.watch_parent(parent, every=0.2)

def work(_):
    return os.getpid(), time.sleep(600)

if __name__ == "__main__":
    ctx = mp.get_context("forkserver")
    pool = ProcessPoolExecutor(2, mp_context=ctx, initializer=init, initargs=(os.getpid(),))
    futures = [pool.submit(work, i) for i in range(2)]
    time.sleep(3)
    print(" ".join(str(p.pid) for p in pool._processes.values()), flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_workers_end_when_the_parent_is_killed(tmp_path: Path) -> None:
    """A `triage score` killed with SIGKILL leaves no worker computing (they watch it)."""
    import signal

    script = tmp_path / "parent.py"
    script.write_text(_POOL_PARENT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=dict(os.environ))
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [w for w in workers if _running(w)]
        assert alive == [], f"workers still running after their parent died: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split()[2] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_local_workers_do_not_run_the_main_script(
        todo, page_as_main: tuple[types.ModuleType, Path]) -> None:
    """In `triage serve`, ``__main__`` is the dashboard page Streamlit ran last: workers of a
    score job started there ran that page first (82 "No runtime found" warnings in the server's
    log for one `triage score --full` of 120,000 tickets)."""
    frame, models = todo
    page, ran = page_as_main
    out = list(engines.run_local([frame.iloc[:40], frame.iloc[40:80]], models, 2))
    assert [len(b) for b in out] == [40, 40]
    assert not ran.exists()
    assert sys.modules["__main__"] is page
