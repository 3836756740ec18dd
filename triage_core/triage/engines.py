"""Where :func:`triage_core.triage.batch.triage_batch` runs: here, a local process pool, a Dask
cluster, or PySpark.

``triage_batch`` is pure (a pandas batch in, a pandas batch of results out), so scaling out only
moves batches: the workers compute, the caller keeps writing the results to DuckDB. Every
engine is a :data:`Runner`: ``runner(batches, models)`` yields result batches in input order.

- this process: :func:`run_here`; local processes: :func:`run_local` (``[pipeline] workers``);
- Dask: :func:`run_dask` (``triage score --engine dask --scheduler ADDRESS``);
- PySpark: ``df.mapInPandas(spark_map_in_pandas(models), RESULT_SCHEMA)``, or the Arrow
  variant ``df.mapInArrow(spark_map_in_arrow(models), RESULT_SCHEMA)``.

Dask and PySpark are optional (``pip install 'ticket-triage[dask]'``); they are imported only
inside the functions that need them, so ``triage_core`` imports without them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.processes import watch_parent
from triage_core.triage.batch import RESULT_COLUMNS, TriageModels, triage_batch

if TYPE_CHECKING:
    import pyarrow as pa

Runner = Callable[[Iterable[pd.DataFrame], TriageModels], Iterator[pd.DataFrame]]

CONNECT_TIMEOUT = 10  # seconds to reach the Dask scheduler before giving up

# Spark SQL types of the result columns (batch.RESULT_COLUMNS). text_hash is DuckDB's unsigned
# 64-bit hash (UBIGINT): Spark has no unsigned long, and a signed long would silently wrap half of
# the hashes to negative numbers, so it is decimal(20,0) - the type Spark itself reads a Parquet
# UINT64 column as.
_SPARK_TYPES = {
    "ticket_id": "string",
    "text_hash": "decimal(20,0)",
    "category": "string",
    "category_confidence": "double",
    "category_top": "string",
    "sentiment": "double",
    "sentiment_label": "string",
    "severity": "int",
    "severity_reasons": "string",
    "model_version": "int",
    "language": "string",
}
RESULT_SCHEMA = ", ".join(f"{c} {_SPARK_TYPES[c]}" for c in RESULT_COLUMNS)
"""The Spark DDL schema of :func:`triage_batch` results, for ``mapInPandas``/``mapInArrow``."""


# -- this process and local processes -----------------------------------------------------------

def run_here(batches: Iterable[pd.DataFrame], models: TriageModels,
             timings: dict[str, float] | None = None) -> Iterator[pd.DataFrame]:
    """Triage the batches one after the other in this process."""
    for batch in batches:
        yield triage_batch(batch, models, timings)


def local_workers(workers: int, n: int, batch_size: int) -> int:
    """Processes for local prediction (0 = one per core), never more than there are batches."""
    wanted = int(workers) or (os.cpu_count() or 1)
    return max(1, min(wanted, -(-n // batch_size)))


_WORKER_MODELS: TriageModels | None = None


def _init_worker(models: TriageModels, parent: int) -> None:
    global _WORKER_MODELS
    _WORKER_MODELS = models
    watch_parent(parent)


def as_frame(batch: Any) -> pd.DataFrame:
    """A batch as pandas (Arrow tables are converted; DataFrames pass through)."""
    return batch if isinstance(batch, pd.DataFrame) else batch.to_pandas()


def with_column(result: Any, name: str, value: Any) -> Any:
    """``result`` (pandas or Arrow) with a constant column ``name`` added."""
    if isinstance(result, pd.DataFrame):
        return result.assign(**{name: value})
    import pyarrow as pa

    # one scalar filled in (a list of a million Python timestamps costs the writer a second)
    scalar = pa.scalar(value)
    return result.append_column(name, pa.nulls(result.num_rows, scalar.type).fill_null(scalar))


def to_stream(table: pa.Table | pa.RecordBatch) -> pa.Buffer:
    """An Arrow table as one IPC stream buffer, which holds only the table's own rows. (A
    pickled slice of a larger table carries much more: a 50,000-row slice of 1,000,000
    tickets pickled to 64.6 MB, its stream is 13.1 MB.)"""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write(table)
    return sink.getvalue()


def from_stream(buffer: pa.Buffer) -> pa.Table:
    import pyarrow as pa

    return pa.ipc.open_stream(buffer).read_all()


def _worker_batch(batch: Any) -> Any:
    """One batch in a worker process: an Arrow stream in, an Arrow table out (buffers travel
    between the processes instead of pickled Python strings); pandas in, pandas out."""
    if _WORKER_MODELS is None:
        raise RuntimeError("worker process started without models")
    if isinstance(batch, pd.DataFrame):
        return triage_batch(batch, _WORKER_MODELS)
    import pyarrow as pa

    result = triage_batch(from_stream(batch).to_pandas(), _WORKER_MODELS)
    return pa.Table.from_pandas(result, preserve_index=False)


# Imported once by the fork server that starts the workers, so each worker starts with them
# instead of importing them itself while it reads its models (1-3 s each, one after the other:
# the pool hands a worker its models while the worker unpickles them).
WORKER_MODULES = ["triage_core.triage.batch", "triage_core.models.classifier",
                  "triage_core.models.sentiment", "triage_core.models.severity",
                  "triage_core.models.language", "triage_core.text", "triage_core.triage.engines"]


def _fork_context() -> Any:
    """The multiprocessing context of :func:`run_local`: a fork server that has imported
    :data:`WORKER_MODULES`."""
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", *WORKER_MODULES])
    return ctx


def start_fork_server() -> None:
    """Start the fork server of :func:`run_local` now, so that it imports
    :data:`WORKER_MODULES` while this process does other work (loading the models)."""
    from multiprocessing import forkserver

    from triage_core.processes import plain_main

    _fork_context()
    with plain_main():  # the server's __main__ may be a dashboard script by now
        forkserver.ensure_running()


def run_local(batches: Iterable[Any], models: TriageModels,
              workers: int) -> Iterator[Any]:
    """Triage the batches in ``workers`` processes, results in input order (Arrow tables for
    Arrow batches, DataFrames for DataFrames).

    The models travel to each worker once (in memory, between our own processes); at most
    ``2 * workers`` batches are in flight, so memory stays bounded."""
    from concurrent.futures import ProcessPoolExecutor

    from triage_core.processes import plain_main

    # the workers start on the first submits, inside plain_main: in `triage serve`, __main__
    # is a dashboard page, which a worker would otherwise run first
    with plain_main(), ProcessPoolExecutor(workers, mp_context=_fork_context(),
                                           initializer=_init_worker,
                                           initargs=(models, os.getpid())) as pool:
        pending: list[Any] = []
        for batch in batches:
            pending.append(pool.submit(_worker_batch, batch if isinstance(batch, pd.DataFrame)
                                       else to_stream(batch)))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()

# -- Dask ---------------------------------------------------------------------------------------

def _connect(scheduler: str | None) -> Any:
    """A ``distributed.Client`` for ``scheduler``, or a one-line :class:`TriageError`."""
    if not scheduler:
        raise TriageError("the dask engine needs a scheduler address: --scheduler "
                          "tcp://HOST:8786 (start one with 'dask scheduler')")
    try:
        from distributed import Client
    except ImportError:
        raise TriageError("the dask engine needs dask: pip install 'ticket-triage[dask]'"
                          ) from None
    reason = _unreachable(scheduler)
    if reason is None:
        # Ask who answers first: a Client that fails on anything but a refused or timed-out
        # connection (a server that is not Dask) is left half-open and hangs the exit for 20 s.
        # distributed's connect timeout comes first; ours ends a handshake that never comes.
        probe = asyncio.wait_for(_identity(scheduler), CONNECT_TIMEOUT + 2)
        try:
            # in a thread of its own: the caller may already run an event loop (e.g. Jupyter)
            with ThreadPoolExecutor(1) as pool:
                kind = pool.submit(asyncio.run, probe).result()
        except TimeoutError:
            reason = "something listens there but gives no Dask answer (the dashboard port?)"
        except Exception:  # garbage from a server that is not Dask
            reason = "the server there does not speak the Dask protocol"
    if reason is not None:
        raise TriageError(f"cannot connect to the Dask scheduler at {scheduler}: {reason}")
    if kind != "Scheduler":
        raise TriageError(f"{scheduler} is a Dask {kind or 'server'}, not the scheduler; "
                          "give the address 'dask scheduler' printed (port 8786 by default)")
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as exc:  # gone since the probe; the Client closed itself
        raise TriageError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}"
                          ) from None


def _unreachable(address: str) -> str | None:
    """Why nothing can be reached at ``address`` (None when something answers a connect).

    A plain socket connect tells a refused port, a silent host and an unknown host apart by
    the exception's type, before Dask's own connect retries them until its timeout."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    scheme, location = parse_address(address)
    if scheme not in backends:
        return f"unknown address scheme {scheme!r}"
    if scheme not in ("tcp", "tls"):
        return None
    try:
        host, port = parse_host_port(location)
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except ConnectionRefusedError:
        return "connection refused (is 'dask scheduler' running there?)"
    except TimeoutError:
        return f"no answer within {CONNECT_TIMEOUT} s"
    except (OSError, ValueError) as exc:  # unknown host, no port
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return None


async def _identity(address: str) -> str | None:
    """The server type (``Scheduler``, ``Worker``, ...) that answers at ``address``."""
    from distributed.comm import connect
    from distributed.security import Security

    comm = await connect(address, timeout=CONNECT_TIMEOUT,
                         **Security().get_connection_args("client"))
    try:
        await comm.write({"op": "identity", "reply": True})
        reply = await comm.read()
    finally:
        comm.abort()
    return reply.get("type") if isinstance(reply, dict) else None


def _check_workers(client: Any, scheduler: str) -> None:
    """At least one worker, and every worker can import triage_core (else it cannot load the
    models): checked by asking the workers, so no error text needs reading."""
    import importlib.util

    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise TriageError(f"the Dask scheduler at {scheduler} has no workers (waited "
                          f"{CONNECT_TIMEOUT} s); start some with 'dask worker {scheduler}'"
                          ) from None
    found = client.run(importlib.util.find_spec, "triage_core", on_error="return")
    if any(spec is None or isinstance(spec, BaseException) for spec in found.values()):
        raise TriageError(f"a Dask worker of {scheduler} cannot load the models (No module "
                          "named 'triage_core'): install ticket-triage, the same version as "
                          "here, on every worker")


def run_dask(batches: Iterable[pd.DataFrame], models: TriageModels,
             scheduler: str | None) -> Iterator[pd.DataFrame]:
    """Triage ``batches`` on the Dask cluster at ``scheduler``; yield results in input order.

    Connects at once (a missing or unreachable scheduler raises :class:`TriageError` here,
    within ``CONNECT_TIMEOUT`` seconds), checks the workers, sends the models to every worker
    once, scatters the batches and maps :func:`triage_batch` over them. The client closes when
    the returned iterator is exhausted or closed. Workers need ``ticket-triage`` installed
    (same version).
    """
    client = _connect(scheduler)
    try:
        _check_workers(client, str(scheduler))
        on_workers = client.scatter(models, broadcast=True, hash=False)
        data = client.scatter(list(batches), hash=False)
        futures = client.map(triage_batch, data, models=on_workers, pure=False)
    except BaseException:
        client.close()
        raise
    return _gather_in_order(client, futures)


def _gather_in_order(client: Any, futures: list[Any]) -> Iterator[pd.DataFrame]:
    try:
        for i, fut in enumerate(futures):
            result = fut.result()
            futures[i] = None  # let the cluster forget a batch once it is handed over
            fut.release()
            yield result
    finally:
        client.close()


# -- PySpark and Arrow ----------------------------------------------------------------------------

def _spark_frame(results: pd.DataFrame) -> pd.DataFrame:
    """Results as Spark wants them for :data:`RESULT_SCHEMA`: text_hash as exact decimals."""
    import pyarrow as pa

    exact = pa.decimal128(20, 0)
    col = results["text_hash"]
    if pd.api.types.is_integer_dtype(col.dtype):  # uint64 from DuckDB's hash()
        decimals = pa.array(col.to_numpy()).cast(exact)
    else:  # Decimal objects (Spark's decimal(20,0) input), floats of a nullable long, None
        decimals = pa.array([None if pd.isna(v) else int(v) for v in col], type=exact)
    return results.assign(text_hash=decimals.to_pandas())


def spark_map_in_pandas(models: TriageModels
                        ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A function for ``spark_df.mapInPandas(fn, RESULT_SCHEMA)``.

    The input rows need ticket_id, subject and body (optional: label, text_hash as a number,
    e.g. decimal(20,0)); ``models`` (from :func:`triage_core.triage.pipeline.load_models`)
    travel to the executors inside the function.
    """

    def triage_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield _spark_frame(triage_batch(frame, models))

    return triage_partition


def result_arrow_schema() -> pa.Schema:
    """The Arrow schema Spark expects for :data:`RESULT_SCHEMA` (e.g. from ``mapInArrow``)."""
    import pyarrow as pa

    arrow = {"string": pa.string(), "double": pa.float64(), "int": pa.int32(),
             "decimal(20,0)": pa.decimal128(20, 0)}
    return pa.schema([(c, arrow[_SPARK_TYPES[c]]) for c in RESULT_COLUMNS])


def to_arrow_batch(fn: Callable[[pd.DataFrame], pd.DataFrame]
                   ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Turn a pandas batch function returning results into an Arrow one.

    The returned function maps record batches to record batches of :func:`result_arrow_schema`
    (the form of ``spark_df.mapInArrow`` and of Arrow-native engines); the conversion is
    checked, so a value that does not fit its column raises instead of wrapping around.
    """
    import pyarrow as pa

    schema = result_arrow_schema()

    def arrow_fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = _spark_frame(fn(batch.to_pandas()))
            yield pa.RecordBatch.from_pandas(out[schema.names], schema=schema,
                                             preserve_index=False)

    return arrow_fn


def spark_map_in_arrow(models: TriageModels
                       ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A function for ``spark_df.mapInArrow(fn, RESULT_SCHEMA)`` (PySpark >= 3.3)."""

    def one(frame: pd.DataFrame) -> pd.DataFrame:
        return triage_batch(frame, models)

    return to_arrow_batch(one)
